//! Rule packs: loading them from data, checking them in two stages (schema, then meaning:
//! CEL compiles, fields exist, citations resolve, ids are unique) and holding the compiled
//! rules. Loading reports every problem with file, line and column; it never evaluates.

mod cel_check;
mod compile;
pub mod docs;
pub mod harness;
pub mod in_force;
pub mod pack;

pub use compile::{At, StepValue};
pub use pack::{Citation, Example, PackManifest, RuleSpec, Severity, SourceDocument, Text, Theme};

use crate::diagnostic::{Code, Diagnostic};
use crate::schema::SchemaChecker;
use crate::source::{self, BudgetFlags, SizeBudget};
use crate::yaml::{self, Node, YamlPath};
use compile::RuleChecker;
use pack::RuleFile;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::path::Path;

include!(concat!(env!("OUT_DIR"), "/bundled_packs.rs"));

/// The largest rule pack file (`pack.yaml`, `rules.yaml`) read from `--rules`, in bytes, unless
/// `--max-pack-bytes` says otherwise: 4 MiB, like a policy file; the bundled packs are a few
/// tens of kilobytes.
pub const DEFAULT_MAX_PACK_BYTES: u64 = SizeBudget::DEFAULT_MAX_FILE_BYTES;

/// What a pack file over a budget is refused with: the pack flag, not the policy one. Lines keep
/// the policy files' fixed 64 KiB budget, which no rule's prose needs to reach.
const PACK_FLAGS: BudgetFlags = BudgetFlags {
    files: "rule pack files",
    file_bytes: "--max-pack-bytes",
    line_bytes: None,
};

/// A rule ready to evaluate.
pub struct Rule {
    pub spec: RuleSpec,
    pub pack: String,
    pub program: std::sync::Arc<cel::Program>,
    /// `at`, parsed and checked: where findings point in the flow.
    pub at: At,
}

/// A loaded pack.
pub struct RulePack {
    pub manifest: PackManifest,
    pub rules: Vec<Rule>,
    /// Where the rules came from, e.g. `rules/incidents/rules.yaml`.
    pub rules_file: String,
    /// Whether the pack ships with authaudit (rather than coming from `--rules`).
    pub bundled: bool,
}

impl RulePack {
    pub fn source(&self, id: &str) -> Option<&SourceDocument> {
        self.manifest.sources.iter().find(|s| s.id == id)
    }

    /// Whether the pack applies to a service of `jurisdiction`.
    pub fn covers(&self, jurisdiction: &str) -> bool {
        self.manifest
            .jurisdictions
            .iter()
            .any(|j| j == "*" || j == jurisdiction)
    }
}

/// A pack file's text, kept for diagnostics with snippets.
#[derive(Debug, Clone)]
pub struct PackText {
    pub shown: String,
    pub text: String,
}

/// Every pack loaded, the texts they came from, and the problems found.
#[derive(Default)]
pub struct RuleSet {
    pub packs: Vec<RulePack>,
    pub texts: Vec<PackText>,
    pub diagnostics: Vec<Diagnostic>,
}

impl RuleSet {
    /// The packs shipped with authaudit.
    pub fn bundled() -> Self {
        let mut set = Self::default();
        for (name, manifest, rules) in BUNDLED_PACKS {
            set.add_pack(
                true,
                PackText {
                    shown: format!("rules/{name}/pack.yaml"),
                    text: (*manifest).to_owned(),
                },
                PackText {
                    shown: format!("rules/{name}/rules.yaml"),
                    text: (*rules).to_owned(),
                },
            );
        }
        set
    }

    /// Adds the packs in `dir`: a pack folder (with `pack.yaml`) or a folder of pack folders.
    pub fn add_dir(&mut self, dir: &Path) {
        self.add_dir_within(dir, DEFAULT_MAX_PACK_BYTES);
    }

    /// [`Self::add_dir`], refusing pack files over `max_pack_bytes` (`--max-pack-bytes`).
    pub fn add_dir_within(&mut self, dir: &Path, max_pack_bytes: u64) {
        let shown = dir.display().to_string();
        if dir.join("pack.yaml").is_file() {
            self.add_pack_dir(dir, max_pack_bytes);
            return;
        }
        let mut subdirs: Vec<_> = match std::fs::read_dir(dir) {
            Ok(entries) => entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.join("pack.yaml").is_file())
                .collect(),
            Err(error) => {
                self.diagnostics.push(
                    Diagnostic::error(
                        Code::IoError,
                        &shown,
                        format!("cannot read rules folder: {error}"),
                    )
                    .with_hint("--rules takes a pack folder (with pack.yaml) or a folder of packs"),
                );
                return;
            }
        };
        subdirs.sort();
        if subdirs.is_empty() {
            self.diagnostics.push(
                Diagnostic::error(Code::IoError, &shown, "no rule pack here (no pack.yaml)")
                    .with_hint("--rules takes a pack folder (with pack.yaml) or a folder of packs"),
            );
        }
        for sub in subdirs {
            self.add_pack_dir(&sub, max_pack_bytes);
        }
    }

    fn add_pack_dir(&mut self, dir: &Path, max_pack_bytes: u64) {
        let budget = SizeBudget {
            max_file_bytes: max_pack_bytes,
            ..SizeBudget::default()
        };
        let read = |file: &str| {
            let path = dir.join(file);
            let shown = path.display().to_string();
            source::read_with(&path, &shown, budget, PACK_FLAGS)
                .map(|text| PackText { shown, text })
        };
        match (read("pack.yaml"), read("rules.yaml")) {
            (Ok(manifest), Ok(rules)) => self.add_pack(false, manifest, rules),
            (manifest, rules) => {
                self.diagnostics.extend(manifest.err());
                self.diagnostics.extend(rules.err());
            }
        }
    }

    /// Checks and compiles one pack; problems go to `self.diagnostics`.
    pub fn add_pack(&mut self, bundled: bool, manifest_text: PackText, rules_text: PackText) {
        let manifest = parse_checked::<PackManifest>(&manifest_text, &mut self.diagnostics);
        let rule_file = parse_checked::<RuleFile>(&rules_text, &mut self.diagnostics);
        let manifest_shown = manifest_text.shown.clone();
        self.texts.push(manifest_text);
        let (Some((manifest, manifest_tree)), Some((rule_file, tree))) = (manifest, rule_file)
        else {
            self.texts.push(rules_text);
            return;
        };
        let dates = compile::check_sources(&manifest_shown, &manifest_tree, &manifest);
        if !dates.is_empty() {
            self.diagnostics.extend(dates);
            self.texts.push(rules_text);
            return;
        }
        if let Some(existing) = self.packs.iter().find(|p| p.manifest.id == manifest.id) {
            self.diagnostics.push(
                Diagnostic::error(
                    Code::DuplicateRuleId,
                    &rules_text.shown,
                    format!(
                        "pack `{}` is loaded twice (also from {})",
                        manifest.id, existing.rules_file
                    ),
                )
                .with_hint("give the pack another id, or pass it once"),
            );
            self.texts.push(rules_text);
            return;
        }
        let checker = RuleChecker {
            file: &rules_text.shown,
            source: &rules_text.text,
            tree: &tree,
            manifest: &manifest,
        };
        let mut rules: Vec<Rule> = Vec::new();
        let mut problems = Vec::new();
        for (index, spec) in rule_file.rules.into_iter().enumerate() {
            let here = YamlPath::root().key("rules").index(index);
            let mut found = checker.citations(&spec, &here);
            let earlier = rules
                .iter()
                .find(|r| r.spec.id == spec.id)
                .map(|_| (manifest.id.as_str(), checker.file));
            if let Some((pack, file)) = self.find_rule(&spec.id).or(earlier) {
                found.push(checker.duplicate(&spec, &here, (pack, file)));
            }
            let at = checker.at(&spec, &here).unwrap_or_else(|problem| {
                found.push(problem);
                At::Flow
            });
            match checker.condition(&spec, &here) {
                Ok(program) if found.is_empty() => rules.push(Rule {
                    at,
                    pack: manifest.id.clone(),
                    program: std::sync::Arc::new(program),
                    spec,
                }),
                Ok(_) => problems.extend(found),
                Err(more) => problems.extend(found.into_iter().chain(more)),
            }
        }
        self.diagnostics.extend(problems);
        self.packs.push(RulePack {
            manifest,
            rules,
            rules_file: rules_text.shown.clone(),
            bundled,
        });
        self.texts.push(rules_text);
    }

    /// The pack and file of a loaded rule with this id.
    fn find_rule(&self, id: &str) -> Option<(&str, &str)> {
        self.packs.iter().find_map(|p| {
            p.rules
                .iter()
                .any(|r| r.spec.id == id)
                .then_some((p.manifest.id.as_str(), p.rules_file.as_str()))
        })
    }

    pub fn rules(&self) -> impl Iterator<Item = (&RulePack, &Rule)> {
        self.packs
            .iter()
            .flat_map(|p| p.rules.iter().map(move |r| (p, r)))
    }

    pub fn rule(&self, id: &str) -> Option<(&RulePack, &Rule)> {
        self.rules()
            .find(|(_, r)| r.spec.id.eq_ignore_ascii_case(id))
    }

    pub fn pack(&self, id: &str) -> Option<&RulePack> {
        self.packs.iter().find(|p| p.manifest.id == id)
    }

    /// The packs `keep` accepts, without their texts or diagnostics.
    pub fn filtered(&self, keep: &dyn Fn(&RulePack) -> bool) -> RuleSet {
        let mut subset = RuleSet::default();
        for pack in self.packs.iter().filter(|p| keep(p)) {
            subset.packs.push(RulePack {
                manifest: pack.manifest.clone(),
                rules: pack
                    .rules
                    .iter()
                    .map(|r| Rule {
                        spec: r.spec.clone(),
                        pack: r.pack.clone(),
                        program: r.program.clone(),
                        at: r.at.clone(),
                    })
                    .collect(),
                rules_file: pack.rules_file.clone(),
                bundled: pack.bundled,
            });
        }
        subset
    }

    /// The text of a pack file by its shown name, for snippets.
    pub fn text(&self, shown: &str) -> Option<&str> {
        self.texts
            .iter()
            .find(|t| t.shown == shown)
            .map(|t| t.text.as_str())
    }
}

/// Parses `text`, checks it against the schema of `T` and deserializes it.
fn parse_checked<T: DeserializeOwned + schemars::JsonSchema>(
    text: &PackText,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<(T, Node)> {
    let tree: Node = match yaml::parse(&text.shown, &text.text) {
        Ok(tree) => tree,
        Err(diagnostic) => {
            diagnostics.push(diagnostic);
            return None;
        }
    };
    let json: Value = tree.to_json();
    let checker = SchemaChecker::from_schema(
        serde_json::to_value(schemars::schema_for!(T)).unwrap_or_default(),
        "docs/rule-authoring.md",
    );
    let mut found = yaml::check_tree(&text.shown, &tree);
    found.extend(checker.check(&text.shown, &tree, &json));
    if !found.is_empty() {
        diagnostics.extend(found);
        return None;
    }
    match serde_json::from_value(json) {
        Ok(value) => Some((value, tree)),
        Err(error) => {
            diagnostics.push(
                Diagnostic::error(Code::SchemaViolation, &text.shown, error.to_string())
                    .with_span(tree.span)
                    .with_hint("see docs/rule-authoring.md"),
            );
            None
        }
    }
}
