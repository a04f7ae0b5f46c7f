//! `authaudit init [DIR]`: a commented starter `authaudit.toml` and a starter policy
//! (`policies/example.yaml`), so that `authaudit check` works in a new folder at once. Never
//! overwrites: when either file exists, nothing is written.

use super::EXIT_ERROR;
use crate::config::FILE_NAME;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The starter configuration.
pub const STARTER_CONFIG: &str = include_str!("../../templates/init/authaudit.toml");
/// The starter policy: valid v2, with no finding at or above high.
pub const STARTER_POLICY: &str = include_str!("../../templates/init/example.yaml");
/// Where the starter policy goes, under DIR (the configuration's `paths` names its folder).
const POLICY_FILE: &str = "policies/example.yaml";

#[derive(Debug, clap::Args)]
pub(super) struct InitArgs {
    /// Folder to write the files in (made if missing).
    #[arg(default_value = ".", value_name = "DIR")]
    dir: PathBuf,
}

pub(super) fn run(args: &InitArgs) -> ExitCode {
    let files = [
        (args.dir.join(FILE_NAME), STARTER_CONFIG),
        (args.dir.join(POLICY_FILE), STARTER_POLICY),
    ];
    let existing: Vec<String> = files
        .iter()
        .filter(|(path, _)| std::fs::symlink_metadata(path).is_ok())
        .map(|(path, _)| shown(path))
        .collect();
    if !existing.is_empty() {
        eprintln!(
            "error: {} already exist{}; nothing written\n  = help: move {} aside, or run `authaudit init DIR` with another folder",
            existing.join(" and "),
            if existing.len() == 1 { "s" } else { "" },
            if existing.len() == 1 { "it" } else { "them" },
        );
        return ExitCode::from(EXIT_ERROR);
    }
    for (path, text) in &files {
        if let Err(e) = write_new(path, text) {
            eprintln!("error: cannot write {}: {e}", shown(path));
            return ExitCode::from(EXIT_ERROR);
        }
        println!("wrote {}", shown(path));
    }
    let place = if shown(&args.dir).is_empty() {
        String::new()
    } else {
        format!(" in {}", shown(&args.dir))
    };
    println!(
        "next: describe your service in {}, then run `authaudit check`{place}",
        shown(&files[1].0)
    );
    ExitCode::SUCCESS
}

/// Writes `text` to a file that must not exist yet: one made between the check above and
/// this write is still never overwritten.
fn write_new(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(folder) = path.parent() {
        std::fs::create_dir_all(folder)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    file.write_all(text.as_bytes())
}

/// A path without a leading `./`.
fn shown(path: &Path) -> String {
    path.strip_prefix(".").unwrap_or(path).display().to_string()
}
