//! Evaluation: runs the selected rule packs over the flow view of every valid policy and
//! produces findings. Each finding carries its rule id, citations and a location in the policy
//! file. Nothing here prints.

mod facts;
mod own_facts;
pub mod view;

use crate::diagnostic::{Code, Diagnostic};
use crate::factors::Catalogue;
use crate::load::PolicyTree;
use crate::model::{Day, FlowKind, ServiceKind, parse_date};
use crate::rules::{At, Citation, Rule, RulePack, RuleSet, Severity, StepValue, Text};
use crate::yaml::{Node, Span, YamlPath};
pub use facts::{build_views, name_of};
use view::View;

/// A weakness a rule found in a flow.
#[derive(Debug, Clone)]
pub struct Finding {
    pub rule_id: String,
    pub pack: String,
    pub severity: Severity,
    /// Title and message in English and Japanese.
    pub title: Text,
    pub message: Text,
    pub file: String,
    pub span: Span,
    pub path: YamlPath,
    pub service: String,
    pub flow: String,
    /// Citations, each with the title of the document it names.
    pub citations: Vec<FindingCitation>,
    pub remediation: String,
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

/// One rule judged against one flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleResult {
    pub rule_id: String,
    pub pack: String,
    pub file: String,
    pub service: String,
    pub flow: String,
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
    NotApplicable(String),
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
    pub results: Vec<RuleResult>,
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
    let policies: Vec<_> = tree.policies().collect();
    let views = build_views(
        &policies.iter().map(|(_, p)| *p).collect::<Vec<_>>(),
        catalogue,
    );
    let mut result = Evaluation {
        at,
        ..Evaluation::default()
    };
    let mut not_in_force = std::collections::BTreeSet::new();
    for (file, policy) in &policies {
        let as_of = parse_date(&policy.service.as_of).ok();
        let packs: Vec<&RulePack> = rules
            .packs
            .iter()
            .filter(|p| selection.includes(p, &policy.service.jurisdiction))
            .collect();
        for (flow_id, flow) in &policy.flows {
            let Some(view) = views.get(&(policy.service.id.clone(), flow_id.clone())) else {
                continue;
            };
            let context = match context_for(view) {
                Ok(context) => context,
                Err(message) => {
                    result.errors.push(Diagnostic::error(
                        Code::RuleEvaluation,
                        &file.shown,
                        message,
                    ));
                    continue;
                }
            };
            let flow_path = YamlPath::root().key("flows").key(flow_id.clone());
            for pack in &packs {
                for rule in &pack.rules {
                    let mut record = |outcome: Outcome| {
                        result.results.push(RuleResult {
                            rule_id: rule.spec.id.clone(),
                            pack: pack.manifest.id.clone(),
                            file: file.shown.clone(),
                            service: policy.service.id.clone(),
                            flow: flow_id.clone(),
                            outcome,
                        });
                    };
                    if !applies(rule, policy.service.kind, flow.kind) {
                        record(Outcome::NotApplicable(not_applicable_reason(
                            rule,
                            policy.service.kind,
                            flow.kind,
                        )));
                        continue;
                    }
                    if let Some(day) = at
                        && !pack.in_force(rule, day)
                    {
                        record(Outcome::NotInForce);
                        not_in_force.insert((pack.manifest.id.clone(), rule.spec.id.clone()));
                        continue;
                    }
                    let effective_after_as_of = match (at, as_of) {
                        (Some(day), Some(as_of)) if !pack.in_force(rule, as_of) => {
                            pack.in_force_since(rule, day)
                        }
                        _ => None,
                    };
                    let fired = fires(rule, &context);
                    record(match &fired {
                        Ok(false) => Outcome::Pass,
                        Ok(true) => Outcome::Fail,
                        Err(_) => Outcome::Error,
                    });
                    match fired {
                        Ok(false) => {}
                        Ok(true) => {
                            let (path, span) = locate(&rule.at, file.tree.as_ref(), &flow_path, flow, view);
                            result.findings.push(Finding {
                                rule_id: rule.spec.id.clone(),
                                pack: pack.manifest.id.clone(),
                                severity: rule.spec.severity,
                                title: rule.spec.title.clone(),
                                message: rule.spec.message.clone(),
                                file: file.shown.clone(),
                                span,
                                path,
                                service: policy.service.id.clone(),
                                flow: flow_id.clone(),
                                citations: rule
                                    .spec
                                    .citations
                                    .iter()
                                    .map(|c| FindingCitation {
                                        citation: c.clone(),
                                        title: pack.source(&c.document).map(|s| s.title.clone()).unwrap_or_default(),
                                        superseded: superseded_note(pack, &c.document),
                                        superseded_by: pack.source(&c.document).and_then(|s| s.superseded_by.clone()),
                                        until: pack.source(&c.document).and_then(|s| s.until.clone()),
                                    })
                                    .collect(),
                                remediation: rule.spec.remediation.clone(),
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
        }
    }
    result.not_in_force = not_in_force.into_iter().collect();
    result.findings.sort_by(|a, b| {
        (&a.file, a.span, b.severity, &a.rule_id).cmp(&(&b.file, b.span, a.severity, &b.rule_id))
    });
    result
}

/// Where a finding of a rule with `at` points in the flow at `flow_path`: the place `at` names
/// when the file has it, else the flow's key. `step_with:` takes the first step whose field
/// holds a value it looks for (in the typed policy, so a v1 file read as v2 is judged as
/// evaluated), at that value; with no such step, the steps.
fn locate(
    at: &At,
    tree: Option<&Node>,
    flow_path: &YamlPath,
    flow: &crate::model::Flow,
    view: &View,
) -> (YamlPath, Span) {
    let within =
        |relative: &YamlPath| YamlPath(flow_path.0.iter().chain(&relative.0).cloned().collect());
    let span_of = |path: &YamlPath| tree.and_then(|t| t.get(path)).map(|n| n.span);
    let mut places: Vec<YamlPath> = Vec::new();
    match at {
        At::Flow => {}
        At::Path(relative) => places.push(within(relative)),
        At::StepWith { field, values } => {
            if let Some((index, item)) = matching_step(flow, view, field, values) {
                let step = flow_path.key("steps").index(index);
                let value = step.key(field.clone());
                places.extend(item.map(|i| value.index(i)));
                places.push(value);
                places.push(step);
            }
            places.push(flow_path.key("steps"));
        }
    }
    places
        .into_iter()
        .find_map(|path| span_of(&path).map(|span| (path, span)))
        .unwrap_or_else(|| {
            let span = tree.and_then(|t| t.key_span(flow_path)).unwrap_or_default();
            (flow_path.clone(), span)
        })
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

fn context_for(view: &View) -> Result<cel::Context<'static, 'static>, String> {
    let mut context = cel::Context::default();
    context
        .add_variable("service", &view.service)
        .map_err(|e| format!("cannot build the service view: {e}"))?;
    context
        .add_variable("flow", &view.flow)
        .map_err(|e| format!("cannot build the flow view: {e}"))?;
    Ok(context)
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
