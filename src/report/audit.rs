//! The audit report as data: everything the Markdown, HTML and JSON reports show, built once
//! from what `check` computed (findings, every rule's result, the inputs and packs) plus the
//! digests a reviewer checks it against. Renderers only lay this out; none recomputes a
//! judgment.

use super::check::{CheckOutcome, Lang};
use crate::evaluate::{Finding, Outcome};
use crate::model::{format_day, name_of};
use crate::rules::{RulePack, RuleSet, Severity, Theme};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};

/// Scope and provenance: who audited what, when, with which tool.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Cover {
    /// Organisation named with `--org`.
    pub organisation: Option<String>,
    /// The report's date (`--date`, `SOURCE_DATE_EPOCH`, else today), `YYYY-MM-DD`.
    pub date: String,
    /// The day the rules in force were taken from (`--at`).
    pub rules_in_force_on: Option<String>,
    pub tool: String,
    pub tool_version: String,
    /// `en` or `ja`.
    pub lang: String,
    pub packs_run: Vec<String>,
    pub fail_on: String,
    /// Findings at or above `fail_on` (what makes `check` and `report` exit 1).
    pub failing: usize,
    /// Whether every input file was valid; a report over broken input never looks clean.
    pub inputs_valid: bool,
}

/// The SHA-256 of one input file or rule-pack file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FileDigest {
    pub path: String,
    /// Lower-case hex; `null` when the file could not be read.
    pub sha256: Option<String>,
}

/// The digests a reviewer recomputes with `report --verify`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Digests {
    pub inputs: Vec<FileDigest>,
    pub rule_packs: Vec<FileDigest>,
    /// SHA-256 over every line `kind path sha256` of the two lists, in order: one value that
    /// changes when any input or pack does.
    pub combined: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PackInfo {
    pub id: String,
    pub title: String,
    pub version: String,
    pub issuer: String,
    pub sources: Vec<SourceInfo>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct SourceInfo {
    pub id: String,
    pub title: String,
    pub issuer: Option<String>,
    pub edition: Option<String>,
    pub date: String,
    pub effective: Option<String>,
    pub until: Option<String>,
    pub superseded_by: Option<String>,
    pub reference: Option<String>,
    pub url: Option<String>,
}

/// One of the most serious risks: a finding's title, severity and service.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Risk {
    pub title: String,
    pub severity: String,
    pub service: String,
    pub rule_id: String,
}

/// Counts of rule results for one pack or service.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct PassRate {
    pub name: String,
    pub passed: usize,
    pub failed: usize,
    pub not_applicable: usize,
    pub not_in_force: usize,
    /// Passed out of passed + failed, in percent (rounded down); `null` when nothing ran.
    pub percent: Option<u32>,
}

/// One cell of the compliance matrix: the worst severity among the findings there.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct MatrixCell {
    pub column: String,
    /// `critical` ... `info`, `pass` when rules ran and none fired, `none` when no rule ran.
    pub worst: String,
    pub findings: usize,
    pub passed: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct MatrixRow {
    pub service: String,
    pub cells: Vec<MatrixCell>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct CitationInfo {
    pub document: String,
    pub document_title: String,
    pub section: String,
    pub paraphrase: String,
    pub requirement: Option<String>,
    /// The document's effective date.
    pub effective: Option<String>,
    pub superseded: Option<String>,
}

/// One audited service: the report's scope.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ServiceInfo {
    pub id: String,
    /// The display name from its policy (may be in any script).
    pub name: String,
    pub kind: String,
    pub jurisdiction: String,
    pub as_of: String,
    pub file: String,
    /// Free text from the policy (escape before showing).
    pub description: Option<String>,
    pub flows: Vec<FlowInfo>,
}

/// One flow of an audited service.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct FlowInfo {
    pub id: String,
    pub kind: String,
    /// Free text from the policy (escape before showing).
    pub description: Option<String>,
}

/// A finding with its evidence.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct FindingInfo {
    pub rule_id: String,
    pub pack: String,
    pub severity: String,
    pub theme: Option<String>,
    pub title: String,
    pub message: String,
    pub file: String,
    pub line: u32,
    pub column: u32,
    pub path: String,
    /// The policy lines around the finding, as written (escape before showing).
    pub snippet: Vec<SnippetLine>,
    pub citations: Vec<CitationInfo>,
    /// Markdown.
    pub rationale: String,
    /// Markdown.
    pub remediation: String,
    pub effective_after_as_of: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct SnippetLine {
    pub number: u32,
    pub text: String,
    /// Whether the finding points at this line.
    pub marked: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct FlowFindings {
    pub flow: String,
    pub findings: Vec<FindingInfo>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ServiceFindings {
    pub service: String,
    /// The service's display name from its policy (may be in any script).
    pub name: String,
    pub file: String,
    pub flows: Vec<FlowFindings>,
}

/// One rule judged against one flow, for the appendix.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ResultInfo {
    pub rule_id: String,
    pub pack: String,
    pub service: String,
    pub flow: String,
    /// `pass`, `fail`, `not_applicable`, `not_in_force` or `error`.
    pub result: String,
    /// Why the rule did not apply, where it did not.
    pub reason: Option<String>,
}

/// An input file that could not be checked or is invalid.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct InputProblem {
    pub file: String,
    pub line: Option<u32>,
    pub column: Option<u32>,
    pub code: String,
    pub message: String,
}

/// The `id` of the HTML element that carries the verification data.
pub const VERIFICATION_ID: &str = "authaudit-verification";

/// What `report --verify` recomputes and compares: the digests, the packs and day audited,
/// and one key per finding (rule, service, flow, YAML path: not the line, which edits move).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Verification {
    pub combined: String,
    pub inputs: Vec<FileDigest>,
    pub rule_packs: Vec<FileDigest>,
    pub packs_run: Vec<String>,
    pub rules_in_force_on: Option<String>,
    pub findings: Vec<String>,
}

/// The verification data of an audit.
pub fn verification(outcome: &CheckOutcome<'_>, set: &RuleSet) -> Verification {
    let digests = digests(outcome, set);
    let mut findings: Vec<String> = outcome
        .evaluation
        .findings
        .iter()
        .map(|f| format!("{} {}/{} {}", f.rule_id, f.service, f.flow, f.path))
        .collect();
    findings.sort();
    findings.dedup();
    Verification {
        combined: digests.combined,
        inputs: digests.inputs,
        rule_packs: digests.rule_packs,
        packs_run: outcome.packs_run.clone(),
        rules_in_force_on: outcome.evaluation.at.map(format_day),
        findings,
    }
}

impl AuditReport {
    /// The verification data as JSON that is safe inside an HTML `<script>` data block
    /// (`<` escaped, so no `</script>` can end it early).
    pub fn verification_block(&self) -> String {
        serde_json::to_string(&self.verification)
            .unwrap_or_default()
            .replace('<', "\\u003c")
    }
}

/// The whole report.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct AuditReport {
    pub cover: Cover,
    pub packs: Vec<PackInfo>,
    pub digests: Digests,
    /// Every valid policy's service and flows, in input order.
    pub services: Vec<ServiceInfo>,
    /// Finding counts by severity, most severe first: (severity, count).
    pub by_severity: Vec<(String, usize)>,
    pub pass_rate_by_pack: Vec<PassRate>,
    pub pass_rate_by_service: Vec<PassRate>,
    /// The three most serious risks (most severe first, one per rule): the findings' own
    /// titles, not invented prose.
    pub top_risks: Vec<Risk>,
    /// Column names of the two matrices.
    pub pack_columns: Vec<String>,
    pub theme_columns: Vec<String>,
    pub matrix_by_pack: Vec<MatrixRow>,
    pub matrix_by_theme: Vec<MatrixRow>,
    pub findings_by_service: Vec<ServiceFindings>,
    pub results: Vec<ResultInfo>,
    pub input_problems: Vec<InputProblem>,
    /// What `report --verify` compares (also embedded in the HTML report).
    pub verification: Verification,
}

/// SHA-256 in lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The combined digest over both lists.
pub fn combined_digest(inputs: &[FileDigest], packs: &[FileDigest]) -> String {
    let mut text = String::new();
    for (kind, list) in [("input", inputs), ("pack", packs)] {
        for file in list {
            let sha = file.sha256.as_deref().unwrap_or("unreadable");
            text.push_str(&format!("{kind} {} {sha}\n", file.path));
        }
    }
    sha256_hex(text.as_bytes())
}

/// Digests of the loaded input files (their text as read) and of every pack file.
pub fn digests(outcome: &CheckOutcome<'_>, set: &RuleSet) -> Digests {
    let inputs: Vec<FileDigest> = outcome
        .tree
        .files
        .iter()
        .map(|f| FileDigest {
            path: f.shown.clone(),
            sha256: f.text.as_ref().map(|t| sha256_hex(t.as_bytes())),
        })
        .collect();
    let mut rule_packs: Vec<FileDigest> = set
        .texts
        .iter()
        .map(|t| FileDigest {
            path: t.shown.clone(),
            sha256: Some(sha256_hex(t.text.as_bytes())),
        })
        .collect();
    rule_packs.sort_by(|a, b| a.path.cmp(&b.path));
    let combined = combined_digest(&inputs, &rule_packs);
    Digests {
        inputs,
        rule_packs,
        combined,
    }
}

/// Options that only the report has.
pub struct ReportOptions {
    pub organisation: Option<String>,
    /// `YYYY-MM-DD`.
    pub date: String,
}

/// Builds the report from what `check` computed.
pub fn build(outcome: &CheckOutcome<'_>, set: &RuleSet, options: &ReportOptions) -> AuditReport {
    let evaluation = outcome.evaluation;
    let lang = outcome.lang;
    let packs_run: Vec<&RulePack> = set
        .packs
        .iter()
        .filter(|p| outcome.packs_run.contains(&p.manifest.id))
        .collect();
    let themes_of: BTreeMap<&str, Option<Theme>> = set
        .rules()
        .map(|(_, r)| (r.spec.id.as_str(), r.spec.theme))
        .collect();
    let theme_name = |rule: &str| {
        themes_of
            .get(rule)
            .copied()
            .flatten()
            .map_or_else(|| "other".to_owned(), Theme::as_str)
    };
    let services: Vec<(String, String, String)> = outcome
        .tree
        .policies()
        .map(|(f, p)| {
            (
                p.service.id.clone(),
                p.service.name.clone(),
                f.shown.clone(),
            )
        })
        .collect();
    let mut findings: Vec<&Finding> = evaluation.findings.iter().collect();
    findings.sort_by(|a, b| {
        (b.severity, &a.service, &a.flow, &a.rule_id)
            .cmp(&(a.severity, &b.service, &b.flow, &b.rule_id))
    });
    let top_risks: Vec<Risk> = {
        let mut seen = BTreeSet::new();
        findings
            .iter()
            .filter(|f| seen.insert(f.rule_id.clone()))
            .take(3)
            .map(|f| Risk {
                title: lang.pick(&f.title).to_owned(),
                severity: f.severity.as_str().to_owned(),
                service: f.service.clone(),
                rule_id: f.rule_id.clone(),
            })
            .collect()
    };
    let pack_columns: Vec<String> = packs_run.iter().map(|p| p.manifest.id.clone()).collect();
    let theme_columns: Vec<String> = Theme::ALL.iter().map(|t| t.as_str()).collect();
    let matrix = |column_of: &dyn Fn(&str, &str) -> String, columns: &[String]| {
        services
            .iter()
            .map(|(service, _, _)| MatrixRow {
                service: service.clone(),
                cells: columns
                    .iter()
                    .map(|column| {
                        let here: Vec<&Finding> = evaluation
                            .findings
                            .iter()
                            .filter(|f| &f.service == service)
                            .filter(|f| &column_of(&f.pack, &f.rule_id) == column)
                            .collect();
                        let passed = evaluation
                            .results
                            .iter()
                            .filter(|r| &r.service == service && r.outcome == Outcome::Pass)
                            .filter(|r| &column_of(&r.pack, &r.rule_id) == column)
                            .count();
                        let worst = here.iter().map(|f| f.severity).max();
                        MatrixCell {
                            column: column.clone(),
                            worst: match (worst, passed) {
                                (Some(s), _) => s.as_str().to_owned(),
                                (None, 0) => "none".to_owned(),
                                (None, _) => "pass".to_owned(),
                            },
                            findings: here.len(),
                            passed,
                        }
                    })
                    .collect(),
            })
            .collect::<Vec<_>>()
    };
    let matrix_by_pack = matrix(&|pack, _| pack.to_owned(), &pack_columns);
    let matrix_by_theme = matrix(&|_, rule| theme_name(rule), &theme_columns);
    AuditReport {
        cover: Cover {
            organisation: options.organisation.clone(),
            date: options.date.clone(),
            rules_in_force_on: evaluation.at.map(format_day),
            tool: "authaudit".to_owned(),
            tool_version: env!("CARGO_PKG_VERSION").to_owned(),
            lang: match lang {
                Lang::En => "en",
                Lang::Ja => "ja",
            }
            .to_owned(),
            packs_run: outcome.packs_run.clone(),
            fail_on: outcome.fail_on.as_str().to_owned(),
            failing: outcome.failing(),
            inputs_valid: outcome.tree.discovery.is_empty()
                && outcome.tree.files.iter().all(|f| f.is_valid()),
        },
        packs: packs_run.iter().map(|p| pack_info(p)).collect(),
        digests: digests(outcome, set),
        services: service_infos(outcome),
        by_severity: Severity::ALL
            .iter()
            .map(|s| {
                let n = evaluation
                    .findings
                    .iter()
                    .filter(|f| f.severity == *s)
                    .count();
                (s.as_str().to_owned(), n)
            })
            .collect(),
        pass_rate_by_pack: pass_rates(outcome, |r| r.pack.clone()),
        pass_rate_by_service: pass_rates(outcome, |r| r.service.clone()),
        top_risks,
        pack_columns,
        theme_columns,
        matrix_by_pack,
        matrix_by_theme,
        findings_by_service: group_findings(outcome, set, &services, &theme_name),
        results: evaluation
            .results
            .iter()
            .map(|r| ResultInfo {
                rule_id: r.rule_id.clone(),
                pack: r.pack.clone(),
                service: r.service.clone(),
                flow: r.flow.clone(),
                result: r.outcome.as_str().to_owned(),
                reason: match &r.outcome {
                    Outcome::NotApplicable(why) => Some(why.clone()),
                    Outcome::NotInForce => {
                        Some("none of its sources applied on the day audited".to_owned())
                    }
                    _ => None,
                },
            })
            .collect(),
        input_problems: input_problems(outcome),
        verification: verification(outcome, set),
    }
}

fn service_infos(outcome: &CheckOutcome<'_>) -> Vec<ServiceInfo> {
    outcome
        .tree
        .policies()
        .map(|(file, policy)| ServiceInfo {
            id: policy.service.id.clone(),
            name: policy.service.name.clone(),
            kind: name_of(&policy.service.kind),
            jurisdiction: policy.service.jurisdiction.clone(),
            as_of: policy.service.as_of.clone(),
            file: file.shown.clone(),
            description: policy.service.description.clone(),
            flows: policy
                .flows
                .iter()
                .map(|(id, flow)| FlowInfo {
                    id: id.clone(),
                    kind: name_of(&flow.kind),
                    description: flow.description.clone(),
                })
                .collect(),
        })
        .collect()
}

fn pack_info(pack: &RulePack) -> PackInfo {
    let m = &pack.manifest;
    PackInfo {
        id: m.id.clone(),
        title: m.title.en.clone(),
        version: m.version.clone(),
        issuer: m.issuer.clone(),
        sources: m
            .sources
            .iter()
            .map(|s| SourceInfo {
                id: s.id.clone(),
                title: s.title.clone(),
                issuer: s.issuer.clone(),
                edition: s.edition.clone(),
                date: s.date.clone(),
                effective: s.effective.clone(),
                until: s.until.clone(),
                superseded_by: s.superseded_by.clone(),
                reference: s.reference.clone(),
                url: s.url.clone(),
            })
            .collect(),
    }
}

fn pass_rates(
    outcome: &CheckOutcome<'_>,
    key: impl Fn(&crate::evaluate::RuleResult) -> String,
) -> Vec<PassRate> {
    let mut rates: BTreeMap<String, PassRate> = BTreeMap::new();
    for result in &outcome.evaluation.results {
        let name = key(result);
        let rate = rates.entry(name.clone()).or_insert_with(|| PassRate {
            name,
            ..PassRate::default()
        });
        match result.outcome {
            Outcome::Pass => rate.passed += 1,
            Outcome::Fail | Outcome::Error => rate.failed += 1,
            Outcome::NotApplicable(_) => rate.not_applicable += 1,
            Outcome::NotInForce => rate.not_in_force += 1,
        }
    }
    rates
        .into_values()
        .map(|mut rate| {
            let ran = rate.passed + rate.failed;
            rate.percent = (ran > 0).then(|| u32::try_from(rate.passed * 100 / ran).unwrap_or(100));
            rate
        })
        .collect()
}

fn group_findings(
    outcome: &CheckOutcome<'_>,
    set: &RuleSet,
    services: &[(String, String, String)],
    theme_name: &dyn Fn(&str) -> String,
) -> Vec<ServiceFindings> {
    let lang = outcome.lang;
    services
        .iter()
        .filter_map(|(service, name, file)| {
            let mine: Vec<&Finding> = outcome
                .evaluation
                .findings
                .iter()
                .filter(|f| &f.service == service)
                .collect();
            if mine.is_empty() {
                return None;
            }
            let flows: BTreeSet<&str> = mine.iter().map(|f| f.flow.as_str()).collect();
            Some(ServiceFindings {
                service: service.clone(),
                name: name.clone(),
                file: file.clone(),
                flows: flows
                    .into_iter()
                    .map(|flow| FlowFindings {
                        flow: flow.to_owned(),
                        findings: mine
                            .iter()
                            .filter(|f| f.flow == flow)
                            .map(|f| finding_info(outcome, set, f, lang, theme_name))
                            .collect(),
                    })
                    .collect(),
            })
        })
        .collect()
}

fn finding_info(
    outcome: &CheckOutcome<'_>,
    set: &RuleSet,
    f: &Finding,
    lang: Lang,
    theme_name: &dyn Fn(&str) -> String,
) -> FindingInfo {
    let rule = set.rule(&f.rule_id);
    let pack = rule.map(|(p, _)| p);
    FindingInfo {
        rule_id: f.rule_id.clone(),
        pack: f.pack.clone(),
        severity: f.severity.as_str().to_owned(),
        theme: rule
            .and_then(|(_, r)| r.spec.theme)
            .map(|_| theme_name(&f.rule_id)),
        title: lang.pick(&f.title).to_owned(),
        message: lang.pick(&f.message).to_owned(),
        file: f.file.clone(),
        line: f.span.line,
        column: f.span.column,
        path: f.path.to_string(),
        snippet: snippet(outcome.tree.text(&f.file), f.span.line),
        citations: f
            .citations
            .iter()
            .map(|c| CitationInfo {
                document: c.citation.document.clone(),
                document_title: c.title.clone(),
                section: c.citation.section.clone(),
                paraphrase: c.citation.paraphrase.clone(),
                requirement: c.citation.requirement.clone(),
                effective: pack
                    .and_then(|p| p.source(&c.citation.document))
                    .and_then(|s| s.effective.clone()),
                superseded: c.superseded.clone(),
            })
            .collect(),
        rationale: rule
            .map(|(_, r)| r.spec.rationale.clone())
            .unwrap_or_default(),
        remediation: f.remediation.clone(),
        effective_after_as_of: f.effective_after_as_of.map(format_day),
    }
}

/// The finding's line with one line of context either side.
fn snippet(text: Option<&str>, line: u32) -> Vec<SnippetLine> {
    let Some(text) = text else {
        return Vec::new();
    };
    let first = line.saturating_sub(1).max(1);
    text.lines()
        .enumerate()
        .map(|(i, l)| (u32::try_from(i + 1).unwrap_or(u32::MAX), l))
        .skip_while(|(n, _)| *n < first)
        .take_while(|(n, _)| *n <= line.saturating_add(1))
        .map(|(number, l)| SnippetLine {
            number,
            text: l.to_owned(),
            marked: number == line,
        })
        .collect()
}

fn input_problems(outcome: &CheckOutcome<'_>) -> Vec<InputProblem> {
    outcome
        .tree
        .discovery
        .iter()
        .chain(outcome.tree.files.iter().flat_map(|f| &f.diagnostics))
        .filter(|d| d.is_error())
        .map(|d| InputProblem {
            file: d.file.clone(),
            line: d.span.map(|s| s.line),
            column: d.span.map(|s| s.column),
            code: d.code.as_str(),
            message: d.message.clone(),
        })
        .collect()
}
