//! `authaudit report` and `check --output`: the audit rendered as Markdown, HTML, JSON, SARIF
//! or JUnit, and `report --verify`, which says whether a report still matches its inputs.

use super::{
    EXIT_ERROR, EXIT_INVALID, LoadArgs, PackArgs, input_status, parse_at, print_or_exit,
    refuse_packs, today, usage_error,
};
use crate::evaluate::{Evaluation, evaluate_at};
use crate::load::PolicyTree;
use crate::model::{Day, day_from_unix_days, format_day};
use crate::report::audit::{self, AuditReport, ReportOptions};
use crate::report::check::{CheckOutcome, Lang};
use crate::report::document::{self, Templates};
use crate::report::{json, junit, sarif};
use crate::rules::{RuleSet, Severity};
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
}

impl ReportFormat {
    fn parse(name: &str) -> Option<Self> {
        match name {
            "md" | "markdown" => Some(Self::Md),
            "html" => Some(Self::Html),
            "json" => Some(Self::Json),
            "sarif" => Some(Self::Sarif),
            "junit" => Some(Self::Junit),
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
        format!("`{format}` is not a report format: md, html, json, sarif or junit")
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
    /// Findings at or above this severity make the exit code 1.
    #[arg(long, value_enum, default_value_t = Severity::High)]
    pub fail_on: Severity,
    /// Language of finding titles and messages (and of report texts).
    #[arg(long, value_enum, default_value_t = Lang::En)]
    pub lang: Lang,
    /// Audit against the rules in force on this day (YYYY-MM-DD): a rule runs when one of
    /// the sources it cites applies that day. Default: today.
    #[arg(long, value_name = "DATE", value_parser = parse_at)]
    pub at: Option<Day>,
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
}

impl Audit {
    pub fn outcome(&self, fail_on: Severity, lang: Lang) -> CheckOutcome<'_> {
        CheckOutcome {
            tree: &self.tree,
            evaluation: &self.evaluation,
            packs_run: self.packs_run.clone(),
            fail_on,
            lang,
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
    })
}

/// The report's date: `--date`, else `SOURCE_DATE_EPOCH` (reproducible builds), else today.
fn report_date(given: Option<Day>) -> Result<Day, String> {
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
    let audit = match run_audit(&args.audit.load, &args.audit.packs, args.audit.at) {
        Ok(audit) => audit,
        Err(code) => return code,
    };
    let outcome = audit.outcome(args.audit.fail_on, args.audit.lang);
    let text = match render(args.format, &audit, &outcome, &args.document) {
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
