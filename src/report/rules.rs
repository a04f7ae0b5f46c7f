//! Text output of `rules list` and `rules test`.

use crate::rules::harness::{ExampleResult, Outcome};
use crate::rules::{RulePack, RuleSet, Severity};
use std::fmt::Write;

pub fn list(
    set: &RuleSet,
    chosen: &dyn Fn(&RulePack) -> bool,
    severity: Option<Severity>,
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{:<28} {:<9} {:<18} title", "id", "severity", "pack");
    let mut count = 0;
    for (pack, rule) in set.rules().filter(|(p, _)| chosen(p)) {
        if severity.is_some_and(|s| s != rule.spec.severity) {
            continue;
        }
        count += 1;
        let _ = writeln!(
            out,
            "{:<28} {:<9} {:<18} {}",
            rule.spec.id,
            rule.spec.severity.as_str(),
            pack.manifest.id,
            rule.spec.title.en
        );
    }
    let _ = writeln!(out, "{count} rules");
    out
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
                Outcome::InvalidExample(problems) => {
                    format!("invalid example:\n        {}", problems.join("\n        "))
                }
                Outcome::Pass => String::new(),
            };
            let _ = writeln!(
                out,
                "     {} ({}): {what}",
                result.example,
                result.description.trim()
            );
        }
    }
    let passed = results.len() - failed;
    let _ = writeln!(out, "{passed} passed, {failed} failed");
    (out, failed > 0)
}
