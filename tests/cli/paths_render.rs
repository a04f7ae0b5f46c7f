//! Rendering of attack paths: what `authaudit paths` shows on the bundled policies (human,
//! Graphviz DOT, Mermaid), the inline SVG of one chain, policies whose flow ids and file
//! names are written to break out of every diagram language, and byte-identical output
//! across runs.

use assert_cmd::Command;
use authaudit::attackers::{AttackerProfile, AttackerSet};
use authaudit::factors::Catalogue;
use authaudit::load::{Loader, PolicyTree};
use authaudit::paths::{Analysis, Input, Limits, analyse_without_fixes};
use authaudit::report::paths::svg::chain_svg;
use authaudit::source::SizeBudget;
use std::path::{Path, PathBuf};

const FORMATS: [&str; 4] = ["human", "json", "dot", "mermaid"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `authaudit paths PATH --format FORMAT`: exit code, stdout, stderr.
fn paths(path: &Path, format: &str) -> (i32, String, String) {
    let output = Command::cargo_bin("authaudit")
        .unwrap()
        .env("NO_COLOR", "1")
        .current_dir(root())
        .arg("paths")
        .arg(path)
        .args(["--format", format])
        .output()
        .unwrap();
    (
        output.status.code().unwrap(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

fn analyse(path: &Path) -> Analysis {
    let catalogue = Catalogue::bundled();
    let tree: PolicyTree =
        Loader::new(Catalogue::bundled(), SizeBudget::default()).load_paths(&[path.to_path_buf()]);
    let inputs: Vec<Input> = tree
        .policies()
        .map(|(file, policy)| Input {
            file: &file.shown,
            policy,
            tree: file.tree.as_ref(),
        })
        .collect();
    let set = AttackerSet::bundled(&catalogue);
    let profiles: Vec<&AttackerProfile> = set.profiles().iter().collect();
    analyse_without_fixes(&inputs, &catalogue, &profiles, Limits::default())
}

#[test]
fn the_bundled_policies_in_human_dot_and_mermaid() {
    for format in ["human", "dot", "mermaid"] {
        let (code, stdout, stderr) = paths(Path::new("policies"), format);
        assert_eq!(code, 1, "{format}: the incidents have chains\n{stderr}");
        assert_eq!(stderr, "", "{format}: every bundled policy is valid");
        insta::assert_snapshot!(format!("policies_{format}"), stdout);
    }
}

#[test]
fn the_svg_of_a_docomo_chain() {
    let analysis = analyse(Path::new("policies/incidents/docomo-koza-2020"));
    let chain = analysis
        .determined()
        .find(|c| c.source.service.as_deref() == Some("jp-regional-bank-a"))
        .expect("the docomo chain through bank A");
    let svg = chain_svg(chain);
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let boxes = doc.descendants().filter(|n| n.has_tag_name("rect")).count();
    // registration, account_linking and its two hops, charge.
    assert_eq!(boxes, 5, "{svg}");
    insta::assert_snapshot!("svg_docomo_bank_a", svg);
}

#[test]
fn diagrams_send_input_problems_to_stderr() {
    let (code, stdout, stderr) = paths(Path::new("tests/fixtures/tree/one-broken"), "dot");
    // Invalid input exits 2, as for `validate` and `check`.
    assert_eq!(code, 2, "{stderr}");
    assert!(stdout.starts_with("digraph "), "{stdout}");
    assert!(stdout.ends_with("}\n"), "{stdout}");
    assert!(stderr.contains("error[yaml-syntax]"), "{stderr}");
    assert!(stderr.contains("failed: tests/fixtures/tree/one-broken/broken.yaml"));
}

/// Flow ids may hold any visible character; these are written to close a DOT string, a
/// Mermaid label or fence, an XML element, and to start a script. The bank's file name holds
/// an escape sequence, a right-to-left override, a newline and markup.
const REGISTRATION: &str = "reg\"<script>alert(1)</script>]]-->`#;%%:style x:y#1;";
const LINK: &str = "link|x[]{}()\"-->`";
const BANK_LINK: &str = "bank\"link<b>&amp;'\u{b6}\u{fb02}\u{b0}\\";
const CHARGE: &str = "charge-through-a-flow-id-far-longer-than-any-box-can-hold";

fn hostile_tree(dir: &Path) -> PathBuf {
    let yaml = |s: &str| serde_json::to_string(s).unwrap();
    let sources = "  sources:\n    - title: t\n      publisher: p\n      access: internal\n";
    let wallet = format!(
        r#"version: 2
service:
  id: evil-wallet
  name: "Evil \e[2J\u202e<script>alert(1)</script>"
  kind: fund_transfer_operator
  jurisdiction: JP
  as_of: "2020-09-01"
{sources}contacts:
  email:
    kind: email
    registered_by: account_opener
flows:
  {reg}:
    kind: registration
    identity_proofing:
      level: email_only
    steps:
      - verify: [email_address]
      - verify: [email_otp]
        delivered_to: contact_supplied_in_flow
  {link}:
    kind: account_linking
    steps:
      - verify: [account_number]
    delegates_to:
      - service: evil-bank
        flow: {bank_link}
    name_matching: none
    cooling_off: none
  {charge}:
    kind: charge
    steps:
      - verify: [password]
"#,
        reg = yaml(REGISTRATION),
        link = yaml(LINK),
        bank_link = yaml(BANK_LINK),
        charge = yaml(CHARGE),
    );
    let bank = format!(
        r#"version: 2
service:
  id: evil-bank
  name: "Bank \e]0;pwned\a <img src=x onerror=alert(1)>"
  kind: bank
  jurisdiction: JP
  as_of: "2020-09-01"
{sources}flows:
  {bank_link}:
    kind: account_linking
    steps:
      - verify: [holder_name, account_number, date_of_birth, cash_card_pin]
    initiated_by: [evil-wallet]
    limits:
      attempts:
        scope: account
        max: 3
        lockout: permanent
    name_matching: none
"#,
        bank_link = yaml(BANK_LINK),
    );
    let tree = dir.join("tree");
    std::fs::create_dir(&tree).unwrap();
    std::fs::write(tree.join("wallet.yaml"), wallet).unwrap();
    std::fs::write(tree.join("b\u{1b}[31m\u{202e}ank\n\"<script>.yaml"), bank).unwrap();
    tree
}

/// Quotes not preceded by an odd run of backslashes: the ones that open or close a string.
fn unescaped_quotes(line: &str) -> usize {
    let mut quotes = 0;
    let mut backslashes = 0;
    for c in line.chars() {
        if c == '"' && backslashes % 2 == 0 {
            quotes += 1;
        }
        backslashes = if c == '\\' { backslashes + 1 } else { 0 };
    }
    quotes
}

/// The first DOT quoted string of a statement line, unescaped as Graphviz reads it.
fn first_dot_string(line: &str) -> String {
    let mut out = String::new();
    let mut chars = line.trim_start().strip_prefix('"').unwrap().chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return out,
            '\\' => match chars.next() {
                Some('"') => out.push('"'),
                Some('\\') => out.push('\\'),
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => panic!("unterminated string in {line}"),
            },
            c => out.push(c),
        }
    }
    panic!("unterminated string in {line}")
}

fn no_raw_controls(text: &str) -> bool {
    !text
        .chars()
        .any(|c| (c.is_control() && c != '\n') || matches!(c, '\u{202a}'..='\u{202e}'))
}

#[test]
fn hostile_flow_ids_and_file_names_stay_inside_every_diagram() {
    let dir = tempfile::tempdir().unwrap();
    let tree = hostile_tree(dir.path());

    let (code, human, stderr) = paths(&tree, "human");
    assert_eq!(code, 1, "the weak bank gives a chain\n{human}\n{stderr}");
    assert!(human.contains("evil-bank"), "{human}");
    assert!(
        !human.contains('\u{1b}') && !human.contains('\u{202e}'),
        "{human:?}"
    );
    assert!(human.contains("\\u{1b}"), "{human}");

    let (_, dot, stderr) = paths(&tree, "dot");
    assert_eq!(stderr, "");
    assert!(no_raw_controls(&dot), "{dot:?}");
    let mut nodes = Vec::new();
    for line in dot.lines() {
        if line == "}" || line.starts_with("digraph ") || line.starts_with("  graph [") {
            continue;
        }
        if line.starts_with("  node [") || line.starts_with("  edge [") {
            continue;
        }
        assert!(
            line.starts_with("  \""),
            "a statement broke its line: {line}"
        );
        assert!(line.ends_with("];"), "{line}");
        assert_eq!(unescaped_quotes(line) % 2, 0, "{line}");
        if !line.contains(" -> ") {
            nodes.push(first_dot_string(line));
        }
    }
    for flow in [REGISTRATION, LINK, CHARGE] {
        assert!(nodes.contains(&format!("evil-wallet/{flow}")), "{nodes:?}");
    }
    assert!(
        nodes.contains(&format!("evil-bank/{BANK_LINK}")),
        "{nodes:?}"
    );
    assert!(dot.ends_with("}\n"));

    let (_, mermaid, stderr) = paths(&tree, "mermaid");
    assert_eq!(stderr, "");
    check_mermaid(&mermaid);

    let analysis = analyse(&tree);
    assert!(analysis.determined().count() >= 1);
    for chain in &analysis.chains {
        check_svg(&chain_svg(chain));
    }
    let linked = analysis
        .determined()
        .find(|c| c.source.service.as_deref() == Some("evil-bank"))
        .expect("a chain through the weak bank");
    let svg = chain_svg(linked);
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let titles: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("title"))
        .filter_map(|n| n.text())
        .collect();
    // The full ids live in the titles, the escape sequence of the file name shown, not obeyed.
    assert!(
        titles.iter().any(|t| t.contains(REGISTRATION)),
        "{titles:?}"
    );
    assert!(titles.iter().any(|t| t.contains(CHARGE)), "{titles:?}");
    assert!(
        titles.iter().any(|t| t.contains(BANK_LINK)
            && t.contains("b\\u{1b}[31m\\u{202e}ank\\u{a}\"<script>.yaml")),
        "{titles:?}"
    );
    let labels: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text())
        .collect();
    assert!(
        labels.contains(&"charge-through-a-flow-id-fa…"),
        "{labels:?}"
    );
}

/// Mermaid's entity codes read back, to compare labels with the ids they show.
fn decode_mermaid(label: &str) -> String {
    let mut out = String::new();
    let mut rest = label;
    while let Some(at) = rest.find('#') {
        out.push_str(&rest[..at]);
        let end = rest[at..]
            .find(';')
            .map(|e| at + e)
            .expect("an entity ends");
        let code = &rest[at + 1..end];
        out.push(match code {
            "quot" => '"',
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            number => char::from_u32(number.parse().unwrap()).unwrap(),
        });
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

fn check_mermaid(text: &str) {
    assert!(no_raw_controls(text), "{text:?}");
    let opened = text.lines().filter(|l| *l == "```mermaid").count();
    let closed = text.lines().filter(|l| *l == "```").count();
    assert!(opened > 0 && opened == closed, "{text}");
    let mut labels = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        match line {
            "```mermaid" => inside = true,
            "```" => inside = false,
            _ if !inside => assert!(!line.contains('`') || line.contains("\\`"), "{line}"),
            "flowchart LR" => {}
            _ if line.starts_with("  classDef ") || line.starts_with("  class ") => {}
            _ if line.contains(" --> ") || line.contains(" -.-> ") => {
                let parts: Vec<&str> = line.split_whitespace().collect();
                assert_eq!(parts.len(), 3, "{line}");
                assert!(
                    parts[0].starts_with('n') && parts[2].starts_with('n'),
                    "{line}"
                );
            }
            _ => {
                let (id, shape) = line
                    .trim_start()
                    .split_at(line.trim_start().find('[').unwrap_or(0));
                let id = id.trim_end_matches('(');
                assert!(
                    id.starts_with('n') && id[1..].bytes().all(|b| b.is_ascii_digit()),
                    "{line}"
                );
                let inner = shape
                    .trim_end_matches(')')
                    .strip_prefix("[\"")
                    .and_then(|s| s.strip_suffix("\"]"))
                    .unwrap_or_else(|| panic!("not a quoted label: {line}"));
                let plain = inner.replace("<br/>", "");
                for bad in ['"', '<', '>', '[', ']', '`', '|'] {
                    assert!(!plain.contains(bad), "{bad} in {line}");
                }
                labels.push(decode_mermaid(inner));
            }
        }
    }
    for flow in [REGISTRATION, LINK, CHARGE] {
        assert!(
            labels.contains(&format!("evil-wallet<br/>{flow}")),
            "{labels:?}"
        );
    }
    assert!(
        labels.contains(&format!("evil-bank<br/>{BANK_LINK}")),
        "{labels:?}"
    );
}

fn check_svg(svg: &str) {
    assert!(no_raw_controls(svg), "{svg:?}");
    assert!(!svg.to_ascii_lowercase().contains("<script"), "{svg}");
    let doc = roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("{e}\n{svg}"));
    for node in doc.descendants().filter(|n| n.is_element()) {
        let name = node.tag_name().name();
        assert!(
            !matches!(
                name,
                "script" | "style" | "foreignObject" | "image" | "use" | "a"
            ),
            "{name}"
        );
        for attribute in node.attributes() {
            let a = attribute.name();
            assert!(a != "style" && a != "href" && !a.starts_with("on"), "{a}");
            assert!(!attribute.value().contains("url("), "{a}");
        }
    }
    for text in doc.descendants().filter_map(|n| n.text()) {
        if !text.trim().is_empty() {
            assert!(!text.contains('\n'), "{text:?}");
        }
    }
}

#[test]
fn every_format_is_byte_identical_across_runs() {
    let dir = tempfile::tempdir().unwrap();
    let hostile = hostile_tree(dir.path());
    for tree in [root().join("policies"), hostile.clone()] {
        for format in FORMATS {
            let first = paths(&tree, format);
            let second = paths(&tree, format);
            assert_eq!(first, second, "{format} on {}", tree.display());
        }
    }
    for tree in [root().join("policies"), hostile] {
        let first: Vec<String> = analyse(&tree).chains.iter().map(chain_svg).collect();
        let second: Vec<String> = analyse(&tree).chains.iter().map(chain_svg).collect();
        assert!(!first.is_empty());
        assert_eq!(first, second);
    }
}
