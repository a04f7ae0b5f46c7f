//! Benchmark: each phase of `check --pack all` against the parse floor, on generated markets.
//!
//! The parse floor is the least any YAML tool must do: read the same files and parse each with
//! the same YAML crate (serde-saphyr) into a generic value, one thread, in the same run. For
//! each market (`examples/gen-market.rs`, seed 1, 3 gateways) the benchmark prints, as medians:
//! - the floor, and each phase of the pipeline as `check --pack all` runs it (discover, read,
//!   parse, validate, evaluate, paths, render the terminal report), measured by the same
//!   recorder as `check --timings`, on one thread and on every core, each as a ratio to the
//!   floor, and the speed-up from one thread to all;
//! - freeing the tree and the evaluation, which the CLI skips (it exits instead);
//! - the JSON report (`check --format json`) rendered from the same evaluation, one round;
//! - the peak memory (RSS) of the built `authaudit check --pack all` on the market, and of the
//!   floor, against the size of the corpus on disk (run under `/usr/bin/time -f %M`);
//! - how the time grows from one market to the next (each is about twice the previous).
//!
//! Then, for one file with more and more flows, how each output format grows with the
//! findings in that file (no format may be super-linear in them).
//!
//! Run with `cargo bench --bench phases`; give markets as `BANKS/WALLETS/LINKS` to run only
//! those (`cargo bench --bench phases -- 1000/60/20000`), `--bundled N` to measure the bundled
//! policies copied under renamed ids to at least N files (the corpus the issue first measured;
//! repeatable), `--rounds N` (default 3), `--flows N` (largest single file, default 4000; 0 to
//! skip it). Nothing is asserted: the figures go into docs/performance.md.

use authaudit::evaluate::{PackSelection, evaluate_at};
use authaudit::factors::Catalogue;
use authaudit::load::{Loader, PolicyTree};
use authaudit::report::audit::{self, ReportOptions};
use authaudit::report::check::{CheckOutcome, Lang};
use authaudit::report::document::{self, Templates};
use authaudit::report::{codequality, json, junit, sarif};
use authaudit::rules::{RuleSet, Severity};
use authaudit::source::SizeBudget;
use authaudit::timings::{self, Phase};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

// The generator is an example program; only its `generate` is used here.
#[allow(dead_code)]
#[path = "../examples/gen-market.rs"]
mod gen_market;

#[path = "common/mod.rs"]
mod common;

use common::median;

const DEFAULT_MARKETS: [(u32, u32, u64); 3] = [
    (1_000, 60, 20_000),
    (2_000, 120, 40_000),
    (4_000, 240, 80_000),
];
const DAY: &str = "2026-11-28";
/// Run as a child by the memory measurement: parse the floor of one folder and exit.
const FLOOR_CHILD: &str = "--floor-child";

struct Options {
    markets: Vec<(u32, u32, u64)>,
    /// Sizes of the renamed bundled corpus to measure too (`--bundled N`, repeatable).
    bundled: Vec<usize>,
    rounds: usize,
    flows: usize,
}

fn options() -> Options {
    let mut options = Options {
        markets: Vec::new(),
        bundled: Vec::new(),
        rounds: 3,
        flows: 4_000,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut number = |name: &str| -> usize {
            args.next()
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("{name} takes a number"))
        };
        match arg.as_str() {
            "--rounds" => options.rounds = number("--rounds").max(1),
            "--flows" => options.flows = number("--flows"),
            "--bundled" => {
                let n = number("--bundled");
                options.bundled.push(n);
            }
            // `cargo bench` passes `--bench`.
            other if other.starts_with('-') => {}
            size => {
                let parts: Vec<&str> = size.split('/').collect();
                let parsed = match parts[..] {
                    [b, w, l] => b.parse().ok().zip(w.parse().ok()).zip(l.parse().ok()),
                    _ => None,
                };
                let ((b, w), l) =
                    parsed.unwrap_or_else(|| panic!("market `{size}`: give BANKS/WALLETS/LINKS"));
                options.markets.push((b, w, l));
            }
        }
    }
    if options.markets.is_empty() && options.bundled.is_empty() {
        options.markets = DEFAULT_MARKETS.to_vec();
    }
    options
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// The files of a market, sorted, with their total size in bytes.
fn corpus(root: &Path) -> (Vec<PathBuf>, u64) {
    let files = common::yaml_files(root);
    let bytes = files
        .iter()
        .map(|p| std::fs::metadata(p).map_or(0, |m| m.len()))
        .sum();
    (files, bytes)
}

/// The parse floor: read each file and parse it into a generic value, one at a time, on this
/// thread. Returns the number of documents parsed.
fn floor(files: &[PathBuf]) -> usize {
    let mut parsed = 0;
    for path in files {
        let text = std::fs::read_to_string(path).expect("generated files are UTF-8");
        let value: serde_json::Value =
            serde_saphyr::from_str(&text).expect("generated files are YAML");
        parsed += usize::from(!value.is_null());
    }
    parsed
}

/// One run of what `check --pack all` does, with the phases the recorder saw.
struct Run {
    phases: Vec<Duration>,
    total: Duration,
    free: Duration,
    findings: usize,
}

fn outcome<'a>(
    tree: &'a PolicyTree,
    evaluation: &'a authaudit::evaluate::Evaluation,
    rules: &RuleSet,
) -> CheckOutcome<'a> {
    CheckOutcome {
        tree,
        evaluation,
        packs_run: PackSelection::All.packs_run(rules, tree),
        fail_on: Severity::High,
        lang: Lang::En,
        gate: &authaudit::gate::NONE,
    }
}

fn pipeline(loader: &Loader, rules: &RuleSet, root: &Path, threads: usize) -> Run {
    authaudit::parallel::set_threads(threads);
    timings::GLOBAL.reset();
    let day = authaudit::model::parse_date(DAY).ok();
    let start = Instant::now();
    let tree = loader.load_paths(&[root.to_path_buf()]);
    let evaluation = evaluate_at(&tree, rules, &PackSelection::All, loader.catalogue(), day);
    let text = {
        let _render = timings::span(Phase::Render);
        authaudit::report::check::render(&outcome(&tree, &evaluation, rules), false)
    };
    let total = start.elapsed();
    assert!(!text.is_empty());
    let findings = evaluation.findings.len();
    let phases = Phase::ALL
        .iter()
        .map(|&p| timings::GLOBAL.wall(p))
        .collect();
    let start = Instant::now();
    drop((tree, evaluation, text));
    let free = start.elapsed();
    authaudit::parallel::set_threads(0);
    Run {
        phases,
        total,
        free,
        findings,
    }
}

/// Medians over `rounds` runs, phase by phase.
fn medians(runs: &[Run]) -> Run {
    let phases = (0..Phase::ALL.len())
        .map(|i| median(runs.iter().map(|r| r.phases[i]).collect()))
        .collect();
    Run {
        phases,
        total: median(runs.iter().map(|r| r.total).collect()),
        free: median(runs.iter().map(|r| r.free).collect()),
        findings: runs[0].findings,
    }
}

/// Peak RSS in KiB of `program args`, from `/usr/bin/time -f %M`; `None` where there is none.
fn peak_kib(program: &Path, args: &[&str], env: &[(&str, &str)]) -> Option<u64> {
    let output = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("PEAK %M")
        .arg(program)
        .args(args)
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::null())
        .output()
        .ok()?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    stderr
        .lines()
        .find_map(|l| l.strip_prefix("PEAK "))
        .and_then(|n| n.trim().parse().ok())
}

struct Measured {
    files: usize,
    bytes: u64,
    floor: Duration,
    multi: Run,
}

fn market(
    (banks, wallets, links): (u32, u32, u64),
    options: &Options,
    loader: &Loader,
    rules: &RuleSet,
) -> Measured {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let root = dir.path().join("market");
    gen_market::generate(&gen_market::Args {
        banks,
        wallets,
        links,
        gateways: 3,
        seed: 1,
        out: root.clone(),
    })
    .expect("the market generates");
    measure(
        &format!("market {banks}/{wallets}/{links}"),
        &root,
        options,
        loader,
        rules,
    )
}

/// The corpus the issue first measured: the bundled `policies/` copied in groups under renamed
/// service ids (so links between files stay within a group), at least `target` files.
fn bundled(target: usize, options: &Options, loader: &Loader, rules: &RuleSet) -> Measured {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let root = dir.path().join("bundled");
    common::renamed_bundled_corpus(&root, target);
    measure(
        &format!("bundled policies renamed, {target}+ files"),
        &root,
        options,
        loader,
        rules,
    )
}

fn measure(
    label: &str,
    root: &Path,
    options: &Options,
    loader: &Loader,
    rules: &RuleSet,
) -> Measured {
    let root = root.to_path_buf();
    let (files, bytes) = corpus(&root);
    // One run of each first, so every measured round finds the files in the page cache.
    floor(&files);
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let mut floors = Vec::new();
    let (mut ones, mut multis) = (Vec::new(), Vec::new());
    for _ in 0..options.rounds {
        let start = Instant::now();
        assert_eq!(floor(&files), files.len());
        floors.push(start.elapsed());
        ones.push(pipeline(loader, rules, &root, 1));
        multis.push(pipeline(loader, rules, &root, threads));
    }
    let floor = median(floors);
    let (one, multi) = (medians(&ones), medians(&multis));
    println!(
        "\n## {label}: {} files, {:.2} MiB, {} findings ({} rounds, medians)\n",
        files.len(),
        bytes as f64 / 1_048_576.0,
        one.findings,
        options.rounds
    );
    println!("| phase | 1 thread | × floor | {threads} threads | × floor |");
    println!("|---|---|---|---|---|");
    let f = ms(floor);
    println!(
        "| parse floor (read + serde-saphyr → generic value, 1 thread) | {f:.1} ms | 1.00 | | |"
    );
    for (i, phase) in Phase::ALL.iter().enumerate() {
        let (a, b) = (ms(one.phases[i]), ms(multi.phases[i]));
        println!(
            "| {} | {a:.1} ms | {:.2} | {b:.1} ms | {:.2} |",
            phase.name(),
            a / f,
            b / f
        );
    }
    let (a, b) = (ms(one.total), ms(multi.total));
    println!(
        "| **check --pack all** (end to end) | {a:.1} ms | **{:.2}** | {b:.1} ms | **{:.2}** |",
        a / f,
        b / f
    );
    let (a, b) = (ms(one.free), ms(multi.free));
    println!(
        "| freeing tree and evaluation (skipped by the CLI) | {a:.1} ms | {:.2} | {b:.1} ms | {:.2} |",
        a / f,
        b / f
    );
    let load = |r: &Run| r.phases[..4].iter().sum::<Duration>();
    let evaluate = |r: &Run| r.phases[4] + r.phases[5];
    println!(
        "\nspeed-up from 1 to {threads} threads: load (discover to validate) {:.2}×, evaluate + paths {:.2}×, end to end {:.2}×",
        load(&one).as_secs_f64() / load(&multi).as_secs_f64(),
        evaluate(&one).as_secs_f64() / evaluate(&multi).as_secs_f64(),
        one.total.as_secs_f64() / multi.total.as_secs_f64()
    );

    // The JSON report, once: on large markets it is the slowest phase by far.
    let day = authaudit::model::parse_date(DAY).ok();
    let tree = loader.load_paths(std::slice::from_ref(&root));
    let evaluation = evaluate_at(&tree, rules, &PackSelection::All, loader.catalogue(), day);
    let start = Instant::now();
    let out = outcome(&tree, &evaluation, rules);
    let report = audit::build(&out, rules, &report_options());
    let text = json::render_report(&out, &report);
    let elapsed = start.elapsed();
    println!(
        "JSON report (`check --format json`, render only, 1 round): {:.1} ms, {:.2} × floor, {:.1} MiB of output",
        ms(elapsed),
        ms(elapsed) / f,
        text.len() as f64 / 1_048_576.0
    );
    drop((text, report, tree, evaluation));

    let binary = Path::new(env!("CARGO_BIN_EXE_authaudit"));
    let folder = root.to_string_lossy().into_owned();
    let check = ["check", "--pack", "all", "--at", DAY, folder.as_str()];
    let mb = bytes as f64 / 1024.0;
    for (label, env) in [
        ("1 thread", vec![("AUTHAUDIT_THREADS", "1")]),
        ("all threads", vec![]),
    ] {
        match peak_kib(binary, &check, &env) {
            Some(kib) => println!(
                "peak RSS of `authaudit check --pack all` ({label}): {:.1} MiB, {:.1} × the corpus",
                kib as f64 / 1024.0,
                kib as f64 / mb
            ),
            None => println!("peak RSS: /usr/bin/time is not available"),
        }
    }
    if let Ok(me) = std::env::current_exe()
        && let Some(kib) = peak_kib(&me, &[FLOOR_CHILD, &folder], &[])
    {
        println!(
            "peak RSS of the parse floor (this benchmark re-run as a child): {:.1} MiB, {:.1} × the corpus",
            kib as f64 / 1024.0,
            kib as f64 / mb
        );
    }
    Measured {
        files: files.len(),
        bytes,
        floor,
        multi,
    }
}

fn report_options() -> ReportOptions {
    ReportOptions {
        organisation: None,
        date: DAY.to_owned(),
    }
}

/// A valid policy of one wallet with `flows` weak login flows (e-mail address and password,
/// no attempt limit): many findings in one file.
fn big_file(flows: usize) -> String {
    let mut text = String::from(
        "version: 2\nservice:\n  id: big-wallet\n  name: Big wallet\n  kind: fund_transfer_operator\n  \
         jurisdiction: JP\n  as_of: \"2025-04-01\"\n  description: One wallet with many login flows.\n  \
         sources:\n    - title: Synthetic file written by authaudit's phases benchmark\n      \
         publisher: authaudit project\n      access: internal\n\
         contacts:\n  email:\n    kind: email\n    registered_by: account_opener\n\nflows:\n",
    );
    for i in 0..flows {
        text.push_str(&format!(
            "  login_{i:05}:\n    kind: login\n    steps:\n      - verify: [email_address, password]\n"
        ));
    }
    text
}

/// Each output format on one file of `flows` flows: (findings, [(format, time)]).
fn formats(
    loader: &Loader,
    rules: &RuleSet,
    flows: usize,
) -> (usize, Vec<(&'static str, Duration)>) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join("big-wallet.yaml");
    std::fs::write(&path, big_file(flows)).expect("written");
    let tree = loader.load_paths(&[path]);
    assert!(
        tree.files.iter().all(authaudit::load::LoadedFile::is_valid),
        "the big file must be valid"
    );
    let day = authaudit::model::parse_date(DAY).ok();
    let evaluation = evaluate_at(&tree, rules, &PackSelection::All, loader.catalogue(), day);
    let out = outcome(&tree, &evaluation, rules);
    let time = |f: &dyn Fn() -> usize| {
        let start = Instant::now();
        assert!(f() > 0);
        start.elapsed()
    };
    let templates = Templates::bundled();
    let build = || audit::build(&out, rules, &report_options());
    let results: Vec<(&'static str, Duration)> = vec![
        (
            "terminal",
            time(&|| authaudit::report::check::render(&out, false).len()),
        ),
        ("json", time(&|| json::render_report(&out, &build()).len())),
        ("sarif", time(&|| sarif::render_sarif(&out, rules).len())),
        ("junit", time(&|| junit::render_junit(&out).len())),
        (
            "codequality",
            time(&|| codequality::render_codequality(&out).len()),
        ),
        (
            "markdown",
            time(&|| document::render_markdown(&build(), &templates).map_or(0, |t| t.len())),
        ),
        (
            "html",
            time(&|| document::render_html(&build(), &templates).map_or(0, |t| t.len())),
        ),
    ];
    (evaluation.findings.len(), results)
}

fn main() {
    let mut args = std::env::args().skip(1);
    if args.next().as_deref() == Some(FLOOR_CHILD) {
        let root = PathBuf::from(args.next().expect("a folder"));
        let (files, _) = corpus(&root);
        floor(&files);
        return;
    }
    let options = options();
    let rules = RuleSet::bundled();
    assert!(rules.diagnostics.is_empty(), "bundled packs must load");
    let loader = Loader::new(Catalogue::bundled(), SizeBudget::default());
    timings::enable();
    println!(
        "# authaudit phases benchmark: {} cores available, rustc release profile",
        std::thread::available_parallelism().map_or(1, usize::from)
    );
    let mut measured: Vec<Measured> = options
        .markets
        .iter()
        .map(|&m| market(m, &options, &loader, &rules))
        .collect();
    let markets = measured.len();
    for &n in &options.bundled {
        measured.push(bundled(n, &options, &loader, &rules));
    }
    let (generated, renamed) = measured.split_at(markets);
    for series in [generated, renamed].into_iter().filter(|s| s.len() > 1) {
        println!("\n## growth from one corpus to the next (all threads)\n");
        println!("| files | corpus × | floor × | check --pack all × |");
        println!("|---|---|---|---|");
        for pair in series.windows(2) {
            let (a, b) = (&pair[0], &pair[1]);
            println!(
                "| {} → {} | {:.2} | {:.2} | **{:.2}** |",
                a.files,
                b.files,
                b.bytes as f64 / a.bytes as f64,
                b.floor.as_secs_f64() / a.floor.as_secs_f64(),
                b.multi.total.as_secs_f64() / a.multi.total.as_secs_f64()
            );
        }
    }
    if options.flows > 0 {
        println!("\n## one file, more and more flows: each output format (render only, 1 round)\n");
        let mut sizes = vec![options.flows / 4, options.flows / 2, options.flows];
        sizes.retain(|&n| n > 0);
        let mut previous: Option<Vec<(&str, Duration)>> = None;
        for flows in sizes {
            let (findings, results) = formats(&loader, &rules, flows);
            let row: Vec<String> = results
                .iter()
                .enumerate()
                .map(|(i, (name, d))| match &previous {
                    Some(p) => format!(
                        "{name} {:.1} ms ({:.2}×)",
                        ms(*d),
                        d.as_secs_f64() / p[i].1.as_secs_f64()
                    ),
                    None => format!("{name} {:.1} ms", ms(*d)),
                })
                .collect();
            println!("- {flows} flows, {findings} findings: {}", row.join(", "));
            previous = Some(results);
        }
    }
}
