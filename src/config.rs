//! The configuration file `authaudit.toml`: where it is found (the current folder or the
//! nearest parent, never above the repository root), what it may say (the keys of
//! `docs/configuration.md`, each of one type), and the [`Config`] it becomes, with every
//! relative path resolved against the file's own folder.
//!
//! Every problem is a located diagnostic (line and column, the key path, a "did you mean"
//! hint), rendered like those of policy files. Nothing here decides what a command does with
//! a value: the command line lays its own flags over the configuration (`src/cli`).

use crate::diagnostic::{Code, Diagnostic};
use crate::report::check::Lang;
use crate::rules::Severity;
use crate::source::{self, SizeBudget};
use crate::suggest::closest;
use crate::yaml::{Span, YamlPath};
use std::path::{Path, PathBuf};
use toml::de::{DeTable, DeValue};

/// The file looked for in the current folder and its parents.
pub const FILE_NAME: &str = "authaudit.toml";

/// Where users read about the keys, for hints.
const DOCS: &str = "docs/configuration.md";

/// The longest a waiver may run (from `created` to `expires`) when the configuration sets no
/// `max_waiver_days`: a year, so an accepted risk is looked at again at least once a year.
pub const DEFAULT_MAX_WAIVER_DAYS: u32 = 365;

/// The most `max_waiver_days` may say: ten years.
const MAX_WAIVER_DAYS_LIMIT: u64 = 3_650;

/// The report formats `outputs` may name, as `check --output FORMAT=FILE` spells them.
pub const OUTPUT_FORMATS: [&str; 5] = ["md", "html", "json", "sarif", "junit"];

/// The keys of the file and the type each must have.
const KEYS: &[(&str, Kind)] = &[
    ("paths", Kind::Strings),
    ("packs", Kind::Strings),
    ("rules", Kind::Strings),
    ("attackers", Kind::Strings),
    ("fail_on", Kind::Severity),
    ("waivers", Kind::Str),
    ("baseline", Kind::Str),
    ("organisation", Kind::Str),
    ("lang", Kind::Lang),
    ("outputs", Kind::Outputs),
    ("include", Kind::Strings),
    ("exclude", Kind::Strings),
    ("max_waiver_days", Kind::Days),
];

#[derive(Debug, Clone, Copy)]
enum Kind {
    Str,
    Strings,
    Severity,
    Lang,
    Outputs,
    Days,
}

impl Kind {
    fn expected(self) -> &'static str {
        match self {
            Kind::Str | Kind::Severity | Kind::Lang => "a string",
            Kind::Strings => "an array of strings",
            Kind::Outputs => "a table of report formats to file names",
            Kind::Days => "a whole number of days",
        }
    }

    fn example(self, key: &str) -> String {
        match self {
            Kind::Str => format!("{key} = \"...\""),
            Kind::Strings => format!("{key} = [\"...\"]"),
            Kind::Severity => format!("{key} = \"high\""),
            Kind::Lang => format!("{key} = \"en\""),
            Kind::Outputs => "[outputs]\nsarif = \"authaudit.sarif\"".to_owned(),
            Kind::Days => format!("{key} = 90"),
        }
    }
}

/// Every key the file may have, in the order the docs give them.
pub fn keys() -> impl Iterator<Item = &'static str> {
    KEYS.iter().map(|(name, _)| *name)
}

/// What `authaudit.toml` says, with relative paths resolved against its folder. A key the
/// file leaves out is empty or `None`: the command's own default applies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    /// The file as users see it (`authaudit.toml`, `../authaudit.toml`, or as `--config` gave it).
    pub file: String,
    /// Policy files or folders to check when the command line names none.
    pub paths: Vec<PathBuf>,
    /// Rule packs to run (`--pack`); `all` runs every pack.
    pub packs: Vec<String>,
    /// Folders of extra rule packs (`--rules`).
    pub rules: Vec<PathBuf>,
    /// Folders of extra attacker profiles (`paths --attackers`).
    pub attackers: Vec<PathBuf>,
    pub fail_on: Option<Severity>,
    /// The waivers file (`--waivers`).
    pub waivers: Option<PathBuf>,
    /// The baseline file (`--baseline`).
    pub baseline: Option<PathBuf>,
    /// Organisation named on report covers (`--org`).
    pub organisation: Option<String>,
    pub lang: Option<Lang>,
    /// Reports `check` also writes, by format (one of [`OUTPUT_FORMATS`]), in format order.
    pub outputs: Vec<(String, PathBuf)>,
    /// Globs of files folder discovery takes or leaves, as written (relative to the folders
    /// searched, not resolved).
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    /// The longest a waiver may run, in days.
    pub max_waiver_days: Option<u32>,
}

/// A file given to authaudit besides the policies (this configuration, a waivers file, a
/// baseline) that could not be used: its problems, and its text for snippets.
#[derive(Debug)]
pub struct Refused {
    pub file: String,
    pub text: Option<String>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Which configuration a command reads.
#[derive(Debug, Clone)]
pub enum Source {
    /// `authaudit.toml` in the current folder or the nearest parent, not above the
    /// repository root.
    Discover,
    /// `--config FILE`.
    File(PathBuf),
    /// `--no-config`.
    Nothing,
}

/// Reads the configuration `source` names: `Ok(None)` when there is none to read.
pub fn load(source: &Source) -> Result<Option<Config>, Refused> {
    let (path, shown, dir) = match source {
        Source::Nothing => return Ok(None),
        Source::File(path) => {
            let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
            (path.clone(), path.display().to_string(), dir)
        }
        Source::Discover => {
            let Ok(start) = std::env::current_dir() else {
                return Ok(None);
            };
            let Some(levels) = discover(&start) else {
                return Ok(None);
            };
            let dir: PathBuf = std::iter::repeat_n("..", levels).collect();
            let path = dir.join(FILE_NAME);
            (path.clone(), path.display().to_string(), dir)
        }
    };
    let text = match source::read(&path, &shown, SizeBudget::default()) {
        Ok(text) => text,
        // An empty file says nothing, which is a valid configuration: every default applies.
        Err(diagnostic) if diagnostic.code == Code::EmptyFile => String::new(),
        Err(diagnostic) => {
            // The reader's hints speak of policy files.
            let hint = match source {
                Source::File(_) => "--config takes an authaudit.toml file; --no-config reads none",
                _ => "fix or remove the file, or run with --no-config",
            };
            return Err(Refused {
                file: shown,
                text: None,
                diagnostics: vec![diagnostic.with_hint(hint)],
            });
        }
    };
    parse(&shown, &text, &dir)
        .map(Some)
        .map_err(|diagnostics| Refused {
            file: shown,
            text: Some(text),
            diagnostics,
        })
}

/// How many folders up from `start` the nearest `authaudit.toml` is: `start` itself and each
/// parent in turn, stopping after the first folder that holds `.git` (the repository root).
pub fn discover(start: &Path) -> Option<usize> {
    for (levels, dir) in start.ancestors().enumerate() {
        if dir.join(FILE_NAME).is_file() {
            return Some(levels);
        }
        if dir.join(".git").exists() {
            return None;
        }
    }
    None
}

/// Parses and checks the text of a configuration file; relative paths in it are resolved
/// against `dir` (empty for the current folder). Every problem is returned, in file order.
pub fn parse(shown: &str, text: &str, dir: &Path) -> Result<Config, Vec<Diagnostic>> {
    let table = match DeTable::parse(text) {
        Ok(table) => table.into_inner(),
        Err(error) => {
            let span = error
                .span()
                .map_or_else(|| Span::new(1, 1, 0), |range| span_of(text, range));
            return Err(vec![
                Diagnostic::error(
                    Code::TomlSyntax,
                    shown,
                    format!("not valid TOML: {}", error.message().trim_end()),
                )
                .with_span(span)
                .with_hint(format!("{FILE_NAME} is TOML (https://toml.io); see {DOCS}")),
            ]);
        }
    };
    let mut reader = Reader {
        file: shown,
        text,
        dir,
        config: Config {
            file: shown.to_owned(),
            ..Config::default()
        },
        problems: Vec::new(),
    };
    for (key, value) in table.iter() {
        reader.entry(key.get_ref(), key.span(), value.get_ref(), value.span());
    }
    if reader.problems.is_empty() {
        Ok(reader.config)
    } else {
        reader.problems.sort_by_key(Diagnostic::sort_key);
        Err(reader.problems)
    }
}

/// The line, column (in characters) and length of a byte range of `text`; a range over
/// several lines is cut at the end of its first.
fn span_of(text: &str, range: std::ops::Range<usize>) -> Span {
    let start = floor_char_boundary(text, range.start.min(text.len()));
    let end = floor_char_boundary(text, range.end.clamp(start, text.len()));
    let before = &text[..start];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = text[line_start..start].chars().count() + 1;
    let len = text[start..end]
        .split('\n')
        .next()
        .unwrap_or_default()
        .trim_end_matches('\r')
        .chars()
        .count();
    let clamp = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    Span::new(clamp(line), clamp(column), clamp(len))
}

fn floor_char_boundary(text: &str, mut at: usize) -> usize {
    while at > 0 && !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// Reads the entries of the file into a [`Config`], collecting problems.
struct Reader<'a> {
    file: &'a str,
    text: &'a str,
    dir: &'a Path,
    config: Config,
    problems: Vec<Diagnostic>,
}

type Range = std::ops::Range<usize>;

impl Reader<'_> {
    fn at(&self, code: Code, range: Range, path: YamlPath, message: String) -> Diagnostic {
        Diagnostic::error(code, self.file, message)
            .with_span(span_of(self.text, range))
            .with_path(path)
    }

    fn entry(&mut self, key: &str, key_range: Range, value: &DeValue<'_>, range: Range) {
        let path = YamlPath::root().key(key);
        let Some((_, kind)) = KEYS.iter().find(|(name, _)| *name == key) else {
            let names = KEYS.iter().map(|(name, _)| *name);
            let hint = closest(key, names.clone()).map_or_else(
                || {
                    let all: Vec<&str> = names.collect();
                    format!("the keys are {}; see {DOCS}", all.join(", "))
                },
                |near| format!("did you mean `{near}`?"),
            );
            let problem = self
                .at(
                    Code::UnknownField,
                    key_range,
                    path,
                    format!("unknown key `{key}` in {FILE_NAME}"),
                )
                .with_label("not a configuration key")
                .with_hint(hint);
            self.problems.push(problem);
            return;
        };
        let kind = *kind;
        let Some(read) = self.value(kind, key, value, range.clone(), &path) else {
            return;
        };
        let config = &mut self.config;
        match (key, read) {
            ("paths", Read::Strings(v)) => {
                config.paths = v.iter().map(|p| resolve(self.dir, p)).collect()
            }
            ("packs", Read::Strings(v)) => config.packs = v,
            ("rules", Read::Strings(v)) => {
                config.rules = v.iter().map(|p| resolve(self.dir, p)).collect()
            }
            ("attackers", Read::Strings(v)) => {
                config.attackers = v.iter().map(|p| resolve(self.dir, p)).collect();
            }
            ("include", Read::Strings(v)) => config.include = v,
            ("exclude", Read::Strings(v)) => config.exclude = v,
            ("waivers", Read::Str(v)) => config.waivers = Some(resolve(self.dir, &v)),
            ("baseline", Read::Str(v)) => config.baseline = Some(resolve(self.dir, &v)),
            ("organisation", Read::Str(v)) => config.organisation = Some(v),
            ("fail_on", Read::Severity(s)) => config.fail_on = Some(s),
            ("lang", Read::Lang(l)) => config.lang = Some(l),
            ("outputs", Read::Outputs(v)) => {
                config.outputs = v
                    .into_iter()
                    .map(|(format, file)| (format, resolve(self.dir, &file)))
                    .collect();
            }
            ("max_waiver_days", Read::Days(d)) => config.max_waiver_days = Some(d),
            // Each key is read as the kind KEYS gives it.
            _ => {}
        }
    }

    /// The value of `key`, checked against `kind`; `None` after recording a problem.
    fn value(
        &mut self,
        kind: Kind,
        key: &str,
        value: &DeValue<'_>,
        range: Range,
        path: &YamlPath,
    ) -> Option<Read> {
        let wrong =
            |reader: &Self, found: &DeValue<'_>, range: Range, path: YamlPath, what: &str| {
                reader
                    .at(
                        Code::WrongType,
                        range,
                        path,
                        format!(
                            "{what} is {}; {} is expected",
                            a(found.type_str()),
                            kind.expected()
                        ),
                    )
                    .with_hint(format!("write it as `{}`; see {DOCS}", kind.example(key)))
            };
        match (kind, value) {
            (Kind::Str, DeValue::String(s)) => match self.non_empty(s, range, path) {
                true => Some(Read::Str(s.to_string())),
                false => None,
            },
            (Kind::Strings, DeValue::Array(items)) => {
                let mut strings = Vec::new();
                let mut ok = true;
                for (index, item) in items.iter().enumerate() {
                    let here = path.index(index);
                    match item.get_ref() {
                        DeValue::String(s) if self.non_empty(s, item.span(), &here) => {
                            strings.push(s.to_string());
                        }
                        DeValue::String(_) => ok = false,
                        other => {
                            let problem = wrong(
                                self,
                                other,
                                item.span(),
                                here,
                                &format!("`{path}[{index}]`"),
                            )
                            .with_hint(format!(
                                "every entry of `{key}` is a string in quotes; see {DOCS}"
                            ));
                            self.problems.push(problem);
                            ok = false;
                        }
                    }
                }
                ok.then_some(Read::Strings(strings))
            }
            (Kind::Severity, DeValue::String(s)) => {
                let names = Severity::ALL.iter().map(|s| s.as_str());
                match Severity::ALL.iter().find(|v| v.as_str() == s.as_ref()) {
                    Some(severity) => Some(Read::Severity(*severity)),
                    None => {
                        self.unknown_value(s, names.collect(), range, path.clone());
                        None
                    }
                }
            }
            (Kind::Lang, DeValue::String(s)) => match s.as_ref() {
                "en" => Some(Read::Lang(Lang::En)),
                "ja" => Some(Read::Lang(Lang::Ja)),
                _ => {
                    self.unknown_value(s, vec!["en", "ja"], range, path.clone());
                    None
                }
            },
            (Kind::Outputs, DeValue::Table(table)) => {
                let mut outputs = Vec::new();
                let mut ok = true;
                for (format, file) in table.iter() {
                    let name = format.get_ref().as_ref();
                    let here = path.key(name);
                    if !OUTPUT_FORMATS.contains(&name) {
                        let hint = closest(name, OUTPUT_FORMATS.into_iter()).map_or_else(
                            || format!("the formats are {}", OUTPUT_FORMATS.join(", ")),
                            |near| format!("did you mean `{near}`?"),
                        );
                        let problem = self
                            .at(
                                Code::UnknownField,
                                format.span(),
                                here,
                                format!("`{name}` is not a report format"),
                            )
                            .with_label("not a report format")
                            .with_hint(hint);
                        self.problems.push(problem);
                        ok = false;
                        continue;
                    }
                    match file.get_ref() {
                        DeValue::String(s) if self.non_empty(s, file.span(), &here) => {
                            outputs.push((name.to_owned(), s.to_string()));
                        }
                        DeValue::String(_) => ok = false,
                        other => {
                            let problem = self
                                .at(
                                    Code::WrongType,
                                    file.span(),
                                    here,
                                    format!(
                                        "`{path}.{name}` is {}; a file name is expected",
                                        a(other.type_str())
                                    ),
                                )
                                .with_hint(format!(
                                    "write it as `{name} = \"authaudit.{name}\"`; see {DOCS}"
                                ));
                            self.problems.push(problem);
                            ok = false;
                        }
                    }
                }
                outputs.sort_by_key(|(format, _)| OUTPUT_FORMATS.iter().position(|f| f == format));
                ok.then_some(Read::Outputs(outputs))
            }
            (Kind::Days, DeValue::Integer(n)) => {
                let days = u64::from_str_radix(n.as_str(), n.radix())
                    .ok()
                    .filter(|d| (1..=MAX_WAIVER_DAYS_LIMIT).contains(d))
                    .and_then(|d| u32::try_from(d).ok());
                if days.is_none() {
                    let problem = self
                        .at(
                            Code::OutOfRange,
                            range,
                            path.clone(),
                            format!("`{key}` must be from 1 to {MAX_WAIVER_DAYS_LIMIT} days"),
                        )
                        .with_hint(format!("e.g. `{key} = 90`; see {DOCS}"));
                    self.problems.push(problem);
                }
                days.map(Read::Days)
            }
            (_, found) => {
                let problem = wrong(self, found, range, path.clone(), &format!("`{path}`"));
                self.problems.push(problem);
                None
            }
        }
    }

    /// Whether `text` is not empty; records a problem when it is.
    fn non_empty(&mut self, text: &str, range: Range, path: &YamlPath) -> bool {
        if !text.trim().is_empty() {
            return true;
        }
        let problem = self
            .at(
                Code::EmptyCollection,
                range,
                path.clone(),
                format!("`{path}` is empty"),
            )
            .with_hint(format!("give a value, or leave the key out; see {DOCS}"));
        self.problems.push(problem);
        false
    }

    fn unknown_value(&mut self, given: &str, allowed: Vec<&str>, range: Range, path: YamlPath) {
        let hint = closest(given, allowed.iter().copied()).map_or_else(
            || format!("one of: {}", allowed.join(", ")),
            |near| format!("did you mean `{near}`?"),
        );
        let message = format!("`{given}` is not a value `{path}` takes");
        let problem = self
            .at(Code::UnknownValue, range, path, message)
            .with_hint(hint);
        self.problems.push(problem);
    }
}

/// A value read with the type its key must have.
enum Read {
    Str(String),
    Strings(Vec<String>),
    Severity(Severity),
    Lang(Lang),
    Outputs(Vec<(String, String)>),
    Days(u32),
}

/// `path` as written in the file, relative to the file's folder `dir`.
fn resolve(dir: &Path, path: &str) -> PathBuf {
    let path = Path::new(path);
    if path.is_absolute() || dir.as_os_str().is_empty() {
        path.to_path_buf()
    } else {
        dir.join(path)
    }
}

/// "an integer", "a string".
fn a(noun: &str) -> String {
    let article = if noun.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {noun}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(text: &str) -> Vec<Diagnostic> {
        parse("authaudit.toml", text, Path::new("")).unwrap_err()
    }

    #[test]
    fn every_key_is_read() {
        let text = r#"
paths = ["policies"]
packs = ["jp-fsa-jba-2020"]
rules = ["rules/own"]
attackers = ["attackers"]
fail_on = "medium"
waivers = "waivers.yaml"
baseline = "baseline.json"
organisation = "Example Bank"
lang = "ja"
include = ["**/*.policy.yaml"]
exclude = ["fixtures/**"]
max_waiver_days = 90

[outputs]
sarif = "out/authaudit.sarif"
md = "out/report.md"
"#;
        let config = parse("sub/authaudit.toml", text, Path::new("sub")).unwrap();
        assert_eq!(config.paths, [PathBuf::from("sub/policies")]);
        assert_eq!(config.packs, ["jp-fsa-jba-2020"]);
        assert_eq!(config.rules, [PathBuf::from("sub/rules/own")]);
        assert_eq!(config.attackers, [PathBuf::from("sub/attackers")]);
        assert_eq!(config.fail_on, Some(Severity::Medium));
        assert_eq!(config.waivers, Some(PathBuf::from("sub/waivers.yaml")));
        assert_eq!(config.baseline, Some(PathBuf::from("sub/baseline.json")));
        assert_eq!(config.organisation.as_deref(), Some("Example Bank"));
        assert_eq!(config.lang, Some(Lang::Ja));
        assert_eq!(config.include, ["**/*.policy.yaml"]);
        assert_eq!(config.exclude, ["fixtures/**"]);
        assert_eq!(config.max_waiver_days, Some(90));
        assert_eq!(
            config.outputs,
            [
                ("md".to_owned(), PathBuf::from("sub/out/report.md")),
                ("sarif".to_owned(), PathBuf::from("sub/out/authaudit.sarif")),
            ]
        );
    }

    #[test]
    fn unknown_keys_are_located_with_a_suggestion() {
        let problems = refused("paths = [\"p\"]\nfail-on = \"high\"\n");
        assert_eq!(problems.len(), 1);
        let d = &problems[0];
        assert_eq!(d.code, Code::UnknownField);
        assert_eq!(d.span, Some(Span::new(2, 1, 7)));
        assert_eq!(d.hint.as_deref(), Some("did you mean `fail_on`?"));
        assert_eq!(
            d.path.as_ref().map(ToString::to_string).as_deref(),
            Some("fail-on")
        );
    }

    #[test]
    fn wrong_types_and_values_are_located() {
        let problems = refused(
            "paths = \"policies\"\nfail_on = \"hihg\"\nmax_waiver_days = 0\n[outputs]\nsarf = \"x\"\njson = 3\n",
        );
        let found: Vec<(Code, u32, String)> = problems
            .iter()
            .map(|d| {
                (
                    d.code,
                    d.span.map_or(0, |s| s.line),
                    d.path.as_ref().map(ToString::to_string).unwrap_or_default(),
                )
            })
            .collect();
        assert_eq!(
            found,
            [
                (Code::WrongType, 1, "paths".to_owned()),
                (Code::UnknownValue, 2, "fail_on".to_owned()),
                (Code::OutOfRange, 3, "max_waiver_days".to_owned()),
                (Code::UnknownField, 5, "outputs.sarf".to_owned()),
                (Code::WrongType, 6, "outputs.json".to_owned()),
            ]
        );
        assert_eq!(problems[1].hint.as_deref(), Some("did you mean `high`?"));
        assert_eq!(problems[3].hint.as_deref(), Some("did you mean `sarif`?"));
    }

    #[test]
    fn syntax_errors_are_located() {
        let problems = refused("paths = [\"p\"\nlang = \"en\"\n");
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].code, Code::TomlSyntax);
        assert!(problems[0].span.is_some_and(|s| s.line >= 1));
    }

    #[test]
    fn spans_count_characters() {
        let text = "organisation = \"銀行\"\nlang = 1\n";
        let start = text.find('1').unwrap();
        assert_eq!(span_of(text, start..start + 1), Span::new(2, 8, 1));
        assert_eq!(span_of(text, 16..22), Span::new(1, 17, 2));
    }

    #[test]
    fn discovery_stops_at_the_repository_root() {
        let root = tempfile::tempdir().unwrap();
        let repo = root.path().join("repo");
        let deep = repo.join("a/b");
        std::fs::create_dir_all(&deep).unwrap();
        std::fs::create_dir(repo.join(".git")).unwrap();
        assert_eq!(discover(&deep), None);
        std::fs::write(root.path().join(FILE_NAME), "").unwrap();
        assert_eq!(discover(&deep), None, "never above the repository root");
        std::fs::write(repo.join(FILE_NAME), "").unwrap();
        assert_eq!(discover(&deep), Some(2));
        std::fs::write(deep.join(FILE_NAME), "").unwrap();
        assert_eq!(discover(&deep), Some(0));
    }
}
