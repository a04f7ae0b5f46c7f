//! Benchmark: does evaluating every bundled rule pack cost less than loading the policies?
//!
//! Builds a corpus of about 1,000 policy files (the bundled `policies/` copied under renamed
//! service ids, so cross-file links stay consistent), then times, in the same run:
//! - load: discover, read, parse, schema and cross-file validation;
//! - evaluate: flow views and every rule of every bundled pack (`--pack all`).
//!
//! Run with `cargo bench --bench pipeline`. Prints medians and the ratio evaluate / load.

use authaudit::evaluate::{PackSelection, evaluate};
use authaudit::factors::Catalogue;
use authaudit::load::Loader;
use authaudit::rules::RuleSet;
use authaudit::source::SizeBudget;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const TARGET_FILES: usize = 1_000;
const ROUNDS: usize = 7;

fn policy_files(root: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(root)
        .into_iter()
        .filter_map(Result::ok)
        .map(|e| e.into_path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
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

fn build_corpus(dir: &Path) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    let sources: Vec<(String, String)> = policy_files(&root)
        .into_iter()
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(p).unwrap(),
            )
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
    ids.sort_by_key(|id| std::cmp::Reverse(id.len()));
    let groups = TARGET_FILES.div_ceil(sources.len());
    for group in 0..groups {
        let folder = dir.join(format!("group-{group:03}"));
        std::fs::create_dir_all(&folder).unwrap();
        for (name, text) in &sources {
            std::fs::write(
                folder.join(name),
                rename_ids(text, &ids, &format!("-g{group}")),
            )
            .unwrap();
        }
    }
    groups * sources.len()
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let files = build_corpus(dir.path());
    let rules = RuleSet::bundled();
    assert!(rules.diagnostics.is_empty(), "bundled packs must load");
    let loader = Loader::new(Catalogue::bundled(), SizeBudget::default());
    let roots = vec![dir.path().to_path_buf()];

    let mut load_times = Vec::new();
    let mut eval_times = Vec::new();
    let mut findings = 0;
    for _ in 0..ROUNDS {
        let start = Instant::now();
        let tree = loader.load_paths(&roots);
        load_times.push(start.elapsed());
        let invalid = tree.files.iter().filter(|f| !f.is_valid()).count();
        assert_eq!(invalid, 0, "the corpus must be valid");
        let start = Instant::now();
        let evaluation = evaluate(&tree, &rules, &PackSelection::All, loader.catalogue());
        eval_times.push(start.elapsed());
        findings = evaluation.findings.len();
    }
    let (load, eval) = (median(load_times), median(eval_times));
    let rule_count = rules.rules().count();
    println!(
        "corpus: {files} policy files, {rule_count} rules in {} packs, {findings} findings",
        rules.packs.len()
    );
    println!(
        "load (discover + read + parse + validate): median {:.1} ms over {ROUNDS} rounds",
        load.as_secs_f64() * 1e3
    );
    println!(
        "evaluate (views + all packs):              median {:.1} ms over {ROUNDS} rounds",
        eval.as_secs_f64() * 1e3
    );
    println!(
        "ratio evaluate / load: {:.3}",
        eval.as_secs_f64() / load.as_secs_f64()
    );
}
