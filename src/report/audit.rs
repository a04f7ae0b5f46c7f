//! The audit report as data: everything the Markdown, HTML and JSON reports show, built once
//! from what `check` computed (findings, every rule's result, the inputs and packs) plus the
//! digests a reviewer checks it against. Renderers only lay this out; none recomputes a
//! judgment.

use super::check::{CheckOutcome, Lang};
use super::lines::LineIndex;
use crate::evaluate::{Finding, Outcome};
use crate::load::PolicyTree;
use crate::model::{format_day, name_of};
use crate::rules::{Rule, RulePack, RuleSet, Severity, Theme};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

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
    /// Open findings at or above `fail_on` (what makes `check` and `report` exit 1): waived
    /// and baselined findings are not counted.
    pub failing: usize,
    /// Findings an active waiver covers (listed in the waiver register).
    #[serde(default)]
    pub waived: usize,
    /// Findings the baseline records.
    #[serde(default)]
    pub baselined: usize,
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
    /// `open`, `waived` (an active waiver covers it) or `baselined` (the baseline records it):
    /// only open findings count against `fail_on`.
    #[serde(default = "open")]
    pub status: String,
    /// When an earlier finding of the same flow is about the same element (same file, line
    /// and column, same status): its rule id. Markdown and HTML show that finding with every
    /// rule on the element and leave this one out; JSON keeps one entry per rule.
    #[serde(default)]
    pub shown_with: Option<String>,
    /// On the first finding of an element: the other rules that flag it, with their
    /// citations.
    #[serde(default)]
    pub same_element: Vec<RelatedRule>,
}

/// Another rule that flags the element a finding is about.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RelatedRule {
    pub rule_id: String,
    pub pack: String,
    pub severity: String,
    pub title: String,
    pub citations: Vec<CitationInfo>,
    /// Markdown.
    pub remediation: String,
    pub effective_after_as_of: Option<String>,
}

/// Marks the findings of one flow that are about the same element as an earlier one (same
/// file, position, YAML path and status; the list comes sorted by position, most severe
/// first): the first lists the others in `same_element`, the others name it in `shown_with`.
/// Findings at the flow itself (`flow_path`) are about different things and stay apart, as in
/// the terminal.
fn group_same_element(flow_path: &str, mut findings: Vec<FindingInfo>) -> Vec<FindingInfo> {
    let mut lead = 0;
    for i in 1..findings.len() {
        let key = |f: &FindingInfo| {
            (
                f.file.clone(),
                f.line,
                f.column,
                f.path.clone(),
                f.status.clone(),
            )
        };
        if findings[lead].path == flow_path || key(&findings[i]) != key(&findings[lead]) {
            lead = i;
            continue;
        }
        let other = &findings[i];
        let related = RelatedRule {
            rule_id: other.rule_id.clone(),
            pack: other.pack.clone(),
            severity: other.severity.clone(),
            title: other.title.clone(),
            citations: other.citations.clone(),
            remediation: other.remediation.clone(),
            effective_after_as_of: other.effective_after_as_of.clone(),
        };
        let lead_id = findings[lead].rule_id.clone();
        findings[lead].same_element.push(related);
        findings[i].shown_with = Some(lead_id);
    }
    findings
}

fn open() -> String {
    "open".to_owned()
}

/// A finding as the waiver register and the baseline list it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct FindingRef {
    pub rule_id: String,
    pub severity: String,
    pub service: String,
    pub flow: String,
    pub file: String,
    pub line: u32,
    pub column: u32,
    pub path: String,
}

/// One waiver of the register, with its state on the report's date.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct WaiverInfo {
    pub rule_id: String,
    pub service: String,
    /// `null` when the waiver covers every flow of the service.
    pub flow: Option<String>,
    /// Free text from the waivers file (escape before showing).
    pub justification: String,
    pub approver: String,
    pub ticket: Option<String>,
    /// `YYYY-MM-DD`.
    pub created: String,
    /// The last day the waiver applies, `YYYY-MM-DD`.
    pub expires: String,
    /// `active` (in force, covering findings), `expired` (past `expires`: it waives nothing
    /// and its findings count again) or `stale` (in force, matching no finding).
    pub state: String,
    /// Where the waiver is written.
    pub file: String,
    pub line: u32,
    pub column: u32,
    /// The findings it waives (active) or no longer waives (expired).
    pub findings: Vec<FindingRef>,
}

/// The baseline a run used.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct BaselineInfo {
    pub file: String,
    /// Fingerprints the baseline records.
    pub recorded: usize,
    /// Fingerprints it records that no finding of this run has (fixed since it was written).
    pub gone: usize,
    /// The findings of this run it records (not counted against `fail_on`).
    pub findings: Vec<FindingRef>,
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
    /// The waivers file used (`--waivers`, `waivers` in authaudit.toml), if any.
    #[serde(default)]
    pub waivers_file: Option<String>,
    /// Every waiver of that file, in file order, with its state and findings.
    #[serde(default)]
    pub waiver_register: Vec<WaiverInfo>,
    /// The baseline used (`--baseline`, `check --write-baseline`), if any.
    #[serde(default)]
    pub baseline: Option<BaselineInfo>,
    /// What `report --verify` compares (also embedded in the HTML report).
    pub verification: Verification,
    /// The attack-path analysis of the tree under the bundled attacker profiles, for the
    /// Markdown and HTML reports (`paths --format json` is its machine form; the JSON report
    /// leaves it out).
    #[serde(skip)]
    #[schemars(skip)]
    pub attack_paths: crate::report::attack_paths::AttackPathsView,
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
///
/// Every lookup (a finding's rule, its column, its file's text, a service's findings) goes
/// through an index built once here, so the cost is linear in findings and rule results, not
/// in their product with services, columns or files.
pub fn build(outcome: &CheckOutcome<'_>, set: &RuleSet, options: &ReportOptions) -> AuditReport {
    let evaluation = outcome.evaluation;
    let lang = outcome.lang;
    let packs_run: Vec<&RulePack> = set
        .packs
        .iter()
        .filter(|p| outcome.packs_run.contains(&p.manifest.id))
        .collect();
    let rules = RuleIndex::new(set);
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
    let pack_column = column_index(&pack_columns);
    let theme_column = column_index(&theme_columns);
    let matrix_by_pack = matrix(outcome, &services, &pack_columns, &|pack, _| {
        pack_column.get(pack).copied()
    });
    let matrix_by_theme = matrix(outcome, &services, &theme_columns, &|_, rule| {
        theme_column.get(rules.theme_name(rule)).copied()
    });
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
            waived: outcome.gate.waived(),
            baselined: outcome.gate.baselined(),
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
        pass_rate_by_pack: pass_rates(outcome, |r| &r.pack),
        pass_rate_by_service: pass_rates(outcome, |r| &r.service),
        top_risks,
        pack_columns,
        theme_columns,
        matrix_by_pack,
        matrix_by_theme,
        findings_by_service: group_findings(outcome, &rules, &services),
        results: evaluation
            .results
            .iter()
            .map(|r| ResultInfo {
                rule_id: r.rule_id.to_string(),
                pack: r.pack.to_string(),
                service: r.service.to_string(),
                flow: r.flow.to_string(),
                result: r.outcome.as_str().to_owned(),
                reason: match &r.outcome {
                    Outcome::NotApplicable(why) => Some(why.to_string()),
                    Outcome::NotInForce => {
                        Some("none of its sources applied on the day audited".to_owned())
                    }
                    _ => None,
                },
            })
            .collect(),
        input_problems: input_problems(outcome),
        waivers_file: outcome.gate.waivers_file.clone(),
        waiver_register: waiver_register(outcome),
        baseline: baseline_info(outcome),
        verification: verification(outcome, set),
        attack_paths: attack_paths(outcome.tree),
    }
}

/// The rules of a set by id, looked up once per finding or result instead of by a scan.
struct RuleIndex<'a> {
    /// By id as written; a later rule of the same id wins, as when collecting into a map.
    themes: HashMap<&'a str, String>,
    /// By id in ASCII lower case; the first rule of an id wins, like [`RuleSet::rule`].
    rules: HashMap<String, (&'a RulePack, &'a Rule)>,
}

impl<'a> RuleIndex<'a> {
    fn new(set: &'a RuleSet) -> Self {
        let mut themes = HashMap::new();
        let mut rules = HashMap::new();
        for (pack, rule) in set.rules() {
            let theme = rule
                .spec
                .theme
                .map_or_else(|| "other".to_owned(), Theme::as_str);
            themes.insert(rule.spec.id.as_str(), theme);
            rules
                .entry(rule.spec.id.to_ascii_lowercase())
                .or_insert((pack, rule));
        }
        Self { themes, rules }
    }

    /// The theme column of a rule: its theme's name, `other` without one or for an unknown id.
    fn theme_name(&self, rule: &str) -> &str {
        self.themes.get(rule).map_or("other", String::as_str)
    }

    fn rule(&self, id: &str) -> Option<(&'a RulePack, &'a Rule)> {
        self.rules.get(&id.to_ascii_lowercase()).copied()
    }
}

/// Each column's position by name (the first, should a name repeat).
fn column_index(columns: &[String]) -> HashMap<&str, usize> {
    let mut index = HashMap::new();
    for (i, column) in columns.iter().enumerate() {
        index.entry(column.as_str()).or_insert(i);
    }
    index
}

/// What one matrix cell counts.
#[derive(Clone, Copy, Default)]
struct Tally {
    worst: Option<Severity>,
    findings: usize,
    passed: usize,
}

/// The tally of `service` in `column`, its row of `width` cells made on first use.
/// The tally of `service` in `column`; only services with a row have one.
fn cell<'t>(
    tallies: &'t mut HashMap<&str, Vec<Tally>>,
    service: &str,
    column: usize,
) -> Option<&'t mut Tally> {
    tallies.get_mut(service)?.get_mut(column)
}

/// One row per service and one cell per column: the findings and passed results of that
/// service whose (pack, rule) `column_of` puts in that column. One pass over the findings and
/// one over the results, tallied by service id.
fn matrix(
    outcome: &CheckOutcome<'_>,
    services: &[(String, String, String)],
    columns: &[String],
    column_of: &dyn Fn(&str, &str) -> Option<usize>,
) -> Vec<MatrixRow> {
    let evaluation = outcome.evaluation;
    let width = columns.len();
    let mut tallies: HashMap<&str, Vec<Tally>> = services
        .iter()
        .map(|(service, _, _)| (service.as_str(), vec![Tally::default(); width]))
        .collect();
    for finding in &evaluation.findings {
        if let Some(column) = column_of(&finding.pack, &finding.rule_id)
            && let Some(tally) = cell(&mut tallies, &finding.service, column)
        {
            tally.findings += 1;
            tally.worst = tally.worst.max(Some(finding.severity));
        }
    }
    for result in evaluation
        .results
        .iter()
        .filter(|r| r.outcome == Outcome::Pass)
    {
        if let Some(column) = column_of(&result.pack, &result.rule_id)
            && let Some(tally) = cell(&mut tallies, &result.service, column)
        {
            tally.passed += 1;
        }
    }
    services
        .iter()
        .map(|(service, _, _)| {
            let row = tallies.get(service.as_str());
            MatrixRow {
                service: service.clone(),
                cells: columns
                    .iter()
                    .enumerate()
                    .map(|(i, column)| {
                        let tally = row.map_or_else(Tally::default, |row| row[i]);
                        MatrixCell {
                            column: column.clone(),
                            worst: match (tally.worst, tally.passed) {
                                (Some(s), _) => s.as_str().to_owned(),
                                (None, 0) => "none".to_owned(),
                                (None, _) => "pass".to_owned(),
                            },
                            findings: tally.findings,
                            passed: tally.passed,
                        }
                    })
                    .collect(),
            }
        })
        .collect()
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
    key: impl Fn(&crate::evaluate::RuleResult) -> &Arc<str>,
) -> Vec<PassRate> {
    let mut rates: BTreeMap<Arc<str>, PassRate> = BTreeMap::new();
    for result in outcome.evaluation.results.iter() {
        let name = key(&result);
        let rate = rates.entry(name.clone()).or_insert_with(|| PassRate {
            name: name.to_string(),
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

/// A finding with its index in the evaluation's findings (the gate's key).
type Indexed<'a> = (usize, &'a Finding);

fn group_findings(
    outcome: &CheckOutcome<'_>,
    rules: &RuleIndex<'_>,
    services: &[(String, String, String)],
) -> Vec<ServiceFindings> {
    let lang = outcome.lang;
    let texts = texts_by_name(outcome.tree);
    let lines = LineIndex::new();
    // Findings by service, then by flow (sorted), each list in evaluation order.
    let mut grouped: HashMap<&str, BTreeMap<&str, Vec<Indexed<'_>>>> = HashMap::new();
    for (index, finding) in outcome.evaluation.findings.iter().enumerate() {
        grouped
            .entry(finding.service.as_str())
            .or_default()
            .entry(finding.flow.as_str())
            .or_default()
            .push((index, finding));
    }
    services
        .iter()
        .filter_map(|(service, name, file)| {
            let flows = grouped.get(service.as_str())?;
            Some(ServiceFindings {
                service: service.clone(),
                name: name.clone(),
                file: file.clone(),
                flows: flows
                    .iter()
                    .map(|(flow, mine)| FlowFindings {
                        flow: (*flow).to_owned(),
                        findings: group_same_element(
                            &crate::yaml::YamlPath::root()
                                .key("flows")
                                .key(*flow)
                                .to_string(),
                            mine.iter()
                                .map(|(index, f)| {
                                    let text = texts.get(f.file.as_str()).copied().flatten();
                                    FindingInfo {
                                        status: outcome
                                            .gate
                                            .disposition(*index)
                                            .as_str()
                                            .to_owned(),
                                        ..finding_info(f, text, &lines, rules, lang)
                                    }
                                })
                                .collect(),
                        ),
                    })
                    .collect(),
            })
        })
        .collect()
}

/// [`PolicyTree::text`] for every file at once: a name two files share gives no text.
fn texts_by_name(tree: &PolicyTree) -> HashMap<&str, Option<&str>> {
    let mut texts: HashMap<&str, Option<&str>> = HashMap::new();
    for file in &tree.files {
        texts
            .entry(file.shown.as_str())
            .and_modify(|text| *text = None)
            .or_insert(file.text.as_deref());
    }
    texts
}

fn finding_info<'a>(
    f: &Finding,
    text: Option<&'a str>,
    lines: &LineIndex<'a>,
    rules: &RuleIndex<'_>,
    lang: Lang,
) -> FindingInfo {
    let rule = rules.rule(&f.rule_id);
    let pack = rule.map(|(p, _)| p);
    FindingInfo {
        rule_id: f.rule_id.clone(),
        pack: f.pack.clone(),
        severity: f.severity.as_str().to_owned(),
        theme: rule
            .and_then(|(_, r)| r.spec.theme)
            .map(|_| rules.theme_name(&f.rule_id).to_owned()),
        title: lang.pick(&f.title).to_owned(),
        message: lang.pick(&f.message).to_owned(),
        file: f.file.clone(),
        line: f.span.line,
        column: f.span.column,
        path: f.path.to_string(),
        snippet: snippet(text, lines, f.span.line),
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
        remediation: f.remediation.to_string(),
        effective_after_as_of: f.effective_after_as_of.map(format_day),
        status: open(),
        shown_with: None,
        same_element: Vec::new(),
    }
}

fn finding_ref(f: &Finding) -> FindingRef {
    FindingRef {
        rule_id: f.rule_id.clone(),
        severity: f.severity.as_str().to_owned(),
        service: f.service.clone(),
        flow: f.flow.clone(),
        file: f.file.clone(),
        line: f.span.line,
        column: f.span.column,
        path: f.path.to_string(),
    }
}

fn waiver_register(outcome: &CheckOutcome<'_>) -> Vec<WaiverInfo> {
    let findings = &outcome.evaluation.findings;
    outcome
        .gate
        .register
        .iter()
        .map(|entry| {
            let loaded = &entry.waiver;
            let w = &loaded.waiver;
            WaiverInfo {
                rule_id: w.rule.clone(),
                service: w.service.clone(),
                flow: w.flow.clone(),
                justification: w.justification.trim().to_owned(),
                approver: w.approver.clone(),
                ticket: w.ticket.clone(),
                created: format_day(loaded.created),
                expires: format_day(loaded.expires),
                state: entry.state.as_str().to_owned(),
                file: loaded.file.clone(),
                line: loaded.span.line,
                column: loaded.span.column,
                findings: entry
                    .findings
                    .iter()
                    .filter_map(|i| findings.get(*i))
                    .map(finding_ref)
                    .collect(),
            }
        })
        .collect()
}

fn baseline_info(outcome: &CheckOutcome<'_>) -> Option<BaselineInfo> {
    let gate = outcome.gate;
    let baseline = gate.baseline.as_ref()?;
    Some(BaselineInfo {
        file: baseline.file.clone(),
        recorded: baseline.recorded,
        gone: baseline.gone,
        findings: outcome
            .evaluation
            .findings
            .iter()
            .enumerate()
            .filter(|(i, _)| gate.disposition(*i) == crate::gate::Disposition::Baselined)
            .map(|(_, f)| finding_ref(f))
            .collect(),
    })
}

/// The finding's line with one line of context either side.
fn snippet<'a>(text: Option<&'a str>, lines: &LineIndex<'a>, line: u32) -> Vec<SnippetLine> {
    let Some(text) = text else {
        return Vec::new();
    };
    let first = line.saturating_sub(1).max(1);
    (first..=line.saturating_add(1))
        .map_while(|number| lines.line(text, number).map(|l| (number, l)))
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

/// Runs the bundled attacker profiles over the valid policies of the tree, fixes included.
fn attack_paths(tree: &PolicyTree) -> crate::report::attack_paths::AttackPathsView {
    let catalogue = crate::factors::Catalogue::bundled();
    let set = crate::attackers::AttackerSet::bundled(&catalogue);
    let profiles: Vec<_> = set.profiles().iter().collect();
    let inputs: Vec<crate::paths::Input> = tree
        .policies()
        .map(|(file, policy)| crate::paths::Input {
            file: &file.shown,
            policy,
            tree: file.tree.as_ref(),
        })
        .collect();
    let analysis = crate::paths::analyse(
        &inputs,
        &catalogue,
        &profiles,
        crate::paths::Limits::default(),
    );
    let titles: Vec<(String, String)> = set
        .profiles()
        .iter()
        .map(|p| (p.id.clone(), p.title.clone()))
        .collect();
    crate::report::attack_paths::AttackPathsView::new(&analysis, &titles)
}
