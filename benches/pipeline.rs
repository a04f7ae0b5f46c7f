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
use std::time::Instant;

#[path = "common/mod.rs"]
mod common;

use common::{median, renamed_bundled_corpus};

const TARGET_FILES: usize = 1_000;
const ROUNDS: usize = 7;

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let files = renamed_bundled_corpus(dir.path(), TARGET_FILES);
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
