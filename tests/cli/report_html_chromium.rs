//! The HTML report in a real browser: headless Chromium renders the report of `policies/` to a
//! PNG and prints it to PDF (page count in the expected range), and loads a report whose
//! policy names and descriptions carry markup and scripts to show that none of it became an
//! element or ran. Skipped, saying so, where Chromium is not installed (`.ci/run` installs it).
//! The files are kept in `target/tmp/report-chromium/` for a person to look at.

use authaudit::factors::Catalogue;
use authaudit::load::{Loader, PolicyTree};
use authaudit::report::check::Lang;
use authaudit::report::document::{Templates, render_html};
use authaudit::rules::RuleSet;
use authaudit::source::SizeBudget;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Pages of the PDF of `policies/` in English (12 services, 54 findings of about a page each,
/// 2,067 rule results in the appendix). Measured at 122 with Chromium 156 on A4, with and
/// without Japanese fonts installed; the range allows for other fonts and Chromium versions,
/// and catches a report that lost or duplicated a section or stopped breaking pages.
const PAGES: std::ops::RangeInclusive<usize> = 80..=180;
const HOSTILE_NAME: &str = "<img src=x onerror=alert(1)>";
const HOSTILE_SCRIPT: &str = "<script>document.title='PWNED'</script>";

/// Says so where the harness does not capture it (it captures `println!`).
fn skipped() {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "skipped: chromium not installed");
}

fn chromium() -> Option<PathBuf> {
    let standard = PathBuf::from("/usr/bin/chromium");
    if standard.is_file() {
        return Some(standard);
    }
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|dir| Path::new(dir).join("chromium"))
        .find(|candidate| candidate.is_file())
}

fn html_of(tree: &PolicyTree, lang: Lang) -> String {
    let report = crate::report_documents::report(&RuleSet::bundled(), tree, lang);
    render_html(&report, &Templates::bundled()).unwrap()
}

fn loader() -> Loader {
    Loader::new(Catalogue::bundled(), SizeBudget::default())
}

/// The docomo koza reconstruction with a hostile wallet name and flow description.
fn hostile_tree() -> PolicyTree {
    let folder = "policies/incidents/docomo-koza-2020";
    let mut texts = Vec::new();
    for entry in std::fs::read_dir(folder).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let mut text = std::fs::read_to_string(&path).unwrap();
        if name == "docomo-koza.yaml" {
            text = text
                .replacen(
                    "  name: ドコモ口座\n",
                    &format!("  name: '{HOSTILE_NAME}'\n"),
                    1,
                )
                .replacen(
                    "      The wallet holder attaches",
                    &format!("      {HOSTILE_SCRIPT} The wallet holder attaches"),
                    1,
                );
        }
        texts.push((format!("hostile/{name}"), text));
    }
    texts.sort();
    let tree = loader().load_texts(&texts);
    for file in &tree.files {
        assert!(file.is_valid(), "{:#?}", file.diagnostics);
    }
    tree
}

/// Runs Chromium headless on `page` with `args`, killing it after two minutes.
fn run_chromium(chromium: &Path, profile: &Path, args: &[String], page: &Path) -> String {
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium does not start");
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || std::io::read_to_string(stdout).unwrap_or_default());
    let started = Instant::now();
    loop {
        match child.try_wait().unwrap() {
            Some(status) => {
                assert!(status.success(), "chromium {args:?} failed: {status}");
                break;
            }
            None if started.elapsed() > Duration::from_secs(120) => {
                let _ = child.kill();
                panic!("chromium {args:?} did not finish in two minutes");
            }
            None => std::thread::sleep(Duration::from_millis(100)),
        }
    }
    reader.join().unwrap()
}

/// Page objects of a PDF (`/Type /Page`, not the `/Type /Pages` tree nodes).
fn pdf_pages(pdf: &[u8]) -> usize {
    let mut pages = 0;
    for pattern in [&b"/Type /Page"[..], &b"/Type/Page"[..]] {
        pages += pdf
            .windows(pattern.len() + 1)
            .filter(|w| w.starts_with(pattern) && !w[pattern.len()].is_ascii_alphanumeric())
            .count();
    }
    pages
}

/// Width and height from a PNG's header.
fn png_size(png: &[u8]) -> (u32, u32) {
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    let be = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().unwrap());
    (be(16), be(20))
}

#[test]
fn the_html_report_renders_and_prints_in_chromium() {
    let Some(chromium) = chromium() else {
        skipped();
        return;
    };
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-chromium");
    std::fs::create_dir_all(&out).unwrap();
    let profile = tempfile::tempdir().unwrap();
    let all = loader().load_paths(&[PathBuf::from("policies")]);

    for (lang, name) in [(Lang::En, "en"), (Lang::Ja, "ja")] {
        let page = out.join(format!("policies-{name}.html"));
        std::fs::write(&page, html_of(&all, lang)).unwrap();
        let png = out.join(format!("policies-{name}.png"));
        let _ = std::fs::remove_file(&png);
        run_chromium(
            &chromium,
            profile.path(),
            &[
                format!("--screenshot={}", png.display()),
                "--window-size=1280,2000".to_owned(),
            ],
            &page,
        );
        let bytes = std::fs::read(&png).expect("no screenshot");
        assert_eq!(png_size(&bytes), (1280, 2000));
        // A blank or unstyled page compresses to a few kilobytes.
        assert!(bytes.len() > 60_000, "screenshot of {} bytes", bytes.len());
    }

    let page = out.join("policies-en.html");
    let pdf = out.join("policies-en.pdf");
    let _ = std::fs::remove_file(&pdf);
    run_chromium(
        &chromium,
        profile.path(),
        &[
            format!("--print-to-pdf={}", pdf.display()),
            "--no-pdf-header-footer".to_owned(),
        ],
        &page,
    );
    let bytes = std::fs::read(&pdf).expect("no PDF");
    assert!(bytes.starts_with(b"%PDF-"));
    let pages = pdf_pages(&bytes);
    assert!(PAGES.contains(&pages), "{pages} pages, expected {PAGES:?}");
}

#[test]
fn hostile_policy_text_does_not_run_in_chromium() {
    let Some(chromium) = chromium() else {
        skipped();
        return;
    };
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-chromium");
    std::fs::create_dir_all(&out).unwrap();
    let profile = tempfile::tempdir().unwrap();
    let page = out.join("hostile-en.html");
    std::fs::write(&page, html_of(&hostile_tree(), Lang::En)).unwrap();
    let dom = run_chromium(&chromium, profile.path(), &["--dump-dom".to_owned()], &page);
    assert!(
        dom.contains("<title>Authentication Flow Audit Report · Example Bank · 2026-11-28</title>"),
        "{}",
        &dom[..dom.len().min(2000)]
    );
    assert!(!dom.contains("PWNED</title>"), "a script from a policy ran");
    // The name is text in every place it is shown, and no element came of it.
    assert!(dom.matches("&lt;img src=x onerror=alert(1)&gt;").count() >= 5);
    assert!(dom.contains("&lt;script&gt;document.title='PWNED'&lt;/script&gt;"));
    assert!(!dom.contains("<img"), "an element was injected");
    assert_eq!(
        dom.matches("<script").count(),
        1,
        "only the verification data"
    );
    assert!(dom.contains(r#"<script type="application/json" id="authaudit-verification">"#));
}
