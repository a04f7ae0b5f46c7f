//! The integration tests, as one test crate: one binary to link instead of one per file
//! (CI builds this once). Each module is one area; fixtures live under `tests/fixtures/`.

mod attackers;
mod bundled_rules;
mod ci_cli;
mod citations;
mod factor_catalogue;
mod fuzz_regressions;
mod gate_cli;
mod gen_market;
mod hostile_files;
mod hostile_graphs;
mod hostile_output;
mod hostile_packs;
mod migrate_cli;
mod paths;
mod paths_properties;
mod paths_render;
mod pipeline_properties;
mod policy_format_docs;
mod readme;
mod report_cli;
mod report_documents;
mod report_html_chromium;
mod report_machine;
mod robustness;
mod rules_cli;
mod scale_cli;
mod schema;
mod terminal_cli;
mod time_aware;
mod traps_cli;
mod undescribed;
mod validate_cli;
mod view_fields;
