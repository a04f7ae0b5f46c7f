//! Parsing: YAML text → a [`Node`] tree with spans, under resource budgets.
//!
//! Owns the serde-saphyr configuration (duplicate keys kept for reporting, alias and nesting
//! budgets) and the YAML-level checks that need the raw tree: explicit tags and duplicate keys.
//! It does not know the policy schema.

mod node;
mod path;

pub use node::{Key, Node, Span, Value};
pub use path::{Segment, YamlPath};

use crate::diagnostic::{Code, Diagnostic};
use serde_saphyr::budget::BudgetBreach;
use serde_saphyr::options::{DuplicateKeyPolicy, NonFiniteFloatPolicy};

/// Deepest nesting a policy file may have. Real policies nest fewer than ten levels; the limit
/// keeps hostile input from exhausting the stack.
pub const MAX_DEPTH: usize = 64;

/// Tags of the YAML core schema; any other tag asks for language-specific construction.
const CORE_TAGS: &[&str] = &["str", "int", "float", "bool", "null", "map", "seq"];

/// Parses one YAML document. Errors carry the parser's location.
///
/// The parser's count budgets (nodes, events, scalar bytes) grow with the text: a document
/// without aliases has fewer nodes than bytes, so a legal file that passed the file size budget
/// is never refused for its size alone. Alias expansion keeps its own fixed limits.
pub fn parse(file: &str, text: &str) -> Result<Node, Diagnostic> {
    let budget = budget_for(text.len());
    let options = serde_saphyr::options! {
        budget: Some(budget.clone()),
        duplicate_keys: DuplicateKeyPolicy::LastWins,
        // YAML 1.2 core schema: only true/false are booleans, so `name: NO` stays a string.
        strict_booleans: true,
        // `.inf`, `.nan` and `1e999` reach the tree as floats, so the schema reports them at
        // their field with the file's other errors instead of ending the parse.
        non_finite_float_policy: NonFiniteFloatPolicy::PassThrough,
    };
    let parsed: Result<Option<node::RawNode>, _> =
        serde_saphyr::from_str_with_options(text, options);
    match parsed {
        Ok(Some(raw)) => Ok(Node::from(raw)),
        Ok(None) => {
            Err(
                Diagnostic::error(Code::EmptyFile, file, "the file holds no YAML document")
                    .with_span(Span::new(1, 1, 0))
                    .with_hint("a policy file describes one service: start with `version: 1`"),
            )
        }
        Err(error) => Err(syntax_error(file, &error, &budget)),
    }
}

/// The parser budget for a text of `len` bytes: the library's defaults, raised in proportion
/// to the text for the counts a plain document can legitimately reach (every node and event
/// takes at least one byte of text, and scalars are never longer than the text).
fn budget_for(len: usize) -> serde_saphyr::Budget {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_depth = MAX_DEPTH;
    budget.max_documents = 1;
    let scaled = len.saturating_mul(2).saturating_add(64);
    budget.max_nodes = budget.max_nodes.max(scaled);
    budget.max_events = budget.max_events.max(scaled);
    budget.max_total_scalar_bytes = budget.max_total_scalar_bytes.max(scaled);
    budget
}

fn syntax_error(
    file: &str,
    error: &serde_saphyr::Error,
    budget: &serde_saphyr::Budget,
) -> Diagnostic {
    let bare = error.without_snippet().to_string();
    let message = strip_location_prefix(&bare);
    let (code, message, hint) = budget_breach(error, budget).unwrap_or_else(|| classify(message));
    let mut diagnostic = Diagnostic::error(code, file, message).with_hint(hint);
    if let Some(location) = error.location() {
        diagnostic = diagnostic.with_span(Span::new(
            u32::try_from(location.line()).unwrap_or(u32::MAX).max(1),
            u32::try_from(location.column()).unwrap_or(u32::MAX).max(1),
            1,
        ));
    }
    diagnostic
}

/// A parser budget breach, named with the limit that tripped and how to live within it.
fn budget_breach(
    error: &serde_saphyr::Error,
    budget: &serde_saphyr::Budget,
) -> Option<(Code, String, String)> {
    let mut inner = error.without_snippet();
    while let serde_saphyr::Error::AliasError { error, .. } = inner {
        inner = error.without_snippet();
    }
    let plainly =
        "write the content out plainly instead of multiplying it through anchors and aliases";
    // A document without aliases has fewer nodes and events than twice its bytes, so only
    // alias expansion reaches these budgets.
    let per_size = |what: String, limit: usize| {
        (
            format!(
                "aliases expand the document to {what}, over the parser's budget of {limit} for a \
                 file of this size (an alias bomb?)"
            ),
            format!(
                "{plainly}; this budget grows with the file's size (at least twice its bytes) and \
                 no plainly written policy reaches it"
            ),
        )
    };
    let (message, hint) = match inner {
        serde_saphyr::Error::Budget { breach, .. } => match breach {
            BudgetBreach::Depth { .. } => (
                format!("the document nests deeper than {MAX_DEPTH} levels (a fixed limit)"),
                "policies nest a few levels deep; flatten the structure".to_owned(),
            ),
            BudgetBreach::Documents { .. } => return None,
            BudgetBreach::Nodes { nodes } => per_size(format!("{nodes} nodes"), budget.max_nodes),
            BudgetBreach::Events { events } => {
                per_size(format!("{events} parser events"), budget.max_events)
            }
            BudgetBreach::ScalarBytes { total_scalar_bytes } => per_size(
                format!("{total_scalar_bytes} bytes of values"),
                budget.max_total_scalar_bytes,
            ),
            BudgetBreach::Aliases { aliases } => (
                format!(
                    "the document uses {aliases} aliases, over the fixed limit of {}",
                    budget.max_aliases
                ),
                plainly.to_owned(),
            ),
            BudgetBreach::Anchors { anchors } => (
                format!(
                    "the document defines {anchors} anchors, over the fixed limit of {}",
                    budget.max_anchors
                ),
                plainly.to_owned(),
            ),
            BudgetBreach::AliasAnchorRatio { aliases, anchors } => (
                format!(
                    "the document uses {aliases} aliases for {anchors} anchors, more than the \
                     fixed limit of {} per anchor (an alias bomb?)",
                    budget.alias_anchor_ratio_multiplier
                ),
                plainly.to_owned(),
            ),
            other => (
                format!("the document breaches a fixed parser limit ({other:?})"),
                plainly.to_owned(),
            ),
        },
        serde_saphyr::Error::AliasReplayLimitExceeded {
            max_total_replayed_events,
            ..
        } => (
            format!(
                "aliases expand into more than {max_total_replayed_events} events, the fixed \
                 alias expansion limit (an alias bomb?)"
            ),
            plainly.to_owned(),
        ),
        serde_saphyr::Error::AliasReplayStackDepthExceeded { max_depth, .. } => (
            format!("aliases nest more than {max_depth} deep, the fixed alias nesting limit"),
            plainly.to_owned(),
        ),
        _ => return None,
    };
    Some((Code::YamlBudget, message, hint))
}

/// serde-saphyr renders `error: line L column C: message at line L, column C`; the location is
/// shown separately, so only the message is kept.
fn strip_location_prefix(rendered: &str) -> &str {
    let first_line = rendered.lines().next().unwrap_or(rendered);
    let rest = first_line.strip_prefix("error: ").unwrap_or(first_line);
    let message = match rest.strip_prefix("line ") {
        Some(after) => after.split_once(": ").map_or(rest, |(_, message)| message),
        None => rest,
    };
    message.split(" at line ").next().unwrap_or(message)
}

fn classify(message: &str) -> (Code, String, String) {
    let lower = message.to_ascii_lowercase();
    if lower.contains("documents") {
        (
            Code::MultipleDocuments,
            "the file holds more than one YAML document".to_owned(),
            "one policy file describes one service: split the documents into separate files"
                .to_owned(),
        )
    } else if lower.contains("depth") || lower.contains("recursion limit") {
        (
            Code::YamlBudget,
            format!("the document nests deeper than {MAX_DEPTH} levels"),
            "policies nest a few levels deep; flatten the structure".to_owned(),
        )
    } else if lower.contains("budget breached") || lower.contains("alias") {
        (
            Code::YamlBudget,
            "aliases expand into more data than the parser budget allows (an alias bomb?)"
                .to_owned(),
            "write the content out plainly instead of multiplying it through anchors and aliases"
                .to_owned(),
        )
    } else if lower.contains("non-finite")
        || lower.contains("out of range")
        || lower.contains("overflow")
    {
        (
            Code::OutOfRange,
            message.to_owned(),
            "numbers in policy files are whole numbers within 0..2^64; check the value".to_owned(),
        )
    } else if lower.contains("tab") {
        (
            Code::YamlSyntax,
            message.to_owned(),
            "YAML indents with spaces only: replace the tab with spaces".to_owned(),
        )
    } else {
        (
            Code::YamlSyntax,
            message.to_owned(),
            "fix the YAML syntax at this position; quote values that contain `: ` or start with a special character".to_owned(),
        )
    }
}

/// Reports explicit non-core tags and duplicate mapping keys anywhere in the tree.
pub fn check_tree(file: &str, root: &Node) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    root.walk(&mut |path, node| {
        if let Some(tag) = &node.tag
            && !is_core_tag(tag)
        {
            found.push(
                Diagnostic::error(
                    Code::UnsupportedTag,
                    file,
                    format!("unsupported YAML tag `{}`", display_tag(tag)),
                )
                .with_span(node.span)
                .with_path(path.clone())
                .with_hint(
                    "policy files are plain data: remove the tag; language-specific tags such \
                     as !!python/object are never constructed",
                ),
            );
        }
        if let Value::Map(entries) = &node.value {
            for (i, (key, _)) in entries.iter().enumerate() {
                if let Some((first, _)) = entries[..i].iter().find(|(k, _)| k.name == key.name) {
                    found.push(
                        Diagnostic::error(
                            Code::DuplicateKey,
                            file,
                            format!("duplicate key `{}`", key.name),
                        )
                        .with_span(key.span)
                        .with_path(path.key(key.name.clone()))
                        .with_label("defined again here")
                        .with_related(file, first.span, "first defined here")
                        .with_hint("each key may appear once in a mapping: merge or remove one"),
                    );
                }
            }
        }
    });
    found
}

fn is_core_tag(tag: &str) -> bool {
    let name = tag
        .strip_prefix("tag:yaml.org,2002:")
        .or_else(|| tag.strip_prefix("!!"));
    matches!(name, Some(n) if CORE_TAGS.contains(&n)) || tag == "!"
}

fn display_tag(tag: &str) -> String {
    match tag.strip_prefix("tag:yaml.org,2002:") {
        Some(rest) => format!("!!{rest}"),
        None => tag.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_1_1_booleans_stay_strings() {
        let tree = parse("t.yaml", "name: NO\nshort: n\nflag: true\n").unwrap();
        let json = tree.to_json();
        assert_eq!(json["name"], "NO");
        assert_eq!(json["short"], "n");
        assert_eq!(json["flag"], true);
    }

    #[test]
    fn spans_are_one_based_line_and_column() {
        let tree = parse("t.yaml", "a:\n  b: [x, yy]\n").unwrap();
        let node = tree
            .get(&YamlPath::root().key("a").key("b").index(1))
            .unwrap();
        assert_eq!(
            (node.span.line, node.span.column, node.span.len),
            (2, 10, 2)
        );
        let key = tree.key_span(&YamlPath::root().key("a").key("b")).unwrap();
        assert_eq!((key.line, key.column), (2, 3));
    }
}
