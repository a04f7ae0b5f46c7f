//! The command line: parses arguments, runs the pipeline, prints through the report layer and
//! maps results to exit codes (0 clean, 1 invalid input found, 2 usage or I/O error).

use crate::factors::Catalogue;
use crate::load::Loader;
use crate::report::{self, Format};
use crate::schema::policy_schema;
use crate::source::SizeBudget;
use clap::{Parser, Subcommand};
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
    /// Print the JSON Schema of the policy format.
    Schema,
    /// List the factor catalogue: every factor a policy may name.
    Factors,
}

#[derive(Debug, clap::Args)]
struct ValidateArgs {
    /// Policy files or folders (folders are searched for .yaml/.yml files).
    #[arg(default_value = ".")]
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Refuse files larger than this many bytes.
    #[arg(long, default_value_t = SizeBudget::DEFAULT_MAX_FILE_BYTES)]
    max_file_bytes: u64,
    /// Refuse files with a line longer than this many bytes.
    #[arg(long, default_value_t = SizeBudget::DEFAULT_MAX_LINE_BYTES)]
    max_line_bytes: usize,
}

/// Exit code for invalid input found.
const EXIT_INVALID: u8 = 1;
/// Exit code for usage and I/O errors.
const EXIT_ERROR: u8 = 2;

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
        Command::Schema => {
            let schema = policy_schema(&Catalogue::bundled());
            let text = serde_json::to_string_pretty(&schema).unwrap_or_default();
            print_or_exit(&format!("{text}\n"), ExitCode::SUCCESS)
        }
        Command::Factors => print_or_exit(&factor_table(&Catalogue::bundled()), ExitCode::SUCCESS),
    }
}

fn validate(args: &ValidateArgs) -> ExitCode {
    let budget = SizeBudget {
        max_file_bytes: args.max_file_bytes,
        max_line_bytes: args.max_line_bytes,
    };
    let loader = Loader::new(Catalogue::bundled(), budget);
    let tree = loader.load_paths(&args.paths);
    let color = args.format == Format::Human
        && std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let output = report::render_validation(&tree, args.format, color);
    let code = if !tree.discovery.is_empty() || tree.files.iter().any(|f| f.has_io_error()) {
        ExitCode::from(EXIT_ERROR)
    } else if tree.files.iter().any(|f| !f.is_valid()) {
        ExitCode::from(EXIT_INVALID)
    } else {
        ExitCode::SUCCESS
    };
    print_or_exit(&output, code)
}

fn factor_table(catalogue: &Catalogue) -> String {
    let mut out = String::from(
        "factor                 category    secret  key space   delivered  description\n",
    );
    for f in &catalogue.factors {
        let category = serde_json::to_value(f.category)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let delivered = f
            .delivered_by
            .and_then(|d| serde_json::to_value(d).ok())
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_else(|| "-".to_owned());
        let key_space = f
            .key_space
            .map_or_else(|| "-".to_owned(), |k| k.to_string());
        out.push_str(&format!(
            "{:<22} {:<11} {:<7} {:<11} {:<10} {}\n",
            f.name,
            category,
            if f.secret { "yes" } else { "no" },
            key_space,
            delivered,
            f.description
        ));
    }
    out
}

/// Prints `text`; a closed pipe (`| head`) is not an error.
fn print_or_exit(text: &str, code: ExitCode) -> ExitCode {
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
