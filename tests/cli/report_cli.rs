//! `authaudit report` and `check --output`: every format from the command line, the same exit
//! codes as `check`, byte-identical output for the same inputs, and `--verify`.

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

const DOCOMO: &str = "policies/incidents/docomo-koza-2020";
const FORMATS: [&str; 5] = ["md", "html", "json", "sarif", "junit"];

fn authaudit(dir: &Path) -> Command {
    let mut command = Command::cargo_bin("authaudit").unwrap();
    command
        .env("NO_COLOR", "1")
        .env_remove("SOURCE_DATE_EPOCH")
        .current_dir(dir);
    command
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn report(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let output = authaudit(dir).arg("report").args(args).output().unwrap();
    (
        output.status.code().unwrap(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

const PINNED: [&str; 6] = [
    "--at",
    "2026-11-28",
    "--date",
    "2026-11-28",
    "--org",
    "Example Bank",
];

#[test]
fn every_format_is_byte_identical_across_runs_and_keeps_checks_exit_code() {
    for format in FORMATS {
        let args = [&[DOCOMO, "--format", format][..], &PINNED[..]].concat();
        let (code, first, stderr) = report(&root(), &args);
        assert_eq!(
            code, 1,
            "{format}: the reconstruction has high findings\n{stderr}"
        );
        assert!(!first.is_empty(), "{format}");
        let (_, second, _) = report(&root(), &args);
        assert_eq!(first, second, "{format} must be deterministic");
        let (code, _, _) = report(&root(), &[&args[..], &["--fail-on", "critical"]].concat());
        assert_eq!(code, 1, "{format}: a critical finding remains");
    }
    let (code, _, _) = report(
        &root(),
        &[
            &["policies/reference/ref-securities.yaml", "--format", "md"][..],
            &PINNED[..],
        ]
        .concat(),
    );
    assert_eq!(code, 0, "a reference design passes the gate");
}

#[test]
fn the_date_comes_from_source_date_epoch_when_not_given() {
    let output = authaudit(&root())
        .env("SOURCE_DATE_EPOCH", "1600000000")
        .args(["report", DOCOMO, "--format", "json", "--at", "2026-11-28"])
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["cover"]["date"], "2020-09-13");
    assert_eq!(report["version"], 2);
}

#[test]
fn check_writes_several_reports_in_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let out = |name: &str| dir.path().join(name).display().to_string();
    let output = authaudit(&root())
        .args([
            "check",
            DOCOMO,
            "--at",
            "2026-11-28",
            "--date",
            "2026-11-28",
        ])
        .args(["--output", &format!("sarif={}", out("a.sarif"))])
        .args(["--output", &format!("junit={}", out("a.xml"))])
        .args(["--output", &format!("html={}", out("a.html"))])
        .args(["--output", &format!("json={}", out("a.json"))])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let terminal = String::from_utf8(output.stdout).unwrap();
    assert!(
        terminal.contains("critical[INC-LINK-WEAK-PROOFING-WEAK-BANK]"),
        "{terminal}"
    );
    let sarif: Value =
        serde_json::from_str(&std::fs::read_to_string(out("a.sarif")).unwrap()).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    assert!(
        std::fs::read_to_string(out("a.xml"))
            .unwrap()
            .starts_with("<?xml")
    );
    assert!(
        std::fs::read_to_string(out("a.html"))
            .unwrap()
            .contains("<!DOCTYPE html>")
    );
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(out("a.json")).unwrap()).unwrap();
    assert_eq!(json["cover"]["rules_in_force_on"], "2026-11-28");

    for bad in ["pdf=x.pdf", "sarif", "html="] {
        let output = authaudit(&root())
            .args(["check", DOCOMO, "--output", bad])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{bad}");
    }
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

#[test]
fn verify_detects_a_one_byte_change_in_an_input() {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&root().join(DOCOMO), &dir.path().join("docomo"));
    for format in ["html", "json"] {
        let file = format!("r.{format}");
        let (code, _, stderr) = report(
            dir.path(),
            &[
                &["docomo", "--format", format, "-o", &file][..],
                &PINNED[..],
            ]
            .concat(),
        );
        assert_eq!(code, 1, "{stderr}");
        let (code, stdout, stderr) = report(dir.path(), &["--verify", &file, "docomo"]);
        assert_eq!(
            code, 0,
            "{format}: the untouched inputs match\n{stdout}{stderr}"
        );
        assert!(stdout.contains("matches the inputs"), "{stdout}");
    }
    // One byte: a comment letter in the wallet's policy.
    let wallet = dir.path().join("docomo/docomo-koza.yaml");
    let text = std::fs::read_to_string(&wallet).unwrap();
    std::fs::write(
        &wallet,
        text.replacen("RECONSTRUCTION", "RECONSTRUCTIOn", 1),
    )
    .unwrap();
    for format in ["html", "json"] {
        let (code, stdout, _) = report(dir.path(), &["--verify", &format!("r.{format}"), "docomo"]);
        assert_eq!(code, 1, "{stdout}");
        assert!(
            stdout.contains("input changed: docomo/docomo-koza.yaml"),
            "{stdout}"
        );
        assert!(stdout.contains("does NOT match"), "{stdout}");
    }
    let (code, _, stderr) = report(dir.path(), &["--verify", "missing.html", "docomo"]);
    assert_eq!(code, 2, "{stderr}");
}

#[test]
fn a_report_over_a_broken_tree_says_so() {
    let (code, stdout, _) = report(
        &root(),
        &[
            &["tests/fixtures/tree/one-broken", "--format", "json"][..],
            &PINNED[..],
        ]
        .concat(),
    );
    assert_eq!(code, 2, "invalid input outranks findings");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["cover"]["inputs_valid"], false);
    assert!(!report["input_problems"].as_array().unwrap().is_empty());
}

#[test]
fn the_json_report_validates_against_its_committed_schema() {
    let committed = std::fs::read_to_string(root().join("docs/report.schema.json")).unwrap();
    let output = authaudit(&root())
        .args(["schema", "--report"])
        .output()
        .unwrap();
    assert!(
        committed == String::from_utf8(output.stdout).unwrap(),
        "docs/report.schema.json is stale: run `cargo run -- schema --report > docs/report.schema.json`"
    );
    let schema: Value = serde_json::from_str(&committed).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    for paths in [
        vec![DOCOMO],
        vec!["policies"],
        vec!["tests/fixtures/tree/one-broken"],
    ] {
        let args = [&paths[..], &["--format", "json"][..], &PINNED[..]].concat();
        let (_, stdout, _) = report(&root(), &args);
        let instance: Value = serde_json::from_str(&stdout).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&instance)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{paths:?}: {errors:#?}");
    }
}

#[test]
fn json_report_of_the_docomo_reconstruction() {
    let args = [
        &[DOCOMO, "--format", "json", "--pack", "incidents"][..],
        &PINNED[..],
    ]
    .concat();
    let (code, stdout, _) = report(&root(), &args);
    assert_eq!(code, 1);
    insta::assert_snapshot!("docomo_koza_json", stdout);
}
