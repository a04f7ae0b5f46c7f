//! The printed JSON Schema accepts every bundled policy, rejects broken ones, and carries the
//! factor catalogue so editors can autocomplete factor names.

use assert_cmd::Command;
use authaudit::factors::Catalogue;
use authaudit::load::Loader;
use authaudit::source::SizeBudget;
use std::path::{Path, PathBuf};

fn printed_schema() -> serde_json::Value {
    let output = Command::cargo_bin("authaudit")
        .unwrap()
        .arg("schema")
        .output()
        .unwrap();
    assert!(output.status.success());
    serde_json::from_slice(&output.stdout).expect("schema is JSON")
}

fn policy_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(root)
        .into_iter()
        .map(|e| e.unwrap().into_path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

fn as_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap();
    authaudit::yaml::parse(&path.display().to_string(), &text)
        .unwrap()
        .to_json()
}

#[test]
fn printed_schema_validates_every_bundled_policy() {
    let schema = printed_schema();
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let files = policy_files();
    assert!(files.len() >= 10, "{files:?}");
    for file in files {
        let errors: Vec<String> = validator
            .iter_errors(&as_json(&file))
            .map(|e| format!("{}: {e}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", file.display());
    }
}

#[test]
fn printed_schema_rejects_an_unknown_factor_and_lists_the_catalogue() {
    let schema = printed_schema();
    let factors = &schema["$defs"]["Step"]["properties"]["verify"]["items"]["enum"];
    let names: Vec<&str> = factors
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert!(
        names.contains(&"cash_card_pin") && names.contains(&"sms_otp"),
        "{names:?}"
    );
    let validator = jsonschema::validator_for(&schema).unwrap();
    let bad = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bad/unknown-factor.yaml");
    assert!(!validator.is_valid(&as_json(&bad)));
}

#[test]
fn japanese_names_round_trip() {
    let loader = Loader::new(Catalogue::bundled(), SizeBudget::default());
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    let tree = loader.load_paths(&[root]);
    let names: Vec<&str> = tree
        .policies()
        .map(|(_, p)| p.service.name.as_str())
        .collect();
    assert!(names.iter().any(|n| n.contains("ドコモ口座")), "{names:?}");
    assert!(names.iter().all(|n| !n.contains('\u{FFFD}')));
}

#[test]
fn docs_schema_file_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/policy.schema.json");
    let committed: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(&path).expect("docs/policy.schema.json exists"),
    )
    .unwrap();
    assert_eq!(
        committed,
        printed_schema(),
        "docs/policy.schema.json is stale: run `cargo run -- schema > docs/policy.schema.json`"
    );
}

#[test]
fn every_diagnostic_code_is_documented() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/diagnostics.md");
    let docs = std::fs::read_to_string(path).unwrap();
    for code in authaudit::diagnostic::Code::ALL {
        let name = code.as_str();
        assert!(
            docs.contains(&format!("| `{name}` |")),
            "docs/diagnostics.md lacks `{name}`"
        );
    }
}

#[test]
fn factors_command_lists_the_whole_catalogue() {
    let output = Command::cargo_bin("authaudit")
        .unwrap()
        .arg("factors")
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    let catalogue = Catalogue::bundled();
    assert_eq!(text.lines().count(), catalogue.factors.len() + 1);
    let pin = text
        .lines()
        .find(|l| l.starts_with("cash_card_pin "))
        .unwrap();
    assert!(pin.contains("knowledge") && pin.contains("10000"), "{pin}");
    let name = text
        .lines()
        .find(|l| l.starts_with("holder_name "))
        .unwrap();
    assert!(name.contains(" none ") && name.contains(" no "), "{name}");
}

#[test]
fn help_and_version_exit_zero() {
    for args in [
        &["--help"][..],
        &["--version"],
        &["check", "--help"],
        &["rules", "--help"],
    ] {
        let output = Command::cargo_bin("authaudit")
            .unwrap()
            .args(args)
            .output()
            .unwrap();
        assert!(output.status.success(), "{args:?}");
        assert!(!output.stdout.is_empty(), "{args:?}");
    }
    let output = Command::cargo_bin("authaudit")
        .unwrap()
        .arg("frobnicate")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
}
