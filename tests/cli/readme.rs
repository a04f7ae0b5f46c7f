//! The README's tutorial output is real: replay its steps and compare with what it shows.

use assert_cmd::Command;
use std::path::Path;

#[test]
fn tutorial_mistake_output_matches_the_readme() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let policies = dir.path().join("policies");
    for entry in walkdir::WalkDir::new(root.join("policies")) {
        let entry = entry.unwrap();
        let target = policies.join(entry.path().strip_prefix(root.join("policies")).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
    // Step 3 and 4 of the tutorial: copy the reference bank, rename it, misspell the line the
    // README names.
    let number: usize = readme
        .split("Misspell the PIN factor on line ")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|digits| digits.parse().ok())
        .expect("the README names the line to misspell");
    let at = number - 1;
    let original = std::fs::read_to_string(policies.join("reference/ref-bank.yaml")).unwrap();
    let mut lines: Vec<String> = original
        .lines()
        .map(|l| {
            l.replace("schema=../../docs/", "schema=../docs/")
                .replace("  id: ref-bank", "  id: my-bank")
        })
        .collect();
    assert!(
        lines[at].contains("cash_card_pin]"),
        "line {number} moved: {}",
        lines[at]
    );
    lines[at] = lines[at].replace("cash_card_pin]", "cash_card_pinn]");
    std::fs::create_dir(dir.path().join("my-policies")).unwrap();
    std::fs::write(
        dir.path().join("my-policies/my-bank.yaml"),
        lines.join("\n") + "\n",
    )
    .unwrap();

    let output = Command::cargo_bin("authaudit")
        .unwrap()
        .env("NO_COLOR", "1")
        .current_dir(dir.path())
        .args(["validate", "my-policies/", "policies/"])
        .output()
        .unwrap();
    // Invalid input exits 2, as it does for `check`: it never passes a gate.
    assert_eq!(output.status.code(), Some(2));
    let stdout = String::from_utf8(output.stdout).unwrap();
    for line in stdout.lines().filter(|l| !l.trim().is_empty()) {
        assert!(
            readme.contains(&format!("   {line}\n")),
            "README lacks the line {line:?}\n{stdout}"
        );
    }
}
