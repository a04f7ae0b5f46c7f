//! Benchmark: how long does the attack-path analysis of a whole market take, compared with
//! loading the same files?
//!
//! Generates synthetic markets with `examples/gen-market.rs` (banks / wallets / direct links:
//! 100/10/1,000, 500/40/10,000 and 1,500/100/50,000, the target market, each with 3
//! linking gateways, seed 1) in a temporary folder, then times, in the same run:
//! - load: discover, read, parse, schema and cross-file validation (`Loader::load_paths`);
//! - paths: `analyse_without_fixes` under every bundled attacker profile at once;
//! - paths + fixes: `analyse` under every bundled profile (the chains, then the fix search);
//! - each profile alone, without fixes, to show where the time goes.
//!
//! Run with `cargo bench --bench paths`; give sizes as `BANKS/WALLETS/LINKS` to run only those
//! (`cargo bench --bench paths -- 1500/100/50000`). Prints medians and the ratios to loading.

use authaudit::attackers::{AttackerProfile, AttackerSet};
use authaudit::factors::Catalogue;
use authaudit::load::Loader;
use authaudit::paths::{Analysis, Input, Limits, analyse, analyse_without_fixes};
use authaudit::source::SizeBudget;
use std::time::{Duration, Instant};

// The generator is an example program; only its `generate` is used here.
#[allow(dead_code)]
#[path = "../examples/gen-market.rs"]
mod gen_market;

const DEFAULT_SIZES: [(u32, u32, u64); 3] =
    [(100, 10, 1_000), (500, 40, 10_000), (1_500, 100, 50_000)];
const ROUNDS: usize = 5;
/// A phase whose first round takes longer than this is measured over `SLOW_ROUNDS` rounds, so
/// the whole benchmark stays within minutes.
const SLOW: Duration = Duration::from_secs(10);
const SLOW_ROUNDS: usize = 3;
const GATEWAYS: u32 = 3;
const SEED: u64 = 1;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn ratio(a: Duration, b: Duration) -> String {
    format!("{:.2}", a.as_secs_f64() / b.as_secs_f64())
}

/// Runs `f` `ROUNDS` times (`SLOW_ROUNDS` when slow); returns the median and the last result.
fn time<T>(mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut samples = Vec::with_capacity(ROUNDS);
    let mut last = None;
    let mut rounds = ROUNDS;
    while samples.len() < rounds {
        // The previous result is freed here, outside the timed span.
        drop(last.take());
        let start = Instant::now();
        let out = f();
        let elapsed = start.elapsed();
        if samples.is_empty() && elapsed > SLOW {
            rounds = SLOW_ROUNDS;
        }
        samples.push(elapsed);
        last = Some(out);
    }
    (median(samples), last.expect("at least one round"))
}

fn sizes() -> Vec<(u32, u32, u64)> {
    let asked: Vec<(u32, u32, u64)> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .map(|a| {
            let parts: Vec<&str> = a.split('/').collect();
            match parts[..] {
                [b, w, l] => match (b.parse(), w.parse(), l.parse()) {
                    (Ok(b), Ok(w), Ok(l)) => (b, w, l),
                    _ => panic!("size `{a}`: give BANKS/WALLETS/LINKS as numbers"),
                },
                _ => panic!("size `{a}`: give BANKS/WALLETS/LINKS"),
            }
        })
        .collect();
    if asked.is_empty() {
        DEFAULT_SIZES.to_vec()
    } else {
        asked
    }
}

fn summary(a: &Analysis) -> String {
    format!(
        "{} chains ({} determined), {} fixes ranked, {} bounds reached",
        a.chains.len(),
        a.determined().count(),
        a.ranked_fixes.len(),
        a.bounds.len()
    )
}

fn main() {
    let catalogue = Catalogue::bundled();
    let set = AttackerSet::bundled(&catalogue);
    assert!(set.diagnostics().is_empty(), "bundled profiles must load");
    let profiles: Vec<&AttackerProfile> = set.profiles().iter().collect();
    let loader = Loader::new(Catalogue::bundled(), SizeBudget::default());
    println!(
        "{} bundled attacker profiles; medians over {ROUNDS} rounds ({SLOW_ROUNDS} when one takes over {}s); seed {SEED}, {GATEWAYS} gateways",
        profiles.len(),
        SLOW.as_secs()
    );

    for (banks, wallets, links) in sizes() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let files = gen_market::generate(&gen_market::Args {
            banks,
            wallets,
            links,
            gateways: GATEWAYS,
            seed: SEED,
            out: dir.path().to_path_buf(),
        })
        .expect("the market is generated");
        let bytes: u64 = walkdir::WalkDir::new(dir.path())
            .into_iter()
            .filter_map(Result::ok)
            .filter_map(|e| e.metadata().ok())
            .filter(|m| m.is_file())
            .map(|m| m.len())
            .sum();

        let roots = vec![dir.path().to_path_buf()];
        let (load, tree) = time(|| loader.load_paths(&roots));
        let invalid = tree.files.iter().filter(|f| !f.is_valid()).count();
        assert_eq!(invalid, 0, "the generated market must be valid");
        let inputs: Vec<Input> = tree
            .policies()
            .map(|(file, policy)| Input {
                file: &file.shown,
                policy,
                tree: file.tree.as_ref(),
            })
            .collect();
        let limits = Limits::default();

        let (paths, chains) =
            time(|| analyse_without_fixes(&inputs, &catalogue, &profiles, limits));
        let (fixed, with_fixes) = time(|| analyse(&inputs, &catalogue, &profiles, limits));

        println!();
        println!(
            "market {banks} banks / {wallets} wallets / {links} links: {files} files, {:.1} MiB",
            bytes as f64 / (1024.0 * 1024.0)
        );
        println!(
            "  load (discover + read + parse + validate): median {}",
            ms(load)
        );
        println!(
            "  paths, every profile, no fixes:           median {}  ratio paths / load {}",
            ms(paths),
            ratio(paths, load)
        );
        println!("    {}", summary(&chains));
        println!(
            "  paths, every profile, with fixes:         median {}  ratio / load {}",
            ms(fixed),
            ratio(fixed, load)
        );
        println!("    {}", summary(&with_fixes));
        drop((chains, with_fixes));
        for profile in &profiles {
            let (alone, found) =
                time(|| analyse_without_fixes(&inputs, &catalogue, &[*profile], limits));
            println!(
                "    {:<26} no fixes: median {:>10}  ratio / load {:>6}  {} chains",
                profile.id,
                ms(alone),
                ratio(alone, load),
                found.chains.len()
            );
        }
    }
}
