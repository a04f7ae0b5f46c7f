//! Loading: one file from bytes to a validated policy, and a whole tree of files with the
//! checks across them. Collects every diagnostic; one broken file never stops the others.

use crate::diagnostic::{Code, Diagnostic};
use crate::discover::{Candidate, ExternalSymlinks, discover_with};
use crate::factors::Catalogue;
use crate::model::{Policy, upgrade};
use crate::schema::SchemaChecker;
use crate::source::{self, SizeBudget};
use crate::validate;
use crate::yaml::{self, Node, YamlPath};
use serde_json::Value;
use std::path::PathBuf;

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

/// Loads policy files with one compiled schema and catalogue.
pub struct Loader {
    catalogue: Catalogue,
    schema: SchemaChecker,
    budget: SizeBudget,
    external_symlinks: ExternalSymlinks,
}

impl Loader {
    pub fn new(catalogue: Catalogue, budget: SizeBudget) -> Self {
        let schema = SchemaChecker::new(&catalogue);
        Self {
            catalogue,
            schema,
            budget,
            external_symlinks: ExternalSymlinks::Refuse,
        }
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
        let (candidates, discovery) = discover_with(roots, self.external_symlinks);
        let files = candidates.iter().map(|c| self.load_file(c)).collect();
        self.finish(files, discovery)
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
        for (index, diagnostic) in validate::check_tree(&files) {
            files[index].diagnostics.push(diagnostic);
        }
        for file in &mut files {
            file.diagnostics.sort_by_key(Diagnostic::sort_key);
            if !file.is_valid() {
                file.policy = None;
            }
        }
        PolicyTree { files, discovery }
    }

    fn load_file(&self, candidate: &Candidate) -> LoadedFile {
        match source::read(&candidate.path, &candidate.shown, self.budget) {
            Ok(text) => self.load_decoded(&candidate.shown, text),
            Err(diagnostic) => LoadedFile::unparsed(&candidate.shown, vec![diagnostic]),
        }
    }

    fn load_text(&self, shown: &str, text: String) -> LoadedFile {
        match source::decode(shown, text.into_bytes(), self.budget) {
            Ok(text) => self.load_decoded(shown, text),
            Err(diagnostic) => LoadedFile::unparsed(shown, vec![diagnostic]),
        }
    }

    fn load_decoded(&self, shown: &str, text: String) -> LoadedFile {
        let mut file = LoadedFile::unparsed(shown, Vec::new());
        match yaml::parse(shown, &text) {
            Ok(tree) => self.check(&mut file, tree),
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
