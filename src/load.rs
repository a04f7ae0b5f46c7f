//! Loading: one file from bytes to a validated policy, and a whole tree of files with the
//! checks across them. Collects every diagnostic; one broken file never stops the others.
//!
//! A file found by walking a folder is loaded only when it reads as a policy (see
//! [`is_policy`]): a `docker-compose.yml` or CI workflow beside the policies is counted as
//! skipped, not reported. A file named on the command line is always checked.

use crate::diagnostic::{Code, Diagnostic};
use crate::discover::{Candidate, Discovery, ExternalSymlinks, Filters, discover_filtered};
use crate::factors::Catalogue;
use crate::model::{Policy, upgrade};
use crate::parallel;
use crate::schema::SchemaChecker;
use crate::source::{self, SizeBudget};
use crate::timings::{self, Phase};
use crate::validate;
use crate::yaml::{self, Node, YamlPath};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// One input file and everything learnt while loading it.
#[derive(Debug)]
pub struct LoadedFile {
    /// The path as the user should see it.
    pub shown: String,
    /// The text, when it could be read (kept for snippets).
    pub text: Option<String>,
    pub tree: Option<Node>,
    pub json: Option<Value>,
    /// The typed policy, present only when the file has no errors.
    pub policy: Option<Policy>,
    pub diagnostics: Vec<Diagnostic>,
}

impl LoadedFile {
    fn unparsed(shown: &str, diagnostics: Vec<Diagnostic>) -> Self {
        Self {
            shown: shown.to_owned(),
            text: None,
            tree: None,
            json: None,
            policy: None,
            diagnostics,
        }
    }

    pub fn is_valid(&self) -> bool {
        !self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// The errors (diagnostics that make the file invalid), without notes.
    pub fn error_count(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }

    /// Whether the file could not be read at all (exit code 2 rather than 1).
    pub fn has_io_error(&self) -> bool {
        self.diagnostics.iter().any(|d| d.code.is_io())
    }
}

/// Everything loaded from the paths a user gave.
#[derive(Debug)]
pub struct PolicyTree {
    pub files: Vec<LoadedFile>,
    /// Problems met while walking folders that belong to no loaded file.
    pub discovery: Vec<Diagnostic>,
    /// The YAML files found in folders and not loaded.
    pub walk: WalkSummary,
}

/// The `.yaml`/`.yml` files a walk found and left out, as shown (summaries count them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WalkSummary {
    /// Files that are not policies (no top-level `service` or `flows` key).
    pub skipped: Vec<String>,
    /// Files the `--include` / `--exclude` globs left out.
    pub excluded: Vec<String>,
}

/// The two top-level keys only a policy has; either marks a file as one, so a policy that
/// lacks the other (or misspells it) is still reported rather than skipped. `version` alone
/// is no sign: docker-compose files have it too.
pub const POLICY_KEYS: [&str; 2] = ["service", "flows"];

/// Whether a parsed file is a policy: a mapping with a top-level `service` or `flows` key.
pub fn is_policy(tree: &Node) -> bool {
    match &tree.value {
        yaml::Value::Map(entries) => entries
            .iter()
            .any(|(key, _)| POLICY_KEYS.contains(&key.name.as_str())),
        _ => false,
    }
}

/// Whether a text that did not parse is recognisably something other than a policy: every
/// line that starts at column 0 reads as a plain `key:` (or is a comment, a list item, a
/// document marker or a directive), and no such key is `service` or `flows`. A line that
/// reads as none of these (prose, flow-style YAML, a stray value) leaves the file's nature
/// unknown, and an unknown file is reported: a broken policy is never skipped silently.
pub fn is_recognisably_other(text: &str) -> bool {
    for line in text.lines() {
        let Some(first) = line.chars().next() else {
            continue;
        };
        if first.is_whitespace()
            || matches!(first, '#' | '%')
            || line.starts_with("- ")
            || line == "-"
            || line.starts_with("---")
            || line.starts_with("...")
        {
            continue;
        }
        let Some((key, _)) = line.split_once(':') else {
            return false;
        };
        let key = key.trim_end().trim_matches(['"', '\'']);
        let plain = key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/'));
        if key.is_empty() || !plain || POLICY_KEYS.contains(&key) {
            return false;
        }
    }
    true
}

impl PolicyTree {
    /// The text of a loaded file by its shown name, for snippets. Discovery shows every real
    /// path under its own name; should two files still share one, neither text is given, so a
    /// snippet never comes from another file.
    pub fn text(&self, shown: &str) -> Option<&str> {
        let mut named = self.files.iter().filter(|f| f.shown == shown);
        let file = named.next()?;
        if named.next().is_some() {
            return None;
        }
        file.text.as_deref()
    }

    pub fn policies(&self) -> impl Iterator<Item = (&LoadedFile, &Policy)> {
        self.files
            .iter()
            .filter_map(|f| f.policy.as_ref().map(|p| (f, p)))
    }
}

/// Told `(files loaded, files to load)` after each file `load_paths` reads; the CLI draws its
/// progress bar from it.
pub type ProgressHook = Box<dyn Fn(usize, usize) + Send + Sync>;

/// Loads policy files with one compiled schema and catalogue.
pub struct Loader {
    catalogue: Catalogue,
    schema: SchemaChecker,
    budget: SizeBudget,
    external_symlinks: ExternalSymlinks,
    progress: Option<ProgressHook>,
    filters: Filters,
}

impl Loader {
    pub fn new(catalogue: Catalogue, budget: SizeBudget) -> Self {
        let schema = SchemaChecker::new(&catalogue);
        Self {
            catalogue,
            schema,
            budget,
            external_symlinks: ExternalSymlinks::Refuse,
            progress: None,
            filters: Filters::default(),
        }
    }

    /// Keeps only the walked files that match an `include` glob (when any is given) and no
    /// `exclude` glob; files named explicitly are always loaded. The error names a glob that
    /// does not compile. Glob syntax: [`Filters`].
    pub fn with_filters(mut self, include: &[String], exclude: &[String]) -> Result<Self, String> {
        self.filters = Filters::new(include, exclude)?;
        Ok(self)
    }

    /// Reports each file loaded by `load_paths` to `hook` (nothing by default).
    #[must_use]
    pub fn with_progress(mut self, hook: ProgressHook) -> Self {
        self.progress = Some(hook);
        self
    }

    /// Whether symlinks that lead outside the given paths are followed (refused by default).
    #[must_use]
    pub fn with_external_symlinks(mut self, external: ExternalSymlinks) -> Self {
        self.external_symlinks = external;
        self
    }

    pub fn catalogue(&self) -> &Catalogue {
        &self.catalogue
    }

    /// Discovers, loads and cross-checks everything under `roots`.
    pub fn load_paths(&self, roots: &[PathBuf]) -> PolicyTree {
        let found = {
            let _discover = timings::span(Phase::Discover);
            discover_filtered(roots, self.external_symlinks, &self.filters)
        };
        let candidates = &found.candidates;
        let loaded = AtomicUsize::new(0);
        // Each file is read, parsed and checked on its own, on any core; the results keep the
        // candidates' order, so nothing after this depends on the number of threads.
        let files: Vec<Option<LoadedFile>> =
            timings::parallel(&[Phase::Read, Phase::Parse, Phase::Validate], || {
                parallel::map(candidates, |c| {
                    let file = self.load_candidate(c);
                    if let Some(progress) = &self.progress {
                        progress(loaded.fetch_add(1, Ordering::Relaxed) + 1, candidates.len());
                    }
                    file
                })
            });
        self.finish_walk(roots, found, files)
    }

    /// Sets the walked files that are not policies aside, and reports each folder given that
    /// yielded no policy file at all when nothing was loaded (a gate must not pass on nothing).
    fn finish_walk(
        &self,
        roots: &[PathBuf],
        found: Discovery,
        loaded: Vec<Option<LoadedFile>>,
    ) -> PolicyTree {
        let mut files = Vec::new();
        let mut skipped = Vec::new();
        for (candidate, file) in found.candidates.iter().zip(loaded) {
            match file {
                Some(file) => files.push(file),
                None => skipped.push(candidate.path.clone()),
            }
        }
        let mut discovery = found.problems;
        if files.is_empty() {
            for root in roots.iter().filter(|r| r.is_dir()) {
                let under =
                    |paths: &[PathBuf]| paths.iter().filter(|p| p.starts_with(root)).count();
                let hidden: Vec<&Path> = found
                    .hidden
                    .iter()
                    .map(Path::new)
                    .filter(|p| p.starts_with(root) && p.file_name().is_none_or(|n| n != ".git"))
                    .collect();
                let excluded: Vec<PathBuf> = found.excluded.iter().map(PathBuf::from).collect();
                discovery.push(no_policy_here(
                    root,
                    under(&skipped),
                    under(&excluded),
                    &hidden,
                ));
            }
        }
        let mut tree = self.finish(files, discovery);
        tree.walk = WalkSummary {
            skipped: skipped
                .iter()
                .map(|p| crate::discover::shown_path(p))
                .collect(),
            excluded: found.excluded,
        };
        tree
    }

    /// Loads in-memory files (name, text) as one tree; used by rule examples and tests.
    pub fn load_texts(&self, texts: &[(String, String)]) -> PolicyTree {
        let files = texts
            .iter()
            .map(|(name, text)| self.load_text(name, text.clone()))
            .collect();
        self.finish(files, Vec::new())
    }

    fn finish(&self, mut files: Vec<LoadedFile>, discovery: Vec<Diagnostic>) -> PolicyTree {
        let _validate = timings::span(Phase::Validate);
        for (index, diagnostic) in validate::check_tree(&files) {
            files[index].diagnostics.push(diagnostic);
        }
        for file in &mut files {
            file.diagnostics.sort_by_key(Diagnostic::sort_key);
            if !file.is_valid() {
                file.policy = None;
            }
        }
        PolicyTree {
            files,
            discovery,
            walk: WalkSummary::default(),
        }
    }

    /// The loaded file, or `None` for a walked file that is not a policy. A file that cannot
    /// be read within the budgets is loaded (and reported) whatever it holds: what it is
    /// cannot be told, and a broken policy must not be skipped.
    fn load_candidate(&self, candidate: &Candidate) -> Option<LoadedFile> {
        let shown = candidate.shown.as_str();
        let text = match timings::on_worker(Phase::Read, || {
            source::read(&candidate.path, shown, self.budget)
        }) {
            Ok(text) => text,
            Err(diagnostic) => return Some(LoadedFile::unparsed(shown, vec![diagnostic])),
        };
        let parsed = timings::on_worker(Phase::Parse, || yaml::parse(shown, &text));
        if !candidate.named {
            let policy = match &parsed {
                Ok(tree) => is_policy(tree),
                Err(_) => !is_recognisably_other(&text),
            };
            if !policy {
                return None;
            }
        }
        Some(self.load_parsed(shown, text, parsed))
    }

    fn load_text(&self, shown: &str, text: String) -> LoadedFile {
        match source::decode(shown, text.into_bytes(), self.budget) {
            Ok(text) => self.load_decoded(shown, text),
            Err(diagnostic) => LoadedFile::unparsed(shown, vec![diagnostic]),
        }
    }

    fn load_decoded(&self, shown: &str, text: String) -> LoadedFile {
        let parsed = yaml::parse(shown, &text);
        self.load_parsed(shown, text, parsed)
    }

    fn load_parsed(
        &self,
        shown: &str,
        text: String,
        parsed: Result<Node, Diagnostic>,
    ) -> LoadedFile {
        let mut file = LoadedFile::unparsed(shown, Vec::new());
        match parsed {
            Ok(tree) => timings::on_worker(Phase::Validate, || self.check(&mut file, tree)),
            Err(diagnostic) => file.diagnostics.push(diagnostic),
        }
        // Kept even when parsing failed, so the syntax error can show its snippet.
        file.text = Some(text);
        file
    }

    fn check(&self, file: &mut LoadedFile, tree: Node) {
        let shown = file.shown.as_str();
        let json = tree.to_json();
        let mut found = yaml::check_tree(shown, &tree);
        found.extend(self.schema.check(shown, &tree, &json));
        found.extend(validate::check_file(shown, &tree, &json, &self.catalogue));
        if !found.iter().any(Diagnostic::is_error) {
            match serde_json::from_value::<Policy>(json.clone()) {
                Ok(mut policy) => {
                    for note in upgrade::upgrade(&mut policy) {
                        let path = YamlPath::root().key(note.field);
                        let span = tree.key_span(&path).unwrap_or(tree.span);
                        found.push(
                            Diagnostic::note(Code::FormatUpgraded, shown, note.message)
                                .with_span(span)
                                .with_path(path)
                                .with_hint("run `authaudit migrate FILE` to write the file as v2"),
                        );
                    }
                    file.policy = Some(policy);
                }
                // The schema is generated from the same types, so this means the two disagree.
                Err(error) => found.push(
                    Diagnostic::error(
                        Code::SchemaViolation,
                        shown,
                        format!("the file passed the schema but not the model: {error}"),
                    )
                    .with_span(tree.span)
                    .with_hint("this is a bug in authaudit; please report it with the file"),
                ),
            }
        }
        file.diagnostics = found;
        file.tree = Some(tree);
        file.json = Some(json);
    }
}

/// The `no-policy-files` error for a folder given that yielded nothing, with what was left
/// out there and where policies may be hiding.
fn no_policy_here(root: &Path, skipped: usize, excluded: usize, hidden: &[&Path]) -> Diagnostic {
    let shown = crate::discover::shown_path(root);
    let mut reasons = Vec::new();
    if skipped > 0 {
        reasons.push(format!(
            "{skipped} YAML {} here {} not a policy (a policy has a top-level `service` or \
             `flows` key; name a file to check it anyway)",
            if skipped == 1 { "file" } else { "files" },
            if skipped == 1 { "is" } else { "are" },
        ));
    }
    if excluded > 0 {
        reasons.push(format!("{excluded} left out by the include/exclude globs"));
    }
    if !hidden.is_empty() {
        let names: Vec<String> = hidden
            .iter()
            .take(3)
            .map(|p| format!("`{}`", crate::discover::shown_path(p)))
            .collect();
        reasons.push(format!(
            "hidden folders are not searched ({}): name one to check it",
            names.join(", ")
        ));
    }
    if reasons.is_empty() {
        reasons.push(
            "authaudit reads `.yaml`/`.yml` policy files (hidden folders and `target/` aside): \
             name the folder that holds your policies"
                .to_owned(),
        );
    }
    Diagnostic::error(
        Code::NoPolicyFiles,
        &shown,
        "no policy file found here: there is nothing to check, which is not a pass",
    )
    .with_hint(reasons.join("; "))
}
