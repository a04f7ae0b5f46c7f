//! `--config FILE` and `--no-config`, and laying `authaudit.toml` under the command line: a
//! flag given on the command line wins; a key of the file fills what the command line left
//! out; the built-in default applies when neither says. A configuration with any problem
//! stops the run with exit code 2 before anything is loaded.

use super::report_command::{AuditArgs, DocumentArgs, OutputSpec, ReportFormat, refuse_file};
use super::{Cli, Command, LoadArgs, PackArgs};
use crate::config::{self, Config, Source};
use std::path::PathBuf;
use std::process::ExitCode;

/// Which configuration file a command reads.
#[derive(Debug, Clone, clap::Args)]
pub(super) struct ConfigArgs {
    /// Read this configuration file instead of the `authaudit.toml` of the current folder or
    /// its nearest parent (up to the repository root).
    #[arg(long = "config", value_name = "FILE", conflicts_with = "no_config")]
    file: Option<PathBuf>,
    /// Read no configuration file: only the command line and the built-in defaults apply.
    #[arg(long)]
    no_config: bool,
}

impl ConfigArgs {
    fn source(&self) -> Source {
        match (&self.file, self.no_config) {
            (_, true) => Source::Nothing,
            (Some(file), false) => Source::File(file.clone()),
            (None, false) => Source::Discover,
        }
    }

    /// The configuration, if there is one; the error is the exit code already reported.
    fn read(&self) -> Result<Option<Config>, ExitCode> {
        config::load(&self.source()).map_err(|refused| refuse_file(&refused, "configuration"))
    }
}

impl Cli {
    /// Reads the configuration the command asks for and fills in what its flags left out.
    pub(super) fn configure(&mut self) -> Result<(), ExitCode> {
        match &mut self.command {
            Command::Validate(args) => {
                let load = &mut args.input.load;
                let config = load.config.read()?;
                load.configure(config.as_ref());
            }
            Command::Check(args) => {
                let config = args.audit.load.config.read()?;
                args.audit.configure(config.as_ref());
                args.document.configure(config.as_ref());
                if let Some(config) = &config
                    && args.outputs.is_empty()
                {
                    args.outputs = outputs(config);
                }
            }
            Command::Report(args) => {
                let config = args.audit.load.config.read()?;
                args.audit.configure(config.as_ref());
                args.document.configure(config.as_ref());
            }
            Command::Paths(args) => {
                let config = args.load.config.read()?;
                args.load.configure(config.as_ref());
                if let Some(config) = &config
                    && args.attacker_dirs.is_empty()
                {
                    args.attacker_dirs.clone_from(&config.attackers);
                }
            }
            _ => {}
        }
        Ok(())
    }
}

impl LoadArgs {
    /// Paths (the current folder when neither the command line nor the file names any) and
    /// the include/exclude globs of folder discovery.
    fn configure(&mut self, config: Option<&Config>) {
        if let Some(config) = config {
            if self.paths.is_empty() {
                self.paths.clone_from(&config.paths);
            }
            if self.include.is_empty() {
                self.include.clone_from(&config.include);
            }
            if self.exclude.is_empty() {
                self.exclude.clone_from(&config.exclude);
            }
        }
        if self.paths.is_empty() {
            self.paths.push(PathBuf::from("."));
        }
    }
}

impl PackArgs {
    fn configure(&mut self, config: Option<&Config>) {
        let Some(config) = config else { return };
        if self.packs.is_empty() {
            self.packs.clone_from(&config.packs);
        }
        if self.rule_dirs.is_empty() {
            self.rule_dirs.clone_from(&config.rules);
        }
    }
}

impl AuditArgs {
    fn configure(&mut self, config: Option<&Config>) {
        self.load.configure(config);
        self.packs.configure(config);
        let Some(config) = config else { return };
        self.fail_on = self.fail_on.or(config.fail_on);
        self.lang = self.lang.or(config.lang);
        self.max_waiver_days = self.max_waiver_days.or(config.max_waiver_days);
        if self.waivers.is_none() {
            self.waivers.clone_from(&config.waivers);
        }
        if self.baseline.is_none() {
            self.baseline.clone_from(&config.baseline);
        }
    }
}

impl DocumentArgs {
    fn configure(&mut self, config: Option<&Config>) {
        if let Some(config) = config
            && self.org.is_none()
        {
            self.org.clone_from(&config.organisation);
        }
    }
}

/// The reports `outputs` names, as `--output FORMAT=FILE` would give them.
fn outputs(config: &Config) -> Vec<OutputSpec> {
    config
        .outputs
        .iter()
        .filter_map(|(format, file)| {
            ReportFormat::parse(format).map(|format| OutputSpec {
                format,
                file: file.clone(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::ReportFormat;
    use crate::config::OUTPUT_FORMATS;

    #[test]
    fn every_output_format_of_the_configuration_is_a_report_format() {
        for name in OUTPUT_FORMATS {
            assert!(ReportFormat::parse(name).is_some(), "{name}");
        }
    }
}
