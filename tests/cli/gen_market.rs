//! The market generator (`examples/gen-market.rs`): what it writes is valid, the same seed
//! gives the same bytes, and the attack-path engine finds the docomo koza chains through the
//! weak banks it writes and none through the strong ones.

use assert_cmd::Command;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

// The generator is an example program; its `main` is not called here.
#[allow(dead_code)]
#[path = "../../examples/gen-market.rs"]
pub(crate) mod generator;

use generator::{Args, generate};

fn authaudit() -> Command {
    let mut cmd = Command::cargo_bin("authaudit").expect("binary builds");
    cmd.env_clear().env("NO_COLOR", "1");
    cmd
}

fn small_market(out: &Path, seed: u64) -> Args {
    Args {
        banks: 20,
        wallets: 4,
        links: 60,
        gateways: 3,
        seed,
        out: out.to_path_buf(),
    }
}

/// Every file under `dir` by its path relative to `dir`, with its bytes.
fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.expect("walkable"))
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            (
                e.path().strip_prefix(dir).unwrap().to_path_buf(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

#[test]
fn a_generated_market_is_valid() {
    let dir = tempfile::tempdir().unwrap();
    let written = generate(&small_market(dir.path(), 7)).expect("generates");
    assert_eq!(written, 27);
    assert_eq!(files(dir.path()).len(), 27);
    let output = authaudit()
        .arg("validate")
        .arg(dir.path())
        .output()
        .expect("authaudit runs");
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("summary: 27 files checked, 27 valid, 0 invalid"),
        "{stdout}"
    );
}

#[test]
fn the_same_seed_gives_the_same_bytes_and_another_seed_does_not() {
    let (a, b, c) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    generate(&small_market(a.path(), 7)).unwrap();
    generate(&small_market(b.path(), 7)).unwrap();
    generate(&small_market(c.path(), 8)).unwrap();
    let (a, b, c) = (files(a.path()), files(b.path()), files(c.path()));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (name, bytes) in &a {
        assert!(
            bytes == &b[name],
            "{} differs between two runs",
            name.display()
        );
    }
    assert_ne!(a, c, "seed 8 wrote the same market as seed 7");
}

#[test]
fn links_are_counted_and_bounded() {
    let dir = tempfile::tempdir().unwrap();
    generate(&small_market(dir.path(), 7)).unwrap();
    let direct: usize = files(&dir.path().join("wallets"))
        .values()
        .map(|text| {
            String::from_utf8_lossy(text)
                .lines()
                .filter(|l| l.trim_start().starts_with("- {service: bank-"))
                .count()
        })
        .sum();
    assert_eq!(direct, 60);

    let too_many = Args {
        links: 81,
        ..small_market(&dir.path().join("other"), 7)
    };
    let refused = generate(&too_many).unwrap_err();
    assert!(
        refused.contains("more than banks × wallets (80)"),
        "{refused}"
    );
    // A folder that already holds a market is refused rather than mixed with a new one.
    let refused = generate(&small_market(dir.path(), 8)).unwrap_err();
    assert!(refused.contains("is not empty"), "{refused}");
}

#[test]
fn leaked_bank_credentials_reach_weak_banks_only() {
    let dir = tempfile::tempdir().unwrap();
    generate(&small_market(dir.path(), 7)).unwrap();
    // A bank is strong when its linking adds a one-time code to the phone the proofed holder
    // registered, or a passkey; the weak ones ask for data and the cash-card PIN alone.
    let mut strong = BTreeSet::new();
    let mut weak = BTreeSet::new();
    for (name, text) in files(&dir.path().join("banks")) {
        let text = String::from_utf8(text).unwrap();
        let id = name.file_stem().unwrap().to_string_lossy().into_owned();
        if text.contains("- verify: [sms_otp]") || text.contains("- verify: [passkey]") {
            assert!(text.contains("registered_by: holder_after_proofing"));
            strong.insert(id);
        } else {
            weak.insert(id);
        }
    }
    assert!(
        !strong.is_empty() && !weak.is_empty(),
        "{strong:?} {weak:?}"
    );

    let output = authaudit()
        .args(["paths", "--format", "json", "--no-fixes"])
        .args(["--attacker", "leaked-bank-credentials"])
        .arg(dir.path())
        .output()
        .expect("authaudit runs");
    // Exit 1: chains were found.
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON output");
    let chains = json["chains"].as_array().expect("chains");
    let mut through = BTreeSet::new();
    for chain in chains {
        for step in chain["steps"].as_array().unwrap() {
            for via in step["via"].as_array().into_iter().flatten() {
                through.insert(via["service"].as_str().unwrap().to_owned());
            }
        }
    }
    let weak_reached: Vec<_> = through.intersection(&weak).collect();
    let strong_reached: Vec<_> = through.intersection(&strong).collect();
    assert!(
        !weak_reached.is_empty(),
        "no chain through a weak bank: {through:?}"
    );
    assert!(
        strong_reached.is_empty(),
        "chains through strong banks: {strong_reached:?}"
    );
    let determined = chains
        .iter()
        .filter(|c| c["determined"] == true)
        .flat_map(|c| c["steps"].as_array().unwrap())
        .flat_map(|s| s["via"].as_array().into_iter().flatten())
        .any(|v| weak.contains(v["service"].as_str().unwrap()));
    assert!(determined, "no determined chain through a weak bank");
}
