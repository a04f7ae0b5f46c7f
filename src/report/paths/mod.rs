//! Rendering attack-path analyses: one module per format behind [`render`]. The diagram
//! formats (`dot`, `mermaid`, and `svg` for the HTML report) draw each chain as the flows it
//! passes through, left to right; they share [`shown`] so that no text from a policy reaches
//! a diagram in a form its language would read as markup or a viewer would hide.

pub mod dot;
pub mod human;
pub mod json;
pub mod mermaid;
pub mod svg;

use crate::load::PolicyTree;
use crate::paths::{Analysis, Chain, Place};
use crate::report::human::{write_failed_files, write_input_diagnostics};
use crate::report::snippet::Style;
use std::borrow::Cow;
use std::fmt::Write as _;

/// Output formats of `authaudit paths`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PathsFormat {
    /// Chains step by step, for people.
    Human,
    /// Versioned JSON, for machines.
    Json,
    /// One Graphviz digraph of every chain (`dot -Tsvg`).
    Dot,
    /// Markdown with one Mermaid flowchart per chain (GitHub renders it).
    Mermaid,
}

pub fn render(analysis: &Analysis, tree: &PolicyTree, format: PathsFormat, color: bool) -> String {
    match format {
        PathsFormat::Human => human::render(analysis, tree, color),
        PathsFormat::Json => json::render(analysis, tree),
        PathsFormat::Dot => dot::render(analysis),
        PathsFormat::Mermaid => mermaid::render(analysis),
    }
}

/// What a diagram has no place for, for standard error: the input diagnostics, the files
/// that were not analysed and the bounds reached. Empty when there is nothing to say.
pub fn diagram_notes(analysis: &Analysis, tree: &PolicyTree) -> String {
    let mut out = String::new();
    write_input_diagnostics(&mut out, tree, Style { color: false });
    write_failed_files(&mut out, tree);
    for bound in &analysis.bounds {
        let _ = writeln!(
            out,
            "bound: {}:{}:{}: {} reached its limit of {} for {}; results may be incomplete",
            shown(&bound.at.file),
            bound.at.line,
            bound.at.column,
            bound.what,
            bound.limit,
            shown(&bound.attacker),
        );
    }
    out
}

/// A chance per victim as people read it: `1 in 22 (4.5%)`, or `certain`.
pub fn chance_text(chance: Option<f64>) -> String {
    match chance {
        None => "cannot be judged".to_owned(),
        Some(p) if p >= 1.0 => "certain".to_owned(),
        Some(p) if p <= 0.0 => "none".to_owned(),
        Some(p) => {
            let one_in = (1.0 / p).round();
            format!("1 in {one_in:.0} ({:.3}%)", p * 100.0)
        }
    }
}

/// `text` with every character a diagram must not carry raw written as `\u{…}`: control
/// characters (newlines too: a diagram label is one line), bidirectional and zero-width
/// formatting, line and paragraph separators, and the two noncharacters XML refuses. Unlike
/// [`crate::report::snippet::visible`], which keeps newlines for multi-line messages.
pub fn shown(text: &str) -> Cow<'_, str> {
    let hidden = |c: char| {
        c.is_control()
            || matches!(
                c,
                '\u{61c}'
                    | '\u{200b}'..='\u{200f}'
                    | '\u{2028}'..='\u{202e}'
                    | '\u{2060}'..='\u{2069}'
                    | '\u{feff}'
                    | '\u{fffe}'
                    | '\u{ffff}'
            )
    };
    if !text.chars().any(hidden) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if hidden(c) {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// The flows a chain passes through, in order: each step's flow, then for a link the flows
/// the holder is handed to.
pub fn chain_places(chain: &Chain) -> impl Iterator<Item = &Place> {
    chain
        .steps
        .iter()
        .flat_map(|s| std::iter::once(&s.at).chain(&s.via))
}

/// The flow part of a place's label: an account opening the policy does not describe has no
/// flow id.
pub fn flow_label(place: &Place) -> Cow<'_, str> {
    if place.flow.is_empty() {
        Cow::Borrowed("(account opening, not described)")
    } else {
        shown(&place.flow)
    }
}

/// Where a chain's money leaves from, in words.
pub fn source_text(chain: &Chain) -> String {
    let kind = chain.source.kind.replace('_', " ");
    match &chain.source.service {
        Some(s) => format!("money out of {kind} at {}", shown(s)),
        None => format!("money out of {kind}"),
    }
}
