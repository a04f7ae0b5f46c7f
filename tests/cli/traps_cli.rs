//! The first-hour traps of issue 11 (item 8), each against the real binary: folders yield only
//! policy files, finding nothing is an error, `validate` and `check` agree on invalid input,
//! findings point at the element they are about, rule evaluation errors are errors, one
//! element flagged by several packs is shown once, JSON where tools need it, help examples
//! that run, `--lang ja` without English fixed text, and the packaging a new user looks for.

use assert_cmd::Command;
use authaudit::report::terminal_text::FIXED_TEXTS;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn traps() -> PathBuf {
    root().join("tests/fixtures/traps")
}

/// Runs authaudit in `dir` and returns (exit code, stdout, stderr).
fn run_in(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let output = Command::cargo_bin("authaudit")
        .unwrap()
        .env_clear()
        .env("NO_COLOR", "1")
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code().expect("an exit code, not a signal"),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

fn run(args: &[&str]) -> (i32, String, String) {
    run_in(&root(), args)
}

/// Copies the folder `from` into `to`, files and folders alike.
fn copy_tree(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from).sort_by_file_name() {
        let entry = entry.unwrap();
        let target = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn folders_yield_only_policies_and_count_the_other_yaml_files() {
    let (code, stdout, _) = run_in(&traps(), &["validate", "mixed"]);
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.contains("summary: 1 file checked, 1 valid, 0 invalid"),
        "{stdout}"
    );
    // docker-compose.yml, a CI workflow, a multi-document Kubernetes file and a YAML list.
    assert!(
        stdout.contains(
            "4 other YAML files skipped (not policies: no top-level `service` or `flows` key)"
        ),
        "{stdout}"
    );
    assert!(!stdout.contains("docker-compose"), "{stdout}");
    // `check` walks the same way and says so in its summary.
    let (code, stdout, _) = run_in(&traps(), &["check", "mixed", "--pack", "all"]);
    assert_ne!(code, 2, "{stdout}");
    assert!(stdout.contains("4 other YAML files skipped"), "{stdout}");
}

#[test]
fn a_file_named_explicitly_is_always_checked() {
    let (code, stdout, _) = run_in(&traps(), &["validate", "mixed/docker-compose.yml"]);
    assert_eq!(code, 2, "{stdout}");
    assert!(
        stdout.contains("failed: mixed/docker-compose.yml"),
        "{stdout}"
    );
    assert!(stdout.contains("error[missing-field]"), "{stdout}");
}

#[test]
fn a_broken_policy_in_a_walked_folder_is_reported_not_skipped() {
    let (code, stdout, _) = run_in(&traps(), &["validate", "broken-walked"]);
    assert_eq!(code, 2, "{stdout}");
    // Unparseable, but its top-level keys say it is a policy.
    assert!(
        stdout.contains("failed: broken-walked/broken-policy.yaml (1 error)"),
        "{stdout}"
    );
    // Unparseable prose: what it is cannot be told, so it is reported.
    assert!(
        stdout.contains("failed: broken-walked/memo.yaml"),
        "{stdout}"
    );
    // Unparseable, but plainly a compose file (top-level `services:` only): skipped.
    assert!(!stdout.contains("compose.yaml"), "{stdout}");
    assert!(stdout.contains("1 other YAML file skipped"), "{stdout}");
}

#[test]
fn include_and_exclude_globs_filter_walked_files_only() {
    let (code, stdout, _) = run_in(&traps(), &["validate", "mixed", "--exclude", "policies/**"]);
    assert_eq!(code, 2, "{stdout}");
    assert!(stdout.contains("error[no-policy-files]"), "{stdout}");
    assert!(
        stdout.contains("1 left out by the include/exclude globs"),
        "{stdout}"
    );
    // A glob without a folder part matches file names anywhere.
    let (code, stdout, _) = run_in(&traps(), &["validate", "mixed", "--include", "sms-*.yaml"]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("summary: 1 file checked"), "{stdout}");
    assert!(
        stdout.contains("4 YAML files left out by the include/exclude globs"),
        "{stdout}"
    );
    // Explicit files are never filtered.
    let (code, stdout, _) = run_in(
        &traps(),
        &[
            "validate",
            "mixed/policies/sms-bank.yaml",
            "--exclude",
            "**/*.yaml",
        ],
    );
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("summary: 1 file checked"), "{stdout}");
    let (code, _, stderr) = run_in(&traps(), &["validate", "mixed", "--include", "[a"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("is not a valid glob"), "{stderr}");
}

#[test]
fn finding_no_policy_file_exits_2_for_every_command() {
    let empty = tempfile::tempdir().unwrap();
    let empty = empty.path().to_str().unwrap().to_owned();
    let missing = traps().join("no-such-folder");
    let missing = missing.to_str().unwrap();
    let hidden = traps().join("hidden-only");
    let hidden = hidden.to_str().unwrap();
    for command in ["validate", "check", "report", "paths"] {
        for (case, path) in [
            ("empty", empty.as_str()),
            ("missing", missing),
            ("hidden", hidden),
        ] {
            let mut args = vec![command, path];
            if command == "report" {
                args.extend(["--format", "md"]);
            }
            let (code, stdout, stderr) = run(&args);
            assert_eq!(code, 2, "{command} {case}: {stdout}{stderr}");
            let said = format!("{stdout}{stderr}");
            let expected = if case == "missing" {
                "cannot read path"
            } else {
                "no policy file found here"
            };
            assert!(said.contains(expected), "{command} {case}: {said}");
            if case == "hidden" && command != "report" {
                assert!(said.contains("hidden folders are not searched"), "{said}");
                assert!(said.contains(".policies"), "{said}");
            }
        }
    }
}

#[test]
fn validate_check_report_and_paths_agree_on_invalid_input() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        root().join("tests/fixtures/tree/one-broken/good.yaml"),
        dir.path().join("good.yaml"),
    )
    .unwrap();
    std::fs::copy(
        root().join("tests/fixtures/bad/unknown-factor.yaml"),
        dir.path().join("bad.yaml"),
    )
    .unwrap();
    for args in [
        vec!["validate", "."],
        vec!["check", ".", "--fail-on", "critical"],
        vec!["report", ".", "--format", "json"],
        vec!["paths", ".", "--no-fixes"],
    ] {
        let (code, stdout, stderr) = run_in(dir.path(), &args);
        assert_eq!(code, 2, "{args:?}: {stdout}{stderr}");
    }
    // The summary says what could not be judged instead of a bare "findings: 0".
    let (_, stdout, _) = run_in(dir.path(), &["check", ".", "--pack", "nist-800-63b"]);
    let findings = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("findings: "))
        .unwrap_or_else(|| panic!("no findings line: {stdout}"));
    assert!(
        findings.ends_with("in 1 evaluated file; 1 file not evaluated (invalid or unreadable)"),
        "{findings}"
    );
}

#[test]
fn a_rule_about_an_sms_step_underlines_that_step() {
    let (code, stdout, _) = run_in(
        &traps(),
        &[
            "check",
            "mixed/policies/sms-bank.yaml",
            "--pack",
            "nist-800-63b",
        ],
    );
    assert_eq!(code, 0, "low findings only: {stdout}");
    let entry = stdout
        .split("\n\n")
        .find(|e| e.contains("NIST-RESTRICTED-AUTHENTICATOR"))
        .unwrap_or_else(|| panic!("no SMS finding: {stdout}"));
    // Line 17 is the second step's `- verify: [sms_otp]`; column 18 is `sms_otp`.
    assert!(
        entry.contains("mixed/policies/sms-bank.yaml:17:18"),
        "{entry}"
    );
    assert!(entry.contains("^^^^^^^"), "{entry}");
    let (_, json, _) = run_in(
        &traps(),
        &[
            "check",
            "mixed/policies/sms-bank.yaml",
            "--pack",
            "nist-800-63b",
            "--format",
            "json",
        ],
    );
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    let finding = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule_id"] == "NIST-RESTRICTED-AUTHENTICATOR")
        .unwrap();
    assert_eq!(finding["path"], "flows.login.steps[1].verify[0]");
}

/// A copy of the valid fixture pack with `at:` of its first rule replaced.
fn pack_with_at(dir: &Path, at: &str) -> String {
    let valid = root().join("tests/fixtures/packs/valid");
    std::fs::copy(valid.join("pack.yaml"), dir.join("pack.yaml")).unwrap();
    let rules = std::fs::read_to_string(valid.join("rules.yaml")).unwrap();
    assert_eq!(
        rules.matches("    at: steps\n").count(),
        1,
        "fixture changed"
    );
    std::fs::write(
        dir.join("rules.yaml"),
        rules.replace("    at: steps\n", &format!("    at: \"{at}\"\n")),
    )
    .unwrap();
    dir.display().to_string()
}

#[test]
fn a_rules_at_is_checked_when_the_pack_loads() {
    for (at, message, hint) in [
        (
            "limts.attempts",
            "`at` of `INHOUSE-LINK-01`: a flow has no field `limts`",
            "did you mean `limits`?",
        ),
        (
            "limits.attempts.maximum",
            "`limits.attempts` has no field `maximum`",
            "did you mean `max`?",
        ),
        (
            "step_with:verify=sms_otpp",
            "`sms_otpp` is not a value of a step's `verify`",
            "did you mean `sms_otp`?",
        ),
        (
            "step_with:delivered=registered_contact",
            "a step has no field `delivered`",
            "did you mean `delivered_to`?",
        ),
        (
            "step_with:attempts=5",
            "a step's `attempts` is a section, not a value to look for",
            "fields with values: ",
        ),
        (
            "step_with:verify=flow.enumerable",
            "`flow.enumerable` is not a list of factors the flow view has for `verify`",
            "enumerable_factors",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let user = pack_with_at(dir.path(), at);
        let (code, _, stderr) = run(&["rules", "test", "--rules", &user]);
        assert_eq!(code, 2, "{at}: {stderr}");
        assert!(stderr.contains("error[invalid-rule-at]"), "{at}: {stderr}");
        assert!(stderr.contains(message), "{at}: {stderr}");
        assert!(stderr.contains(hint), "{at}: {stderr}");
        // Located at the rule's `at:` value (line 13 of the fixture), with its YAML path.
        assert!(stderr.contains("rules.yaml:13:9"), "{at}: {stderr}");
        assert!(stderr.contains("= path: rules[0].at"), "{at}: {stderr}");
    }
    // Every documented form loads.
    for at in [
        "steps",
        "limits.attempts.max",
        "steps.0.verify",
        "step_with:verify=cash_card_pin,sms_otp",
        "step_with:delivered_to=contact_supplied_in_flow",
        "step_with:verify=flow.enumerable_factors",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let user = pack_with_at(dir.path(), at);
        let (code, stdout, stderr) = run(&["rules", "test", "--rules", &user]);
        assert_eq!(code, 0, "{at}: {stdout}{stderr}");
    }
}

#[test]
fn rules_test_reports_an_evaluation_error_as_an_error_not_as_silence() {
    let dir = tempfile::tempdir().unwrap();
    let valid = root().join("tests/fixtures/packs/valid");
    std::fs::copy(valid.join("pack.yaml"), dir.path().join("pack.yaml")).unwrap();
    let rules = std::fs::read_to_string(valid.join("rules.yaml")).unwrap();
    // Every example has one step, so `steps[3]` fails at run time, on the fires example too.
    let broken = rules.replace(
        "condition: \"flow.independent_categories < 2\"",
        "condition: \"flow.steps[3].factors == []\"",
    );
    assert_ne!(broken, rules, "fixture changed");
    std::fs::write(dir.path().join("rules.yaml"), broken).unwrap();
    let user = dir.path().display().to_string();
    let (code, stdout, _) = run(&["rules", "test", "--rules", &user]);
    assert_eq!(code, 1, "{stdout}");
    let fires = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("fires[0]"))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(fires.contains("error: the condition failed"), "{fires}");
    assert!(!stdout.contains("stayed silent"), "{stdout}");
    assert!(stdout.contains("\n0 passed, "), "{stdout}");
}

#[test]
fn one_element_flagged_by_several_packs_is_shown_once_with_every_rule() {
    let bank = "policies/incidents/docomo-koza-2020/jp-regional-bank-a.yaml";
    let base = [
        "check",
        "policies/incidents/docomo-koza-2020",
        "--pack",
        "all",
        "--at",
        "2026-01-01",
    ];
    let (_, json, _) = run(&[&base[..], &["--format", "json"]].concat());
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    let findings = report["findings"].as_array().unwrap();
    // Two or more rules on the bank's linking steps.
    let on_steps: Vec<&str> = findings
        .iter()
        .filter(|f| f["path"] == "flows.account_linking.steps" && f["file"] == bank)
        .map(|f| f["rule_id"].as_str().unwrap())
        .collect();
    assert!(on_steps.len() >= 3, "{on_steps:?}");
    // JSON keeps one entry per rule.
    let mut ids = on_steps.clone();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), on_steps.len());

    let (_, text, _) = run(&base);
    // Every rule on the element is in one entry, under one head: no entry of its own.
    let entries: Vec<&str> = text
        .split("\n\n")
        .filter(|e| e.contains(&format!("--> {bank}:")))
        .filter(|e| on_steps.iter().any(|id| e.contains(&format!("[{id}]"))))
        .collect();
    assert_eq!(entries.len(), 1, "one entry for the element: {entries:#?}");
    let entry = entries[0];
    for id in &on_steps {
        assert!(entry.contains(&format!("[{id}]")), "{id} missing: {entry}");
    }
    assert_eq!(
        entry.matches("= also: ").count(),
        on_steps.len() - 1,
        "{entry}"
    );

    let dir = tempfile::tempdir().unwrap();
    let md = dir.path().join("report.md");
    let md_arg = md.to_str().unwrap();
    let (code, _, stderr) = run(&[&base[..], &["--output", &format!("md={md_arg}")]].concat());
    assert_ne!(code, 2, "{stderr}");
    let markdown = std::fs::read_to_string(&md).unwrap();
    assert!(
        markdown.contains("**Also flagged on this element**"),
        "grouped"
    );
    for id in &on_steps {
        // Each rule is named once as a finding heading or as a rule on the same element.
        let headings = markdown
            .lines()
            .filter(|l| l.starts_with("#####") && l.contains(&format!("`{id}`")))
            .count();
        assert!(headings >= 1, "{id} missing from the findings section");
    }
}

#[test]
fn rules_list_and_factors_print_json() {
    let (code, stdout, _) = run(&["factors", "--format", "json"]);
    assert_eq!(code, 0);
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let (_, table, _) = run(&["factors"]);
    let factors = json["factors"].as_array().unwrap();
    assert_eq!(factors.len(), table.lines().count() - 1);
    assert!(
        factors
            .iter()
            .any(|f| f["name"] == "sms_otp" && f["restricted"] == true)
    );
    let (code, stdout, _) = run(&["rules", "list", "--format", "json", "--pack", "incidents"]);
    assert_eq!(code, 0);
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert!(
        json["rules"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["pack"] == "incidents")
    );
}

#[test]
fn rules_docs_without_out_writes_only_into_the_projects_docs() {
    let elsewhere = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run_in(elsewhere.path(), &["rules", "docs"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("give --out DIR"), "{stderr}");
    assert_eq!(
        std::fs::read_dir(elsewhere.path()).unwrap().count(),
        0,
        "nothing written"
    );
    // A source tree (Cargo.toml, rules/, docs/rules/) gets its docs/rules.
    let project = tempfile::tempdir().unwrap();
    std::fs::write(project.path().join("Cargo.toml"), "[package]\n").unwrap();
    std::fs::create_dir_all(project.path().join("rules")).unwrap();
    std::fs::create_dir_all(project.path().join("docs/rules")).unwrap();
    let (code, stdout, stderr) = run_in(project.path(), &["rules", "docs"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("pages to docs/rules"), "{stdout}");
    assert!(project.path().join("docs/rules/flow-view.md").is_file());
}

/// Splits an example command line as a shell would, for the quoting examples use.
fn words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut started = false;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                started = true;
            }
            (None, c) if c.is_whitespace() => {
                if started {
                    words.push(std::mem::take(&mut word));
                    started = false;
                }
            }
            (None, c) => {
                word.push(c);
                started = true;
            }
        }
    }
    assert!(quote.is_none(), "unbalanced quote in {line:?}");
    if started {
        words.push(word);
    }
    words
}

/// The subcommands a help text lists under `Commands:` (clap's `help` aside).
fn subcommands(help: &str) -> Vec<String> {
    help.split("\nCommands:\n")
        .nth(1)
        .map(|rest| {
            rest.lines()
                .take_while(|l| l.starts_with("  "))
                .filter_map(|l| l.split_whitespace().next())
                .filter(|name| *name != "help")
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn every_example_in_every_help_runs_without_a_usage_error() {
    // Every command path, from `authaudit --help` down (a bounded walk: two levels here).
    let mut commands: Vec<Vec<String>> = vec![Vec::new()];
    let mut index = 0;
    let mut examples = 0;
    while index < commands.len() {
        assert!(index < 100, "more commands than expected");
        let path = commands[index].clone();
        index += 1;
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let (code, help, _) = run(&args);
        assert_eq!(code, 0, "{args:?}");
        for sub in subcommands(&help) {
            let mut next = path.clone();
            next.push(sub);
            commands.push(next);
        }
        let lines: Vec<&str> = help
            .lines()
            .filter_map(|l| {
                l.strip_prefix("  authaudit ")
                    .or_else(|| l.strip_prefix("$ authaudit "))
            })
            .collect();
        if !path.is_empty() {
            assert!(
                !lines.is_empty(),
                "`authaudit {} --help` shows no example",
                path.join(" ")
            );
        }
        // Each command's examples run in order in a fresh copy of the bundled policies, so
        // an example may use a file an earlier one wrote.
        let dir = tempfile::tempdir().unwrap();
        copy_tree(&root().join("policies"), &dir.path().join("policies"));
        for line in lines {
            let argv = words(line);
            let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
            let (code, stdout, stderr) = run_in(dir.path(), &argv);
            assert!(
                code == 0 || code == 1,
                "`authaudit {line}` (from `{}`) exited {code}\n{stdout}{stderr}",
                args.join(" ")
            );
            examples += 1;
        }
    }
    assert!(commands.len() >= 15, "{commands:?}");
    assert!(examples >= 30, "{examples} examples");
}

/// The English parts of a fixed text: the pieces between its `{placeholders}`.
fn english_pieces(text: &str) -> Vec<String> {
    let mut pieces = Vec::new();
    for (i, part) in text.split('{').enumerate() {
        let piece = if i == 0 {
            part
        } else {
            part.split_once('}').map_or("", |(_, rest)| rest)
        };
        pieces.push(piece.trim().to_owned());
    }
    pieces
}

#[test]
fn lang_ja_leaves_no_english_fixed_text_in_check_output() {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&root().join("policies"), &dir.path().join("policies"));
    // A file that is not a policy (skipped), an invalid one (not evaluated): every summary line.
    std::fs::copy(
        traps().join("mixed/docker-compose.yml"),
        dir.path().join("policies/docker-compose.yml"),
    )
    .unwrap();
    std::fs::copy(
        root().join("tests/fixtures/bad/unknown-factor.yaml"),
        dir.path().join("policies/broken.yaml"),
    )
    .unwrap();
    let args = ["check", "policies", "--pack", "all", "--at", "2026-01-01"];
    let (code, english, _) = run_in(dir.path(), &args);
    assert_eq!(code, 2);
    let (_, japanese, _) = run_in(dir.path(), &[&args[..], &["--lang", "ja"]].concat());
    // Validation diagnostics (`error[unknown-factor]` ...) are the validators' English, like
    // the packs' prose; the findings and the summary are what `--lang` covers.
    let japanese: String = japanese
        .split("\n\n")
        .filter(|entry| {
            !["error[", "warning[", "note["]
                .iter()
                .any(|p| entry.starts_with(p))
        })
        .collect::<Vec<_>>()
        .join("\n\n");
    assert!(japanese.contains("[INC-"), "findings kept: {japanese}");
    let mut checked = 0;
    for (key, en, _) in FIXED_TEXTS {
        // Severity names stay in `high[RULE-ID]` heads, like codes.
        if key.starts_with("severity.") {
            continue;
        }
        let pieces: Vec<String> = if let Some(label) = key.strip_prefix("label.") {
            let _ = label;
            vec![format!("= {en}: ")]
        } else if *key == "summary" {
            vec![format!("{en}: ")]
        } else {
            // Single words (`none`, `file`) also occur in the packs' English prose.
            english_pieces(en)
                .into_iter()
                .filter(|p| p.contains(' ') || p.ends_with(':'))
                .collect()
        };
        for piece in pieces {
            assert!(
                !japanese.contains(&piece),
                "English fixed text {piece:?} ({key}) in the --lang ja output"
            );
            if english.contains(&piece) {
                checked += 1;
            }
        }
    }
    // The English run shows most of them, so the check above is not vacuous.
    assert!(
        checked >= 15,
        "only {checked} English pieces seen:\n{english}"
    );
    assert!(japanese.contains("集計: "), "{japanese}");
    assert!(japanese.contains("= 同じ箇所: "), "{japanese}");
}

#[test]
fn packaging_names_the_license_and_readme_uses_one_command_form() {
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    for field in [
        "description = ",
        "license = \"MIT OR Apache-2.0\"",
        "repository = ",
        "keywords = ",
        "categories = ",
    ] {
        assert!(manifest.contains(field), "Cargo.toml lacks {field}");
    }
    for license in ["LICENSE-MIT", "LICENSE-APACHE"] {
        let text = std::fs::read_to_string(root().join(license)).unwrap();
        assert!(text.len() > 900, "{license} is not a license text");
    }
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    assert!(
        readme.contains("cargo install --path ."),
        "README lacks the install command"
    );
    assert!(
        !readme.contains("target/release/authaudit"),
        "README mixes ./target/release/authaudit with bare authaudit"
    );
    assert!(
        readme.contains("exits `1` on purpose"),
        "README does not explain the exit 1"
    );
    // .ci/run runs the README's test command: the second line of its first code block.
    let ci = std::fs::read_to_string(root().join(".ci/run")).unwrap();
    let first_block = readme
        .split("```sh\n")
        .nth(1)
        .unwrap()
        .split("```")
        .next()
        .unwrap();
    let mut commands = first_block
        .lines()
        .map(|l| l.split(" #").next().unwrap().trim());
    let main = commands.next().unwrap();
    let test = commands.next().unwrap();
    assert!(ci.contains(test), ".ci/run does not run `{test}`");
    assert!(
        ci.contains(&main.replace("--release ", "--locked --quiet ")),
        "{main}"
    );
}
