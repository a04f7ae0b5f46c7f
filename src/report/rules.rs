//! Text output of `rules list` and `rules test`.

use super::snippet::visible;
use crate::rules::docs::describe_source;
use crate::rules::harness::{ExampleResult, Outcome};
use crate::rules::{RulePack, RuleSet, Severity, SourceDocument, Text};
use serde::Serialize;
use std::fmt::Write;

pub fn list(
    set: &RuleSet,
    chosen: &dyn Fn(&RulePack) -> bool,
    severity: Option<Severity>,
    long: bool,
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{:<28} {:<9} {:<18} title", "id", "severity", "pack");
    let mut count = 0;
    for (pack, rule) in listed(set, chosen, severity) {
        count += 1;
        let _ = writeln!(
            out,
            "{:<28} {:<9} {:<18} {}",
            rule.spec.id,
            rule.spec.severity.as_str(),
            pack.manifest.id,
            visible(&rule.spec.title.en)
        );
        if long {
            for citation in &rule.spec.citations {
                let requirement = citation
                    .requirement
                    .as_ref()
                    .map(|r| format!(" [{r}]"))
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "    cites {} {}{requirement}\n      {}",
                    visible(&citation.document),
                    visible(&citation.section),
                    visible(&describe_source(pack, &citation.document).replace('*', ""))
                );
            }
        }
    }
    let _ = writeln!(out, "{count} rules");
    out
}

fn listed<'a>(
    set: &'a RuleSet,
    chosen: &'a dyn Fn(&RulePack) -> bool,
    severity: Option<Severity>,
) -> impl Iterator<Item = (&'a RulePack, &'a crate::rules::Rule)> {
    set.rules()
        .filter(move |(p, _)| chosen(p))
        .filter(move |(_, r)| severity.is_none_or(|s| s == r.spec.severity))
}

#[derive(Serialize)]
struct JsonRule<'a> {
    id: &'a str,
    pack: &'a str,
    pack_version: &'a str,
    severity: &'static str,
    title: &'a Text,
    citations: Vec<JsonRuleCitation<'a>>,
}

#[derive(Serialize)]
struct JsonRuleCitation<'a> {
    section: &'a str,
    paraphrase: &'a str,
    requirement: Option<&'a str>,
    /// The cited document as the pack manifest describes it.
    source: Option<&'a SourceDocument>,
}

/// `rules list --format json`: every listed rule with its citations and their sources.
pub fn list_json(
    set: &RuleSet,
    chosen: &dyn Fn(&RulePack) -> bool,
    severity: Option<Severity>,
) -> String {
    let rules: Vec<JsonRule<'_>> = listed(set, chosen, severity)
        .map(|(pack, rule)| JsonRule {
            id: &rule.spec.id,
            pack: &pack.manifest.id,
            pack_version: &pack.manifest.version,
            severity: rule.spec.severity.as_str(),
            title: &rule.spec.title,
            citations: rule
                .spec
                .citations
                .iter()
                .map(|c| JsonRuleCitation {
                    section: &c.section,
                    paraphrase: &c.paraphrase,
                    requirement: c.requirement.as_deref(),
                    source: pack.source(&c.document),
                })
                .collect(),
        })
        .collect();
    let report = serde_json::json!({ "version": 1, "tool": "authaudit", "rules": rules });
    let mut text = serde_json::to_string_pretty(&report)
        .unwrap_or_else(|e| panic!("rule list is not serializable: {e}"));
    text.push('\n');
    text
}

/// The report of a harness run and whether anything failed.
pub fn test_results(results: &[ExampleResult]) -> (String, bool) {
    let mut out = String::new();
    let mut failed = 0;
    let mut rules: Vec<&str> = results.iter().map(|r| r.rule.as_str()).collect();
    rules.dedup();
    for rule in &rules {
        let mine: Vec<&ExampleResult> = results.iter().filter(|r| r.rule == *rule).collect();
        let bad: Vec<&&ExampleResult> =
            mine.iter().filter(|r| r.outcome != Outcome::Pass).collect();
        let fires = mine
            .iter()
            .filter(|r| r.example.starts_with("fires"))
            .count();
        let passes = mine.len() - fires;
        let status = if bad.is_empty() { "ok  " } else { "FAIL" };
        let _ = writeln!(
            out,
            "{status} {rule} ({}; fires on {fires}, silent on {passes})",
            mine.first().map_or("", |r| r.pack.as_str())
        );
        for result in bad {
            failed += 1;
            let what = match &result.outcome {
                Outcome::Miss => "miss: the rule stayed silent where it must fire".to_owned(),
                Outcome::FalsePositive => {
                    "false positive: the rule fired where it must not".to_owned()
                }
                Outcome::EvaluationError(problems) => {
                    format!("error: the condition failed: {}", problems.join("; "))
                }
                Outcome::InvalidExample(problems) => {
                    format!("invalid example:\n        {}", problems.join("\n        "))
                }
                Outcome::Pass => String::new(),
            };
            let _ = writeln!(
                out,
                "     {} ({}): {}",
                result.example,
                visible(result.description.trim()),
                visible(&what)
            );
        }
    }
    let passed = results.len() - failed;
    let _ = writeln!(out, "{passed} passed, {failed} failed");
    (out, failed > 0)
}
