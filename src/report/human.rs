//! The terminal format: rustc-style diagnostics, then a summary naming every failed file.

use super::snippet::{Style, write_diagnostic};
use crate::load::PolicyTree;
use std::fmt::Write;

pub fn render_validation(tree: &PolicyTree, color: bool) -> String {
    let style = Style { color };
    let source = |name: &str| {
        tree.files
            .iter()
            .find(|f| f.shown == name)
            .and_then(|f| f.text.as_deref())
    };
    let mut out = String::new();
    for diagnostic in &tree.discovery {
        write_diagnostic(&mut out, diagnostic, &source, style);
    }
    for file in &tree.files {
        for diagnostic in &file.diagnostics {
            write_diagnostic(&mut out, diagnostic, &source, style);
        }
    }
    let failed: Vec<_> = tree.files.iter().filter(|f| !f.is_valid()).collect();
    let valid = tree.files.len() - failed.len();
    let _ = writeln!(
        out,
        "{}: {} {} checked, {valid} valid, {} invalid",
        style.bold("summary"),
        tree.files.len(),
        plural(tree.files.len(), "file", "files"),
        failed.len()
    );
    for file in &failed {
        let count = file.diagnostics.len();
        let _ = writeln!(
            out,
            "  failed: {} ({count} {})",
            file.shown,
            plural(count, "error", "errors")
        );
    }
    for problem in &tree.discovery {
        let _ = writeln!(
            out,
            "  not checked: {} ({})",
            problem.file,
            problem.code.as_str()
        );
    }
    out
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}
