//! GitLab code quality (`report --format codequality`, `check --output codequality=FILE`): the
//! subset of the Code Climate issue format that GitLab reads from a job's
//! `artifacts:reports:codequality`, a JSON array of issues, each with `description`,
//! `check_name`, `fingerprint`, `severity` and `location {path, lines {begin}}`.
//!
//! GitLab keeps one issue per fingerprint and compares the fingerprints of a merge request's
//! pipeline with its target branch's, so findings carry the SARIF fingerprint (rule, service,
//! flow, YAML path: unchanged when an edit only moves the line). Input problems are issues too,
//! so a broken tree never looks clean in the merge request widget; waived and baselined
//! findings are left out, as they are out of the gate.

use super::check::CheckOutcome;
use super::github::repository_path;
use super::sarif::fingerprint;
use crate::diagnostic::{self, Diagnostic};
use crate::rules::Severity;
use serde::Serialize;
use sha2::{Digest, Sha256};

#[derive(Serialize)]
struct Issue {
    description: String,
    check_name: String,
    fingerprint: String,
    severity: &'static str,
    location: Location,
}

#[derive(Serialize)]
struct Location {
    path: String,
    lines: Lines,
}

#[derive(Serialize)]
struct Lines {
    begin: u32,
}

/// GitLab's five levels for authaudit's five severities, in the same order.
fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "blocker",
        Severity::High => "critical",
        Severity::Medium => "major",
        Severity::Low => "minor",
        Severity::Info => "info",
    }
}

/// The code quality report of `outcome`: input problems, then the open findings in report
/// order.
pub fn render_codequality(outcome: &CheckOutcome<'_>) -> String {
    let tree = outcome.tree;
    let lang = outcome.lang;
    let problems = tree
        .discovery
        .iter()
        .chain(tree.files.iter().flat_map(|f| &f.diagnostics))
        .chain(&outcome.evaluation.errors)
        .map(problem_issue);
    // Waived and baselined findings are accepted or known: the widget shows what is open, and
    // a waiver that expires brings its findings back as new issues.
    let findings = outcome
        .evaluation
        .findings
        .iter()
        .enumerate()
        .filter(|(i, _)| outcome.gate.is_open(*i))
        .map(|(_, f)| Issue {
            description: format!(
                "{}: {} ({}/{})",
                f.rule_id,
                lang.pick(&f.title),
                f.service,
                f.flow
            ),
            check_name: f.rule_id.clone(),
            fingerprint: fingerprint(f),
            severity: level(f.severity),
            location: Location {
                path: repository_path(&f.file),
                lines: Lines { begin: f.span.line },
            },
        });
    let issues: Vec<Issue> = problems.chain(findings).collect();
    let mut text = serde_json::to_string_pretty(&issues)
        .unwrap_or_else(|e| panic!("code quality report is not serializable: {e}"));
    text.push('\n');
    text
}

/// An input problem as an issue: an error blocks the gate (exit 2), so it is a blocker.
fn problem_issue(d: &Diagnostic) -> Issue {
    let severity = match d.severity {
        diagnostic::Severity::Error => "blocker",
        diagnostic::Severity::Warning => "minor",
        diagnostic::Severity::Note => "info",
    };
    let code = d.code.as_str();
    let line = d.span.map_or(1, |s| s.line);
    let place = d
        .path
        .as_ref()
        .map_or_else(|| format!("{line}"), ToString::to_string);
    Issue {
        description: d.message.clone(),
        check_name: format!("authaudit/{code}"),
        fingerprint: hash(&["diagnostic", &code, &d.file, &place, &d.message]),
        severity,
        location: Location {
            path: repository_path(&d.file),
            lines: Lines { begin: line },
        },
    }
}

/// SHA-256 of length-prefixed parts, in hex.
fn hash(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part.as_bytes());
    }
    hasher
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}
