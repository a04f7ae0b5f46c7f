//! `authaudit migrate`: rewrites v1 policy files as v2, in place, to stdout, or only checks.
//!
//! The files named are loaded together, and each is migrated on its own by [`crate::migrate`]:
//! errors between files (an unknown service, a duplicate id, a delegation cycle) depend on
//! which files were named, so they stop no migration and are left to `validate`. One bad file
//! never stops the others. A file is replaced through a temporary file in its own folder and a
//! rename, so a failed write never leaves it half-written. Exit codes: 0 done, 1 a file was refused (or `--check` found work),
//! 2 usage or I/O error.

use super::terminal::{self, Stream};
use super::{EXIT_ERROR, EXIT_INVALID, ReadArgs, print_or_exit, usage_error};
use crate::diagnostic::{Code, Diagnostic};
use crate::discover::{ExternalSymlinks, discover_with};
use crate::load::{LoadedFile, PolicyTree};
use crate::migrate::{Migration, migrate};
use crate::report::snippet::{Style, write_diagnostic};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub(super) struct MigrateArgs {
    /// Policy files to rewrite as format v2 (folders are searched for .yaml/.yml files).
    #[arg(required = true, value_name = "FILE")]
    paths: Vec<PathBuf>,
    /// Print the migrated text instead of writing the file (one file only); the report goes
    /// to stderr.
    #[arg(long, conflicts_with = "check")]
    stdout: bool,
    /// Write nothing; exit 1 if any file would change (for CI).
    #[arg(long)]
    check: bool,
    #[command(flatten)]
    read: ReadArgs,
}

/// What became of one file.
enum Outcome {
    /// Rewritten as v2 (with `--check`: would be).
    Migrated(String),
    /// Already at version 2: left untouched.
    AlreadyV2,
    /// Not migrated; the errors say why.
    Failed(Vec<Diagnostic>),
}

pub(super) fn run(args: &MigrateArgs) -> ExitCode {
    if args.stdout && args.paths.len() != 1 {
        return usage_error("--stdout prints one file: name exactly one");
    }
    let tree = args.read.loader().load_paths(&args.paths);
    if args.stdout && tree.files.len() > 1 {
        return usage_error("--stdout prints one file, but the folder holds several");
    }
    let real_paths = real_paths(&args.paths, args.read.external_symlinks());
    let outcomes: Vec<Outcome> = tree
        .files
        .iter()
        .map(|file| outcome(file, real_paths.get(&file.shown), args))
        .collect();
    let code = exit_code(&tree, &outcomes, args.check);
    if args.stdout {
        if !terminal::silenced(code) {
            eprint!(
                "{}",
                render(&tree, &outcomes, args, terminal::color(Stream::Stderr))
            );
        }
        return match outcomes.first() {
            Some(Outcome::Migrated(text)) => print_or_exit(text, code),
            Some(Outcome::AlreadyV2) => {
                print_or_exit(tree.files[0].text.as_deref().unwrap_or(""), code)
            }
            _ => code,
        };
    }
    let report = render(&tree, &outcomes, args, terminal::color(Stream::Stdout));
    terminal::print_report(&report, code)
}

/// The path of every file discovery finds, by the name it is shown under: the loader keeps
/// only that name, and a lossy name must never be the one written to. Discovery follows the
/// same links as the loader did, or a followed file would have no path to be written to.
fn real_paths(paths: &[PathBuf], external: ExternalSymlinks) -> BTreeMap<String, PathBuf> {
    let (candidates, _) = discover_with(paths, external);
    candidates.into_iter().map(|c| (c.shown, c.path)).collect()
}

fn outcome(file: &LoadedFile, path: Option<&PathBuf>, args: &MigrateArgs) -> Outcome {
    let text = match migrate(file) {
        Ok(Migration::AlreadyV2) => return Outcome::AlreadyV2,
        Ok(Migration::Rewritten(text)) => text,
        Err(diagnostics) => return Outcome::Failed(diagnostics),
    };
    if args.check || args.stdout {
        return Outcome::Migrated(text);
    }
    let written = path.map_or_else(
        || Err(std::io::Error::other("the file's path was lost")),
        |path| write_in_place(path, &text),
    );
    match written {
        Ok(()) => Outcome::Migrated(text),
        Err(error) => Outcome::Failed(vec![
            Diagnostic::error(
                Code::IoError,
                &file.shown,
                format!("cannot write the migrated file: {error}"),
            )
            .with_hint("the file is left unchanged; check that you may write to its folder"),
        ]),
    }
}

/// Replaces `path` by `text` through a temporary file in the same folder and a rename. Through
/// a symlink, the file it points at is replaced and the link stays.
fn write_in_place(path: &Path, text: &str) -> std::io::Result<()> {
    let target = fs::canonicalize(path)?;
    let (Some(folder), Some(name)) = (target.parent(), target.file_name()) else {
        return Err(std::io::Error::other("not a file path"));
    };
    let temp = folder.join(format!(
        ".{}.authaudit-migrate-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    // `create_new`: never overwrite a file this run did not create.
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&temp)?;
    let result = fs::metadata(&target)
        .and_then(|original| file.set_permissions(original.permissions()))
        .and_then(|()| file.write_all(text.as_bytes()))
        .and_then(|()| file.sync_all())
        .and_then(|()| fs::rename(&temp, &target));
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

/// 2 for unreadable paths or failed writes, 1 for refused files or (`--check`) pending work.
fn exit_code(tree: &PolicyTree, outcomes: &[Outcome], check: bool) -> ExitCode {
    let failed = outcomes.iter().filter_map(|o| match o {
        Outcome::Failed(diagnostics) => Some(diagnostics),
        _ => None,
    });
    let io = !tree.discovery.is_empty() || failed.clone().flatten().any(|d| d.code.is_io());
    let pending = check && outcomes.iter().any(|o| matches!(o, Outcome::Migrated(_)));
    if io {
        ExitCode::from(EXIT_ERROR)
    } else if failed.count() > 0 || pending {
        ExitCode::from(EXIT_INVALID)
    } else {
        ExitCode::SUCCESS
    }
}

/// Diagnostics, one line per file migrated or left alone, then the summary naming failures.
fn render(tree: &PolicyTree, outcomes: &[Outcome], args: &MigrateArgs, color: bool) -> String {
    let style = Style { color };
    let source = |name: &str| tree.text(name);
    let mut out = String::new();
    for diagnostic in &tree.discovery {
        write_diagnostic(&mut out, diagnostic, &source, style);
    }
    for diagnostics in outcomes.iter().filter_map(failures) {
        for diagnostic in diagnostics {
            write_diagnostic(&mut out, diagnostic, &source, style);
        }
    }
    let migrated = if args.check {
        "would migrate"
    } else {
        "migrated"
    };
    for (file, outcome) in tree.files.iter().zip(outcomes) {
        match outcome {
            Outcome::Migrated(_) => _ = writeln!(out, "{migrated}: {}", file.shown),
            Outcome::AlreadyV2 => _ = writeln!(out, "already v2: {}", file.shown),
            Outcome::Failed(_) => {}
        }
    }
    write_summary(&mut out, tree, outcomes, migrated, style);
    out
}

fn failures(outcome: &Outcome) -> Option<&Vec<Diagnostic>> {
    match outcome {
        Outcome::Failed(diagnostics) => Some(diagnostics),
        _ => None,
    }
}

/// `summary: migrated 3 files, 2 already v2, 1 failed`, then `failed:` and `not checked:`
/// lines like `validate`'s.
fn write_summary(
    out: &mut String,
    tree: &PolicyTree,
    outcomes: &[Outcome],
    migrated: &str,
    style: Style,
) {
    let count = |f: fn(&Outcome) -> bool| outcomes.iter().filter(|o| f(o)).count();
    let done = count(|o| matches!(o, Outcome::Migrated(_)));
    let already = count(|o| matches!(o, Outcome::AlreadyV2));
    // A path that could not be read is a failure too, though no file was loaded from it.
    let failed = outcomes.len() - done - already + tree.discovery.len();
    let files = if done == 1 { "file" } else { "files" };
    let _ = writeln!(
        out,
        "{}: {migrated} {done} {files}, {already} already v2, {failed} failed",
        style.bold("summary")
    );
    for (file, outcome) in tree.files.iter().zip(outcomes) {
        if let Outcome::Failed(diagnostics) = outcome {
            let errors = diagnostics.len();
            let noun = if errors == 1 { "error" } else { "errors" };
            let _ = writeln!(out, "  failed: {} ({errors} {noun})", file.shown);
        }
    }
    crate::report::human::write_not_checked(out, tree);
}
