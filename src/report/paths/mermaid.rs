//! `paths --format mermaid`: Markdown with one Mermaid `flowchart LR` per chain, each in its
//! own ```` ```mermaid ```` fence under a heading, so that GitHub renders a large market as
//! many small diagrams rather than one that passes Mermaid's size limits. [`flowchart`] gives
//! one chain's diagram alone, for the Markdown report.
//!
//! Node ids are generated (`n0`, `n1`, …); every label is quoted and written with Mermaid's
//! `#code;` entities for anything its parser or the HTML it produces would read, so a flow id
//! can neither close a label, a statement nor the fence.

use super::{chain_places, chance_text, flow_label, shown, source_text};
use crate::paths::{Analysis, Chain};
use std::fmt::Write as _;

pub fn render(analysis: &Analysis) -> String {
    if analysis.chains.is_empty() {
        return "No chain to money out was found.\n".to_owned();
    }
    let mut out = String::new();
    for chain in &analysis.chains {
        let status = if chain.determined {
            format!("Chance per victim: {}", chance_text(chain.chance))
        } else {
            "Undetermined: the chain rests on facts the policies do not describe".to_owned()
        };
        let _ = writeln!(
            out,
            "### Chain {} ({}): {}\n\n{}.\n\n```mermaid\n{}```\n",
            markdown(&chain.id),
            markdown(&chain.attacker),
            markdown(&source_text(chain)),
            markdown(&status),
            flowchart(chain)
        );
    }
    out
}

/// One chain as a Mermaid flowchart, without the fence: the attacker profile, then each flow
/// in order (the hops of a link included). Determined chains are drawn in red with solid
/// arrows, undetermined ones in amber with dotted arrows.
pub fn flowchart(chain: &Chain) -> String {
    let mut out = String::from("flowchart LR\n");
    let _ = writeln!(out, "  n0([\"{}\"])", label(&chain.attacker));
    let mut nodes: Vec<(&str, &str)> = Vec::new();
    let mut path: Vec<usize> = vec![0];
    for place in chain_places(chain) {
        let key = (place.service.as_str(), place.flow.as_str());
        let index = match nodes.iter().position(|n| *n == key) {
            Some(i) => i + 1,
            None => {
                nodes.push(key);
                let _ = writeln!(
                    out,
                    "  n{}[\"{}<br/>{}\"]",
                    nodes.len(),
                    label(&place.service),
                    label(&flow_label(place))
                );
                nodes.len()
            }
        };
        path.push(index);
    }
    let arrow = if chain.determined { "-->" } else { "-.->" };
    for pair in path.windows(2) {
        let _ = writeln!(out, "  n{} {arrow} n{}", pair[0], pair[1]);
    }
    let (class, style) = if chain.determined {
        ("determined", "stroke:#b91c1c,stroke-width:2px")
    } else {
        (
            "undetermined",
            "stroke:#b45309,stroke-width:2px,stroke-dasharray:5 3",
        )
    };
    let _ = writeln!(out, "  classDef {class} {style}");
    if !nodes.is_empty() {
        let members: Vec<String> = (1..=nodes.len()).map(|i| format!("n{i}")).collect();
        let _ = writeln!(out, "  class {} {class}", members.join(","));
    }
    out
}

/// The inside of a quoted Mermaid label. Besides the characters that end or nest a label,
/// `#` (entity syntax), `:` and `;` (Mermaid rewrites `style …:…#…;` anywhere in a line) and
/// the two characters Mermaid uses internally to carry entities through its parser are
/// written as codes.
fn label(text: &str) -> String {
    let text = shown(text);
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '&' => out.push_str("#amp;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '#' | '[' | ']' | '|' | '`' | '%' | ':' | ';' | '\u{b6}' | '\u{fb02}' => {
                let _ = write!(out, "#{};", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

/// Text for a Markdown line outside the diagrams: the punctuation CommonMark gives a meaning
/// to inline is backslash-escaped, and the text is one line.
fn markdown(text: &str) -> String {
    let text = shown(text);
    let mut out = String::with_capacity(text.len() + 4);
    for c in text.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|' | '&' | '~'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::label;

    #[test]
    fn labels_carry_no_character_mermaid_or_html_would_read() {
        assert_eq!(
            label("a\"<b>]`#:\n"),
            "a#quot;#lt;b#gt;#93;#96;#35;#58;\\u{a}"
        );
    }
}
