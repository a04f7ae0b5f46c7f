//! People at a terminal: colour only when asked for or on a terminal (`--color`, `NO_COLOR`),
//! `--quiet`, no progress bar outside a terminal, and the shell completions and man pages
//! generated from the argument definitions.
//!
//! Under the test harness stdout and stderr are pipes, so `--color auto` must never colour and
//! no progress bar may be drawn; the decisions on a real terminal are unit-tested in
//! `src/cli/terminal.rs`.

use assert_cmd::Command;
use std::path::PathBuf;

const ESC: u8 = 0x1b;
const INCIDENT: &str = "policies/incidents/docomo-koza-2020";
const REFERENCE: &str = "policies/reference";
/// A fixed day, so which rules are in force (and so the exit codes) never depends on the date.
const AT: [&str; 2] = ["--at", "2026-11-28"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The binary with none of the environment that changes what reaches the terminal.
fn authaudit() -> Command {
    let mut command = Command::cargo_bin("authaudit").unwrap();
    command
        .current_dir(root())
        .env_remove("NO_COLOR")
        .env_remove("CI")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("SOURCE_DATE_EPOCH");
    command
}

struct Run {
    code: i32,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

fn run(command: &mut Command) -> Run {
    let output = command.output().unwrap();
    Run {
        code: output.status.code().expect("exited normally"),
        stdout: output.stdout,
        stderr: output.stderr,
    }
}

fn has_escape(bytes: &[u8]) -> bool {
    bytes.contains(&ESC)
}

/// A failing `check` (findings on an incident), with extra arguments.
fn failing_check(extra: &[&str]) -> Run {
    run(authaudit().arg("check").arg(INCIDENT).args(AT).args(extra))
}

/// An invalid policy file, so `validate` has diagnostics to colour.
fn invalid_policy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(root().join("policies/reference/ref-bank.yaml")).unwrap();
    let broken = text.replacen("version: 2", "version: 2\nunknown_field: 1", 1);
    assert_ne!(text, broken, "the reference bank declares `version: 2`");
    std::fs::write(dir.path().join("bank.yaml"), broken).unwrap();
    dir
}

#[test]
fn no_colour_when_stdout_is_not_a_terminal() {
    let check = failing_check(&[]);
    assert_eq!(check.code, 1);
    assert!(!check.stdout.is_empty());
    assert!(!has_escape(&check.stdout), "check coloured a pipe");

    let dir = invalid_policy();
    let validate = run(authaudit().arg("validate").arg(dir.path()));
    assert_ne!(validate.code, 0, "invalid input never passes");
    assert!(!has_escape(&validate.stdout), "validate coloured a pipe");

    let paths = run(authaudit().args(["paths", "policies/incidents"]));
    assert_eq!(paths.code, 1);
    assert!(!has_escape(&paths.stdout), "paths coloured a pipe");
}

#[test]
fn color_always_forces_colour_in_human_output_only() {
    let check = failing_check(&["--color", "always"]);
    assert_eq!(check.code, 1);
    assert!(has_escape(&check.stdout), "check --color always");
    let plain = failing_check(&["--color", "never"]);
    assert_eq!(
        strip_ansi(&check.stdout),
        plain.stdout,
        "colour changes nothing but the escapes"
    );

    // The global option is honoured before the subcommand as well as after it.
    let dir = invalid_policy();
    let validate = run(authaudit()
        .args(["--color", "always", "validate"])
        .arg(dir.path()));
    assert_ne!(validate.code, 0, "invalid input never passes");
    assert!(has_escape(&validate.stdout), "validate --color always");

    let paths = run(authaudit().args(["paths", "policies/incidents", "--color", "always"]));
    assert!(has_escape(&paths.stdout), "paths --color always");

    // Machine output is never coloured.
    let json = failing_check(&["--color", "always", "--format", "json"]);
    assert_eq!(json.code, 1);
    assert!(!has_escape(&json.stdout), "JSON must stay parseable");
    serde_json::from_slice::<serde_json::Value>(&json.stdout).unwrap();
}

#[test]
fn no_color_and_color_never_give_none() {
    let no_color = run(authaudit()
        .env("NO_COLOR", "1")
        .arg("check")
        .arg(INCIDENT)
        .args(AT)
        .args(["--color", "auto"]));
    assert_eq!(no_color.code, 1);
    assert!(!has_escape(&no_color.stdout), "NO_COLOR=1 --color auto");

    let never = failing_check(&["--color", "never"]);
    assert!(!has_escape(&never.stdout), "--color never");

    // An explicit `always` is a request, and wins over the environment.
    let always = run(authaudit()
        .env("NO_COLOR", "1")
        .arg("check")
        .arg(INCIDENT)
        .args(AT)
        .args(["--color", "always"]));
    assert!(has_escape(&always.stdout), "NO_COLOR=1 --color always");
}

#[test]
fn an_unknown_color_choice_is_a_usage_error() {
    let bad = run(authaudit().args(["check", "--color", "sometimes"]));
    assert_eq!(bad.code, 2);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("sometimes"));
}

#[test]
fn quiet_prints_nothing_on_a_clean_run() {
    let check = run(authaudit().args(["check", "--quiet", REFERENCE]).args(AT));
    assert_eq!(check.code, 0, "the reference designs pass the gate");
    assert!(
        check.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    assert!(check.stderr.is_empty());

    let validate = run(authaudit().args(["-q", "validate", REFERENCE]));
    assert_eq!(validate.code, 0);
    assert!(validate.stdout.is_empty());

    let paths = run(authaudit().args(["paths", "-q", REFERENCE]));
    assert_eq!(paths.code, 0, "no chain among the reference designs");
    assert!(paths.stdout.is_empty());

    // Without --quiet the same runs do print their summary.
    let loud = run(authaudit().args(["check", REFERENCE]).args(AT));
    assert_eq!(loud.code, 0);
    assert!(String::from_utf8_lossy(&loud.stdout).contains("summary"));
}

#[test]
fn quiet_keeps_the_whole_report_of_a_failing_run() {
    let quiet = failing_check(&["--quiet"]);
    let loud = failing_check(&[]);
    assert_eq!(quiet.code, 1);
    assert_eq!(quiet.stdout, loud.stdout);

    let dir = invalid_policy();
    let validate = run(authaudit().args(["validate", "-q"]).arg(dir.path()));
    assert_ne!(validate.code, 0, "invalid input never passes");
    assert!(String::from_utf8_lossy(&validate.stdout).contains("unknown_field"));
}

#[test]
fn quiet_never_silences_machine_output() {
    let json = run(authaudit()
        .args(["check", "--quiet", "--format", "json", REFERENCE])
        .args(AT));
    assert_eq!(json.code, 0);
    serde_json::from_slice::<serde_json::Value>(&json.stdout).unwrap();

    let schema = run(authaudit().args(["--quiet", "schema"]));
    assert_eq!(schema.code, 0);
    serde_json::from_slice::<serde_json::Value>(&schema.stdout).unwrap();
}

/// Enough files that loading takes a while, so a bar drawn without looking at stderr would
/// have had time to appear.
#[test]
fn no_progress_output_when_stderr_is_not_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let bank = std::fs::read_to_string(root().join("policies/reference/ref-bank.yaml")).unwrap();
    for i in 0..150 {
        let text = bank.replace("  id: ref-bank", &format!("  id: bank-{i}"));
        std::fs::write(dir.path().join(format!("bank-{i:03}.yaml")), text).unwrap();
    }
    for command in ["validate", "check", "paths"] {
        let result = run(authaudit()
            .arg(command)
            .arg(dir.path())
            .args(["--color", "auto"]));
        assert!(
            result.stderr.is_empty(),
            "{command} wrote to stderr: {}",
            String::from_utf8_lossy(&result.stderr)
        );
        assert!(!result.stdout.is_empty(), "{command} printed its report");
        assert!(!has_escape(&result.stdout));
    }
    let report = run(authaudit()
        .args(["report", "--format", "json"])
        .arg(dir.path())
        .args(AT));
    assert!(report.stderr.is_empty());
    serde_json::from_slice::<serde_json::Value>(&report.stdout).unwrap();
}

/// The subcommands `--help` lists (clap's own `help` aside), so new commands are covered too.
fn subcommands(args: &[&str]) -> Vec<String> {
    let help = run(authaudit().args(args).arg("--help"));
    assert_eq!(help.code, 0);
    let text = String::from_utf8(help.stdout).unwrap();
    let listed = text
        .split("Commands:\n")
        .nth(1)
        .expect("help lists commands");
    let names: Vec<String> = listed
        .lines()
        .take_while(|line| !line.trim().is_empty())
        .filter(|line| line.starts_with("  ") && !line.starts_with("   "))
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect();
    assert!(!names.is_empty());
    names
}

#[test]
fn completions_for_each_shell_name_every_subcommand() {
    let commands = subcommands(&[]);
    for expected in ["validate", "check", "report", "paths", "completions", "man"] {
        assert!(
            commands.iter().any(|c| c == expected),
            "{expected} in --help"
        );
    }
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let script = run(authaudit().args(["completions", shell]));
        assert_eq!(script.code, 0, "{shell}");
        let text = String::from_utf8(script.stdout).unwrap();
        assert!(!text.trim().is_empty(), "{shell}: empty script");
        assert!(text.contains("authaudit"), "{shell}: no program name");
        for command in &commands {
            assert!(text.contains(command.as_str()), "{shell}: no `{command}`");
        }
        // Options come from the same definitions, global ones included.
        assert!(text.contains("fail-on"), "{shell}: no --fail-on");
        assert!(text.contains("color"), "{shell}: no --color");
    }
    let unknown = run(authaudit().args(["completions", "tcsh"]));
    assert_eq!(unknown.code, 2);
}

#[test]
fn man_page_names_every_subcommand() {
    let page = run(authaudit().arg("man"));
    assert_eq!(page.code, 0);
    let text = String::from_utf8(page.stdout).unwrap();
    assert!(
        text.contains(".TH authaudit 1"),
        "a roff page for section 1"
    );
    assert!(text.contains(concat!("\"authaudit ", env!("CARGO_PKG_VERSION"), "\"")));
    for command in subcommands(&[]) {
        // roff escapes the hyphen of `authaudit-check(1)`.
        let reference = format!("authaudit\\-{command}(1)");
        assert!(text.contains(&reference), "man page lacks {reference}");
    }
    assert!(
        !text.contains("authaudit\\-help"),
        "clap's help command has no page"
    );

    let rules_list = run(authaudit().args(["man", "rules", "list"]));
    assert_eq!(rules_list.code, 0);
    let text = String::from_utf8(rules_list.stdout).unwrap();
    assert!(text.contains(".TH authaudit-rules-list 1"));
    assert!(text.contains("\\-\\-severity"));

    let unknown = run(authaudit().args(["man", "nonsense"]));
    assert_eq!(unknown.code, 2);
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no command `nonsense`"));
}

#[test]
fn man_out_writes_a_page_per_command() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("man1");
    let written = run(authaudit().args(["man", "--out"]).arg(&out));
    assert_eq!(written.code, 0);
    assert!(written.stdout.is_empty());
    assert!(out.join("authaudit.1").is_file());
    for command in subcommands(&[]) {
        let file = out.join(format!("authaudit-{command}.1"));
        assert!(file.is_file(), "{} missing", file.display());
    }
    for command in subcommands(&["rules"]) {
        let file = out.join(format!("authaudit-rules-{command}.1"));
        assert!(file.is_file(), "{} missing", file.display());
    }
}

/// The text with every `ESC [ ... m` sequence removed.
fn strip_ansi(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut rest = bytes;
    while let Some((&first, tail)) = rest.split_first() {
        if first == ESC && tail.first() == Some(&b'[') {
            let end = tail
                .iter()
                .position(|&b| b == b'm')
                .map_or(tail.len(), |i| i + 1);
            rest = &tail[end..];
        } else {
            out.push(first);
            rest = tail;
        }
    }
    out
}
