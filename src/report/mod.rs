//! Rendering: the only place that turns results into text. One module per output format,
//! chosen by a `match` on [`Format`].

pub mod attack_paths;
pub mod audit;
pub mod check;
pub mod codequality;
pub mod diff;
pub mod document;
pub mod github;
pub mod human;
pub mod json;
pub mod junit;
pub mod lines;
pub mod paths;
pub mod register;
pub mod rules;
pub mod sarif;
pub mod snippet;
pub mod terminal_text;

use crate::load::PolicyTree;

/// Output formats of `authaudit validate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Diagnostics with source snippets, for people.
    Human,
    /// Versioned JSON, for machines.
    Json,
}

/// Renders the result of validating `tree`.
pub fn render_validation(tree: &PolicyTree, format: Format, color: bool) -> String {
    match format {
        Format::Human => human::render_validation(tree, color),
        Format::Json => json::render_validation(tree),
    }
}
