//! Hostile packs and policies against the outputs: nothing raw reaches a terminal, a rule that
//! fails at run time is never counted as passing, and JSON stays JSON when packs are refused.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn run(args: &[&str]) -> (i32, String, String) {
    let output = Command::cargo_bin("authaudit")
        .unwrap()
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

/// A copy of the valid fixture pack with `edit` applied to its rules file.
fn pack(dir: &Path, edit: impl Fn(&str) -> String) -> String {
    let valid = root().join("tests/fixtures/packs/valid");
    std::fs::copy(valid.join("pack.yaml"), dir.join("pack.yaml")).unwrap();
    let rules = std::fs::read_to_string(valid.join("rules.yaml")).unwrap();
    std::fs::write(dir.join("rules.yaml"), edit(&rules)).unwrap();
    dir.display().to_string()
}

#[test]
fn a_rule_that_errors_on_its_passes_example_does_not_pass() {
    let dir = tempfile::tempdir().unwrap();
    // Index 7 does not exist in any example: the condition errors at run time.
    let user = pack(dir.path(), |r| {
        r.replace(
            "condition: \"flow.independent_categories < 2\"",
            "condition: \"flow.independent_categories < 2 || flow.steps[7].factors == []\"",
        )
    });
    let (code, stdout, _) = run(&["rules", "test", "--rules", &user]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("error: the condition failed"), "{stdout}");
    assert!(!stdout.contains(" 0 failed"), "{stdout}");
}

#[test]
fn pack_texts_with_escape_sequences_are_shown_not_obeyed() {
    let dir = tempfile::tempdir().unwrap();
    let user = pack(dir.path(), |r| {
        // YAML escapes: the parsed title holds ESC, BEL and a right-to-left override.
        r.replace(
            "en: Account linking rests on one factor category",
            r#"en: "Linking \e]0;pwned\a\e[2J\u202e""#,
        )
    });
    for args in [
        vec!["rules", "list", "--rules", &user, "--pack", "inhouse-valid"],
        vec!["rules", "explain", "INHOUSE-LINK-01", "--rules", &user],
        vec![
            "check",
            "tests/fixtures/tree/one-broken/good.yaml",
            "--rules",
            &user,
            "--pack",
            "inhouse-valid",
        ],
    ] {
        let (_, stdout, stderr) = run(&args);
        for raw in ['\u{1b}', '\u{7}', '\u{202e}'] {
            assert!(
                !stdout.contains(raw) && !stderr.contains(raw),
                "{args:?}: {stdout:?}"
            );
        }
        assert!(stdout.contains("\\u{1b}"), "{args:?}: {stdout}");
    }
}

#[test]
fn refused_packs_still_give_json_when_json_is_asked_for() {
    let (code, stdout, _) = run(&[
        "check",
        "policies",
        "--rules",
        "tests/fixtures/packs/bad-dates",
        "--format",
        "json",
    ]);
    assert_eq!(code, 2);
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let errors = report["rule_pack_errors"].as_array().unwrap();
    assert_eq!(errors.len(), 3, "{stdout}");
    assert_eq!(errors[0]["code"], "invalid-date");
}
