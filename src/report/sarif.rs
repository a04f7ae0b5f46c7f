//! SARIF 2.1.0, for code-scanning services (GitHub, GitLab, Azure DevOps) and SARIF viewers.
//!
//! One run. Its driver lists every rule of the packs that ran, described from the rule's own
//! metadata (title, message, rationale, remediation, citations); each finding becomes a result
//! with its physical location, the source line, and a `partialFingerprints` entry built from
//! what the finding is about (rule, service, flow, YAML path), never from its line, so a
//! code-scanning service keeps tracking an alert when edits move it. Input problems go to the
//! invocation's notifications, so a run over a broken tree never looks clean. These structs are
//! the contract and are kept apart from the internal types; every string from a policy or pack
//! is serialized as JSON data. Nothing here evaluates anything.

use super::check::{CheckOutcome, Lang};
use super::lines::LineIndex;
use crate::diagnostic::{self, Diagnostic};
use crate::evaluate::Finding;
use crate::model::format_day;
use crate::rules::{Rule, RulePack, RuleSet, Severity};
use crate::yaml::Span;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};

/// The `$schema` of the output: the OASIS SARIF 2.1.0 schema (Errata 01).
pub const SCHEMA_URI: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// The key of authaudit's entry in `partialFingerprints`; bump the suffix if what is hashed
/// ever changes, so consumers see a new fingerprint kind rather than changed values.
pub const FINGERPRINT_KEY: &str = "authaudit/v1";

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool<'a>,
    invocations: [Invocation; 1],
    /// Language of the titles and messages (`--lang`).
    language: &'static str,
    /// Columns count characters, as everywhere in authaudit.
    column_kind: &'static str,
    artifacts: Vec<Artifact>,
    results: Vec<SarifResult<'a>>,
    properties: RunProperties<'a>,
}

#[derive(Serialize)]
struct Tool<'a> {
    driver: Driver<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver<'a> {
    name: &'static str,
    version: &'static str,
    semantic_version: &'static str,
    rules: Vec<RuleDescriptor<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RuleDescriptor<'a> {
    id: &'a str,
    name: String,
    short_description: Message<'a>,
    full_description: Message<'a>,
    help: Help,
    default_configuration: Configuration,
    properties: RuleProperties<'a>,
}

#[derive(Serialize)]
struct Message<'a> {
    text: std::borrow::Cow<'a, str>,
}

impl<'a> Message<'a> {
    fn borrowed(text: &'a str) -> Self {
        Self { text: text.into() }
    }

    fn owned(text: String) -> Self {
        Self { text: text.into() }
    }
}

#[derive(Serialize)]
struct Help {
    text: String,
    markdown: String,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct RuleProperties<'a> {
    /// The pack, the severity, `security`, then the incidents the rule would have stopped.
    tags: Vec<&'a str>,
    citations: Vec<RuleCitation<'a>>,
    /// GitHub's numeric severity (`critical` above 9.0, `high` 7.0–8.9, `medium` 4.0–6.9,
    /// `low` below 4.0); none for `info`.
    #[serde(rename = "security-severity", skip_serializing_if = "Option::is_none")]
    security_severity: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RuleCitation<'a> {
    document: &'a str,
    document_title: &'a str,
    section: &'a str,
    paraphrase: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    requirement: Option<&'a str>,
    /// The cited document's own dates and successor, as the pack manifest records them.
    #[serde(skip_serializing_if = "Option::is_none")]
    effective: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    until: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    superseded_by: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    /// False when an input file was invalid or unreadable, or a rule failed to evaluate: the
    /// results then cover only part of the input.
    execution_successful: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_execution_notifications: Vec<Notification>,
}

#[derive(Serialize)]
struct Notification {
    level: &'static str,
    message: Message<'static>,
    descriptor: DescriptorReference,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    locations: Vec<Location>,
}

#[derive(Serialize)]
struct DescriptorReference {
    id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Artifact {
    location: ArtifactLocation,
    roles: [&'static str; 1],
    source_language: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    rule_index: Option<usize>,
    level: &'static str,
    message: Message<'a>,
    locations: [Location; 1],
    partial_fingerprints: BTreeMap<&'static str, String>,
    /// With a baseline: `unchanged` when it records the finding, `new` when not.
    #[serde(skip_serializing_if = "Option::is_none")]
    baseline_state: Option<&'static str>,
    /// An active waiver covering the finding, as an accepted external suppression.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    suppressions: Vec<Suppression>,
    properties: ResultProperties<'a>,
}

#[derive(Serialize)]
struct Suppression {
    kind: &'static str,
    status: &'static str,
    justification: String,
    /// Where the waiver is written.
    location: Location,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResultProperties<'a> {
    pack: &'a str,
    severity: &'static str,
    service: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    service_name: Option<&'a str>,
    flow: &'a str,
    yaml_path: String,
    /// The day the sources that make the rule apply took effect, when that is after the
    /// policy's `as_of` day.
    #[serde(skip_serializing_if = "Option::is_none")]
    effective_after_as_of: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: PhysicalLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
    /// The whole source line, when the region is only part of it.
    #[serde(skip_serializing_if = "Option::is_none")]
    context_region: Option<Region>,
}

#[derive(Serialize)]
struct ArtifactLocation {
    uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    index: Option<usize>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_column: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_column: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    snippet: Option<Snippet>,
}

#[derive(Serialize)]
struct Snippet {
    text: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RunProperties<'a> {
    packs_run: &'a [String],
    /// The day audited (`check --at`).
    #[serde(skip_serializing_if = "Option::is_none")]
    at: Option<String>,
    fail_on: &'static str,
}

/// Renders `outcome` as a SARIF 2.1.0 log: pretty JSON with a trailing newline. `set` is the
/// rule set the outcome was evaluated with; its packs that ran (`outcome.packs_run`, and any
/// pack a result names) are listed in full in the driver.
pub fn render_sarif(outcome: &CheckOutcome<'_>, set: &RuleSet) -> String {
    let lang = outcome.lang;
    let rules = rules_run(outcome, set);
    let rule_index: BTreeMap<&str, usize> = rules
        .iter()
        .enumerate()
        .map(|(i, (_, rule))| (rule.spec.id.as_str(), i))
        .collect();
    let artifacts = Artifacts::new(outcome);
    let service_names: BTreeMap<&str, &str> = outcome
        .tree
        .policies()
        .map(|(_, p)| (p.service.id.as_str(), p.service.name.as_str()))
        .collect();
    let results = outcome
        .evaluation
        .findings
        .iter()
        .enumerate()
        .map(|(index, finding)| SarifResult {
            rule_id: &finding.rule_id,
            rule_index: rule_index.get(finding.rule_id.as_str()).copied(),
            level: level(finding.severity),
            message: Message::borrowed(lang.pick(&finding.message)),
            locations: [artifacts.location(&finding.file, Some(finding.span))],
            partial_fingerprints: BTreeMap::from([(FINGERPRINT_KEY, fingerprint(finding))]),
            baseline_state: outcome
                .gate
                .in_baseline(index)
                .map(|recorded| if recorded { "unchanged" } else { "new" }),
            suppressions: outcome
                .gate
                .waiver_of(index)
                .map(|entry| Suppression {
                    kind: "external",
                    status: "accepted",
                    justification: super::register::waived_reason(entry),
                    location: artifacts.location(&entry.waiver.file, Some(entry.waiver.span)),
                })
                .into_iter()
                .collect(),
            properties: ResultProperties {
                pack: &finding.pack,
                severity: finding.severity.as_str(),
                service: &finding.service,
                service_name: service_names.get(finding.service.as_str()).copied(),
                flow: &finding.flow,
                yaml_path: finding.path.to_string(),
                effective_after_as_of: finding.effective_after_as_of.map(format_day),
            },
        })
        .collect();
    let log = Log {
        schema: SCHEMA_URI,
        version: "2.1.0",
        runs: [Run {
            tool: Tool {
                driver: Driver {
                    name: "authaudit",
                    version: env!("CARGO_PKG_VERSION"),
                    semantic_version: env!("CARGO_PKG_VERSION"),
                    rules: rules
                        .iter()
                        .map(|(pack, rule)| descriptor(pack, rule, lang))
                        .collect(),
                },
            },
            invocations: [invocation(outcome, &artifacts)],
            language: match lang {
                Lang::En => "en",
                Lang::Ja => "ja",
            },
            column_kind: "unicodeCodePoints",
            artifacts: artifacts.listed(),
            results,
            properties: RunProperties {
                packs_run: &outcome.packs_run,
                at: outcome.evaluation.at.map(format_day),
                fail_on: outcome.fail_on.as_str(),
            },
        }],
    };
    let mut text = serde_json::to_string_pretty(&log)
        .unwrap_or_else(|e| panic!("SARIF log is not serializable: {e}"));
    text.push('\n');
    text
}

/// Every rule of the packs that ran, sorted by id (ids are unique across packs).
fn rules_run<'s>(outcome: &CheckOutcome<'_>, set: &'s RuleSet) -> Vec<(&'s RulePack, &'s Rule)> {
    let packs: BTreeSet<&str> = outcome
        .packs_run
        .iter()
        .map(String::as_str)
        .chain(outcome.evaluation.results.packs())
        .chain(outcome.evaluation.findings.iter().map(|f| f.pack.as_str()))
        .collect();
    let mut rules: Vec<_> = set
        .rules()
        .filter(|(pack, _)| packs.contains(pack.manifest.id.as_str()))
        .collect();
    rules.sort_by(|a, b| a.1.spec.id.cmp(&b.1.spec.id));
    rules
}

fn descriptor<'s>(pack: &'s RulePack, rule: &'s Rule, lang: Lang) -> RuleDescriptor<'s> {
    let spec = &rule.spec;
    let mut tags = vec![
        pack.manifest.id.as_str(),
        spec.severity.as_str(),
        "security",
    ];
    tags.extend(spec.incidents.iter().map(String::as_str));
    RuleDescriptor {
        id: &spec.id,
        name: camel_case(&spec.id),
        short_description: Message::borrowed(lang.pick(&spec.title)),
        full_description: Message::borrowed(lang.pick(&spec.message)),
        help: Help {
            text: format!(
                "Rationale:\n{}\n\nRemediation:\n{}",
                spec.rationale.trim(),
                spec.remediation.trim()
            ),
            markdown: help_markdown(pack, rule),
        },
        default_configuration: Configuration {
            level: level(spec.severity),
        },
        properties: RuleProperties {
            tags,
            citations: spec
                .citations
                .iter()
                .map(|c| {
                    let source = pack.source(&c.document);
                    RuleCitation {
                        document: &c.document,
                        document_title: source.map(|s| s.title.as_str()).unwrap_or_default(),
                        section: &c.section,
                        paraphrase: &c.paraphrase,
                        requirement: c.requirement.as_deref(),
                        effective: source.and_then(|s| s.effective.as_deref()),
                        until: source.and_then(|s| s.until.as_deref()),
                        superseded_by: source.and_then(|s| s.superseded_by.as_deref()),
                    }
                })
                .collect(),
            security_severity: security_severity(spec.severity),
        },
    }
}

/// Rationale, remediation and citations as one Markdown document.
fn help_markdown(pack: &RulePack, rule: &Rule) -> String {
    let spec = &rule.spec;
    let mut markdown = format!(
        "**Rationale**\n\n{}\n\n**Remediation**\n\n{}\n\n**Citations**\n\n",
        spec.rationale.trim(),
        spec.remediation.trim()
    );
    for c in &spec.citations {
        let title = pack
            .source(&c.document)
            .map(|s| format!(" ({})", s.title))
            .unwrap_or_default();
        let requirement = c
            .requirement
            .as_ref()
            .map(|r| format!(" [{r}]"))
            .unwrap_or_default();
        markdown.push_str(&format!(
            "- {}{title}, {}: {}{requirement}\n",
            c.document, c.section, c.paraphrase
        ));
    }
    markdown
}

/// `JP-JBA-LINK-01` → `JpJbaLink01`.
fn camel_case(id: &str) -> String {
    id.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|part| !part.is_empty())
        .map(|part| {
            let lower = part.to_ascii_lowercase();
            let mut chars = lower.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

fn security_severity(severity: Severity) -> Option<&'static str> {
    match severity {
        Severity::Critical => Some("9.5"),
        Severity::High => Some("8.0"),
        Severity::Medium => Some("5.5"),
        Severity::Low => Some("2.0"),
        Severity::Info => None,
    }
}

/// A hash of what the finding is about (rule, service, flow, YAML path), with each part
/// length-prefixed so no two different tuples hash the same input. No line or column: a
/// blank line inserted above keeps the fingerprint.
pub fn fingerprint(finding: &Finding) -> String {
    fingerprint_of(
        &finding.rule_id,
        &finding.service,
        &finding.flow,
        &finding.path.to_string(),
    )
}

/// [`fingerprint`] from the parts a JSON report records, so a report written before it
/// carried the fingerprint can still be matched (`authaudit diff`).
pub fn fingerprint_of(rule_id: &str, service: &str, flow: &str, path: &str) -> String {
    let mut hasher = Sha256::new();
    for part in [rule_id, service, flow, path] {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part.as_bytes());
    }
    hasher
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// The tool notifications: every diagnostic about the input (unreadable paths, invalid
/// files, warnings and notes) and every rule that failed to evaluate.
fn invocation(outcome: &CheckOutcome<'_>, artifacts: &Artifacts<'_>) -> Invocation {
    let tree = outcome.tree;
    let diagnostics = tree
        .discovery
        .iter()
        .chain(tree.files.iter().flat_map(|f| &f.diagnostics))
        .chain(&outcome.evaluation.errors)
        .chain(&outcome.gate.diagnostics);
    let notifications: Vec<Notification> =
        diagnostics.map(|d| notification(d, artifacts)).collect();
    let failed = !tree.discovery.is_empty()
        || tree.files.iter().any(|f| !f.is_valid())
        || !outcome.evaluation.errors.is_empty();
    Invocation {
        execution_successful: !failed,
        tool_execution_notifications: notifications,
    }
}

fn notification(d: &Diagnostic, artifacts: &Artifacts<'_>) -> Notification {
    let mut message = d.message.clone();
    if let Some(path) = &d.path {
        message.push_str(&format!(" (at {path})"));
    }
    if let Some(hint) = &d.hint {
        message.push_str(&format!("; help: {hint}"));
    }
    Notification {
        level: match d.severity {
            diagnostic::Severity::Error => "error",
            diagnostic::Severity::Warning => "warning",
            diagnostic::Severity::Note => "note",
        },
        message: Message::owned(message),
        descriptor: DescriptorReference {
            id: d.code.as_str(),
        },
        locations: vec![artifacts.location(&d.file, d.span)],
    }
}

/// The input files, each listed once and sorted, and the URIs locations use.
struct Artifacts<'a> {
    uris: BTreeMap<String, usize>,
    /// The policy files' texts by shown name, then the gate's (waivers file).
    texts: std::collections::HashMap<&'a str, &'a str>,
    gate: &'a crate::gate::Gate,
    lines: LineIndex<'a>,
}

impl<'a> Artifacts<'a> {
    fn new(outcome: &CheckOutcome<'a>) -> Self {
        let uris: BTreeSet<String> = outcome
            .tree
            .files
            .iter()
            .map(|f| artifact_uri(&f.shown))
            .collect();
        Self {
            uris: uris.into_iter().enumerate().map(|(i, u)| (u, i)).collect(),
            texts: super::human::text_index(outcome.tree),
            gate: outcome.gate,
            lines: LineIndex::new(),
        }
    }

    /// The text of an input file or of the waivers file, by shown name.
    fn text(&self, file: &str) -> Option<&'a str> {
        self.texts
            .get(file)
            .copied()
            .or_else(|| self.gate.text(file))
    }

    /// The artifacts in index order (indices follow the sorted URIs).
    fn listed(&self) -> Vec<Artifact> {
        self.uris
            .keys()
            .map(|uri| Artifact {
                location: ArtifactLocation {
                    uri: uri.clone(),
                    index: None,
                },
                roles: ["analysisTarget"],
                source_language: "yaml",
            })
            .collect()
    }

    /// A location in `file` at `span`, with the region's text and the whole line from `text`.
    fn location(&self, file: &str, span: Option<Span>) -> Location {
        let text = self.text(file);
        let uri = artifact_uri(file);
        let index = self.uris.get(&uri).copied();
        let (region, context_region) = match span {
            Some(span) => regions(
                span,
                text.and_then(|t| self.lines.segment(t, span.line.max(1))),
            ),
            None => (None, None),
        };
        Location {
            physical_location: PhysicalLocation {
                artifact_location: ArtifactLocation { uri, index },
                region,
                context_region,
            },
        }
    }
}

/// The region of `span` (to its end when it ends on its first line, else to the end of the
/// line) and, as context, the whole line.
/// `segment` is the text between the line breaks around the span's line.
fn regions(span: Span, segment: Option<&str>) -> (Option<Region>, Option<Region>) {
    let line = segment.map(|l| l.strip_suffix('\r').unwrap_or(l));
    let Some(line) = line else {
        let region = Region {
            start_line: span.line,
            start_column: Some(span.column),
            end_column: None,
            snippet: None,
        };
        return (Some(region), None);
    };
    let chars: Vec<char> = line.chars().collect();
    let start = (span.column.saturating_sub(1) as usize).min(chars.len());
    let end = start + span.len as usize;
    let (end_column, region_text) = if span.len > 0 && end <= chars.len() {
        (
            Some(span.column + span.len),
            chars[start..end].iter().collect(),
        )
    } else {
        (None, chars[start..].iter().collect())
    };
    let region = Region {
        start_line: span.line,
        start_column: Some(span.column),
        end_column,
        snippet: Some(Snippet { text: region_text }),
    };
    let context = Region {
        start_line: span.line,
        start_column: None,
        end_column: None,
        snippet: Some(Snippet {
            text: line.to_owned(),
        }),
    };
    (Some(region), Some(context))
}

/// A file path as the user gave it, as a URI reference: forward slashes, relative paths kept
/// relative, absolute paths as `file:` URIs, and every byte outside the unreserved set and `/`
/// percent-encoded (spaces, `#`, `%`, non-ASCII names).
pub fn artifact_uri(shown: &str) -> String {
    let path = shown.replace('\\', "/");
    let bytes = path.as_bytes();
    let drive = bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':';
    let mut uri = String::new();
    if path.starts_with('/') {
        uri.push_str("file://");
    } else if drive {
        uri.push_str("file:///");
    }
    for (i, byte) in bytes.iter().enumerate() {
        let keep = byte.is_ascii_alphanumeric()
            || matches!(byte, b'-' | b'.' | b'_' | b'~' | b'/')
            || (drive && i == 1);
        if keep {
            uri.push(char::from(*byte));
        } else {
            uri.push_str(&format!("%{byte:02X}"));
        }
    }
    uri
}

#[cfg(test)]
mod tests {
    use super::{artifact_uri, camel_case};

    #[test]
    fn names_are_camel_case_of_the_id() {
        assert_eq!(camel_case("JP-JBA-LINK-01"), "JpJbaLink01");
        assert_eq!(
            camel_case("INC-LINK-KNOWLEDGE-ONLY"),
            "IncLinkKnowledgeOnly"
        );
    }

    #[test]
    fn uris_keep_relative_paths_relative() {
        assert_eq!(artifact_uri("policies/a.yaml"), "policies/a.yaml");
        assert_eq!(artifact_uri("policies\\a b.yaml"), "policies/a%20b.yaml");
        assert_eq!(artifact_uri("/tmp/x#1.yaml"), "file:///tmp/x%231.yaml");
        assert_eq!(artifact_uri("C:\\p\\a.yaml"), "file:///C:/p/a.yaml");
        assert_eq!(artifact_uri("銀行.yaml"), "%E9%8A%80%E8%A1%8C.yaml");
    }
}
