//! Attacker profiles as data: the bundled ones (`rules/attackers/*.yaml`, embedded by
//! `build.rs`) and a user's own (`--attackers DIR`), loaded in the stages rule packs go
//! through: read under the same budgets (non-blocking open, regular files only), parsed with
//! spans, checked against the JSON Schema derived from [`AttackerProfile`], deserialized, then
//! checked for meaning (factors in the catalogue and knowable, the id is the file name and
//! unique across every folder, no entry listed twice, real dates, sources cited in full).
//!
//! Every problem is a located diagnostic; a refused file is left out of the set and never
//! stops the others. Finding attack paths is `crate::paths`' job, not this module's: nothing
//! here looks at a policy.

pub mod docs;
pub mod model;

pub use model::*;

use crate::diagnostic::{Code, Diagnostic};
use crate::discover::shown_path;
use crate::factors::{Catalogue, Category};
use crate::model::{name_of, parse_day_or_month};
use crate::schema::SchemaChecker;
use crate::source::{self, SizeBudget};
use crate::suggest::closest;
use crate::yaml::{self, Node, Span, YamlPath};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

include!(concat!(env!("OUT_DIR"), "/bundled_attackers.rs"));

/// Where users read about the format, for hints.
const DOCS: &str = "docs/attacker-profiles.md";

/// The folder the bundled profiles are shown to come from.
const BUNDLED_DIR: &str = "rules/attackers";

/// The profile schema, compiled once: it does not depend on the factor catalogue (`knows`
/// is checked against the catalogue afterwards, with a suggestion).
static CHECKER: LazyLock<SchemaChecker> = LazyLock::new(|| {
    let schema = serde_json::to_value(schemars::schema_for!(AttackerProfile))
        .unwrap_or_else(|e| panic!("schema of the attacker profile model is not JSON: {e}"));
    SchemaChecker::from_schema(schema, DOCS)
});

/// The JSON Schema of an attacker profile file, as the loader checks it (optional fields may
/// be omitted, never written as null). Published as `docs/attacker.schema.json`.
pub fn profile_schema() -> Value {
    let mut schema = CHECKER.schema().clone();
    if let Some(object) = schema.as_object_mut() {
        object.insert(
            "$id".to_owned(),
            Value::from("https://authaudit.invalid/schema/attacker-profile.json"),
        );
    }
    schema
}

/// A profile file's text, kept for diagnostics with snippets.
#[derive(Debug, Clone)]
pub struct ProfileText {
    /// The file as users see it, e.g. `rules/attackers/sim-swap.yaml`; its name without the
    /// extension must be the profile's id.
    pub shown: String,
    pub text: String,
}

/// Where a loaded profile came from.
#[derive(Debug, Clone)]
pub struct ProfileOrigin {
    /// The file as users see it.
    pub file: String,
    /// Whether the profile ships with authaudit (rather than coming from `--attackers`).
    pub bundled: bool,
    /// Where its `id` is written, to point at when another file reuses the id.
    pub id_span: Span,
}

/// Every profile loaded, in id order, the texts they came from, and the problems found.
#[derive(Default)]
pub struct AttackerSet {
    profiles: Vec<AttackerProfile>,
    origins: BTreeMap<String, ProfileOrigin>,
    /// File texts by shown name, for snippets; a file loaded twice keeps its first text.
    texts: BTreeMap<String, String>,
    diagnostics: Vec<Diagnostic>,
}

impl AttackerSet {
    /// The profiles shipped with authaudit, checked against `catalogue`.
    pub fn bundled(catalogue: &Catalogue) -> Self {
        let mut set = Self::default();
        for (name, text) in BUNDLED_PROFILES {
            set.add_unsorted(
                true,
                ProfileText {
                    shown: format!("{BUNDLED_DIR}/{name}"),
                    text: (*text).to_owned(),
                },
                catalogue,
            );
        }
        set.diagnostics.sort_by_cached_key(Diagnostic::sort_key);
        set
    }

    /// Adds every `*.yaml` and `*.yml` file of `dir` (not of its subfolders), in name order;
    /// hidden files are skipped. An unreadable or empty folder, a file that cannot be read
    /// and a symlink leading out of `dir` are diagnostics; the other files still load.
    pub fn add_dir(&mut self, dir: &Path, catalogue: &Catalogue) {
        let shown = shown_path(dir);
        let hint = "--attackers takes a folder of attacker profile files (*.yaml, *.yml)";
        match list_dir(dir) {
            Err(error) => self.diagnostics.push(
                Diagnostic::error(
                    Code::IoError,
                    &shown,
                    format!("cannot read attackers folder: {error}"),
                )
                .with_hint(hint),
            ),
            Ok(entries) if entries.is_empty() => self.diagnostics.push(
                Diagnostic::error(
                    Code::IoError,
                    &shown,
                    "no attacker profile here (no .yaml or .yml file)",
                )
                .with_hint(hint),
            ),
            Ok(entries) => {
                for entry in entries {
                    let read = entry.and_then(|(path, shown)| {
                        source::read(&path, &shown, SizeBudget::default())
                            .map(|text| ProfileText { shown, text })
                    });
                    match read {
                        Ok(text) => self.add_unsorted(false, text, catalogue),
                        Err(diagnostic) => self.diagnostics.push(for_profiles(diagnostic)),
                    }
                }
            }
        }
        self.diagnostics.sort_by_cached_key(Diagnostic::sort_key);
    }

    /// Checks one profile file and adds it if it has no problem; problems go to
    /// [`Self::diagnostics`]. `bundled` says whether it ships with authaudit.
    pub fn add_text(&mut self, bundled: bool, text: ProfileText, catalogue: &Catalogue) {
        self.add_unsorted(bundled, text, catalogue);
        self.diagnostics.sort_by_cached_key(Diagnostic::sort_key);
    }

    /// [`Self::add_text`] without ordering the diagnostics, which callers adding many files
    /// do once at the end.
    fn add_unsorted(&mut self, bundled: bool, text: ProfileText, catalogue: &Catalogue) {
        if let Some((profile, tree)) = parse_checked(&text, &mut self.diagnostics) {
            let check = MeaningCheck {
                file: &text.shown,
                tree: &tree,
                catalogue,
            };
            let mut problems = check.problems(&profile);
            if let Some(first) = self.origins.get(&profile.id) {
                problems.push(check.duplicate(&profile.id, first));
            }
            if problems.is_empty() {
                self.insert(profile, &text.shown, bundled, check.span(&id_path()));
            } else {
                self.diagnostics.extend(problems);
            }
        }
        self.texts.entry(text.shown).or_insert(text.text);
    }

    fn insert(&mut self, profile: AttackerProfile, file: &str, bundled: bool, id_span: Span) {
        let origin = ProfileOrigin {
            file: file.to_owned(),
            bundled,
            id_span,
        };
        self.origins.insert(profile.id.clone(), origin);
        let at = self.profiles.partition_point(|p| p.id < profile.id);
        self.profiles.insert(at, profile);
    }

    /// The profiles that loaded without problems, in id order.
    pub fn profiles(&self) -> &[AttackerProfile] {
        &self.profiles
    }

    /// The profile with this id, if it loaded.
    pub fn get(&self, id: &str) -> Option<&AttackerProfile> {
        self.profiles
            .binary_search_by(|p| p.id.as_str().cmp(id))
            .ok()
            .map(|i| &self.profiles[i])
    }

    /// Where the profile with this id came from, if it loaded.
    pub fn origin(&self, id: &str) -> Option<&ProfileOrigin> {
        self.origins.get(id)
    }

    /// The closest loaded id to `id`, for "did you mean" on `--attacker`.
    pub fn closest_id(&self, id: &str) -> Option<&str> {
        closest(id, self.profiles.iter().map(|p| p.id.as_str()))
    }

    /// The problems of the files refused, ordered by file and position.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    /// The text of a profile file by its shown name, for snippets.
    pub fn text(&self, shown: &str) -> Option<&str> {
        self.texts.get(shown).map(String::as_str)
    }
}

/// The profile files of `dir`, sorted, each readable (path and shown name) or refused.
type Listing = Vec<Result<(PathBuf, String), Diagnostic>>;

fn list_dir(dir: &Path) -> std::io::Result<Listing> {
    let root = std::fs::canonicalize(dir)?;
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = match entry {
            Ok(entry) => entry,
            Err(error) => {
                found.push((
                    dir.to_path_buf(),
                    Err(Diagnostic::error(
                        Code::IoError,
                        &shown_path(dir),
                        format!("cannot list an entry of the attackers folder: {error}"),
                    )),
                ));
                continue;
            }
        };
        let path = entry.path();
        let name = entry.file_name();
        let is_profile = matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        );
        // Editors' and version control's files (`.#x.yaml`, `.x.yaml.swp`) are hidden.
        if !is_profile || name.as_encoded_bytes().starts_with(b".") {
            continue;
        }
        let shown = shown_path(&path);
        found.push((
            path.clone(),
            outside(&root, &path, &shown).map(|()| (path, shown)),
        ));
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(found.into_iter().map(|(_, entry)| entry).collect())
}

/// The reader's and parser's hints speak of policy files and of budget flags that
/// `--attackers` does not take; these say what applies to a profile.
fn for_profiles(diagnostic: Diagnostic) -> Diagnostic {
    let hint = match diagnostic.code {
        Code::EmptyFile => "an attacker profile is a YAML mapping that starts with `id:`",
        Code::NotAFile => {
            "attacker profiles must be regular files; FIFOs, devices and sockets are refused unread"
        }
        Code::BinaryFile | Code::InvalidUtf8 => {
            "attacker profiles are UTF-8 text; check that the right file is in the folder"
        }
        Code::FileTooLarge => "attacker profiles are a few kilobytes; files over 4 MiB are refused",
        Code::LineTooLong => {
            "split the text over several lines (a `>` folded block); lines over 64 KiB are refused"
        }
        _ => return diagnostic,
    };
    diagnostic.with_hint(hint)
}

/// Refuses a symlink that resolves outside the folder, so that a link to a secrets file never
/// has a line printed in a snippet. A dangling link is left for the reader to report.
fn outside(root: &Path, path: &Path, shown: &str) -> Result<(), Diagnostic> {
    let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    match std::fs::canonicalize(path) {
        Ok(target) if is_link && !target.starts_with(root) => Err(Diagnostic::error(
            Code::ExternalSymlink,
            shown,
            "symlink to a file outside the attackers folder; not read",
        )
        .with_hint("copy the profile into the folder, or link only to files inside it")),
        _ => Ok(()),
    }
}

/// Parses `text`, checks it against the profile schema and deserializes it, as rule packs are
/// (`rules::parse_checked`), with hints that point to the profile docs.
fn parse_checked(
    text: &ProfileText,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<(AttackerProfile, Node)> {
    let tree = match yaml::parse(&text.shown, &text.text) {
        Ok(tree) => tree,
        Err(diagnostic) => {
            diagnostics.push(for_profiles(diagnostic));
            return None;
        }
    };
    let json = tree.to_json();
    let mut found = yaml::check_tree(&text.shown, &tree);
    found.extend(CHECKER.check(&text.shown, &tree, &json));
    if !found.is_empty() {
        diagnostics.extend(found);
        return None;
    }
    match serde_json::from_value(json) {
        Ok(profile) => Some((profile, tree)),
        Err(error) => {
            diagnostics.push(
                Diagnostic::error(Code::SchemaViolation, &text.shown, error.to_string())
                    .with_span(tree.span)
                    .with_hint(format!("see {DOCS}")),
            );
            None
        }
    }
}

fn id_path() -> YamlPath {
    YamlPath::root().key("id")
}

/// The second stage: what the schema cannot say.
struct MeaningCheck<'a> {
    file: &'a str,
    tree: &'a Node,
    catalogue: &'a Catalogue,
}

impl MeaningCheck<'_> {
    fn span(&self, path: &YamlPath) -> Span {
        crate::diagnostic::span_in(self.tree, path)
    }

    fn at(&self, code: Code, path: YamlPath, message: String) -> Diagnostic {
        crate::diagnostic::error_at(self.file, self.tree, code, path, message)
    }

    fn problems(&self, profile: &AttackerProfile) -> Vec<Diagnostic> {
        let mut found = Vec::new();
        found.extend(self.id_matches_file(&profile.id));
        for (i, name) in profile.knows.iter().enumerate() {
            found.extend(self.knowable(name, YamlPath::root().key("knows").index(i)));
        }
        let controls: Vec<String> = profile.controls.iter().map(name_of).collect();
        let capabilities: Vec<String> = profile.capabilities.iter().map(name_of).collect();
        for (field, names) in [
            ("knows", &profile.knows),
            ("controls", &controls),
            ("capabilities", &capabilities),
        ] {
            found.extend(self.listed_twice(field, names));
        }
        for (i, source) in profile.sources.iter().enumerate() {
            found.extend(self.source(source, YamlPath::root().key("sources").index(i)));
        }
        if profile.title.contains('\n') {
            found.push(
                self.at(
                    Code::InvalidFormat,
                    YamlPath::root().key("title"),
                    "`title` must be one line".to_owned(),
                )
                .with_hint("listings and report headings show the title on one line; put the rest in `description`"),
            );
        }
        found
    }

    /// The id is how `--attacker` and reports name the profile, and the file name is how a
    /// reader finds it: they must agree.
    fn id_matches_file(&self, id: &str) -> Option<Diagnostic> {
        let name = self.file.rsplit('/').next().unwrap_or(self.file);
        let stem = name
            .strip_suffix(".yaml")
            .or_else(|| name.strip_suffix(".yml"))
            .unwrap_or(name);
        (stem != id).then(|| {
            self.at(
                Code::ProfileIdMismatch,
                id_path(),
                format!("profile id `{id}` differs from the file name `{name}`"),
            )
            .with_hint(format!(
                "rename the file `{id}.yaml`, or set `id: {stem}`: the id and the file name must agree"
            ))
        })
    }

    fn knowable(&self, name: &str, path: YamlPath) -> Option<Diagnostic> {
        let Some(factor) = self.catalogue.get(name) else {
            let hint = match closest(name, self.catalogue.names()) {
                Some(best) => format!("did you mean `{best}`?"),
                None => "run `authaudit factors` to list the factor catalogue".to_owned(),
            };
            return Some(
                self.at(
                    Code::UnknownFactor,
                    path,
                    format!("unknown factor `{name}` in `knows`"),
                )
                .with_hint(hint),
            );
        };
        let (why, hint) = if factor.delivered_by.is_some() {
            (
                "is a code, link or prompt sent at each attempt, not a value known in advance",
                "an attacker reads such codes by controlling the contact they go to (its own, or the victim's phone with `sim_swap`) or relays them (`realtime_phishing_relay`); remove it from `knows`",
            )
        } else if matches!(factor.category, Category::Possession | Category::Inherence) {
            (
                "is proved by a device or a body, not by a value an attacker can hold",
                "remove it from `knows`: profiles describe data and secrets, not the victim's devices",
            )
        } else {
            return None;
        };
        Some(
            self.at(
                Code::FactorNotKnowable,
                path,
                format!("factor `{name}` {why}"),
            )
            .with_hint(hint),
        )
    }

    /// Each repeated entry, shown at its second place with the first as related.
    fn listed_twice(&self, field: &str, names: &[String]) -> Vec<Diagnostic> {
        let mut first: BTreeMap<&str, usize> = BTreeMap::new();
        let mut found = Vec::new();
        for (i, name) in names.iter().enumerate() {
            match first.get(name.as_str()) {
                None => {
                    first.insert(name, i);
                }
                Some(&earlier) => {
                    let here = YamlPath::root().key(field).index(i);
                    let there = self.span(&YamlPath::root().key(field).index(earlier));
                    found.push(
                        self.at(
                            Code::DuplicateEntry,
                            here,
                            format!("`{name}` is listed twice in `{field}`"),
                        )
                        .with_related(self.file, there, "first listed here")
                        .with_hint("remove one of them"),
                    );
                }
            }
        }
        found
    }

    fn source(&self, source: &ProfileSource, here: YamlPath) -> Vec<Diagnostic> {
        let mut found = Vec::new();
        if let Some(date) = &source.date
            && let Err(why) = parse_day_or_month(date)
        {
            found.push(
                self.at(
                    Code::InvalidDate,
                    here.key("date"),
                    format!("`{date}` is not a calendar date: {why}"),
                )
                .with_hint("write YYYY-MM-DD, or YYYY-MM when only the month is on record"),
            );
        }
        if source.id.is_none() && source.publisher.is_none() {
            found.push(
                self.at(
                    Code::MissingField,
                    here.clone(),
                    format!(
                        "source `{}` has neither a catalogue `id` nor a `publisher`",
                        source.title
                    ),
                )
                .with_hint("cite a requirement of the project's catalogue by `id`, or a document in full: `publisher`, and `date` and `url` where known"),
            );
        }
        if let Some(url) = &source.url
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            found.push(
                self.at(
                    Code::InvalidFormat,
                    here.key("url"),
                    format!("`{url}` is not a web address"),
                )
                .with_hint(
                    "write the address the document is published at, starting with https://",
                ),
            );
        }
        found
    }

    fn duplicate(&self, id: &str, first: &ProfileOrigin) -> Diagnostic {
        let (whose, hint) = if first.file == self.file {
            (
                "this file is loaded twice".to_owned(),
                "pass each --attackers folder once; the bundled profiles are always loaded",
            )
        } else if first.bundled {
            (
                format!("a bundled profile ({}) has this id", first.file),
                "bundled profiles cannot be replaced: give this profile another id (and file name)",
            )
        } else {
            (
                format!("{} has this id", first.file),
                "ids are unique across the bundled profiles and every --attackers folder: rename one of them (id and file name)",
            )
        };
        self.at(
            Code::DuplicateProfileId,
            id_path(),
            format!("attacker profile `{id}` is defined twice: {whose}"),
        )
        .with_related(&first.file, first.id_span, "first defined here")
        .with_hint(hint)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set_of(files: &[(&str, &str)]) -> AttackerSet {
        let catalogue = Catalogue::bundled();
        let mut set = AttackerSet::default();
        for (shown, text) in files {
            let text = ProfileText {
                shown: (*shown).to_owned(),
                text: (*text).to_owned(),
            };
            set.add_text(false, text, &catalogue);
        }
        set
    }

    const MINIMAL: &str =
        "id: x\ntitle: X\ndescription: An attacker.\nsources:\n  - id: JP-FSA20\n    title: T\n";

    #[test]
    fn profiles_are_kept_in_id_order_whatever_the_load_order() {
        let b = MINIMAL.replace("id: x", "id: b");
        let a = MINIMAL.replace("id: x", "id: a");
        let set = set_of(&[("d/b.yaml", &b), ("d/a.yml", &a)]);
        assert!(set.diagnostics().is_empty(), "{:?}", set.diagnostics());
        let ids: Vec<&str> = set.profiles().iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["a", "b"]);
        assert_eq!(set.get("b").map(|p| p.title.as_str()), Some("X"));
        assert!(set.get("c").is_none());
        assert_eq!(set.origin("a").map(|o| o.file.as_str()), Some("d/a.yml"));
    }

    #[test]
    fn a_refused_profile_is_not_used_and_does_not_stop_the_next() {
        let bad = format!("{MINIMAL}knows: [sms_otp, password, password]\n");
        let good = MINIMAL.replace("id: x", "id: y");
        let set = set_of(&[("d/x.yaml", &bad), ("d/y.yaml", &good)]);
        let codes: Vec<Code> = set.diagnostics().iter().map(|d| d.code).collect();
        assert_eq!(codes, [Code::FactorNotKnowable, Code::DuplicateEntry]);
        assert!(set.get("x").is_none());
        assert!(set.get("y").is_some());
    }
}
