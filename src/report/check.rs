//! The terminal format of `authaudit check`: validation errors, then each finding as a
//! rustc-style diagnostic (severity, rule id, location, snippet, citation, remediation), then
//! a summary per severity and per pack.

use super::human::{file_counts, write_failed_files, write_input_diagnostics};
use super::snippet::{Entry, Style, write_diagnostic, write_entry};
use crate::evaluate::{Evaluation, Finding};
use crate::load::PolicyTree;
use crate::model::format_day;
use crate::rules::Severity;
use std::collections::BTreeMap;
use std::fmt::Write;

/// Everything `check` reports.
pub struct CheckOutcome<'a> {
    pub tree: &'a PolicyTree,
    pub evaluation: &'a Evaluation,
    pub packs_run: Vec<String>,
    pub fail_on: Severity,
    pub lang: Lang,
}

/// Language of finding titles and messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    En,
    Ja,
}

impl Lang {
    pub fn pick(self, text: &crate::rules::Text) -> &str {
        match self {
            Lang::En => &text.en,
            Lang::Ja => &text.ja,
        }
    }
}

impl CheckOutcome<'_> {
    pub fn failing(&self) -> usize {
        self.evaluation
            .findings
            .iter()
            .filter(|f| f.severity >= self.fail_on)
            .count()
    }
}

/// The first paragraph of a Markdown text on one line (with the list it introduces, when it
/// ends with a colon): the help line of a finding.
pub fn first_paragraph(markdown: &str) -> String {
    let flatten = |p: &str| p.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut paragraphs = markdown.trim().split("\n\n");
    let first = flatten(paragraphs.next().unwrap_or_default());
    let is_list = |p: &str| p.trim_start().starts_with("- ") || p.trim_start().starts_with("* ");
    match (first.ends_with(':'), paragraphs.next()) {
        (true, Some(list)) if is_list(list) => {
            let mut items: Vec<String> = Vec::new();
            for line in list.lines().map(str::trim).filter(|l| !l.is_empty()) {
                match line.strip_prefix("- ").or_else(|| line.strip_prefix("* ")) {
                    Some(item) => items.push(item.to_owned()),
                    None => match items.last_mut() {
                        Some(last) => {
                            last.push(' ');
                            last.push_str(line);
                        }
                        None => items.push(line.to_owned()),
                    },
                }
            }
            format!("{first} {}", items.join("; "))
        }
        _ => first,
    }
}

fn entry(finding: &Finding, lang: Lang) -> Entry<'_> {
    let mut notes = vec![(
        "flow",
        format!(
            "{}/{} (pack {})",
            finding.service, finding.flow, finding.pack
        ),
    )];
    for cited in &finding.citations {
        let citation = &cited.citation;
        let requirement = citation
            .requirement
            .as_ref()
            .map(|r| format!(" [{r}]"))
            .unwrap_or_default();
        let superseded = cited
            .superseded
            .as_ref()
            .map(|s| format!(" ({s})"))
            .unwrap_or_default();
        notes.push((
            "note",
            format!(
                "{} {}{superseded}: {}{requirement}",
                citation.document, citation.section, citation.paraphrase
            ),
        ));
    }
    if let Some(day) = finding.effective_after_as_of {
        notes.push((
            "note",
            format!(
                "this rule applies from {}, after the policy's as_of date: the design is judged against guidance that came later",
                format_day(day)
            ),
        ));
    }
    notes.push(("help", first_paragraph(&finding.remediation)));
    Entry {
        level: finding.severity.as_str(),
        severe: finding.severity >= Severity::High,
        code: &finding.rule_id,
        message: lang.pick(&finding.message),
        file: &finding.file,
        span: Some(finding.span),
        label: Some(lang.pick(&finding.title)),
        related: Vec::new(),
        notes,
    }
}

pub fn render(outcome: &CheckOutcome<'_>, color: bool) -> String {
    let style = Style { color };
    let tree = outcome.tree;
    let texts = super::human::text_index(tree);
    let source = |name: &str| texts.get(name).copied();
    let mut out = String::new();
    write_input_diagnostics(&mut out, tree, style);
    for finding in &outcome.evaluation.findings {
        write_entry(&mut out, &entry(finding, outcome.lang), &source, style);
    }
    for error in &outcome.evaluation.errors {
        write_diagnostic(&mut out, error, &|_| None, style);
    }
    write_summary(&mut out, outcome, style);
    out
}

fn write_summary(out: &mut String, outcome: &CheckOutcome<'_>, style: Style) {
    let findings = &outcome.evaluation.findings;
    let tree = outcome.tree;
    let packs = if outcome.packs_run.is_empty() {
        "none".to_owned()
    } else {
        outcome.packs_run.join(", ")
    };
    let _ = writeln!(out, "{}; packs run: {packs}", file_counts(tree, style));
    let by_severity: Vec<String> = Severity::ALL
        .iter()
        .map(|s| {
            format!(
                "{} {}",
                findings.iter().filter(|f| f.severity == *s).count(),
                s.as_str()
            )
        })
        .collect();
    let _ = writeln!(
        out,
        "  findings: {} ({})",
        findings.len(),
        by_severity.join(", ")
    );
    let mut by_pack: BTreeMap<&str, usize> = BTreeMap::new();
    for finding in findings {
        *by_pack.entry(finding.pack.as_str()).or_default() += 1;
    }
    for (pack, count) in by_pack {
        let _ = writeln!(out, "  {pack}: {count}");
    }
    if let Some(day) = outcome.evaluation.at {
        let skipped = &outcome.evaluation.not_in_force;
        let _ = write!(out, "  rules in force on {}", format_day(day));
        if skipped.is_empty() {
            let _ = writeln!(out);
        } else {
            let ids: Vec<&str> = skipped.iter().map(|(_, id)| id.as_str()).collect();
            let _ = writeln!(
                out,
                "; not yet or no longer in force, not run: {}",
                ids.join(", ")
            );
        }
    }
    write_failed_files(out, tree);
    let _ = writeln!(
        out,
        "  {} at or above --fail-on {}",
        outcome.failing(),
        outcome.fail_on.as_str()
    );
}

#[cfg(test)]
mod tests {
    use super::first_paragraph;

    #[test]
    fn help_line_is_the_first_paragraph_with_its_list() {
        let md = "Add a second element, for example:\n\n- an app approval\n  on a bound device\n- a passkey\n\nMore text.";
        assert_eq!(
            first_paragraph(md),
            "Add a second element, for example: an app approval on a bound device; a passkey"
        );
        let fenced = "Declare a limit:\n\n```yaml\nlimits: {}\n```";
        assert_eq!(first_paragraph(fenced), "Declare a limit:");
    }
}
