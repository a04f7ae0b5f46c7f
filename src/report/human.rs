//! The terminal format: rustc-style diagnostics, then a summary naming every failed file.

use super::snippet::{Style, write_diagnostic};
use crate::load::PolicyTree;
use std::fmt::Write;

pub fn render_validation(tree: &PolicyTree, color: bool) -> String {
    let style = Style { color };
    let mut out = String::new();
    write_input_diagnostics(&mut out, tree, style);
    let _ = writeln!(out, "{}", file_counts(tree, style));
    write_failed_files(&mut out, tree);
    out
}

/// The summary headline: `summary: N files checked, V valid, I invalid`.
pub fn file_counts(tree: &PolicyTree, style: Style) -> String {
    let invalid = tree.files.iter().filter(|f| !f.is_valid()).count();
    let total = tree.files.len();
    format!(
        "{}: {total} {} checked, {} valid, {invalid} invalid",
        style.bold("summary"),
        plural(total, "file", "files"),
        total - invalid,
    )
}

/// Every problem with the input: walking errors, then each file's diagnostics.
/// Each file's text by its shown name, built once per render: looking a file up by scanning
/// the tree for every diagnostic or finding is quadratic on large trees.
pub fn text_index(tree: &PolicyTree) -> std::collections::HashMap<&str, &str> {
    tree.files
        .iter()
        .filter_map(|f| f.text.as_deref().map(|t| (f.shown.as_str(), t)))
        .collect()
}

pub fn write_input_diagnostics(out: &mut String, tree: &PolicyTree, style: Style) {
    let texts = text_index(tree);
    let source = |name: &str| texts.get(name).copied();
    for diagnostic in tree
        .discovery
        .iter()
        .chain(tree.files.iter().flat_map(|f| &f.diagnostics))
    {
        write_diagnostic(out, diagnostic, &source, style);
    }
}

/// Summary lines naming every file that failed and every path not checked.
pub fn write_failed_files(out: &mut String, tree: &PolicyTree) {
    for file in tree.files.iter().filter(|f| !f.is_valid()) {
        let count = file.error_count();
        let _ = writeln!(
            out,
            "  failed: {} ({count} {})",
            super::snippet::visible(&file.shown),
            plural(count, "error", "errors")
        );
    }
    write_not_checked(out, tree);
}

/// Summary lines naming every path that was not checked at all.
pub fn write_not_checked(out: &mut String, tree: &PolicyTree) {
    for problem in &tree.discovery {
        let _ = writeln!(
            out,
            "  not checked: {} ({})",
            super::snippet::visible(&problem.file),
            problem.code.as_str()
        );
    }
}

/// `one` or `many` by count, for summary lines.
fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}
