//! JUnit XML, for CI test dashboards (GitLab, Jenkins, Azure DevOps).
//!
//! One `<testsuite>` per service and one `<testcase>` per (rule, flow) from the evaluation's
//! results: a finding is a `<failure>` (title, severity, message, location, citations), a rule
//! that does not apply or is not in force is `<skipped>`, a rule whose condition failed is an
//! `<error>`. A first suite has one test case per input file, failed when the file is invalid
//! or unreadable, so a broken tree never looks clean. Every attribute and text is escaped;
//! characters XML 1.0 cannot carry at all (most C0 controls, U+FFFE, U+FFFF) are replaced by
//! U+FFFD. Nothing is timed, so the same inputs give the same bytes.

use super::check::{CheckOutcome, first_paragraph};
use crate::diagnostic::Diagnostic;
use crate::evaluate::{Finding, Outcome, RuleResult};
use crate::model::format_day;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Arc;

/// Name of the suite of input files; a service id (lower-case letters, digits, `-`) cannot
/// take it.
pub const INPUT_SUITE: &str = "authaudit: input files";

/// Renders `outcome` as a JUnit XML document with a trailing newline.
pub fn render_junit(outcome: &CheckOutcome<'_>) -> String {
    let mut suites = vec![input_suite(outcome)];
    let mut by_service: BTreeMap<Arc<str>, Vec<RuleResult>> = BTreeMap::new();
    for result in outcome.evaluation.results.iter() {
        by_service
            .entry(result.service.clone())
            .or_default()
            .push(result);
    }
    let findings: BTreeMap<(&str, &str, &str, &str), (usize, &Finding)> = outcome
        .evaluation
        .findings
        .iter()
        .enumerate()
        .map(|(index, f)| {
            let key = (
                f.file.as_str(),
                f.service.as_str(),
                f.flow.as_str(),
                f.rule_id.as_str(),
            );
            (key, (index, f))
        })
        .collect();
    let service_names: BTreeMap<&str, &str> = outcome
        .tree
        .policies()
        .map(|(_, p)| (p.service.id.as_str(), p.service.name.as_str()))
        .collect();
    for (service, mut results) in by_service {
        results.sort_by(|a, b| (&a.flow, &a.rule_id, &a.pack).cmp(&(&b.flow, &b.rule_id, &b.pack)));
        let mut suite = Suite::new(&service);
        if let Some(file) = results.first().map(|r| &*r.file) {
            suite.properties.push(("file", file.to_owned()));
        }
        if let Some(name) = service_names.get(&*service) {
            suite.properties.push(("service.name", (*name).to_owned()));
        }
        for result in results {
            let key = (
                &*result.file,
                &*result.service,
                &*result.flow,
                &*result.rule_id,
            );
            let verdict = verdict(outcome, &result, findings.get(&key).copied());
            suite.push(Case {
                classname: format!("{}.{}", result.service, result.flow),
                name: result.rule_id.to_string(),
                file: Some(result.file.to_string()),
                verdict,
            });
        }
        suites.push(suite);
    }
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let total = |count: fn(&Suite) -> usize| suites.iter().map(count).sum::<usize>();
    let _ = writeln!(
        out,
        "<testsuites name=\"authaudit\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\">",
        total(|s| s.cases.len()),
        total(|s| s.count(Kind::Failure)),
        total(|s| s.count(Kind::Error)),
        total(|s| s.count(Kind::Skipped)),
    );
    for suite in &suites {
        suite.write(&mut out);
    }
    out.push_str("</testsuites>\n");
    out
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Failure,
    Error,
    Skipped,
}

/// What a test case concluded; `None` in [`Case::verdict`] is a pass.
struct Verdict {
    kind: Kind,
    message: String,
    kind_attr: Option<String>,
    body: Option<String>,
}

struct Case {
    classname: String,
    name: String,
    file: Option<String>,
    verdict: Option<Verdict>,
}

struct Suite {
    name: String,
    properties: Vec<(&'static str, String)>,
    cases: Vec<Case>,
}

impl Suite {
    fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            properties: Vec::new(),
            cases: Vec::new(),
        }
    }

    fn push(&mut self, case: Case) {
        self.cases.push(case);
    }

    fn count(&self, kind: Kind) -> usize {
        self.cases
            .iter()
            .filter(|c| c.verdict.as_ref().is_some_and(|v| v.kind == kind))
            .count()
    }

    fn write(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\">",
            attr(&self.name),
            self.cases.len(),
            self.count(Kind::Failure),
            self.count(Kind::Error),
            self.count(Kind::Skipped),
        );
        if !self.properties.is_empty() {
            out.push_str("    <properties>\n");
            for (name, value) in &self.properties {
                let _ = writeln!(
                    out,
                    "      <property name=\"{}\" value=\"{}\"/>",
                    attr(name),
                    attr(value)
                );
            }
            out.push_str("    </properties>\n");
        }
        for case in &self.cases {
            let _ = write!(
                out,
                "    <testcase classname=\"{}\" name=\"{}\"",
                attr(&case.classname),
                attr(&case.name)
            );
            if let Some(file) = &case.file {
                let _ = write!(out, " file=\"{}\"", attr(file));
            }
            let Some(verdict) = &case.verdict else {
                out.push_str("/>\n");
                continue;
            };
            out.push_str(">\n");
            let element = match verdict.kind {
                Kind::Failure => "failure",
                Kind::Error => "error",
                Kind::Skipped => "skipped",
            };
            let _ = write!(
                out,
                "      <{element} message=\"{}\"",
                attr(&verdict.message)
            );
            if let Some(kind) = &verdict.kind_attr {
                let _ = write!(out, " type=\"{}\"", attr(kind));
            }
            match &verdict.body {
                Some(body) => {
                    let _ = writeln!(out, ">{}</{element}>", text(body));
                }
                None => out.push_str("/>\n"),
            }
            out.push_str("    </testcase>\n");
        }
        out.push_str("  </testsuite>\n");
    }
}

/// The test case of one rule on one flow.
fn verdict(
    outcome: &CheckOutcome<'_>,
    result: &RuleResult,
    finding: Option<(usize, &Finding)>,
) -> Option<Verdict> {
    let lang = outcome.lang;
    match &result.outcome {
        Outcome::Pass => None,
        Outcome::Fail => Some(match finding {
            // Waived and baselined findings do not fail the gate, so they do not fail the test.
            Some((index, finding)) if !outcome.gate.is_open(index) => Verdict {
                kind: Kind::Skipped,
                message: match outcome.gate.waiver_of(index) {
                    Some(entry) => super::register::waived_reason(entry),
                    None => format!(
                        "baselined: recorded in {}",
                        outcome
                            .gate
                            .baseline
                            .as_ref()
                            .map_or("the baseline", |b| b.file.as_str())
                    ),
                },
                kind_attr: None,
                body: Some(failure_body(outcome, finding)),
            },
            Some((_, finding)) => Verdict {
                kind: Kind::Failure,
                message: lang.pick(&finding.title).to_owned(),
                kind_attr: Some(finding.severity.as_str().to_owned()),
                body: Some(failure_body(outcome, finding)),
            },
            None => Verdict {
                kind: Kind::Failure,
                message: format!("rule {} fired", result.rule_id),
                kind_attr: None,
                body: None,
            },
        }),
        Outcome::NotApplicable(reason) => Some(Verdict {
            kind: Kind::Skipped,
            message: format!("not applicable: {reason}"),
            kind_attr: None,
            body: None,
        }),
        Outcome::NotInForce => Some(Verdict {
            kind: Kind::Skipped,
            message: match outcome.evaluation.at {
                Some(day) => format!(
                    "not in force on {}: none of the rule's sources applied that day",
                    format_day(day)
                ),
                None => "not in force".to_owned(),
            },
            kind_attr: None,
            body: None,
        }),
        Outcome::Error => {
            // Evaluation names the rule and the flow at the start of its diagnostic.
            let prefix = format!(
                "rule `{}` failed on {}/{}:",
                result.rule_id, result.service, result.flow
            );
            let diagnostic = outcome
                .evaluation
                .errors
                .iter()
                .find(|d| d.message.starts_with(&prefix));
            Some(Verdict {
                kind: Kind::Error,
                message: "the rule's condition did not evaluate to true or false".to_owned(),
                kind_attr: Some("rule-evaluation".to_owned()),
                body: diagnostic.map(describe),
            })
        }
    }
}

/// Message, location, citations and the remediation's first paragraph.
fn failure_body(outcome: &CheckOutcome<'_>, finding: &Finding) -> String {
    let mut body = format!(
        "{}\n  --> {}:{}:{} ({})\n  = flow: {}/{} (pack {}, severity {})\n",
        outcome.lang.pick(&finding.message),
        finding.file,
        finding.span.line,
        finding.span.column,
        finding.path,
        finding.service,
        finding.flow,
        finding.pack,
        finding.severity.as_str(),
    );
    for cited in finding.citations.iter() {
        let citation = &cited.citation;
        let _ = write!(body, "  = note: {} {}", citation.document, citation.section);
        if let Some(superseded) = &cited.superseded {
            let _ = write!(body, " ({superseded})");
        }
        let _ = write!(body, ": {}", citation.paraphrase);
        if let Some(requirement) = &citation.requirement {
            let _ = write!(body, " [{requirement}]");
        }
        body.push('\n');
    }
    if let Some(day) = finding.effective_after_as_of {
        let _ = writeln!(
            body,
            "  = note: this rule applies from {}, after the policy's as_of date",
            format_day(day)
        );
    }
    let _ = write!(body, "  = help: {}", first_paragraph(&finding.remediation));
    body
}

/// A diagnostic on one line per entry: `file:line:col: severity[code]: message`.
fn describe(d: &Diagnostic) -> String {
    let mut line = d.file.clone();
    if let Some(span) = d.span {
        let _ = write!(line, ":{}:{}", span.line, span.column);
    }
    let severity = match d.severity {
        crate::diagnostic::Severity::Error => "error",
        crate::diagnostic::Severity::Warning => "warning",
        crate::diagnostic::Severity::Note => "note",
    };
    let _ = write!(line, ": {severity}[{}]: {}", d.code.as_str(), d.message);
    if let Some(path) = &d.path {
        let _ = write!(line, " (at {path})");
    }
    if let Some(hint) = &d.hint {
        let _ = write!(line, "; help: {hint}");
    }
    line
}

/// One test case per input file (and per path that could not be walked): failed when the file
/// has errors.
fn input_suite(outcome: &CheckOutcome<'_>) -> Suite {
    let mut suite = Suite::new(INPUT_SUITE);
    let tree = outcome.tree;
    for file in &tree.files {
        let errors: Vec<&Diagnostic> = file.diagnostics.iter().filter(|d| d.is_error()).collect();
        let verdict = (!errors.is_empty()).then(|| Verdict {
            kind: Kind::Failure,
            message: format!(
                "invalid input: {} error{}",
                errors.len(),
                if errors.len() == 1 { "" } else { "s" }
            ),
            kind_attr: Some("invalid-input".to_owned()),
            body: Some(
                errors
                    .iter()
                    .map(|d| describe(d))
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
        });
        suite.push(Case {
            classname: "input".to_owned(),
            name: file.shown.clone(),
            file: Some(file.shown.clone()),
            verdict,
        });
    }
    for problem in &tree.discovery {
        suite.push(Case {
            classname: "input".to_owned(),
            name: problem.file.clone(),
            file: None,
            verdict: Some(Verdict {
                kind: Kind::Failure,
                message: "unreadable input".to_owned(),
                kind_attr: Some("invalid-input".to_owned()),
                body: Some(describe(problem)),
            }),
        });
    }
    suite
}

/// Whether XML 1.0 can carry `c` at all (its `Char` production).
fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Escapes character data; `\r` as a reference so line-end normalisation keeps it.
fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            c if !xml_char(c) => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Escapes an attribute value (in double quotes); tab, newline and carriage return as
/// references so attribute-value normalisation keeps them.
fn attr(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c if !xml_char(c) => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{attr, text};

    #[test]
    fn escapes_markup_and_replaces_what_xml_cannot_carry() {
        assert_eq!(
            attr("<a href=\"x\">&'\t\n\u{1}"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&apos;&#9;&#10;\u{FFFD}"
        );
        assert_eq!(
            text("a < b && c\r\n\u{0}\u{FFFE}"),
            "a &lt; b &amp;&amp; c&#13;\n\u{FFFD}\u{FFFD}"
        );
    }
}
