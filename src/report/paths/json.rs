//! `paths --format json`: the analysis as versioned JSON, with the files that could not be
//! analysed.

use crate::load::PolicyTree;
use crate::paths::Analysis;
use serde_json::json;

/// Bumped when a field changes meaning or goes away.
pub const PATHS_JSON_VERSION: u32 = 1;

pub fn render(analysis: &Analysis, tree: &PolicyTree) -> String {
    let failed: Vec<&str> = tree
        .files
        .iter()
        .filter(|f| !f.is_valid())
        .map(|f| f.shown.as_str())
        .collect();
    let value = json!({
        "version": PATHS_JSON_VERSION,
        "tool": {"name": "authaudit", "version": env!("CARGO_PKG_VERSION")},
        "attackers": analysis.attackers,
        "services": analysis.services,
        "files_not_analysed": failed,
        "summary": {
            "chains": analysis.determined().count(),
            "undetermined_chains": analysis.chains.len() - analysis.determined().count(),
        },
        "chains": analysis.chains,
        "ranked_fixes": analysis.ranked_fixes,
        "bounds_reached": analysis.bounds,
    });
    let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
    text.push('\n');
    text
}
