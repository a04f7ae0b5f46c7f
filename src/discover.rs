//! Discovery: turns the paths a user gives into the list of policy files to load.
//!
//! Folders are walked in a fixed order; only `.yaml`/`.yml` entries are taken; hidden folders
//! and `target/` are skipped; symlinks are followed with loop detection, but by default only
//! when they lead to a place inside the paths given (a link to `/etc/…` or `~/.ssh/…` in a
//! pull request is reported, never read). Nothing is opened here: a FIFO named `x.yaml` is
//! passed on so the reader can refuse it by its metadata.
//!
//! Each file is shown under a name that is unique to its real path: bytes that are not UTF-8
//! are written `\xNN` rather than replaced by `�`, so two names that differ only there never
//! share diagnostics or snippets.

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

/// Whether symlinks that resolve outside the given paths are followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExternalSymlinks {
    /// Reported as `external-symlink` and not followed (the default).
    #[default]
    Refuse,
    /// Followed like any other link (`--follow-external-symlinks`).
    Follow,
}

impl From<bool> for ExternalSymlinks {
    /// `true` (the `--follow-external-symlinks` flag) follows them.
    fn from(follow: bool) -> Self {
        if follow { Self::Follow } else { Self::Refuse }
    }
}

/// The files found under `roots` and the problems met while walking; symlinks that lead
/// outside `roots` are refused.
pub fn discover(roots: &[PathBuf]) -> (Vec<Candidate>, Vec<Diagnostic>) {
    discover_with(roots, ExternalSymlinks::Refuse)
}

/// [`discover`], choosing what happens to symlinks that lead outside `roots`.
pub fn discover_with(
    roots: &[PathBuf],
    external: ExternalSymlinks,
) -> (Vec<Candidate>, Vec<Diagnostic>) {
    let inside = Inside::of(roots, external);
    let mut found = BTreeSet::new();
    let mut problems = Vec::new();
    for root in roots {
        let shown = shown_path(root);
        match std::fs::metadata(root) {
            Err(error) => problems.push(
                Diagnostic::error(Code::IoError, &shown, format!("cannot read path: {error}"))
                    .with_hint("check the path; authaudit takes policy files and folders"),
            ),
            // A file named explicitly is taken whatever its extension, like ripgrep does.
            Ok(meta) if !meta.is_dir() => {
                if let Some(problem) = inside.refuse_link(root) {
                    problems.push(problem);
                    continue;
                }
                found.insert(Candidate {
                    path: root.clone(),
                    shown,
                });
            }
            Ok(_) => walk(root, &inside, &mut found, &mut problems),
        }
    }
    (found.into_iter().collect(), problems)
}

/// The places symlinks may lead to: the folders given, and the folder of each file given.
struct Inside {
    /// Canonical paths; `None` when every link is followed.
    places: Option<Vec<PathBuf>>,
}

impl Inside {
    fn of(roots: &[PathBuf], external: ExternalSymlinks) -> Self {
        if external == ExternalSymlinks::Follow {
            return Self { places: None };
        }
        let places = roots
            .iter()
            .filter_map(|root| {
                let meta = std::fs::metadata(root).ok()?;
                let place = if meta.is_dir() {
                    root.clone()
                } else {
                    let parent = root.parent().filter(|p| !p.as_os_str().is_empty());
                    parent.map_or_else(|| PathBuf::from("."), Path::to_path_buf)
                };
                std::fs::canonicalize(place).ok()
            })
            .collect();
        Self {
            places: Some(places),
        }
    }

    /// A diagnostic when `path` is a symlink that resolves outside every place.
    fn refuse_link(&self, path: &Path) -> Option<Diagnostic> {
        let places = self.places.as_ref()?;
        let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
        if !is_link {
            return None;
        }
        // A dangling link is left to the reader, which reports it as unreadable.
        let target = std::fs::canonicalize(path).ok()?;
        if places.iter().any(|place| target.starts_with(place)) {
            return None;
        }
        Some(
            Diagnostic::error(
                Code::ExternalSymlink,
                &shown_path(path),
                format!(
                    "symlink to `{}`, outside the paths given; not followed",
                    shown_path(&target)
                ),
            )
            .with_hint(
                "policy links must stay inside the folders checked; name the target itself, \
                 or pass --follow-external-symlinks if the link is trusted",
            ),
        )
    }
}

fn walk(
    root: &Path,
    inside: &Inside,
    found: &mut BTreeSet<Candidate>,
    problems: &mut Vec<Diagnostic>,
) {
    let mut walker = WalkDir::new(root)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|entry| entry.depth() == 0 || !is_skipped_dir(entry));
    while let Some(entry) = walker.next() {
        match entry {
            Ok(entry) => {
                let is_dir = entry.file_type().is_dir();
                if entry.depth() > 0
                    && entry.path_is_symlink()
                    && (is_dir || has_policy_extension(entry.path()))
                    && let Some(problem) = inside.refuse_link(entry.path())
                {
                    problems.push(problem);
                    if is_dir {
                        walker.skip_current_dir();
                    }
                    continue;
                }
                if is_dir || !has_policy_extension(entry.path()) {
                    continue;
                }
                found.insert(Candidate {
                    path: entry.path().to_path_buf(),
                    shown: shown_path(entry.path()),
                });
            }
            Err(error) => problems.push(walk_error(&error)),
        }
    }
}

/// The path as shown to users. UTF-8 paths are shown as they are; in others, each byte that
/// is not part of valid UTF-8 is written `\xNN` and a backslash `\\`, so two different paths
/// never show the same (as `Path::display`, which writes `�` for every bad byte, would).
pub fn shown_path(path: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    let bytes = path.as_os_str().as_bytes();
    if let Ok(text) = std::str::from_utf8(bytes) {
        return text.to_owned();
    }
    let mut shown = String::with_capacity(bytes.len() + 8);
    for chunk in bytes.utf8_chunks() {
        shown.push_str(&chunk.valid().replace('\\', "\\\\"));
        for byte in chunk.invalid() {
            shown.push_str(&format!("\\x{byte:02X}"));
        }
    }
    shown
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
        .map_or_else(|| "(unknown path)".to_owned(), shown_path);
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
