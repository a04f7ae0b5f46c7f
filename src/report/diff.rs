//! `authaudit diff`: what changed between two JSON documents of one kind, for release reviews
//! and pull-request comments. Two reports (`check` / `report --format json`) are compared
//! finding by finding, matched on the SARIF fingerprint (rule, service, flow, YAML path; never
//! the line, so a finding that only moved is unchanged); two attack-path analyses
//! (`paths --format json`) chain by chain, matched on the chain id. The kind of each document is
//! read from its fields, and two kinds are never compared.
//!
//! Owns reading the documents from text (every problem located: file, line, column), the
//! matching, and one renderer per format (text, Markdown, versioned JSON). Reads no file and
//! decides no exit code: the CLI does both.

use super::check::Lang;
use super::document::escape_markdown;
use super::github::link_free;
use super::paths::chance_text;
use super::sarif::fingerprint_of;
use super::snippet::visible_line;
use crate::rules::{Severity, Text};
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;

/// Version of `diff --format json`.
pub const DIFF_JSON_VERSION: u32 = 1;

/// The report versions whose findings carry the fields matched on (version 1 lacked only what
/// matching does not read).
const REPORT_VERSIONS: [u64; 2] = [1, 2];

/// Output formats of `authaudit diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DiffFormat {
    /// For people at a terminal or in a CI log.
    Text,
    /// GitHub-flavoured Markdown, for pull-request comments and step summaries.
    Md,
    /// Versioned JSON (docs/json-output.md).
    Json,
}

/// A document that cannot be compared, located as precisely as the problem allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    /// The file as the user named it.
    pub file: String,
    /// 1-based line and column, when the problem is at one place of the text.
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
    pub help: String,
}

/// What a document holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A JSON report of `check` or `report`.
    Findings,
    /// The JSON of `paths`.
    Chains,
}

impl Kind {
    fn described(self) -> &'static str {
        match self {
            Kind::Findings => "a findings report (`check --format json` or `report --format json`)",
            Kind::Chains => "an attack-path analysis (`paths --format json`)",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Kind::Findings => "findings",
            Kind::Chains => "chains",
        }
    }
}

/// One document, read.
#[derive(Debug, Clone)]
pub struct Document {
    pub file: String,
    pub content: Content,
    /// Why the document does not cover all of its input (invalid files, rules that failed to
    /// evaluate, files not analysed); empty when it does.
    pub incomplete: Vec<String>,
}

#[derive(Debug, Clone)]
pub enum Content {
    Findings {
        packs_run: Vec<String>,
        at: Option<String>,
        findings: Vec<ReportFinding>,
    },
    Chains {
        attackers: Vec<String>,
        bounds_reached: usize,
        chains: Vec<ChainEntry>,
    },
}

impl Document {
    pub fn kind(&self) -> Kind {
        match self.content {
            Content::Findings { .. } => Kind::Findings,
            Content::Chains { .. } => Kind::Chains,
        }
    }
}

/// A finding as a JSON report records it, with what the diff shows.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ReportFinding {
    pub fingerprint: String,
    pub rule_id: String,
    pub pack: String,
    pub severity: Severity,
    pub title: Text,
    pub service: String,
    pub flow: String,
    pub file: String,
    pub line: u32,
    pub column: u32,
    pub path: String,
}

/// Where a chain passes: a flow of a service (empty for an account opening the policy does
/// not describe).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct RoutePlace {
    pub service: String,
    pub flow: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ChainSource {
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct AtRisk {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    pub basis: String,
}

/// A chain as `paths --format json` records it, with what the diff shows.
#[derive(Debug, Clone, Serialize)]
pub struct ChainEntry {
    pub id: String,
    pub attacker: String,
    pub determined: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chance: Option<f64>,
    pub source: ChainSource,
    /// Every flow the chain passes, in order (a link's hand-offs included).
    pub route: Vec<RoutePlace>,
    pub at_risk: AtRisk,
}

// What is read from the documents: only the fields the diff needs; the rest is ignored, so a
// report that gained fields within its version still reads.

#[derive(Deserialize)]
struct RawReport {
    summary: RawSummary,
    findings: Vec<RawFinding>,
    #[serde(default)]
    discovery: Vec<IgnoredAny>,
    #[serde(default)]
    evaluation_errors: Vec<IgnoredAny>,
}

#[derive(Deserialize)]
struct RawSummary {
    invalid: usize,
    packs_run: Vec<String>,
    #[serde(default)]
    at: Option<String>,
}

#[derive(Deserialize)]
struct RawFinding {
    rule_id: String,
    pack: String,
    severity: Severity,
    title: Text,
    file: String,
    line: u32,
    column: u32,
    path: String,
    service: String,
    flow: String,
    /// Absent from reports written before the field was added: computed then.
    #[serde(default)]
    fingerprint: Option<String>,
}

#[derive(Deserialize)]
struct RawPaths {
    attackers: Vec<String>,
    #[serde(default)]
    files_not_analysed: Vec<String>,
    #[serde(default)]
    bounds_reached: Vec<IgnoredAny>,
    chains: Vec<RawChain>,
}

#[derive(Deserialize)]
struct RawChain {
    id: String,
    attacker: String,
    determined: bool,
    #[serde(default)]
    chance: Option<f64>,
    source: ChainSource,
    steps: Vec<RawStep>,
    at_risk: AtRisk,
}

#[derive(Deserialize)]
struct RawStep {
    service: String,
    flow: String,
    #[serde(default)]
    via: Vec<RoutePlace>,
}

/// Reads `text` (the content of `file`) as a findings report or an attack-path analysis.
pub fn parse(file: &str, text: &str) -> Result<Document, InputError> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| json_error(file, &e, "is not valid JSON"))?;
    let error = |message: String, help: &str| InputError {
        file: file.to_owned(),
        line: None,
        column: None,
        message,
        help: help.to_owned(),
    };
    const HELP: &str = "give two files written by `authaudit check --format json` (or `report \
                        --format json`), or two written by `authaudit paths --format json`";
    let Some(object) = value.as_object() else {
        return Err(error(
            "the document is not a JSON object, so not one authaudit writes".to_owned(),
            HELP,
        ));
    };
    let version = object.get("version").and_then(serde_json::Value::as_u64);
    if object.contains_key("rule_pack_errors") && !object.contains_key("findings") {
        return Err(error(
            "this report records rule packs that were refused: no rule ran, so it has no \
             findings to compare"
                .to_owned(),
            "fix the rule packs, run the check again and compare that report",
        ));
    }
    if object.contains_key("findings") {
        if !version.is_some_and(|v| REPORT_VERSIONS.contains(&v)) {
            return Err(unsupported_version(
                file,
                object.get("version"),
                "report",
                "1 and 2",
            ));
        }
        let raw: RawReport =
            serde_json::from_str(text).map_err(|e| json_error(file, &e, "is not a report"))?;
        return Ok(findings_document(file, raw));
    }
    if object.contains_key("chains") {
        let supported = u64::from(super::paths::json::PATHS_JSON_VERSION);
        if version != Some(supported) {
            let versions = supported.to_string();
            return Err(unsupported_version(
                file,
                object.get("version"),
                "analysis",
                &versions,
            ));
        }
        let raw: RawPaths = serde_json::from_str(text)
            .map_err(|e| json_error(file, &e, "is not an attack-path analysis"))?;
        return Ok(chains_document(file, raw));
    }
    if object.contains_key("files") && object.contains_key("summary") {
        return Err(error(
            "this is the output of `validate`, which has no findings".to_owned(),
            HELP,
        ));
    }
    Err(error(
        "the document has neither `findings` nor `chains`, so it is not one authaudit writes"
            .to_owned(),
        HELP,
    ))
}

fn unsupported_version(
    file: &str,
    given: Option<&serde_json::Value>,
    what: &str,
    supported: &str,
) -> InputError {
    let given = given.map_or_else(|| "no version".to_owned(), |v| format!("version {v}"));
    InputError {
        file: file.to_owned(),
        line: None,
        column: None,
        message: format!(
            "the {what} has {given}; this authaudit reads version {supported} (field `version`)"
        ),
        help: "write both documents with the same authaudit".to_owned(),
    }
}

/// A serde_json error as a located problem: its position, and its message without the
/// position serde_json appends.
fn json_error(file: &str, error: &serde_json::Error, what: &str) -> InputError {
    let (line, column) = (error.line(), error.column());
    let text = error.to_string();
    let suffix = format!(" at line {line} column {column}");
    let reason = text.strip_suffix(&suffix).unwrap_or(&text);
    let located = line > 0;
    InputError {
        file: file.to_owned(),
        line: located.then_some(line),
        column: located.then_some(column),
        message: format!("the document {what}: {reason}"),
        help: "give the file exactly as authaudit wrote it".to_owned(),
    }
}

fn findings_document(file: &str, raw: RawReport) -> Document {
    let mut incomplete = Vec::new();
    if raw.summary.invalid > 0 {
        incomplete.push(count(raw.summary.invalid, "invalid file", "invalid files"));
    }
    if !raw.discovery.is_empty() {
        incomplete.push(count(
            raw.discovery.len(),
            "path that could not be read",
            "paths that could not be read",
        ));
    }
    if !raw.evaluation_errors.is_empty() {
        incomplete.push(count(
            raw.evaluation_errors.len(),
            "rule that failed to evaluate",
            "rules that failed to evaluate",
        ));
    }
    let findings = raw
        .findings
        .into_iter()
        .map(|f| ReportFinding {
            fingerprint: f
                .fingerprint
                .unwrap_or_else(|| fingerprint_of(&f.rule_id, &f.service, &f.flow, &f.path)),
            rule_id: f.rule_id,
            pack: f.pack,
            severity: f.severity,
            title: f.title,
            service: f.service,
            flow: f.flow,
            file: f.file,
            line: f.line,
            column: f.column,
            path: f.path,
        })
        .collect();
    Document {
        file: file.to_owned(),
        content: Content::Findings {
            packs_run: raw.summary.packs_run,
            at: raw.summary.at,
            findings,
        },
        incomplete,
    }
}

fn chains_document(file: &str, raw: RawPaths) -> Document {
    let mut incomplete = Vec::new();
    if !raw.files_not_analysed.is_empty() {
        incomplete.push(count(
            raw.files_not_analysed.len(),
            "file not analysed",
            "files not analysed",
        ));
    }
    let chains = raw
        .chains
        .into_iter()
        .map(|c| ChainEntry {
            id: c.id,
            attacker: c.attacker,
            determined: c.determined,
            chance: c.chance,
            source: c.source,
            route: c
                .steps
                .into_iter()
                .flat_map(|s| {
                    let at = RoutePlace {
                        service: s.service,
                        flow: s.flow,
                    };
                    std::iter::once(at).chain(s.via)
                })
                .collect(),
            at_risk: c.at_risk,
        })
        .collect();
    Document {
        file: file.to_owned(),
        content: Content::Chains {
            attackers: raw.attackers,
            bounds_reached: raw.bounds_reached.len(),
            chains,
        },
        incomplete,
    }
}

fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// One side of the comparison, as the JSON output names it.
#[derive(Debug, Clone, Serialize)]
pub struct Side {
    pub file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub packs_run: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attackers: Option<Vec<String>>,
    pub incomplete: Vec<String>,
}

/// A finding in both documents: as it is now, and what it was.
#[derive(Debug, Clone, Serialize)]
pub struct UnchangedFinding {
    #[serde(flatten)]
    pub now: ReportFinding,
    pub before: FindingBefore,
}

#[derive(Debug, Clone, Serialize)]
pub struct FindingBefore {
    pub severity: Severity,
    pub file: String,
    pub line: u32,
    pub column: u32,
}

/// A chain in both documents: as it is now, and what it was.
#[derive(Debug, Clone, Serialize)]
pub struct UnchangedChain {
    #[serde(flatten)]
    pub now: ChainEntry,
    pub before: ChainBefore,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChainBefore {
    pub determined: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chance: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Changes<T, U> {
    pub new: Vec<T>,
    pub fixed: Vec<T>,
    pub unchanged: Vec<U>,
}

#[derive(Debug, Clone)]
pub enum DiffChanges {
    Findings {
        fail_on: Severity,
        changes: Changes<ReportFinding, UnchangedFinding>,
    },
    Chains(Changes<ChainEntry, UnchangedChain>),
}

/// The comparison of two documents of one kind.
#[derive(Debug, Clone)]
pub struct Diff {
    pub old: Side,
    pub new: Side,
    pub changes: DiffChanges,
    /// Differences between the two runs that explain some changes (packs, days, profiles).
    pub notes: Vec<String>,
}

/// The two documents are of different kinds: the message to print.
pub fn mixed_kinds(old: &Document, new: &Document) -> Option<String> {
    (old.kind() != new.kind()).then(|| {
        format!(
            "cannot compare {} with {}: {} is {} and {} is {}",
            visible_line(&old.file),
            visible_line(&new.file),
            visible_line(&old.file),
            old.kind().described(),
            visible_line(&new.file),
            new.kind().described(),
        )
    })
}

/// Compares `old` with `new`; `None` when they are of different kinds ([`mixed_kinds`]).
pub fn compare(old: Document, new: Document, fail_on: Severity) -> Option<Diff> {
    let mut notes = Vec::new();
    if !old.incomplete.is_empty() {
        notes.push(format!(
            "{} does not cover all of its input ({}): a finding or chain it lacks may show as new",
            old.file,
            old.incomplete.join(", ")
        ));
    }
    let side = |d: &Document| Side {
        file: d.file.clone(),
        packs_run: match &d.content {
            Content::Findings { packs_run, .. } => Some(packs_run.clone()),
            Content::Chains { .. } => None,
        },
        at: match &d.content {
            Content::Findings { at, .. } => at.clone(),
            Content::Chains { .. } => None,
        },
        attackers: match &d.content {
            Content::Findings { .. } => None,
            Content::Chains { attackers, .. } => Some(attackers.clone()),
        },
        incomplete: d.incomplete.clone(),
    };
    let (old_side, new_side) = (side(&old), side(&new));
    let changes = match (old.content, new.content) {
        (
            Content::Findings {
                packs_run: old_packs,
                at: old_at,
                findings: before,
            },
            Content::Findings {
                packs_run: new_packs,
                at: new_at,
                findings: after,
            },
        ) => {
            if old_packs != new_packs {
                notes.push(format!(
                    "the reports ran different packs (old: {}; new: {}): findings of a pack only \
                     one of them ran show as new or fixed",
                    list(&old_packs),
                    list(&new_packs)
                ));
            }
            if old_at != new_at {
                notes.push(format!(
                    "the reports audited different days (old: {}; new: {}): rules that came into \
                     or went out of force show as new or fixed",
                    old_at.as_deref().unwrap_or("not recorded"),
                    new_at.as_deref().unwrap_or("not recorded")
                ));
            }
            DiffChanges::Findings {
                fail_on,
                changes: compare_findings(before, after),
            }
        }
        (
            Content::Chains {
                attackers: old_attackers,
                chains: before,
                ..
            },
            Content::Chains {
                attackers: new_attackers,
                bounds_reached,
                chains: after,
            },
        ) => {
            if old_attackers != new_attackers {
                notes.push(format!(
                    "the analyses ran different attacker profiles (old: {}; new: {}): chains of a \
                     profile only one of them ran show as new or fixed",
                    list(&old_attackers),
                    list(&new_attackers)
                ));
            }
            if bounds_reached > 0 {
                notes.push(format!(
                    "{} reached {}: chains beyond them are missing and may show as fixed",
                    new.file,
                    count(
                        bounds_reached,
                        "bound of the search",
                        "bounds of the search"
                    )
                ));
            }
            DiffChanges::Chains(compare_chains(before, after))
        }
        _ => return None,
    };
    Some(Diff {
        old: old_side,
        new: new_side,
        changes,
        notes,
    })
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_owned()
    } else {
        items.join(", ")
    }
}

/// Splits `before` and `after` into what only `after` has, what only `before` has, and the
/// pairs in both, matching on `key`. A key found several times matches as many times as both
/// sides have it, in document order.
fn matched<T, K: Ord>(
    before: Vec<T>,
    after: Vec<T>,
    key: impl Fn(&T) -> K,
) -> (Vec<T>, Vec<T>, Vec<(T, T)>) {
    let mut waiting: BTreeMap<K, VecDeque<T>> = BTreeMap::new();
    for item in before {
        waiting.entry(key(&item)).or_default().push_back(item);
    }
    let mut new = Vec::new();
    let mut both = Vec::new();
    for item in after {
        match waiting.get_mut(&key(&item)).and_then(VecDeque::pop_front) {
            Some(old) => both.push((old, item)),
            None => new.push(item),
        }
    }
    let gone = waiting.into_values().flatten().collect();
    (new, gone, both)
}

fn compare_findings(
    before: Vec<ReportFinding>,
    after: Vec<ReportFinding>,
) -> Changes<ReportFinding, UnchangedFinding> {
    let (mut new, mut fixed, both) = matched(before, after, |f| f.fingerprint.clone());
    let mut unchanged: Vec<UnchangedFinding> = both
        .into_iter()
        .map(|(old, now)| UnchangedFinding {
            before: FindingBefore {
                severity: old.severity,
                file: old.file,
                line: old.line,
                column: old.column,
            },
            now,
        })
        .collect();
    new.sort_by(finding_order);
    fixed.sort_by(finding_order);
    unchanged.sort_by(|a, b| finding_order(&a.now, &b.now));
    Changes {
        new,
        fixed,
        unchanged,
    }
}

/// Worst first, then by where: the order a reviewer reads in.
fn finding_order(a: &ReportFinding, b: &ReportFinding) -> std::cmp::Ordering {
    b.severity
        .cmp(&a.severity)
        .then_with(|| a.file.cmp(&b.file))
        .then_with(|| (a.line, a.column).cmp(&(b.line, b.column)))
        .then_with(|| a.rule_id.cmp(&b.rule_id))
        .then_with(|| a.fingerprint.cmp(&b.fingerprint))
}

fn compare_chains(
    before: Vec<ChainEntry>,
    after: Vec<ChainEntry>,
) -> Changes<ChainEntry, UnchangedChain> {
    let (mut new, mut fixed, both) = matched(before, after, |c| c.id.clone());
    let mut unchanged: Vec<UnchangedChain> = both
        .into_iter()
        .map(|(old, now)| UnchangedChain {
            before: ChainBefore {
                determined: old.determined,
                chance: old.chance,
            },
            now,
        })
        .collect();
    new.sort_by(chain_order);
    fixed.sort_by(chain_order);
    unchanged.sort_by(|a, b| chain_order(&a.now, &b.now));
    Changes {
        new,
        fixed,
        unchanged,
    }
}

/// Determined chains first, then by profile and id.
fn chain_order(a: &ChainEntry, b: &ChainEntry) -> std::cmp::Ordering {
    b.determined
        .cmp(&a.determined)
        .then_with(|| a.attacker.cmp(&b.attacker))
        .then_with(|| a.id.cmp(&b.id))
}

impl Diff {
    /// What makes the gate fail: new findings at or above `--fail-on`; new determined chains
    /// and chains that were undetermined and are now determined.
    pub fn failing(&self) -> usize {
        match &self.changes {
            DiffChanges::Findings { fail_on, changes } => changes
                .new
                .iter()
                .filter(|f| f.severity >= *fail_on)
                .count(),
            DiffChanges::Chains(changes) => {
                changes.new.iter().filter(|c| c.determined).count()
                    + changes
                        .unchanged
                        .iter()
                        .filter(|c| c.now.determined && !c.before.determined)
                        .count()
            }
        }
    }

    /// The newer document does not cover all of its input: what it lacks may be unevaluated
    /// rather than fixed, so the comparison cannot pass a gate.
    pub fn incomplete(&self) -> bool {
        !self.new.incomplete.is_empty()
    }

    fn kind(&self) -> Kind {
        match self.changes {
            DiffChanges::Findings { .. } => Kind::Findings,
            DiffChanges::Chains(_) => Kind::Chains,
        }
    }

    fn counts(&self) -> (usize, usize, usize) {
        match &self.changes {
            DiffChanges::Findings { changes, .. } => (
                changes.new.len(),
                changes.fixed.len(),
                changes.unchanged.len(),
            ),
            DiffChanges::Chains(changes) => (
                changes.new.len(),
                changes.fixed.len(),
                changes.unchanged.len(),
            ),
        }
    }

    /// The gate's verdict in words.
    fn verdict(&self) -> String {
        let failing = self.failing();
        if self.incomplete() {
            return format!(
                "error: {} does not cover all of its input ({}): what it lacks may be \
                 unevaluated rather than fixed",
                self.new.file,
                self.new.incomplete.join(", ")
            );
        }
        match &self.changes {
            DiffChanges::Findings { fail_on, .. } if failing > 0 => format!(
                "fail: {} at or above {}",
                count(failing, "new finding", "new findings"),
                fail_on.as_str()
            ),
            DiffChanges::Findings { fail_on, .. } => {
                format!("pass: no new finding at or above {}", fail_on.as_str())
            }
            DiffChanges::Chains(_) if failing > 0 => format!(
                "fail: {} that the policies fully describe",
                count(
                    failing,
                    "new or newly determined chain",
                    "new or newly determined chains"
                )
            ),
            DiffChanges::Chains(_) => "pass: no new chain the policies fully describe".to_owned(),
        }
    }
}

/// Renders `diff` in `format`; `lang` picks the language of finding titles.
pub fn render(diff: &Diff, format: DiffFormat, lang: Lang) -> String {
    match format {
        DiffFormat::Text => render_text(diff, lang),
        DiffFormat::Md => render_markdown(diff, lang),
        DiffFormat::Json => render_json(diff),
    }
}

fn place_text(place: &RoutePlace) -> String {
    if place.flow.is_empty() {
        format!(
            "{} (account opening, not described)",
            visible_line(&place.service)
        )
    } else {
        format!(
            "{}/{}",
            visible_line(&place.service),
            visible_line(&place.flow)
        )
    }
}

fn source_text(source: &ChainSource) -> String {
    let kind = source.kind.replace('_', " ");
    match &source.service {
        Some(service) => format!("money out of {kind} at {service}"),
        None => format!("money out of {kind}"),
    }
}

fn at_risk_text(at_risk: &AtRisk) -> String {
    match (at_risk.amount, &at_risk.currency) {
        (Some(amount), Some(currency)) => format!("{amount} {currency} per day"),
        (Some(amount), None) => format!("{amount} per day"),
        _ => format!("no figure ({})", at_risk.basis),
    }
}

fn chain_status(determined: bool) -> &'static str {
    if determined { "chain" } else { "undetermined" }
}

/// For people: each finding or chain on a line or three, every string shown so that nothing
/// from a document reaches the terminal raw.
pub fn render_text(diff: &Diff, lang: Lang) -> String {
    let mut out = String::new();
    let (new, fixed, unchanged) = diff.counts();
    let noun = diff.kind().noun();
    let _ = writeln!(
        out,
        "{noun}: {new} new, {fixed} fixed, {unchanged} unchanged ({} -> {})",
        visible_line(&diff.old.file),
        visible_line(&diff.new.file)
    );
    match &diff.changes {
        DiffChanges::Findings { changes, .. } => {
            for (title, list) in [("new", &changes.new), ("fixed", &changes.fixed)] {
                if list.is_empty() {
                    continue;
                }
                let _ = writeln!(out, "\n{title} findings ({}):", list.len());
                for f in list {
                    write_finding_text(&mut out, f, lang);
                }
            }
            if !changes.unchanged.is_empty() {
                let _ = writeln!(out, "\nunchanged findings ({}):", changes.unchanged.len());
                for u in &changes.unchanged {
                    let f = &u.now;
                    let was = if u.before.severity == f.severity {
                        String::new()
                    } else {
                        format!(" (was {})", u.before.severity.as_str())
                    };
                    let _ = writeln!(
                        out,
                        "  {:<8}  {}  {}/{}  {}:{}:{}{was}",
                        f.severity.as_str(),
                        visible_line(&f.rule_id),
                        visible_line(&f.service),
                        visible_line(&f.flow),
                        visible_line(&f.file),
                        f.line,
                        f.column
                    );
                }
            }
        }
        DiffChanges::Chains(changes) => {
            for (title, list) in [("new", &changes.new), ("fixed", &changes.fixed)] {
                if list.is_empty() {
                    continue;
                }
                let _ = writeln!(out, "\n{title} chains ({}):", list.len());
                for c in list {
                    write_chain_text(&mut out, c, "");
                }
            }
            if !changes.unchanged.is_empty() {
                let _ = writeln!(out, "\nunchanged chains ({}):", changes.unchanged.len());
                for u in &changes.unchanged {
                    let was = if u.before.determined == u.now.determined {
                        String::new()
                    } else {
                        format!(" (was {})", chain_status(u.before.determined))
                    };
                    write_chain_text(&mut out, &u.now, &was);
                }
            }
        }
    }
    out.push('\n');
    for note in &diff.notes {
        let _ = writeln!(out, "note: {}", visible_line(note));
    }
    let _ = writeln!(out, "{}", visible_line(&diff.verdict()));
    out
}

fn write_finding_text(out: &mut String, f: &ReportFinding, lang: Lang) {
    let _ = writeln!(
        out,
        "  {:<8}  {}  {}/{}",
        f.severity.as_str(),
        visible_line(&f.rule_id),
        visible_line(&f.service),
        visible_line(&f.flow)
    );
    let _ = writeln!(
        out,
        "            --> {}:{}:{} ({})",
        visible_line(&f.file),
        f.line,
        f.column,
        visible_line(&f.path)
    );
    let _ = writeln!(out, "            {}", visible_line(lang.pick(&f.title)));
}

fn write_chain_text(out: &mut String, c: &ChainEntry, was: &str) {
    let _ = writeln!(
        out,
        "  {:<12}  {}  [{}]  {}{was}",
        chain_status(c.determined),
        visible_line(&c.id),
        visible_line(&c.attacker),
        visible_line(&source_text(&c.source))
    );
    let route: Vec<String> = c.route.iter().map(place_text).collect();
    let _ = writeln!(out, "                route: {}", route.join(" -> "));
    let _ = writeln!(
        out,
        "                chance per victim: {}; at risk: {}",
        chance_text(c.chance),
        visible_line(&at_risk_text(&c.at_risk))
    );
}

/// Text from a document in a Markdown table cell or paragraph: read as text, never as
/// markup, HTML or a link.
fn md(text: &str) -> String {
    link_free(&escape_markdown(text))
}

/// GitHub-flavoured Markdown, for a pull-request comment: counts, tables of new and fixed
/// findings or chains, the unchanged ones folded away, notes and the verdict.
pub fn render_markdown(diff: &Diff, lang: Lang) -> String {
    let mut out = String::new();
    let (new, fixed, unchanged) = diff.counts();
    let noun = diff.kind().noun();
    let _ = writeln!(out, "## authaudit diff: {noun}\n");
    let _ = writeln!(
        out,
        "Comparing {} (old) with {} (new): **{new} new**, {fixed} fixed, {unchanged} unchanged.\n",
        md(&diff.old.file),
        md(&diff.new.file)
    );
    let verdict = diff.verdict();
    let (head, rest) = verdict.split_once(": ").unwrap_or((&verdict, ""));
    let _ = writeln!(out, "**{}**: {}\n", md(head), md(rest));
    match &diff.changes {
        DiffChanges::Findings { changes, .. } => {
            let header =
                "| severity | rule | service / flow | where | title |\n|---|---|---|---|---|\n";
            let row = |f: &ReportFinding, was: &str| {
                format!(
                    "| {}{was} | {} | {} / {} | {}:{}:{} | {} |\n",
                    f.severity.as_str(),
                    md(&f.rule_id),
                    md(&f.service),
                    md(&f.flow),
                    md(&f.file),
                    f.line,
                    f.column,
                    md(lang.pick(&f.title))
                )
            };
            for (title, list) in [("New", &changes.new), ("Fixed", &changes.fixed)] {
                let _ = writeln!(out, "### {title} findings ({})\n", list.len());
                if list.is_empty() {
                    let _ = writeln!(out, "None.\n");
                    continue;
                }
                out.push_str(header);
                for f in list {
                    out.push_str(&row(f, ""));
                }
                out.push('\n');
            }
            if !changes.unchanged.is_empty() {
                let _ = writeln!(
                    out,
                    "<details>\n<summary>Unchanged findings ({})</summary>\n",
                    changes.unchanged.len()
                );
                out.push_str(header);
                for u in &changes.unchanged {
                    let was = if u.before.severity == u.now.severity {
                        String::new()
                    } else {
                        format!(" (was {})", u.before.severity.as_str())
                    };
                    out.push_str(&row(&u.now, &was));
                }
                out.push_str("\n</details>\n\n");
            }
        }
        DiffChanges::Chains(changes) => {
            let header = "| status | chain | attacker | money out | route | chance per victim | at risk |\n|---|---|---|---|---|---|---|\n";
            let row = |c: &ChainEntry, was: &str| {
                let route: Vec<String> = c
                    .route
                    .iter()
                    .map(|p| {
                        if p.flow.is_empty() {
                            format!("{} (account opening, not described)", md(&p.service))
                        } else {
                            format!("{} / {}", md(&p.service), md(&p.flow))
                        }
                    })
                    .collect();
                format!(
                    "| {}{was} | {} | {} | {} | {} | {} | {} |\n",
                    chain_status(c.determined),
                    md(&c.id),
                    md(&c.attacker),
                    md(&source_text(&c.source)),
                    route.join(" → "),
                    chance_text(c.chance),
                    md(&at_risk_text(&c.at_risk))
                )
            };
            for (title, list) in [("New", &changes.new), ("Fixed", &changes.fixed)] {
                let _ = writeln!(out, "### {title} chains ({})\n", list.len());
                if list.is_empty() {
                    let _ = writeln!(out, "None.\n");
                    continue;
                }
                out.push_str(header);
                for c in list {
                    out.push_str(&row(c, ""));
                }
                out.push('\n');
            }
            if !changes.unchanged.is_empty() {
                let _ = writeln!(
                    out,
                    "<details>\n<summary>Unchanged chains ({})</summary>\n",
                    changes.unchanged.len()
                );
                out.push_str(header);
                for u in &changes.unchanged {
                    let was = if u.before.determined == u.now.determined {
                        String::new()
                    } else {
                        format!(" (was {})", chain_status(u.before.determined))
                    };
                    out.push_str(&row(&u.now, &was));
                }
                out.push_str("\n</details>\n\n");
            }
        }
    }
    for note in &diff.notes {
        let _ = writeln!(out, "> Note: {}\n", md(note));
    }
    out
}

#[derive(Serialize)]
struct JsonDiff<'a> {
    version: u32,
    tool: &'static str,
    kind: Kind,
    inputs: JsonInputs<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fail_on: Option<&'static str>,
    summary: JsonSummary,
    notes: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    findings: Option<&'a Changes<ReportFinding, UnchangedFinding>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    chains: Option<&'a Changes<ChainEntry, UnchangedChain>>,
}

#[derive(Serialize)]
struct JsonInputs<'a> {
    old: &'a Side,
    new: &'a Side,
}

#[derive(Serialize)]
struct JsonSummary {
    new: usize,
    fixed: usize,
    unchanged: usize,
    /// What makes the exit code 1 (see [`Diff::failing`]).
    failing: usize,
    /// The newer document does not cover all of its input (exit code 2).
    incomplete: bool,
}

/// The versioned JSON of `diff --format json` (docs/json-output.md).
pub fn render_json(diff: &Diff) -> String {
    let (new, fixed, unchanged) = diff.counts();
    let (fail_on, findings, chains) = match &diff.changes {
        DiffChanges::Findings { fail_on, changes } => (Some(fail_on.as_str()), Some(changes), None),
        DiffChanges::Chains(changes) => (None, None, Some(changes)),
    };
    let json = JsonDiff {
        version: DIFF_JSON_VERSION,
        tool: "authaudit",
        kind: diff.kind(),
        inputs: JsonInputs {
            old: &diff.old,
            new: &diff.new,
        },
        fail_on,
        summary: JsonSummary {
            new,
            fixed,
            unchanged,
            failing: diff.failing(),
            incomplete: diff.incomplete(),
        },
        notes: &diff.notes,
        findings,
        chains,
    };
    let mut text = serde_json::to_string_pretty(&json)
        .unwrap_or_else(|e| panic!("diff is not serializable: {e}"));
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(rule: &str, path: &str, severity: Severity, line: u32) -> ReportFinding {
        ReportFinding {
            fingerprint: fingerprint_of(rule, "svc", "flow", path),
            rule_id: rule.to_owned(),
            pack: "p".to_owned(),
            severity,
            title: Text {
                en: format!("{rule} title"),
                ja: format!("{rule} 題"),
            },
            service: "svc".to_owned(),
            flow: "flow".to_owned(),
            file: "a.yaml".to_owned(),
            line,
            column: 3,
            path: path.to_owned(),
        }
    }

    #[test]
    fn a_finding_that_only_moved_is_unchanged_and_others_are_new_or_fixed() {
        let before = vec![
            finding("R-1", "flows.flow", Severity::High, 10),
            finding("R-2", "flows.flow", Severity::Low, 12),
        ];
        let after = vec![
            finding("R-1", "flows.flow", Severity::High, 40),
            finding("R-3", "flows.flow.steps[0]", Severity::Critical, 44),
        ];
        let changes = compare_findings(before, after);
        assert_eq!(changes.new.len(), 1);
        assert_eq!(changes.new[0].rule_id, "R-3");
        assert_eq!(changes.fixed.len(), 1);
        assert_eq!(changes.fixed[0].rule_id, "R-2");
        assert_eq!(changes.unchanged.len(), 1);
        assert_eq!(changes.unchanged[0].now.line, 40);
        assert_eq!(changes.unchanged[0].before.line, 10);
    }

    #[test]
    fn a_fingerprint_seen_twice_matches_as_often_as_both_sides_have_it() {
        let one = finding("R-1", "flows.flow", Severity::High, 1);
        let changes = compare_findings(vec![one.clone()], vec![one.clone(), one]);
        assert_eq!((changes.new.len(), changes.unchanged.len()), (1, 1));
        assert!(changes.fixed.is_empty());
    }

    fn chain(id: &str, determined: bool) -> ChainEntry {
        ChainEntry {
            id: id.to_owned(),
            attacker: "a".to_owned(),
            determined,
            chance: Some(1.0),
            source: ChainSource {
                kind: "balance".to_owned(),
                service: None,
            },
            route: Vec::new(),
            at_risk: AtRisk {
                amount: None,
                currency: None,
                basis: "no limit described".to_owned(),
            },
        }
    }

    #[test]
    fn a_chain_that_becomes_determined_fails_the_gate_like_a_new_one() {
        let side = |file: &str| Document {
            file: file.to_owned(),
            content: Content::Chains {
                attackers: vec!["a".to_owned()],
                bounds_reached: 0,
                chains: Vec::new(),
            },
            incomplete: Vec::new(),
        };
        let with = |file: &str, chains: Vec<ChainEntry>| {
            let mut document = side(file);
            if let Content::Chains { chains: c, .. } = &mut document.content {
                *c = chains;
            }
            document
        };
        let old = with("old.json", vec![chain("c1", false), chain("c2", true)]);
        let new = with(
            "new.json",
            vec![chain("c1", true), chain("c2", true), chain("c3", false)],
        );
        let diff = compare(old, new, Severity::High).unwrap();
        // c1 became determined; c3 is new but undetermined; c2 is as it was.
        assert_eq!(diff.failing(), 1);
        assert!(render_text(&diff, Lang::En).contains("(was undetermined)"));
    }

    #[test]
    fn json_errors_keep_their_position_without_repeating_it() {
        let error = parse("old.json", "{\n  \"findings\": [,]\n}").unwrap_err();
        assert_eq!((error.line, error.column), (Some(2), Some(16)));
        assert!(!error.message.contains("at line"), "{}", error.message);
    }
}
