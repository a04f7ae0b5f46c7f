//! The bundled rule packs: they load, every rule proves on its own examples that it fires and
//! stays silent, and on `policies/` they flag exactly the weaknesses the incidents had while
//! the reference designs stay at `low` or below.

use assert_cmd::Command;
use authaudit::factors::Catalogue;
use authaudit::load::Loader;
use authaudit::rules::RuleSet;
use authaudit::rules::harness::{self, Outcome};
use authaudit::source::SizeBudget;
use serde_json::Value;
use std::collections::BTreeSet;

const PACKS: &[&str] = &[
    "eu-psd2-rts-sca",
    "incidents",
    "jp-fsa-jba-2020",
    "jp-jsda-2025",
    "nist-800-63b",
    "pci-dss-4",
    "sg-mas-2022",
];

#[test]
fn every_bundled_pack_loads_without_problems() {
    let set = RuleSet::bundled();
    assert!(set.diagnostics.is_empty(), "{:#?}", set.diagnostics);
    let ids: Vec<&str> = set.packs.iter().map(|p| p.manifest.id.as_str()).collect();
    assert_eq!(ids, PACKS);
    for pack in &set.packs {
        assert!(
            pack.rules.len() >= 3,
            "{} has too few rules",
            pack.manifest.id
        );
    }
}

#[test]
fn every_bundled_rule_fires_and_stays_silent_on_its_examples() {
    let set = RuleSet::bundled();
    let loader = Loader::new(Catalogue::bundled(), SizeBudget::default());
    let results = harness::run(&set, &loader);
    let failures: Vec<String> = results
        .iter()
        .filter(|r| r.outcome != Outcome::Pass)
        .map(|r| format!("{} {}: {:?}", r.rule, r.example, r.outcome))
        .collect();
    assert!(failures.is_empty(), "{failures:#?}");
    for (_, rule) in set.rules() {
        let mine = results.iter().filter(|r| r.rule == rule.spec.id);
        let (fires, passes): (Vec<_>, Vec<_>) = mine.partition(|r| r.example.starts_with("fires"));
        assert!(
            !fires.is_empty() && !passes.is_empty(),
            "{} needs both kinds of example",
            rule.spec.id
        );
    }
}

fn check_json(extra: &[&str]) -> (i32, Value) {
    let output = Command::cargo_bin("authaudit")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["check", "policies", "--format", "json"])
        .args(extra)
        .output()
        .unwrap();
    (
        output.status.code().unwrap(),
        serde_json::from_slice(&output.stdout).unwrap(),
    )
}

fn findings(report: &Value) -> BTreeSet<(String, String, String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap().to_owned();
            (s("service"), s("flow"), s("rule_id"), s("severity"))
        })
        .collect()
}

fn has(
    found: &BTreeSet<(String, String, String, String)>,
    service: &str,
    flow: &str,
    rule: &str,
) -> bool {
    found
        .iter()
        .any(|(s, f, r, _)| s == service && f == flow && r == rule)
}

#[test]
fn incidents_are_flagged_for_what_went_wrong() {
    let (code, report) = check_json(&[]);
    assert_eq!(code, 1, "the incident reconstructions have high findings");
    let found = findings(&report);
    let expected = [
        // docomo koza: the wallet linked accounts without prior identity verification and
        // without comparing names.
        ("docomo-koza", "account_linking", "JP-FSA-LINK-NO-EKYC"),
        (
            "docomo-koza",
            "account_linking",
            "JP-FSA-LINK-NO-NAME-MATCH",
        ),
        (
            "docomo-koza",
            "account_linking",
            "INC-LINK-WEAK-PROOFING-WEAK-BANK",
        ),
        // Each weak bank: knowledge-only linking (name, account number, PIN: one category).
        (
            "jp-regional-bank-a",
            "account_linking",
            "JP-FSA-LINK-NO-MFA",
        ),
        (
            "jp-regional-bank-b",
            "account_linking",
            "JP-FSA-LINK-NO-MFA",
        ),
        (
            "jp-regional-bank-c",
            "account_linking",
            "JP-FSA-LINK-NO-MFA",
        ),
        (
            "jp-regional-bank-a",
            "account_linking",
            "INC-LINK-KNOWLEDGE-ONLY",
        ),
        (
            "jp-regional-bank-b",
            "account_linking",
            "INC-LINK-KNOWLEDGE-ONLY",
        ),
        (
            "jp-regional-bank-c",
            "account_linking",
            "INC-LINK-KNOWLEDGE-ONLY",
        ),
        // Bank B had no attempt limit; bank C told the holder nothing.
        (
            "jp-regional-bank-b",
            "account_linking",
            "INC-GUESSABLE-NO-ATTEMPT-LIMIT",
        ),
        (
            "jp-regional-bank-c",
            "account_linking",
            "INC-BANK-SILENT-LINK",
        ),
        // PayPay 2018: no attempt limit on the security code at card registration.
        (
            "paypay",
            "card_registration",
            "INC-GUESSABLE-NO-ATTEMPT-LIMIT",
        ),
        (
            "paypay",
            "card_registration",
            "PCI-CARD-CODE-GUESSING-UNLIMITED",
        ),
        // 7pay 2019: recovery by non-secret data, the link sent where the requester said.
        ("7pay", "password_reset", "INC-RECOVERY-NON-SECRET"),
        ("7pay", "password_reset", "INC-CODE-TO-SUPPLIED-CONTACT"),
    ];
    for (service, flow, rule) in expected {
        assert!(
            has(&found, service, flow, rule),
            "missing {rule} on {service}/{flow}"
        );
    }
    // The contrasts the reconstructions were built for.
    assert!(!has(
        &found,
        "jp-regional-bank-a",
        "account_linking",
        "INC-GUESSABLE-NO-ATTEMPT-LIMIT"
    ));
    assert!(!has(
        &found,
        "jp-regional-bank-a",
        "account_linking",
        "INC-BANK-SILENT-LINK"
    ));
    assert!(!has(
        &found,
        "jp-regional-bank-d",
        "account_linking",
        "INC-LINK-KNOWLEDGE-ONLY"
    ));
    assert!(!has(
        &found,
        "jp-regional-bank-d",
        "account_linking",
        "JP-FSA-LINK-NO-MFA"
    ));
}

#[test]
fn reference_designs_have_nothing_above_low_from_any_pack() {
    let (_, report) = check_json(&["--pack", "all"]);
    let found = findings(&report);
    let references: BTreeSet<&str> = ["ref-bank", "ref-wallet", "ref-code-payment"].into();
    let serious: Vec<_> = found
        .iter()
        .filter(|(s, _, _, severity)| {
            references.contains(s.as_str()) && !["low", "info"].contains(&severity.as_str())
        })
        .collect();
    assert!(serious.is_empty(), "{serious:#?}");
    // Every finding is traceable: rule, citation, file and line.
    for finding in report["findings"].as_array().unwrap() {
        assert!(
            finding["citations"]
                .as_array()
                .is_some_and(|c| !c.is_empty()),
            "{finding}"
        );
        assert!(
            finding["file"].as_str().unwrap().starts_with("policies/"),
            "{finding}"
        );
        assert!(finding["line"].as_u64().unwrap() > 0, "{finding}");
    }
}

#[test]
fn check_report_on_the_bundled_policies_is_stable() {
    let run = || {
        let output = Command::cargo_bin("authaudit")
            .unwrap()
            .env_clear()
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(["check", "policies", "--at", "2026-11-28"])
            .output()
            .unwrap();
        String::from_utf8(output.stdout).unwrap()
    };
    let first = run();
    assert_eq!(first, run(), "same inputs must give byte-identical reports");
    insta::assert_snapshot!("check__bundled_policies", first);
}

#[test]
fn japanese_texts_have_no_spaces_left_by_line_folding() {
    // A `>` block folds line breaks into spaces, which is right for English and wrong between
    // two Japanese characters.
    let wide = |c: char| c as u32 >= 0x2E80;
    let set = RuleSet::bundled();
    let mut stray = Vec::new();
    for (pack, rule) in set.rules() {
        let texts = [&rule.spec.title.ja, &rule.spec.message.ja];
        for text in texts
            .into_iter()
            .chain(std::iter::once(&pack.manifest.title.ja))
        {
            let chars: Vec<char> = text.chars().collect();
            if chars
                .windows(3)
                .any(|w| wide(w[0]) && w[1] == ' ' && wide(w[2]))
            {
                stray.push(format!("{}: {text}", rule.spec.id));
            }
        }
    }
    assert!(stray.is_empty(), "{stray:#?}");
}

#[test]
fn every_bundled_rule_has_a_control_theme() {
    let set = RuleSet::bundled();
    let missing: Vec<&str> = set
        .rules()
        .filter(|(_, r)| r.spec.theme.is_none())
        .map(|(_, r)| r.spec.id.as_str())
        .collect();
    assert!(missing.is_empty(), "rules without `theme`: {missing:?}");
    // Every theme column of the compliance matrix has rules behind it.
    for theme in authaudit::rules::Theme::ALL {
        assert!(
            set.rules().any(|(_, r)| r.spec.theme == Some(theme)),
            "no bundled rule has theme {}",
            theme.as_str()
        );
    }
}
