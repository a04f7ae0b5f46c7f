//! The Markdown and HTML audit reports: snapshots of the docomo koza reconstruction in both
//! languages, byte-identical renders, hostile strings from policy files kept as text, an HTML
//! file that loads nothing, language catalogues that cover every text the templates use, and
//! templates overridden from a folder (`--templates DIR`).

use authaudit::evaluate::{Evaluation, PackSelection, evaluate_at};
use authaudit::factors::Catalogue;
use authaudit::load::{Loader, PolicyTree};
use authaudit::report::audit::{self, AuditReport, ReportOptions};
use authaudit::report::check::{CheckOutcome, Lang};
use authaudit::report::document::{LANGS, Templates, render_html, render_markdown};
use authaudit::rules::{RuleSet, Severity};
use authaudit::source::SizeBudget;
use std::collections::BTreeSet;
use std::path::PathBuf;

/// The day audited, fixed so snapshots do not move with the calendar.
const DAY: (i32, u32, u32) = (2026, 11, 28);
const DOCOMO: &str = "policies/incidents/docomo-koza-2020";
const HOSTILE_NAME: &str = "<img src=x onerror=alert(1)>";
const HOSTILE_DESCRIPTION: &str =
    "<script>alert(2)</script> & **bold** [link](javascript:alert(3))";
const CSP: &str = r#"<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">"#;
const VERIFICATION_TAG: &str = r#"<script type="application/json" id="authaudit-verification">"#;

fn loader() -> Loader {
    Loader::new(Catalogue::bundled(), SizeBudget::default())
}

fn bundled() -> RuleSet {
    let set = RuleSet::bundled();
    assert!(set.diagnostics.is_empty(), "{:#?}", set.diagnostics);
    set
}

/// Builds the report of `tree` as `authaudit report` would, through the library.
pub(crate) fn report(set: &RuleSet, tree: &PolicyTree, lang: Lang) -> AuditReport {
    let evaluation: Evaluation = evaluate_at(
        tree,
        set,
        &PackSelection::ByJurisdiction,
        &Catalogue::bundled(),
        Some(DAY),
    );
    let outcome = CheckOutcome {
        tree,
        evaluation: &evaluation,
        packs_run: PackSelection::ByJurisdiction.packs_run(set, tree),
        fail_on: Severity::High,
        lang,
        gate: &authaudit::gate::NONE,
    };
    audit::build(
        &outcome,
        set,
        &ReportOptions {
            organisation: Some("Example Bank".into()),
            date: "2026-11-28".into(),
        },
    )
}

fn docomo(set: &RuleSet, lang: Lang) -> AuditReport {
    report(set, &loader().load_paths(&[PathBuf::from(DOCOMO)]), lang)
}

/// The docomo koza wallet's policy with a hostile service name and flow description.
fn hostile_tree() -> PolicyTree {
    let path = format!("{DOCOMO}/docomo-koza.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("  name: ドコモ口座\n"));
    let text = text.replacen(
        "  name: ドコモ口座\n",
        &format!("  name: '{HOSTILE_NAME}'\n"),
        1,
    );
    let description = "      The wallet holder attaches a bank account";
    assert!(text.contains(description));
    let text = text.replacen(
        description,
        &format!("      {HOSTILE_DESCRIPTION} The wallet holder attaches a bank account"),
        1,
    );
    // With the rest of the reconstruction, which it delegates to.
    let mut texts = vec![("hostile/docomo-koza.yaml".to_owned(), text)];
    for entry in std::fs::read_dir(DOCOMO).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name != "docomo-koza.yaml" {
            texts.push((
                format!("hostile/{name}"),
                std::fs::read_to_string(&path).unwrap(),
            ));
        }
    }
    texts.sort();
    let tree = loader().load_texts(&texts);
    for file in &tree.files {
        assert!(file.is_valid(), "{:#?}", file.diagnostics);
    }
    tree
}

#[test]
fn docomo_koza_markdown_en() {
    let set = bundled();
    let md = render_markdown(&docomo(&set, Lang::En), &Templates::bundled()).unwrap();
    insta::assert_snapshot!("docomo_koza_md_en", md);
}

#[test]
fn docomo_koza_markdown_ja() {
    let set = bundled();
    let md = render_markdown(&docomo(&set, Lang::Ja), &Templates::bundled()).unwrap();
    assert!(md.starts_with("# 認証フロー監査報告書\n"), "{}", &md[..200]);
    insta::assert_snapshot!("docomo_koza_md_ja", md);
}

#[test]
fn docomo_koza_html_en() {
    let set = bundled();
    let html = render_html(&docomo(&set, Lang::En), &Templates::bundled()).unwrap();
    insta::assert_snapshot!("docomo_koza_html_en", html);
}

#[test]
fn the_html_report_is_in_the_chosen_language() {
    let set = bundled();
    let html = render_html(&docomo(&set, Lang::Ja), &Templates::bundled()).unwrap();
    assert!(html.contains(r#"<html lang="ja">"#));
    assert!(html.contains("<h1 class=\"cover-title\">認証フロー監査報告書</h1>"));
    // Rule texts come from the model, already in the chosen language.
    assert!(html.contains("本人確認（eKYC等）を経ていないアカウントに銀行口座を連携できる"));
}

#[test]
fn two_renders_are_byte_identical() {
    for lang in [Lang::En, Lang::Ja] {
        let first = docomo(&bundled(), lang);
        let second = docomo(&bundled(), lang);
        let templates = Templates::bundled();
        assert_eq!(
            render_markdown(&first, &templates).unwrap(),
            render_markdown(&second, &templates).unwrap()
        );
        assert_eq!(
            render_html(&first, &templates).unwrap(),
            render_html(&second, &templates).unwrap()
        );
    }
}

#[test]
fn hostile_strings_from_policies_stay_text() {
    let set = bundled();
    let report = report(&set, &hostile_tree(), Lang::En);
    let templates = Templates::bundled();

    let html = render_html(&report, &templates).unwrap();
    for raw in [
        "<img",
        "onerror=alert",
        "<script>alert",
        "href=\"javascript",
        "<strong>bold",
    ] {
        assert!(!html.contains(raw), "`{raw}` reached the HTML unescaped");
    }
    let escaped_name = "&lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;";
    assert!(html.contains(escaped_name), "the name is not shown as text");
    assert!(html.contains("&lt;script&gt;alert(2)&lt;/script&gt; &amp; **bold**"));
    // In the title, the scope, the pass rates, the matrices and the findings.
    assert!(html.matches(escaped_name).count() >= 5);

    let md = render_markdown(&report, &templates).unwrap();
    for raw in ["<img", "<script", "[link]"] {
        let unescaped = md
            .match_indices(raw)
            .any(|(at, _)| !md[..at].ends_with('\\'));
        assert!(!unescaped, "`{raw}` reached the Markdown unescaped");
    }
    assert!(md.contains(r"\<img src=x onerror=alert(1)\>"));
    assert!(
        md.contains(r"\<script\>alert(2)\</script\> & \*\*bold\*\* \[link\](javascript:alert(3))")
    );
    // The Markdown, rendered as GitHub would, still shows the text and no element.
    let rendered = pulldown_render(&md);
    assert!(!rendered.contains("<img") && !rendered.contains("<script"));
    assert!(rendered.contains("&lt;img src=x onerror=alert(1)&gt;"));
}

/// Markdown to HTML with GitHub's extensions, raw HTML included (GitHub keeps `<br>`).
fn pulldown_render(markdown: &str) -> String {
    let options =
        pulldown_cmark::Options::ENABLE_TABLES | pulldown_cmark::Options::ENABLE_STRIKETHROUGH;
    let mut html = String::new();
    pulldown_cmark::html::push_html(
        &mut html,
        pulldown_cmark::Parser::new_ext(markdown, options),
    );
    html
}

#[test]
fn the_html_report_loads_nothing() {
    let set = bundled();
    let all = report(
        &set,
        &loader().load_paths(&[PathBuf::from("policies")]),
        Lang::En,
    );
    let html = render_html(&all, &Templates::bundled()).unwrap();
    assert!(html.contains(CSP), "no Content-Security-Policy");
    for tag in [
        "<link", "<img", "<iframe", "<object", "<embed", "<video", "<audio", "<base", "@import",
        "url(", "src=",
    ] {
        assert!(!html.contains(tag), "the HTML report contains `{tag}`");
    }
    // The one script element is the verification data, which the policy does not run.
    assert_eq!(html.matches("<script").count(), 1);
    assert_eq!(html.matches(VERIFICATION_TAG).count(), 1);
    let data_start = html.find(VERIFICATION_TAG).unwrap() + VERIFICATION_TAG.len();
    let data_end = data_start + html[data_start..].find("</script>").unwrap();
    let data: serde_json::Value = serde_json::from_str(&html[data_start..data_end]).unwrap();
    assert_eq!(data["combined"], all.digests.combined.as_str());
    // Every web address is a link a reader may follow (a cited source), never a resource.
    let mut rest = html.as_str();
    while let Some(at) = rest.find("http") {
        let before = &rest[..at];
        let is_href = before.ends_with("<a class=\"url\" href=\"");
        let in_text = before.ends_with('>') || before.ends_with(' ') || before.ends_with('(');
        assert!(
            is_href || in_text,
            "web address outside a citation link or text: …{}",
            &rest[at.saturating_sub(60)..(at + 40).min(rest.len())]
        );
        rest = &rest[at + 4..];
    }
    assert!(html.contains("<a class=\"url\" href=\"https://"));
    // Print: each major section on a new page, headers repeated, no row cut across pages.
    for rule in [
        "section.major { break-before: page; }",
        "thead { display: table-header-group; }",
        "tr { break-inside: avoid; }",
    ] {
        assert!(html.contains(rule), "no print rule `{rule}`");
    }
}

#[test]
fn a_report_over_broken_input_says_so_on_the_cover() {
    let set = bundled();
    let valid = std::fs::read_to_string(format!("{DOCOMO}/jp-regional-bank-a.yaml")).unwrap();
    let tree = loader().load_texts(&[
        ("in/bank-a.yaml".to_owned(), valid),
        (
            "in/broken.yaml".to_owned(),
            "version: 2\nservice: [\n".to_owned(),
        ),
    ]);
    let report = report(&set, &tree, Lang::En);
    assert!(!report.cover.inputs_valid);
    let templates = Templates::bundled();
    let html = render_html(&report, &templates).unwrap();
    let cover = &html[..html.find("id=\"scope\"").unwrap()];
    assert!(cover.contains("status-warn"), "no warning on the cover");
    assert!(cover.contains("Warning: this report does not cover every input."));
    assert!(!cover.contains("All inputs valid."));
    assert!(html.contains("<code>in/broken.yaml:"));
    let md = render_markdown(&report, &templates).unwrap();
    let cover = &md[..md.find("## 1.").unwrap()];
    assert!(cover.contains("> [!WARNING]\n> **Warning: this report does not cover every input.**"));
    assert!(md.contains("`in/broken.yaml`:"));
}

#[test]
fn catalogues_have_the_same_keys() {
    let templates = Templates::bundled();
    let en: BTreeSet<String> = templates.catalogue("en").unwrap().into_keys().collect();
    for lang in LANGS {
        let other: BTreeSet<String> = templates.catalogue(lang).unwrap().into_keys().collect();
        let missing: Vec<_> = en.difference(&other).collect();
        let extra: Vec<_> = other.difference(&en).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "templates/i18n/{lang}.yaml lacks {missing:?} and has {extra:?} that en.yaml lacks"
        );
    }
}

#[test]
fn templates_use_only_catalogued_texts_and_every_text_is_used() {
    let templates = Templates::bundled();
    templates.check().unwrap();
    let used = templates.keys_used();
    for lang in LANGS {
        let texts = templates.catalogue(lang).unwrap();
        let missing: Vec<_> = used
            .iter()
            .filter(|(key, _)| !texts.contains_key(*key))
            .collect();
        assert!(missing.is_empty(), "i18n/{lang}.yaml lacks {missing:?}");
        let unused: Vec<_> = texts.keys().filter(|k| !used.contains_key(*k)).collect();
        assert!(
            unused.is_empty(),
            "i18n/{lang}.yaml has texts no template uses: {unused:?}"
        );
    }
}

#[test]
fn a_template_with_an_unknown_key_is_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("report.md.hbs"),
        "{{t \"cover.no_such_text\"}}\n",
    )
    .unwrap();
    let error = Templates::from_dir(dir.path()).unwrap_err();
    assert!(error.contains("cover.no_such_text"), "{error}");
    assert!(error.contains("report.md.hbs"), "{error}");
    assert!(error.contains("i18n/en.yaml"), "{error}");
}

#[test]
fn a_broken_template_is_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("partials")).unwrap();
    std::fs::write(
        dir.path().join("partials/html-finding.hbs"),
        "{{#each findings}}\n",
    )
    .unwrap();
    let error = Templates::from_dir(dir.path()).unwrap_err();
    assert!(error.contains("partials/html-finding.hbs"), "{error}");
    std::fs::remove_file(dir.path().join("partials/html-finding.hbs")).unwrap();
    std::fs::write(
        dir.path().join("report.css"),
        "p { }</style><script>alert(1)</script>",
    )
    .unwrap();
    let error = Templates::from_dir(dir.path()).unwrap_err();
    assert!(
        error.contains("report.css") && error.contains("</style"),
        "{error}"
    );
    let error = Templates::from_dir(&dir.path().join("absent")).unwrap_err();
    assert!(error.contains("absent"), "{error}");
}

#[test]
fn templates_from_a_folder_override_the_bundled_ones() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("report.md.hbs"),
        "# {{t \"doc.title\"}}: {{cover.organisation}}\n\n\
         {{#each findings_by_service}}- {{name}}: {{#each flows}}{{flow}} {{/each}}\n{{/each}}\
         {{t \"brand.footer\"}}\n",
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("i18n")).unwrap();
    // A catalogue in the folder overrides texts key by key and may add its own.
    for lang in LANGS {
        std::fs::write(
            dir.path().join(format!("i18n/{lang}.yaml")),
            "doc:\n  title: Example Bank audit\nbrand:\n  footer: Internal use only\n",
        )
        .unwrap();
    }
    let templates = Templates::from_dir(dir.path()).unwrap();
    let set = bundled();
    let report = docomo(&set, Lang::En);
    let md = render_markdown(&report, &templates).unwrap();
    assert!(
        md.starts_with(
            "# Example Bank audit: Example Bank\n\n- ドコモ口座: account_linking charge \n"
        ),
        "{md}"
    );
    assert!(md.ends_with("Internal use only\n"), "{md}");
    // The files the folder does not have are the bundled ones.
    let html = render_html(&report, &templates).unwrap();
    assert!(html.contains("<h1 class=\"cover-title\">Example Bank audit</h1>"));
    assert_eq!(
        html.replace("Example Bank audit", "Authentication Flow Audit Report"),
        render_html(&report, &Templates::bundled()).unwrap()
    );
}

#[test]
fn strict_mode_refuses_a_field_the_report_does_not_have() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("report.md.hbs"),
        "{{cover.no_such_field}}\n",
    )
    .unwrap();
    let templates = Templates::from_dir(dir.path()).unwrap();
    let set = bundled();
    let error = render_markdown(&docomo(&set, Lang::En), &templates).unwrap_err();
    assert!(
        error.contains("report.md.hbs") && error.contains("no_such_field"),
        "{error}"
    );
}
