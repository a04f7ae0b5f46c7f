//! `authaudit diff OLD NEW`: reads two JSON documents of one kind (two reports, or two
//! `paths` analyses), prints what is new, fixed and unchanged, and decides the exit code:
//! 0 nothing new that fails the gate, 1 a new finding at or above `--fail-on` (for chains, a
//! new chain the policies fully describe), 2 a document that cannot be read or compared, or a
//! newer document that does not cover all of its input.

use super::{EXIT_ERROR, EXIT_INVALID, print_or_exit, terminal};
use crate::diagnostic::Code;
use crate::report::check::Lang;
use crate::report::diff::{self, DiffFormat, Document, InputError};
use crate::report::snippet::{Style, visible_line, write_diagnostic};
use crate::rules::Severity;
use crate::source::{self, BudgetFlags, SizeBudget};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The largest document read, in bytes: a report on a thousand policy files is tens of
/// megabytes.
pub const DEFAULT_MAX_REPORT_BYTES: u64 = 256 * 1024 * 1024;

const REPORT_FLAGS: BudgetFlags = BudgetFlags {
    files: "JSON reports",
    file_bytes: "--max-report-bytes",
    line_bytes: None,
};

#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// The older document: a JSON report (`check --format json`, `report --format json`) or
    /// the JSON of `paths --format json`.
    old: PathBuf,
    /// The newer document, of the same kind.
    new: PathBuf,
    /// Output format: `md` for pull-request comments.
    #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
    format: DiffFormat,
    /// New findings at or above this severity make the exit code 1 (reports only: for chains,
    /// any new chain the policies fully describe does).
    #[arg(long, value_enum, default_value_t = Severity::High)]
    fail_on: Severity,
    /// Language of finding titles.
    #[arg(long, value_enum, default_value_t = Lang::En)]
    lang: Lang,
    /// Refuse documents larger than this many bytes.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_REPORT_BYTES)]
    max_report_bytes: u64,
}

pub fn run(args: &DiffArgs) -> ExitCode {
    let (old, new) = match (read(&args.old, args), read(&args.new, args)) {
        (Ok(old), Ok(new)) => (old, new),
        (old, new) => {
            // Both are reported, so one run names every bad input.
            for problem in [old.err(), new.err()].into_iter().flatten() {
                eprint!("{problem}");
            }
            return ExitCode::from(EXIT_ERROR);
        }
    };
    if let Some(message) = diff::mixed_kinds(&old, &new) {
        eprintln!(
            "error: {message}\n  = help: compare two reports, or two `paths --format json` outputs"
        );
        return ExitCode::from(EXIT_ERROR);
    }
    let Some(diff) = diff::compare(old, new, args.fail_on) else {
        return ExitCode::from(EXIT_ERROR);
    };
    let text = diff::render(&diff, args.format, args.lang);
    let code = if diff.incomplete() {
        eprintln!(
            "error: {} does not cover all of its input ({}); exit code 2",
            visible_line(&diff.new.file),
            visible_line(&diff.new.incomplete.join(", "))
        );
        ExitCode::from(EXIT_ERROR)
    } else if diff.failing() > 0 {
        ExitCode::from(EXIT_INVALID)
    } else {
        ExitCode::SUCCESS
    };
    match args.format {
        DiffFormat::Text => terminal::print_report(&text, code),
        DiffFormat::Md | DiffFormat::Json => print_or_exit(&text, code),
    }
}

/// Reads and parses one document; the error is the text to print on standard error.
fn read(path: &Path, args: &DiffArgs) -> Result<Document, String> {
    let shown = path.to_string_lossy();
    let budget = SizeBudget {
        max_file_bytes: args.max_report_bytes,
        // A compact report is one line: the file budget alone bounds it.
        max_line_bytes: usize::try_from(args.max_report_bytes).unwrap_or(usize::MAX),
    };
    let text = source::read_with(path, &shown, budget, REPORT_FLAGS).map_err(|mut d| {
        if matches!(
            d.code,
            Code::EmptyFile | Code::BinaryFile | Code::InvalidUtf8 | Code::NotAFile
        ) {
            // The reader's hints speak of policy files.
            d.hint = Some(
                "give a JSON file written by `authaudit check --format json`, `report --format \
                 json` or `paths --format json`"
                    .to_owned(),
            );
        }
        let mut out = String::new();
        write_diagnostic(&mut out, &d, &|_: &str| None, Style { color: false });
        out
    })?;
    diff::parse(&shown, &text).map_err(|e| input_error(&e))
}

fn input_error(e: &InputError) -> String {
    let place = match (e.line, e.column) {
        (Some(line), Some(column)) => format!("{}:{line}:{column}", visible_line(&e.file)),
        _ => visible_line(&e.file).into_owned(),
    };
    format!(
        "error: {}\n  --> {place}\n  = help: {}\n",
        visible_line(&e.message),
        e.help
    )
}
