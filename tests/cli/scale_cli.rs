//! Large and damaged trees: `--timings` reports on stderr without touching stdout, and a
//! market with broken files of every kind the loader knows (`gen-market --broken-percent`)
//! keeps every finding of its valid files and lists every broken one.

use assert_cmd::Command;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

use crate::gen_market::generator::{Args, BrokenKind, broken_count, generate, write_broken};

const DAY: &str = "2026-11-28";

fn authaudit(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("authaudit").expect("binary builds");
    cmd.env_clear().env("NO_COLOR", "1").current_dir(dir);
    cmd
}

fn market(out: &Path) -> Args {
    Args {
        banks: 20,
        wallets: 4,
        links: 60,
        gateways: 3,
        seed: 7,
        out: out.to_path_buf(),
    }
}

const PHASES: [&str; 9] = [
    "discover", "read", "parse", "validate", "evaluate", "paths", "render", "other", "total",
];

#[test]
fn timings_go_to_stderr_and_leave_stdout_unchanged() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let commands: [&[&str]; 5] = [
        &["validate", "policies"],
        &["check", "--pack", "all", "--at", DAY, "policies"],
        &["check", "--format", "json", "--at", DAY, "policies"],
        &["report", "--format", "sarif", "--at", DAY, "policies"],
        &["paths", "--no-fixes", "policies"],
    ];
    for args in commands {
        let plain = authaudit(root).args(args).output().unwrap();
        let timed = authaudit(root)
            .args(args)
            .arg("--timings")
            .output()
            .unwrap();
        assert_eq!(plain.status.code(), timed.status.code(), "{args:?}");
        assert!(plain.stdout == timed.stdout, "{args:?}: stdout changed");
        let stderr = String::from_utf8(timed.stderr).unwrap();
        let table = stderr
            .split_once("timings (")
            .map(|(_, t)| t)
            .unwrap_or_else(|| panic!("{args:?}: no table on stderr:\n{stderr}"));
        for phase in PHASES {
            let row = table
                .lines()
                .find(|l| l.trim_start().starts_with(&format!("{phase} ")))
                .unwrap_or_else(|| panic!("{args:?}: no `{phase}` row:\n{stderr}"));
            assert!(row.contains(" ms ") && row.contains('%'), "{row}");
        }
        let plain_stderr = String::from_utf8(plain.stderr).unwrap();
        assert!(!plain_stderr.contains("timings ("), "{plain_stderr}");
    }
}

#[test]
fn timings_share_of_each_phase_adds_up_to_the_total() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = authaudit(root)
        .args([
            "check",
            "--pack",
            "all",
            "--at",
            DAY,
            "--timings",
            "policies",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    let ms = |row: &str| -> f64 {
        let fields: Vec<&str> = row.split_whitespace().collect();
        fields[1].parse().unwrap()
    };
    let rows: BTreeMap<&str, f64> = stderr
        .lines()
        .filter_map(|l| {
            let name = l.split_whitespace().next()?;
            PHASES.contains(&name).then(|| (name, ms(l)))
        })
        .collect();
    assert_eq!(rows.len(), PHASES.len(), "{stderr}");
    let parts: f64 = PHASES[..8].iter().map(|p| rows[p]).sum();
    // Each row is rounded to 0.1 ms.
    assert!((parts - rows["total"]).abs() < 1.0, "{stderr}");
    assert!(rows["parse"] > 0.0 && rows["evaluate"] > 0.0, "{stderr}");
}

/// The code of the one error each kind of broken file must get.
fn expected_code(kind: BrokenKind) -> &'static str {
    match kind {
        BrokenKind::SyntaxError | BrokenKind::Tabs => "yaml-syntax",
        BrokenKind::UnknownField => "unknown-field",
        BrokenKind::BadFactor => "unknown-factor",
        BrokenKind::Binary => "binary-file",
        BrokenKind::InvalidUtf8 => "invalid-utf8",
        BrokenKind::LongLine => "line-too-long",
        BrokenKind::DuplicateKeys => "duplicate-key",
        BrokenKind::DanglingDelegate => "unknown-service",
    }
}

fn check_json(dir: &Path) -> (Option<i32>, Value) {
    let output = authaudit(dir)
        .args([
            "check", "--pack", "all", "--format", "json", "--at", DAY, ".",
        ])
        .output()
        .unwrap();
    let report = serde_json::from_slice(&output.stdout).expect("JSON on stdout");
    (output.status.code(), report)
}

#[test]
fn broken_files_are_all_listed_and_hide_no_finding_of_the_valid_ones() {
    let dir = tempfile::tempdir().unwrap();
    let clean = dir.path().join("clean");
    let damaged = dir.path().join("damaged");
    let good = generate(&market(&clean)).unwrap();
    assert_eq!(generate(&market(&damaged)).unwrap(), good);
    // 25% of the files once the 27 valid ones are counted: 9, one of each kind.
    let broken = write_broken(&market(&damaged), good, 25.0).unwrap();
    assert_eq!(broken.len(), 9);
    let kinds: Vec<BrokenKind> = broken.iter().map(|b| b.kind).collect();
    assert_eq!(kinds, BrokenKind::ALL);

    let (clean_code, clean_report) = check_json(&clean);
    let (damaged_code, damaged_report) = check_json(&damaged);
    assert_eq!(clean_code, Some(1), "findings, no invalid input");
    assert_eq!(damaged_code, Some(2), "invalid input outranks findings");

    // Every finding of the valid files, the same and in the same order.
    let findings = |report: &Value| -> Vec<Value> {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| !f["file"].as_str().unwrap().starts_with("./broken/"))
            .cloned()
            .collect()
    };
    let expected = findings(&clean_report);
    assert!(!expected.is_empty());
    assert_eq!(findings(&damaged_report), expected);
    assert_eq!(
        damaged_report["findings"].as_array().unwrap().len(),
        expected.len(),
        "no finding comes from a broken file"
    );

    // Every broken file listed as invalid, with the error its kind calls for, located.
    let files = damaged_report["files"].as_array().unwrap();
    assert_eq!(files.len(), good + broken.len());
    for item in &broken {
        let name = item.path.file_name().unwrap().to_string_lossy();
        let shown = format!("./broken/{name}");
        let entry = files
            .iter()
            .find(|f| f["path"] == shown.as_str())
            .unwrap_or_else(|| panic!("{shown} is not listed"));
        assert_eq!(entry["valid"], false, "{shown}");
        let diagnostics = entry["diagnostics"].as_array().unwrap();
        let code = expected_code(item.kind);
        let found = diagnostics
            .iter()
            .find(|d| d["code"] == code)
            .unwrap_or_else(|| panic!("{shown}: no `{code}` in {diagnostics:?}"));
        assert!(found["line"].as_u64().unwrap_or(0) >= 1, "{shown}: {found}");
    }
    let invalid = files.iter().filter(|f| f["valid"] == false).count();
    assert_eq!(invalid, broken.len(), "only the broken files are invalid");

    // The terminal report names every broken file in its summary.
    let output = authaudit(&damaged)
        .args(["check", "--pack", "all", "--at", DAY, "."])
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    for item in &broken {
        let name = item.path.file_name().unwrap().to_string_lossy();
        assert!(
            stdout.contains(&format!("failed: ./broken/{name} (1 error)")),
            "{name} not in the summary"
        );
    }
}

#[test]
fn broken_shares_are_checked() {
    assert_eq!(broken_count(99, 1.0), Ok(1));
    assert_eq!(broken_count(9_900, 1.0), Ok(100));
    assert_eq!(broken_count(27, 0.0), Ok(0));
    for bad in [100.0, -1.0, f64::NAN] {
        assert!(broken_count(10, bad).is_err(), "{bad}");
    }
}
