//! Discovery: turns the paths a user gives into the list of candidate policy files to load.
//!
//! Folders are walked in a fixed order; only `.yaml`/`.yml` entries are taken, less those the
//! `--include` / `--exclude` globs leave out; hidden folders and `target/` are skipped (and
//! remembered, so "no policy file found" can name them); symlinks are followed with loop
//! detection, but by default only when they lead to a place inside the paths given (a link to
//! `/etc/…` or `~/.ssh/…` in a pull request is reported, never read). Nothing is opened here: a
//! FIFO named `x.yaml` is passed on so the reader can refuse it by its metadata, and whether a
//! walked file is a policy at all is for the loader to tell once it has read it.
//!
//! Each file is shown under a name that is unique to its real path: bytes that are not UTF-8
//! are written `\xNN` rather than replaced by `�`, so two names that differ only there never
//! share diagnostics or snippets.

use crate::diagnostic::{Code, Diagnostic};
use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use walkdir::WalkDir;

/// A file to load, with the path as the user should see it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Candidate {
    pub path: PathBuf,
    pub shown: String,
    /// Named on the command line (always checked) rather than found by walking a folder
    /// (checked only when it reads as a policy).
    pub named: bool,
}

/// Which walked files are candidates: `--include` and `--exclude` globs (and the same keys of
/// the configuration). Files named explicitly are never filtered.
///
/// A glob is matched against the file's path as shown (a leading `./` dropped) and against its
/// path inside the folder walked, so `policies/legacy/**` and `legacy/**` both work for
/// `check policies/`. `*` stays within one folder and `**` crosses folders; a glob without a
/// `/` matches the file name in any folder (`docker-compose.yml`, `*.example.yaml`).
#[derive(Debug, Clone, Default)]
pub struct Filters {
    include: Option<GlobSet>,
    exclude: Option<GlobSet>,
}

impl Filters {
    /// Compiles the globs; the error names the glob that does not compile and why.
    pub fn new(include: &[String], exclude: &[String]) -> Result<Self, String> {
        let set = |globs: &[String]| -> Result<Option<GlobSet>, String> {
            if globs.is_empty() {
                return Ok(None);
            }
            let mut builder = GlobSetBuilder::new();
            for glob in globs {
                builder.add(compile_glob(glob)?);
            }
            builder.build().map(Some).map_err(|e| e.to_string())
        };
        Ok(Self {
            include: set(include)?,
            exclude: set(exclude)?,
        })
    }

    /// Whether a walked file at `inside` (relative to the folder walked), shown as `shown`,
    /// is kept.
    fn keeps(&self, inside: &Path, shown: &str) -> bool {
        let mut shown = shown;
        while let Some(rest) = shown.strip_prefix("./") {
            shown = rest;
        }
        let matches = |set: &GlobSet| set.is_match(inside) || set.is_match(shown);
        self.include.as_ref().is_none_or(matches) && !self.exclude.as_ref().is_some_and(matches)
    }
}

/// Checks one glob as `--include` / `--exclude` take it (for clap's value parser), giving it
/// back unchanged.
pub fn check_glob(glob: &str) -> Result<String, String> {
    compile_glob(glob).map(|_| glob.to_owned())
}

fn compile_glob(glob: &str) -> Result<globset::Glob, String> {
    if glob.trim().is_empty() {
        return Err("an empty glob matches nothing: give a pattern such as `tests/**`".to_owned());
    }
    // Like .gitignore: a pattern without a folder part names files in any folder.
    let pattern = if glob.contains('/') {
        glob.to_owned()
    } else {
        format!("**/{glob}")
    };
    GlobBuilder::new(&pattern)
        .literal_separator(true)
        .build()
        .map_err(|e| format!("`{glob}` is not a valid glob: {}", e.kind()))
}

/// What walking the given paths found.
#[derive(Debug, Default)]
pub struct Discovery {
    /// The files to load, sorted.
    pub candidates: Vec<Candidate>,
    /// Problems met while walking (unreadable paths, symlink loops, links leading outside).
    pub problems: Vec<Diagnostic>,
    /// `.yaml`/`.yml` files left out by the include/exclude globs, as shown.
    pub excluded: Vec<String>,
    /// Hidden folders not searched, as shown (where a user's policies may be hiding).
    pub hidden: Vec<String>,
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
    let found = discover_filtered(roots, external, &Filters::default());
    (found.candidates, found.problems)
}

/// Walks `roots` keeping the walked files `filters` accepts.
pub fn discover_filtered(
    roots: &[PathBuf],
    external: ExternalSymlinks,
    filters: &Filters,
) -> Discovery {
    let inside = Inside::of(roots, external);
    // By (path, shown name): whether the file was named. A file both named and found in a
    // folder given is loaded once, as named.
    let mut found = BTreeMap::new();
    let mut walked = Walked {
        filters,
        excluded: BTreeSet::new(),
        hidden: BTreeSet::new(),
    };
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
                found.insert((root.clone(), shown), true);
            }
            Ok(_) => walk(root, &inside, &mut walked, &mut found, &mut problems),
        }
    }
    Discovery {
        candidates: found
            .into_iter()
            .map(|((path, shown), named)| Candidate { path, shown, named })
            .collect(),
        problems,
        excluded: walked.excluded.into_iter().collect(),
        hidden: walked.hidden.into_iter().collect(),
    }
}

/// The filters of a walk and what they and the folder rules left out.
struct Walked<'a> {
    filters: &'a Filters,
    excluded: BTreeSet<String>,
    hidden: BTreeSet<String>,
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
    walked: &mut Walked<'_>,
    found: &mut BTreeMap<(PathBuf, String), bool>,
    problems: &mut Vec<Diagnostic>,
) {
    let hidden = &mut walked.hidden;
    let mut walker = WalkDir::new(root)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|entry| {
            let skipped = entry.depth() > 0 && is_skipped_dir(entry);
            if skipped && entry.file_name().to_string_lossy().starts_with('.') {
                hidden.insert(shown_path(entry.path()));
            }
            !skipped
        });
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
                let shown = shown_path(entry.path());
                let inside_root = entry.path().strip_prefix(root).unwrap_or(entry.path());
                if !walked.filters.keeps(inside_root, &shown) {
                    walked.excluded.insert(shown);
                    continue;
                }
                found
                    .entry((entry.path().to_path_buf(), shown))
                    .or_insert(false);
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
