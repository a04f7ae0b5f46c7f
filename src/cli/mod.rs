//! The command line: parses arguments, runs the pipeline, prints through the report layer and
//! maps results to exit codes (0 clean, 1 findings at or above the threshold, 2 invalid input,
//! configuration, usage or I/O error).

mod config_args;
mod diff_command;
mod examples;
mod factors_command;
mod generate_command;
mod init_command;
mod migrate_command;
mod paths_command;
mod report_command;
mod rules_command;
mod terminal;
mod verify_command;

use crate::discover::ExternalSymlinks;
use crate::evaluate::PackSelection;
use crate::factors::Catalogue;
use crate::load::{Loader, PolicyTree};
use crate::model::{Day, day_from_unix_days, parse_date};
use crate::report::snippet::{Style, write_diagnostic};
use crate::report::{self, Format};
use crate::rules::{DEFAULT_MAX_PACK_BYTES, RuleSet, Severity};
use crate::schema::policy_schema;
use crate::source::SizeBudget;
use crate::suggest::closest;
use crate::timings::{self, Phase};
use clap::{Parser, Subcommand};
use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "authaudit",
    version,
    about = "Audit how payment services and banks authenticate people",
    after_help = examples::MAIN
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
    /// When to colour human output: on a terminal (`auto`, unless NO_COLOR is set), `always`
    /// or `never`.
    #[arg(long, global = true, value_enum, value_name = "WHEN", default_value_t = terminal::ColorWhen::Auto)]
    color: terminal::ColorWhen,
    /// Print nothing when the run passes (exit 0), and no progress bar; a failing run still
    /// prints its report. Machine formats are printed as usual.
    #[arg(short, long, global = true)]
    quiet: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check policy files for syntax, schema and cross-file errors.
    #[command(after_help = examples::VALIDATE)]
    Validate(ValidateArgs),
    /// Validate policy files, then evaluate them against rule packs.
    #[command(after_help = examples::CHECK)]
    Check(CheckArgs),
    /// List, explain, test and document rules.
    #[command(subcommand, after_help = examples::RULES)]
    Rules(RulesCommand),
    /// Print the JSON Schema of the policy format (or of the JSON report, or of an attacker
    /// profile).
    #[command(after_help = examples::SCHEMA)]
    Schema {
        /// The schema of the JSON report of `check --format json` and `report --format json`.
        #[arg(long)]
        report: bool,
        /// The schema of an attacker profile file (`rules/attackers/*.yaml`, `--attackers DIR`).
        #[arg(long, conflicts_with = "report")]
        attackers: bool,
    },
    /// List the factor catalogue: every factor a policy may name.
    #[command(after_help = examples::FACTORS)]
    Factors {
        /// Output format (`json`: every field of the catalogue, as in rules/factors.yaml).
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Rewrite v1 policy files as v2, keeping comments and layout.
    #[command(after_help = examples::MIGRATE)]
    Migrate(migrate_command::MigrateArgs),
    /// Audit and render a report: Markdown, HTML, JSON, SARIF, JUnit or GitLab code quality;
    /// or verify one.
    #[command(after_help = examples::REPORT)]
    Report(report_command::ReportArgs),
    /// Find the attack chains across services, from leaked data to money out, with odds,
    /// the notices on the way and the smallest fixes.
    #[command(after_help = examples::PATHS)]
    Paths(paths_command::PathsArgs),
    /// Write a commented starter authaudit.toml and policies/example.yaml (never overwrites).
    #[command(after_help = examples::INIT)]
    Init(init_command::InitArgs),
    /// Compare two JSON reports (or two `paths --format json` outputs): new, fixed and
    /// unchanged findings (or chains); exit 1 when something new fails the gate.
    #[command(after_help = examples::DIFF)]
    Diff(diff_command::DiffArgs),
    /// Print a shell completion script, e.g. `authaudit completions bash`.
    #[command(after_help = examples::COMPLETIONS)]
    Completions(generate_command::CompletionsArgs),
    /// Print the man page (roff), or write every page with `--out DIR`.
    #[command(after_help = examples::MAN)]
    Man(generate_command::ManArgs),
}

/// Which files to load, within which budgets.
#[derive(Debug, clap::Args)]
pub(super) struct LoadArgs {
    /// Policy files or folders. Folders are searched for .yaml/.yml files that are policies
    /// (a top-level `service` or `flows` key); other YAML files there are skipped and counted.
    /// A file named here is always checked.
    ///
    /// Default: `paths` in authaudit.toml, else the current folder.
    paths: Vec<PathBuf>,
    /// Only check the files found in folders that match this glob (repeatable), e.g.
    /// `--include 'policies/**'`; a glob without `/` matches file names in any folder.
    #[arg(long = "include", value_name = "GLOB", value_parser = crate::discover::check_glob)]
    pub(super) include: Vec<String>,
    /// Leave out the files found in folders that match this glob (repeatable), e.g.
    /// `--exclude 'tests/fixtures/**'`.
    #[arg(long = "exclude", value_name = "GLOB", value_parser = crate::discover::check_glob)]
    pub(super) exclude: Vec<String>,
    /// Print on stderr where the run spent its time: the wall time of each phase (discover,
    /// read, parse, validate, evaluate, paths, render) and its share of the total. Set
    /// AUTHAUDIT_THREADS=1 to measure on one thread.
    #[arg(long)]
    timings: bool,
    #[command(flatten)]
    read: ReadArgs,
    #[command(flatten)]
    config: config_args::ConfigArgs,
}

impl LoadArgs {
    /// On a terminal, the loader returned holds the progress bar: drop it before printing.
    pub(super) fn load(&self) -> (Loader, PolicyTree) {
        if self.timings {
            crate::timings::enable();
        }
        let mut loader = match self
            .read
            .loader()
            .with_filters(&self.include, &self.exclude)
        {
            Ok(loader) => loader,
            // Each glob passed `check_glob` already; only a set too large to compile ends here.
            Err(message) => {
                eprintln!("error: {message}");
                std::process::exit(i32::from(EXIT_ERROR));
            }
        };
        if let Some(hook) = terminal::progress_hook() {
            loader = loader.with_progress(hook);
        }
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
        self.format == Format::Human && terminal::color(terminal::Stream::Stdout)
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
    /// Also write a report: FORMAT=FILE with FORMAT md, html, json, sarif, junit or codequality
    /// (repeatable), e.g. `--output sarif=authaudit.sarif --output junit=authaudit.xml`.
    #[arg(long = "output", value_name = "FORMAT=FILE", value_parser = report_command::parse_output)]
    outputs: Vec<report_command::OutputSpec>,
    #[command(flatten)]
    document: report_command::DocumentArgs,
    /// Record the current findings in FILE (a baseline for `--baseline`) and use it for this
    /// run; refused when the input has errors.
    #[arg(long, value_name = "FILE", conflicts_with = "baseline")]
    write_baseline: Option<PathBuf>,
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
    #[command(after_help = examples::RULES_LIST)]
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
    #[command(after_help = examples::RULES_EXPLAIN)]
    Explain {
        /// Rule id, e.g. JP-FSA-LINK-NO-MFA (`authaudit rules list` shows them all).
        id: String,
        #[command(flatten)]
        packs: PackArgs,
    },
    /// Run every rule's own examples; fails on a miss, a false positive or a condition that
    /// fails to evaluate.
    #[command(after_help = examples::RULES_TEST)]
    Test {
        #[command(flatten)]
        packs: PackArgs,
    },
    /// Write the rule reference (Markdown) generated from the packs.
    #[command(after_help = examples::RULES_DOCS)]
    Docs {
        /// Output folder. Default: docs/rules, only inside authaudit's own source tree.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        #[command(flatten)]
        packs: PackArgs,
    },
}

/// Exit code for findings at or above `--fail-on` (chains for `paths`, a failed example for
/// `rules test`, a changed report for `report --verify`).
pub(super) const EXIT_INVALID: u8 = 1;
/// Exit code for invalid input, unreadable input, usage and configuration errors.
pub(super) const EXIT_ERROR: u8 = 2;

pub fn main() -> ExitCode {
    let started = std::time::Instant::now();
    let code = dispatch();
    if crate::timings::enabled() {
        let table = crate::timings::GLOBAL.table(started.elapsed(), crate::parallel::threads());
        eprint!("{table}");
    }
    code
}

/// Parses the arguments and runs the command.
fn dispatch() -> ExitCode {
    let mut cli = match Cli::try_parse() {
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
    terminal::init(terminal::Settings {
        color: cli.color,
        quiet: cli.quiet,
    });
    if let Err(code) = cli.configure() {
        return code;
    }
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
        Command::Factors { format } => factors_command::run(format),
        Command::Migrate(args) => migrate_command::run(&args),
        Command::Report(args) => report_command::run(&args),
        Command::Paths(args) => paths_command::run(&args),
        Command::Init(args) => init_command::run(&args),
        Command::Diff(args) => diff_command::run(&args),
        Command::Completions(args) => generate_command::completions(&args),
        Command::Man(args) => generate_command::man(&args),
    }
}

fn validate(args: &ValidateArgs) -> ExitCode {
    let (_, tree) = args.input.load();
    let tree = kept_until_exit(tree);
    let _render = timings::span(Phase::Render);
    let output = report::render_validation(tree, args.input.format, args.input.color());
    let status = input_status(tree).unwrap_or(ExitCode::SUCCESS);
    match args.input.format {
        Format::Human => terminal::print_report(&output, status),
        Format::Json => print_or_exit(&output, status),
    }
}

/// The exit code the input alone calls for: 2 for unreadable or invalid input and for a
/// folder with no policy file (`validate`, `check`, `report` and `paths` agree: invalid input
/// never passes a gate, and 1 stays the code for findings).
pub(super) fn input_status(tree: &PolicyTree) -> Option<ExitCode> {
    let invalid = !tree.discovery.is_empty() || tree.files.iter().any(|f| !f.is_valid());
    invalid.then(|| ExitCode::from(EXIT_ERROR))
}

/// Prints rule-pack load errors (with snippets) and returns the usage-error exit code.
pub(super) fn refuse_packs(set: &RuleSet) -> ExitCode {
    let mut out = String::new();
    let source = |name: &str| set.text(name);
    for diagnostic in &set.diagnostics {
        let color = terminal::color(terminal::Stream::Stderr);
        write_diagnostic(&mut out, diagnostic, &source, Style { color });
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
    let baseline_out = args.write_baseline.as_deref();
    let audit = match report_command::run_gated_audit(audit_args, &args.document, baseline_out) {
        Ok(audit) => kept_until_exit(audit),
        Err(code) => return code,
    };
    let _render = timings::span(Phase::Render);
    let outcome = audit.outcome(audit_args.fail_on(), audit_args.lang());
    report::github::publish(&outcome, &report::github::Env::from_process());
    for spec in &args.outputs {
        let written = report_command::render(spec.format, audit, &outcome, &args.document)
            .and_then(|text| report_command::write_file(&spec.file, &text));
        if let Err(message) = written {
            return usage_error(&message);
        }
    }
    let output = match args.format {
        Format::Human => {
            let text = report::check::render(&outcome, terminal::color(terminal::Stream::Stdout));
            return terminal::print_report(&text, audit.status(&outcome));
        }
        Format::Json => {
            match report_command::render(
                report_command::ReportFormat::Json,
                audit,
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

/// Hands `value` to the end of the process instead of dropping it. A command's trees, findings
/// and rule results are millions of small allocations on a large market, and freeing them one
/// by one took about a tenth of a `check` run; the process exits right after the command, and
/// the system takes the memory back whole. The CLI only: library callers drop as usual.
pub(super) fn kept_until_exit<'a, T: 'a>(value: T) -> &'a T {
    Box::leak(Box::new(value))
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
