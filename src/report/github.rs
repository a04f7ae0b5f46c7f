//! GitHub Actions: workflow-command annotations and the job's step summary, printed by
//! `check` and `report` when `GITHUB_ACTIONS=true`.
//!
//! Annotations go to standard error, which the runner reads for workflow commands as it does
//! standard output, so a report on standard output (JSON, SARIF) stays byte-identical in and
//! out of CI. Findings at or above `--fail-on` are `::error`, the others `::warning`; input
//! problems keep their own level. Every value is escaped as GitHub's toolkit escapes it
//! (`%`, CR and LF in the message; also `:` and `,` in properties), and any other control or
//! invisible character is shown as `\u{..}`, so a policy or pack can neither end a command early
//! nor write a command of its own. The step summary is Markdown with no link: counts by
//! severity, then the findings that fail the gate and the input problems, as tables.
//!
//! The functions that build text are pure; [`publish`] is the one place that writes.

use super::check::{CheckOutcome, Lang, first_paragraph};
use super::document::escape_markdown;
use super::snippet::visible;
use crate::diagnostic::{self, Diagnostic};
use crate::evaluate::Finding;
use crate::model::format_day;
use crate::rules::Severity;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;

/// Rows of one table of the step summary: GitHub refuses a step summary over 1 MiB, and a
/// table longer than this is read in the SARIF or JSON report anyway.
pub const SUMMARY_ROWS: usize = 200;

/// Characters of one table cell of the step summary, for the same reason.
const CELL_CHARS: usize = 300;

/// What the runner tells a step through its environment.
#[derive(Debug, Clone, Default)]
pub struct Env {
    /// `GITHUB_ACTIONS` is `true`.
    pub active: bool,
    /// `GITHUB_STEP_SUMMARY`: the file the job's summary is appended to.
    pub step_summary: Option<PathBuf>,
}

impl Env {
    /// Reads `GITHUB_ACTIONS` and `GITHUB_STEP_SUMMARY`.
    pub fn from_process() -> Self {
        Self::from_vars(
            std::env::var_os("GITHUB_ACTIONS"),
            std::env::var_os("GITHUB_STEP_SUMMARY"),
        )
    }

    pub fn from_vars(actions: Option<OsString>, step_summary: Option<OsString>) -> Self {
        Self {
            active: actions.is_some_and(|v| v == "true"),
            step_summary: step_summary.filter(|p| !p.is_empty()).map(PathBuf::from),
        }
    }
}

/// When `env` says the run is a GitHub Actions step: prints the annotations to standard error
/// and appends the summary to the step-summary file. A summary that cannot be written is
/// reported as a warning annotation and leaves the exit code alone: the gate's verdict is the
/// policies', not the runner's file system's.
pub fn publish(outcome: &CheckOutcome<'_>, env: &Env) {
    if !env.active {
        return;
    }
    let mut annotations = annotations(outcome);
    if let Some(file) = &env.step_summary {
        let appended = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(file)
            .and_then(|mut f| f.write_all(step_summary(outcome).as_bytes()));
        if let Err(e) = appended {
            annotations.push_str(&command(
                "warning",
                &[("title", "authaudit")],
                &format!("cannot append the step summary to {}: {e}", file.display()),
            ));
        }
    }
    let mut stderr = std::io::stderr().lock();
    let _ = stderr
        .write_all(annotations.as_bytes())
        .and_then(|()| stderr.flush());
}

/// Workflow-command data (a message): `%`, CR and LF escaped as `%25`, `%0D`, `%0A`, then any
/// other control or invisible character shown as `\u{..}`.
pub fn escape_data(text: &str) -> String {
    let escaped = text
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A");
    visible(&escaped).into_owned()
}

/// A workflow-command property value: [`escape_data`], and `:` and `,` (which end the
/// command's properties) as `%3A` and `%2C`.
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// One workflow command: `::name key=value,...::message` and a line feed.
fn command(name: &str, properties: &[(&str, &str)], message: &str) -> String {
    let properties: Vec<String> = properties
        .iter()
        .map(|(key, value)| format!("{key}={}", escape_property(value)))
        .collect();
    let separator = if properties.is_empty() { "" } else { " " };
    format!(
        "::{name}{separator}{}::{}\n",
        properties.join(","),
        escape_data(message)
    )
}

/// Whether the finding at `index` makes the gate fail: open (neither waived nor baselined)
/// and at or above `--fail-on`.
fn fails(outcome: &CheckOutcome<'_>, index: usize, finding: &Finding) -> bool {
    finding.severity >= outcome.fail_on && outcome.gate.is_open(index)
}

/// The findings the gate counts, with their index, worst first (stable within a severity).
fn open_findings<'o>(outcome: &'o CheckOutcome<'_>) -> Vec<(usize, &'o Finding)> {
    let mut open: Vec<(usize, &Finding)> = outcome
        .evaluation
        .findings
        .iter()
        .enumerate()
        .filter(|(i, _)| outcome.gate.is_open(*i))
        .collect();
    open.sort_by_key(|(_, f)| std::cmp::Reverse(f.severity));
    open
}

/// Every annotation of a run: input problems first (they are why a run exits 2), then the
/// expired and stale waivers, then the open findings, worst first, because GitHub shows only
/// the first few of each level per step. Waived and baselined findings are accepted or known:
/// the reports' register lists them, the pull request is not annotated with them.
pub fn annotations(outcome: &CheckOutcome<'_>) -> String {
    let tree = outcome.tree;
    let mut out = String::new();
    for d in tree
        .discovery
        .iter()
        .chain(tree.files.iter().flat_map(|f| &f.diagnostics))
        .chain(&outcome.evaluation.errors)
        .chain(&outcome.gate.diagnostics)
    {
        out.push_str(&diagnostic_annotation(d));
    }
    for (index, finding) in open_findings(outcome) {
        out.push_str(&finding_annotation(outcome, index, finding));
    }
    out
}

fn diagnostic_annotation(d: &Diagnostic) -> String {
    let level = match d.severity {
        diagnostic::Severity::Error => "error",
        diagnostic::Severity::Warning => "warning",
        diagnostic::Severity::Note => "notice",
    };
    let mut message = d.message.clone();
    if let Some(path) = &d.path {
        let _ = write!(message, "\nat: {path}");
    }
    if let Some(hint) = &d.hint {
        let _ = write!(message, "\nhelp: {hint}");
    }
    let file = repository_path(&d.file);
    let line = d.span.map(|s| s.line.to_string());
    let column = d.span.map(|s| s.column.to_string());
    let title = format!("authaudit {}", d.code.as_str());
    let mut properties = vec![("file", file.as_str())];
    if let (Some(line), Some(column)) = (&line, &column) {
        properties.push(("line", line));
        properties.push(("col", column));
    }
    properties.push(("title", &title));
    command(level, &properties, &message)
}

fn finding_annotation(outcome: &CheckOutcome<'_>, index: usize, finding: &Finding) -> String {
    let level = if fails(outcome, index, finding) {
        "error"
    } else {
        "warning"
    };
    let lang = outcome.lang;
    let title = format!(
        "{} {}: {}",
        finding.severity.as_str(),
        finding.rule_id,
        lang.pick(&finding.title)
    );
    let message = format!(
        "{}\nflow: {}/{} (pack {})\nhelp: {}",
        lang.pick(&finding.message),
        finding.service,
        finding.flow,
        finding.pack,
        first_paragraph(&finding.remediation)
    );
    let file = repository_path(&finding.file);
    let line = finding.span.line.to_string();
    let column = finding.span.column.to_string();
    command(
        level,
        &[
            ("file", &file),
            ("line", &line),
            ("col", &column),
            ("title", &title),
        ],
        &message,
    )
}

/// A file as CI services name it, relative to the repository root when the run was (paths
/// as given, from the root): forward slashes, no leading `./`.
pub fn repository_path(shown: &str) -> String {
    let path = shown.replace('\\', "/");
    let mut rest = path.as_str();
    while let Some(stripped) = rest.strip_prefix("./") {
        rest = stripped;
    }
    rest.to_owned()
}

/// Markdown text with no link: [`escape_markdown`] already keeps brackets and angle brackets
/// from forming links or HTML; this also breaks the bare addresses GitHub would turn into
/// links (`scheme://`, `www.`, `name@host`). Takes escaped Markdown.
pub fn link_free(escaped: &str) -> String {
    let mut out = String::with_capacity(escaped.len());
    let mut rest = escaped;
    while let Some(c) = rest.chars().next() {
        if rest.starts_with("://") {
            out.push_str("\\://");
            rest = &rest[3..];
        } else if rest
            .as_bytes()
            .get(..4)
            .is_some_and(|head| head.eq_ignore_ascii_case(b"www."))
        {
            // Compared as bytes: byte 4 may fall inside a multi-byte character, and a match
            // is ASCII, so slicing after it is on a character boundary.
            out.push_str(&rest[..3]);
            out.push_str("\\.");
            rest = &rest[4..];
        } else if c == '@' {
            out.push_str("\\@");
            rest = &rest[1..];
        } else {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

/// A table cell: escaped, link-free, and cut to [`CELL_CHARS`].
fn cell(text: &str) -> String {
    let cut: String = text.chars().take(CELL_CHARS).collect();
    let ellipsis = if cut.len() < text.len() { "…" } else { "" };
    format!("{}{ellipsis}", link_free(&escape_markdown(&cut)))
}

/// The exit code the run ends with and why, as `check` decides it.
fn verdict(outcome: &CheckOutcome<'_>) -> (u8, String) {
    let tree = outcome.tree;
    let invalid = tree.files.iter().filter(|f| !f.is_valid()).count();
    let mut problems = Vec::new();
    if tree.files.is_empty() && tree.discovery.is_empty() {
        problems.push("no policy file was found".to_owned());
    }
    if !tree.discovery.is_empty() {
        problems.push(count(
            tree.discovery.len(),
            "path not checked",
            "paths not checked",
        ));
    }
    if invalid > 0 {
        problems.push(count(invalid, "invalid file", "invalid files"));
    }
    if !outcome.evaluation.errors.is_empty() {
        problems.push(count(
            outcome.evaluation.errors.len(),
            "rule failed to evaluate",
            "rules failed to evaluate",
        ));
    }
    let failing = outcome.failing();
    if !problems.is_empty() {
        (
            2,
            format!(
                "the input could not be fully evaluated ({})",
                problems.join(", ")
            ),
        )
    } else if failing > 0 {
        (
            1,
            format!(
                "{} at or above {}",
                count(failing, "finding", "findings"),
                outcome.fail_on.as_str()
            ),
        )
    } else {
        (
            0,
            format!("no finding at or above {}", outcome.fail_on.as_str()),
        )
    }
}

/// The Markdown appended to `$GITHUB_STEP_SUMMARY`.
pub fn step_summary(outcome: &CheckOutcome<'_>) -> String {
    let mut out = String::new();
    let (code, why) = verdict(outcome);
    let state = match code {
        0 => "passed",
        1 => "failed",
        _ => "could not decide",
    };
    let _ = writeln!(out, "## authaudit: gate {state}\n");
    let _ = writeln!(out, "Exit code {code}: {}.\n", cell(&why));
    let findings = &outcome.evaluation.findings;
    out.push_str("| severity | findings |\n|---|---:|\n");
    for severity in Severity::ALL {
        let n = findings.iter().filter(|f| f.severity == severity).count();
        let marker = if severity >= outcome.fail_on {
            " (fails the gate)"
        } else {
            ""
        };
        let _ = writeln!(out, "| {}{marker} | {n} |", severity.as_str());
    }
    let _ = writeln!(out, "| total | {} |\n", findings.len());
    let tree = outcome.tree;
    let invalid = tree.files.iter().filter(|f| !f.is_valid()).count();
    let _ = write!(
        out,
        "{} checked, {invalid} invalid; packs run: {}",
        count(tree.files.len(), "file", "files"),
        if outcome.packs_run.is_empty() {
            "none".to_owned()
        } else {
            cell(&outcome.packs_run.join(", "))
        }
    );
    if let Some(at) = outcome.evaluation.at {
        let _ = write!(out, "; rules in force on {}", format_day(at));
    }
    let gate = outcome.gate;
    if gate.in_use() {
        let _ = write!(
            out,
            "; {} waived, {} baselined (they do not fail the gate)",
            gate.waived(),
            gate.baselined()
        );
    }
    out.push_str(".\n\n");
    write_failing_table(&mut out, outcome);
    write_problem_table(&mut out, outcome);
    out
}

fn write_failing_table(out: &mut String, outcome: &CheckOutcome<'_>) {
    let failing: Vec<&Finding> = open_findings(outcome)
        .into_iter()
        .filter(|(i, f)| fails(outcome, *i, f))
        .map(|(_, f)| f)
        .collect();
    if failing.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "### Findings at or above {} ({})\n",
        outcome.fail_on.as_str(),
        failing.len()
    );
    out.push_str("| severity | rule | service / flow | where | title |\n|---|---|---|---|---|\n");
    let lang: Lang = outcome.lang;
    for f in failing.iter().take(SUMMARY_ROWS) {
        let _ = writeln!(
            out,
            "| {} | {} | {} / {} | {}:{}:{} | {} |",
            f.severity.as_str(),
            cell(&f.rule_id),
            cell(&f.service),
            cell(&f.flow),
            cell(&repository_path(&f.file)),
            f.span.line,
            f.span.column,
            cell(lang.pick(&f.title))
        );
    }
    write_more(out, failing.len());
}

fn write_problem_table(out: &mut String, outcome: &CheckOutcome<'_>) {
    let tree = outcome.tree;
    let problems: Vec<&Diagnostic> = tree
        .discovery
        .iter()
        .chain(tree.files.iter().flat_map(|f| &f.diagnostics))
        .chain(&outcome.evaluation.errors)
        .filter(|d| d.severity == diagnostic::Severity::Error)
        .collect();
    if problems.is_empty() {
        return;
    }
    let _ = writeln!(out, "### Input problems ({})\n", problems.len());
    out.push_str("| where | problem | message |\n|---|---|---|\n");
    for d in problems.iter().take(SUMMARY_ROWS) {
        let place = match d.span {
            Some(span) => format!("{}:{}:{}", repository_path(&d.file), span.line, span.column),
            None => repository_path(&d.file),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            cell(&place),
            d.code.as_str(),
            cell(&d.message)
        );
    }
    write_more(out, problems.len());
}

/// `1 file`, `2 files`.
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn write_more(out: &mut String, total: usize) {
    if total > SUMMARY_ROWS {
        let _ = writeln!(
            out,
            "\n{} more not shown here: see the SARIF, JSON or JUnit report.",
            total - SUMMARY_ROWS
        );
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_and_properties_are_escaped_as_the_toolkit_does() {
        assert_eq!(escape_data("50%\r\nnext: a,b"), "50%25%0D%0Anext: a,b");
        assert_eq!(
            escape_property("50%\r\nnext: a,b"),
            "50%25%0D%0Anext%3A a%2Cb"
        );
        // An already escaped sequence is escaped again, so it reads back as written.
        assert_eq!(escape_data("%0A"), "%250A");
    }

    #[test]
    fn other_control_characters_never_reach_the_log_raw() {
        assert_eq!(
            escape_data("a\u{1b}[31mb\u{202e}"),
            "a\\u{1b}[31mb\\u{202e}"
        );
        assert_eq!(escape_property("x\ty"), "x\\u{9}y");
    }

    #[test]
    fn a_command_with_hostile_values_stays_one_command() {
        let line = command(
            "error",
            &[("file", "a,b:c.yaml"), ("title", "t::x")],
            "m\n::error::forged",
        );
        assert_eq!(
            line,
            "::error file=a%2Cb%3Ac.yaml,title=t%3A%3Ax::m%0A::error::forged\n"
        );
        assert_eq!(line.matches('\n').count(), 1);
    }

    #[test]
    fn only_true_turns_it_on() {
        let on = Env::from_vars(Some("true".into()), Some("".into()));
        assert!(on.active);
        assert!(on.step_summary.is_none());
        assert!(!Env::from_vars(Some("1".into()), None).active);
        assert!(!Env::from_vars(None, None).active);
    }

    #[test]
    fn addresses_do_not_become_links() {
        assert_eq!(
            link_free("see https://x.example and WWW.y.example or a@b.example"),
            "see https\\://x.example and WWW\\.y.example or a\\@b.example"
        );
        assert_eq!(repository_path("././p/a.yaml"), "p/a.yaml");
    }
}
