//! The machine formats of the audit report: SARIF 2.1.0 and JUnit XML. Every SARIF log
//! validates against the official schema (vendored, compiled offline), the JUnit XML parses and
//! its counts are the evaluation's, fingerprints survive edits that move lines, hostile strings
//! from policy files stay text, and two renders are byte-identical.

use authaudit::evaluate::{Evaluation, Outcome, PackSelection, evaluate_at};
use authaudit::factors::Catalogue;
use authaudit::load::{Loader, PolicyTree};
use authaudit::report::check::{CheckOutcome, Lang};
use authaudit::report::junit::{INPUT_SUITE, render_junit};
use authaudit::report::sarif::{FINGERPRINT_KEY, SCHEMA_URI, render_sarif};
use authaudit::rules::{RuleSet, Severity};
use authaudit::source::SizeBudget;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The day audited, fixed so snapshots do not move with the calendar.
const DAY: (i32, u32, u32) = (2026, 11, 28);
const DOCOMO: &str = "policies/incidents/docomo-koza-2020";
const SCHEMA: &str = "tests/fixtures/sarif/sarif-schema-2.1.0.json";

/// One audit, as `check` would run it.
struct Audit {
    tree: PolicyTree,
    evaluation: Evaluation,
    packs_run: Vec<String>,
}

impl Audit {
    fn new(set: &RuleSet, tree: PolicyTree, selection: &PackSelection) -> Self {
        let evaluation = evaluate_at(&tree, set, selection, &Catalogue::bundled(), Some(DAY));
        let packs_run = selection.packs_run(set, &tree);
        Self {
            tree,
            evaluation,
            packs_run,
        }
    }

    fn outcome(&self, lang: Lang) -> CheckOutcome<'_> {
        CheckOutcome {
            tree: &self.tree,
            evaluation: &self.evaluation,
            packs_run: self.packs_run.clone(),
            fail_on: Severity::High,
            lang,
            gate: &authaudit::gate::NONE,
        }
    }

    fn sarif(&self, set: &RuleSet) -> String {
        render_sarif(&self.outcome(Lang::En), set)
    }

    fn junit(&self) -> String {
        render_junit(&self.outcome(Lang::En))
    }
}

fn loader() -> Loader {
    Loader::new(Catalogue::bundled(), SizeBudget::default())
}

fn bundled() -> RuleSet {
    let set = RuleSet::bundled();
    assert!(set.diagnostics.is_empty(), "{:#?}", set.diagnostics);
    set
}

/// Loads `paths` as given: relative to the crate, where cargo runs integration tests.
fn load(paths: &[&str]) -> PolicyTree {
    let roots: Vec<PathBuf> = paths.iter().map(PathBuf::from).collect();
    loader().load_paths(&roots)
}

/// The vendored schema, compiled with a retriever that refuses and records every URI.
struct OfficialSchema {
    validator: jsonschema::Validator,
    asked: Arc<Mutex<Vec<String>>>,
}

struct RefuseAndRecord(Arc<Mutex<Vec<String>>>);

impl jsonschema::Retrieve for RefuseAndRecord {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        self.0.lock().unwrap().push(uri.to_string());
        Err(format!("no network in tests: refused {uri}").into())
    }
}

impl OfficialSchema {
    fn load() -> Self {
        let text = std::fs::read_to_string(SCHEMA).unwrap();
        let schema: Value = serde_json::from_str(&text).unwrap();
        let asked = Arc::new(Mutex::new(Vec::new()));
        let validator = jsonschema::options()
            .with_retriever(RefuseAndRecord(asked.clone()))
            .should_validate_formats(true)
            .build(&schema)
            .unwrap_or_else(|e| panic!("the SARIF schema does not compile offline: {e}"));
        Self { validator, asked }
    }

    fn check(&self, what: &str, sarif: &str) -> Value {
        assert!(sarif.ends_with("}\n"), "{what}: no trailing newline");
        let log: Value = serde_json::from_str(sarif).unwrap();
        let errors: Vec<String> = self
            .validator
            .iter_errors(&log)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{what}: {errors:#?}");
        assert!(
            self.asked.lock().unwrap().is_empty(),
            "the validator tried to fetch {:?}",
            self.asked.lock().unwrap()
        );
        log
    }
}

/// Every `$ref` in `value`.
fn refs<'a>(value: &'a Value, found: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("$ref", Value::String(r)) => found.push(r),
                    _ => refs(v, found),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, found)),
        _ => {}
    }
}

#[test]
fn the_vendored_schema_is_the_official_one_and_needs_no_network() {
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(SCHEMA).unwrap()).unwrap();
    assert_eq!(
        schema["id"], SCHEMA_URI,
        "the output's $schema names this file"
    );
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-04/schema#");
    let mut found = Vec::new();
    refs(&schema, &mut found);
    assert!(found.len() > 100);
    let remote: Vec<&&str> = found.iter().filter(|r| !r.starts_with('#')).collect();
    assert!(remote.is_empty(), "remote $refs: {remote:?}");
    // Compiling resolves the draft-04 meta-schema from the validator's own copy.
    let official = OfficialSchema::load();
    assert!(official.asked.lock().unwrap().is_empty());
    // The validator is not a rubber stamp.
    let broken = serde_json::json!({"version": "2.1.0", "runs": [{"tool": {"driver": {}}}]});
    assert!(!official.validator.is_valid(&broken));
}

/// What every log must say, beyond the schema.
fn check_log(what: &str, log: &Value, audit: &Audit, set: &RuleSet) {
    assert_eq!(log["$schema"], SCHEMA_URI);
    assert_eq!(log["version"], "2.1.0");
    let runs = log["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1, "{what}");
    let run = &runs[0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "authaudit");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    assert!(driver.get("informationUri").is_none());
    // Every rule of every pack that ran, sorted, described from its metadata.
    let descriptors = driver["rules"].as_array().unwrap();
    let ids: Vec<&str> = descriptors
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    let mut expected: Vec<&str> = set
        .rules()
        .filter(|(p, _)| audit.packs_run.contains(&p.manifest.id))
        .map(|(_, r)| r.spec.id.as_str())
        .collect();
    expected.sort_unstable();
    assert_eq!(ids, expected, "{what}: rules listed");
    for descriptor in descriptors {
        let id = descriptor["id"].as_str().unwrap();
        let (pack, rule) = set.rule(id).unwrap();
        let spec = &rule.spec;
        assert_eq!(
            descriptor["shortDescription"]["text"],
            spec.title.en.as_str()
        );
        assert_eq!(
            descriptor["fullDescription"]["text"],
            spec.message.en.as_str()
        );
        let markdown = descriptor["help"]["markdown"].as_str().unwrap();
        assert!(markdown.contains(spec.rationale.trim()), "{id}");
        assert!(markdown.contains(spec.remediation.trim()), "{id}");
        let level = match spec.severity {
            Severity::Critical | Severity::High => "error",
            Severity::Medium => "warning",
            Severity::Low | Severity::Info => "note",
        };
        assert_eq!(descriptor["defaultConfiguration"]["level"], level, "{id}");
        let tags = descriptor["properties"]["tags"].as_array().unwrap();
        assert_eq!(tags[0], pack.manifest.id.as_str());
        assert_eq!(tags[1], spec.severity.as_str());
        let citations = descriptor["properties"]["citations"].as_array().unwrap();
        assert_eq!(citations.len(), spec.citations.len(), "{id}");
        assert_eq!(
            descriptor["properties"].get("security-severity").is_some(),
            spec.severity != Severity::Info
        );
    }
    // Artifacts: each input file once.
    let artifacts: Vec<&str> = run["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["location"]["uri"].as_str().unwrap())
        .collect();
    let unique: BTreeSet<&str> = artifacts.iter().copied().collect();
    assert_eq!(
        unique.len(),
        artifacts.len(),
        "{what}: artifacts listed twice"
    );
    assert_eq!(artifacts.len(), audit.tree.files.len());
    // Results: one per finding, pointing at its rule, its file and its line.
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), audit.evaluation.findings.len(), "{what}");
    let mut fingerprints = BTreeSet::new();
    for (result, finding) in results.iter().zip(&audit.evaluation.findings) {
        assert_eq!(result["ruleId"], finding.rule_id.as_str());
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(descriptors[index]["id"], finding.rule_id.as_str());
        assert_eq!(result["message"]["text"], finding.message.en.as_str());
        let location = &result["locations"][0]["physicalLocation"];
        let uri = location["artifactLocation"]["uri"].as_str().unwrap();
        assert!(!uri.contains('\\'));
        if !finding.file.starts_with('/') {
            assert_eq!(uri, finding.file.as_str(), "relative paths stay as given");
        }
        let index = location["artifactLocation"]["index"].as_u64().unwrap() as usize;
        assert_eq!(artifacts[index], uri);
        assert_eq!(location["region"]["startLine"], finding.span.line);
        assert_eq!(location["region"]["startColumn"], finding.span.column);
        let line = audit
            .tree
            .text(&finding.file)
            .unwrap()
            .lines()
            .nth(finding.span.line as usize - 1)
            .unwrap();
        assert_eq!(location["contextRegion"]["snippet"]["text"], line);
        let region = location["region"]["snippet"]["text"].as_str().unwrap();
        assert!(line.contains(region), "{region:?} is not from {line:?}");
        let fingerprint = result["partialFingerprints"][FINGERPRINT_KEY]
            .as_str()
            .unwrap();
        assert!(
            fingerprints.insert(fingerprint.to_owned()),
            "{what}: fingerprint {fingerprint} given twice"
        );
    }
    let invalid = audit.tree.files.iter().any(|f| !f.is_valid())
        || !audit.tree.discovery.is_empty()
        || !audit.evaluation.errors.is_empty();
    assert_eq!(
        run["invocations"][0]["executionSuccessful"], !invalid,
        "{what}: invalid input must not look clean"
    );
}

#[test]
fn every_sarif_log_validates_against_the_official_schema() {
    let set = bundled();
    let official = OfficialSchema::load();
    let runs: &[(&[&str], PackSelection)] = &[
        (&[DOCOMO], PackSelection::ByJurisdiction),
        (&[DOCOMO], PackSelection::All),
        (&["policies"], PackSelection::ByJurisdiction),
        (&["policies"], PackSelection::All),
        (
            &[
                "policies/reference",
                "tests/fixtures/bad",
                "tests/fixtures/tree",
                "no/such/path",
            ],
            PackSelection::All,
        ),
    ];
    let mut findings = 0;
    for (paths, selection) in runs {
        let audit = Audit::new(&set, load(paths), selection);
        findings += audit.evaluation.findings.len();
        for lang in [Lang::En, Lang::Ja] {
            let what = format!("{paths:?} {selection:?} {lang:?}");
            let sarif = render_sarif(&audit.outcome(lang), &set);
            let log = official.check(&what, &sarif);
            if lang == Lang::En {
                check_log(&what, &log, &audit, &set);
            } else {
                assert_eq!(log["runs"][0]["language"], "ja");
            }
        }
    }
    assert!(findings > 50, "the corpora have findings to render");
}

#[test]
fn input_problems_are_notifications_with_locations() {
    let set = bundled();
    let official = OfficialSchema::load();
    let audit = Audit::new(
        &set,
        load(&["tests/fixtures/bad", "no/such/path"]),
        &PackSelection::ByJurisdiction,
    );
    let log = official.check("bad", &audit.sarif(&set));
    let invocation = &log["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    let notifications = invocation["toolExecutionNotifications"].as_array().unwrap();
    let expected: usize = audit.tree.discovery.len()
        + audit
            .tree
            .files
            .iter()
            .map(|f| f.diagnostics.len())
            .sum::<usize>();
    assert_eq!(notifications.len(), expected);
    assert!(notifications.iter().any(|n| {
        n["descriptor"]["id"] == "duplicate-key"
            && n["locations"][0]["physicalLocation"]["region"]["startLine"].is_u64()
    }));
    assert!(notifications.iter().any(
        |n| n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "no/such/path"
    ));
}

/// The docomo koza reconstruction judged by the incidents pack (the pack written from it): the
/// rule descriptors of every pack would make a snapshot too large to review, and the schema
/// test above covers every pack.
#[test]
fn docomo_koza_snapshots() {
    let set = bundled();
    let selection = PackSelection::Named(vec!["incidents".to_owned()]);
    let audit = Audit::new(&set, load(&[DOCOMO]), &selection);
    assert!(!audit.evaluation.findings.is_empty());
    insta::assert_snapshot!("docomo_koza_sarif", audit.sarif(&set));
    insta::assert_snapshot!("docomo_koza_junit", audit.junit());
}

/// The per-service suites of a JUnit document: name → (tests, failures, errors, skipped)
/// from the attributes, checked against the children.
fn suites(xml: &str) -> BTreeMap<String, [usize; 4]> {
    let document = roxmltree::Document::parse(xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    let root = document.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let number = |node: roxmltree::Node<'_, '_>, name: &str| -> usize {
        node.attribute(name).unwrap().parse().unwrap()
    };
    let mut totals = [0; 4];
    let mut found = BTreeMap::new();
    for suite in root.children().filter(|n| n.has_tag_name("testsuite")) {
        let cases: Vec<_> = suite
            .children()
            .filter(|n| n.has_tag_name("testcase"))
            .collect();
        let with = |tag: &str| {
            cases
                .iter()
                .filter(|c| c.children().any(|n| n.has_tag_name(tag)))
                .count()
        };
        let counts = [cases.len(), with("failure"), with("error"), with("skipped")];
        let attrs = ["tests", "failures", "errors", "skipped"].map(|a| number(suite, a));
        assert_eq!(counts, attrs, "{:?}", suite.attribute("name"));
        for (total, count) in totals.iter_mut().zip(counts) {
            *total += count;
        }
        found.insert(suite.attribute("name").unwrap().to_owned(), counts);
    }
    let root_counts = ["tests", "failures", "errors", "skipped"].map(|a| number(root, a));
    assert_eq!(totals, root_counts);
    found
}

#[test]
fn junit_parses_and_counts_every_result() {
    let set = bundled();
    for (paths, selection) in [
        (vec![DOCOMO], PackSelection::ByJurisdiction),
        (vec!["policies"], PackSelection::All),
        (
            vec!["policies/reference", "tests/fixtures/bad"],
            PackSelection::All,
        ),
    ] {
        let audit = Audit::new(&set, load(&paths), &selection);
        let xml = audit.junit();
        let found = suites(&xml);
        let mut expected: BTreeMap<String, [usize; 4]> = BTreeMap::new();
        for result in audit.evaluation.results.iter() {
            let counts = expected.entry(result.service.to_string()).or_default();
            counts[0] += 1;
            match result.outcome {
                Outcome::Pass => {}
                Outcome::Fail => counts[1] += 1,
                Outcome::Error => counts[2] += 1,
                Outcome::NotApplicable(_) | Outcome::NotInForce => counts[3] += 1,
            }
        }
        let input = found[INPUT_SUITE];
        assert_eq!(
            input[0],
            audit.tree.files.len() + audit.tree.discovery.len()
        );
        assert_eq!(
            input[1],
            audit.tree.files.iter().filter(|f| !f.is_valid()).count() + audit.tree.discovery.len()
        );
        let services: BTreeMap<String, [usize; 4]> = found
            .into_iter()
            .filter(|(name, _)| name != INPUT_SUITE)
            .collect();
        assert_eq!(services, expected, "{paths:?}");
        assert_eq!(
            services.values().map(|c| c[0]).sum::<usize>(),
            audit.evaluation.results.len()
        );
        assert!(
            audit
                .evaluation
                .results
                .iter()
                .any(|r| r.outcome == Outcome::Pass)
        );
        assert!(
            audit
                .evaluation
                .results
                .iter()
                .any(|r| matches!(r.outcome, Outcome::NotApplicable(_)))
        );
        // Each test case is a (rule, flow): classname service.flow, name the rule id, and a
        // failure says title, severity, location and citations.
        let document = roxmltree::Document::parse(&xml).unwrap();
        let cases: BTreeSet<(String, String)> = document
            .descendants()
            .filter(|n| n.has_tag_name("testcase"))
            .filter(|n| n.attribute("classname") != Some("input"))
            .map(|n| {
                (
                    n.attribute("classname").unwrap().to_owned(),
                    n.attribute("name").unwrap().to_owned(),
                )
            })
            .collect();
        let results: BTreeSet<(String, String)> = audit
            .evaluation
            .results
            .iter()
            .map(|r| (format!("{}.{}", r.service, r.flow), r.rule_id.to_string()))
            .collect();
        assert_eq!(cases, results);
        for finding in &audit.evaluation.findings {
            let classname = format!("{}.{}", finding.service, finding.flow);
            let case = document
                .descendants()
                .find(|n| {
                    n.has_tag_name("testcase")
                        && n.attribute("classname") == Some(classname.as_str())
                        && n.attribute("name") == Some(finding.rule_id.as_str())
                })
                .unwrap();
            let failure = case.children().find(|n| n.has_tag_name("failure")).unwrap();
            assert_eq!(
                failure.attribute("message"),
                Some(finding.title.en.as_str())
            );
            assert_eq!(failure.attribute("type"), Some(finding.severity.as_str()));
            let body = failure.text().unwrap();
            assert!(body.starts_with(finding.message.en.as_str()));
            let at = format!(
                "{}:{}:{}",
                finding.file, finding.span.line, finding.span.column
            );
            assert!(body.contains(&at), "{body}");
            for cited in finding.citations.iter() {
                assert!(body.contains(cited.citation.paraphrase.as_str()), "{body}");
            }
        }
    }
}

/// (rule id, fingerprint) → start line, and the fingerprints in order.
fn fingerprints(sarif: &str) -> BTreeMap<(String, String), u64> {
    let log: Value = serde_json::from_str(sarif).unwrap();
    log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                (
                    r["ruleId"].as_str().unwrap().to_owned(),
                    r["partialFingerprints"][FINGERPRINT_KEY]
                        .as_str()
                        .unwrap()
                        .to_owned(),
                ),
                r["locations"][0]["physicalLocation"]["region"]["startLine"]
                    .as_u64()
                    .unwrap(),
            )
        })
        .collect()
}

#[test]
fn fingerprints_survive_lines_moving() {
    let set = bundled();
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("docomo-koza-2020");
    std::fs::create_dir(&copy).unwrap();
    let mut names = Vec::new();
    for entry in std::fs::read_dir(DOCOMO).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), copy.join(entry.file_name())).unwrap();
        names.push(entry.file_name());
    }
    let render = || {
        let tree = loader().load_paths(std::slice::from_ref(&copy));
        Audit::new(&set, tree, &PackSelection::ByJurisdiction).sarif(&set)
    };
    let before = fingerprints(&render());
    for name in &names {
        let path = copy.join(name);
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, format!("\n{text}")).unwrap();
    }
    let after_sarif = render();
    let after = fingerprints(&after_sarif);
    assert!(!before.is_empty());
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>(),
        "fingerprints changed when lines moved"
    );
    for (key, line) in &before {
        assert_eq!(after[key], line + 1, "{key:?} did not move down one line");
    }
    // Absolute paths become file: URIs.
    OfficialSchema::load().check("tempdir copy", &after_sarif);
    assert!(after_sarif.contains("\"uri\": \"file:///"));
}

/// A service name, a flow id and a service id with markup, quotes and a control character.
const HOSTILE_NAME: &str = "<img src=x onerror=alert(1)> & \"quoted\" \u{1} 'end'";
// Flow ids may not hold control characters (invisible-character), so the control character
// rides in the service name instead.
const HOSTILE_FLOW: &str = "reset </testcase> & \"x\"";
const HOSTILE_SERVICE: &str = "svc\"/><script>&amp;\u{2}";

/// The 7pay reconstruction with a hostile service name and flow id, loaded through the
/// pipeline.
fn hostile_tree() -> PolicyTree {
    let text = std::fs::read_to_string("policies/incidents/7pay-2019/7pay.yaml").unwrap();
    // A JSON string is a YAML double-quoted scalar (`\u0001` is a YAML escape too).
    let yaml_quoted = |s: &str| serde_json::to_string(s).unwrap();
    let text = text
        .replace(
            "name: セブンペイ (7pay)",
            &format!("name: {}", yaml_quoted(HOSTILE_NAME)),
        )
        .replace(
            "  password_reset:\n",
            &format!("  {}:\n", yaml_quoted(HOSTILE_FLOW)),
        );
    let tree = loader().load_texts(&[("hostile/7pay.yaml".to_owned(), text)]);
    assert!(tree.files[0].is_valid(), "{:#?}", tree.files[0].diagnostics);
    let policy = tree.files[0].policy.as_ref().unwrap();
    assert_eq!(policy.service.name, HOSTILE_NAME);
    assert!(policy.flows.contains_key(HOSTILE_FLOW));
    tree
}

/// What XML 1.0 can carry: `\u{1}` and `\u{7}` cannot, and become U+FFFD.
fn xml_safe(s: &str) -> String {
    s.replace(['\u{1}', '\u{2}', '\u{7}'], "\u{FFFD}")
}

#[test]
fn hostile_strings_stay_text() {
    let set = bundled();
    let mut audit = Audit::new(&set, hostile_tree(), &PackSelection::ByJurisdiction);
    assert!(
        audit
            .evaluation
            .findings
            .iter()
            .any(|f| f.flow == HOSTILE_FLOW)
    );
    // SARIF: exact round trip through JSON.
    let log = OfficialSchema::load().check("hostile", &audit.sarif(&set));
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert!(
        results
            .iter()
            .any(|r| r["properties"]["flow"] == HOSTILE_FLOW
                && r["properties"]["serviceName"] == HOSTILE_NAME)
    );
    // JUnit: parses, and the strings come back as text (less what XML cannot carry).
    let xml = audit.junit();
    assert!(!xml.contains("<img") && !xml.contains("</testcase> &"));
    assert!(
        !xml.chars()
            .any(|c| c < ' ' && c != '\n' || c == '\u{FFFE}' || c == '\u{FFFF}'),
        "a character XML 1.0 forbids was emitted"
    );
    let document = roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    let name = document
        .descendants()
        .find(|n| n.attribute("name") == Some("service.name"))
        .and_then(|n| n.attribute("value"));
    assert_eq!(name, Some(xml_safe(HOSTILE_NAME).as_str()));
    let classname = format!("7pay.{}", xml_safe(HOSTILE_FLOW));
    assert!(
        document
            .descendants()
            .any(|n| n.attribute("classname") == Some(classname.as_str())
                && n.children().any(|c| c.has_tag_name("failure")))
    );
    suites(&xml);

    // A service id with markup (ids are restricted in policy files; the renderers must not
    // rely on it).
    for result in audit.evaluation.results.flows_mut() {
        result.service = HOSTILE_SERVICE.into();
    }
    for finding in &mut audit.evaluation.findings {
        finding.service = HOSTILE_SERVICE.to_owned();
    }
    let xml = audit.junit();
    let document = roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    let suite_names: Vec<&str> = document
        .descendants()
        .filter(|n| n.has_tag_name("testsuite"))
        .filter_map(|n| n.attribute("name"))
        .collect();
    assert_eq!(
        suite_names,
        [INPUT_SUITE, xml_safe(HOSTILE_SERVICE).as_str()]
    );
    let log = OfficialSchema::load().check("hostile service", &audit.sarif(&set));
    assert!(
        log["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["properties"]["service"] == HOSTILE_SERVICE)
    );
}

#[test]
fn two_renders_are_byte_identical() {
    let set = bundled();
    let render = |paths: &[&str]| {
        let audit = Audit::new(&set, load(paths), &PackSelection::All);
        (audit.sarif(&set), audit.junit())
    };
    for paths in [
        &[DOCOMO][..],
        &["policies"],
        &["tests/fixtures/bad", "policies/reference"],
    ] {
        let (sarif, junit) = render(paths);
        assert!(sarif == render(paths).0, "{paths:?}");
        let other_set = bundled();
        let audit = Audit::new(&other_set, load(paths), &PackSelection::All);
        assert_eq!(sarif, audit.sarif(&other_set), "{paths:?}");
        assert_eq!(junit, audit.junit(), "{paths:?}");
    }
    assert!(Path::new(SCHEMA).is_file());
}
