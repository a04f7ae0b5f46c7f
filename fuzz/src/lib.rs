//! What each fuzz target runs, through authaudit's real entry points, from raw bytes to every
//! output format. The targets in `fuzz_targets/` are one call each; `tests/fuzz_regressions.rs`
//! includes this file, so a reproducer replays exactly the path that found it.
//!
//! A panic anywhere is a finding, and so is a broken promise the types cannot keep: text for a
//! terminal (colour off) carrying a raw control, bidi or zero-width character, or a JSON output
//! that does not parse. Several files are given in one input by separating them with a NUL
//! byte, which no policy, pack or profile can hold (the reader refuses it as binary).
//!
//! Everything the targets need is embedded with `include_str!`, so they run from any folder.

use authaudit::attackers::{AttackerProfile, AttackerSet, ProfileText};
use authaudit::diagnostic::Diagnostic;
use authaudit::evaluate::{Evaluation, PackSelection, evaluate_at};
use authaudit::factors::Catalogue;
use authaudit::load::{Loader, PolicyTree};
use authaudit::model::Day;
use authaudit::paths::{Analysis, Input, Limits, analyse};
use authaudit::report::attack_paths::AttackPathsView;
use authaudit::report::audit::{self, ReportOptions};
use authaudit::report::check::{self, CheckOutcome, Lang};
use authaudit::report::document::{Templates, render_html, render_markdown};
use authaudit::report::paths::{PathsFormat, svg};
use authaudit::report::snippet::{Style, write_diagnostic};
use authaudit::report::{codequality, github, human, json, junit, rules as rules_report, sarif};
use authaudit::rules::{PackText, RulePack, RuleSet, Severity, harness};
use authaudit::source::{self, SizeBudget};

/// The day audited: fixed, so a reproducer means the same thing on any day.
pub const DAY: Day = (2026, 11, 28);

/// The separator of the files within one input.
pub const SEPARATOR: u8 = 0;

/// The docomo koza reconstruction: a wallet delegating to five banks (`check_and_render`
/// adds the fuzzed policy beside it, so links to and from it are followed).
pub const DOCOMO: [(&str, &str); 6] = [
    (
        "policies/incidents/docomo-koza-2020/docomo-koza.yaml",
        include_str!("../../policies/incidents/docomo-koza-2020/docomo-koza.yaml"),
    ),
    (
        "policies/incidents/docomo-koza-2020/jp-chigin-web-kofuri.yaml",
        include_str!("../../policies/incidents/docomo-koza-2020/jp-chigin-web-kofuri.yaml"),
    ),
    (
        "policies/incidents/docomo-koza-2020/jp-regional-bank-a.yaml",
        include_str!("../../policies/incidents/docomo-koza-2020/jp-regional-bank-a.yaml"),
    ),
    (
        "policies/incidents/docomo-koza-2020/jp-regional-bank-b.yaml",
        include_str!("../../policies/incidents/docomo-koza-2020/jp-regional-bank-b.yaml"),
    ),
    (
        "policies/incidents/docomo-koza-2020/jp-regional-bank-c.yaml",
        include_str!("../../policies/incidents/docomo-koza-2020/jp-regional-bank-c.yaml"),
    ),
    (
        "policies/incidents/docomo-koza-2020/jp-regional-bank-d.yaml",
        include_str!("../../policies/incidents/docomo-koza-2020/jp-regional-bank-d.yaml"),
    ),
];

/// The other incident reconstructions; with docomo, the tree a fuzzed attacker profile is
/// run over.
pub const OTHER_INCIDENTS: [(&str, &str); 2] = [
    (
        "policies/incidents/7pay-2019/7pay.yaml",
        include_str!("../../policies/incidents/7pay-2019/7pay.yaml"),
    ),
    (
        "policies/incidents/paypay-2018/paypay.yaml",
        include_str!("../../policies/incidents/paypay-2018/paypay.yaml"),
    ),
];

/// The small fixed tree a fuzzed rule pack is evaluated on: a wallet and the bank it links
/// to (neither is valid alone).
pub const REFERENCE_PAIR: [(&str, &str); 2] = [
    (
        "policies/reference/ref-bank.yaml",
        include_str!("../../policies/reference/ref-bank.yaml"),
    ),
    (
        "policies/reference/ref-wallet.yaml",
        include_str!("../../policies/reference/ref-wallet.yaml"),
    ),
];

/// What one run saw, for the regression tests to assert on.
#[derive(Debug, Default)]
pub struct Seen {
    /// Every diagnostic the input drew: refused bytes, validation, refused packs or profiles,
    /// rules that failed to evaluate.
    pub diagnostics: Vec<Diagnostic>,
    /// Policies (or the pack, or the profile) that loaded without errors.
    pub loaded: usize,
    /// Findings of the evaluation (0 when nothing was evaluated).
    pub findings: usize,
    /// Attack chains found (0 when no analysis ran).
    pub chains: usize,
}

impl Seen {
    /// The codes of the diagnostics, in order, to compare with what a reproducer must draw.
    pub fn codes(&self) -> Vec<String> {
        self.diagnostics.iter().map(|d| d.code.as_str()).collect()
    }
}

/// Whether the terminal would act on `c` or hide it: what `report::snippet::visible` escapes.
fn unsafe_for_terminal(c: char) -> bool {
    (c.is_control() && c != '\n')
        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}')
}

/// Panics when text meant for a terminal (colour off) holds a character that must be escaped.
pub fn assert_terminal_safe(what: &str, text: &str) {
    if let Some((at, c)) = text.char_indices().find(|(_, c)| unsafe_for_terminal(*c)) {
        let start = text[..at]
            .char_indices()
            .rev()
            .nth(40)
            .map_or(0, |(i, _)| i);
        panic!(
            "{what}: raw U+{:04X} at byte {at} reaches the terminal, after {:?}",
            u32::from(c),
            &text[start..at]
        );
    }
}

/// Panics when a machine output does not parse as JSON.
pub fn assert_json(what: &str, text: &str) {
    if let Err(error) = serde_json::from_str::<serde_json::Value>(text) {
        panic!("{what} is not JSON: {error}");
    }
}

/// The catalogue, schema and bundled packs, built once per process: rebuilding them for every
/// input would spend the fuzzer's time on fixed work.
struct Fixed {
    catalogue: Catalogue,
    loader: Loader,
    bundled: RuleSet,
    templates: Templates,
}

thread_local! {
    static FIXED: &'static Fixed = Box::leak(Box::new(Fixed {
        catalogue: Catalogue::bundled(),
        loader: Loader::new(Catalogue::bundled(), SizeBudget::default()),
        bundled: RuleSet::bundled(),
        templates: Templates::bundled(),
    }));
}

fn fixed() -> &'static Fixed {
    FIXED.with(|f| *f)
}

fn owned(texts: &[(&str, &str)]) -> Vec<(String, String)> {
    texts
        .iter()
        .map(|(name, text)| ((*name).to_owned(), (*text).to_owned()))
        .collect()
}

/// Decodes one file's bytes as the reader does (byte-order mark, binary content, invalid
/// UTF-8, budgets); a refusal is recorded in `seen`.
fn decode(shown: &str, bytes: &[u8], seen: &mut Seen) -> Option<String> {
    match source::decode(shown, bytes.to_vec(), SizeBudget::default()) {
        Ok(text) => Some(text),
        Err(diagnostic) => {
            seen.diagnostics.push(diagnostic);
            None
        }
    }
}

/// Renders diagnostics as the CLI does on a terminal, with snippets from `text`.
fn render_diagnostics<'a>(
    what: &str,
    diagnostics: &[Diagnostic],
    text: &dyn authaudit::report::snippet::Sources<'a>,
) {
    let mut out = String::new();
    for diagnostic in diagnostics {
        write_diagnostic(&mut out, diagnostic, text, Style { color: false });
    }
    assert_terminal_safe(what, &out);
}

/// Validation output in both formats, and what the tree drew into `seen`.
fn validate(tree: &PolicyTree, seen: &mut Seen) {
    assert_terminal_safe("validate (human)", &human::render_validation(tree, false));
    assert_json("validate --format json", &json::render_validation(tree));
    for file in &tree.files {
        seen.diagnostics.extend(file.diagnostics.iter().cloned());
    }
    seen.diagnostics.extend(tree.discovery.iter().cloned());
    seen.loaded += tree.policies().count();
}

/// `policy_loader`: the bytes as one policy file, or, split at NUL bytes, as two or three
/// files loaded together (so the checks across files run on fuzzed ids and links).
pub fn policy_loader(data: &[u8]) -> Seen {
    let mut seen = Seen::default();
    let fixed = fixed();
    if data.contains(&SEPARATOR) {
        // Whole, the input is one file with a NUL in it: the reader must refuse it as binary.
        if let Some(text) = decode("fuzz/whole.yaml", data, &mut seen) {
            panic!(
                "a file with a NUL byte was read as text ({} bytes)",
                text.len()
            );
        }
    }
    let mut texts = Vec::new();
    for (index, part) in data.splitn(3, |b| *b == SEPARATOR).enumerate() {
        let shown = format!("fuzz/policy{index}.yaml");
        if let Some(text) = decode(&shown, part, &mut seen) {
            texts.push((shown, text));
        }
    }
    let tree = fixed.loader.load_texts(&texts);
    validate(&tree, &mut seen);
    seen
}

/// What the renderers take for an evaluation of `tree` with `set`: failing on high findings,
/// with no waivers, as `check` builds it.
fn audit_outcome<'a>(
    tree: &'a PolicyTree,
    set: &RuleSet,
    selection: &PackSelection,
    evaluation: &'a Evaluation,
    lang: Lang,
) -> CheckOutcome<'a> {
    CheckOutcome {
        tree,
        evaluation,
        packs_run: selection.packs_run(set, tree),
        fail_on: Severity::High,
        lang,
        gate: &authaudit::gate::NONE,
    }
}

/// `rule_pack`: the bytes before the first NUL as `pack.yaml`, the rest as `rules.yaml`,
/// loaded as a user pack beside the bundled ones (so ids collide with theirs). A pack that
/// loads is listed, has its own examples run by the `rules test` harness, and is evaluated on
/// a fixed wallet and bank.
pub fn rule_pack(data: &[u8]) -> Seen {
    let mut seen = Seen::default();
    let fixed = fixed();
    let (manifest, rules) = match data.iter().position(|b| *b == SEPARATOR) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[][..]),
    };
    let manifest_shown = "fuzz-pack/pack.yaml";
    let rules_shown = "fuzz-pack/rules.yaml";
    let (Some(manifest), Some(rules)) = (
        decode(manifest_shown, manifest, &mut seen),
        decode(rules_shown, rules, &mut seen),
    ) else {
        return seen;
    };
    let mut set = fixed.bundled.filtered(&|_| true);
    set.add_pack(
        false,
        PackText {
            shown: manifest_shown.to_owned(),
            text: manifest,
        },
        PackText {
            shown: rules_shown.to_owned(),
            text: rules,
        },
    );
    if !set.diagnostics.is_empty() {
        render_diagnostics("refused pack", &set.diagnostics, &|name: &str| {
            set.text(name)
        });
        assert_json(
            "refused pack (json)",
            &json::render_refused_packs(&set.diagnostics),
        );
        seen.diagnostics.extend(set.diagnostics.iter().cloned());
        return seen;
    }
    let users = |p: &RulePack| !p.bundled;
    let Some(pack) = set.packs.iter().find(|p| users(p)) else {
        return seen;
    };
    seen.loaded = 1;
    assert_terminal_safe(
        "rules list --long",
        &rules_report::list(&set, &users, None, true),
    );
    assert_json(
        "rules list --format json",
        &rules_report::list_json(&set, &users, None),
    );
    for rule in &pack.rules {
        let explained = authaudit::rules::docs::rule_markdown(pack, rule, true);
        assert_terminal_safe(
            "rules explain",
            &authaudit::report::snippet::visible(&explained),
        );
    }
    let own = set.filtered(&users);
    let results = harness::run(&own, &fixed.loader);
    assert_terminal_safe("rules test", &rules_report::test_results(&results).0);

    let tree = fixed.loader.load_texts(&owned(&REFERENCE_PAIR));
    let selection = PackSelection::Named(vec![pack.manifest.id.clone()]);
    let evaluation = evaluate_at(&tree, &own, &selection, &fixed.catalogue, Some(DAY));
    let outcome = audit_outcome(&tree, &own, &selection, &evaluation, Lang::En);
    assert_terminal_safe(
        "check (pack on the reference pair)",
        &check::render(&outcome, false),
    );
    assert_json("check --format sarif", &sarif::render_sarif(&outcome, &own));
    seen.findings = evaluation.findings.len();
    seen.diagnostics.extend(evaluation.errors.iter().cloned());
    seen
}

/// The valid policies of `tree` as the attack-path analysis takes them.
fn inputs(tree: &PolicyTree) -> Vec<Input<'_>> {
    tree.policies()
        .map(|(file, policy)| Input {
            file: &file.shown,
            policy,
            tree: file.tree.as_ref(),
        })
        .collect()
}

/// Every `paths` format of an analysis, and each chain's SVG (the HTML report's).
fn render_paths(analysis: &Analysis, tree: &PolicyTree) {
    use authaudit::report::paths::render;
    assert_terminal_safe(
        "paths (human)",
        &render(analysis, tree, PathsFormat::Human, false),
    );
    assert_json(
        "paths --format json",
        &render(analysis, tree, PathsFormat::Json, false),
    );
    render(analysis, tree, PathsFormat::Dot, false);
    render(analysis, tree, PathsFormat::Mermaid, false);
    for chain in &analysis.chains {
        svg::chain_svg(chain);
    }
}

/// `attacker_profile`: the bytes before the first NUL as the file name (its stem must be the
/// profile's id), the rest as the profile, added to the bundled profiles as from
/// `--attackers`. A profile that loads is run over the incident reconstructions, fixes
/// included, and the analysis rendered in every `paths` format.
pub fn attacker_profile(data: &[u8]) -> Seen {
    let mut seen = Seen::default();
    let fixed = fixed();
    let (name, body) = match data.iter().position(|b| *b == SEPARATOR) {
        Some(at) => (String::from_utf8_lossy(&data[..at]), &data[at + 1..]),
        None => ("profile.yaml".into(), data),
    };
    let shown = format!("fuzz-attackers/{name}");
    let Some(text) = decode(&shown, body, &mut seen) else {
        return seen;
    };
    let mut set = AttackerSet::bundled(&fixed.catalogue);
    set.add_text(false, ProfileText { shown, text }, &fixed.catalogue);
    if !set.diagnostics().is_empty() {
        render_diagnostics("refused profile", set.diagnostics(), &|name: &str| {
            set.text(name)
        });
        seen.diagnostics.extend(set.diagnostics().iter().cloned());
        return seen;
    }
    let chosen: Vec<&AttackerProfile> = set
        .profiles()
        .iter()
        .filter(|p| set.origin(&p.id).is_some_and(|o| !o.bundled))
        .collect();
    if chosen.is_empty() {
        return seen;
    }
    seen.loaded = chosen.len();
    let mut texts = owned(&DOCOMO);
    texts.extend(owned(&OTHER_INCIDENTS));
    let tree = fixed.loader.load_texts(&texts);
    let analysis = analyse(&inputs(&tree), &fixed.catalogue, &chosen, Limits::default());
    render_paths(&analysis, &tree);
    let titles: Vec<(String, String)> = chosen
        .iter()
        .map(|p| (p.id.clone(), p.title.clone()))
        .collect();
    AttackPathsView::new(&analysis, &titles);
    seen.chains = analysis.chains.len();
    seen
}

/// The fuzzed policy beside the docomo reconstruction, loaded and evaluated with every
/// bundled pack on [`DAY`]: what `check` has before it renders anything.
pub struct Audit {
    pub tree: PolicyTree,
    pub evaluation: Evaluation,
    /// English for inputs of even length, Japanese for odd: both catalogues get fuzzed.
    pub lang: Lang,
    pub seen: Seen,
}

impl Audit {
    pub fn new(data: &[u8]) -> Self {
        let mut seen = Seen::default();
        let fixed = fixed();
        let shown = "fuzz/policy.yaml";
        let mut texts = Vec::new();
        if let Some(text) = decode(shown, data, &mut seen) {
            texts.push((shown.to_owned(), text));
        }
        texts.extend(owned(&DOCOMO));
        let tree = fixed.loader.load_texts(&texts);
        validate(&tree, &mut seen);
        let evaluation = evaluate_at(
            &tree,
            &fixed.bundled,
            &PackSelection::All,
            &fixed.catalogue,
            Some(DAY),
        );
        seen.findings = evaluation.findings.len();
        seen.diagnostics.extend(evaluation.errors.iter().cloned());
        let lang = if data.len().is_multiple_of(2) {
            Lang::En
        } else {
            Lang::Ja
        };
        Self {
            tree,
            evaluation,
            lang,
            seen,
        }
    }

    /// The outcome every renderer takes, failing on high findings, with no waivers.
    pub fn outcome(&self) -> CheckOutcome<'_> {
        audit_outcome(
            &self.tree,
            &fixed().bundled,
            &PackSelection::All,
            &self.evaluation,
            self.lang,
        )
    }
}

/// `check_and_render`: the bytes as a policy beside the docomo reconstruction ([`Audit`]),
/// then every output: validation, the terminal findings, JSON, SARIF, JUnit, code quality,
/// GitHub annotations and step summary, the Markdown or HTML report (one input in four), and
/// `paths` human and JSON under the bundled attacker profiles.
pub fn check_and_render(data: &[u8]) -> Seen {
    let fixed = fixed();
    let set = &fixed.bundled;
    let audit = Audit::new(data);
    let outcome = audit.outcome();
    assert_terminal_safe("check (human)", &check::render(&outcome, false));
    let report = audit::build(
        &outcome,
        set,
        &ReportOptions {
            organisation: Some("Fuzz Bank".to_owned()),
            date: "2026-11-28".to_owned(),
        },
    );
    assert_json(
        "check --format json",
        &json::render_report(&outcome, &report),
    );
    assert_json("check --format sarif", &sarif::render_sarif(&outcome, set));
    assert_json(
        "check --format codequality",
        &codequality::render_codequality(&outcome),
    );
    junit::render_junit(&outcome);
    github::annotations(&outcome);
    github::step_summary(&outcome);
    // Each render compiles every template, which takes over half the time of an instrumented
    // run whatever the input; so one input in four gets a document, by its length: Markdown
    // and HTML, each in English and in Japanese.
    let document = match data.len() % 16 {
        0 | 5 => Some(render_markdown(&report, &fixed.templates)),
        10 | 15 => Some(render_html(&report, &fixed.templates)),
        _ => None,
    };
    if let Some(Err(error)) = document {
        panic!("a bundled report template failed: {error}");
    }

    let profiles = AttackerSet::bundled(&fixed.catalogue);
    let chosen: Vec<&AttackerProfile> = profiles.profiles().iter().collect();
    let analysis = analyse(
        &inputs(&audit.tree),
        &fixed.catalogue,
        &chosen,
        Limits::default(),
    );
    render_paths(&analysis, &audit.tree);
    let mut seen = audit.seen;
    seen.chains = analysis.chains.len();
    seen
}
