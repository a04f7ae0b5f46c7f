//! rustc-style rendering of one diagnostic with its source snippet.

use super::lines::LineIndex;
use crate::diagnostic::{Diagnostic, Severity};
use std::fmt::Write;
use unicode_width::UnicodeWidthStr;

/// The texts of the files diagnostics point into, by shown name. A closure looking a text up
/// is one (each snippet then finds its line by scanning the text); [`Indexed`] wraps one and
/// finds lines in constant time, for callers writing many entries about the same files.
pub trait Sources<'a> {
    fn text(&self, file: &str) -> Option<&'a str>;
    /// Line `number` (1-based) of `file`, without its line break.
    fn line(&self, file: &str, number: u32) -> Option<&'a str> {
        let index = usize::try_from(number).ok()?.checked_sub(1)?;
        self.text(file)?.lines().nth(index)
    }
}

impl<'a, F: Fn(&str) -> Option<&'a str>> Sources<'a> for F {
    fn text(&self, file: &str) -> Option<&'a str> {
        self(file)
    }
}

/// A lookup of texts with an index of their lines, built once per text.
pub struct Indexed<'a, F> {
    lookup: F,
    lines: LineIndex<'a>,
}

impl<'a, F: Fn(&str) -> Option<&'a str>> Indexed<'a, F> {
    pub fn new(lookup: F) -> Self {
        Self {
            lookup,
            lines: LineIndex::new(),
        }
    }
}

impl<'a, F: Fn(&str) -> Option<&'a str>> Sources<'a> for Indexed<'a, F> {
    fn text(&self, file: &str) -> Option<&'a str> {
        (self.lookup)(file)
    }
    fn line(&self, file: &str, number: u32) -> Option<&'a str> {
        self.lines.line((self.lookup)(file)?, number)
    }
}

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

/// One message to render: a headline, a primary location, related locations and notes.
pub struct Entry<'a> {
    /// `error`, `high`, ...
    pub level: &'a str,
    /// Whether the level is painted as an error (red) or a warning (yellow).
    pub severe: bool,
    /// Code or rule id shown in brackets.
    pub code: &'a str,
    pub message: &'a str,
    pub file: &'a str,
    pub span: Option<crate::yaml::Span>,
    pub label: Option<&'a str>,
    pub related: Vec<(&'a str, crate::yaml::Span, &'a str)>,
    /// `= key: text` lines, in order.
    pub notes: Vec<(&'a str, String)>,
}

impl<'a> Entry<'a> {
    pub fn from_diagnostic(diagnostic: &'a Diagnostic) -> Self {
        let mut notes = Vec::new();
        if let Some(path) = &diagnostic.path {
            notes.push(("path", path.to_string()));
        }
        if let Some(hint) = &diagnostic.hint {
            notes.push(("help", hint.clone()));
        }
        Self {
            level: match diagnostic.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Note => "note",
            },
            severe: diagnostic.severity == Severity::Error,
            code: CODE_NAMES
                .iter()
                .find(|(c, _)| *c == diagnostic.code)
                .map_or("", |(_, n)| n),
            message: &diagnostic.message,
            file: &diagnostic.file,
            span: diagnostic.span,
            label: diagnostic.label.as_deref(),
            related: diagnostic
                .related
                .iter()
                .map(|r| (r.file.as_str(), r.span, r.message.as_str()))
                .collect(),
            notes,
        }
    }
}

/// Kebab-case names of every code, computed once so entries can borrow them.
static CODE_NAMES: std::sync::LazyLock<Vec<(crate::diagnostic::Code, String)>> =
    std::sync::LazyLock::new(|| {
        crate::diagnostic::Code::ALL
            .iter()
            .map(|c| (*c, c.as_str()))
            .collect()
    });

/// Writes `diagnostic`; `source` returns the text of a file by its shown name, when known.
pub fn write_diagnostic<'a>(
    out: &mut String,
    diagnostic: &Diagnostic,
    source: &dyn Sources<'a>,
    style: Style,
) {
    write_entry(out, &Entry::from_diagnostic(diagnostic), source, style);
}

/// Text from an input file or pack made safe for a terminal: control characters (including
/// ESC, which starts escape sequences), DEL, C1 controls and bidirectional overrides are shown
/// as `\u{..}` instead of acting on the terminal or reordering what the reader sees; so are
/// zero-width characters, which would make two different names look the same.
pub fn visible(text: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| {
        (c.is_control() && c != '\n')
            || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}')
    };
    if !text.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_char(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Like [`visible`], for text that must stay on one line (ids, file names, labels): a
/// newline is shown as `\u{a}` too, so an input can never start a line of its own.
pub fn visible_line(text: &str) -> std::borrow::Cow<'_, str> {
    let shown = visible(text);
    if shown.contains('\n') {
        std::borrow::Cow::Owned(shown.replace('\n', "\\u{a}"))
    } else {
        shown
    }
}

/// Writes one entry in rustc's layout.
pub fn write_entry<'a>(
    out: &mut String,
    entry: &Entry<'_>,
    source: &dyn Sources<'a>,
    style: Style,
) {
    let tag = format!("{}[{}]", entry.level, entry.code);
    let head = if entry.severe {
        style.red(&tag)
    } else {
        style.yellow(&tag)
    };
    let _ = writeln!(out, "{head}: {}", style.bold(&visible(entry.message)));
    let gutter_width = entry
        .span
        .iter()
        .chain(entry.related.iter().map(|r| &r.1))
        .map(|s| s.line.to_string().len())
        .max()
        .unwrap_or(1);
    let pad = " ".repeat(gutter_width);
    match entry.span {
        Some(span) => {
            let _ = writeln!(
                out,
                "{pad}{} {}:{}:{}",
                style.blue("-->"),
                visible(entry.file),
                span.line,
                span.column
            );
            if let Some(line) = source.line(entry.file, span.line.max(1)) {
                write_snippet(out, line, span, entry.label, gutter_width, style);
            }
        }
        None => {
            let _ = writeln!(out, "{pad}{} {}", style.blue("-->"), visible(entry.file));
        }
    }
    for (file, span, message) in &entry.related {
        let _ = writeln!(
            out,
            "{pad}{} {}:{}:{}",
            style.blue(":::"),
            visible(file),
            span.line,
            span.column
        );
        if let Some(line) = source.line(file, span.line.max(1)) {
            write_snippet(out, line, *span, Some(message), gutter_width, style);
        }
    }
    let bar = style.blue("=");
    for (key, text) in &entry.notes {
        let _ = writeln!(out, "{pad} {bar} {key}: {}", visible(text));
    }
    out.push('\n');
}

/// Writes `line`, the line `span` starts on, with the span underlined.
fn write_snippet(
    out: &mut String,
    line: &str,
    span: crate::yaml::Span,
    label: Option<&str>,
    gutter_width: usize,
    style: Style,
) {
    let pad = " ".repeat(gutter_width);
    let bar = style.blue("|");
    let line = line.trim_end_matches('\r').replace('\t', " ");
    // Escapes lengthen what precedes the span, so the caret is placed on the shown text.
    let line = visible(&line).into_owned();
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
        // Collections have no length: underline the rest of the line they start on.
        0 => rest.trim_end().chars().count().max(1),
        n => n.min(rest.chars().count().max(1)),
    };
    let underlined: String = rest.chars().take(underline_chars).collect();
    let carets = "^".repeat(underlined.width().max(1));
    let label = label
        .map(|l| format!(" {}", visible(l)))
        .unwrap_or_default();
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
