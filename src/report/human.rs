//! The terminal format: rustc-style diagnostics, then a summary naming every failed file and
//! counting the YAML files a walk left out.

use super::check::Lang;
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
    file_counts_in(tree, style, Lang::En)
}

/// [`file_counts`] in `lang`.
pub fn file_counts_in(tree: &PolicyTree, style: Style, lang: Lang) -> String {
    let invalid = tree.files.iter().filter(|f| !f.is_valid()).count();
    let total = tree.files.len();
    let valid = total - invalid;
    let files = lang.plural(total, "file", "files_plural");
    let counts = lang.format(
        "files",
        &[
            ("total", &total),
            ("files", &files),
            ("valid", &valid),
            ("invalid", &invalid),
        ],
    );
    format!("{}: {counts}", style.bold(lang.fixed("summary")))
}

/// Each file's text by its shown name, built once per render: looking a file up by scanning
/// the tree for every diagnostic or finding is quadratic on large trees.
pub fn text_index(tree: &PolicyTree) -> std::collections::HashMap<&str, &str> {
    tree.files
        .iter()
        .filter_map(|f| f.text.as_deref().map(|t| (f.shown.as_str(), t)))
        .collect()
}

/// Every problem with the input: walking errors, then each file's diagnostics.
pub fn write_input_diagnostics(out: &mut String, tree: &PolicyTree, style: Style) {
    let texts = text_index(tree);
    let source = super::snippet::Indexed::new(|name: &str| texts.get(name).copied());
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
    write_failed_files_in(out, tree, Lang::En);
}

/// [`write_failed_files`] in `lang`.
pub fn write_failed_files_in(out: &mut String, tree: &PolicyTree, lang: Lang) {
    for file in tree.files.iter().filter(|f| !f.is_valid()) {
        let count = file.error_count();
        let shown = super::snippet::visible(&file.shown);
        let errors = lang.plural(count, "error", "errors");
        let line = lang.format(
            "failed",
            &[("file", &shown), ("count", &count), ("errors", &errors)],
        );
        let _ = writeln!(out, "  {line}");
    }
    write_not_checked_in(out, tree, lang);
}

/// Summary lines naming every path that was not checked at all, and counting the YAML files
/// a walk left out (not policies, or outside the include/exclude globs).
pub fn write_not_checked(out: &mut String, tree: &PolicyTree) {
    write_not_checked_in(out, tree, Lang::En);
}

/// [`write_not_checked`] in `lang`.
pub fn write_not_checked_in(out: &mut String, tree: &PolicyTree, lang: Lang) {
    for problem in &tree.discovery {
        let shown = super::snippet::visible(&problem.file);
        let line = lang.format(
            "not_checked",
            &[("file", &shown), ("code", &problem.code.as_str())],
        );
        let _ = writeln!(out, "  {line}");
    }
    for (key, count) in [
        ("skipped", tree.walk.skipped.len()),
        ("excluded", tree.walk.excluded.len()),
    ] {
        if count > 0 {
            let files = lang.plural(count, "file", "files_plural");
            let line = lang.format(key, &[("count", &count), ("files", &files)]);
            let _ = writeln!(out, "  {line}");
        }
    }
}
