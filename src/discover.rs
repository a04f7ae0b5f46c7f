//! Discovery: turns the paths a user gives into the list of policy files to load.
//!
//! Folders are walked in a fixed order; only `.yaml`/`.yml` entries are taken; hidden folders
//! and `target/` are skipped; symlinks are followed with loop detection. Nothing is opened
//! here: a FIFO named `x.yaml` is passed on so the reader can refuse it by its metadata.

use crate::diagnostic::{Code, Diagnostic};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use walkdir::WalkDir;

/// A file to load, with the path as the user should see it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Candidate {
    pub path: PathBuf,
    pub shown: String,
}

/// The files found under `roots` and the problems met while walking.
pub fn discover(roots: &[PathBuf]) -> (Vec<Candidate>, Vec<Diagnostic>) {
    let mut found = BTreeSet::new();
    let mut problems = Vec::new();
    for root in roots {
        let shown = root.display().to_string();
        match std::fs::metadata(root) {
            Err(error) => problems.push(
                Diagnostic::error(Code::IoError, &shown, format!("cannot read path: {error}"))
                    .with_hint("check the path; authaudit takes policy files and folders"),
            ),
            // A file named explicitly is taken whatever its extension, like ripgrep does.
            Ok(meta) if !meta.is_dir() => {
                found.insert(Candidate {
                    path: root.clone(),
                    shown,
                });
            }
            Ok(_) => walk(root, &mut found, &mut problems),
        }
    }
    (found.into_iter().collect(), problems)
}

fn walk(root: &Path, found: &mut BTreeSet<Candidate>, problems: &mut Vec<Diagnostic>) {
    let walker = WalkDir::new(root)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|entry| entry.depth() == 0 || !is_skipped_dir(entry));
    for entry in walker {
        match entry {
            Ok(entry) => {
                if entry.file_type().is_dir() || !has_policy_extension(entry.path()) {
                    continue;
                }
                found.insert(Candidate {
                    path: entry.path().to_path_buf(),
                    shown: entry.path().display().to_string(),
                });
            }
            Err(error) => problems.push(walk_error(&error)),
        }
    }
}

fn is_skipped_dir(entry: &walkdir::DirEntry) -> bool {
    let name = entry.file_name().to_string_lossy();
    entry.file_type().is_dir() && (name.starts_with('.') || name == "target")
}

fn has_policy_extension(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    )
}

fn walk_error(error: &walkdir::Error) -> Diagnostic {
    let shown = error
        .path()
        .map_or_else(|| "(unknown path)".to_owned(), |p| p.display().to_string());
    if error.loop_ancestor().is_some() {
        return Diagnostic::error(
            Code::SymlinkLoop,
            &shown,
            "symlink loop: this link leads back to a folder that contains it; not followed",
        )
        .with_hint("remove the link or point it outside the policy tree");
    }
    let reason = error
        .io_error()
        .map_or_else(|| error.to_string(), ToString::to_string);
    Diagnostic::error(Code::IoError, &shown, format!("cannot read: {reason}")).with_hint(
        "check that the path exists and that you may read it; a dangling symlink also ends here",
    )
}
