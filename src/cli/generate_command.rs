//! `authaudit completions SHELL` and `authaudit man`: shell completion scripts and man pages
//! generated at run time from the same clap definitions that parse the arguments, so they can
//! never describe flags the binary does not have. No build step and no extra file to ship.

use super::{Cli, EXIT_ERROR, print_or_exit, usage_error};
use crate::report::snippet::visible;
use clap::CommandFactory;
use clap_complete::Shell;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub(super) struct CompletionsArgs {
    /// The shell to write the script for.
    #[arg(value_enum)]
    shell: Shell,
}

#[derive(Debug, clap::Args)]
pub(super) struct ManArgs {
    /// The command whose page to print, e.g. `check` or `rules list`; none for authaudit(1).
    #[arg(value_name = "COMMAND")]
    command: Vec<String>,
    /// Write every page (authaudit.1, authaudit-check.1, ...) into this folder instead.
    #[arg(long, value_name = "DIR", conflicts_with = "command")]
    out: Option<PathBuf>,
}

/// The command tree as the pages and scripts describe it: built, so every subcommand knows its
/// full name (`authaudit-rules-list`), and without clap's `help` subcommand, which has no page.
fn command_tree() -> clap::Command {
    let mut command = Cli::command().disable_help_subcommand(true);
    command.build();
    command
}

pub(super) fn completions(args: &CompletionsArgs) -> ExitCode {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command_tree(), "authaudit", &mut script);
    print_or_exit(&String::from_utf8_lossy(&script), ExitCode::SUCCESS)
}

pub(super) fn man(args: &ManArgs) -> ExitCode {
    if let Some(dir) = &args.out {
        return write_pages(dir);
    }
    let mut command = command_tree();
    for (depth, name) in args.command.iter().enumerate() {
        let Some(sub) = command.find_subcommand(name).cloned() else {
            let path = args.command[..=depth].join(" ");
            return usage_error(&format!(
                "no command `{}`; `authaudit --help` lists them",
                visible(&path)
            ));
        };
        command = sub;
    }
    match page(command) {
        Ok(page) => print_or_exit(&String::from_utf8_lossy(&page), ExitCode::SUCCESS),
        Err(e) => usage_error(&format!("cannot render the man page: {e}")),
    }
}

/// One command's page. Every page names the program and its version in its footer
/// (clap_mangen would name a subcommand there, without a version).
fn page(command: clap::Command) -> std::io::Result<Vec<u8>> {
    let mut page = Vec::new();
    clap_mangen::Man::new(command)
        .source(format!("authaudit {}", env!("CARGO_PKG_VERSION")))
        .render(&mut page)?;
    Ok(page)
}

/// One page per command, the top-level one included, named as `man` looks them up
/// (`authaudit-rules-list.1`).
fn write_pages(dir: &Path) -> ExitCode {
    let written = std::fs::create_dir_all(dir).and_then(|()| {
        // The command tree is the program's own and two levels deep; a stack keeps the walk
        // flat all the same.
        let mut stack = vec![command_tree()];
        while let Some(command) = stack.pop() {
            stack.extend(
                command
                    .get_subcommands()
                    .filter(|s| !s.is_hide_set())
                    .cloned(),
            );
            let name = command.get_display_name().unwrap_or(command.get_name());
            let file = dir.join(format!("{name}.1"));
            std::fs::write(file, page(command)?)?;
        }
        Ok(())
    });
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let dir = dir.display().to_string();
            eprintln!("error: cannot write man pages to {}: {e}", visible(&dir));
            ExitCode::from(EXIT_ERROR)
        }
    }
}
