//! Migration: rewrites the text of a v1 policy file as v2, changing only what v2 changed.
//!
//! serde-saphyr parses but does not emit, and emitting afresh would lose comments and layout,
//! so the rewrite edits the text at the spans of the node tree: the `version` value becomes
//! `2`, and the `sent: false` entries that [`upgrade::upgrade`] adds in memory are inserted
//! after the last `notifications` entry, in that list's style. Every other byte stays. The
//! rewritten text is parsed again and must give the same [`Policy`] as the in-memory upgrade,
//! or the file is refused. This module reads and writes no files and prints nothing.
//!
//! Layout of the inserted entries:
//! - block list: block entries with the last entry's dash column and gap after the dash
//!   (`- {event: login, sent: false}` when that entry is a flow mapping), after its last line;
//!   comment lines indented under that entry stay with it;
//! - `[]`: a block list two spaces under the key; a comment after `[]` stays on the key's line;
//! - any other flow list (`[{event: charge, ...}]`, or `[ # comment ]`): flow mappings added
//!   after the last entry (or after `[`), on that same line.

use crate::diagnostic::{Code, Diagnostic};
use crate::load::LoadedFile;
use crate::model::{NotificationEvent, Policy, name_of, upgrade};
use crate::yaml::{self, Node, Span, Value, YamlPath};
use std::ops::Range;

/// What migrating one file gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Migration {
    /// The file says `version: 2` already; it is left as it is.
    AlreadyV2,
    /// The v2 text of a v1 file.
    Rewritten(String),
}

/// Problems between files depend on which other files were given, not on this file's format,
/// so they do not stop its migration; `authaudit validate` reports them.
const ACROSS_FILES: [Code; 8] = [
    Code::DuplicateServiceId,
    Code::UnknownService,
    Code::UnknownFlow,
    Code::DelegationWithoutLinkingFlow,
    Code::AmbiguousDelegation,
    Code::DelegationCycle,
    Code::DelegationTooDeep,
    Code::InitiatorLoop,
];

/// Migrates one loaded file, or returns the errors that stop it: a file that does not load
/// cleanly is not rewritten, since its meaning (and so its v2 form) is not established.
pub fn migrate(file: &LoadedFile) -> Result<Migration, Vec<Diagnostic>> {
    let blocking = blocking_errors(file);
    if !blocking.is_empty() {
        return Err(blocking);
    }
    let (Some(text), Some(tree), Some(json)) = (&file.text, &file.tree, &file.json) else {
        // Unreachable: a file without errors was read and parsed. Never rewrite blind.
        return Err(file.diagnostics.clone());
    };
    // The loader keeps only the upgraded policy (and none when other files are missing), so
    // the file's own v1 reading is taken from its JSON form.
    let v1: Policy = serde_json::from_value(json.clone()).map_err(|e| {
        vec![cannot_rewrite(
            &file.shown,
            tree,
            &[],
            &format!("it does not read as a policy ({e})"),
        )]
    })?;
    if v1.version != 1 {
        return Ok(Migration::AlreadyV2);
    }
    let events = v1
        .notifications
        .as_deref()
        .map(upgrade::v1_unlisted_events)
        .unwrap_or_default();
    let mut expected = v1;
    upgrade::upgrade(&mut expected);
    let rewritten = rewrite(&file.shown, text, tree, &events).map_err(|d| vec![d])?;
    if !reads_as(&file.shown, &rewritten, &expected) {
        let why = "the rewritten text would not read as the upgraded policy (unusual layout)";
        return Err(vec![cannot_rewrite(&file.shown, tree, &events, why)]);
    }
    Ok(Migration::Rewritten(rewritten))
}

fn blocking_errors(file: &LoadedFile) -> Vec<Diagnostic> {
    file.diagnostics
        .iter()
        .filter(|d| d.is_error() && !ACROSS_FILES.contains(&d.code))
        .cloned()
        .collect()
}

/// Whether `text` parses, with no duplicate keys or tags, into exactly `expected`.
fn reads_as(shown: &str, text: &str, expected: &Policy) -> bool {
    let Ok(tree) = yaml::parse(shown, text) else {
        return false;
    };
    if !yaml::check_tree(shown, &tree).is_empty() {
        return false;
    }
    let reread = serde_json::from_value::<Policy>(tree.to_json()).ok();
    reread.is_some_and(|p| serde_json::to_value(p).ok() == serde_json::to_value(expected).ok())
}

/// A located refusal that says what to write by hand instead.
fn cannot_rewrite(shown: &str, tree: &Node, events: &[NotificationEvent], why: &str) -> Diagnostic {
    let (path, span) = ["notifications", "version"]
        .into_iter()
        .map(|key| YamlPath::root().key(key))
        .find_map(|path| tree.key_span(&path).map(|span| (path, span)))
        .unwrap_or((YamlPath::root(), tree.span));
    let entries: Vec<String> = events.iter().map(|e| flow_entry(*e)).collect();
    let add = if entries.is_empty() {
        String::new()
    } else {
        format!(" and add to `notifications`: {}", entries.join(", "))
    };
    Diagnostic::error(
        Code::MigrationRefused,
        shown,
        format!("cannot rewrite this file as v2: {why}"),
    )
    .with_span(span)
    .with_path(path)
    .with_hint(format!(
        "the file is left unchanged; write `version: 2`{add}"
    ))
}

/// One replacement of the original text.
#[derive(Debug)]
struct Edit {
    range: Range<usize>,
    text: String,
}

/// The v2 text: `version` set to 2 and `events` stated as `sent: false` after the last
/// `notifications` entry.
fn rewrite(
    shown: &str,
    text: &str,
    tree: &Node,
    events: &[NotificationEvent],
) -> Result<String, Diagnostic> {
    let source = Source::new(text);
    let fail = |why: &str| cannot_rewrite(shown, tree, events, why);
    let mut edits = vec![version_edit(&source, tree).ok_or_else(|| fail("no `version` value"))?];
    if !events.is_empty() {
        let path = YamlPath::root().key("notifications");
        let list = tree
            .get(&path)
            .ok_or_else(|| fail("no `notifications` list"))?;
        let key = tree.key_span(&path).unwrap_or(list.span);
        let edit = notifications_edit(&source, list, key, events)
            .ok_or_else(|| fail("the layout of `notifications` is not one this tool can edit"))?;
        edits.push(edit);
    }
    Ok(apply(text, edits))
}

fn apply(text: &str, mut edits: Vec<Edit>) -> String {
    let mut out = text.to_owned();
    // From the end backwards, so earlier offsets stay valid.
    edits.sort_by_key(|e| std::cmp::Reverse(e.range.start));
    for edit in edits {
        out.replace_range(edit.range, &edit.text);
    }
    out
}

fn version_edit(source: &Source<'_>, tree: &Node) -> Option<Edit> {
    let node = tree.get(&YamlPath::root().key("version"))?;
    Some(Edit {
        range: source.range_of(node.span)?,
        text: "2".to_owned(),
    })
}

fn notifications_edit(
    source: &Source<'_>,
    list: &Node,
    key: Span,
    events: &[NotificationEvent],
) -> Option<Edit> {
    let Value::Seq(items) = &list.value else {
        return None;
    };
    let start = source.offset(list.span)?;
    // A block sequence's span is its first entry, never a `[`.
    if !source.text[start..].starts_with('[') {
        return block_edit(source, items.last()?, events);
    }
    match items.last() {
        Some(last) => {
            let end = flow_item_end(source, last)?;
            Some(insert(end, format!(", {}", flow_entries(events))))
        }
        None => empty_flow_edit(source, start, key, events),
    }
}

/// New block entries after the last one, with its dash column and gap.
fn block_edit(source: &Source<'_>, last: &Node, events: &[NotificationEvent]) -> Option<Edit> {
    let item = source.offset(last.span)?;
    let dash = dash_before(source.text, item)?;
    let dash_column = source.column_of(dash);
    // The gap after the dash, from the entry itself when it starts on the dash's line.
    let gap = if source.line_of(dash) == last.span.line {
        (last.span.column as usize)
            .saturating_sub(dash_column + 2)
            .max(1)
    } else {
        1
    };
    let flow = source.text[item..].starts_with('{');
    let entries: String = events
        .iter()
        .map(|e| block_entry(*e, dash_column, gap, flow, source.newline))
        .collect();
    let end_line = last_entry_line(source, last.span.line, dash_column);
    Some(source.insert_after_line(end_line, entries))
}

/// `[]` becomes a block list under the key; `[` holding only a comment keeps flow style.
fn empty_flow_edit(
    source: &Source<'_>,
    open: usize,
    key: Span,
    events: &[NotificationEvent],
) -> Option<Edit> {
    let close = closing_bracket(source, open, &[])?;
    let inside = &source.text[open + 1..close];
    if !inside.trim().is_empty() {
        return Some(insert(open + 1, flow_entries(events)));
    }
    let line_start = source.line_start(open);
    let line_end = source.content_end(close);
    let head = source.text[line_start..open].trim_end();
    let tail = source.text[close + 1..line_end].trim();
    let indent = (key.column as usize).saturating_sub(1) + 2;
    let mut text = head.to_owned();
    if !tail.is_empty() {
        text = format!("{text} {tail}");
    }
    for event in events {
        text.push_str(source.newline);
        text.push_str(block_entry(*event, indent, 1, false, source.newline).trim_end());
    }
    Some(Edit {
        range: line_start..line_end,
        text,
    })
}

fn insert(at: usize, text: String) -> Edit {
    Edit {
        range: at..at,
        text,
    }
}

/// One block entry, ending with a newline.
fn block_entry(
    event: NotificationEvent,
    dash_column: usize,
    gap: usize,
    flow: bool,
    newline: &str,
) -> String {
    let dash = format!("{}-{}", " ".repeat(dash_column), " ".repeat(gap));
    if flow {
        return format!("{dash}{}{newline}", flow_entry(event));
    }
    let indent = " ".repeat(dash_column + 1 + gap);
    format!(
        "{dash}event: {}{newline}{indent}sent: false{newline}",
        name_of(&event)
    )
}

fn flow_entry(event: NotificationEvent) -> String {
    format!("{{event: {}, sent: false}}", name_of(&event))
}

fn flow_entries(events: &[NotificationEvent]) -> String {
    let entries: Vec<String> = events.iter().map(|e| flow_entry(*e)).collect();
    entries.join(", ")
}

/// The `-` that introduces the block entry starting at `item`.
fn dash_before(text: &str, item: usize) -> Option<usize> {
    let before = text[..item].trim_end();
    before.ends_with('-').then(|| before.len() - 1)
}

/// The last line of the block entry starting on `start`: lines indented deeper than its dash
/// belong to it, comments included (a comment written under an entry is about it); trailing
/// blank lines do not.
fn last_entry_line(source: &Source<'_>, start: u32, dash_column: usize) -> u32 {
    let mut last = start;
    for number in start + 1..=source.line_count() {
        let line = source.line(number);
        if line.trim().is_empty() {
            continue;
        }
        let indent = line.len() - line.trim_start_matches(' ').len();
        if indent <= dash_column {
            break;
        }
        last = number;
    }
    last
}

/// The end (exclusive) of a flow-list entry: after its `}`, or after its last scalar for an
/// entry written as a bare `key: value` pair.
fn flow_item_end(source: &Source<'_>, item: &Node) -> Option<usize> {
    let start = source.offset(item.span)?;
    let scalars = scalar_ranges(source, item);
    if source.text[start..].starts_with('{') {
        return closing_bracket(source, start, &scalars).map(|close| close + 1);
    }
    scalars.iter().map(|r| r.end).max()
}

/// The byte ranges of every key and scalar under `node`: text in which brackets and `#` are
/// content, not structure.
fn scalar_ranges(source: &Source<'_>, node: &Node) -> Vec<Range<usize>> {
    let mut ranges = Vec::new();
    node.walk(&mut |_, n| match &n.value {
        Value::Map(entries) => {
            ranges.extend(entries.iter().filter_map(|(k, _)| source.range_of(k.span)))
        }
        Value::Seq(_) => {}
        _ => ranges.extend(source.range_of(n.span)),
    });
    ranges.sort_by_key(|r| r.start);
    ranges
}

/// The offset of the bracket closing the one at `open`, skipping `scalars` and comments.
fn closing_bracket(source: &Source<'_>, open: usize, scalars: &[Range<usize>]) -> Option<usize> {
    let text = source.text;
    let mut depth = 0usize;
    let mut at = open;
    while at < text.len() {
        if let Some(range) = scalars.iter().find(|r| r.start == at && r.end > at) {
            at = range.end;
            continue;
        }
        let c = text[at..].chars().next()?;
        let after_space = at == 0 || text[..at].ends_with([' ', '\t', '\n', '\r']);
        match c {
            '[' | '{' => depth += 1,
            ']' | '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(at);
                }
            }
            '#' if after_space => {
                at = source.content_end(at);
                continue;
            }
            _ => {}
        }
        at += c.len_utf8();
    }
    None
}

/// The text with its line starts, to turn the tree's 1-based (line, column in characters) into
/// byte offsets.
struct Source<'a> {
    text: &'a str,
    starts: Vec<usize>,
    /// The file's own line ending, used for inserted lines.
    newline: &'static str,
}

impl<'a> Source<'a> {
    fn new(text: &'a str) -> Self {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .filter(|&start| start < text.len())
            .collect();
        let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
        Self {
            text,
            starts,
            newline,
        }
    }

    fn line_count(&self) -> u32 {
        u32::try_from(self.starts.len()).unwrap_or(u32::MAX)
    }

    /// Line `number` (1-based) without its line ending.
    fn line(&self, number: u32) -> &'a str {
        let Some(&start) = self.starts.get(number as usize - 1) else {
            return "";
        };
        &self.text[start..self.content_end(start)]
    }

    /// The offset where the line holding `at` stops, before `\n` or `\r\n`.
    fn content_end(&self, at: usize) -> usize {
        let end = self.text[at..]
            .find('\n')
            .map_or(self.text.len(), |i| at + i);
        if self.text[..end].ends_with('\r') {
            end - 1
        } else {
            end
        }
    }

    fn line_start(&self, at: usize) -> usize {
        self.text[..at].rfind('\n').map_or(0, |i| i + 1)
    }

    fn line_of(&self, at: usize) -> u32 {
        let index = self.starts.partition_point(|&start| start <= at);
        u32::try_from(index).unwrap_or(u32::MAX)
    }

    /// The 0-based column, in characters, of the byte `at`.
    fn column_of(&self, at: usize) -> usize {
        self.text[self.line_start(at)..at].chars().count()
    }

    fn offset(&self, span: Span) -> Option<usize> {
        let start = *self.starts.get((span.line as usize).checked_sub(1)?)?;
        let skip = (span.column as usize).checked_sub(1)?;
        match self.text[start..].char_indices().nth(skip) {
            Some((i, _)) => Some(start + i),
            None => (self.text[start..].chars().count() == skip).then_some(self.text.len()),
        }
    }

    /// The bytes a scalar's span covers (its length counts characters, line breaks included).
    fn range_of(&self, span: Span) -> Option<Range<usize>> {
        let start = self.offset(span)?;
        let len: usize = self.text[start..]
            .chars()
            .take(span.len as usize)
            .map(char::len_utf8)
            .sum();
        Some(start..start + len)
    }

    /// Inserts `lines` (each ending with a newline) after line `number`.
    fn insert_after_line(&self, number: u32, lines: String) -> Edit {
        match self.starts.get(number as usize) {
            Some(&next) => insert(next, lines),
            // The last line: add the missing line break, and keep the file's lack of a final one.
            None if !self.text.ends_with('\n') => {
                let body = lines.strip_suffix(self.newline).unwrap_or(&lines);
                insert(self.text.len(), format!("{}{body}", self.newline))
            }
            None => insert(self.text.len(), lines),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use NotificationEvent::{Login, Registration};

    fn rewritten(text: &str, events: &[NotificationEvent]) -> String {
        let tree = yaml::parse("t.yaml", text).unwrap();
        rewrite("t.yaml", text, &tree, events).unwrap()
    }

    #[test]
    fn block_list_gets_block_entries_after_the_last_entry_and_its_comments() {
        let text = "version: 1\nnotifications:\n  - event: charge\n    channels: [email]\n    # about charge\n\n# next\nother: 1\n";
        assert_eq!(
            rewritten(text, &[Registration, Login]),
            "version: 2\nnotifications:\n  - event: charge\n    channels: [email]\n    # about charge\n  - event: registration\n    sent: false\n  - event: login\n    sent: false\n\n# next\nother: 1\n"
        );
    }

    #[test]
    fn unindented_block_list_and_flow_mapping_entries_keep_their_style() {
        let text = "version: 1\nnotifications:\n-   {event: charge, channels: [email]}\n";
        assert_eq!(
            rewritten(text, &[Login]),
            "version: 2\nnotifications:\n-   {event: charge, channels: [email]}\n-   {event: login, sent: false}\n"
        );
    }

    #[test]
    fn empty_flow_list_becomes_a_block_list_keeping_its_comment() {
        let text = "version: 1\nnotifications: []  # none\nother: 1\n";
        assert_eq!(
            rewritten(text, &[Registration, Login]),
            "version: 2\nnotifications: # none\n  - event: registration\n    sent: false\n  - event: login\n    sent: false\nother: 1\n"
        );
    }

    #[test]
    fn flow_list_stays_flow() {
        let text = "version: 1\nnotifications: [{event: charge, channels: [email]}, ] # c\n";
        assert_eq!(
            rewritten(text, &[Login]),
            "version: 2\nnotifications: [{event: charge, channels: [email]}, {event: login, sent: false}, ] # c\n"
        );
        let commented = "version: 1\nnotifications: [ # none\n]\n";
        assert_eq!(
            rewritten(commented, &[Login]),
            "version: 2\nnotifications: [{event: login, sent: false} # none\n]\n"
        );
    }

    #[test]
    fn crlf_and_a_missing_final_newline_are_kept() {
        let text = "version: 1\r\nnotifications:\r\n  - event: charge\r\n    channels: [email]";
        assert_eq!(
            rewritten(text, &[Login]),
            "version: 2\r\nnotifications:\r\n  - event: charge\r\n    channels: [email]\r\n  - event: login\r\n    sent: false"
        );
    }

    #[test]
    fn brackets_and_hashes_inside_scalars_are_content() {
        let text = "version: 1\nnotifications: [{event: charge, note: \"a ] # b\"}]\n";
        assert_eq!(
            rewritten(text, &[Login]),
            "version: 2\nnotifications: [{event: charge, note: \"a ] # b\"}, {event: login, sent: false}]\n"
        );
    }
}
