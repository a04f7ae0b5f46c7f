//! Evaluation: runs the selected rule packs over the flow view of every valid policy and
//! produces findings. Each finding carries its rule id, citations and a location in the policy
//! file. Nothing here prints.

mod facts;
mod own_facts;
pub mod view;

use crate::diagnostic::{Code, Diagnostic};
use crate::factors::Catalogue;
use crate::load::PolicyTree;
use crate::model::{FlowKind, ServiceKind};
use crate::rules::{Citation, Rule, RulePack, RuleSet, Severity, Text};
use crate::yaml::{Span, YamlPath};
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
    pub citations: Vec<(Citation, String)>,
    pub remediation: String,
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
    /// Rules that failed to evaluate (a condition that did not yield a boolean).
    pub errors: Vec<Diagnostic>,
}

/// Evaluates every valid policy in `tree` with the selected packs of `rules`.
pub fn evaluate(
    tree: &PolicyTree,
    rules: &RuleSet,
    selection: &PackSelection,
    catalogue: &Catalogue,
) -> Evaluation {
    let policies: Vec<_> = tree.policies().collect();
    let views = build_views(
        &policies.iter().map(|(_, p)| *p).collect::<Vec<_>>(),
        catalogue,
    );
    let mut result = Evaluation::default();
    for (file, policy) in &policies {
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
                for rule in pack
                    .rules
                    .iter()
                    .filter(|r| applies(r, policy.service.kind, flow.kind))
                {
                    match fires(rule, &context) {
                        Ok(false) => {}
                        Ok(true) => {
                            let tree_node = file.tree.as_ref();
                            let target = YamlPath(flow_path.0.iter().chain(rule.at.0.iter()).cloned().collect());
                            let (path, span) = match tree_node.and_then(|t| t.get(&target).map(|n| n.span)) {
                                Some(span) if !rule.at.is_root() => (target, span),
                                _ => (
                                    flow_path.clone(),
                                    tree_node.and_then(|t| t.key_span(&flow_path)).unwrap_or_default(),
                                ),
                            };
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
                                    .map(|c| (c.clone(), pack.source(&c.document).map(|s| s.title.clone()).unwrap_or_default()))
                                    .collect(),
                                remediation: rule.spec.remediation.clone(),
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
    result.findings.sort_by(|a, b| {
        (&a.file, a.span, b.severity, &a.rule_id).cmp(&(&b.file, b.span, a.severity, &b.rule_id))
    });
    result
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
        Ok(other) => Err(format!("the condition gave {other:?}, not a boolean")),
        Err(error) => Err(error.to_string()),
    }
}
