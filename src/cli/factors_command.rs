//! `authaudit factors`: the factor catalogue as a table for people, or as JSON with every
//! field of `rules/factors.yaml` for tools.

use super::print_or_exit;
use crate::evaluate::name_of;
use crate::factors::Catalogue;
use crate::report::Format;
use std::fmt::Write as _;
use std::process::ExitCode;

pub(super) fn run(format: Format) -> ExitCode {
    let catalogue = Catalogue::bundled();
    let text = match format {
        Format::Human => table(&catalogue),
        Format::Json => json(&catalogue),
    };
    print_or_exit(&text, ExitCode::SUCCESS)
}

fn table(catalogue: &Catalogue) -> String {
    let mut out = format!(
        "{:<22} {:<11} {:<7} {:<10} {:<10} {:<10} description\n",
        "factor", "category", "secret", "key space", "delivered", "unlock"
    );
    for f in &catalogue.factors {
        let or_dash = |v: Option<String>| v.unwrap_or_else(|| "-".to_owned());
        let _ = writeln!(
            out,
            "{:<22} {:<11} {:<7} {:<10} {:<10} {:<10} {}",
            f.name,
            name_of(&f.category),
            if f.secret { "yes" } else { "no" },
            or_dash(f.key_space.map(|k| k.to_string())),
            or_dash(f.delivered_by.map(|d| name_of(&d))),
            or_dash(f.unlock.map(|u| name_of(&u))),
            f.description
        );
    }
    out
}

/// `{"version": 1, "tool": "authaudit", "factors": [...]}`, each factor with the fields of
/// the catalogue file, in catalogue order.
fn json(catalogue: &Catalogue) -> String {
    let document = serde_json::json!({
        "version": 1,
        "tool": "authaudit",
        "factors": catalogue.factors,
    });
    let mut text = serde_json::to_string_pretty(&document).unwrap_or_default();
    text.push('\n');
    text
}
