//! CI integrations from the command line: `diff` of two reports and of two attack-path
//! analyses (text, Markdown and JSON; exit codes 0, 1 and 2; kinds never mixed), GitHub
//! Actions annotations and step summary with hostile text, the GitLab code quality report,
//! and the pre-commit hook run as pre-commit would run it.

use assert_cmd::Command;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const DOCOMO: &str = "policies/incidents/docomo-koza-2020";
const AT: [&str; 2] = ["--at", "2026-11-28"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The binary in `dir`, with an environment that says nothing of CI or colour.
fn authaudit(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_authaudit"));
    command
        .env("NO_COLOR", "1")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("SOURCE_DATE_EPOCH")
        .current_dir(dir);
    command
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(command: &mut Command) -> Run {
    let output = command.output().unwrap();
    Run {
        code: output.status.code().unwrap(),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

fn edit(file: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(file).unwrap();
    assert!(text.contains(from), "{} lacks {from:?}", file.display());
    std::fs::write(file, text.replacen(from, to, 1)).unwrap();
}

/// `old/`: the docomo reconstruction. `new/`: the same with bank A fixed (a one-time code to
/// the phone registered after proofing) but its notices left undescribed, and bank D's lines
/// moved by a comment inserted at the top.
fn docomo_before_and_after(dir: &Path) {
    copy_dir(&root().join(DOCOMO), &dir.join("old"));
    copy_dir(&root().join(DOCOMO), &dir.join("new"));
    let bank_a = dir.join("new/jp-regional-bank-a.yaml");
    edit(
        &bank_a,
        "    registered_by: holder_after_proofing\n",
        "    registered_by: holder_after_proofing\n  phone:\n    kind: phone\n    registered_by: holder_after_proofing\n",
    );
    edit(
        &bank_a,
        "All four were in the fraudsters' hands.\n",
        "All four were in the fraudsters' hands.\n      - verify: [sms_otp]\n        delivered_to: registered_contact\n        contact: phone\n",
    );
    let text = std::fs::read_to_string(&bank_a).unwrap();
    let notifications = text.find("\nnotifications:").unwrap();
    std::fs::write(&bank_a, &text[..=notifications]).unwrap();
    let bank_d = dir.join("new/jp-regional-bank-d.yaml");
    let text = std::fs::read_to_string(&bank_d).unwrap();
    std::fs::write(&bank_d, format!("# Reviewed.\n#\n# (lines moved)\n{text}")).unwrap();
}

/// Writes `check FOLDER --format json` to `file` in `dir`.
fn report(dir: &Path, folder: &str, file: &str) {
    let out = run(authaudit(dir)
        .args(["check", folder, "--format", "json"])
        .args(AT));
    assert!(out.code <= 1, "check {folder}: {}", out.stderr);
    std::fs::write(dir.join(file), out.stdout).unwrap();
}

fn diff(dir: &Path, args: &[&str]) -> Run {
    run(authaudit(dir).arg("diff").args(args))
}

#[test]
fn diff_of_two_reports_lists_new_fixed_and_unchanged_findings() {
    let dir = tempfile::tempdir().unwrap();
    docomo_before_and_after(dir.path());
    report(dir.path(), "old", "old.json");
    report(dir.path(), "new", "new.json");

    let text = diff(dir.path(), &["old.json", "new.json"]);
    assert_eq!(text.code, 0, "only low findings are new\n{}", text.stderr);
    insta::assert_snapshot!("diff_text", text.stdout);
    let md = diff(dir.path(), &["old.json", "new.json", "--format", "md"]);
    assert_eq!(md.code, 0);
    insta::assert_snapshot!("diff_md", md.stdout);
    let json = diff(dir.path(), &["old.json", "new.json", "--format", "json"]);
    assert_eq!(json.code, 0);
    insta::assert_snapshot!("diff_json", json.stdout);

    let parsed: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(parsed["version"], 1);
    assert_eq!(parsed["kind"], "findings");
    let fixed: BTreeSet<&str> = parsed["findings"]["fixed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap())
        .collect();
    assert!(fixed.contains("INC-LINK-KNOWLEDGE-ONLY"), "{fixed:?}");
    // Bank D's findings moved three lines down and are still the same findings.
    let moved: Vec<&Value> = parsed["findings"]["unchanged"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["service"] == "jp-regional-bank-d")
        .collect();
    assert!(!moved.is_empty());
    for f in moved {
        assert_eq!(
            f["line"].as_u64().unwrap(),
            f["before"]["line"].as_u64().unwrap() + 3
        );
    }
}

#[test]
fn a_new_finding_at_or_above_fail_on_makes_the_diff_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    docomo_before_and_after(dir.path());
    report(dir.path(), "old", "old.json");
    report(dir.path(), "new", "new.json");
    // The two new findings are low.
    assert_eq!(
        diff(dir.path(), &["old.json", "new.json", "--fail-on", "low"]).code,
        1
    );
    assert_eq!(
        diff(dir.path(), &["old.json", "new.json", "--fail-on", "medium"]).code,
        0
    );
    // Backwards, the fixed critical findings are new.
    let back = diff(dir.path(), &["new.json", "old.json"]);
    assert_eq!(back.code, 1);
    assert!(
        back.stdout
            .ends_with("fail: 3 new findings at or above high\n"),
        "{}",
        back.stdout
    );
    let back_md = diff(dir.path(), &["new.json", "old.json", "--format", "md"]);
    assert_eq!(back_md.code, 1);
    let back_json = diff(dir.path(), &["new.json", "old.json", "--format", "json"]);
    assert_eq!(back_json.code, 1);
    let parsed: Value = serde_json::from_str(&back_json.stdout).unwrap();
    assert_eq!(parsed["summary"]["failing"], 3);
}

#[test]
fn reports_without_fingerprints_are_matched_on_the_same_fields() {
    let dir = tempfile::tempdir().unwrap();
    docomo_before_and_after(dir.path());
    report(dir.path(), "old", "old.json");
    report(dir.path(), "new", "new.json");
    let mut old: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("old.json")).unwrap())
            .unwrap();
    for finding in old["findings"].as_array_mut().unwrap() {
        assert!(finding["fingerprint"].is_string());
        finding.as_object_mut().unwrap().remove("fingerprint");
    }
    std::fs::write(dir.path().join("older.json"), old.to_string()).unwrap();
    let with = diff(dir.path(), &["old.json", "new.json", "--format", "json"]);
    let without = diff(dir.path(), &["older.json", "new.json", "--format", "json"]);
    let summary = |r: &Run| {
        let v: Value = serde_json::from_str(&r.stdout).unwrap();
        v["summary"].clone()
    };
    assert_eq!(summary(&with), summary(&without));
}

#[test]
fn bad_documents_exit_2_with_their_location() {
    let dir = tempfile::tempdir().unwrap();
    let good = run(authaudit(&root())
        .args([
            "check",
            "policies/reference/ref-securities.yaml",
            "--format",
            "json",
        ])
        .args(AT));
    std::fs::write(dir.path().join("good.json"), &good.stdout).unwrap();
    std::fs::write(
        dir.path().join("broken.json"),
        "{\n  \"version\": 2,\n  \"findings\": [,]\n}\n",
    )
    .unwrap();
    let out = diff(dir.path(), &["broken.json", "good.json"]);
    assert_eq!(out.code, 2);
    assert!(out.stdout.is_empty());
    assert!(
        out.stderr.contains("--> broken.json:3:16"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("is not valid JSON"), "{}", out.stderr);

    // A finding without its severity: located where serde_json noticed it.
    let mut value: Value = serde_json::from_str(&good.stdout).unwrap();
    value["findings"] = serde_json::json!([{"rule_id": "X"}]);
    std::fs::write(
        dir.path().join("partial.json"),
        serde_json::to_string_pretty(&value).unwrap(),
    )
    .unwrap();
    let out = diff(dir.path(), &["good.json", "partial.json"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("missing field `pack`"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("--> partial.json:"), "{}", out.stderr);

    let out = diff(dir.path(), &["good.json", "missing.json"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("missing.json"), "{}", out.stderr);

    // The output of `validate` has no findings to compare.
    let validated = run(authaudit(&root()).args([
        "validate",
        "policies/reference/ref-securities.yaml",
        "--format",
        "json",
    ]));
    std::fs::write(dir.path().join("validate.json"), validated.stdout).unwrap();
    let out = diff(dir.path(), &["validate.json", "good.json"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("output of `validate`"),
        "{}",
        out.stderr
    );

    // A report from a newer authaudit.
    value["version"] = Value::from(99);
    std::fs::write(dir.path().join("future.json"), value.to_string()).unwrap();
    let out = diff(dir.path(), &["good.json", "future.json"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("version 99"), "{}", out.stderr);

    // Both bad: both named.
    let out = diff(dir.path(), &["broken.json", "missing.json"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("broken.json") && out.stderr.contains("missing.json"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_report_and_an_attack_path_analysis_are_never_compared() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&root().join(DOCOMO), &dir.path().join("old"));
    report(dir.path(), "old", "report.json");
    let paths = run(authaudit(dir.path()).args(["paths", "old", "--format", "json", "--no-fixes"]));
    std::fs::write(dir.path().join("paths.json"), paths.stdout).unwrap();
    for args in [["report.json", "paths.json"], ["paths.json", "report.json"]] {
        let out = diff(dir.path(), &args);
        assert_eq!(out.code, 2);
        assert!(out.stdout.is_empty());
        assert!(
            out.stderr.contains("cannot compare")
                && out.stderr.contains("a findings report")
                && out.stderr.contains("an attack-path analysis"),
            "{}",
            out.stderr
        );
    }
}

#[test]
fn diff_of_two_analyses_lists_chains_and_fails_on_a_new_determined_one() {
    let dir = tempfile::tempdir().unwrap();
    docomo_before_and_after(dir.path());
    for side in ["old", "new"] {
        let out =
            run(authaudit(dir.path()).args(["paths", side, "--format", "json", "--no-fixes"]));
        assert_eq!(out.code, 1, "{}", out.stderr);
        std::fs::write(dir.path().join(format!("{side}-paths.json")), out.stdout).unwrap();
    }
    let forward = diff(dir.path(), &["old-paths.json", "new-paths.json"]);
    assert_eq!(forward.code, 0, "the chain through bank A is fixed");
    insta::assert_snapshot!("diff_chains_text", forward.stdout);
    let back = diff(
        dir.path(),
        &["new-paths.json", "old-paths.json", "--format", "json"],
    );
    assert_eq!(back.code, 1, "backwards, that chain is new");
    let parsed: Value = serde_json::from_str(&back.stdout).unwrap();
    assert_eq!(parsed["kind"], "chains");
    assert_eq!(parsed["summary"]["failing"], 1);
    assert_eq!(parsed["chains"]["new"][0]["determined"], true);
    assert!(parsed.get("fail_on").is_none());
}

#[test]
fn a_newer_report_over_invalid_input_cannot_pass_the_gate() {
    let dir = tempfile::tempdir().unwrap();
    docomo_before_and_after(dir.path());
    // A bank whose linking flow no longer parses: its findings vanish, unevaluated.
    edit(
        &dir.path().join("new/jp-regional-bank-b.yaml"),
        "kind: account_linking",
        "kind: account_linkin",
    );
    report(dir.path(), "old", "old.json");
    let out = run(authaudit(dir.path())
        .args(["check", "new", "--format", "json"])
        .args(AT));
    assert_eq!(out.code, 2);
    std::fs::write(dir.path().join("new.json"), out.stdout).unwrap();
    let out = diff(dir.path(), &["old.json", "new.json"]);
    assert_eq!(out.code, 2, "{}", out.stdout);
    assert!(
        out.stdout.ends_with(
            "error: new.json does not cover all of its input (1 invalid file): what it lacks may be unevaluated rather than fixed\n"
        ),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr
            .contains("new.json does not cover all of its input")
    );
    // The other way round the older report is the partial one: a note, not an error.
    let out = diff(dir.path(), &["new.json", "old.json"]);
    assert_eq!(out.code, 1, "the bank's findings are new");
    assert!(
        out.stdout
            .contains("note: new.json does not cover all of its input")
    );
}

/// The hostile fixture under a file name that carries `,`, `:` and `%`, and a pack whose
/// title and message carry them with line breaks and a forged command.
fn hostile_tree(dir: &Path) -> PathBuf {
    let tree = dir.join("tree");
    std::fs::create_dir_all(&tree).unwrap();
    std::fs::copy(
        root().join("tests/fixtures/ci/hostile.yaml"),
        tree.join("a,b:c%d.yaml"),
    )
    .unwrap();
    tree
}

fn hostile_check(tree: &Path, summary: &Path, extra: &[&str]) -> Run {
    let pack = root().join("tests/fixtures/ci/hostile-pack");
    run(authaudit(tree)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", summary)
        .args(["check", "."])
        .arg("--rules")
        .arg(&pack)
        .args(["--pack", "ci-hostile"])
        .args(AT)
        .args(extra))
}

#[test]
fn github_annotations_escape_what_would_end_or_forge_a_command() {
    let dir = tempfile::tempdir().unwrap();
    let tree = hostile_tree(dir.path());
    let summary = dir.path().join("summary.md");
    let out = hostile_check(&tree, &summary, &[]);
    assert_eq!(out.code, 1);
    let expected = "::error file=a%2Cb%3Ac%25d.yaml,line=13,col=3,\
        title=high CI-HOSTILE-LOGIN%3A Login%3A 100%25 single-factor%2C weak \
        | <b>x</b> [see](https%3A//evil.example)\
        ::50%25 of the login, checked: one factor, no more.%0A\
        ::error file=forged.yaml,line=1::forged%0Aend%250A%0A\
        flow: ci-hostile/log%25in:now,here (pack ci-hostile)%0A\
        help: Add a second factor: a passkey, say.\n";
    assert_eq!(out.stderr, expected);
    // One command per line, and nothing the runner would read as a second one.
    assert_eq!(out.stderr.lines().count(), 1);

    // Below --fail-on, the same finding is a warning.
    let out = hostile_check(&tree, &summary, &["--fail-on", "critical"]);
    assert_eq!(out.code, 0);
    assert!(
        out.stderr
            .starts_with("::warning file=a%2Cb%3Ac%25d.yaml,line=13,col=3,")
    );
    assert_eq!(out.stderr.lines().count(), 1);

    // Standard output is what it is outside CI.
    let plain = run(authaudit(&tree)
        .args(["check", ".", "--format", "json", "--rules"])
        .arg(root().join("tests/fixtures/ci/hostile-pack"))
        .args(["--pack", "ci-hostile"])
        .args(AT));
    let in_ci = hostile_check(&tree, &summary, &["--format", "json"]);
    assert_eq!(plain.stdout, in_ci.stdout);
    assert!(plain.stderr.is_empty());
}

#[test]
fn the_step_summary_is_appended_and_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let tree = hostile_tree(dir.path());
    let summary = dir.path().join("summary.md");
    std::fs::write(&summary, "## an earlier step\n\n").unwrap();
    assert_eq!(hostile_check(&tree, &summary, &[]).code, 1);
    let text = std::fs::read_to_string(&summary).unwrap();
    assert!(text.starts_with("## an earlier step\n\n## authaudit: gate failed\n"));
    insta::assert_snapshot!("github_step_summary", text);
    // Link-free: the pack's Markdown link and HTML are text, the address is not a link.
    assert!(text.contains("\\[see\\](https\\://evil.example)"), "{text}");
    assert!(text.contains("\\<b\\>x\\</b\\>"), "{text}");
    // A second run appends a second summary.
    assert_eq!(
        hostile_check(&tree, &summary, &["--fail-on", "critical"]).code,
        0
    );
    let twice = std::fs::read_to_string(&summary).unwrap();
    assert!(twice.starts_with(&text));
    assert!(twice[text.len()..].starts_with("## authaudit: gate passed\n"));
}

#[test]
fn outside_github_actions_nothing_is_annotated_or_summarised() {
    let dir = tempfile::tempdir().unwrap();
    let tree = hostile_tree(dir.path());
    let summary = dir.path().join("summary.md");
    for value in [None, Some("false"), Some("1")] {
        let mut command = authaudit(&tree);
        if let Some(value) = value {
            command.env("GITHUB_ACTIONS", value);
        }
        let out = run(command
            .env("GITHUB_STEP_SUMMARY", &summary)
            .args(["check", ".", "--rules"])
            .arg(root().join("tests/fixtures/ci/hostile-pack"))
            .args(["--pack", "ci-hostile"])
            .args(AT));
        assert_eq!(out.code, 1);
        assert!(!out.stderr.contains("::"), "{value:?}: {}", out.stderr);
        assert!(!summary.exists(), "{value:?}");
    }
}

#[test]
fn an_unwritable_step_summary_is_a_warning_not_a_new_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let tree = hostile_tree(dir.path());
    // A folder cannot be appended to.
    let out = hostile_check(&tree, dir.path(), &["--fail-on", "critical"]);
    assert_eq!(out.code, 0);
    assert!(
        out.stderr
            .contains("::warning title=authaudit::cannot append the step summary to "),
        "{}",
        out.stderr
    );
}

#[test]
fn codequality_lists_every_finding_with_the_fields_gitlab_reads() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(authaudit(&root())
        .args(["report", DOCOMO, "--format", "codequality"])
        .args(AT));
    assert_eq!(out.code, 1);
    let issues: Value = serde_json::from_str(&out.stdout).unwrap();
    let issues = issues.as_array().unwrap();
    let levels = ["info", "minor", "major", "critical", "blocker"];
    let mut fingerprints = BTreeSet::new();
    for issue in issues {
        assert!(!issue["description"].as_str().unwrap().is_empty());
        assert!(!issue["check_name"].as_str().unwrap().is_empty());
        let print = issue["fingerprint"].as_str().unwrap();
        assert_eq!(print.len(), 64);
        assert!(
            fingerprints.insert(print.to_owned()),
            "GitLab keeps one issue per fingerprint"
        );
        assert!(
            levels.contains(&issue["severity"].as_str().unwrap()),
            "{issue}"
        );
        let path = issue["location"]["path"].as_str().unwrap();
        assert!(
            path.starts_with("policies/incidents/docomo-koza-2020/"),
            "{path}"
        );
        assert!(issue["location"]["lines"]["begin"].as_u64().unwrap() >= 1);
    }
    // The same findings, with the same fingerprints, as the JSON report.
    let json = run(authaudit(&root())
        .args(["check", DOCOMO, "--format", "json", "--output"])
        .arg(format!(
            "codequality={}",
            dir.path().join("cq.json").display()
        ))
        .args(AT));
    let report: Value = serde_json::from_str(&json.stdout).unwrap();
    let reported: BTreeSet<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["fingerprint"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(reported, fingerprints);
    let written = std::fs::read_to_string(dir.path().join("cq.json")).unwrap();
    assert_eq!(written, out.stdout, "check --output writes the same report");
    let critical = issues.iter().filter(|i| i["severity"] == "blocker").count() as u64;
    assert_eq!(
        report["summary"]["by_severity"]["critical"].as_u64(),
        Some(critical)
    );
}

#[test]
fn codequality_reports_input_problems_as_blockers() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("broken.yaml"), "version: 2\nservice: [\n").unwrap();
    let out = run(authaudit(dir.path()).args(["report", "broken.yaml", "--format", "codequality"]));
    assert_eq!(out.code, 2);
    let issues: Value = serde_json::from_str(&out.stdout).unwrap();
    let issue = &issues[0];
    assert_eq!(issue["severity"], "blocker");
    assert_eq!(issue["check_name"], "authaudit/yaml-syntax");
    assert_eq!(issue["location"]["path"], "broken.yaml");
}

#[derive(serde::Deserialize)]
struct Hook {
    id: String,
    entry: String,
    #[serde(default)]
    args: Vec<String>,
    #[serde(default = "yes")]
    pass_filenames: bool,
    #[serde(default)]
    types: Vec<String>,
    language: String,
}

fn yes() -> bool {
    true
}

/// Runs the hook's command as pre-commit does: `entry`, then `args`, then the changed files
/// when `pass_filenames`, from the repository's root; the installed `authaudit` is the binary
/// under test.
fn run_hook(hook: &Hook, repo: &Path, changed: &str) -> Run {
    let mut words = hook.entry.split_whitespace();
    assert_eq!(
        words.next(),
        Some("authaudit"),
        "the entry runs the installed binary"
    );
    let mut command = authaudit(repo);
    command.args(words).args(&hook.args);
    if hook.pass_filenames {
        command.arg(changed);
    }
    run(&mut command)
}

#[test]
fn the_pre_commit_hook_passes_a_clean_policy_and_refuses_a_weakened_one() {
    let text = std::fs::read_to_string(root().join(".pre-commit-hooks.yaml")).unwrap();
    let hooks: Vec<Hook> = serde_saphyr::from_str(&text).unwrap();
    let hook = hooks.iter().find(|h| h.id == "authaudit").unwrap();
    assert_eq!(
        hook.language, "rust",
        "pre-commit builds it with cargo install"
    );
    assert!(hook.types.iter().any(|t| t == "yaml"));

    let repo = tempfile::tempdir().unwrap();
    let policy = repo.path().join("securities.yaml");
    std::fs::copy(
        root().join("policies/reference/ref-securities.yaml"),
        &policy,
    )
    .unwrap();
    let clean = run_hook(hook, repo.path(), "securities.yaml");
    assert_eq!(clean.code, 0, "{}{}", clean.stdout, clean.stderr);

    // The commit weakens the login to a password.
    edit(
        &policy,
        "  login:\n    kind: login\n    steps:\n      - verify: [passkey]",
        "  login:\n    kind: login\n    steps:\n      - verify: [password]",
    );
    let weakened = run_hook(hook, repo.path(), "securities.yaml");
    assert_eq!(weakened.code, 1, "{}{}", weakened.stdout, weakened.stderr);
    assert!(
        weakened
            .stdout
            .contains("JP-JSDA-LOGIN-WITHDRAWAL-NOT-PHISHING-RESISTANT")
    );

    // And a commit that breaks the file is refused too.
    edit(&policy, "kind: login", "kind: logn");
    assert_eq!(run_hook(hook, repo.path(), "securities.yaml").code, 2);
}
