//! The Markdown and HTML audit reports: [`AuditReport`] laid out with handlebars templates
//! from `templates/` (embedded; `--templates DIR` overrides any of them) and the fixed texts
//! of one language catalogue (`templates/i18n/<lang>.yaml`).
//!
//! Owns escaping: every string from a policy or rule file reaches the output through the
//! format's escape function (HTML entities, or Markdown backslash escapes); Markdown-valued
//! fields (rationale, remediation) go through pulldown-cmark and an ammonia allow-list before
//! they enter HTML, and have their raw HTML neutralised before they enter Markdown. Judges
//! nothing: every count and verdict comes from the report model.

use super::audit::{AuditReport, ResultInfo, VERIFICATION_ID};
use crate::rules::{Severity, Theme};
use handlebars::{
    Context, Handlebars, Helper, HelperResult, Output, RenderContext, RenderErrorReason,
    handlebars_helper,
};
use pulldown_cmark::{Event, Options, Parser};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The Markdown report's template.
pub const MARKDOWN: &str = "report.md.hbs";
/// The HTML report's template.
pub const HTML: &str = "report.html.hbs";
/// The HTML report's stylesheet, inlined in its `<style>` element.
pub const CSS: &str = "report.css";
/// Languages with a catalogue, `templates/i18n/<lang>.yaml`.
pub const LANGS: [&str; 2] = ["en", "ja"];

/// The bundled files, by their path under `templates/`.
const BUNDLED: &[(&str, &str)] = &[
    (MARKDOWN, include_str!("../../templates/report.md.hbs")),
    (HTML, include_str!("../../templates/report.html.hbs")),
    (CSS, include_str!("../../templates/report.css")),
    (
        "partials/md-matrix.hbs",
        include_str!("../../templates/partials/md-matrix.hbs"),
    ),
    (
        "partials/md-finding.hbs",
        include_str!("../../templates/partials/md-finding.hbs"),
    ),
    (
        "partials/html-matrix.hbs",
        include_str!("../../templates/partials/html-matrix.hbs"),
    ),
    (
        "partials/html-finding.hbs",
        include_str!("../../templates/partials/html-finding.hbs"),
    ),
    ("i18n/en.yaml", include_str!("../../templates/i18n/en.yaml")),
    ("i18n/ja.yaml", include_str!("../../templates/i18n/ja.yaml")),
];

/// Catalogue prefixes that templates complete with a value from the report
/// (`{{t "severity" worst}}`), and every value the model can give them.
fn dynamic_keys() -> BTreeMap<&'static str, Vec<String>> {
    let severities = || Severity::ALL.iter().map(|s| s.as_str().to_owned());
    let mut worst: Vec<String> = severities().collect();
    worst.extend(["pass".to_owned(), "none".to_owned()]);
    let mut themes: Vec<String> = Theme::ALL.iter().map(|t| t.as_str()).collect();
    themes.push("other".to_owned());
    let results = ["pass", "fail", "not_applicable", "not_in_force", "error"];
    BTreeMap::from([
        ("severity", severities().collect()),
        ("mark", worst.clone()),
        ("worst", worst),
        ("theme", themes),
        ("result", results.iter().map(|r| (*r).to_owned()).collect()),
        (
            "result_mark",
            results.iter().map(|r| (*r).to_owned()).collect(),
        ),
        (
            "status",
            crate::gate::Disposition::NAMES.map(str::to_owned).to_vec(),
        ),
        (
            "waiver_state",
            crate::gate::WaiverState::ALL
                .map(|s| s.as_str().to_owned())
                .to_vec(),
        ),
    ])
}

/// The templates, stylesheet and language catalogues reports are rendered with.
#[derive(Debug, Clone)]
pub struct Templates {
    /// Text by path under the templates folder (`report.md.hbs`, `partials/…`, `i18n/…`).
    files: BTreeMap<String, String>,
    /// Where each file that is not bundled came from, for error messages.
    origins: BTreeMap<String, String>,
}

impl Templates {
    /// The templates embedded in the binary.
    pub fn bundled() -> Templates {
        Templates {
            files: BUNDLED
                .iter()
                .map(|(name, text)| ((*name).to_owned(), (*text).to_owned()))
                .collect(),
            origins: BTreeMap::new(),
        }
    }

    /// The bundled templates, with every file present in `dir` (same layout as `templates/`)
    /// taking the place of the bundled one. A catalogue in `dir` overrides the bundled one
    /// key by key, so a brand can change one title. Fails, naming the file, when a file
    /// cannot be read, a template does not compile, a catalogue does not parse, or a template
    /// uses a key that a catalogue lacks.
    pub fn from_dir(dir: &Path) -> Result<Templates, String> {
        if !dir.is_dir() {
            return Err(format!("{}: not a folder of templates", dir.display()));
        }
        let mut templates = Templates::bundled();
        let mut names: BTreeSet<String> = BUNDLED.iter().map(|(n, _)| (*n).to_owned()).collect();
        // Partials an organisation adds for its own templates.
        if let Ok(entries) = std::fs::read_dir(dir.join("partials")) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.ends_with(".hbs") {
                    names.insert(format!("partials/{name}"));
                }
            }
        }
        for name in names {
            let path = dir.join(&name);
            if !path.exists() {
                continue;
            }
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("{}: cannot be read: {e}", path.display()))?;
            templates.files.insert(name.clone(), text);
            templates.origins.insert(name, path.display().to_string());
        }
        templates.check()?;
        Ok(templates)
    }

    /// Where a file came from: its path in `--templates DIR`, or `templates/NAME` when bundled.
    pub fn origin(&self, name: &str) -> String {
        self.origins
            .get(name)
            .cloned()
            .unwrap_or_else(|| format!("templates/{name} (bundled)"))
    }

    /// The fixed texts of `lang`, by dotted key (`cover.title`): the bundled catalogue with an
    /// overriding one laid over it.
    pub fn catalogue(&self, lang: &str) -> Result<BTreeMap<String, String>, String> {
        let name = format!("i18n/{lang}.yaml");
        let bundled = BUNDLED
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, text)| *text)
            .ok_or_else(|| format!("no catalogue for language `{lang}`"))?;
        let mut texts =
            parse_catalogue(bundled).map_err(|e| format!("{}: {e}", self.origin(&name)))?;
        if self.origins.contains_key(&name) {
            let own = self
                .files
                .get(&name)
                .map(String::as_str)
                .unwrap_or_default();
            texts.extend(parse_catalogue(own).map_err(|e| format!("{}: {e}", self.origin(&name)))?);
        }
        Ok(texts)
    }

    /// Every catalogue key the templates use, with the file that uses it; a key completed
    /// from the report (`{{t "severity" worst}}`) stands for every value it can take.
    pub fn keys_used(&self) -> BTreeMap<String, String> {
        let dynamic = dynamic_keys();
        let mut keys = BTreeMap::new();
        for (name, text) in self.template_files() {
            for (key, completed) in translation_calls(text) {
                match (completed, dynamic.get(key.as_str())) {
                    (true, Some(values)) => {
                        for value in values {
                            keys.entry(format!("{key}.{value}"))
                                .or_insert_with(|| name.clone());
                        }
                    }
                    // A prefix the model gives no values for: checked when rendering.
                    (true, None) => {}
                    (false, _) => {
                        keys.entry(key).or_insert_with(|| name.clone());
                    }
                }
            }
        }
        keys
    }

    /// Compiles every template and checks every catalogue against the keys the templates use.
    pub fn check(&self) -> Result<(), String> {
        for kind in [Kind::Markdown, Kind::Html] {
            self.registry(kind, BTreeMap::new(), "en")?;
        }
        // The stylesheet goes inside a `<style>` element, which this would end.
        if self.text(CSS).to_ascii_lowercase().contains("</style") {
            return Err(format!("{}: contains `</style`", self.origin(CSS)));
        }
        let used = self.keys_used();
        for lang in LANGS {
            let texts = self.catalogue(lang)?;
            if let Some((key, file)) = used.iter().find(|(key, _)| !texts.contains_key(*key)) {
                return Err(format!(
                    "{}: no text for `{key}`, which {} uses",
                    self.origin(&format!("i18n/{lang}.yaml")),
                    self.origin(file)
                ));
            }
        }
        Ok(())
    }

    fn template_files(&self) -> impl Iterator<Item = (&String, &String)> {
        self.files.iter().filter(|(name, _)| name.ends_with(".hbs"))
    }

    fn text(&self, name: &str) -> &str {
        self.files.get(name).map(String::as_str).unwrap_or_default()
    }

    /// A handlebars registry for one format, in strict mode, with the format's escaping and
    /// the helpers templates use.
    fn registry(
        &self,
        kind: Kind,
        texts: BTreeMap<String, String>,
        lang: &str,
    ) -> Result<Handlebars<'static>, String> {
        let mut hb = Handlebars::new();
        hb.set_strict_mode(true);
        hb.set_prevent_indent(true);
        match kind {
            Kind::Markdown => hb.register_escape_fn(escape_markdown),
            Kind::Html => hb.register_escape_fn(escape_html),
        }
        for (name, text) in self.template_files() {
            let compiled = match name.strip_prefix("partials/") {
                Some(partial) => hb.register_partial(partial.trim_end_matches(".hbs"), text),
                None => hb.register_template_string(name, text),
            };
            compiled.map_err(|e| format!("{}: {e}", self.origin(name)))?;
        }
        let lang = lang.to_owned();
        hb.register_helper(
            "t",
            Box::new(
                move |h: &Helper<'_>,
                      r: &Handlebars<'_>,
                      _: &Context,
                      _: &mut RenderContext<'_, '_>,
                      out: &mut dyn Output|
                      -> HelperResult {
                    let text = translate(h, &texts, &lang)?;
                    out.write(&r.get_escape_fn()(&text))?;
                    Ok(())
                },
            ),
        );
        hb.register_helper(
            "code",
            Box::new(
                move |h: &Helper<'_>,
                      _: &Handlebars<'_>,
                      _: &Context,
                      _: &mut RenderContext<'_, '_>,
                      out: &mut dyn Output|
                      -> HelperResult {
                    let text = h.param(0).map(|p| plain(p.value())).unwrap_or_default();
                    out.write(&match kind {
                        Kind::Markdown => code_span(&text),
                        Kind::Html => format!("<code>{}</code>", escape_html(&text)),
                    })?;
                    Ok(())
                },
            ),
        );
        hb.register_helper("location", Box::new(location));
        hb.register_helper("markdown", Box::new(markdown_helper));
        hb.register_helper("md_block", Box::new(md_block_helper));
        hb.register_helper("fence", Box::new(fence_helper));
        hb.register_helper("code_text", Box::new(code_text_helper));
        hb.register_helper("web_url", Box::new(web_url));
        Ok(hb)
    }
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Markdown,
    Html,
}

/// Renders the Markdown report (GitHub-flavoured Markdown).
pub fn render_markdown(report: &AuditReport, templates: &Templates) -> Result<String, String> {
    render(report, templates, Kind::Markdown)
}

/// Renders the HTML report: one self-contained file.
pub fn render_html(report: &AuditReport, templates: &Templates) -> Result<String, String> {
    render(report, templates, Kind::Html)
}

fn render(report: &AuditReport, templates: &Templates, kind: Kind) -> Result<String, String> {
    let lang = report.cover.lang.as_str();
    let texts = templates.catalogue(lang)?;
    let hb = templates.registry(kind, texts, lang)?;
    let name = match kind {
        Kind::Markdown => MARKDOWN,
        Kind::Html => HTML,
    };
    let page = Page::new(report, templates.text(CSS));
    hb.render(name, &page)
        .map_err(|e| format!("{}: {e}", templates.origin(name)))
}

/// What the templates see: the report as it is, and a few groupings of it for layout.
#[derive(Serialize)]
struct Page<'a> {
    #[serde(flatten)]
    report: &'a AuditReport,
    /// The stylesheet, for the HTML report's `<style>` element.
    css: &'a str,
    /// The verification data, safe inside a `<script type="application/json">` block, and
    /// the `id` that `report --verify` finds it by.
    verification_json: String,
    verification_id: &'static str,
    severities: Vec<SeverityCount>,
    total_findings: usize,
    /// Display name by service id, for tables that carry ids only.
    service_names: BTreeMap<&'a str, &'a str>,
    /// The appendix: every rule result, service by service.
    appendix: Vec<AppendixService<'a>>,
    /// The attack paths across services (kept out of the JSON report, so not flattened in).
    attack_paths: &'a crate::report::attack_paths::AttackPathsView,
}

#[derive(Serialize)]
struct SeverityCount {
    name: String,
    count: usize,
}

#[derive(Serialize)]
struct AppendixService<'a> {
    service: &'a str,
    name: &'a str,
    flows: Vec<AppendixFlow<'a>>,
}

#[derive(Serialize)]
struct AppendixFlow<'a> {
    flow: &'a str,
    results: Vec<&'a ResultInfo>,
}

impl<'a> Page<'a> {
    fn new(report: &'a AuditReport, css: &'a str) -> Self {
        let service_names: BTreeMap<&str, &str> = report
            .services
            .iter()
            .map(|s| (s.id.as_str(), s.name.as_str()))
            .collect();
        // The results come service by service and flow by flow: group the runs as they come.
        let mut appendix: Vec<AppendixService<'a>> = Vec::new();
        for result in &report.results {
            let same_service = appendix.last().is_some_and(|s| s.service == result.service);
            if !same_service {
                appendix.push(AppendixService {
                    service: &result.service,
                    name: service_names
                        .get(result.service.as_str())
                        .copied()
                        .unwrap_or(&result.service),
                    flows: Vec::new(),
                });
            }
            let Some(service) = appendix.last_mut() else {
                continue;
            };
            match service.flows.last_mut() {
                Some(flow) if flow.flow == result.flow => flow.results.push(result),
                _ => service.flows.push(AppendixFlow {
                    flow: &result.flow,
                    results: vec![result],
                }),
            }
        }
        Page {
            report,
            css,
            verification_json: report.verification_block(),
            verification_id: VERIFICATION_ID,
            severities: report
                .by_severity
                .iter()
                .map(|(name, count)| SeverityCount {
                    name: name.clone(),
                    count: *count,
                })
                .collect(),
            total_findings: report.by_severity.iter().map(|(_, n)| n).sum(),
            service_names,
            appendix,
            attack_paths: &report.attack_paths,
        }
    }
}

/// Parses a catalogue: sections of keys, `section: {key: text}`, flattened to `section.key`.
fn parse_catalogue(text: &str) -> Result<BTreeMap<String, String>, String> {
    let sections: BTreeMap<String, BTreeMap<String, String>> =
        serde_saphyr::from_str(text).map_err(|e| e.to_string())?;
    Ok(sections
        .into_iter()
        .flat_map(|(section, texts)| {
            texts
                .into_iter()
                .map(move |(key, text)| (format!("{section}.{key}"), text))
        })
        .collect())
}

/// The `t` calls of a template: (key, whether the template completes it with a value).
fn translation_calls(template: &str) -> Vec<(String, bool)> {
    let template = strip_comments(template);
    let mut calls = Vec::new();
    for opener in ["{{t \"", "(t \"", "{{~t \""] {
        let mut rest = template.as_str();
        while let Some(at) = rest.find(opener) {
            rest = &rest[at + opener.len()..];
            let Some(end) = rest.find('"') else { break };
            let key = &rest[..end];
            let after = rest[end + 1..].trim_start();
            let closed = after.starts_with("}}")
                || after.starts_with("~}}")
                || after.starts_with(')')
                // Named values (`count=…`) fill placeholders; they do not complete the key.
                || after
                    .split_whitespace()
                    .next()
                    .is_some_and(|word| word.contains('='));
            calls.push((key.to_owned(), !closed));
        }
    }
    calls
}

/// A template without its `{{!-- … --}}` comments.
fn strip_comments(template: &str) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{!--") {
        out.push_str(&rest[..start]);
        match rest[start..].find("--}}") {
            Some(end) => rest = &rest[start + end + 4..],
            None => return out,
        }
    }
    out.push_str(rest);
    out
}

/// The `t` helper: the text of a key (`{{t "cover.title"}}`), or of a prefix completed with a
/// value (`{{t "severity" worst}}`), with `{name}` placeholders filled from the helper's named
/// values (`{{t "cover.problems" count=3}}`).
fn translate(
    h: &Helper<'_>,
    texts: &BTreeMap<String, String>,
    lang: &str,
) -> Result<String, RenderErrorReason> {
    let key = h
        .param(0)
        .and_then(|p| p.value().as_str())
        .ok_or_else(|| RenderErrorReason::ParamNotFoundForIndex("t", 0))?;
    let key = match h.param(1) {
        Some(value) => format!("{key}.{}", plain(value.value())),
        None => key.to_owned(),
    };
    let text = texts.get(&key).ok_or_else(|| {
        RenderErrorReason::Other(format!("no text for `{key}` in the `{lang}` catalogue"))
    })?;
    let mut text = text.clone();
    for (name, value) in h.hash() {
        text = text.replace(&format!("{{{name}}}"), &plain(value.value()));
    }
    Ok(text)
}

/// A JSON value as text: strings as they are, other values as JSON.
fn plain(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn string_param<'a>(h: &'a Helper<'_>, helper: &'static str) -> Result<&'a str, RenderErrorReason> {
    h.param(0)
        .and_then(|p| p.value().as_str())
        .ok_or(RenderErrorReason::ParamNotFoundForIndex(helper, 0))
}

/// `{{markdown text}}`: Markdown from a rule pack, as sanitized HTML (written unescaped).
fn markdown_helper(
    h: &Helper<'_>,
    _: &Handlebars<'_>,
    _: &Context,
    _: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    out.write(&markdown_to_safe_html(string_param(h, "markdown")?))?;
    Ok(())
}

/// `{{md_block text}}`: Markdown from a rule pack, for the Markdown report, with its raw HTML
/// neutralised (written unescaped: it is Markdown already).
fn md_block_helper(
    h: &Helper<'_>,
    _: &Handlebars<'_>,
    _: &Context,
    _: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    out.write(neutralise_markdown(string_param(h, "md_block")?).trim_end())?;
    Ok(())
}

/// `{{fence snippet}}`: a code fence longer than any run of backticks in the snippet's lines.
fn fence_helper(
    h: &Helper<'_>,
    _: &Handlebars<'_>,
    _: &Context,
    _: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    let longest = h
        .param(0)
        .and_then(|p| p.value().as_array())
        .into_iter()
        .flatten()
        .filter_map(|line| line.get("text").and_then(|t| t.as_str()))
        .map(longest_backtick_run)
        .max()
        .unwrap_or(0);
    out.write(&"`".repeat(longest.max(2) + 1))?;
    Ok(())
}

/// `{{code_text text}}`: a line inside a Markdown code fence: literal, so not escaped, but
/// without control characters.
fn code_text_helper(
    h: &Helper<'_>,
    _: &Handlebars<'_>,
    _: &Context,
    _: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    let text: String = string_param(h, "code_text")?
        .chars()
        .map(|c| {
            if is_hidden_control(c) || c == '\n' || c == '\r' {
                '\u{FFFD}'
            } else {
                c
            }
        })
        .collect();
    out.write(&text)?;
    Ok(())
}

handlebars_helper!(location: |file: str, line: u64, column: u64| format!("{file}:{line}:{column}"));

handlebars_helper!(web_url: |url: str| url.starts_with("https://") || url.starts_with("http://"));

/// A value as a Markdown code span: literal, whatever it holds. A value a code span cannot
/// carry safely in a table cell (a `|`, a line break, a control character) is written as
/// escaped text instead.
fn code_span(text: &str) -> String {
    if text.is_empty() || text.contains(['|', '\n', '\r']) || text.chars().any(is_hidden_control) {
        return escape_markdown(text);
    }
    let fence = "`".repeat(longest_backtick_run(text) + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

fn longest_backtick_run(text: &str) -> usize {
    text.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

/// Control characters and bidirectional overrides, which could hide or reorder text.
fn is_hidden_control(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// HTML escaping for every value a template inserts with `{{…}}`.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            '`' => out.push_str("&#x60;"),
            '=' => out.push_str("&#x3D;"),
            c if is_hidden_control(c) => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Markdown escaping for every value a template inserts with `{{…}}`: the result reads as the
/// same text in a paragraph, a heading, a list item or a table cell (GitHub-flavoured), and
/// never as markup, HTML, a link or a block. Line breaks become spaces.
pub fn escape_markdown(text: &str) -> String {
    let chars: Vec<char> = text.trim_start().chars().collect();
    let mut out = String::with_capacity(text.len() + 8);
    let ends_marker = |at: usize| chars.get(at).is_none_or(|c| c.is_whitespace());
    // At the start, `- `, `+ `, `= `, `1. ` or `1) ` would open a list or underline a heading.
    let digits = chars.iter().take_while(|c| c.is_ascii_digit()).count();
    let ordered_marker =
        (digits > 0 && matches!(chars.get(digits), Some('.' | ')')) && ends_marker(digits + 1))
            .then_some(digits);
    let word = |at: Option<usize>| {
        at.and_then(|at| chars.get(at))
            .is_some_and(|c| c.is_alphanumeric())
    };
    // `&name;` or `&#123;` would be read as a character reference.
    let reference = |at: usize| {
        let name = chars[at + 1..]
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || **c == '#')
            .count();
        name > 0 && chars.get(at + 1 + name) == Some(&';')
    };
    for (i, &c) in chars.iter().enumerate() {
        match c {
            '\n' | '\r' | '\t' => out.push(' '),
            c if is_hidden_control(c) => out.push('\u{FFFD}'),
            // An underscore inside a word cannot open or close emphasis.
            '_' if word(i.checked_sub(1)) && word(Some(i + 1)) => out.push('_'),
            '&' if !reference(i) => out.push('&'),
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|' | '~' | '&' | '!' | '$' => {
                out.push('\\');
                out.push(c);
            }
            '-' | '+' | '=' if i == 0 && (ends_marker(1) || chars.get(1) == Some(&c)) => {
                out.push('\\');
                out.push(c);
            }
            '.' | ')' if Some(i) == ordered_marker => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// Markdown from a rule pack as HTML, through an allow-list: text formatting, lists, code and
/// links to web or mail addresses; no images, no attributes but `href`, nothing that loads.
pub fn markdown_to_safe_html(markdown: &str) -> String {
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, Parser::new_ext(markdown, markdown_options()));
    ammonia::Builder::empty()
        .add_tags([
            "p",
            "br",
            "em",
            "strong",
            "code",
            "pre",
            "ul",
            "ol",
            "li",
            "blockquote",
            "a",
            "del",
            "table",
            "thead",
            "tbody",
            "tr",
            "th",
            "td",
        ])
        .add_tag_attributes("a", ["href"])
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .url_relative(ammonia::UrlRelative::Deny)
        .link_rel(Some("noopener noreferrer"))
        .clean(&html)
        .to_string()
}

/// Markdown from a rule pack with every piece of raw HTML turned into text, for the Markdown
/// report; everything else stays as written.
pub fn neutralise_markdown(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    let mut done = 0;
    for (event, range) in Parser::new_ext(markdown, markdown_options()).into_offset_iter() {
        if matches!(event, Event::Html(_) | Event::InlineHtml(_)) && range.start >= done {
            out.push_str(&markdown[done..range.start]);
            out.push_str(
                &markdown[range.clone()]
                    .replace('&', "&amp;")
                    .replace('<', "&lt;")
                    .replace('>', "&gt;"),
            );
            done = range.end;
        }
    }
    out.push_str(&markdown[done..]);
    out.chars()
        .map(|c| if is_hidden_control(c) { '\u{FFFD}' } else { c })
        .collect()
}

fn markdown_options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_escaping_keeps_text_as_text() {
        assert_eq!(escape_markdown("<img src=x>"), "\\<img src=x\\>");
        assert_eq!(escape_markdown("a|b"), "a\\|b");
        assert_eq!(escape_markdown("account_linking"), "account_linking");
        assert_eq!(escape_markdown("_em_"), "\\_em\\_");
        assert_eq!(escape_markdown("# head"), "\\# head");
        assert_eq!(escape_markdown("- item"), "\\- item");
        assert_eq!(escape_markdown("12. x"), "12\\. x");
        assert_eq!(escape_markdown("1.2.0"), "1.2.0");
        assert_eq!(escape_markdown("-x"), "-x");
        assert_eq!(escape_markdown("---"), "\\---");
        assert_eq!(escape_markdown("a&b &amp; &#60;"), "a&b \\&amp; \\&\\#60;");
        assert_eq!(escape_markdown("a-b 1. c"), "a-b 1. c");
        assert_eq!(escape_markdown("line\nbreak"), "line break");
        assert_eq!(
            escape_markdown("[x](javascript:y)"),
            "\\[x\\](javascript:y)"
        );
    }

    #[test]
    fn raw_html_in_rule_markdown_becomes_text() {
        let md = "Use **MFA**.\n\n<script>alert(1)</script>\n\nAnd <b>this</b> `<code>`.\n";
        let neutral = neutralise_markdown(md);
        assert!(
            !neutral.contains("<script>") && !neutral.contains("<b>"),
            "{neutral}"
        );
        assert!(neutral.contains("`<code>`"), "{neutral}");
        let html = markdown_to_safe_html(md);
        assert!(
            !html.contains("<script") && html.contains("<strong>MFA</strong>"),
            "{html}"
        );
        let link = markdown_to_safe_html("[x](javascript:alert(1)) ![i](https://e.com/i.png)");
        assert!(
            !link.contains("javascript") && !link.contains("<img"),
            "{link}"
        );
    }

    #[test]
    fn translation_calls_are_found() {
        let calls = translation_calls(r#"{{t "a.b"}} {{t "severity" worst}} {{t "c.d" count=3}}"#);
        assert_eq!(
            calls,
            vec![
                ("a.b".to_owned(), false),
                ("severity".to_owned(), true),
                ("c.d".to_owned(), false)
            ]
        );
    }
}
