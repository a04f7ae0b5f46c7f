//! The terminal format of `authaudit check`: validation errors, then each finding as a
//! rustc-style diagnostic (severity, rule id, location, snippet, citation, remediation), then
//! a summary per severity and per pack. Findings of several rules on one element (same file
//! and span) are shown once, with every rule and its citations. Fixed texts come from
//! [`super::terminal_text`] in the language of `--lang`.

use super::human::{file_counts_in, write_failed_files_in, write_input_diagnostics};
use super::snippet::{Entry, Style, write_diagnostic, write_entry};
use crate::evaluate::{Evaluation, Finding};
use crate::gate::Gate;
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
    /// Which findings waivers and the baseline take out of `failing` (`&gate::NONE`: none).
    pub gate: &'a Gate,
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
    /// Open findings (neither waived nor baselined) at or above `fail_on`: what fails a run.
    pub fn failing(&self) -> usize {
        self.evaluation
            .findings
            .iter()
            .enumerate()
            .filter(|(i, f)| f.severity >= self.fail_on && self.gate.is_open(*i))
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

/// Consecutive runs of findings about one element: the same file and span (findings come
/// sorted by file and span, most severe first). JSON, SARIF and JUnit keep one entry per rule;
/// people read one entry per element. Findings at the flow itself (rules without `at:`, or
/// whose element the file does not write) are about different things and stay apart.
pub fn element_groups<'a, 'f>(
    findings: &'a [&'f Finding],
) -> impl Iterator<Item = &'a [&'f Finding]> {
    findings.chunk_by(|a, b| {
        let within_flow = a.path.0.len() > 2;
        within_flow
            && (&a.file, a.span, &a.service, &a.flow, &a.path)
                == (&b.file, b.span, &b.service, &b.flow, &b.path)
    })
}

/// The notes one rule adds to an entry: its citations and, when it came after the policy's
/// `as_of` day, a note saying so.
fn rule_notes(finding: &Finding, lang: Lang, notes: &mut Vec<(&'static str, String)>) {
    for cited in finding.citations.iter() {
        let citation = &cited.citation;
        let requirement = citation
            .requirement
            .as_ref()
            .map(|r| format!(" [{r}]"))
            .unwrap_or_default();
        let superseded = match (&cited.superseded_by, &cited.until) {
            (Some(next), Some(until)) => {
                Some(lang.format("superseded_by_from", &[("next", next), ("until", until)]))
            }
            (Some(next), None) => Some(lang.format("superseded_by", &[("next", next)])),
            (None, Some(until)) => Some(lang.format("no_longer", &[("until", until)])),
            (None, None) => None,
        }
        .map(|s| format!(" ({s})"))
        .unwrap_or_default();
        notes.push((
            lang.fixed("label.note"),
            format!(
                "{} {}{superseded}: {}{requirement}",
                citation.document, citation.section, citation.paraphrase
            ),
        ));
    }
    if let Some(day) = finding.effective_after_as_of {
        let date = format_day(day);
        notes.push((
            lang.fixed("label.note"),
            lang.format("effective_after", &[("date", &date)]),
        ));
    }
}

/// One entry for the findings of an element: the first (most severe) finding's head, label
/// and snippet; then each rule with its citations and help line.
fn entry<'a>(group: &[&'a Finding], lang: Lang) -> Option<Entry<'a>> {
    let (lead, others) = group.split_first()?;
    let mut notes = vec![(
        lang.fixed("label.flow"),
        lang.format(
            "flow",
            &[
                ("service", &lead.service),
                ("flow", &lead.flow),
                ("pack", &lead.pack),
            ],
        ),
    )];
    rule_notes(lead, lang, &mut notes);
    let help = first_paragraph(&lead.remediation);
    notes.push((lang.fixed("label.help"), help.clone()));
    for other in others {
        notes.push((
            lang.fixed("label.also"),
            lang.format(
                "also",
                &[
                    ("level", &other.severity.as_str()),
                    ("rule", &other.rule_id),
                    ("title", &lang.pick(&other.title)),
                    ("pack", &other.pack),
                ],
            ),
        ));
        rule_notes(other, lang, &mut notes);
        let own = first_paragraph(&other.remediation);
        if own != help {
            notes.push((lang.fixed("label.help"), own));
        }
    }
    Some(Entry {
        level: lead.severity.as_str(),
        severe: lead.severity >= Severity::High,
        code: &lead.rule_id,
        message: lang.pick(&lead.message),
        file: &lead.file,
        span: Some(lead.span),
        label: Some(lang.pick(&lead.title)),
        related: Vec::new(),
        notes,
    })
}

pub fn render(outcome: &CheckOutcome<'_>, color: bool) -> String {
    let style = Style { color };
    let tree = outcome.tree;
    let texts = super::human::text_index(tree);
    let source = super::snippet::Indexed::new(|name: &str| texts.get(name).copied());
    let mut out = String::new();
    write_input_diagnostics(&mut out, tree, style);
    // Waived and baselined findings are listed in the register, not in full.
    let open: Vec<&Finding> = outcome
        .evaluation
        .findings
        .iter()
        .enumerate()
        .filter(|(i, _)| outcome.gate.is_open(*i))
        .map(|(_, f)| f)
        .collect();
    for group in element_groups(&open) {
        if let Some(entry) = entry(group, outcome.lang) {
            write_entry(&mut out, &entry, &source, style);
        }
    }
    for error in &outcome.evaluation.errors {
        write_diagnostic(&mut out, error, &|_: &str| None, style);
    }
    super::register::write_gate_diagnostics(&mut out, outcome, style);
    super::register::write_register(&mut out, outcome, style);
    write_summary(&mut out, outcome, style);
    out
}

fn write_summary(out: &mut String, outcome: &CheckOutcome<'_>, style: Style) {
    let findings = &outcome.evaluation.findings;
    let tree = outcome.tree;
    let lang = outcome.lang;
    let packs = if outcome.packs_run.is_empty() {
        lang.fixed("none").to_owned()
    } else {
        outcome.packs_run.join(", ")
    };
    let packs = lang.format("packs_run", &[("packs", &packs)]);
    let _ = writeln!(out, "{}; {packs}", file_counts_in(tree, style, lang));
    let by_severity: Vec<String> = Severity::ALL
        .iter()
        .map(|s| {
            format!(
                "{} {}",
                findings.iter().filter(|f| f.severity == *s).count(),
                lang.severity(*s)
            )
        })
        .collect();
    let by_severity = by_severity.join(", ");
    let count = findings.len();
    let mut line = lang.format(
        "findings",
        &[("count", &count), ("by_severity", &by_severity)],
    );
    // Findings count only what was evaluated: say so whenever something was not, so "0"
    // never reads as a clean result over files that could not be judged.
    let evaluated = tree.files.iter().filter(|f| f.policy.is_some()).count();
    let not_evaluated = tree.files.len() - evaluated;
    let rule_errors = outcome.evaluation.errors.len();
    if not_evaluated > 0 || rule_errors > 0 || !tree.discovery.is_empty() {
        let files = lang.plural(evaluated, "file", "files_plural");
        line.push(' ');
        line.push_str(&lang.format("evaluated", &[("evaluated", &evaluated), ("files", &files)]));
    }
    if not_evaluated > 0 {
        let files = lang.plural(not_evaluated, "file", "files_plural");
        line.push_str("; ");
        line.push_str(&lang.format(
            "not_evaluated",
            &[("count", &not_evaluated), ("files", &files)],
        ));
    }
    if rule_errors > 0 {
        let evaluations = lang.plural(rule_errors, "evaluation", "evaluations");
        line.push_str("; ");
        line.push_str(&lang.format(
            "rule_errors",
            &[("count", &rule_errors), ("evaluations", &evaluations)],
        ));
    }
    let _ = writeln!(out, "  {line}");
    let mut by_pack: BTreeMap<&str, usize> = BTreeMap::new();
    for finding in findings {
        *by_pack.entry(finding.pack.as_str()).or_default() += 1;
    }
    for (pack, count) in by_pack {
        let _ = writeln!(out, "  {pack}: {count}");
    }
    if let Some(line) = super::register::summary_line(outcome) {
        let _ = writeln!(out, "{line}");
    }
    if let Some(day) = outcome.evaluation.at {
        let skipped = &outcome.evaluation.not_in_force;
        let date = format_day(day);
        let _ = write!(out, "  {}", lang.format("in_force", &[("date", &date)]));
        if skipped.is_empty() {
            let _ = writeln!(out);
        } else {
            let ids: Vec<&str> = skipped.iter().map(|(_, id)| id.as_str()).collect();
            let rules = ids.join(", ");
            let _ = writeln!(
                out,
                "; {}",
                lang.format("not_in_force", &[("rules", &rules)])
            );
        }
    }
    write_failed_files_in(out, tree, lang);
    let failing = outcome.failing();
    let line = lang.format(
        "failing",
        &[("count", &failing), ("severity", &outcome.fail_on.as_str())],
    );
    let _ = writeln!(out, "  {line}");
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
