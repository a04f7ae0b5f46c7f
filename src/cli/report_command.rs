//! `authaudit report` and `check --output`: the audit rendered as Markdown, HTML, JSON, SARIF
//! or JUnit, and `report --verify`, which says whether a report still matches its inputs.

use super::{
    EXIT_ERROR, EXIT_INVALID, LoadArgs, PackArgs, input_status, parse_at, print_or_exit,
    refuse_packs, today, usage_error,
};
use crate::baseline::{self, Baseline, BaselineFile};
use crate::config::{DEFAULT_MAX_WAIVER_DAYS, Refused};
use crate::evaluate::{Evaluation, evaluate_at};
use crate::gate::Gate;
use crate::load::PolicyTree;
use crate::model::{Day, day_from_unix_days, format_day};
use crate::report::audit::{self, AuditReport, ReportOptions};
use crate::report::check::{CheckOutcome, Lang};
use crate::report::document::{self, Templates};
use crate::report::snippet::{Style, visible_line, write_diagnostic};
use crate::report::{codequality, github, json, junit, sarif};
use crate::rules::{RuleSet, Severity};
use crate::timings::{self, Phase};
use crate::waivers::{self, Limits};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Formats of `authaudit report` and `check --output`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// Markdown, for people and pull requests.
    Md,
    /// One self-contained HTML file, for management and regulators.
    Html,
    /// The versioned JSON report (docs/json-output.md).
    Json,
    /// SARIF 2.1.0, for code scanning.
    Sarif,
    /// JUnit XML, for CI test dashboards.
    Junit,
    /// GitLab code quality JSON, for merge-request widgets (docs/ci.md).
    Codequality,
}

impl ReportFormat {
    pub(super) fn parse(name: &str) -> Option<Self> {
        match name {
            "md" | "markdown" => Some(Self::Md),
            "html" => Some(Self::Html),
            "json" => Some(Self::Json),
            "sarif" => Some(Self::Sarif),
            "junit" => Some(Self::Junit),
            "codequality" => Some(Self::Codequality),
            _ => None,
        }
    }
}

/// `--output FORMAT=FILE`.
#[derive(Debug, Clone)]
pub struct OutputSpec {
    pub format: ReportFormat,
    pub file: PathBuf,
}

pub fn parse_output(text: &str) -> Result<OutputSpec, String> {
    let (format, file) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}`: write FORMAT=FILE, e.g. sarif=authaudit.sarif"))?;
    let format = ReportFormat::parse(format).ok_or_else(|| {
        format!("`{format}` is not a report format: md, html, json, sarif, junit or codequality")
    })?;
    if file.is_empty() {
        return Err(format!("`{text}`: the file name is missing"));
    }
    Ok(OutputSpec {
        format,
        file: PathBuf::from(file),
    })
}

/// What every audit command shares: which files, which packs, which day, which language.
#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    #[command(flatten)]
    pub load: LoadArgs,
    #[command(flatten)]
    pub packs: PackArgs,
    /// Findings at or above this severity make the exit code 1 (unless waived or
    /// baselined). Default: `fail_on` in authaudit.toml, else high.
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub fail_on: Option<Severity>,
    /// Language of finding titles and messages (and of report texts). Default: `lang` in
    /// authaudit.toml, else en.
    #[arg(long, value_enum)]
    pub lang: Option<Lang>,
    /// Audit against the rules in force on this day (YYYY-MM-DD): a rule runs when one of
    /// the sources it cites applies that day. Default: today.
    #[arg(long, value_name = "DATE", value_parser = parse_at)]
    pub at: Option<Day>,
    /// Waivers file (YAML, docs/waivers.md): findings an active waiver covers do not fail the
    /// run and are listed in the waiver register. Default: `waivers` in authaudit.toml.
    #[arg(long, value_name = "FILE")]
    pub waivers: Option<PathBuf>,
    /// Baseline written by `check --write-baseline`: only findings not in it fail the run.
    /// Default: `baseline` in authaudit.toml.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Refuse waivers that run longer than this many days from `created` to `expires`.
    /// Default: `max_waiver_days` in authaudit.toml, else 365.
    #[arg(long, value_name = "DAYS", value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub max_waiver_days: Option<u32>,
}

impl AuditArgs {
    /// `--fail-on`, after the configuration (high when neither sets it).
    pub fn fail_on(&self) -> Severity {
        self.fail_on.unwrap_or(Severity::High)
    }

    /// `--lang`, after the configuration (en when neither sets it).
    pub fn lang(&self) -> Lang {
        self.lang.unwrap_or(Lang::En)
    }
}

/// Options of the report documents.
#[derive(Debug, clap::Args)]
pub struct DocumentArgs {
    /// Organisation named on the cover.
    #[arg(long, value_name = "NAME")]
    pub org: Option<String>,
    /// The report's date (YYYY-MM-DD). Default: SOURCE_DATE_EPOCH when set, else today.
    #[arg(long, value_name = "DATE", value_parser = parse_at)]
    pub date: Option<Day>,
    /// Folder of templates overriding the bundled ones (report.md.hbs, report.html.hbs, ...).
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub audit: AuditArgs,
    /// Report format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Html)]
    pub format: ReportFormat,
    /// Write the report to this file instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub document: DocumentArgs,
    /// Check that this report (HTML or JSON) still matches PATHS and the rule packs: exit 0
    /// when it does, 1 naming what changed.
    #[arg(long, value_name = "REPORT")]
    pub verify: Option<PathBuf>,
}

/// An audit that ran: everything a renderer needs.
pub struct Audit {
    pub set: RuleSet,
    pub tree: PolicyTree,
    pub evaluation: Evaluation,
    pub packs_run: Vec<String>,
    /// What waivers and the baseline make of the findings (none unless given).
    pub gate: Gate,
}

impl Audit {
    pub fn outcome(&self, fail_on: Severity, lang: Lang) -> CheckOutcome<'_> {
        CheckOutcome {
            tree: &self.tree,
            evaluation: &self.evaluation,
            packs_run: self.packs_run.clone(),
            fail_on,
            lang,
            gate: &self.gate,
        }
    }

    /// The exit code: invalid input outranks findings, so a partial evaluation never passes a
    /// CI gate.
    pub fn status(&self, outcome: &CheckOutcome<'_>) -> ExitCode {
        match input_status(&self.tree) {
            Some(_) => ExitCode::from(EXIT_ERROR),
            None if !self.evaluation.errors.is_empty() => ExitCode::from(EXIT_ERROR),
            None if outcome.failing() > 0 => ExitCode::from(EXIT_INVALID),
            None => ExitCode::SUCCESS,
        }
    }
}

/// Loads, selects packs and evaluates; the error is the exit code already reported.
pub fn run_audit(load: &LoadArgs, packs: &PackArgs, at: Option<Day>) -> Result<Audit, ExitCode> {
    let set = packs.rule_set().map_err(|set| refuse_packs(&set))?;
    let selection = packs.selection(&set).map_err(|m| usage_error(&m))?;
    let (loader, tree) = load.load();
    let at = at.unwrap_or_else(today);
    let evaluation = evaluate_at(&tree, &set, &selection, loader.catalogue(), Some(at));
    let packs_run = selection.packs_run(&set, &tree);
    Ok(Audit {
        set,
        tree,
        evaluation,
        packs_run,
        gate: Gate::default(),
    })
}

/// [`run_audit`], then the gate: the waivers and the baseline `args` name, judged on the
/// report's date. With `write_baseline`, the findings are first recorded there (refused over
/// invalid input, which would record only part of them) and that baseline is the one used.
/// The error is the exit code already reported.
pub fn run_gated_audit(
    args: &AuditArgs,
    document: &DocumentArgs,
    write_baseline: Option<&Path>,
) -> Result<Audit, ExitCode> {
    let today = report_date(document.date).map_err(|m| usage_error(&m))?;
    let mut audit = run_audit(&args.load, &args.packs, args.at)?;
    let waivers = match &args.waivers {
        Some(file) => {
            let rule_ids: Vec<&str> = audit.set.rules().map(|(_, r)| r.spec.id.as_str()).collect();
            let limits = Limits {
                max_days: args.max_waiver_days.unwrap_or(DEFAULT_MAX_WAIVER_DAYS),
                rule_ids: &rule_ids,
            };
            Some(waivers::load(file, &limits).map_err(|r| refuse_file(&r, "waivers"))?)
        }
        None => None,
    };
    let baseline = match (write_baseline, &args.baseline) {
        (Some(file), _) => {
            if input_status(&audit.tree).is_some() || !audit.evaluation.errors.is_empty() {
                return Err(usage_error(&format!(
                    "baseline not written to {}: fix the invalid input first, so that every finding is recorded",
                    file.display()
                )));
            }
            let recorded = BaselineFile::of(&audit.evaluation.findings);
            write_file(file, &recorded.render()).map_err(|m| usage_error(&m))?;
            Some(Baseline {
                file: file.display().to_string(),
                fingerprints: recorded.fingerprints(),
            })
        }
        (None, Some(file)) => Some(baseline::load(file).map_err(|r| refuse_file(&r, "baseline"))?),
        (None, None) => None,
    };
    audit.gate = Gate::new(
        &audit.evaluation.findings,
        waivers,
        baseline.as_ref(),
        today,
    );
    Ok(audit)
}

/// Prints the problems of a refused waivers, baseline or configuration file (with snippets)
/// and returns the usage-error exit code.
pub fn refuse_file(refused: &Refused, what: &str) -> ExitCode {
    let mut out = String::new();
    let source = |name: &str| {
        (name == refused.file)
            .then_some(refused.text.as_deref())
            .flatten()
    };
    let style = Style {
        color: super::terminal::color(super::terminal::Stream::Stderr),
    };
    for diagnostic in &refused.diagnostics {
        write_diagnostic(&mut out, diagnostic, &source, style);
    }
    let count = refused.diagnostics.len();
    let _ = writeln!(
        out,
        "{what} refused: {} ({count} problem{})",
        visible_line(&refused.file),
        if count == 1 { "" } else { "s" }
    );
    eprint!("{out}");
    ExitCode::from(EXIT_ERROR)
}

/// The report's date: `--date`, else `SOURCE_DATE_EPOCH` (reproducible builds), else today.
/// Waivers expire against it too.
pub fn report_date(given: Option<Day>) -> Result<Day, String> {
    if let Some(day) = given {
        return Ok(day);
    }
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(text) if !text.is_empty() => {
            let seconds: i64 = text
                .trim()
                .parse()
                .map_err(|_| format!("SOURCE_DATE_EPOCH `{text}` is not a number of seconds"))?;
            Ok(day_from_unix_days(seconds.div_euclid(86_400)))
        }
        _ => Ok(today()),
    }
}

/// Renders `format`; the error is a message for a usage error.
pub fn render(
    format: ReportFormat,
    audit: &Audit,
    outcome: &CheckOutcome<'_>,
    document: &DocumentArgs,
) -> Result<String, String> {
    let build = || -> Result<AuditReport, String> {
        let options = ReportOptions {
            organisation: document.org.clone(),
            date: format_day(report_date(document.date)?),
        };
        Ok(audit::build(outcome, &audit.set, &options))
    };
    let templates = || match &document.templates {
        Some(dir) => Templates::from_dir(dir),
        None => Ok(Templates::bundled()),
    };
    match format {
        ReportFormat::Md => document::render_markdown(&build()?, &templates()?),
        ReportFormat::Html => document::render_html(&build()?, &templates()?),
        ReportFormat::Json => Ok(json::render_report(outcome, &build()?)),
        ReportFormat::Sarif => Ok(sarif::render_sarif(outcome, &audit.set)),
        ReportFormat::Junit => Ok(junit::render_junit(outcome)),
        ReportFormat::Codequality => Ok(codequality::render_codequality(outcome)),
    }
}

/// Writes `text` to `file` (through a temporary file in the same folder, then a rename).
pub fn write_file(file: &Path, text: &str) -> Result<(), String> {
    let folder = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = file
        .file_name()
        .map_or_else(|| "report".to_owned(), |n| n.to_string_lossy().into_owned());
    let temporary = folder.join(format!(".{name}.authaudit-tmp"));
    std::fs::write(&temporary, text)
        .and_then(|()| std::fs::rename(&temporary, file))
        .map_err(|e| {
            let _ = std::fs::remove_file(&temporary);
            format!("cannot write {}: {e}", file.display())
        })
}

pub fn run(args: &ReportArgs) -> ExitCode {
    if let Some(report) = &args.verify {
        return super::verify_command::run(report, &args.audit);
    }
    let audit = match run_gated_audit(&args.audit, &args.document, None) {
        Ok(audit) => super::kept_until_exit(audit),
        Err(code) => return code,
    };
    let _render = timings::span(Phase::Render);
    let outcome = audit.outcome(args.audit.fail_on(), args.audit.lang());
    github::publish(&outcome, &github::Env::from_process());
    let text = match render(args.format, audit, &outcome, &args.document) {
        Ok(text) => text,
        Err(message) => return usage_error(&message),
    };
    let status = audit.status(&outcome);
    match &args.output {
        Some(file) => match write_file(file, &text) {
            Ok(()) => status,
            Err(message) => {
                eprintln!("error: {message}");
                ExitCode::from(EXIT_ERROR)
            }
        },
        None => print_or_exit(&text, status),
    }
}
