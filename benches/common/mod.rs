//! What several benchmarks share: the corpus of the bundled policies copied under renamed
//! service ids, and medians. Included with `#[path]`, since each benchmark is its own crate.

use std::path::{Path, PathBuf};
use std::time::Duration;

pub fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// The `.yaml` files under `root`, sorted.
pub fn yaml_files(root: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(root)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(walkdir::DirEntry::into_path)
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

/// Writes the bundled `policies/` into `dir`, in groups of one copy each with every service
/// id suffixed by the group (so links between files stay within a group), until there are at
/// least `target` files. Returns the number of files written.
pub fn renamed_bundled_corpus(dir: &Path, target: usize) -> usize {
    let policies = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    let sources: Vec<(String, String)> = yaml_files(&policies)
        .iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(p).unwrap())
        })
        .collect();
    let mut ids: Vec<String> = sources
        .iter()
        .filter_map(|(_, text)| {
            text.lines()
                .find_map(|l| l.strip_prefix("  id: "))
                .map(|id| id.trim().to_owned())
        })
        .collect();
    // Longest first, so an id that starts another is never replaced inside it.
    ids.sort_by_key(|id| std::cmp::Reverse(id.len()));
    let groups = target.div_ceil(sources.len());
    for group in 0..groups {
        let folder = dir.join(format!("group-{group:04}"));
        std::fs::create_dir_all(&folder).unwrap();
        for (name, text) in &sources {
            let renamed = rename_ids(text, &ids, &format!("-g{group}"));
            std::fs::write(folder.join(name), renamed).unwrap();
        }
    }
    groups * sources.len()
}

/// Replaces whole service ids (not parts of longer ids) in `text`.
fn rename_ids(text: &str, ids: &[String], suffix: &str) -> String {
    let is_id_char = |c: char| c.is_ascii_alphanumeric() || c == '-';
    let mut out = String::with_capacity(text.len() + 64);
    let mut rest = text;
    'scan: while !rest.is_empty() {
        for id in ids {
            if let Some(after) = rest.strip_prefix(id.as_str()) {
                let before_ok = !out.chars().last().is_some_and(is_id_char);
                let after_ok = !after.chars().next().is_some_and(is_id_char);
                if before_ok && after_ok {
                    out.push_str(id);
                    out.push_str(suffix);
                    rest = after;
                    continue 'scan;
                }
            }
        }
        let c = rest.chars().next().unwrap_or_default();
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}
