//! What the fuzz targets found, kept found: each crash reproducer in tests/fixtures/fuzz/ runs
//! through the very code its target runs (fuzz/src/lib.rs, included below) and must draw its
//! diagnostic without panicking.
//!
//! The fuzz crate is built only by `cargo fuzz` (docs/fuzzing.md); the first tests here run
//! each target on a known input so its code cannot rot unnoticed between fuzzing sessions.

#[path = "../../fuzz/src/lib.rs"]
mod fuzz_pipeline;

use authaudit::report::check::Lang;
use authaudit::report::github;
use fuzz_pipeline::{Audit, SEPARATOR, Seen};
use std::path::Path;

fn read(path: &str) -> Vec<u8> {
    std::fs::read(Path::new(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Files joined as one fuzz input.
fn joined(paths: &[&str]) -> Vec<u8> {
    paths
        .iter()
        .map(|p| read(p))
        .collect::<Vec<_>>()
        .join(&SEPARATOR)
}

fn errors(seen: &Seen) -> Vec<String> {
    seen.diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| format!("{}: {} [{}]", d.file, d.message, d.code.as_str()))
        .collect()
}

#[test]
fn policy_loader_checks_files_together_and_refuses_binary() {
    // The wallet pays out to the bank: neither is valid alone, both are together.
    let pair = joined(&[
        "policies/reference/ref-wallet.yaml",
        "policies/reference/ref-bank.yaml",
    ]);
    let seen = fuzz_pipeline::policy_loader(&pair);
    assert_eq!(seen.loaded, 2, "{:#?}", errors(&seen));
    // Whole, the input holds a NUL: the target checks it is refused as binary.
    assert_eq!(seen.codes(), ["binary-file"]);

    let wallet = read("policies/reference/ref-wallet.yaml");
    let seen = fuzz_pipeline::policy_loader(&wallet);
    assert_eq!(seen.loaded, 0);
    assert_eq!(seen.codes(), ["unknown-service", "unknown-service"]);
    assert!(seen.diagnostics.iter().all(|d| d.span.is_some()));

    let seen = fuzz_pipeline::policy_loader(&read("tests/fixtures/bad/invalid-utf8.yaml"));
    assert_eq!(
        (seen.loaded, seen.codes()),
        (0, vec!["invalid-utf8".to_owned()])
    );
}

#[test]
fn rule_pack_runs_the_harness_on_a_pack_that_loads_and_locates_a_broken_condition() {
    let pack = |name: &str| {
        let dir = format!("tests/fixtures/packs/{name}");
        joined(&[&format!("{dir}/pack.yaml"), &format!("{dir}/rules.yaml")])
    };
    let seen = fuzz_pipeline::rule_pack(&pack("valid"));
    assert_eq!(seen.loaded, 1, "{:#?}", errors(&seen));
    assert!(seen.diagnostics.is_empty(), "{:#?}", errors(&seen));

    let seen = fuzz_pipeline::rule_pack(&pack("cel-syntax"));
    assert_eq!(seen.loaded, 0);
    let broken = seen
        .diagnostics
        .iter()
        .find(|d| d.code.as_str() == "cel-syntax")
        .unwrap_or_else(|| panic!("{:?}", seen.codes()));
    assert!(
        broken.span.is_some() && broken.path.is_some(),
        "{broken:#?}"
    );
}

#[test]
fn attacker_profile_runs_the_analysis_for_a_profile_that_loads() {
    let valid = [
        b"in-house-insider.yaml".as_slice(),
        &[SEPARATOR],
        &read("tests/fixtures/attackers/valid/in-house-insider.yaml"),
    ]
    .concat();
    let seen = fuzz_pipeline::attacker_profile(&valid);
    assert_eq!(seen.loaded, 1, "{:#?}", errors(&seen));
    assert!(
        seen.chains > 0,
        "the insider finds no chain in the incidents"
    );

    let renamed = [
        b"another-name.yaml".as_slice(),
        &[SEPARATOR],
        &read("tests/fixtures/attackers/id-mismatch/file-name.yaml"),
    ]
    .concat();
    let seen = fuzz_pipeline::attacker_profile(&renamed);
    assert_eq!((seen.loaded, seen.chains), (0, 0));
    assert!(!seen.diagnostics.is_empty());
}

#[test]
fn check_and_render_evaluates_a_second_wallet_on_the_docomo_banks() {
    let wallet = String::from_utf8(read("policies/incidents/docomo-koza-2020/docomo-koza.yaml"))
        .unwrap()
        .replacen("  id: docomo-koza\n", "  id: second-wallet\n", 1);
    let seen = fuzz_pipeline::check_and_render(wallet.as_bytes());
    assert_eq!(seen.loaded, 7, "{:#?}", errors(&seen));
    assert!(seen.findings > 0 && seen.chains > 0, "{seen:?}");
}

/// Crash check_and_render-1 (found on a seed): `report::github::link_free` tests
/// `rest[..4].eq_ignore_ascii_case("www.")` at every character, and byte 4 of the rest often
/// falls inside a multi-byte character, so the GitHub step summary panicked on any Japanese
/// table cell: every rule title with `--lang ja`.
#[test]
fn check_and_render_1_step_summary_in_japanese() {
    let input = read("tests/fixtures/fuzz/check_and_render-1.yaml");
    let audit = Audit::new(&input);
    assert_eq!(
        audit.lang,
        Lang::Ja,
        "the input's odd length picks Japanese"
    );
    assert!(
        audit
            .seen
            .codes()
            .contains(&"inconsistent-notification".to_owned()),
        "{:?}",
        audit.seen.codes()
    );
    let summary = github::step_summary(&audit.outcome());
    assert!(summary.contains("| severity | rule |"), "{summary}");
}

/// The same crash in English: the problem table quotes diagnostic messages, and a factor
/// misspelt in Japanese puts multi-byte text in one.
#[test]
fn check_and_render_1_step_summary_quoting_japanese_input() {
    let input = read("tests/fixtures/fuzz/check_and_render-1-english.yaml");
    let audit = Audit::new(&input);
    assert_eq!(
        audit.lang,
        Lang::En,
        "the input's even length picks English"
    );
    assert!(
        audit.seen.codes().contains(&"unknown-factor".to_owned()),
        "{:?}",
        audit.seen.codes()
    );
    let summary = github::step_summary(&audit.outcome());
    assert!(summary.contains("暗証番号"), "{summary}");
}

/// The whole target, step summary included, passes on both reproducers.
#[test]
fn check_and_render_1_whole_target() {
    for name in ["check_and_render-1.yaml", "check_and_render-1-english.yaml"] {
        let seen = fuzz_pipeline::check_and_render(&read(&format!("tests/fixtures/fuzz/{name}")));
        assert!(seen.findings > 0, "{name}: the docomo findings are gone");
    }
}
