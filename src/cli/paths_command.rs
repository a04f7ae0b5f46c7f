//! `authaudit paths`: the cross-party attack paths of a policy tree under attacker profiles.

use super::terminal::{self, Stream};
use super::{EXIT_ERROR, EXIT_INVALID, LoadArgs, print_or_exit, usage_error};
use crate::attackers::{AttackerProfile, AttackerSet};
use crate::factors::Catalogue;
use crate::paths::{Input, Limits, analyse, analyse_without_fixes};
use crate::report::paths::{PathsFormat, diagram_notes, render};
use crate::report::snippet::{Style, write_diagnostic};
use crate::suggest::closest;
use crate::timings::{self, Phase};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct PathsArgs {
    #[command(flatten)]
    pub(super) load: LoadArgs,
    /// Attacker profile to run (repeatable); default: every profile.
    #[arg(long = "attacker", value_name = "ID")]
    attackers: Vec<String>,
    /// Folder of extra attacker profiles (`*.yaml`, repeatable).
    #[arg(long = "attackers", value_name = "DIR")]
    pub(super) attacker_dirs: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = PathsFormat::Human)]
    format: PathsFormat,
    /// Leave out the search for fixes (faster on large trees).
    #[arg(long)]
    no_fixes: bool,
    /// Do not report chains less likely than this per victim (0 to 1).
    #[arg(long, value_name = "P", default_value_t = Limits::default().min_chance)]
    min_chance: f64,
}

pub fn run(args: &PathsArgs) -> ExitCode {
    if !(0.0..=1.0).contains(&args.min_chance) {
        return usage_error(&format!(
            "--min-chance {} is not a chance: give a number from 0 to 1",
            args.min_chance
        ));
    }
    let catalogue = Catalogue::bundled();
    let mut set = AttackerSet::bundled(&catalogue);
    for dir in &args.attacker_dirs {
        set.add_dir(dir, &catalogue);
    }
    if !set.diagnostics().is_empty() {
        let mut out = String::new();
        let source = |name: &str| set.text(name);
        for diagnostic in set.diagnostics() {
            let color = terminal::color(Stream::Stderr);
            write_diagnostic(&mut out, diagnostic, &source, Style { color });
        }
        eprintln!(
            "{out}attacker profiles refused ({} problems)",
            set.diagnostics().len()
        );
        return ExitCode::from(EXIT_ERROR);
    }
    let mut chosen: Vec<&AttackerProfile> = Vec::new();
    for id in &args.attackers {
        match set.get(id) {
            Some(p) => chosen.push(p),
            None => {
                let ids = set.profiles().iter().map(|p| p.id.as_str());
                let hint = closest(id, ids.clone()).map_or_else(
                    || format!("profiles: {}", ids.collect::<Vec<_>>().join(", ")),
                    |b| format!("did you mean `{b}`?"),
                );
                return usage_error(&format!("unknown attacker profile `{id}`; {hint}"));
            }
        }
    }
    if chosen.is_empty() {
        chosen = set.profiles().iter().collect();
    }
    let (loader, tree) = args.load.load();
    let tree = super::kept_until_exit(tree);
    let inputs: Vec<Input> = tree
        .policies()
        .map(|(file, policy)| Input {
            file: &file.shown,
            policy,
            tree: file.tree.as_ref(),
        })
        .collect();
    let limits = Limits {
        min_chance: args.min_chance,
        ..Limits::default()
    };
    let analysis = {
        let _paths = timings::span(Phase::Paths);
        if args.no_fixes {
            analyse_without_fixes(&inputs, &catalogue, &chosen, limits)
        } else {
            analyse(&inputs, &catalogue, &chosen, limits)
        }
    };
    // The loader holds the progress bar, kept through the search and cleared before output.
    drop(loader);
    let analysis = super::kept_until_exit(analysis);
    let _render = timings::span(Phase::Render);
    let color = args.format == PathsFormat::Human && terminal::color(Stream::Stdout);
    let text = render(analysis, tree, args.format, color);
    if matches!(args.format, PathsFormat::Dot | PathsFormat::Mermaid) {
        // A diagram has no place for diagnostics or bounds; they go beside it, not nowhere.
        eprint!("{}", diagram_notes(analysis, tree));
    }
    // Invalid input is never a clean result, nor a finding: the chains through it are unknown,
    // so it exits 2 as it does for `validate` and `check`.
    let status = match super::input_status(tree) {
        Some(code) => code,
        None if analysis.determined().next().is_some() => ExitCode::from(EXIT_INVALID),
        None => ExitCode::SUCCESS,
    };
    if args.format == PathsFormat::Human {
        return terminal::print_report(&text, status);
    }
    print_or_exit(&text, status)
}
