//! Hostile user rule packs: conditions built to overflow the stack, run without end or
//! exhaust memory must be refused when the pack loads, with a located message and exit 2 from
//! both `rules test --rules DIR` and `check policies --rules DIR`, in bounded time. Each pack
//! is the valid fixture pack with its condition replaced, generated into a temporary folder.

use assert_cmd::Command;
use std::path::Path;
use std::time::Duration;

const VALID_CONDITION: &str = "condition: \"flow.independent_categories < 2\"";

/// A copy of `tests/fixtures/packs/valid` whose one rule has `condition`.
fn pack_with(condition: &str) -> tempfile::TempDir {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/packs/valid");
    let dir = tempfile::tempdir().unwrap();
    let manifest = std::fs::read_to_string(fixture.join("pack.yaml")).unwrap();
    let rules = std::fs::read_to_string(fixture.join("rules.yaml")).unwrap();
    assert!(
        rules.contains(VALID_CONDITION),
        "the fixture's condition moved"
    );
    assert!(!condition.contains('"') && !condition.contains('\\'));
    let rules = rules.replace(VALID_CONDITION, &format!("condition: \"{condition}\""));
    std::fs::write(dir.path().join("pack.yaml"), manifest).unwrap();
    std::fs::write(dir.path().join("rules.yaml"), rules).unwrap();
    dir
}

/// Exit code and output (stderr, then stdout) of `authaudit ARGS`, killed after 60 s.
fn run(args: &[&str]) -> (Option<i32>, String) {
    let output = Command::cargo_bin("authaudit")
        .unwrap()
        .env_clear()
        .env("NO_COLOR", "1")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    (
        output.status.code(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stderr),
            String::from_utf8_lossy(&output.stdout)
        ),
    )
}

/// Both commands refuse the pack: exit 2, the diagnostic `code` naming the rule, located in
/// the rules file (line 12 holds the condition), and no panic or Rust debug dump.
fn assert_refused(condition: &str, code: &str, says: &str) {
    let pack = pack_with(condition);
    let dir = pack.path().to_str().unwrap();
    for args in [
        &["rules", "test", "--rules", dir][..],
        &["check", "policies", "--rules", dir][..],
    ] {
        let (status, stderr) = run(args);
        let shown: String = stderr.chars().take(2000).collect();
        assert_eq!(status, Some(2), "{args:?} exit code; stderr:\n{shown}");
        assert!(
            stderr.contains(&format!("error[{code}]: condition of `INHOUSE-LINK-01`")),
            "{args:?}: no {code} error for the rule; stderr:\n{shown}"
        );
        assert!(
            stderr.contains(says),
            "{args:?}: `{says}` not said:\n{shown}"
        );
        assert!(
            stderr.contains("rules.yaml:12:"),
            "{args:?}: not located at the condition:\n{shown}"
        );
        for leak in ["panicked", "overflow", "ParseError {", "OtherError("] {
            assert!(!stderr.contains(leak), "{args:?}: `{leak}` in:\n{shown}");
        }
    }
}

fn sum(terms: usize, separator: &str) -> String {
    format!("{} > 0", vec!["1"; terms].join(separator))
}

fn list(len: usize) -> String {
    let items: Vec<String> = (0..len).map(|i| i.to_string()).collect();
    format!("[{}]", items.join(", "))
}

#[test]
fn an_8000_term_sum_is_refused_by_its_length() {
    // Overflowed the stack in the field check (`cel_check::walk`) before.
    assert_refused(&sum(8000, " + "), "cel-too-complex", "more than the 4096");
}

#[test]
fn a_sum_within_the_length_limit_is_refused_by_its_depth() {
    // 2,000 terms in under 4,096 bytes: a left-leaning tree 2,000 levels deep.
    assert_refused(
        &sum(2000, "+"),
        "cel-too-complex",
        "more than 48 levels deep",
    );
}

#[test]
fn deep_parentheses_are_refused_with_a_readable_message() {
    // 5,000 levels: over the length limit.
    let deep = |n: usize| format!("{}1{} > 0", "(".repeat(n), ")".repeat(n));
    assert_refused(&deep(5000), "cel-too-complex", "more than the 4096");
    // 1,000 levels fit in the length: the bracket scan refuses them before the parser, whose
    // own message was a Rust debug dump (`OtherError(ParseError { … })`).
    assert_refused(
        &deep(1000),
        "cel-too-complex",
        "brackets more than 32 levels",
    );
    // A chain of conditionals nests without brackets and reaches the parser's own limit: its
    // message is given in words, not as `OtherError(ParseError { … })`.
    let chain = format!("{}false", "true ? true : ".repeat(290));
    assert_refused(
        &chain,
        "cel-syntax",
        "nests deeper than the CEL parser allows",
    );
}

#[test]
fn nested_comprehensions_over_a_generated_list_are_refused() {
    let l = list(60);
    let condition =
        format!("{l}.exists(a, {l}.exists(b, {l}.exists(c, {l}.exists(d, a + b + c + d < 0))))");
    assert_refused(&condition, "cel-unbounded-iteration", "a literal list");
    assert_refused(&condition, "cel-too-complex", "nest more than 2 deep");
}

#[test]
fn comprehensions_over_the_view_nested_three_deep_are_refused() {
    let condition =
        "flow.steps.exists(a, flow.steps.exists(b, flow.steps.exists(c, a == b && b == c)))";
    assert_refused(condition, "cel-too-complex", "nest more than 2 deep");
}

#[test]
fn string_doubling_is_refused() {
    // Each `map` doubles the string: 40 of them would need a terabyte.
    let condition = format!("size(['ab']{}[0]) > 0", ".map(s, s + s)".repeat(40));
    assert_refused(&condition, "cel-unbounded-iteration", "the result of `map`");
}

#[test]
fn unknown_functions_are_refused_at_load() {
    for (condition, name) in [
        (
            "matches(string(flow.independent_categories), '^1$')",
            "matches",
        ),
        ("max(flow.independent_categories, 2) > 2", "max"),
        (
            "timestamp('2024-01-01T00:00:00Z') > timestamp('2023-01-01T00:00:00Z')",
            "timestamp",
        ),
        ("flow.factors.exists(f, f.matches('^sms'))", "matches"),
        ("cel.bind(x, 1, x > 0)", "bind"),
    ] {
        assert_refused(
            condition,
            "cel-unsupported-function",
            &format!("calls `{name}`, which is not available"),
        );
    }
}

#[test]
fn bounded_conditions_still_load() {
    let pack = pack_with(
        "flow.steps.exists(s, s.factors.exists(f, f.startsWith('sms') || f.endsWith('otp'))) \
         && size(flow.steps.map(s, s.factors)) > 0 && flow.factors.all(f, f.contains('_') || true)",
    );
    let (status, stderr) = run(&["rules", "test", "--rules", pack.path().to_str().unwrap()]);
    assert!(
        !stderr.contains("error["),
        "a bounded condition was refused:\n{stderr}"
    );
    assert_ne!(status, Some(2), "{stderr}");
}

#[test]
fn a_condition_that_is_not_boolean_names_the_rule_and_flow_without_a_debug_dump() {
    let pack = pack_with("string(flow.independent_categories) + 'x'");
    let (status, stderr) = run(&[
        "check",
        "policies",
        "--rules",
        pack.path().to_str().unwrap(),
    ]);
    assert_eq!(status, Some(2), "{status:?} {stderr}");
    assert!(
        stderr.contains("rule `INHOUSE-LINK-01` failed on ")
            && stderr.contains("the condition gave a string value, not a boolean"),
        "{stderr}"
    );
    assert!(!stderr.contains("String("), "{stderr}");
}

/// The valid fixture pack with `rules.yaml` padded past `bytes` by comment lines.
fn padded_pack(bytes: usize) -> tempfile::TempDir {
    let pack = pack_with("flow.independent_categories < 2");
    let rules = pack.path().join("rules.yaml");
    let mut text = std::fs::read_to_string(&rules).unwrap();
    let line = format!("# {}\n", "x".repeat(1_000));
    while text.len() <= bytes {
        text += &line;
    }
    std::fs::write(rules, text).unwrap();
    pack
}

#[test]
fn a_pack_over_the_size_limit_names_the_pack_flag() {
    let over = 4 * 1024 * 1024;
    let pack = padded_pack(over);
    let dir = pack.path().to_str().unwrap();
    for args in [
        &["rules", "test", "--rules", dir][..],
        &["rules", "list", "--rules", dir],
        &["check", "policies", "--rules", dir],
        &["check", "policies", "--format", "json", "--rules", dir],
        &["report", "policies", "--format", "json", "--rules", dir],
    ] {
        let (status, out) = run(args);
        let shown: String = out.chars().take(2000).collect();
        assert_eq!(status, Some(2), "{args:?}: {shown}");
        assert!(out.contains("file-too-large"), "{args:?}: {shown}");
        assert!(
            out.contains("over the 4194304-byte size budget"),
            "{args:?}: {shown}"
        );
        assert!(
            out.contains("raise the budget with --max-pack-bytes"),
            "{args:?}: {shown}"
        );
        // The policy files' flag does nothing for packs: it must not be offered.
        assert!(!out.contains("--max-file-bytes"), "{args:?}: {shown}");
    }
    // The flag it names does raise the limit, for every command that loads packs.
    let raised = (2 * over).to_string();
    let (status, out) = run(&["rules", "test", "--rules", dir, "--max-pack-bytes", &raised]);
    assert_eq!(
        status,
        Some(0),
        "{}",
        out.chars().take(2000).collect::<String>()
    );
    let (status, out) = run(&[
        "check",
        "policies",
        "--rules",
        dir,
        "--max-pack-bytes",
        &raised,
    ]);
    assert!(!out.contains("file-too-large"), "{status:?}");
    assert_ne!(
        status,
        Some(2),
        "{}",
        out.chars().take(2000).collect::<String>()
    );
}

#[test]
fn max_pack_bytes_also_lowers_the_limit() {
    let pack = pack_with("flow.independent_categories < 2");
    let dir = pack.path().to_str().unwrap();
    let (status, out) = run(&["rules", "list", "--rules", dir, "--max-pack-bytes", "100"]);
    assert_eq!(status, Some(2), "{out}");
    assert!(out.contains("over the 100-byte size budget"), "{out}");
    assert!(out.contains("--> "), "the file is named: {out}");
    assert!(
        out.contains("rules.yaml") || out.contains("pack.yaml"),
        "{out}"
    );
}
