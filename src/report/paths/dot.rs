//! `paths --format dot`: every chain in one Graphviz digraph. Nodes are the attacker profiles
//! and the flows (`service/flow`); each chain is a run of edges from its profile through its
//! flows in order, the hops of a link included, labelled with the profile and the chain id:
//! solid where the chain is determined, dashed where it rests on facts the policies do not
//! describe. Nodes and edges are sorted and listed once, so the text depends only on the
//! chains. Every string is quoted and escaped; nothing from a policy can end a quoted string.

use super::{chain_places, flow_label, shown};
use crate::paths::{Analysis, Place};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

/// The colours of the text report: red for a chain that works, amber for one that cannot be
/// judged.
const DETERMINED: &str = "#b91c1c";
const UNDETERMINED: &str = "#b45309";

#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Edge<'a> {
    from: String,
    to: String,
    attacker: &'a str,
    chain: &'a str,
    determined: bool,
}

pub fn render(analysis: &Analysis) -> String {
    let mut attackers: BTreeSet<&str> = BTreeSet::new();
    let mut flows: BTreeMap<String, String> = BTreeMap::new();
    let mut edges: BTreeSet<Edge> = BTreeSet::new();
    for chain in &analysis.chains {
        attackers.insert(&chain.attacker);
        let mut from = attacker_node(&chain.attacker);
        for place in chain_places(chain) {
            let to = flow_node(place);
            flows.entry(to.clone()).or_insert_with(|| {
                format!(
                    "{}\\n{}",
                    escape(&place.service),
                    escape(&flow_label(place))
                )
            });
            edges.insert(Edge {
                from,
                to: to.clone(),
                attacker: &chain.attacker,
                chain: &chain.id,
                determined: chain.determined,
            });
            from = to;
        }
    }
    let mut out = String::new();
    out.push_str("digraph \"authaudit paths\" {\n");
    out.push_str("  graph [rankdir=LR, fontname=\"Helvetica\"];\n");
    out.push_str("  node [shape=box, fontname=\"Helvetica\"];\n");
    out.push_str("  edge [fontname=\"Helvetica\", fontsize=10];\n");
    for attacker in &attackers {
        let _ = writeln!(
            out,
            "  \"{}\" [shape=oval, label=\"{}\"];",
            escape(&attacker_node(attacker)),
            escape(attacker)
        );
    }
    for (node, label) in &flows {
        let _ = writeln!(out, "  \"{}\" [label=\"{label}\"];", escape(node));
    }
    for edge in &edges {
        let (style, color) = if edge.determined {
            ("solid", DETERMINED)
        } else {
            ("dashed", UNDETERMINED)
        };
        let _ = writeln!(
            out,
            "  \"{}\" -> \"{}\" [label=\"{}\\n{}\", style={style}, color=\"{color}\"];",
            escape(&edge.from),
            escape(&edge.to),
            escape(edge.attacker),
            escape(edge.chain),
        );
    }
    out.push_str("}\n");
    out
}

/// Service ids cannot hold `:` or `/`, so profile nodes and flow nodes never share a name.
fn attacker_node(attacker: &str) -> String {
    format!("attacker:{attacker}")
}

fn flow_node(place: &Place) -> String {
    format!("{}/{}", place.service, place.flow)
}

/// The inside of a DOT quoted string. Graphviz reads `\"` as a quote and `\\` as a backslash
/// (so a string ending in a backslash still ends at its quote); control characters are written
/// out by [`shown`], so no newline ends a statement and a label's `\n`, `\l`, `\N` escapes can
/// only come from this module.
fn escape(text: &str) -> String {
    let text = shown(text);
    let mut out = String::with_capacity(text.len() + 2);
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn quotes_backslashes_and_controls_cannot_end_the_string() {
        assert_eq!(escape(r#"a"b\"#), r#"a\"b\\"#);
        assert_eq!(escape("x\ny\u{1b}\u{202e}"), r"x\\u{a}y\\u{1b}\\u{202e}");
    }
}
