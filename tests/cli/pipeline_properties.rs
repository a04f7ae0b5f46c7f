//! Property tests of the whole pipeline (issue 12, item 5) on the random markets of
//! `paths_properties` (wallets, a gateway and banks, linked at random), each written to a
//! folder and loaded through the real `Loader` from its paths, as `authaudit check` would,
//! then evaluated with every bundled pack on a fixed day.
//!
//! The properties:
//!
//! 1. every output of a valid market is well formed: the terminal report, validation in both
//!    formats, the JSON report (which must also satisfy its own published schema), SARIF,
//!    JUnit, GitLab code quality, GitHub annotations and step summary, and the Markdown and
//!    HTML documents, in English and in Japanese; machine formats parse and count exactly the
//!    findings (and input problems) there are, so no format drops or invents one;
//! 2. the model is a faithful reading of the file: a loaded policy serialised back to YAML
//!    and loaded again draws the same findings, compared by rule, service, flow, severity and
//!    YAML path (lines and columns move, and may). The policies shipped in `policies/` are
//!    checked the same way, in YAML and in JSON, since hand-written files use far more of the
//!    format than the generator does;
//! 3. the order in which files are given and the number of threads never change a byte of
//!    the reports: CI diffs and caches them.
//!
//! Each property runs a few dozen cases from a fixed seed, so CI is deterministic;
//! `PROPTEST_CASES` and `PROPTEST_RNG_SEED` override both when exploring.

use crate::paths_properties::{Market, MarketSpec, build, market, texts};
use authaudit::evaluate::{Evaluation, Finding, PackSelection, evaluate_at};
use authaudit::factors::Catalogue;
use authaudit::load::{Loader, PolicyTree};
use authaudit::model::Day;
use authaudit::report::audit::{self, ReportOptions};
use authaudit::report::check::{self, CheckOutcome, Lang};
use authaudit::report::document::{Templates, render_html, render_markdown};
use authaudit::report::{Format, codequality, github, json, junit, render_validation, sarif};
use authaudit::rules::{RuleSet, Severity};
use authaudit::source::SizeBudget;
use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use tempfile::TempDir;

/// Each case loads, evaluates with every bundled pack and renders several times, so fewer
/// cases than the attack-path properties run keep the module well under a minute.
const CASES: u32 = 24;
const SEED: u64 = 0x0a7a_c4ed_2026_1128;

/// The day audited: fixed, so which rules are in force does not move with the calendar.
const DAY: Day = (2026, 11, 28);

fn config() -> Config {
    crate::paths_properties::fixed_config(CASES, SEED)
}

// ---------------------------------------------------------------------------------------------
// Shared fixtures: built once, read by every case.

struct Fixed {
    loader: Loader,
    rules: RuleSet,
    templates: Templates,
}

fn fixed() -> &'static Fixed {
    static FIXED: OnceLock<Fixed> = OnceLock::new();
    FIXED.get_or_init(|| {
        let rules = RuleSet::bundled();
        assert!(rules.diagnostics.is_empty(), "{:#?}", rules.diagnostics);
        Fixed {
            loader: Loader::new(Catalogue::bundled(), SizeBudget::default()),
            rules,
            templates: Templates::bundled(),
        }
    })
}

// ---------------------------------------------------------------------------------------------
// From files to findings.

/// Files written to a fresh folder, which lives as long as this value.
struct Written {
    dir: TempDir,
    /// The file paths, in the order the files were given.
    paths: Vec<PathBuf>,
}

/// Writes `(relative path, text)` files to a new folder.
fn write(files: &[(String, String)]) -> Written {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let paths = files
        .iter()
        .map(|(name, text)| {
            let path = dir.path().join(name);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).expect("a folder for the file");
            }
            std::fs::write(&path, text).expect("the file is written");
            path
        })
        .collect();
    Written { dir, paths }
}

fn load(paths: &[PathBuf]) -> PolicyTree {
    fixed().loader.load_paths(paths)
}

/// Every error diagnostic of `tree`, one line each.
fn errors(tree: &PolicyTree) -> Vec<String> {
    tree.discovery
        .iter()
        .chain(tree.files.iter().flat_map(|f| &f.diagnostics))
        .filter(|d| d.is_error())
        .map(|d| {
            format!(
                "{}: {} at {} [{}]",
                d.file,
                d.message,
                d.path.as_ref().map(|p| p.to_string()).unwrap_or_default(),
                d.code.as_str()
            )
        })
        .collect()
}

/// The generated market, loaded from its files; a market the tool refuses is a generator bug.
fn load_market(spec: &MarketSpec) -> Result<(Written, PolicyTree), TestCaseError> {
    let written = write(&texts(&build(spec)));
    let tree = load(&written.paths);
    let refused = errors(&tree);
    if !refused.is_empty() {
        return Err(TestCaseError::fail(format!(
            "the tool refuses a generated market:\n{}",
            refused.join("\n")
        )));
    }
    Ok((written, tree))
}

fn evaluate(tree: &PolicyTree) -> Evaluation {
    let f = fixed();
    evaluate_at(
        tree,
        &f.rules,
        &PackSelection::All,
        f.loader.catalogue(),
        Some(DAY),
    )
}

/// What every renderer takes, as `check` builds it: failing on high findings, no waivers.
fn outcome<'a>(tree: &'a PolicyTree, evaluation: &'a Evaluation, lang: Lang) -> CheckOutcome<'a> {
    CheckOutcome {
        tree,
        evaluation,
        packs_run: PackSelection::All.packs_run(&fixed().rules, tree),
        fail_on: Severity::High,
        lang,
        gate: &authaudit::gate::NONE,
    }
}

fn options() -> ReportOptions {
    ReportOptions {
        organisation: Some("Generated Market".into()),
        date: "2026-11-28".into(),
    }
}

/// A finding by what it says about the policy, not where the text puts it.
type FindingKey = (String, String, String, Severity, String);

/// The findings as a sorted list, so a finding drawn twice counts twice.
fn finding_keys(evaluation: &Evaluation) -> Vec<FindingKey> {
    let mut keys: Vec<FindingKey> = evaluation
        .findings
        .iter()
        .map(|f| {
            (
                f.rule_id.clone(),
                f.service.clone(),
                f.flow.clone(),
                f.severity,
                f.path.to_string(),
            )
        })
        .collect();
    keys.sort();
    keys
}

// ---------------------------------------------------------------------------------------------
// The model written back as YAML.

/// `value` as block-style YAML, the way policies are written by hand: nested mappings and
/// sequences on their own lines, strings double-quoted (JSON's escapes are YAML's), keys
/// plain unless YAML would read them as something other than a string.
fn block_yaml(value: &Value) -> String {
    let mut out = String::new();
    write_collection(&mut out, value, 0);
    out
}

/// A non-empty mapping or sequence, one entry a line at `indent`.
fn write_collection(out: &mut String, value: &Value, indent: usize) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) => {
            for (key, item) in map {
                out.push_str(&pad);
                out.push_str(&yaml_key(key));
                out.push(':');
                write_item(out, item, indent + 2);
            }
        }
        Value::Array(items) => {
            for item in items {
                if is_collection(item) {
                    // The entry's first line goes after the dash (`- verify: …`, `- - a`).
                    let mut nested = String::new();
                    write_collection(&mut nested, item, indent + 2);
                    out.push_str(&pad);
                    out.push_str("- ");
                    out.push_str(&nested[indent + 2..]);
                } else {
                    out.push_str(&pad);
                    out.push('-');
                    write_item(out, item, indent + 2);
                }
            }
        }
        _ => unreachable!("only collections are written on lines of their own"),
    }
}

/// What follows a key's colon or a dash: a scalar on the same line, or a collection below.
fn write_item(out: &mut String, item: &Value, indent: usize) {
    if is_collection(item) {
        out.push('\n');
        write_collection(out, item, indent);
    } else {
        out.push(' ');
        out.push_str(&match item {
            Value::String(s) => serde_json::to_string(s).expect("a string serialises"),
            Value::Object(_) => "{}".to_owned(),
            Value::Array(_) => "[]".to_owned(),
            other => other.to_string(),
        });
        out.push('\n');
    }
}

fn is_collection(value: &Value) -> bool {
    match value {
        Value::Object(map) => !map.is_empty(),
        Value::Array(items) => !items.is_empty(),
        _ => false,
    }
}

fn yaml_key(key: &str) -> String {
    let identifier = key.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'));
    let reserved = ["null", "true", "false", "yes", "no", "on", "off", "y", "n"]
        .iter()
        .any(|word| key.eq_ignore_ascii_case(word));
    if identifier && !reserved {
        key.to_owned()
    } else {
        serde_json::to_string(key).expect("a string serialises")
    }
}

/// The model of every policy in `tree`, each under its path relative to `root`.
fn model(tree: &PolicyTree, root: &Path) -> Market {
    tree.policies()
        .map(|(file, policy)| {
            let relative = Path::new(&file.shown)
                .strip_prefix(root)
                .unwrap_or_else(|_| panic!("{} is under {}", file.shown, root.display()));
            (relative.to_string_lossy().into_owned(), policy.clone())
        })
        .collect()
}

/// The market as block YAML files, one per policy.
fn yaml_texts(market: &Market) -> Vec<(String, String)> {
    market
        .iter()
        .map(|(file, policy)| {
            let value = serde_json::to_value(policy).expect("a policy serialises");
            (file.clone(), block_yaml(&value))
        })
        .collect()
}

/// Loads `files` from a second folder and compares their findings with `before`'s.
fn reloaded_findings(files: &[(String, String)], before: &Evaluation) -> Result<(), TestCaseError> {
    let written = write(files);
    let tree = load(&written.paths);
    let refused = errors(&tree);
    let shown = || {
        files
            .iter()
            .map(|(name, text)| format!("--- {name}\n{text}"))
            .collect::<String>()
    };
    prop_assert!(
        refused.is_empty(),
        "the serialised model is refused:\n{}\n{}",
        refused.join("\n"),
        shown()
    );
    let after = evaluate(&tree);
    prop_assert!(after.errors.is_empty(), "{:#?}", after.errors);
    prop_assert_eq!(
        finding_keys(before),
        finding_keys(&after),
        "the serialised model draws other findings:\n{}",
        shown()
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// What a well-formed output is.

fn parse_json(what: &str, text: &str) -> Result<Value, TestCaseError> {
    serde_json::from_str(text)
        .map_err(|e| TestCaseError::fail(format!("{what} is not JSON: {e}\n{text}")))
}

/// Text for a terminal (colour off) holds no control character but line feeds: no escape
/// sequence, no carriage return that would overwrite what came before.
fn terminal_safe(what: &str, text: &str) -> Result<(), TestCaseError> {
    let raw = text.chars().find(|c| c.is_control() && *c != '\n');
    prop_assert!(raw.is_none(), "{what}: raw {raw:?} in\n{text}");
    Ok(())
}

fn json_report_schema() -> &'static jsonschema::Validator {
    static SCHEMA: OnceLock<jsonschema::Validator> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        jsonschema::validator_for(&json::report_schema()).expect("the report schema compiles")
    })
}

fn sorted<'a>(ids: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut ids: Vec<String> = ids.map(str::to_owned).collect();
    ids.sort();
    ids
}

/// The `key` of every entry of a JSON array, sorted: one per finding, whatever the order.
fn listed(entries: &Value, key: &str) -> Option<Vec<String>> {
    let entries = entries.as_array()?;
    let ids: Option<Vec<&str>> = entries.iter().map(|e| e[key].as_str()).collect();
    Some(sorted(ids?.into_iter()))
}

/// Input problems of the tree and the evaluation: each is an issue or annotation of its own.
fn problems(outcome: &CheckOutcome<'_>) -> usize {
    let tree = outcome.tree;
    tree.discovery.len()
        + tree
            .files
            .iter()
            .map(|f| f.diagnostics.len())
            .sum::<usize>()
        + outcome.evaluation.errors.len()
}

fn check_validation(tree: &PolicyTree) -> Result<(), TestCaseError> {
    let human = render_validation(tree, Format::Human, false);
    terminal_safe("validate", &human)?;
    prop_assert!(!human.trim().is_empty(), "validate printed nothing");
    let json = parse_json(
        "validate --format json",
        &render_validation(tree, Format::Json, false),
    )?;
    prop_assert!(json.is_object(), "validate --format json: {json}");
    Ok(())
}

/// Every `check` and `report` format of one evaluation in one language.
fn check_outputs(outcome: &CheckOutcome<'_>) -> Result<(), TestCaseError> {
    let f = fixed();
    let findings = &outcome.evaluation.findings;

    let terminal = check::render(outcome, false);
    terminal_safe("check", &terminal)?;
    for finding in findings {
        prop_assert!(
            terminal.contains(&finding.rule_id),
            "check does not show {}:\n{terminal}",
            finding.rule_id
        );
    }

    let report = audit::build(outcome, &f.rules, &options());
    let json_report = parse_json(
        "check --format json",
        &json::render_report(outcome, &report),
    )?;
    let schema_errors: Vec<String> = json_report_schema()
        .iter_errors(&json_report)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    prop_assert!(
        schema_errors.is_empty(),
        "the JSON report breaks its schema: {schema_errors:#?}"
    );
    let expected = sorted(findings.iter().map(|f| f.rule_id.as_str()));
    prop_assert_eq!(
        listed(&json_report["findings"], "rule_id"),
        Some(expected.clone()),
        "JSON report findings"
    );
    prop_assert_eq!(
        json_report["summary"]["findings"].as_u64(),
        Some(findings.len() as u64)
    );

    let sarif = parse_json("SARIF", &sarif::render_sarif(outcome, &f.rules))?;
    prop_assert_eq!(
        listed(&sarif["runs"][0]["results"], "ruleId"),
        Some(expected),
        "SARIF results"
    );

    check_junit(&junit::render_junit(outcome))?;

    let issues = parse_json(
        "GitLab code quality",
        &codequality::render_codequality(outcome),
    )?;
    let issues = issues.as_array().map(Vec::len);
    prop_assert_eq!(
        issues,
        Some(problems(outcome) + findings.len()),
        "code quality issues"
    );

    let annotations = github::annotations(outcome);
    let lines: Vec<&str> = annotations.lines().collect();
    prop_assert_eq!(lines.len(), problems(outcome) + findings.len());
    for line in &lines {
        let command = ["::error file=", "::warning file=", "::notice file="]
            .iter()
            .any(|start| line.starts_with(start));
        prop_assert!(
            command && line[2..].contains("::"),
            "not a workflow command: {line}"
        );
    }

    let summary = github::step_summary(outcome);
    prop_assert!(
        summary.starts_with("## authaudit: gate "),
        "step summary:\n{summary}"
    );
    let total = format!("| total | {} |", findings.len());
    prop_assert!(summary.contains(&total), "step summary:\n{summary}");

    check_documents(&report, findings)
}

/// JUnit parses as XML, opens with its declaration, and its counts are those of its cases.
fn check_junit(text: &str) -> Result<(), TestCaseError> {
    prop_assert!(
        text.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"),
        "JUnit declaration:\n{text}"
    );
    let document = roxmltree::Document::parse(text)
        .map_err(|e| TestCaseError::fail(format!("JUnit is not XML: {e}\n{text}")))?;
    let root = document.root_element();
    prop_assert_eq!(root.tag_name().name(), "testsuites");
    let suites = root.children().filter(|n| n.has_tag_name("testsuite"));
    for node in std::iter::once(root).chain(suites) {
        for (attribute, tag) in [
            ("tests", "testcase"),
            ("failures", "failure"),
            ("errors", "error"),
            ("skipped", "skipped"),
        ] {
            let stated = node
                .attribute(attribute)
                .and_then(|n| n.parse::<usize>().ok());
            let counted = node.descendants().filter(|n| n.has_tag_name(tag)).count();
            prop_assert_eq!(
                stated,
                Some(counted),
                "{} of <{}>",
                attribute,
                node.tag_name().name()
            );
        }
    }
    Ok(())
}

/// The Markdown and HTML documents render with the bundled templates and name every rule
/// that drew a finding.
fn check_documents(report: &audit::AuditReport, findings: &[Finding]) -> Result<(), TestCaseError> {
    let templates = &fixed().templates;
    let markdown = render_markdown(report, templates).map_err(TestCaseError::fail)?;
    let html = render_html(report, templates).map_err(TestCaseError::fail)?;
    prop_assert!(markdown.starts_with("# "), "Markdown:\n{markdown}");
    prop_assert!(
        html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"),
        "HTML:\n{html}"
    );
    for finding in findings {
        let rule = &finding.rule_id;
        prop_assert!(markdown.contains(rule), "Markdown lacks {rule}");
        prop_assert!(html.contains(rule), "HTML lacks {rule}");
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Order and threads.

/// Resets the number of threads to the default however the case ends.
struct Threads;

impl Threads {
    fn set(n: usize) -> Self {
        authaudit::parallel::set_threads(n);
        Threads
    }
}

impl Drop for Threads {
    fn drop(&mut self) {
        authaudit::parallel::set_threads(0);
    }
}

/// The reports CI keeps and diffs, from loading `paths` in that order on `threads` threads.
fn reports(paths: &[PathBuf], threads: usize) -> Vec<(&'static str, String)> {
    let f = fixed();
    let (tree, evaluation) = {
        let _threads = Threads::set(threads);
        let tree = load(paths);
        let evaluation = evaluate(&tree);
        (tree, evaluation)
    };
    let outcome = outcome(&tree, &evaluation, Lang::En);
    let report = audit::build(&outcome, &f.rules, &options());
    vec![
        ("check", check::render(&outcome, false)),
        ("json", json::render_report(&outcome, &report)),
        ("sarif", sarif::render_sarif(&outcome, &f.rules)),
        ("junit", junit::render_junit(&outcome)),
    ]
}

/// `paths` in the order of their keys (ties keep the original order).
fn shuffled(paths: &[PathBuf], keys: &[u32]) -> Vec<PathBuf> {
    let mut order: Vec<usize> = (0..paths.len()).collect();
    order.sort_by_key(|&i| (keys[i], i));
    order.into_iter().map(|i| paths[i].clone()).collect()
}

// ---------------------------------------------------------------------------------------------
// The properties.

proptest! {
    #![proptest_config(config())]

    #[test]
    fn every_output_of_a_valid_market_is_well_formed(spec in market()) {
        let (_written, tree) = load_market(&spec)?;
        let evaluation = evaluate(&tree);
        prop_assert!(
            evaluation.errors.is_empty(),
            "rules failed to evaluate: {:#?}",
            evaluation.errors
        );
        check_validation(&tree)?;
        for lang in [Lang::En, Lang::Ja] {
            check_outputs(&outcome(&tree, &evaluation, lang))?;
        }
    }

    #[test]
    fn the_model_written_back_as_yaml_draws_the_same_findings(spec in market()) {
        let (written, tree) = load_market(&spec)?;
        let before = evaluate(&tree);
        reloaded_findings(&yaml_texts(&model(&tree, written.dir.path())), &before)?;
    }

    /// The market (at most nine files) goes in once in written order on one thread, then in
    /// two chosen orders on two and on four threads.
    #[test]
    fn output_bytes_do_not_depend_on_file_order_or_threads(
        spec in market(),
        two in prop::collection::vec(any::<u32>(), 9),
        four in prop::collection::vec(any::<u32>(), 9),
    ) {
        let (written, _) = load_market(&spec)?;
        let one = reports(&written.paths, 1);
        for (threads, keys) in [(2, &two), (4, &four)] {
            let order = shuffled(&written.paths, keys);
            let many = reports(&order, threads);
            for ((name, a), (_, b)) in one.iter().zip(&many) {
                prop_assert!(
                    a == b,
                    "{name} differs on {threads} threads with the files in the order {order:?}"
                );
            }
        }
    }
}

/// The shipped policies, loaded together (the wallets link to the banks), written back from
/// the model as YAML and as JSON: both must draw the findings the hand-written files draw.
#[test]
fn every_bundled_policy_written_back_draws_the_same_findings() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    let tree = load(std::slice::from_ref(&root));
    assert!(errors(&tree).is_empty(), "{:#?}", errors(&tree));
    let market = model(&tree, &root);
    let shipped = walkdir::WalkDir::new(&root)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "yaml"))
        .count();
    assert_eq!(market.len(), shipped, "every shipped policy is loaded");
    let before = evaluate(&tree);
    assert!(
        !before.findings.is_empty(),
        "the bundled policies draw findings"
    );
    for (form, files) in [("YAML", yaml_texts(&market)), ("JSON", texts(&market))] {
        if let Err(failure) = reloaded_findings(&files, &before) {
            panic!("written back as {form}: {failure}");
        }
    }
}
