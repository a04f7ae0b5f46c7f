//! The table of bundled attacker profiles in `docs/attacker-profiles.md`, generated from the
//! profiles themselves so the doc cannot drift from the data (a test compares the two).

use super::{AttackerProfile, ProfileSource};
use crate::model::name_of;
use crate::report::document::escape_markdown;
use std::fmt::Write;

/// Marks the start of the generated table in the doc.
pub const TABLE_START: &str = "<!-- bundled-profiles: generated from rules/attackers/ by tests/cli/attackers.rs; do not edit -->";
/// Marks its end.
pub const TABLE_END: &str = "<!-- end of bundled-profiles -->";

/// A Markdown table of `profiles`, one row each: id, title, what it knows, controls and can
/// do, and its sources (catalogue ids, or titles with their publisher).
pub fn profile_table(profiles: &[AttackerProfile]) -> String {
    let mut out = String::from(
        "| id | title | knows | controls | capabilities | sources |\n|---|---|---|---|---|---|\n",
    );
    for profile in profiles {
        let controls: Vec<String> = profile.controls.iter().map(name_of).collect();
        let capabilities: Vec<String> = profile.capabilities.iter().map(name_of).collect();
        let sources: Vec<String> = profile.sources.iter().map(source_cell).collect();
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} | {} |",
            profile.id,
            escape_markdown(&profile.title),
            code_list(&profile.knows),
            code_list(&controls),
            code_list(&capabilities),
            sources.join("; "),
        );
    }
    out
}

/// Names as inline code, comma-separated; a dash for none.
fn code_list(names: &[String]) -> String {
    if names.is_empty() {
        return "—".to_owned();
    }
    names
        .iter()
        .map(|n| format!("`{}`", n.replace('`', "'")))
        .collect::<Vec<_>>()
        .join(", ")
}

fn source_cell(source: &ProfileSource) -> String {
    match (&source.id, &source.publisher) {
        (Some(id), _) => format!("`{}`", id.replace('`', "'")),
        (None, Some(publisher)) => format!(
            "{} ({})",
            escape_markdown(&source.title),
            escape_markdown(publisher)
        ),
        (None, None) => escape_markdown(&source.title),
    }
}
