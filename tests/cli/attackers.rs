//! Attacker profiles: the bundled set loads clean and cites only what the project's
//! requirements catalogue (`../shared/regulations.md`) lists; every kind of bad profile is
//! refused with a located diagnostic (snapshots of what users see, rendered by the report
//! layer) while the other files still load; the doc's table and the published schema are
//! current.

use authaudit::attackers::docs::{TABLE_END, TABLE_START, profile_table};
use authaudit::attackers::{AttackerSet, Capability, Control, profile_schema};
use authaudit::diagnostic::Code;
use authaudit::factors::Catalogue;
use authaudit::report::snippet::{Style, write_diagnostic};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const FIXTURES: &str = "tests/fixtures/attackers";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The bundled set plus the given fixture folders, as `--attackers` would load them. Paths are
/// relative to the crate root (the tests' working folder), so diagnostics show them so.
fn with_dirs(dirs: &[&str]) -> AttackerSet {
    let catalogue = Catalogue::bundled();
    let mut set = AttackerSet::bundled(&catalogue);
    for dir in dirs {
        set.add_dir(&Path::new(FIXTURES).join(dir), &catalogue);
    }
    set
}

/// The diagnostics as `authaudit` prints them, without colour.
fn rendered(set: &AttackerSet) -> String {
    let mut out = String::new();
    let source = |name: &str| set.text(name);
    for diagnostic in set.diagnostics() {
        write_diagnostic(&mut out, diagnostic, &source, Style { color: false });
    }
    out
}

fn codes(set: &AttackerSet) -> Vec<Code> {
    set.diagnostics().iter().map(|d| d.code).collect()
}

const BUNDLED_IDS: [&str; 6] = [
    "card-data-enumeration",
    "credential-stuffing",
    "leaked-bank-credentials",
    "leaked-personal-data",
    "realtime-phishing-relay",
    "sim-swap",
];

#[test]
fn bundled_profiles_load_without_diagnostics_in_id_order() {
    let set = AttackerSet::bundled(&Catalogue::bundled());
    assert!(set.diagnostics().is_empty(), "{}", rendered(&set));
    let ids: Vec<&str> = set.profiles().iter().map(|p| p.id.as_str()).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert_eq!(ids, sorted, "not in id order");
    for id in BUNDLED_IDS {
        let profile = set
            .get(id)
            .unwrap_or_else(|| panic!("`{id}` is not bundled"));
        let origin = set.origin(id).unwrap();
        assert!(origin.bundled);
        assert_eq!(origin.file, format!("rules/attackers/{id}.yaml"));
        assert!(!profile.description.trim().is_empty() && !profile.sources.is_empty());
    }
}

/// A profile's id, what it knows, controls and can do.
type Expected = (
    &'static str,
    &'static [&'static str],
    &'static [Control],
    &'static [Capability],
);

/// What each bundled profile holds is the modelling the issue and the incident record call
/// for; a change here must be a decision, not an accident.
#[test]
fn bundled_profiles_know_control_and_can_what_their_sources_support() {
    let set = AttackerSet::bundled(&Catalogue::bundled());
    let expect: [Expected; 6] = [
        (
            "leaked-bank-credentials",
            &[
                "holder_name",
                "account_number",
                "cash_card_pin",
                "date_of_birth",
            ],
            &[Control::NewAccountsUnderAnyName],
            &[Capability::OnlineGuessing],
        ),
        (
            "card-data-enumeration",
            &["card_number", "card_expiry"],
            &[Control::NewAccountsUnderAnyName],
            &[Capability::OnlineGuessing],
        ),
        (
            "leaked-personal-data",
            &[
                "email_address",
                "date_of_birth",
                "phone_number",
                "holder_name",
                "postal_address",
            ],
            &[Control::NewAccountsUnderAnyName],
            &[Capability::OnlineGuessing],
        ),
        (
            "credential-stuffing",
            &["user_id", "email_address", "password"],
            &[],
            &[Capability::OnlineGuessing],
        ),
        (
            "realtime-phishing-relay",
            &["user_id", "email_address", "password", "holder_name"],
            &[],
            &[Capability::RealtimePhishingRelay],
        ),
        (
            "sim-swap",
            &["phone_number", "holder_name", "email_address"],
            &[],
            &[Capability::SimSwap],
        ),
    ];
    for (id, knows, controls, capabilities) in expect {
        let profile = set.get(id).unwrap();
        assert_eq!(profile.knows, knows, "{id}: knows");
        assert_eq!(profile.controls, controls, "{id}: controls");
        assert_eq!(profile.capabilities, capabilities, "{id}: capabilities");
    }
    // The card-data attacker guesses the security code; it does not hold it.
    let cards = set.get("card-data-enumeration").unwrap();
    assert!(!cards.knows.iter().any(|k| k == "card_security_code"));
}

#[test]
fn a_users_profile_loads_beside_the_bundled_ones() {
    let set = with_dirs(&["valid"]);
    assert!(set.diagnostics().is_empty(), "{}", rendered(&set));
    assert_eq!(set.profiles().len(), BUNDLED_IDS.len() + 1);
    let origin = set.origin("in-house-insider").unwrap();
    assert!(!origin.bundled);
    assert_eq!(
        origin.file,
        "tests/fixtures/attackers/valid/in-house-insider.yaml"
    );
    assert_eq!(set.closest_id("sim-swop"), Some("sim-swap"));
}

/// One fixture folder: its problems as users see them, the refused profile left out and the
/// bundled ones still loaded.
fn refused(dir: &str, file_id: &str) -> String {
    let set = with_dirs(&[dir]);
    assert!(!set.diagnostics().is_empty(), "{dir}: nothing reported");
    assert!(set.get(file_id).is_none(), "{dir}: refused profile used");
    assert_eq!(set.profiles().len(), BUNDLED_IDS.len(), "{dir}");
    rendered(&set)
}

#[test]
fn unknown_factor_is_located_with_a_suggestion() {
    insta::assert_snapshot!(refused("unknown-factor", "misspelt"));
}

#[test]
fn unknown_field_is_located_with_a_suggestion() {
    insta::assert_snapshot!(refused("unknown-field", "misspelt-field"));
}

#[test]
fn wrong_types_are_located() {
    insta::assert_snapshot!(refused("wrong-type", "scalar-list"));
}

#[test]
fn unknown_control_and_capability_are_located_with_suggestions() {
    insta::assert_snapshot!(refused("unknown-value", "misspelt-control"));
}

#[test]
fn id_must_be_the_file_name() {
    let shown = refused("id-mismatch", "other-name");
    assert!(shown.contains("error[profile-id-mismatch]"), "{shown}");
    insta::assert_snapshot!(shown);
}

#[test]
fn entries_listed_twice_are_refused_at_the_second_with_the_first_shown() {
    let set = with_dirs(&["duplicate-entry"]);
    assert_eq!(codes(&set), [Code::DuplicateEntry; 3]);
    insta::assert_snapshot!(refused("duplicate-entry", "twice"));
}

#[test]
fn sources_must_not_be_empty() {
    insta::assert_snapshot!(refused("empty-sources", "no-sources"));
}

#[test]
fn text_that_is_not_yaml_is_located() {
    insta::assert_snapshot!(refused("not-yaml", "broken"));
}

#[test]
fn codes_and_devices_cannot_be_known() {
    let set = with_dirs(&["not-knowable"]);
    assert_eq!(codes(&set), [Code::FactorNotKnowable; 2]);
    insta::assert_snapshot!(refused("not-knowable", "codes"));
}

#[test]
fn sources_need_real_dates_web_addresses_and_a_publisher() {
    let set = with_dirs(&["bad-source"]);
    assert_eq!(
        codes(&set),
        [Code::MissingField, Code::InvalidDate, Code::InvalidFormat]
    );
    insta::assert_snapshot!(refused("bad-source", "sources"));
}

#[test]
fn a_users_profile_may_not_take_a_bundled_id() {
    let set = with_dirs(&["bundled-id"]);
    assert_eq!(codes(&set), [Code::DuplicateProfileId]);
    let diagnostic = &set.diagnostics()[0];
    assert_eq!(diagnostic.related[0].file, "rules/attackers/sim-swap.yaml");
    // The bundled profile is the one kept.
    assert!(set.origin("sim-swap").unwrap().bundled);
    insta::assert_snapshot!(rendered(&set));
}

#[test]
fn ids_are_unique_across_users_folders() {
    let set = with_dirs(&["same-id-a", "same-id-b"]);
    assert_eq!(codes(&set), [Code::DuplicateProfileId]);
    assert_eq!(
        set.origin("shared").unwrap().file,
        "tests/fixtures/attackers/same-id-a/shared.yaml"
    );
    insta::assert_snapshot!(rendered(&set));
}

#[test]
fn a_folder_passed_twice_names_itself() {
    let set = with_dirs(&["valid", "valid"]);
    assert_eq!(codes(&set), [Code::DuplicateProfileId]);
    assert!(
        set.diagnostics()[0].message.contains("loaded twice"),
        "{}",
        rendered(&set)
    );
}

#[test]
fn missing_and_empty_folders_are_reported() {
    let catalogue = Catalogue::bundled();
    let mut set = AttackerSet::bundled(&catalogue);
    set.add_dir(
        Path::new("tests/fixtures/attackers/no-such-folder"),
        &catalogue,
    );
    let empty = tempfile::tempdir().unwrap();
    std::fs::write(empty.path().join("README.md"), "not a profile").unwrap();
    set.add_dir(empty.path(), &catalogue);
    assert_eq!(codes(&set), [Code::IoError; 2], "{}", rendered(&set));
    let shown = rendered(&set).replace(&empty.path().display().to_string(), "[EMPTY]");
    insta::assert_snapshot!(shown);
    assert_eq!(set.profiles().len(), BUNDLED_IDS.len());
}

/// A FIFO named like a profile is refused unread (the load would hang on it otherwise), and a
/// link to a file outside the folder is never read; the good file beside them loads.
#[test]
fn fifos_and_links_out_of_the_folder_are_refused_and_the_rest_loads() {
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let valid = root().join(FIXTURES).join("valid/in-house-insider.yaml");
    std::fs::copy(&valid, dir.path().join("in-house-insider.yaml")).unwrap();
    let fifo = dir.path().join("a-fifo.yaml");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let secret = outside.path().join("secret.yaml");
    std::fs::write(&secret, "id: secret\n").unwrap();
    std::os::unix::fs::symlink(&secret, dir.path().join("linked.yaml")).unwrap();
    let catalogue = Catalogue::bundled();
    let mut set = AttackerSet::bundled(&catalogue);
    set.add_dir(dir.path(), &catalogue);
    assert_eq!(
        codes(&set),
        [Code::NotAFile, Code::ExternalSymlink],
        "{}",
        rendered(&set)
    );
    assert!(set.get("in-house-insider").is_some());
    assert!(
        set.text(&format!("{}/linked.yaml", dir.path().display()))
            .is_none()
    );
    let shown = rendered(&set).replace(&dir.path().display().to_string(), "[DIR]");
    insta::assert_snapshot!(shown);
}

/// Requirement ids of the catalogue's tables with their grade, and the ids of its sources
/// (Part (a), `**JP-FSA20 — …**`), graded by the rows that cite them.
fn catalogue_ids() -> (BTreeMap<String, String>, BTreeSet<String>, BTreeSet<String>) {
    let path = root().join("../shared/regulations.md");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{} is needed beside the repository: {e}", path.display()));
    let rows = text
        .lines()
        .filter(|l| l.starts_with("| ") && l.matches('|').count() >= 5)
        .filter_map(|l| {
            let cells: Vec<&str> = l
                .trim()
                .trim_matches('|')
                .split('|')
                .map(str::trim)
                .collect();
            Some((cells.first()?.to_string(), cells.last()?.to_string()))
        })
        .collect();
    let sources = text
        .lines()
        .filter_map(|l| l.strip_prefix("**")?.split_once(" — ").map(|(id, _)| id))
        .map(str::to_owned)
        .collect();
    let headings = text
        .lines()
        .filter_map(|l| l.strip_prefix("### "))
        .map(str::to_owned)
        .collect();
    (rows, sources, headings)
}

/// The same check as tests/cli/citations.rs makes for packs: a profile's `sources[].id` is a
/// requirement or source of the catalogue, never a row graded U; a source published by the
/// project names a real incident section of the catalogue's Part (c).
#[test]
fn every_cited_id_is_in_the_catalogue_and_not_unconfirmed() {
    let (rows, sources, headings) = catalogue_ids();
    assert!(rows.len() > 50 && sources.len() > 20, "catalogue not found");
    let set = AttackerSet::bundled(&Catalogue::bundled());
    let mut problems = Vec::new();
    let mut cited = 0;
    for profile in set.profiles() {
        for source in &profile.sources {
            if let Some(id) = &source.id {
                cited += 1;
                match rows.get(id) {
                    Some(grade) if grade == "U" || grade.ends_with("/U") => {
                        problems.push(format!("{}: {id} is graded {grade}", profile.id));
                    }
                    Some(_) => {}
                    None if sources.contains(id) => {}
                    None => problems.push(format!("{}: {id} is not in the catalogue", profile.id)),
                }
            } else if source.publisher.as_deref() == Some("authaudit project") {
                let section = source
                    .title
                    .split_once("Part (c): ")
                    .map(|(_, heading)| heading);
                if !section.is_some_and(|h| headings.iter().any(|x| x == h)) {
                    problems.push(format!(
                        "{}: `{}` names no incident section of the catalogue",
                        profile.id, source.title
                    ));
                }
            }
        }
    }
    assert!(cited >= 12, "too few sources carry a catalogue id: {cited}");
    assert!(problems.is_empty(), "{problems:#?}");
}

/// The byte range of the text between the `start` and `end` markers of `doc`.
fn between(doc: &str, start: &str, end: &str) -> std::ops::Range<usize> {
    let from = doc
        .find(start)
        .unwrap_or_else(|| panic!("`{start}` not in the doc"))
        + start.len();
    let to = doc[from..]
        .find(end)
        .unwrap_or_else(|| panic!("`{end}` not in the doc"));
    from..from + to
}

/// `docs/attacker-profiles.md` shows the bundled profiles in a table generated from them. Run
/// with `UPDATE_DOCS=1` to rewrite the table after changing a profile.
#[test]
fn the_docs_table_is_current() {
    let path = root().join("docs/attacker-profiles.md");
    let doc = std::fs::read_to_string(&path).unwrap();
    let table = profile_table(AttackerSet::bundled(&Catalogue::bundled()).profiles());
    let range = between(&doc, TABLE_START, TABLE_END);
    let expected = format!("\n{table}");
    if doc[range.clone()] == expected {
        return;
    }
    if std::env::var_os("UPDATE_DOCS").is_some() {
        let mut updated = doc.clone();
        updated.replace_range(range, &expected);
        std::fs::write(&path, updated).unwrap();
        return;
    }
    panic!("docs/attacker-profiles.md is stale (run with UPDATE_DOCS=1); the table is:\n{table}");
}

/// Every field of the profile model is documented in the doc's field tables, and every control
/// and capability in a table of its own.
#[test]
fn the_docs_describe_every_field_and_value() {
    let doc = std::fs::read_to_string(root().join("docs/attacker-profiles.md")).unwrap();
    let schema = profile_schema();
    let mut names: Vec<String> = Vec::new();
    let mut objects = vec![&schema];
    objects.extend(schema["$defs"].as_object().unwrap().values());
    for object in objects {
        if let Some(properties) = object["properties"].as_object() {
            names.extend(properties.keys().cloned());
        }
        for branch in object["oneOf"].as_array().into_iter().flatten() {
            names.extend(branch["const"].as_str().map(str::to_owned));
            for value in branch["enum"].as_array().into_iter().flatten() {
                names.extend(value.as_str().map(str::to_owned));
            }
        }
    }
    assert!(names.len() > 15, "{names:?}");
    let documented: BTreeSet<&str> = doc
        .lines()
        .filter_map(|l| l.strip_prefix("| `")?.split_once('`').map(|(name, _)| name))
        .collect();
    let missing: Vec<&String> = names
        .iter()
        .filter(|n| !documented.contains(n.as_str()))
        .collect();
    assert!(missing.is_empty(), "not in a table of the doc: {missing:?}");
}

/// `docs/attacker.schema.json` is the schema the loader checks, for editors
/// (`# yaml-language-server: $schema=…`). Run with `UPDATE_DOCS=1` to rewrite it.
#[test]
fn the_published_schema_is_current() {
    let path = root().join("docs/attacker.schema.json");
    let expected = format!(
        "{}\n",
        serde_json::to_string_pretty(&profile_schema()).unwrap()
    );
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed == expected {
        return;
    }
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, expected).unwrap();
        return;
    }
    panic!("docs/attacker.schema.json is stale: run with UPDATE_DOCS=1");
}

/// The published schema accepts every bundled profile.
#[test]
fn the_published_schema_accepts_the_bundled_profiles() {
    let validator = jsonschema::validator_for(&profile_schema()).unwrap();
    let dir = root().join("rules/attackers");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(files.len(), BUNDLED_IDS.len());
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let json = authaudit::yaml::parse(&file.display().to_string(), &text)
            .unwrap()
            .to_json();
        let errors: Vec<String> = validator
            .iter_errors(&json)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{}: {errors:?}", file.display());
    }
}

/// `authaudit schema --attackers` prints the same schema, and refuses to be combined with
/// `--report`.
#[test]
fn schema_command_prints_the_profile_schema() {
    let output = assert_cmd::Command::cargo_bin("authaudit")
        .unwrap()
        .env_clear()
        .args(["schema", "--attackers"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let printed: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(printed, profile_schema());
    assert_eq!(
        printed["$id"],
        "https://authaudit.invalid/schema/attacker-profile.json"
    );
    let both = assert_cmd::Command::cargo_bin("authaudit")
        .unwrap()
        .env_clear()
        .args(["schema", "--attackers", "--report"])
        .output()
        .unwrap();
    assert_eq!(both.status.code(), Some(2));
}

/// The worked example of `docs/attacker-profiles.md` is a valid profile.
#[test]
fn the_docs_example_loads() {
    let doc = std::fs::read_to_string(root().join("docs/attacker-profiles.md")).unwrap();
    let range = between(&doc, "```yaml\n", "```");
    let catalogue = Catalogue::bundled();
    let mut set = AttackerSet::default();
    let text = authaudit::attackers::ProfileText {
        shown: "docs/in-house-insider.yaml".to_owned(),
        text: doc[range].to_owned(),
    };
    set.add_text(false, text, &catalogue);
    assert!(set.diagnostics().is_empty(), "{}", rendered(&set));
    let profile = set.get("in-house-insider").expect("the example's id");
    assert_eq!(profile.controls, [Control::ForgedDocumentImages]);
}
