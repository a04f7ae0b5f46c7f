//! `authaudit rules list | explain | test | docs`.

use super::{EXIT_INVALID, PackArgs, RulesCommand, print_or_exit, refuse_packs, usage_error};
use crate::evaluate::PackSelection;
use crate::factors::Catalogue;
use crate::load::Loader;
use crate::report::Format;
use crate::report::rules as rule_report;
use crate::rules::{self, RulePack, RuleSet};
use crate::source::SizeBudget;
use crate::suggest::closest;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub fn run(command: &RulesCommand) -> ExitCode {
    let packs = match command {
        RulesCommand::List { packs, .. }
        | RulesCommand::Explain { packs, .. }
        | RulesCommand::Test { packs }
        | RulesCommand::Docs { packs, .. } => packs,
    };
    let set = match packs.rule_set() {
        Ok(set) => set,
        Err(set) => return refuse_packs(&set),
    };
    let selection = match packs.selection(&set) {
        Ok(selection) => selection,
        Err(message) => return usage_error(&message),
    };
    let chosen = chosen_packs(packs, &selection);
    match command {
        RulesCommand::List {
            severity,
            long,
            format,
            ..
        } => {
            let text = match format {
                Format::Json => rule_report::list_json(&set, &chosen, *severity),
                Format::Human => rule_report::list(&set, &chosen, *severity, *long),
            };
            print_or_exit(&text, ExitCode::SUCCESS)
        }
        RulesCommand::Explain { id, .. } => explain(&set, id),
        RulesCommand::Test { .. } => test(&set.filtered(&chosen)),
        RulesCommand::Docs { out, .. } => match out.clone().map_or_else(project_docs, Ok) {
            Ok(out) => docs(&set.filtered(&chosen), &out),
            Err(message) => usage_error(&message),
        },
    }
}

/// Which packs a `rules` command covers. With `--pack`, those; without, the user's packs
/// when `--rules` is given (that is what they are writing), else every bundled pack.
fn chosen_packs<'a>(
    packs: &'a PackArgs,
    selection: &'a PackSelection,
) -> impl Fn(&RulePack) -> bool + 'a {
    move |pack: &RulePack| match selection {
        PackSelection::Named(names) => names.contains(&pack.manifest.id),
        PackSelection::All => true,
        PackSelection::ByJurisdiction => packs.rule_dirs.is_empty() || !pack.bundled,
    }
}

fn explain(set: &RuleSet, id: &str) -> ExitCode {
    match set.rule(id) {
        // Pack text goes to a terminal: control characters are shown, not obeyed.
        Some((pack, rule)) => print_or_exit(
            &crate::report::snippet::visible(&rules::docs::rule_markdown(pack, rule, true)),
            ExitCode::SUCCESS,
        ),
        None => {
            let ids: Vec<&str> = set.rules().map(|(_, r)| r.spec.id.as_str()).collect();
            let hint = closest(id, ids.iter().copied()).map_or_else(
                || "run `authaudit rules list`".to_owned(),
                |b| format!("did you mean `{b}`?"),
            );
            usage_error(&format!("unknown rule `{id}`; {hint}"))
        }
    }
}

fn test(set: &RuleSet) -> ExitCode {
    let loader = Loader::new(Catalogue::bundled(), SizeBudget::default());
    let results = rules::harness::run(set, &loader);
    let (text, failed) = rule_report::test_results(&results);
    let code = if failed {
        ExitCode::from(EXIT_INVALID)
    } else {
        ExitCode::SUCCESS
    };
    super::terminal::print_report(&text, code)
}

/// Where `rules docs` writes without `--out`: `docs/rules` of authaudit's own source tree (the
/// current folder has Cargo.toml, rules/ and docs/rules/), so running it elsewhere never
/// scatters a docs/ folder into someone's project.
fn project_docs() -> Result<PathBuf, String> {
    let docs = PathBuf::from("docs/rules");
    if Path::new("Cargo.toml").is_file() && Path::new("rules").is_dir() && docs.is_dir() {
        return Ok(docs);
    }
    Err(
        "without --out, `rules docs` writes only into docs/rules of authaudit's source tree \
         (a folder with Cargo.toml, rules/ and docs/rules/), and this is not one: give \
         --out DIR, e.g. `authaudit rules docs --out rule-docs`"
            .to_owned(),
    )
}

fn docs(set: &RuleSet, out: &Path) -> ExitCode {
    if let Err(error) = std::fs::create_dir_all(out) {
        return usage_error(&format!("cannot create {}: {error}", out.display()));
    }
    let pages = rules::docs::generate(set);
    for (name, text) in &pages {
        if let Err(error) = std::fs::write(out.join(name), text) {
            return usage_error(&format!(
                "cannot write {}: {error}",
                out.join(name).display()
            ));
        }
    }
    let message = format!("wrote {} pages to {}\n", pages.len(), out.display());
    print_or_exit(&message, ExitCode::SUCCESS)
}
