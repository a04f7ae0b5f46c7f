//! `authaudit rules ...` and `authaudit check` against the real binary, with user packs from
//! `tests/fixtures/packs/`: every way a pack can be refused, the test harness, and exit codes.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs authaudit in the crate root; returns (exit code, stdout, stderr).
fn run(args: &[&str]) -> (i32, String, String) {
    let output = Command::cargo_bin("authaudit")
        .unwrap()
        .env_clear()
        .env("NO_COLOR", "1")
        .current_dir(root())
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code().unwrap(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

fn pack(case: &str) -> String {
    format!("tests/fixtures/packs/{case}")
}

#[test]
fn broken_packs_are_refused_at_load_with_location_and_hint() {
    for case in [
        "cel-syntax",
        "unknown-field",
        "unknown-severity",
        "no-citation",
        "unknown-document",
        "duplicate-id",
    ] {
        let (code, stdout, stderr) = run(&["rules", "test", "--rules", &pack(case)]);
        assert_eq!(code, 2, "{case}: {stdout}{stderr}");
        assert!(stdout.is_empty(), "{case}: {stdout}");
        assert!(
            stderr.contains(&format!("--> tests/fixtures/packs/{case}/rules.yaml:")),
            "{stderr}"
        );
        assert!(stderr.contains("= help: "), "{stderr}");
        insta::assert_snapshot!(format!("pack__{case}"), stderr);
        // The same refusal stops `check`: no partial evaluation with a broken pack.
        let (code, _, _) = run(&["check", "policies", "--rules", &pack(case)]);
        assert_eq!(code, 2, "{case}");
    }
}

#[test]
fn user_pack_examples_run_through_the_harness() {
    let (code, stdout, _) = run(&["rules", "test", "--rules", &pack("valid")]);
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.contains("ok   INHOUSE-LINK-01 (inhouse-valid; fires on 1, silent on 1)"),
        "{stdout}"
    );
    assert!(stdout.ends_with("2 passed, 0 failed\n"), "{stdout}");

    let (code, stdout, _) = run(&["rules", "test", "--rules", &pack("wrong-examples")]);
    assert_eq!(code, 1, "{stdout}");
    insta::assert_snapshot!("pack__wrong-examples", stdout);
}

#[test]
fn rules_list_and_explain_read_the_metadata() {
    let (code, stdout, _) = run(&["rules", "list", "--rules", &pack("valid")]);
    assert_eq!(code, 0);
    assert!(stdout.contains("INHOUSE-LINK-01"), "{stdout}");
    assert!(stdout.ends_with("1 rules\n"), "{stdout}");
    let (_, none, _) = run(&[
        "rules",
        "list",
        "--rules",
        &pack("valid"),
        "--severity",
        "low",
    ]);
    assert!(none.ends_with("0 rules\n"), "{none}");

    let (code, long, _) = run(&[
        "rules",
        "list",
        "--rules",
        &pack("dated"),
        "--pack",
        "inhouse-dated",
        "--long",
    ]);
    assert_eq!(code, 0);
    insta::assert_snapshot!("list__long_dated", long);
    let (code, json, _) = run(&[
        "rules",
        "list",
        "--rules",
        &pack("dated"),
        "--pack",
        "inhouse-dated",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0);
    let listed: serde_json::Value = serde_json::from_str(&json).unwrap();
    let both = &listed["rules"][1];
    assert_eq!(both["id"], "DATED-BOTH-EDITIONS");
    assert_eq!(both["citations"][0]["source"]["until"], "2021-01-01");
    assert_eq!(both["citations"][0]["source"]["superseded_by"], "STD-2021");
    assert_eq!(both["citations"][1]["source"]["edition"], "2nd edition");

    let (code, stdout, _) = run(&[
        "rules",
        "explain",
        "inhouse-link-01",
        "--rules",
        &pack("valid"),
    ]);
    assert_eq!(code, 0);
    insta::assert_snapshot!("explain__inhouse_link_01", stdout);

    let (code, _, stderr) = run(&[
        "rules",
        "explain",
        "INHOUSE-LINK-1",
        "--rules",
        &pack("valid"),
    ]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("did you mean `INHOUSE-LINK-01`?"),
        "{stderr}"
    );
}

#[test]
fn check_exit_codes_follow_fail_on() {
    let bank = "tests/fixtures/tree/one-broken/good.yaml";
    let user = pack("valid");
    let base = [
        "check",
        bank,
        "--rules",
        user.as_str(),
        "--pack",
        "inhouse-valid",
        "--at",
        "2026-11-28",
    ];
    // The fixture bank links with name + account number + PIN: one high finding.
    let (code, stdout, _) = run(&base);
    assert_eq!(code, 1, "{stdout}");
    insta::assert_snapshot!("check__user_pack_high", stdout);
    let (code, _, _) = run(&[&base[..], &["--fail-on", "critical"]].concat());
    assert_eq!(code, 0);
    let (code, stdout, _) = run(&[&base[..], &["--format", "json"]].concat());
    assert_eq!(code, 1);
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let finding = &report["findings"][0];
    assert_eq!(finding["rule_id"], "INHOUSE-LINK-01");
    assert_eq!(finding["citations"][0]["document"], "INHOUSE-STD");
    assert_eq!(finding["file"], bank);
    assert_eq!(finding["path"], "flows.link_bank.steps");
    assert_eq!(finding["line"], 14);
    assert_eq!(
        finding["message"]["ja"],
        "口座連携には独立した二つの要素区分が必要です。"
    );
    // Titles and messages in Japanese on request.
    let (_, ja, _) = run(&[&base[..], &["--lang", "ja"]].concat());
    assert!(
        ja.contains("high[INHOUSE-LINK-01]: 口座連携には独立した二つの要素区分が必要です。"),
        "{ja}"
    );
    assert!(
        ja.contains("口座連携が一つの要素区分のみに依存している"),
        "{ja}"
    );
    // Invalid input is exit 2 even when findings exist elsewhere.
    let (code, _, _) = run(&[
        "check",
        "tests/fixtures/tree/one-broken",
        "--rules",
        &user,
        "--pack",
        "inhouse-valid",
    ]);
    assert_eq!(code, 2);
    // An unknown pack is a usage error with a suggestion.
    let (code, _, stderr) = run(&["check", bank, "--pack", "incidentz"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("unknown pack `incidentz`"), "{stderr}");
}

#[test]
fn generated_rule_docs_are_current() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let (code, _, stderr) = run(&["rules", "docs", "--out", out]);
    assert_eq!(code, 0, "{stderr}");
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/rules");
    let mut generated: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    generated.sort();
    let mut existing: Vec<_> = std::fs::read_dir(&committed)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    existing.sort();
    assert_eq!(
        generated, existing,
        "docs/rules has other files than the generator writes"
    );
    for name in generated {
        let fresh = std::fs::read_to_string(dir.path().join(&name)).unwrap();
        let old = std::fs::read_to_string(committed.join(&name)).unwrap();
        assert!(
            fresh == old,
            "docs/rules/{} is stale: run `cargo run -- rules docs`",
            name.to_string_lossy()
        );
    }
}
