//! The command line: parses arguments, runs the pipeline, prints through the report layer and
//! maps results to exit codes (0 clean, 1 invalid input found, 2 usage or I/O error).

mod migrate_command;
mod paths_command;
mod report_command;
mod rules_command;
mod verify_command;

use crate::discover::ExternalSymlinks;
use crate::evaluate::{PackSelection, name_of};
use crate::factors::Catalogue;
use crate::load::{Loader, PolicyTree};
use crate::model::{Day, day_from_unix_days, parse_date};
use crate::report::snippet::{Style, write_diagnostic};
use crate::report::{self, Format};
use crate::rules::{DEFAULT_MAX_PACK_BYTES, RuleSet, Severity};
use crate::schema::policy_schema;
use crate::source::SizeBudget;
use crate::suggest::closest;
use clap::{Parser, Subcommand};
use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "authaudit",
    version,
    about = "Audit how payment services and banks authenticate people"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check policy files for syntax, schema and cross-file errors.
    Validate(ValidateArgs),
    /// Validate policy files, then evaluate them against rule packs.
    Check(CheckArgs),
    /// List, explain, test and document rules.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Print the JSON Schema of the policy format (or of the JSON report, or of an attacker
    /// profile).
    Schema {
        /// The schema of the JSON report of `check --format json` and `report --format json`.
        #[arg(long)]
        report: bool,
        /// The schema of an attacker profile file (`rules/attackers/*.yaml`, `--attackers DIR`).
        #[arg(long, conflicts_with = "report")]
        attackers: bool,
    },
    /// List the factor catalogue: every factor a policy may name.
    Factors,
    /// Rewrite v1 policy files as v2, keeping comments and layout.
    Migrate(migrate_command::MigrateArgs),
    /// Audit and render a report: Markdown, HTML, JSON, SARIF or JUnit; or verify one.
    Report(report_command::ReportArgs),
    /// Find the attack chains across services, from leaked data to money out, with odds,
    /// the notices on the way and the smallest fixes.
    Paths(paths_command::PathsArgs),
}

/// Which files to load, within which budgets.
#[derive(Debug, clap::Args)]
pub(super) struct LoadArgs {
    /// Policy files or folders (folders are searched for .yaml/.yml files).
    #[arg(default_value = ".")]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    read: ReadArgs,
}

impl LoadArgs {
    pub(super) fn load(&self) -> (Loader, PolicyTree) {
        let loader = self.read.loader();
        let tree = loader.load_paths(&self.paths);
        (loader, tree)
    }
}

/// How policy files are read: size budgets and symlinks (shared by every command that reads
/// policies, `migrate` included).
#[derive(Debug, clap::Args)]
pub(super) struct ReadArgs {
    /// Refuse files larger than this many bytes.
    #[arg(long, default_value_t = SizeBudget::DEFAULT_MAX_FILE_BYTES)]
    max_file_bytes: u64,
    /// Refuse files with a line longer than this many bytes.
    #[arg(long, default_value_t = SizeBudget::DEFAULT_MAX_LINE_BYTES)]
    max_line_bytes: usize,
    /// Follow symlinks that lead outside the paths given (refused by default, so a link to a
    /// secrets file never has a line printed in a snippet).
    #[arg(long)]
    follow_external_symlinks: bool,
}

impl ReadArgs {
    pub(super) fn external_symlinks(&self) -> ExternalSymlinks {
        self.follow_external_symlinks.into()
    }

    pub(super) fn loader(&self) -> Loader {
        let budget = SizeBudget {
            max_file_bytes: self.max_file_bytes,
            max_line_bytes: self.max_line_bytes,
        };
        Loader::new(Catalogue::bundled(), budget).with_external_symlinks(self.external_symlinks())
    }
}

#[derive(Debug, clap::Args)]
struct InputArgs {
    #[command(flatten)]
    load: LoadArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

impl InputArgs {
    fn load(&self) -> (Loader, PolicyTree) {
        self.load.load()
    }

    fn color(&self) -> bool {
        self.format == Format::Human
            && std::io::stdout().is_terminal()
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
    }
}

#[derive(Debug, clap::Args)]
struct ValidateArgs {
    #[command(flatten)]
    input: InputArgs,
}

#[derive(Debug, Clone, clap::Args)]
pub(super) struct PackArgs {
    /// Rule pack to run (repeatable); `all` runs every pack. Default: the packs whose
    /// jurisdiction matches each service.
    #[arg(long = "pack", value_name = "ID")]
    packs: Vec<String>,
    /// Folder of an extra rule pack, or of several packs (repeatable).
    #[arg(long = "rules", value_name = "DIR")]
    rule_dirs: Vec<PathBuf>,
    /// Refuse rule pack files (`pack.yaml`, `rules.yaml` under `--rules`) larger than this
    /// many bytes.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_PACK_BYTES)]
    max_pack_bytes: u64,
}

impl PackArgs {
    /// The bundled packs plus `--rules`, or the usage error to print.
    fn rule_set(&self) -> Result<RuleSet, RuleSet> {
        let mut set = RuleSet::bundled();
        for dir in &self.rule_dirs {
            set.add_dir_within(dir, self.max_pack_bytes);
        }
        if set.diagnostics.is_empty() {
            Ok(set)
        } else {
            Err(set)
        }
    }

    fn selection(&self, set: &RuleSet) -> Result<PackSelection, String> {
        if self.packs.is_empty() {
            return Ok(PackSelection::ByJurisdiction);
        }
        if self.packs.iter().any(|p| p == "all") {
            return Ok(PackSelection::All);
        }
        for id in &self.packs {
            if set.pack(id).is_none() {
                let known: Vec<&str> = set.packs.iter().map(|p| p.manifest.id.as_str()).collect();
                let hint = closest(id, known.iter().copied()).map_or_else(
                    || format!("packs: {}, all", known.join(", ")),
                    |b| format!("did you mean `{b}`?"),
                );
                return Err(format!("unknown pack `{id}`; {hint}"));
            }
        }
        Ok(PackSelection::Named(self.packs.clone()))
    }
}

#[derive(Debug, clap::Args)]
struct CheckArgs {
    #[command(flatten)]
    audit: report_command::AuditArgs,
    /// Output format of the terminal report.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Also write a report: FORMAT=FILE with FORMAT md, html, json, sarif or junit
    /// (repeatable), e.g. `--output sarif=authaudit.sarif --output junit=authaudit.xml`.
    #[arg(long = "output", value_name = "FORMAT=FILE", value_parser = report_command::parse_output)]
    outputs: Vec<report_command::OutputSpec>,
    #[command(flatten)]
    document: report_command::DocumentArgs,
}

/// `--at`: a calendar day.
pub(super) fn parse_at(text: &str) -> Result<Day, String> {
    let well_formed = text.len() == 10 && text.chars().filter(|c| *c == '-').count() == 2;
    if !well_formed {
        return Err(format!("`{text}` is not a date: write YYYY-MM-DD"));
    }
    parse_date(text)
}

/// Today's date in UTC, from the system clock.
pub(super) fn today() -> Day {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    day_from_unix_days(i64::try_from(seconds / 86_400).unwrap_or(0))
}

#[derive(Debug, Subcommand)]
pub(super) enum RulesCommand {
    /// List rules.
    List {
        #[command(flatten)]
        packs: PackArgs,
        /// Only rules of this severity.
        #[arg(long, value_enum)]
        severity: Option<Severity>,
        /// Show each rule's citations with the source's issuer, edition, dates and reference.
        #[arg(long)]
        long: bool,
        /// Output format (`json` always includes citations and sources).
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Explain a rule: citation, rationale, remediation, examples.
    Explain {
        /// Rule id, e.g. JP-JBA-LINK-01.
        id: String,
        #[command(flatten)]
        packs: PackArgs,
    },
    /// Run every rule's own examples; fails on a miss or a false positive.
    Test {
        #[command(flatten)]
        packs: PackArgs,
    },
    /// Write the rule reference (Markdown) generated from the packs.
    Docs {
        /// Output folder.
        #[arg(long, default_value = "docs/rules")]
        out: PathBuf,
        #[command(flatten)]
        packs: PackArgs,
    },
}

/// Exit code for invalid input found.
pub(super) const EXIT_INVALID: u8 = 1;
/// Exit code for usage and I/O errors.
pub(super) const EXIT_ERROR: u8 = 2;

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return if error.use_stderr() {
                ExitCode::from(EXIT_ERROR)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match cli.command {
        Command::Validate(args) => validate(&args),
        Command::Check(args) => check(&args),
        Command::Rules(command) => rules_command::run(&command),
        Command::Schema { report, attackers } => {
            let schema = if report {
                crate::report::json::report_schema()
            } else if attackers {
                crate::attackers::profile_schema()
            } else {
                policy_schema(&Catalogue::bundled())
            };
            let text = serde_json::to_string_pretty(&schema).unwrap_or_default();
            print_or_exit(&format!("{text}\n"), ExitCode::SUCCESS)
        }
        Command::Factors => print_or_exit(&factor_table(&Catalogue::bundled()), ExitCode::SUCCESS),
        Command::Migrate(args) => migrate_command::run(&args),
        Command::Report(args) => report_command::run(&args),
        Command::Paths(args) => paths_command::run(&args),
    }
}

fn validate(args: &ValidateArgs) -> ExitCode {
    let (_, tree) = args.input.load();
    let output = report::render_validation(&tree, args.input.format, args.input.color());
    print_or_exit(&output, input_status(&tree).unwrap_or(ExitCode::SUCCESS))
}

/// The exit code the input alone calls for: 2 for unreadable input, 1 for invalid files.
pub(super) fn input_status(tree: &PolicyTree) -> Option<ExitCode> {
    if !tree.discovery.is_empty() || tree.files.iter().any(|f| f.has_io_error()) {
        Some(ExitCode::from(EXIT_ERROR))
    } else if tree.files.iter().any(|f| !f.is_valid()) {
        Some(ExitCode::from(EXIT_INVALID))
    } else {
        None
    }
}

/// Prints rule-pack load errors (with snippets) and returns the usage-error exit code.
pub(super) fn refuse_packs(set: &RuleSet) -> ExitCode {
    let mut out = String::new();
    let source = |name: &str| set.text(name);
    for diagnostic in &set.diagnostics {
        write_diagnostic(&mut out, diagnostic, &source, Style { color: false });
    }
    let _ = writeln!(
        out,
        "rule packs refused ({} problems)",
        set.diagnostics.len()
    );
    eprint!("{out}");
    ExitCode::from(EXIT_ERROR)
}

pub(super) fn usage_error(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(EXIT_ERROR)
}

fn check(args: &CheckArgs) -> ExitCode {
    let audit_args = &args.audit;
    if args.format == Format::Json
        && let Err(set) = audit_args.packs.rule_set()
    {
        // Machines asked for JSON: they get it, with the packs' problems, and exit 2.
        let text = report::json::render_refused_packs(&set.diagnostics);
        return print_or_exit(&text, ExitCode::from(EXIT_ERROR));
    }
    let audit = match report_command::run_audit(&audit_args.load, &audit_args.packs, audit_args.at)
    {
        Ok(audit) => audit,
        Err(code) => return code,
    };
    let outcome = audit.outcome(audit_args.fail_on, audit_args.lang);
    for spec in &args.outputs {
        let written = report_command::render(spec.format, &audit, &outcome, &args.document)
            .and_then(|text| report_command::write_file(&spec.file, &text));
        if let Err(message) = written {
            return usage_error(&message);
        }
    }
    let output = match args.format {
        Format::Human => {
            let color = std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
            report::check::render(&outcome, color)
        }
        Format::Json => {
            match report_command::render(
                report_command::ReportFormat::Json,
                &audit,
                &outcome,
                &args.document,
            ) {
                Ok(text) => text,
                Err(message) => return usage_error(&message),
            }
        }
    };
    print_or_exit(&output, audit.status(&outcome))
}

fn factor_table(catalogue: &Catalogue) -> String {
    let mut out = format!(
        "{:<22} {:<11} {:<7} {:<10} {:<10} {:<10} description\n",
        "factor", "category", "secret", "key space", "delivered", "unlock"
    );
    for f in &catalogue.factors {
        let or_dash = |v: Option<String>| v.unwrap_or_else(|| "-".to_owned());
        let _ = writeln!(
            out,
            "{:<22} {:<11} {:<7} {:<10} {:<10} {:<10} {}",
            f.name,
            name_of(&f.category),
            if f.secret { "yes" } else { "no" },
            or_dash(f.key_space.map(|k| k.to_string())),
            or_dash(f.delivered_by.map(|d| name_of(&d))),
            or_dash(f.unlock.map(|u| name_of(&u))),
            f.description
        );
    }
    out
}

/// Prints `text`; a closed pipe (`| head`) is not an error.
pub(super) fn print_or_exit(text: &str, code: ExitCode) -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => code,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => code,
        Err(e) => {
            eprintln!("authaudit: cannot write output: {e}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}
