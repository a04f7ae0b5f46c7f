//! The machine format. These structs are the contract (`"version": 1`); they are kept apart
//! from the internal types so refactoring never changes what users parse.

use crate::diagnostic::Diagnostic;
use crate::load::PolicyTree;
use serde::Serialize;

/// Version of the JSON output format.
pub const VERSION: u32 = 1;

#[derive(Serialize)]
struct ValidationReport<'a> {
    version: u32,
    tool: &'static str,
    files: Vec<FileEntry<'a>>,
    discovery: Vec<JsonDiagnostic<'a>>,
    summary: Summary,
}

#[derive(Serialize)]
struct FileEntry<'a> {
    path: &'a str,
    valid: bool,
    service: Option<&'a str>,
    diagnostics: Vec<JsonDiagnostic<'a>>,
}

#[derive(Serialize)]
struct Summary {
    files: usize,
    valid: usize,
    invalid: usize,
    not_checked: usize,
    errors: usize,
}

#[derive(Serialize)]
pub(crate) struct JsonDiagnostic<'a> {
    severity: &'static str,
    code: String,
    message: &'a str,
    file: &'a str,
    line: Option<u32>,
    column: Option<u32>,
    path: Option<String>,
    hint: Option<&'a str>,
    related: Vec<JsonRelated<'a>>,
}

#[derive(Serialize)]
pub(crate) struct JsonRelated<'a> {
    file: &'a str,
    line: u32,
    column: u32,
    message: &'a str,
}

impl<'a> From<&'a Diagnostic> for JsonDiagnostic<'a> {
    fn from(d: &'a Diagnostic) -> Self {
        Self {
            severity: match d.severity {
                crate::diagnostic::Severity::Error => "error",
                crate::diagnostic::Severity::Warning => "warning",
            },
            code: d.code.as_str(),
            message: &d.message,
            file: &d.file,
            line: d.span.map(|s| s.line),
            column: d.span.map(|s| s.column),
            path: d.path.as_ref().map(ToString::to_string),
            hint: d.hint.as_deref(),
            related: d
                .related
                .iter()
                .map(|r| JsonRelated {
                    file: &r.file,
                    line: r.span.line,
                    column: r.span.column,
                    message: &r.message,
                })
                .collect(),
        }
    }
}

pub fn render_validation(tree: &PolicyTree) -> String {
    let files: Vec<FileEntry<'_>> = tree
        .files
        .iter()
        .map(|f| FileEntry {
            path: &f.shown,
            valid: f.is_valid(),
            service: f
                .json
                .as_ref()
                .and_then(|j| j.pointer("/service/id"))
                .and_then(|v| v.as_str()),
            diagnostics: f.diagnostics.iter().map(JsonDiagnostic::from).collect(),
        })
        .collect();
    let invalid = files.iter().filter(|f| !f.valid).count();
    let report = ValidationReport {
        version: VERSION,
        tool: "authaudit",
        summary: Summary {
            files: files.len(),
            valid: files.len() - invalid,
            invalid,
            not_checked: tree.discovery.len(),
            errors: tree.discovery.len()
                + tree
                    .files
                    .iter()
                    .map(|f| f.diagnostics.len())
                    .sum::<usize>(),
        },
        discovery: tree.discovery.iter().map(JsonDiagnostic::from).collect(),
        files,
    };
    let mut text = serde_json::to_string_pretty(&report)
        .unwrap_or_else(|e| panic!("validation report is not serializable: {e}"));
    text.push('\n');
    text
}
