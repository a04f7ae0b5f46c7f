//! Rule packs: loading them from data, checking them in two stages (schema, then meaning:
//! CEL compiles, fields exist, citations resolve, ids are unique) and holding the compiled
//! rules. Loading reports every problem with file, line and column; it never evaluates.

mod cel_check;
pub mod docs;
pub mod harness;
pub mod pack;

pub use pack::{Citation, Example, PackManifest, RuleSpec, Severity, SourceDocument, Text};

use crate::diagnostic::{Code, Diagnostic};
use crate::evaluate::view::View;
use crate::schema::SchemaChecker;
use crate::source::{self, SizeBudget};
use crate::yaml::{self, Node, Span, YamlPath};
use pack::RuleFile;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::path::Path;

include!(concat!(env!("OUT_DIR"), "/bundled_packs.rs"));

/// A rule ready to evaluate.
pub struct Rule {
    pub spec: RuleSpec,
    pub pack: String,
    pub program: std::sync::Arc<cel::Program>,
    /// `at`, parsed, relative to the flow.
    pub at: YamlPath,
}

/// A loaded pack.
pub struct RulePack {
    pub manifest: PackManifest,
    pub rules: Vec<Rule>,
    /// Where the rules came from, e.g. `rules/incidents/rules.yaml`.
    pub rules_file: String,
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
        let shown = dir.display().to_string();
        if dir.join("pack.yaml").is_file() {
            self.add_pack_dir(dir);
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
            self.add_pack_dir(&sub);
        }
    }

    fn add_pack_dir(&mut self, dir: &Path) {
        let read = |file: &str| {
            let path = dir.join(file);
            let shown = path.display().to_string();
            source::read(&path, &shown, SizeBudget::default()).map(|text| PackText { shown, text })
        };
        match (read("pack.yaml"), read("rules.yaml")) {
            (Ok(manifest), Ok(rules)) => self.add_pack(manifest, rules),
            (manifest, rules) => {
                self.diagnostics.extend(manifest.err());
                self.diagnostics.extend(rules.err());
            }
        }
    }

    /// Checks and compiles one pack; problems go to `self.diagnostics`.
    pub fn add_pack(&mut self, manifest_text: PackText, rules_text: PackText) {
        let manifest = parse_checked::<PackManifest>(&manifest_text, &mut self.diagnostics);
        let rule_file = parse_checked::<RuleFile>(&rules_text, &mut self.diagnostics);
        self.texts.push(manifest_text);
        let rules_shown = rules_text.shown.clone();
        let rules_source = rules_text.text.clone();
        let rules_tree = yaml::parse(&rules_shown, &rules_text.text).ok();
        self.texts.push(rules_text);
        let (Some(manifest), Some(rule_file), Some(tree)) = (manifest, rule_file, rules_tree)
        else {
            return;
        };
        if let Some(existing) = self.packs.iter().find(|p| p.manifest.id == manifest.id) {
            self.diagnostics.push(
                Diagnostic::error(
                    Code::DuplicateRuleId,
                    &rules_shown,
                    format!(
                        "pack `{}` is loaded twice (also from {})",
                        manifest.id, existing.rules_file
                    ),
                )
                .with_hint("give the pack another id, or pass it once"),
            );
            return;
        }
        let view_schema = serde_json::to_value(schemars::schema_for!(View)).unwrap_or_default();
        let mut rules = Vec::new();
        for (index, spec) in rule_file.rules.into_iter().enumerate() {
            let here = YamlPath::root().key("rules").index(index);
            let at = |path: &YamlPath| tree.get(path).map_or(tree.span, |n| n.span);
            let mut problems = Vec::new();
            if let Some(first) = self.find_rule(&spec.id).or_else(|| {
                rules
                    .iter()
                    .find(|r: &&Rule| r.spec.id == spec.id)
                    .map(|r| (r.pack.clone(), rules_shown.clone()))
            }) {
                problems.push(
                    Diagnostic::error(
                        Code::DuplicateRuleId,
                        &rules_shown,
                        format!(
                            "rule id `{}` is already used in pack `{}` ({})",
                            spec.id, first.0, first.1
                        ),
                    )
                    .with_span(at(&here.key("id")))
                    .with_path(here.key("id"))
                    .with_hint("rule ids are unique across all packs: rename this rule"),
                );
            }
            for (c, citation) in spec.citations.iter().enumerate() {
                if !manifest.sources.iter().any(|s| s.id == citation.document) {
                    let path = here.key("citations").index(c).key("document");
                    let known: Vec<&str> = manifest.sources.iter().map(|s| s.id.as_str()).collect();
                    problems.push(
                        Diagnostic::error(
                            Code::UnknownCitationDocument,
                            &rules_shown,
                            format!("citation names document `{}`, which the pack manifest does not list", citation.document),
                        )
                        .with_span(at(&path))
                        .with_path(path)
                        .with_hint(format!("documents of this pack: {}", known.join(", "))),
                    );
                }
            }
            let condition_path = here.key("condition");
            let program = match cel::Program::compile(&spec.condition) {
                Ok(program) => {
                    for (message, hint) in
                        cel_check::check_references(program.expression(), &view_schema)
                    {
                        problems.push(
                            Diagnostic::error(
                                Code::UnknownViewField,
                                &rules_shown,
                                format!("condition of `{}`: {message}", spec.id),
                            )
                            .with_span(at(&condition_path))
                            .with_path(condition_path.clone())
                            .with_hint(hint),
                        );
                    }
                    Some(program)
                }
                Err(errors) => {
                    let first = errors.errors.first();
                    let message = first.map_or_else(|| errors.to_string(), |e| e.msg.clone());
                    let span = at(&condition_path);
                    let span = first.map_or(span, |e| {
                        point_into_condition(&rules_source, span, &spec.condition, e.pos)
                    });
                    problems.push(
                        Diagnostic::error(Code::CelSyntax, &rules_shown, format!("condition of `{}` is not valid CEL: {message}", spec.id))
                            .with_span(span)
                            .with_path(condition_path.clone())
                            .with_hint("conditions are CEL expressions, e.g. `flow.independent_categories < 2`"),
                    );
                    None
                }
            };
            let at_path = parse_at(spec.at.as_deref().unwrap_or(""));
            if problems.is_empty()
                && let Some(program) = program
            {
                rules.push(Rule {
                    spec,
                    pack: manifest.id.clone(),
                    program: std::sync::Arc::new(program),
                    at: at_path,
                });
            } else {
                self.diagnostics.extend(problems);
            }
        }
        self.packs.push(RulePack {
            manifest,
            rules,
            rules_file: rules_shown,
        });
    }

    fn find_rule(&self, id: &str) -> Option<(String, String)> {
        self.packs.iter().find_map(|p| {
            p.rules
                .iter()
                .any(|r| r.spec.id == id)
                .then(|| (p.manifest.id.clone(), p.rules_file.clone()))
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
) -> Option<T> {
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
        Ok(value) => Some(value),
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

/// Where in the file a CEL error at `pos` (1-based line and column within the expression)
/// stands, for a condition written on one line; else the condition's own span.
fn point_into_condition(text: &str, value: Span, condition: &str, pos: (isize, isize)) -> Span {
    let line = text
        .lines()
        .nth(value.line.saturating_sub(1) as usize)
        .unwrap_or_default();
    let first = line.chars().nth(value.column.saturating_sub(1) as usize);
    let quoted = matches!(first, Some('"' | '\''));
    let on_one_line = !condition.contains('\n') && pos.0 == 1 && pos.1 >= 1;
    match (on_one_line, u32::try_from(pos.1 - 1)) {
        (true, Ok(offset)) => Span::new(value.line, value.column + u32::from(quoted) + offset, 1),
        _ => value,
    }
}

/// `limits.attempts` → a relative YAML path.
fn parse_at(at: &str) -> YamlPath {
    let mut path = YamlPath::root();
    for part in at.split('.').filter(|p| !p.is_empty()) {
        path = match part.parse::<usize>() {
            Ok(i) => path.index(i),
            Err(_) => path.key(part),
        };
    }
    path
}
