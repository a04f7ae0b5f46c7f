//! `check --at DATE`: rules run only on the days their sources apply, findings of rules that
//! came into force after a policy's `as_of` say so in every format, and the bundled packs'
//! judgments of 2020 and of today differ exactly where later guidance applies.

use assert_cmd::Command;
use authaudit::factors::Catalogue;
use authaudit::load::Loader;
use authaudit::model::parse_date;
use authaudit::rules::RuleSet;
use authaudit::source::SizeBudget;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

const TODAY: &str = "2026-11-28";

fn authaudit() -> Command {
    let mut command = Command::cargo_bin("authaudit").unwrap();
    command
        .env("NO_COLOR", "1")
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    command
}

fn run(args: &[&str]) -> (i32, String, String) {
    let output = authaudit().args(args).output().unwrap();
    (
        output.status.code().unwrap(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

fn dated_check(at: &str, format: &str) -> (i32, String) {
    let (code, stdout, stderr) = run(&[
        "check",
        "tests/fixtures/dated-policies",
        "--rules",
        "tests/fixtures/packs/dated",
        "--pack",
        "inhouse-dated",
        "--at",
        at,
        "--format",
        format,
    ]);
    assert!(stderr.is_empty(), "{stderr}");
    (code, stdout)
}

fn rule_ids(report: &Value) -> BTreeSet<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn rules_run_only_on_the_days_their_sources_apply() {
    let cases = [
        ("2009-06-01", vec!["DATED-UNDATED-NOTES"]),
        (
            "2020-09-01",
            vec!["DATED-BOTH-EDITIONS", "DATED-UNDATED-NOTES"],
        ),
        (
            "2026-01-01",
            vec![
                "DATED-BOTH-EDITIONS",
                "DATED-NEW-ONLY",
                "DATED-UNDATED-NOTES",
            ],
        ),
    ];
    for (at, expected) in cases {
        let (code, stdout) = dated_check(at, "json");
        assert_eq!(code, 1, "{stdout}");
        let report: Value = serde_json::from_str(&stdout).unwrap();
        let found: Vec<String> = rule_ids(&report).into_iter().collect();
        assert_eq!(found, expected, "at {at}");
        assert_eq!(report["summary"]["at"], at);
        let skipped: BTreeSet<&str> = report["summary"]["not_in_force"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["rule_id"].as_str().unwrap())
            .collect();
        for rule in [
            "DATED-BOTH-EDITIONS",
            "DATED-NEW-ONLY",
            "DATED-UNDATED-NOTES",
        ] {
            assert_ne!(
                skipped.contains(rule),
                expected.contains(&rule),
                "{rule} at {at}: either run or listed as not in force"
            );
        }
    }
}

#[test]
fn a_rule_that_came_later_than_the_policy_says_so_in_every_format() {
    // The policy describes the design as of 2020-06-01; the second edition applies from 2021.
    let (_, json) = dated_check("2026-01-01", "json");
    let report: Value = serde_json::from_str(&json).unwrap();
    for finding in report["findings"].as_array().unwrap() {
        let expected = match finding["rule_id"].as_str().unwrap() {
            // Only in the second edition: it did not apply when the design was described.
            "DATED-NEW-ONLY" => Value::from("2021-01-01"),
            // The first edition applied on the as_of day already.
            _ => Value::Null,
        };
        assert_eq!(finding["effective_after_as_of"], expected, "{finding}");
    }
    let (_, human) = dated_check("2026-01-01", "human");
    let noted = "= note: this rule applies from 2021-01-01, after the policy's as_of date";
    assert_eq!(human.matches(noted).count(), 1, "{human}");
    insta::assert_snapshot!("dated_pack_2026", human);
    let (_, human) = dated_check("2020-09-01", "human");
    assert!(!human.contains("after the policy's as_of"), "{human}");
    assert!(
        human.contains(
            "rules in force on 2020-09-01; not yet or no longer in force, not run: DATED-NEW-ONLY"
        ),
        "{human}"
    );
}

#[test]
fn malformed_source_dates_refuse_the_pack_with_located_errors() {
    let (code, stdout, stderr) =
        run(&["rules", "list", "--rules", "tests/fixtures/packs/bad-dates"]);
    assert_eq!(code, 2, "{stdout}");
    assert!(stdout.is_empty(), "{stdout}");
    insta::assert_snapshot!("bad_source_dates", stderr);
}

#[test]
fn an_invalid_at_date_is_a_usage_error() {
    for bad in ["2020-02-30", "yesterday", "2020-9-1"] {
        let (code, _, stderr) = run(&["check", "policies", "--at", bad]);
        assert_eq!(code, 2, "{bad}: {stderr}");
        assert!(stderr.contains("--at"), "{stderr}");
    }
}

/// (rule, service, flow) of every finding, and the rules not in force, of `check --pack all`.
fn bundled(at: &str) -> (BTreeSet<(String, String, String)>, BTreeSet<String>, Value) {
    let (code, stdout, stderr) = run(&[
        "check", "policies", "--pack", "all", "--at", at, "--format", "json",
    ]);
    assert_eq!(code, 1, "{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let findings = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap().to_owned();
            (s("rule_id"), s("service"), s("flow"))
        })
        .collect();
    let skipped = report["summary"]["not_in_force"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["rule_id"].as_str().unwrap().to_owned())
        .collect();
    (findings, skipped, report)
}

#[test]
fn the_2020_audit_and_todays_differ_exactly_where_later_guidance_applies() {
    let (then, skipped_then, _) = bundled("2020-09-01");
    let (now, skipped_now, report_now) = bundled(TODAY);
    let set = RuleSet::bundled();
    let in_force = |rule: &str, day: (i32, u32, u32)| {
        let (pack, rule) = set.rule(rule).unwrap();
        pack.in_force(rule, day)
    };
    for (rule, service, flow) in now.difference(&then) {
        assert!(
            skipped_then.contains(rule) && !in_force(rule, (2020, 9, 1)),
            "{rule} on {service}/{flow} appears today but its sources applied in 2020"
        );
    }
    for (rule, service, flow) in then.difference(&now) {
        assert!(
            skipped_now.contains(rule) && !in_force(rule, (2026, 11, 28)),
            "{rule} on {service}/{flow} disappeared although its sources still apply"
        );
    }
    // A finding is marked as resting on later guidance exactly when its rule did not apply
    // on the policy's as_of day, and the day it names is after that as_of.
    let loader = Loader::new(Catalogue::bundled(), SizeBudget::default());
    let tree = loader.load_paths(&[Path::new(env!("CARGO_MANIFEST_DIR")).join("policies")]);
    let as_of: BTreeMap<String, (i32, u32, u32)> = tree
        .policies()
        .map(|(_, p)| (p.service.id.clone(), parse_date(&p.service.as_of).unwrap()))
        .collect();
    let mut marked = 0;
    for finding in report_now["findings"].as_array().unwrap() {
        let rule = finding["rule_id"].as_str().unwrap();
        let day = as_of[finding["service"].as_str().unwrap()];
        match finding["effective_after_as_of"].as_str() {
            Some(from) => {
                marked += 1;
                assert!(!in_force(rule, day), "{finding}");
                assert!(parse_date(from).unwrap() > day, "{finding}");
            }
            None => assert!(
                in_force(rule, day),
                "{rule} did not apply on {day:?}: {finding}"
            ),
        }
    }
    assert!(
        marked > 0,
        "the 2018-2020 reconstructions are judged by some later guidance"
    );
}

#[test]
fn corpus_snapshots_of_every_pack_then_and_now() {
    for (name, at) in [("check_all_2020", "2020-09-01"), ("check_all_today", TODAY)] {
        let (code, stdout, stderr) = run(&["check", "policies", "--pack", "all", "--at", at]);
        assert_eq!(code, 1, "{stderr}");
        insta::assert_snapshot!(name, stdout);
    }
}
