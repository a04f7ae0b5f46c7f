//! The machine format. These structs are the contract (`"version": 1`); they are kept apart
//! from the internal types so refactoring never changes what users parse.

use super::audit::AuditReport;
use crate::diagnostic::Diagnostic;
use crate::load::PolicyTree;
use crate::model::format_day;
use serde::Serialize;

/// Version of the JSON output of `validate`.
pub const VERSION: u32 = 1;

/// Version of the JSON report of `check` and `report`: 2 added the cover, packs, digests, pass
/// rates, matrices, findings by service, every rule's result and input problems.
pub const REPORT_VERSION: u32 = 2;

#[derive(Serialize, schemars::JsonSchema)]
struct ValidationReport<'a> {
    version: u32,
    tool: &'static str,
    files: Vec<FileEntry<'a>>,
    discovery: Vec<JsonDiagnostic<'a>>,
    summary: Summary,
}

#[derive(Serialize, schemars::JsonSchema)]
struct FileEntry<'a> {
    path: &'a str,
    valid: bool,
    service: Option<&'a str>,
    diagnostics: Vec<JsonDiagnostic<'a>>,
}

#[derive(Serialize, schemars::JsonSchema)]
struct Summary {
    files: usize,
    valid: usize,
    invalid: usize,
    not_checked: usize,
    errors: usize,
}

#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct JsonDiagnostic<'a> {
    severity: &'static str,
    code: String,
    message: &'a str,
    file: &'a str,
    line: Option<u32>,
    column: Option<u32>,
    path: Option<String>,
    hint: Option<&'a str>,
    related: Vec<JsonRelated<'a>>,
}

#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct JsonRelated<'a> {
    file: &'a str,
    line: u32,
    column: u32,
    message: &'a str,
}

impl<'a> From<&'a Diagnostic> for JsonDiagnostic<'a> {
    fn from(d: &'a Diagnostic) -> Self {
        Self {
            severity: match d.severity {
                crate::diagnostic::Severity::Error => "error",
                crate::diagnostic::Severity::Warning => "warning",
                crate::diagnostic::Severity::Note => "note",
            },
            code: d.code.as_str(),
            message: &d.message,
            file: &d.file,
            line: d.span.map(|s| s.line),
            column: d.span.map(|s| s.column),
            path: d.path.as_ref().map(ToString::to_string),
            hint: d.hint.as_deref(),
            related: d
                .related
                .iter()
                .map(|r| JsonRelated {
                    file: &r.file,
                    line: r.span.line,
                    column: r.span.column,
                    message: &r.message,
                })
                .collect(),
        }
    }
}

pub fn render_validation(tree: &PolicyTree) -> String {
    let files = file_entries(tree);
    let invalid = files.iter().filter(|f| !f.valid).count();
    let report = ValidationReport {
        version: VERSION,
        tool: "authaudit",
        summary: Summary {
            files: files.len(),
            valid: files.len() - invalid,
            invalid,
            not_checked: tree.discovery.len(),
            errors: tree.discovery.len()
                + tree.files.iter().map(|f| f.error_count()).sum::<usize>(),
        },
        discovery: tree.discovery.iter().map(JsonDiagnostic::from).collect(),
        files,
    };
    let mut text = serde_json::to_string_pretty(&report)
        .unwrap_or_else(|e| panic!("validation report is not serializable: {e}"));
    text.push('\n');
    text
}

#[derive(Serialize, schemars::JsonSchema)]
struct CheckReport<'a> {
    version: u32,
    tool: &'static str,
    summary: CheckSummary<'a>,
    /// Cover, packs, digests, pass rates, matrices, findings by service, every rule's result
    /// and input problems: everything the HTML report shows.
    #[serde(flatten)]
    audit: &'a AuditReport,
    findings: Vec<JsonFinding<'a>>,
    files: Vec<FileEntry<'a>>,
    discovery: Vec<JsonDiagnostic<'a>>,
    evaluation_errors: Vec<JsonDiagnostic<'a>>,
    /// Warnings about the waivers file: expired waivers and waivers that match no finding
    /// (`waiver-expired`, `waiver-stale`), located at the waiver.
    waiver_diagnostics: Vec<JsonDiagnostic<'a>>,
}

#[derive(Serialize, schemars::JsonSchema)]
struct CheckSummary<'a> {
    files: usize,
    invalid: usize,
    packs_run: &'a [String],
    findings: usize,
    by_severity: std::collections::BTreeMap<&'static str, usize>,
    by_pack: std::collections::BTreeMap<&'a str, usize>,
    fail_on: &'static str,
    /// Open findings (neither waived nor baselined) at or above `fail_on`.
    at_or_above_fail_on: usize,
    /// Findings an active waiver covers.
    waived: usize,
    /// Findings the baseline records.
    baselined: usize,
    /// The day audited (`check --at`, default today).
    at: Option<String>,
    /// Rules of the packs run that were not in force on that day.
    not_in_force: Vec<JsonRuleRef<'a>>,
}

#[derive(Serialize, schemars::JsonSchema)]
struct JsonRuleRef<'a> {
    pack: &'a str,
    rule_id: &'a str,
}

#[derive(Serialize, schemars::JsonSchema)]
struct JsonFinding<'a> {
    rule_id: &'a str,
    pack: &'a str,
    severity: &'static str,
    title: &'a crate::rules::Text,
    message: &'a crate::rules::Text,
    file: &'a str,
    line: u32,
    column: u32,
    path: String,
    service: &'a str,
    flow: &'a str,
    citations: Vec<JsonCitation<'a>>,
    remediation: &'a str,
    /// When the rule was not yet in force on the policy's `as_of` day: the day the sources
    /// that make it apply took effect.
    effective_after_as_of: Option<String>,
    /// `open`, `waived` (an active waiver covers it; see `waiver_register`) or `baselined`
    /// (the baseline records it): only open findings count against `fail_on`.
    status: &'static str,
    /// The SARIF `partialFingerprints` value (`authaudit/v1`): a hash of rule, service, flow
    /// and YAML path, stable when edits move the finding's line. `authaudit diff` matches on it.
    fingerprint: String,
}

#[derive(Serialize, schemars::JsonSchema)]
struct JsonCitation<'a> {
    document: &'a str,
    document_title: &'a str,
    section: &'a str,
    paraphrase: &'a str,
    requirement: Option<&'a str>,
    /// "superseded by ID from DATE" when the cited document has been replaced.
    superseded: Option<&'a str>,
}

fn file_entries(tree: &PolicyTree) -> Vec<FileEntry<'_>> {
    tree.files
        .iter()
        .map(|f| FileEntry {
            path: &f.shown,
            valid: f.is_valid(),
            service: f
                .json
                .as_ref()
                .and_then(|j| j.pointer("/service/id"))
                .and_then(|v| v.as_str()),
            diagnostics: f.diagnostics.iter().map(JsonDiagnostic::from).collect(),
        })
        .collect()
}

/// `check --format json` when rule packs are refused: still JSON on stdout, with the problems.
pub fn render_refused_packs(diagnostics: &[crate::diagnostic::Diagnostic]) -> String {
    let problems: Vec<JsonDiagnostic<'_>> = diagnostics.iter().map(JsonDiagnostic::from).collect();
    let report = serde_json::json!({
        "version": REPORT_VERSION,
        "tool": "authaudit",
        "rule_pack_errors": problems,
    });
    let mut text = serde_json::to_string_pretty(&report)
        .unwrap_or_else(|e| panic!("refused-pack report is not serializable: {e}"));
    text.push('\n');
    text
}

/// The JSON Schema of the versioned JSON report (`authaudit schema --report`).
pub fn report_schema() -> serde_json::Value {
    let mut schema = serde_json::to_value(schemars::schema_for!(CheckReport<'static>))
        .unwrap_or_else(|e| panic!("schema of the JSON report is not JSON: {e}"));
    if let Some(object) = schema.as_object_mut() {
        object.insert(
            "$id".to_owned(),
            serde_json::Value::from("https://authaudit.invalid/schema/report-v2.json"),
        );
    }
    schema
}

/// The versioned JSON report (`check --format json`, `report --format json`).
pub fn render_report(outcome: &super::check::CheckOutcome<'_>, audit: &AuditReport) -> String {
    let findings = &outcome.evaluation.findings;
    let mut by_severity = std::collections::BTreeMap::new();
    for severity in crate::rules::Severity::ALL {
        by_severity.insert(
            severity.as_str(),
            findings.iter().filter(|f| f.severity == severity).count(),
        );
    }
    let mut by_pack = std::collections::BTreeMap::new();
    for finding in findings {
        *by_pack.entry(finding.pack.as_str()).or_insert(0) += 1;
    }
    let report = CheckReport {
        version: REPORT_VERSION,
        tool: "authaudit",
        audit,
        summary: CheckSummary {
            files: outcome.tree.files.len(),
            invalid: outcome.tree.files.iter().filter(|f| !f.is_valid()).count(),
            packs_run: &outcome.packs_run,
            findings: findings.len(),
            by_severity,
            by_pack,
            fail_on: outcome.fail_on.as_str(),
            at_or_above_fail_on: outcome.failing(),
            waived: outcome.gate.waived(),
            baselined: outcome.gate.baselined(),
            at: outcome.evaluation.at.map(format_day),
            not_in_force: outcome
                .evaluation
                .not_in_force
                .iter()
                .map(|(pack, rule_id)| JsonRuleRef { pack, rule_id })
                .collect(),
        },
        findings: findings
            .iter()
            .enumerate()
            .map(|(index, f)| JsonFinding {
                rule_id: &f.rule_id,
                pack: &f.pack,
                severity: f.severity.as_str(),
                title: &f.title,
                message: &f.message,
                file: &f.file,
                line: f.span.line,
                column: f.span.column,
                path: f.path.to_string(),
                service: &f.service,
                flow: &f.flow,
                citations: f
                    .citations
                    .iter()
                    .map(|cited| JsonCitation {
                        document: &cited.citation.document,
                        document_title: &cited.title,
                        section: &cited.citation.section,
                        paraphrase: &cited.citation.paraphrase,
                        requirement: cited.citation.requirement.as_deref(),
                        superseded: cited.superseded.as_deref(),
                    })
                    .collect(),
                remediation: &f.remediation,
                effective_after_as_of: f.effective_after_as_of.map(format_day),
                status: outcome.gate.disposition(index).as_str(),
                fingerprint: super::sarif::fingerprint(f),
            })
            .collect(),
        files: file_entries(outcome.tree),
        discovery: outcome
            .tree
            .discovery
            .iter()
            .map(JsonDiagnostic::from)
            .collect(),
        evaluation_errors: outcome
            .evaluation
            .errors
            .iter()
            .map(JsonDiagnostic::from)
            .collect(),
        waiver_diagnostics: outcome
            .gate
            .diagnostics
            .iter()
            .map(JsonDiagnostic::from)
            .collect(),
    };
    let mut text = serde_json::to_string_pretty(&report)
        .unwrap_or_else(|e| panic!("check report is not serializable: {e}"));
    text.push('\n');
    text
}
