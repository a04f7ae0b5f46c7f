//! The CI gate from the command line: `authaudit.toml` (discovery up to the repository root,
//! flags over keys, `--config`, `--no-config`, located errors), `authaudit init`, waivers
//! (suppression, expiry on a fixed `--date`, stale and refused waivers, the register in every
//! format) and baselines (written, used, surviving a line move, failing on a new finding).
//!
//! Each test works in its own temporary repository (a folder with `.git`, so no
//! configuration above it is ever read) holding a copy of `tests/fixtures/gate/`.

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The day the rules are taken from, so rule dates never change these tests' findings.
const AT: &str = "2026-01-01";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/gate")
}

/// A temporary repository with the fixture policies under `policies/` and the fixture
/// waivers under `waivers/`.
fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    for sub in ["policies", "waivers"] {
        let to = dir.path().join(sub);
        std::fs::create_dir(&to).unwrap();
        for entry in std::fs::read_dir(fixtures().join(sub)).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
    dir
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn authaudit(dir: &Path, args: &[&str]) -> Run {
    let output = Command::cargo_bin("authaudit")
        .unwrap()
        .env("NO_COLOR", "1")
        .env_remove("SOURCE_DATE_EPOCH")
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    Run {
        code: output.status.code().unwrap(),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

/// `check` with the rules of [`AT`] and the report date `date`.
fn check(dir: &Path, date: &str, args: &[&str]) -> Run {
    let pinned = ["check", "--at", AT, "--date", date];
    authaudit(dir, &[&pinned[..], args].concat())
}

fn write(path: &Path, text: &str) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(path, text).unwrap();
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn configuration_is_found_in_the_nearest_parent_and_flags_override_it() {
    let repo = repo();
    let root = repo.path();
    // The fixture has one high finding: it passes only with a critical threshold.
    write(
        &root.join("authaudit.toml"),
        "paths = [\"policies\"]\nfail_on = \"critical\"\n",
    );
    let deep = root.join("docs/notes");
    std::fs::create_dir_all(&deep).unwrap();
    let run = check(&deep, AT, &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("../../policies/wallet.yaml"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("0 at or above --fail-on critical"),
        "{}",
        run.stdout
    );

    let run = check(&deep, AT, &["--fail-on", "high"]);
    assert_eq!(run.code, 1, "a flag overrides the file\n{}", run.stdout);

    let run = check(root, AT, &["--no-config", "policies"]);
    assert_eq!(run.code, 1, "--no-config reads nothing\n{}", run.stdout);
    assert!(
        run.stdout.contains("1 at or above --fail-on high"),
        "{}",
        run.stdout
    );

    // A nearer file wins over the one at the root.
    write(
        &deep.join("authaudit.toml"),
        "paths = [\"../../policies\"]\nfail_on = \"low\"\n",
    );
    let run = check(&deep, AT, &[]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(run.stdout.contains("--fail-on low"), "{}", run.stdout);

    // --config names another file; its paths are relative to it.
    let run = check(&deep, AT, &["--config", "../../authaudit.toml"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

#[test]
fn discovery_stops_at_the_repository_root() {
    let outer = tempfile::tempdir().unwrap();
    // Above the repository: never read, however broken.
    write(&outer.path().join("authaudit.toml"), "not_a_key = 1\n");
    let repo = outer.path().join("repo");
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    let policy = fixtures().join("policies/wallet.yaml");
    std::fs::create_dir(repo.join("policies")).unwrap();
    std::fs::copy(&policy, repo.join("policies/wallet.yaml")).unwrap();
    let run = check(&repo, AT, &["policies"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.is_empty(), "{}", run.stderr);
    // Without `.git`, the folder above is part of the search.
    std::fs::remove_dir(repo.join(".git")).unwrap();
    let run = check(&repo, AT, &["policies"]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("../authaudit.toml:1:1"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_unknown_key_is_a_located_error_with_a_suggestion() {
    let repo = repo();
    write(
        &repo.path().join("authaudit.toml"),
        "# Team configuration\npaths = [\"policies\"]\nfail-on = \"high\"\nlang = 3\n\n[outputs]\nsarf = \"out.sarif\"\n",
    );
    let run = check(repo.path(), AT, &[]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(run.stdout.is_empty(), "nothing is audited: {}", run.stdout);
    insta::assert_snapshot!("unknown_key", run.stderr);
    // validate, report and paths read the same file, and refuse it the same way.
    for command in ["validate", "report", "paths"] {
        let run = authaudit(repo.path(), &[command]);
        assert_eq!(run.code, 2, "{command}: {}", run.stderr);
        assert!(
            run.stderr.contains("did you mean `fail_on`?"),
            "{command}: {}",
            run.stderr
        );
    }
    let run = authaudit(repo.path(), &["validate", "--no-config", "policies"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = authaudit(repo.path(), &["validate", "--config", "missing.toml"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("missing.toml"), "{}", run.stderr);
}

#[test]
fn init_in_an_empty_folder_then_check_passes() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    std::fs::create_dir_all(project.join(".git")).unwrap();
    let run = authaudit(&project, &["init"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("wrote authaudit.toml"),
        "{}",
        run.stdout
    );
    assert!(project.join("policies/example.yaml").is_file());
    let run = authaudit(&project, &["check"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("1 valid"), "{}", run.stdout);
    let run = authaudit(&project, &["init"]);
    assert_eq!(run.code, 2, "never overwrites");
    assert!(run.stderr.contains("already exist"), "{}", run.stderr);
    // Into a new folder named on the command line.
    let run = authaudit(dir.path(), &["init", "other"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(dir.path().join("other/authaudit.toml").is_file());
}

#[test]
fn an_active_waiver_passes_the_gate_and_is_in_every_register() {
    let repo = repo();
    let dir = repo.path();
    let run = check(dir, "2026-02-01", &["policies"]);
    assert_eq!(
        run.code, 1,
        "the high finding fails without the waiver\n{}",
        run.stdout
    );
    let formats = [
        "--output",
        "json=out/r.json",
        "--output",
        "sarif=out/r.sarif",
        "--output",
        "junit=out/r.xml",
        "--output",
        "md=out/r.md",
    ];
    std::fs::create_dir(dir.join("out")).unwrap();
    let run = check(
        dir,
        "2026-02-01",
        &[
            &["policies", "--waivers", "waivers/active.yaml"][..],
            &formats[..],
        ]
        .concat(),
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        !run.stdout
            .contains("high[INC-GUESSABLE-NO-ATTEMPT-LIMIT]: "),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("waiver register (waivers/active.yaml):"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("    waives: high[INC-GUESSABLE-NO-ATTEMPT-LIMIT] policies/wallet.yaml:"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("1 waived, 0 baselined"),
        "{}",
        run.stdout
    );

    let report = json(&dir.join("out/r.json"));
    assert_eq!(report["summary"]["waived"], 1);
    assert_eq!(report["summary"]["at_or_above_fail_on"], 0);
    let register = &report["waiver_register"][0];
    assert_eq!(register["state"], "active");
    assert_eq!(register["approver"], "Head of Payments Security");
    assert_eq!(
        register["findings"][0]["rule_id"],
        "INC-GUESSABLE-NO-ATTEMPT-LIMIT"
    );
    let statuses: Vec<(&str, &str)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap(),
                f["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(
        statuses.contains(&("INC-GUESSABLE-NO-ATTEMPT-LIMIT", "waived")),
        "{statuses:?}"
    );
    assert!(
        statuses.iter().filter(|(_, s)| *s == "open").count() >= 1,
        "{statuses:?}"
    );

    let sarif = json(&dir.join("out/r.sarif"));
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let waived = results
        .iter()
        .find(|r| r["ruleId"] == "INC-GUESSABLE-NO-ATTEMPT-LIMIT")
        .unwrap();
    let suppression = &waived["suppressions"][0];
    assert_eq!(suppression["kind"], "external");
    assert_eq!(suppression["status"], "accepted");
    assert!(
        suppression["justification"]
            .as_str()
            .unwrap()
            .contains("SEC-1234"),
        "{suppression}"
    );
    assert!(
        results
            .iter()
            .filter(|r| r.get("suppressions").is_none())
            .count()
            >= 1
    );

    let junit = std::fs::read_to_string(dir.join("out/r.xml")).unwrap();
    let xml = roxmltree::Document::parse(&junit).unwrap();
    let case = xml
        .descendants()
        .find(|n| n.attribute("name") == Some("INC-GUESSABLE-NO-ATTEMPT-LIMIT"))
        .unwrap();
    let skipped = case.children().find(|n| n.has_tag_name("skipped")).unwrap();
    assert!(
        skipped
            .attribute("message")
            .unwrap()
            .starts_with("waived until 2026-03-31"),
        "{junit}"
    );

    let markdown = std::fs::read_to_string(dir.join("out/r.md")).unwrap();
    assert!(
        markdown.contains("## 6. Waivers and baseline"),
        "{markdown}"
    );
    assert!(
        markdown.contains("Head of Payments Security (SEC-1234)"),
        "{markdown}"
    );
}

#[test]
fn an_expired_waiver_stops_waiving_and_is_reported() {
    let repo = repo();
    let args = [
        "policies",
        "--waivers",
        "waivers/active.yaml",
        "--format",
        "json",
    ];
    // The waiver's last day still waives.
    let run = check(repo.path(), "2026-03-31", &args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = check(repo.path(), "2026-04-01", &args);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["waiver_register"][0]["state"], "expired");
    assert_eq!(report["summary"]["waived"], 0);
    let warning = &report["waiver_diagnostics"][0];
    assert_eq!(warning["code"], "waiver-expired");
    assert_eq!(warning["severity"], "warning");
    assert_eq!(warning["file"], "waivers/active.yaml");
    assert_eq!(warning["line"], 13);
    // SOURCE_DATE_EPOCH is the date when --date is not given (2026-04-01 here).
    let output = Command::cargo_bin("authaudit")
        .unwrap()
        .env("SOURCE_DATE_EPOCH", "1775001600")
        .current_dir(repo.path())
        .args([
            "check",
            "--at",
            AT,
            "policies",
            "--waivers",
            "waivers/active.yaml",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("warning[waiver-expired]"), "{stdout}");
    assert!(
        stdout.contains("  expired INC-GUESSABLE-NO-ATTEMPT-LIMIT"),
        "{stdout}"
    );
}

#[test]
fn a_stale_waiver_is_reported() {
    let repo = repo();
    let run = check(
        repo.path(),
        "2026-02-01",
        &[
            "policies",
            "--waivers",
            "waivers/stale.yaml",
            "--fail-on",
            "critical",
        ],
    );
    assert_eq!(run.code, 0, "a stale waiver is a warning\n{}", run.stdout);
    assert!(
        run.stdout.contains("warning[waiver-stale]"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("--> waivers/stale.yaml:4:11"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("    matches no finding"),
        "{}",
        run.stdout
    );
}

#[test]
fn refused_waivers_exit_2() {
    let repo = repo();
    let run = check(
        repo.path(),
        "2026-02-01",
        &["policies", "--waivers", "waivers/no-approver.yaml"],
    );
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert!(
        run.stderr
            .contains("error[missing-field]: missing required field `approver`"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("--> waivers/no-approver.yaml:4:5"),
        "{}",
        run.stderr
    );

    // Two years is over the default year; a configured maximum refuses shorter ones too.
    let run = check(
        repo.path(),
        "2026-02-01",
        &["policies", "--waivers", "waivers/too-long.yaml"],
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("error[waiver-too-long]"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("longer than the 365-day maximum"),
        "{}",
        run.stderr
    );
    write(
        &repo.path().join("authaudit.toml"),
        "paths = [\"policies\"]\nwaivers = \"waivers/active.yaml\"\nmax_waiver_days = 30\n",
    );
    let run = check(repo.path(), "2026-02-01", &[]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stderr.contains("longer than the 30-day maximum"),
        "{}",
        run.stderr
    );
    let run = check(repo.path(), "2026-02-01", &["--max-waiver-days", "90"]);
    assert_eq!(run.code, 0, "the flag overrides the file\n{}", run.stderr);
}

#[test]
fn a_baseline_passes_known_findings_across_line_moves_and_fails_new_ones() {
    let repo = repo();
    let dir = repo.path();
    let run = check(dir, AT, &["policies", "--write-baseline", "baseline.json"]);
    assert_eq!(
        run.code, 0,
        "the baseline written is used\n{}{}",
        run.stdout, run.stderr
    );
    let recorded = json(&dir.join("baseline.json"));
    assert_eq!(recorded["version"], 1);
    assert_eq!(recorded["fingerprint_kind"], "authaudit/v1");
    let count = recorded["findings"].as_array().unwrap().len();
    assert!(count >= 2, "{recorded}");

    let run = check(
        dir,
        AT,
        &[
            "policies",
            "--baseline",
            "baseline.json",
            "--fail-on",
            "low",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(
        run.stdout.contains(&format!(
            "{count} recorded, {count} baselined in this run, 0 no longer found"
        )),
        "{}",
        run.stdout
    );

    // Comment lines inserted at the top move every finding down three lines.
    let policy = dir.join("policies/wallet.yaml");
    let text = std::fs::read_to_string(&policy).unwrap();
    std::fs::write(
        &policy,
        format!("# Reviewed.\n# Owner: payments.\n\n{text}"),
    )
    .unwrap();
    let run = check(
        dir,
        AT,
        &[
            "policies",
            "--baseline",
            "baseline.json",
            "--fail-on",
            "low",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
    let line = text
        .lines()
        .position(|l| l.trim() == "scope: none")
        .unwrap()
        + 1;
    assert!(
        run.stdout.contains(&format!(
            "baselined: high[INC-GUESSABLE-NO-ATTEMPT-LIMIT] policies/wallet.yaml:{}:9",
            line + 3
        )),
        "{}",
        run.stdout
    );

    // A new weakness: the payment flow loses its attempt limit and gains a password.
    let weaker = std::fs::read_to_string(&policy).unwrap().replace(
        "  payment:\n    kind: payment\n    steps:\n      - verify: [registered_device, biometric_local]\n    limits:\n",
        "  payment:\n    kind: payment\n    steps:\n      - verify: [password]\n    limits:\n      attempts:\n        scope: none\n",
    );
    assert_ne!(weaker, std::fs::read_to_string(&policy).unwrap());
    std::fs::write(&policy, weaker).unwrap();
    let run = check(
        dir,
        AT,
        &[
            "policies",
            "--baseline",
            "baseline.json",
            "--format",
            "json",
        ],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    let open: Vec<(&str, &str)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] == "open")
        .map(|f| (f["rule_id"].as_str().unwrap(), f["flow"].as_str().unwrap()))
        .collect();
    assert!(
        open.contains(&("INC-GUESSABLE-NO-ATTEMPT-LIMIT", "payment")),
        "{open:?}"
    );
    assert!(
        open.iter().all(|(_, flow)| *flow == "payment"),
        "only the new flow's findings are open: {open:?}"
    );
    assert_eq!(report["summary"]["baselined"], count);
}

#[test]
fn a_baseline_over_invalid_input_is_not_written() {
    let repo = repo();
    write(
        &repo.path().join("policies/broken.yaml"),
        "version: 2\nservice: {}\n",
    );
    let run = check(
        repo.path(),
        AT,
        &["policies", "--write-baseline", "baseline.json"],
    );
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stderr.contains("baseline not written"),
        "{}",
        run.stderr
    );
    assert!(!repo.path().join("baseline.json").exists());
    write(
        &repo.path().join("bad.json"),
        "{\"version\": 1,\n \"findings\": 3}\n",
    );
    let run = check(
        repo.path(),
        AT,
        &["policies/wallet.yaml", "--baseline", "bad.json"],
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("error[invalid-baseline]"),
        "{}",
        run.stderr
    );
}

#[test]
fn the_documented_example_configuration_loads() {
    let doc = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/configuration.md"),
    )
    .unwrap();
    let start = doc
        .find("```toml\n")
        .expect("docs/configuration.md has a ```toml example")
        + 8;
    let end = start + doc[start..].find("```").unwrap();
    let example = &doc[start..end];
    let config = authaudit::config::parse("authaudit.toml", example, Path::new(""))
        .unwrap_or_else(|problems| panic!("the example does not load: {problems:#?}"));
    assert!(
        !config.paths.is_empty() && config.max_waiver_days.is_some() && !config.outputs.is_empty()
    );
    for key in authaudit::config::keys() {
        assert!(
            doc.contains(&format!("### `{key}`")),
            "docs/configuration.md does not document `{key}`"
        );
        assert!(
            example.contains(&format!("\n{key} =")) || example.contains(&format!("[{key}]")),
            "the example leaves out `{key}`"
        );
    }
}
