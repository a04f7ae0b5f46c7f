//! rustc-style rendering of one diagnostic with its source snippet.

use crate::diagnostic::{Diagnostic, Severity};
use std::fmt::Write;
use unicode_width::UnicodeWidthStr;

/// ANSI styling, off unless writing to a terminal without NO_COLOR.
#[derive(Clone, Copy)]
pub struct Style {
    pub color: bool,
}

impl Style {
    fn paint(self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
    pub fn red(self, t: &str) -> String {
        self.paint("1;31", t)
    }
    pub fn yellow(self, t: &str) -> String {
        self.paint("1;33", t)
    }
    pub fn blue(self, t: &str) -> String {
        self.paint("1;34", t)
    }
    pub fn bold(self, t: &str) -> String {
        self.paint("1", t)
    }
}

/// Writes `diagnostic`; `source` returns the text of a file by its shown name, when known.
pub fn write_diagnostic<'a>(
    out: &mut String,
    diagnostic: &Diagnostic,
    source: &dyn Fn(&str) -> Option<&'a str>,
    style: Style,
) {
    let head = match diagnostic.severity {
        Severity::Error => style.red(&format!("error[{}]", diagnostic.code.as_str())),
        Severity::Warning => style.yellow(&format!("warning[{}]", diagnostic.code.as_str())),
    };
    let _ = writeln!(out, "{head}: {}", style.bold(&diagnostic.message));
    let gutter_width = diagnostic
        .span
        .iter()
        .chain(diagnostic.related.iter().map(|r| &r.span))
        .map(|s| s.line.to_string().len())
        .max()
        .unwrap_or(1);
    let pad = " ".repeat(gutter_width);
    match diagnostic.span {
        Some(span) => {
            let _ = writeln!(
                out,
                "{pad}{} {}:{}:{}",
                style.blue("-->"),
                diagnostic.file,
                span.line,
                span.column
            );
            if let Some(text) = source(&diagnostic.file) {
                write_snippet(
                    out,
                    text,
                    span,
                    diagnostic.label.as_deref(),
                    gutter_width,
                    style,
                );
            }
        }
        None => {
            let _ = writeln!(out, "{pad}{} {}", style.blue("-->"), diagnostic.file);
        }
    }
    for related in &diagnostic.related {
        let _ = writeln!(
            out,
            "{pad}{} {}:{}:{}",
            style.blue(":::"),
            related.file,
            related.span.line,
            related.span.column
        );
        if let Some(text) = source(&related.file) {
            write_snippet(
                out,
                text,
                related.span,
                Some(&related.message),
                gutter_width,
                style,
            );
        }
    }
    let bar = style.blue("=");
    if let Some(path) = &diagnostic.path {
        let _ = writeln!(out, "{pad} {bar} path: {path}");
    }
    if let Some(hint) = &diagnostic.hint {
        let _ = writeln!(out, "{pad} {bar} help: {hint}");
    }
    out.push('\n');
}

fn write_snippet(
    out: &mut String,
    text: &str,
    span: crate::yaml::Span,
    label: Option<&str>,
    gutter_width: usize,
    style: Style,
) {
    let Some(line) = text.lines().nth(span.line.saturating_sub(1) as usize) else {
        return;
    };
    let pad = " ".repeat(gutter_width);
    let bar = style.blue("|");
    let line = line.trim_end_matches('\r').replace('\t', " ");
    // Long lines are shown as a window around the span so the caret stays visible.
    let column = span.column.saturating_sub(1) as usize;
    let skip = column.saturating_sub(60);
    let mut shown_line: String = line.chars().skip(skip).take(160).collect();
    let column = if skip > 0 {
        shown_line.insert(0, '…');
        column - skip + 1
    } else {
        column
    };
    let before: String = shown_line.chars().take(column).collect();
    let rest: String = shown_line.chars().skip(column).collect();
    let underline_chars = match span.len as usize {
        0 => rest
            .chars()
            .take_while(|c| !c.is_whitespace())
            .count()
            .max(1),
        n => n.min(rest.chars().count().max(1)),
    };
    let underlined: String = rest.chars().take(underline_chars).collect();
    let carets = "^".repeat(underlined.width().max(1));
    let label = label.map(|l| format!(" {l}")).unwrap_or_default();
    let _ = writeln!(out, "{pad} {bar}");
    let _ = writeln!(
        out,
        "{} {bar} {shown_line}",
        style.blue(&format!("{:>gutter_width$}", span.line))
    );
    let _ = writeln!(
        out,
        "{pad} {bar} {}{}",
        " ".repeat(before.width()),
        style.red(&format!("{carets}{label}"))
    );
}
