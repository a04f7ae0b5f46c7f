//! Evaluation: runs the selected rule packs over the flow view of every valid policy and
//! produces findings. Each finding carries its rule id, citations and a location in the policy
//! file. Nothing here prints.

mod facts;
mod own_facts;
pub mod view;

use crate::diagnostic::{Code, Diagnostic};
use crate::factors::Catalogue;
use crate::load::{LoadedFile, PolicyTree};
use crate::model::{Day, FlowKind, Policy, ServiceKind, parse_date};
use crate::rules::{At, Citation, Rule, RulePack, RuleSet, Severity, StepValue, Text};
use crate::timings::{self, Phase};
use crate::yaml::{Node, Span, YamlPath};
pub use facts::{build_views, name_of};
use std::collections::BTreeMap;
use std::sync::Arc;
use view::View;

/// A weakness a rule found in a flow.
#[derive(Debug, Clone)]
pub struct Finding {
    pub rule_id: String,
    pub pack: String,
    pub severity: Severity,
    /// Title and message in English and Japanese (shared by every finding of the rule, as
    /// are the citations and the remediation).
    pub title: Arc<Text>,
    pub message: Arc<Text>,
    pub file: String,
    pub span: Span,
    pub path: YamlPath,
    pub service: String,
    pub flow: String,
    /// Citations, each with the title of the document it names.
    pub citations: Arc<[FindingCitation]>,
    pub remediation: Arc<str>,
    /// With `check --at`: the day from which the sources that make the rule apply took effect,
    /// when the rule was not yet in force on the policy's `as_of` day (the design is judged
    /// against guidance that came later).
    pub effective_after_as_of: Option<Day>,
}

/// A citation of a finding, with what the pack manifest says of its document.
#[derive(Debug, Clone)]
pub struct FindingCitation {
    pub citation: Citation,
    /// Title of the cited document.
    pub title: String,
    /// When the document has been replaced: "superseded by ID from DATE" (or "no longer
    /// applies from DATE"), so no superseded edition is cited without saying so.
    pub superseded: Option<String>,
    /// What `superseded` says, as data for renderers that word it in another language: the
    /// id of the replacing source and the day the cited one stops applying.
    pub superseded_by: Option<String>,
    pub until: Option<String>,
}

/// What a finding says of a cited document that has been replaced or stopped applying.
fn superseded_note(pack: &RulePack, document: &str) -> Option<String> {
    let source = pack.source(document)?;
    match (&source.superseded_by, &source.until) {
        (Some(next), Some(until)) => Some(format!("superseded by {next} from {until}")),
        (Some(next), None) => Some(format!("superseded by {next}")),
        (None, Some(until)) => Some(format!("no longer applies from {until}")),
        (None, None) => None,
    }
}

/// One rule judged against one flow, as [`RuleResults::iter`] gives it; the names are shared
/// with the evaluation, not copied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleResult {
    pub rule_id: Arc<str>,
    pub pack: Arc<str>,
    pub file: Arc<str>,
    pub service: Arc<str>,
    pub flow: Arc<str>,
    pub outcome: Outcome,
}

/// What a rule concluded about a flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The rule ran and stayed silent.
    Pass,
    /// The rule fired: there is a finding.
    Fail,
    /// The rule does not look at this kind of service or flow; the reason says which it does.
    NotApplicable(Arc<str>),
    /// None of the rule's sources applied on the day audited (`check --at`).
    NotInForce,
    /// The condition failed at run time (reported in `Evaluation::errors`).
    Error,
}

impl Outcome {
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "fail",
            Outcome::NotApplicable(_) => "not_applicable",
            Outcome::NotInForce => "not_in_force",
            Outcome::Error => "error",
        }
    }
}

/// Why `rule` does not look at a flow of `kind` in a service of `service_kind`.
fn not_applicable_reason(rule: &Rule, service_kind: ServiceKind, kind: FlowKind) -> String {
    let to = &rule.spec.applies_to;
    let names = |items: Vec<String>| items.join(", ");
    if !to.service_kinds.is_empty() && !to.service_kinds.contains(&service_kind) {
        format!(
            "applies to services of kind {}, not {}",
            names(to.service_kinds.iter().map(name_of).collect()),
            name_of(&service_kind)
        )
    } else {
        format!(
            "applies to flows of kind {}, not {}",
            names(to.flow_kinds.iter().map(name_of).collect()),
            name_of(&kind)
        )
    }
}

/// Which packs run.
#[derive(Debug, Clone, Default)]
pub enum PackSelection {
    /// Packs whose jurisdiction matches each service.
    #[default]
    ByJurisdiction,
    /// Every loaded pack.
    All,
    /// The named packs, whatever the jurisdiction.
    Named(Vec<String>),
}

impl PackSelection {
    /// The ids of the packs this selection runs on `tree`, sorted.
    pub fn packs_run(&self, rules: &RuleSet, tree: &PolicyTree) -> Vec<String> {
        let mut ids: Vec<String> = rules
            .packs
            .iter()
            .filter(|p| match self {
                PackSelection::All => true,
                PackSelection::Named(names) => names.contains(&p.manifest.id),
                PackSelection::ByJurisdiction => tree
                    .policies()
                    .any(|(_, policy)| p.covers(&policy.service.jurisdiction)),
            })
            .map(|p| p.manifest.id.clone())
            .collect();
        ids.sort();
        ids
    }

    fn includes(&self, pack: &RulePack, jurisdiction: &str) -> bool {
        match self {
            PackSelection::ByJurisdiction => pack.covers(jurisdiction),
            PackSelection::All => true,
            PackSelection::Named(names) => names.contains(&pack.manifest.id),
        }
    }
}

/// The result of evaluating a tree.
#[derive(Debug, Default)]
pub struct Evaluation {
    pub findings: Vec<Finding>,
    /// With `check --at`: the day audited, and the rules of the selected packs that were
    /// not in force that day (not run), as (pack, rule id).
    pub at: Option<Day>,
    pub not_in_force: Vec<(String, String)>,
    /// Rules that failed to evaluate (a condition that did not yield a boolean).
    pub errors: Vec<Diagnostic>,
    /// Every rule of the selected packs against every flow of every valid policy, with its
    /// result: what passed, not only what failed (reports show both).
    pub results: RuleResults,
}

/// The outcome of every rule of the selected packs against every flow, kept as one byte per
/// rule and flow: a market has millions, and a [`RuleResult`] is built only while a report
/// reads it ([`RuleResults::iter`]).
#[derive(Debug, Clone, Default)]
pub struct RuleResults {
    names: Arc<Names>,
    flows: Vec<JudgedFlow>,
    /// Why a rule does not look at a flow, by (pack, rule, service kind, flow kind).
    reasons: BTreeMap<ReasonKey, Arc<str>>,
}

type ReasonKey = (usize, usize, ServiceKind, FlowKind);

/// The rules judged against one flow: each rule of `packs` in order, one code each.
#[derive(Debug, Clone)]
pub struct JudgedFlow {
    pub file: Arc<str>,
    pub service: Arc<str>,
    pub flow: Arc<str>,
    kinds: (ServiceKind, FlowKind),
    /// The packs run on the flow's file (by index in the rule set).
    packs: Arc<[usize]>,
    codes: Vec<OutcomeCode>,
}

/// [`Outcome`] without the reason, which is the same for every flow of the same kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OutcomeCode {
    Pass,
    Fail,
    NotApplicable,
    NotInForce,
    Error,
}

impl RuleResults {
    /// Every result in evaluation order: by file, flow, pack, then rule.
    pub fn iter(&self) -> impl Iterator<Item = RuleResult> + '_ {
        self.flows.iter().flat_map(move |judged| {
            judged
                .packs
                .iter()
                .flat_map(move |&p| (0..self.names.rules[p].len()).map(move |r| (p, r)))
                .zip(&judged.codes)
                .map(move |((p, r), code)| RuleResult {
                    rule_id: self.names.rules[p][r].clone(),
                    pack: self.names.packs[p].clone(),
                    file: judged.file.clone(),
                    service: judged.service.clone(),
                    flow: judged.flow.clone(),
                    outcome: match code {
                        OutcomeCode::Pass => Outcome::Pass,
                        OutcomeCode::Fail => Outcome::Fail,
                        OutcomeCode::NotApplicable => Outcome::NotApplicable(
                            self.reasons
                                .get(&(p, r, judged.kinds.0, judged.kinds.1))
                                .cloned()
                                .unwrap_or_default(),
                        ),
                        OutcomeCode::NotInForce => Outcome::NotInForce,
                        OutcomeCode::Error => Outcome::Error,
                    },
                })
        })
    }

    pub fn len(&self) -> usize {
        self.flows.iter().map(|f| f.codes.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.flows.iter().all(|f| f.codes.is_empty())
    }

    /// The ids of the packs that judged at least one flow.
    pub fn packs(&self) -> impl Iterator<Item = &str> {
        let mut used = vec![false; self.names.packs.len()];
        for judged in &self.flows {
            for &p in judged.packs.iter() {
                used[p] = true;
            }
        }
        self.names
            .packs
            .iter()
            .zip(used)
            .filter(|(_, used)| *used)
            .map(|(id, _)| &**id)
    }

    /// The flows judged, to rename what a report shows (tests of the renderers' escaping).
    pub fn flows_mut(&mut self) -> &mut [JudgedFlow] {
        &mut self.flows
    }
}

/// Evaluates every valid policy in `tree` with every rule of the selected packs, whatever the
/// day (rule examples, tests).
pub fn evaluate(
    tree: &PolicyTree,
    rules: &RuleSet,
    selection: &PackSelection,
    catalogue: &Catalogue,
) -> Evaluation {
    evaluate_at(tree, rules, selection, catalogue, None)
}

/// Evaluates with the rules in force on `at` (all rules when `None`), and marks findings of
/// rules that came into force after the policy's `as_of` day.
pub fn evaluate_at(
    tree: &PolicyTree,
    rules: &RuleSet,
    selection: &PackSelection,
    catalogue: &Catalogue,
    at: Option<Day>,
) -> Evaluation {
    let _evaluate = timings::span(Phase::Evaluate);
    let policies: Vec<_> = tree.policies().collect();
    let views = build_views(
        &policies.iter().map(|(_, p)| *p).collect::<Vec<_>>(),
        catalogue,
    );
    // Whether each rule is in force on the day audited, and since when, is the same for every
    // flow: worked out once per rule (it parses the dates of the sources the rule cites).
    let on_day = at.map(|day| {
        rules
            .packs
            .iter()
            .map(|pack| {
                pack.rules
                    .iter()
                    .map(|rule| (pack.in_force(rule, day), pack.in_force_since(rule, day)))
                    .collect()
            })
            .collect()
    });
    let names = Arc::new(Names::of(rules));
    let run = Run {
        rules,
        selection,
        views: &views,
        at,
        on_day,
        said: rules
            .packs
            .iter()
            .map(|pack| {
                pack.rules
                    .iter()
                    .map(|rule| RuleSays::of(pack, rule))
                    .collect()
            })
            .collect(),
    };
    // Files are judged independently once the views (which need the whole tree) are built,
    // a slice of files at a time; the parts are joined in file order, so the result is the
    // same on any number of threads. Joining slice by slice keeps the parts waiting to be
    // joined to one slice's worth: a rule result per rule and flow adds up on large trees.
    let mut result = Evaluation {
        at,
        results: RuleResults {
            names,
            ..RuleResults::default()
        },
        ..Evaluation::default()
    };
    let mut not_in_force = std::collections::BTreeSet::new();
    for slice in policies.chunks(FILES_PER_SLICE) {
        let parts = crate::parallel::map_init(slice, PerThread::new, |state, (file, policy)| {
            run.file(state, file, policy)
        });
        for part in parts {
            append(&mut result.findings, part.findings);
            append(&mut result.results.flows, part.results);
            append(&mut result.errors, part.errors);
            not_in_force.extend(part.not_in_force);
        }
    }
    result.not_in_force = not_in_force.into_iter().collect();
    result.results.reasons = not_applicable_reasons(&result.results.flows, rules);
    result.findings.sort_by(|a, b| {
        (&a.file, a.span, b.severity, &a.rule_id).cmp(&(&b.file, b.span, a.severity, &b.rule_id))
    });
    result
}

/// Files evaluated between two joins of their results (see `evaluate_at`).
const FILES_PER_SLICE: usize = 64;

/// Moves `items` to the end of `all`; the first items are taken whole, so one file that holds
/// most of the findings is never copied.
fn append<T>(all: &mut Vec<T>, mut items: Vec<T>) {
    if all.is_empty() {
        std::mem::swap(all, &mut items);
    } else {
        all.append(&mut items);
    }
}

/// What each thread builds once per slice of files and reuses for every file it evaluates.
struct PerThread {
    /// The CEL root scope with the standard functions: building it is most of what a fresh
    /// context costs, and it holds no variable, so every flow shares it.
    functions: cel::Context<'static, 'static>,
    /// Whether each rule (by pack, then rule) was in force on a policy's `as_of` day.
    in_force_on: BTreeMap<Day, Vec<Vec<bool>>>,
}

impl PerThread {
    fn new() -> Self {
        Self {
            functions: cel::Context::default(),
            in_force_on: BTreeMap::new(),
        }
    }
}

/// Why each rule does not look at the flows it was not applicable to, worked out once per
/// rule and pair of kinds.
fn not_applicable_reasons(flows: &[JudgedFlow], rules: &RuleSet) -> BTreeMap<ReasonKey, Arc<str>> {
    let mut reasons = BTreeMap::new();
    for judged in flows {
        let (service_kind, flow_kind) = judged.kinds;
        let rules_judged = judged
            .packs
            .iter()
            .flat_map(|&p| (0..rules.packs[p].rules.len()).map(move |r| (p, r)));
        for ((p, r), code) in rules_judged.zip(&judged.codes) {
            if *code == OutcomeCode::NotApplicable {
                reasons
                    .entry((p, r, service_kind, flow_kind))
                    .or_insert_with(|| {
                        not_applicable_reason(&rules.packs[p].rules[r], service_kind, flow_kind)
                            .into()
                    });
            }
        }
    }
    reasons
}

/// The packs' and rules' ids, shared by every [`RuleResult`] that names them.
#[derive(Debug, Default)]
struct Names {
    packs: Vec<Arc<str>>,
    /// By pack, then rule.
    rules: Vec<Vec<Arc<str>>>,
}

impl Names {
    fn of(rules: &RuleSet) -> Self {
        Self {
            packs: rules
                .packs
                .iter()
                .map(|p| Arc::from(p.manifest.id.as_str()))
                .collect(),
            rules: rules
                .packs
                .iter()
                .map(|p| {
                    p.rules
                        .iter()
                        .map(|r| Arc::from(r.spec.id.as_str()))
                        .collect()
                })
                .collect(),
        }
    }
}

/// What every file of one evaluation shares.
struct Run<'a> {
    rules: &'a RuleSet,
    selection: &'a PackSelection,
    views: &'a BTreeMap<(String, String), View>,
    at: Option<Day>,
    /// With `at`: for each rule (by pack, then rule), whether it is in force that day and the
    /// day the sources that make it apply took effect.
    on_day: Option<Vec<Vec<InForce>>>,
    /// What each rule's findings say (by pack, then rule).
    said: Vec<Vec<RuleSays>>,
}

/// What every finding of a rule says, built once per rule and shared by its findings.
struct RuleSays {
    title: Arc<Text>,
    message: Arc<Text>,
    citations: Arc<[FindingCitation]>,
    remediation: Arc<str>,
}

impl RuleSays {
    fn of(pack: &RulePack, rule: &Rule) -> Self {
        Self {
            title: Arc::new(rule.spec.title.clone()),
            message: Arc::new(rule.spec.message.clone()),
            citations: rule
                .spec
                .citations
                .iter()
                .map(|c| FindingCitation {
                    citation: c.clone(),
                    title: pack
                        .source(&c.document)
                        .map(|s| s.title.clone())
                        .unwrap_or_default(),
                    superseded: superseded_note(pack, &c.document),
                    superseded_by: pack
                        .source(&c.document)
                        .and_then(|s| s.superseded_by.clone()),
                    until: pack.source(&c.document).and_then(|s| s.until.clone()),
                })
                .collect(),
            remediation: Arc::from(rule.spec.remediation.as_str()),
        }
    }
}

/// Whether a rule is in force on a day, and the day the sources that make it apply took effect.
type InForce = (bool, Option<Day>);

/// The evaluation of one file; `not_in_force` may repeat rules other files name too.
#[derive(Default)]
struct FilePart {
    findings: Vec<Finding>,
    results: Vec<JudgedFlow>,
    errors: Vec<Diagnostic>,
    not_in_force: Vec<(String, String)>,
}

impl Run<'_> {
    fn file(&self, state: &mut PerThread, file: &LoadedFile, policy: &Policy) -> FilePart {
        let mut result = FilePart::default();
        let as_of = parse_date(&policy.service.as_of).ok();
        let packs: Vec<(usize, &RulePack)> = self
            .rules
            .packs
            .iter()
            .enumerate()
            .filter(|(_, p)| self.selection.includes(p, &policy.service.jurisdiction))
            .collect();
        // Only asked with `at`, when the rule was not in force on the policy's own day.
        let in_force_on_as_of: Option<&Vec<Vec<bool>>> = match (self.at, as_of) {
            (Some(_), Some(as_of)) => Some(state.in_force_on.entry(as_of).or_insert_with(|| {
                self.rules
                    .packs
                    .iter()
                    .map(|pack| pack.rules.iter().map(|r| pack.in_force(r, as_of)).collect())
                    .collect()
            })),
            _ => None,
        };
        let file_name: Arc<str> = Arc::from(file.shown.as_str());
        let service_name: Arc<str> = Arc::from(policy.service.id.as_str());
        let pack_indexes: Arc<[usize]> = packs.iter().map(|&(p, _)| p).collect();
        // The service's facts are the same for all its flows: converted to a CEL value once,
        // in a scope each flow's own scope reads through.
        let nodes = flow_nodes(file.tree.as_ref());
        let mut service_scope = state.functions.new_inner_scope();
        let mut service: Option<Result<(), String>> = None;
        for (flow_id, flow) in &policy.flows {
            let Some(view) = self
                .views
                .get(&(policy.service.id.clone(), flow_id.clone()))
            else {
                continue;
            };
            let added = service.get_or_insert_with(|| {
                service_scope
                    .add_variable("service", &view.service)
                    .map_err(|e| format!("cannot build the service view: {e}"))
            });
            if let Err(message) = added {
                result.errors.push(Diagnostic::error(
                    Code::RuleEvaluation,
                    &file.shown,
                    message.clone(),
                ));
                continue;
            }
            let mut context = service_scope.new_inner_scope();
            if let Err(e) = context.add_variable("flow", &view.flow) {
                result.errors.push(Diagnostic::error(
                    Code::RuleEvaluation,
                    &file.shown,
                    format!("cannot build the flow view: {e}"),
                ));
                continue;
            }
            let flow_path = YamlPath::root().key("flows").key(flow_id.clone());
            let kinds = (policy.service.kind, flow.kind);
            let mut judged = JudgedFlow {
                file: file_name.clone(),
                service: service_name.clone(),
                flow: Arc::from(flow_id.as_str()),
                kinds,
                packs: pack_indexes.clone(),
                codes: Vec::with_capacity(packs.iter().map(|(_, pack)| pack.rules.len()).sum()),
            };
            for &(p, pack) in &packs {
                for (r, rule) in pack.rules.iter().enumerate() {
                    let mut record = |code: OutcomeCode| judged.codes.push(code);
                    if !applies(rule, kinds.0, kinds.1) {
                        record(OutcomeCode::NotApplicable);
                        continue;
                    }
                    let on_day = self.on_day.as_ref().map(|rules| rules[p][r]);
                    if let Some((false, _)) = on_day {
                        record(OutcomeCode::NotInForce);
                        result
                            .not_in_force
                            .push((pack.manifest.id.clone(), rule.spec.id.clone()));
                        continue;
                    }
                    let effective_after_as_of = match (on_day, in_force_on_as_of) {
                        (Some((_, since)), Some(on_as_of)) if !on_as_of[p][r] => since,
                        _ => None,
                    };
                    let fired = fires(rule, &context);
                    record(match &fired {
                        Ok(false) => OutcomeCode::Pass,
                        Ok(true) => OutcomeCode::Fail,
                        Err(_) => OutcomeCode::Error,
                    });
                    match fired {
                        Ok(false) => {}
                        Ok(true) => {
                            let node = nodes.get(flow_id.as_str()).copied();
                            let (path, span) = locate(&rule.at, node, &flow_path, flow, view);
                            let said = &self.said[p][r];
                            result.findings.push(Finding {
                                rule_id: rule.spec.id.clone(),
                                pack: pack.manifest.id.clone(),
                                severity: rule.spec.severity,
                                title: said.title.clone(),
                                message: said.message.clone(),
                                file: file.shown.clone(),
                                span,
                                path,
                                service: policy.service.id.clone(),
                                flow: flow_id.clone(),
                                citations: said.citations.clone(),
                                remediation: said.remediation.clone(),
                                effective_after_as_of,
                            });
                        }
                        Err(message) => result.errors.push(
                            Diagnostic::error(
                                Code::RuleEvaluation,
                                &pack.rules_file,
                                format!("rule `{}` failed on {}/{}: {message}", rule.spec.id, policy.service.id, flow_id),
                            )
                            .with_hint("a condition must evaluate to true or false for every flow; guard optional facts"),
                        ),
                    }
                }
            }
            result.results.push(judged);
        }
        result
    }
}

/// Where a finding of a rule with `at` points in the flow at `flow_path`: the place `at` names
/// when the file has it, else the flow's key. `step_with:` takes the first step whose field
/// holds a value it looks for (in the typed policy, so a v1 file read as v2 is judged as
/// evaluated), at that value; with no such step, the steps. `node` is the flow's entry in the
/// file's tree (its value and the span of its key), looked up once per flow.
fn locate(
    at: &At,
    node: Option<(&Node, Span)>,
    flow_path: &YamlPath,
    flow: &crate::model::Flow,
    view: &View,
) -> (YamlPath, Span) {
    let within =
        |relative: &YamlPath| YamlPath(flow_path.0.iter().chain(&relative.0).cloned().collect());
    let span_of = |relative: &YamlPath| node.and_then(|(n, _)| n.get(relative)).map(|n| n.span);
    let mut places: Vec<YamlPath> = Vec::new();
    match at {
        At::Flow => {}
        At::Path(relative) => places.push(relative.clone()),
        At::StepWith { field, values } => {
            if let Some((index, item)) = matching_step(flow, view, field, values) {
                let step = YamlPath::root().key("steps").index(index);
                let value = step.key(field.clone());
                places.extend(item.map(|i| value.index(i)));
                places.push(value);
                places.push(step);
            }
            places.push(YamlPath::root().key("steps"));
        }
    }
    places
        .into_iter()
        .find_map(|relative| span_of(&relative).map(|span| (within(&relative), span)))
        .unwrap_or_else(|| {
            let span = node.map(|(_, key)| key).unwrap_or_default();
            (flow_path.clone(), span)
        })
}

/// The entries of the file's `flows` mapping by flow id: each flow's value and the span of its
/// key. Built once per file, so locating a finding does not scan every flow before its own
/// (which made files of thousands of flows quadratic). A key written twice resolves to its
/// last entry, as [`Node::get`] does.
fn flow_nodes(tree: Option<&Node>) -> std::collections::HashMap<&str, (&Node, Span)> {
    let flows = tree.and_then(|t| t.get(&YamlPath::root().key("flows")));
    match flows.map(|f| &f.value) {
        Some(crate::yaml::Value::Map(entries)) => entries
            .iter()
            .map(|(key, value)| (key.name.as_str(), (value, key.span)))
            .collect(),
        _ => std::collections::HashMap::new(),
    }
}

/// The first step of `flow` whose `field` is one of `values` (or, for a list, holds one), with
/// the position of the matching item in that list.
fn matching_step(
    flow: &crate::model::Flow,
    view: &View,
    field: &str,
    values: &[StepValue],
) -> Option<(usize, Option<usize>)> {
    let view_flow = values
        .iter()
        .any(|v| matches!(v, StepValue::FlowList(_)))
        .then(|| serde_json::to_value(&view.flow).unwrap_or_default());
    let wanted = |text: &str| {
        values.iter().any(|value| match value {
            StepValue::Literal(literal) => literal == text,
            StepValue::FlowList(name) => view_flow
                .as_ref()
                .and_then(|v| v.get(name))
                .and_then(serde_json::Value::as_array)
                .is_some_and(|list| list.iter().any(|item| item.as_str() == Some(text))),
        })
    };
    flow.steps.iter().enumerate().find_map(|(index, step)| {
        let json = serde_json::to_value(step).ok()?;
        match json.get(field)? {
            serde_json::Value::String(text) => wanted(text).then_some((index, None)),
            serde_json::Value::Array(items) => items
                .iter()
                .position(|item| item.as_str().is_some_and(wanted))
                .map(|i| (index, Some(i))),
            _ => None,
        }
    })
}

/// Whether `rule` looks at flows of `kind` in services of `service_kind`.
fn applies(rule: &Rule, service_kind: ServiceKind, kind: FlowKind) -> bool {
    let to = &rule.spec.applies_to;
    (to.service_kinds.is_empty() || to.service_kinds.contains(&service_kind))
        && (to.flow_kinds.is_empty() || to.flow_kinds.contains(&kind))
}

fn fires(rule: &Rule, context: &cel::Context<'_, '_>) -> Result<bool, String> {
    match rule.program.execute(context) {
        Ok(cel::Value::Bool(b)) => Ok(b),
        // The type only: a value's debug form can be long and carries input text raw.
        Ok(other) => Err(format!(
            "the condition gave a {} value, not a boolean",
            other.type_of()
        )),
        Err(error) => Err(error.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::audit::{self, ReportOptions};
    use crate::report::check::{CheckOutcome, Lang};
    use crate::report::{self, Format};
    use crate::source::SizeBudget;
    use std::path::{Path, PathBuf};

    /// Every rendering of `check`, `validate` and `report` over `root`, on `threads` threads.
    fn outputs(root: &Path, rules: &RuleSet, threads: usize) -> Vec<String> {
        crate::parallel::set_threads(threads);
        let loader = crate::load::Loader::new(Catalogue::bundled(), SizeBudget::default());
        let tree = loader.load_paths(&[root.to_path_buf()]);
        let at = parse_date("2026-11-28").ok();
        let evaluation = evaluate_at(&tree, rules, &PackSelection::All, loader.catalogue(), at);
        crate::parallel::set_threads(0);
        let outcome = CheckOutcome {
            tree: &tree,
            evaluation: &evaluation,
            packs_run: PackSelection::All.packs_run(rules, &tree),
            fail_on: Severity::High,
            lang: Lang::En,
            gate: &crate::gate::NONE,
        };
        let options = ReportOptions {
            organisation: None,
            date: "2026-11-28".into(),
        };
        let built = audit::build(&outcome, rules, &options);
        vec![
            report::render_validation(&tree, Format::Human, false),
            report::render_validation(&tree, Format::Json, false),
            report::check::render(&outcome, false),
            report::json::render_report(&outcome, &built),
            report::sarif::render_sarif(&outcome, rules),
            report::junit::render_junit(&outcome),
        ]
    }

    #[test]
    fn output_bytes_do_not_depend_on_the_number_of_threads() {
        let dir = tempfile::tempdir().unwrap();
        let policies = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
        let mut copied = 0;
        for entry in walkdir::WalkDir::new(&policies).sort_by_file_name() {
            let entry = entry.unwrap();
            if !entry.file_type().is_file() {
                continue;
            }
            let relative = entry.path().strip_prefix(&policies).unwrap();
            let target: PathBuf = dir.path().join(relative);
            std::fs::create_dir_all(target.parent().unwrap()).unwrap();
            std::fs::copy(entry.path(), &target).unwrap();
            copied += 1;
        }
        // Broken files between the good ones, so diagnostics interleave with findings.
        let broken = [
            ("a-syntax.yaml", "service:\n  id: [unclosed\n"),
            (
                "m-unknown-field.yaml",
                "version: 2\nservice:\n  id: x\n  colour: red\n",
            ),
            ("z-tab.yaml", "service:\n\tid: x\n"),
        ];
        for (name, text) in broken {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        let rules = RuleSet::bundled();
        let one = outputs(dir.path(), &rules, 1);
        assert!(copied >= 12, "{copied} policies copied");
        assert!(one[2].contains("a-syntax.yaml"), "{}", one[2]);
        assert!(one[3].contains("\"findings\""));
        for threads in [2, 3, 8] {
            let many = outputs(dir.path(), &rules, threads);
            for (index, (a, b)) in one.iter().zip(&many).enumerate() {
                assert!(
                    a == b,
                    "output {index} differs between 1 and {threads} threads"
                );
            }
        }
    }
}
