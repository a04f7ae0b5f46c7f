//! The rule test harness: runs every rule's own examples through the real pipeline (load,
//! validate, evaluate) and reports hits, misses and false positives. Serves bundled and user
//! packs alike.

use super::{Rule, RulePack, RuleSet};
use crate::evaluate::{PackSelection, evaluate};
use crate::load::Loader;

/// What happened to one example.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Fired where it must, or stayed silent where it must.
    Pass,
    /// Stayed silent on a "fires" example.
    Miss,
    /// Fired on a "passes" example.
    FalsePositive,
    /// The example's policies are not valid; the diagnostics say why.
    InvalidExample(Vec<String>),
    /// The rule's condition failed at run time on the example (it neither fired nor passed).
    EvaluationError(Vec<String>),
}

#[derive(Debug, Clone)]
pub struct ExampleResult {
    pub rule: String,
    pub pack: String,
    /// `fires[0]`, `passes[1]`, ...
    pub example: String,
    pub description: String,
    pub outcome: Outcome,
}

/// Runs the examples of every rule in `set`.
pub fn run(set: &RuleSet, loader: &Loader) -> Vec<ExampleResult> {
    set.rules()
        .flat_map(|(pack, rule)| run_rule(set, pack, rule, loader))
        .collect()
}

fn run_rule(set: &RuleSet, pack: &RulePack, rule: &Rule, loader: &Loader) -> Vec<ExampleResult> {
    let groups = [
        ("fires", &rule.spec.examples.fires, true),
        ("passes", &rule.spec.examples.passes, false),
    ];
    let mut results = Vec::new();
    for (group, examples, must_fire) in groups {
        for (index, example) in examples.iter().enumerate() {
            let label = format!("{group}[{index}]");
            let texts: Vec<(String, String)> = example
                .policies
                .iter()
                .enumerate()
                .map(|(i, text)| {
                    (
                        format!("{}/{label}/policy{i}.yaml", rule.spec.id),
                        text.clone(),
                    )
                })
                .collect();
            let tree = loader.load_texts(&texts);
            let invalid: Vec<String> = tree
                .files
                .iter()
                .flat_map(|f| f.diagnostics.iter())
                .filter(|d| d.is_error())
                .map(|d| {
                    let at = d
                        .span
                        .map(|s| format!(":{}:{}", s.line, s.column))
                        .unwrap_or_default();
                    format!("{}{at}: {} [{}]", d.file, d.message, d.code.as_str())
                })
                .collect();
            let outcome = if !invalid.is_empty() {
                Outcome::InvalidExample(invalid)
            } else {
                let evaluation = evaluate(
                    &tree,
                    set,
                    &PackSelection::Named(vec![pack.manifest.id.clone()]),
                    loader.catalogue(),
                );
                let fired = evaluation
                    .findings
                    .iter()
                    .any(|f| f.rule_id == rule.spec.id && f.file == texts[0].0);
                // A rule that errors neither fires nor passes: silence here is not a pass.
                let errors: Vec<String> = evaluation
                    .errors
                    .iter()
                    .filter(|d| d.message.contains(&format!("`{}`", rule.spec.id)))
                    .map(|d| d.message.clone())
                    .collect();
                match (must_fire, fired) {
                    _ if !errors.is_empty() => Outcome::EvaluationError(errors),
                    (true, false) => Outcome::Miss,
                    (false, true) => Outcome::FalsePositive,
                    _ => Outcome::Pass,
                }
            };
            results.push(ExampleResult {
                rule: rule.spec.id.clone(),
                pack: pack.manifest.id.clone(),
                example: label,
                description: example.description.clone(),
                outcome,
            });
        }
    }
    results
}
