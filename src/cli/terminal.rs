//! What depends on the terminal a command writes to, decided in one place so every command
//! behaves alike: whether human output is coloured (`--color`, `NO_COLOR`, whether the stream
//! is a terminal), whether a passing run prints anything (`--quiet`), and the progress bar on
//! stderr. Machine formats never go through the colour or quiet decisions; the progress bar is
//! the only thing drawn here, and only on stderr, so stdout never depends on the terminal.

use crate::load::ProgressHook;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressFinish, ProgressStyle};
use std::ffi::OsStr;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::OnceLock;
use std::time::Duration;

/// `--color`: when human output is coloured.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorWhen {
    /// Colour when the output goes to a terminal and `NO_COLOR` is unset or empty.
    #[default]
    Auto,
    /// Colour even into a pipe or a file (and despite `NO_COLOR`).
    Always,
    /// Never colour.
    Never,
}

/// The global options that shape what reaches the terminal.
#[derive(Debug, Clone, Copy, Default)]
pub struct Settings {
    pub color: ColorWhen,
    pub quiet: bool,
}

// Set once by `main` before any command runs, so each call site stays a one-line question
// rather than every command threading the global options through its arguments.
static SETTINGS: OnceLock<Settings> = OnceLock::new();

pub fn init(settings: Settings) {
    let _ = SETTINGS.set(settings);
}

fn settings() -> Settings {
    SETTINGS.get().copied().unwrap_or_default()
}

/// The stream a piece of human output is written to.
#[derive(Debug, Clone, Copy)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// Whether human output written to `stream` is coloured.
pub fn color(stream: Stream) -> bool {
    let is_terminal = match stream {
        Stream::Stdout => std::io::stdout().is_terminal(),
        Stream::Stderr => std::io::stderr().is_terminal(),
    };
    decide_color(
        settings().color,
        is_terminal,
        std::env::var_os("NO_COLOR").as_deref(),
    )
}

/// `--color always` and `never` are explicit requests and win; `auto` colours a terminal
/// unless `NO_COLOR` is set to something (no-color.org: an empty value does not count).
fn decide_color(when: ColorWhen, is_terminal: bool, no_color: Option<&OsStr>) -> bool {
    match when {
        ColorWhen::Always => true,
        ColorWhen::Never => false,
        ColorWhen::Auto => is_terminal && no_color.is_none_or(OsStr::is_empty),
    }
}

/// Whether `--quiet` silences the human report of a run that ends with `code`: only a passing
/// run is silenced, since a failing run's report is what the reader has to act on.
pub fn silenced(code: ExitCode) -> bool {
    settings().quiet && code == ExitCode::SUCCESS
}

/// Prints a human report, unless [`silenced`].
pub fn print_report(text: &str, code: ExitCode) -> ExitCode {
    if silenced(code) {
        return code;
    }
    super::print_or_exit(text, code)
}

/// How long a run goes before its progress bar appears: shorter runs never flash one.
const PROGRESS_DELAY: Duration = Duration::from_millis(300);
const PROGRESS_TICK: Duration = Duration::from_millis(100);
const PROGRESS_TEMPLATE: &str = "{spinner} {msg} [{bar:30}] {pos}/{len} files";

/// A loader hook that draws a progress bar on stderr, or `None` when none should be drawn.
/// The bar lives as long as the hook, that is as long as the loader holding it: dropping the
/// loader clears the bar, so a command drops it before printing.
pub fn progress_hook() -> Option<ProgressHook> {
    let wanted = progress_wanted(
        settings().quiet,
        std::io::stderr().is_terminal(),
        std::env::var_os("CI").as_deref(),
    );
    if !wanted {
        return None;
    }
    let style = ProgressStyle::with_template(PROGRESS_TEMPLATE)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden())
        .with_style(style)
        .with_message("reading policies")
        .with_finish(ProgressFinish::AndClear);
    reveal_after_delay(&bar);
    let guard = ClearOnDrop(bar);
    Some(Box::new(move |done, total| {
        let bar = &guard.0;
        bar.set_length(u64::try_from(total).unwrap_or(u64::MAX));
        bar.set_position(u64::try_from(done).unwrap_or(u64::MAX));
        if done == total {
            // Evaluation or the path search comes next: the spinner shows the run is alive.
            bar.set_message("analysing");
        }
    }))
}

/// A bar only for a person watching: never under `--quiet`, never when stderr is a file or
/// pipe, never in CI (some CI runners give commands a pseudo-terminal, and their logs would
/// fill with redraws).
fn progress_wanted(quiet: bool, stderr_is_terminal: bool, ci: Option<&OsStr>) -> bool {
    let in_ci = ci.is_some_and(|v| !v.is_empty() && v != "false" && v != "0");
    !quiet && stderr_is_terminal && !in_ci
}

/// Starts drawing `bar` after [`PROGRESS_DELAY`] unless it is finished by then. A finished
/// bar is never drawn again (its ticker stops at once), so a reveal that loses the race with
/// the clear draws nothing.
fn reveal_after_delay(bar: &ProgressBar) {
    let weak = bar.downgrade();
    // Should no thread be available, the run simply goes without a bar.
    let _ = std::thread::Builder::new()
        .name("progress".to_owned())
        .spawn(move || {
            std::thread::sleep(PROGRESS_DELAY);
            if let Some(bar) = weak.upgrade()
                && !bar.is_finished()
            {
                bar.set_draw_target(ProgressDrawTarget::stderr());
                bar.enable_steady_tick(PROGRESS_TICK);
            }
        });
}

/// Finishes (and so clears) the bar when the hook is dropped. Dropping the last handle would
/// clear it too, but the reveal thread may hold one for a moment; finishing here makes the
/// clear happen before the command prints.
struct ClearOnDrop(ProgressBar);

impl Drop for ClearOnDrop {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_colours_a_terminal_only_without_no_color() {
        let auto = ColorWhen::Auto;
        assert!(decide_color(auto, true, None));
        assert!(decide_color(auto, true, Some(OsStr::new(""))));
        assert!(!decide_color(auto, true, Some(OsStr::new("1"))));
        assert!(!decide_color(auto, false, None));
    }

    #[test]
    fn explicit_choices_win_over_terminal_and_no_color() {
        assert!(decide_color(
            ColorWhen::Always,
            false,
            Some(OsStr::new("1"))
        ));
        assert!(!decide_color(ColorWhen::Never, true, None));
    }

    #[test]
    fn progress_only_for_a_person_at_a_terminal() {
        assert!(progress_wanted(false, true, None));
        assert!(progress_wanted(false, true, Some(OsStr::new("false"))));
        assert!(!progress_wanted(false, true, Some(OsStr::new("true"))));
        assert!(!progress_wanted(false, false, None));
        assert!(!progress_wanted(true, true, None));
    }

    #[test]
    fn progress_template_is_valid() {
        assert!(ProgressStyle::with_template(PROGRESS_TEMPLATE).is_ok());
    }
}
