//! Per-phase wall time for `--timings`: where a run spent its time (discover, read, parse,
//! validate, evaluate, paths, render), measured with [`Instant`] at phase boundaries and
//! printed on stderr by the CLI. Off unless [`enable`]d; while off, a span costs one relaxed
//! atomic load, so the loader and the evaluator are instrumented unconditionally.
//!
//! Spans nest on one thread and each phase is charged its exclusive time (evaluate does not
//! count the paths analysis it runs). Read, parse and per-file validation run interleaved on
//! several threads: inside a [`parallel`] block each worker adds its thread time per phase,
//! and the block's wall time is split between its phases in proportion to that thread time,
//! so the phase rows still add up to the wall time of the run.

use std::cell::RefCell;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A step of the pipeline, in pipeline order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Discover,
    Read,
    Parse,
    Validate,
    Evaluate,
    Paths,
    Render,
}

impl Phase {
    pub const ALL: [Phase; 7] = [
        Phase::Discover,
        Phase::Read,
        Phase::Parse,
        Phase::Validate,
        Phase::Evaluate,
        Phase::Paths,
        Phase::Render,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Phase::Discover => "discover",
            Phase::Read => "read",
            Phase::Parse => "parse",
            Phase::Validate => "validate",
            Phase::Evaluate => "evaluate",
            Phase::Paths => "paths",
            Phase::Render => "render",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// What one process (or one test) recorded.
pub struct Recorder {
    enabled: AtomicBool,
    /// Wall nanoseconds charged to each phase.
    wall: [AtomicU64; 7],
    /// Thread nanoseconds of each phase inside parallel blocks, summed over threads.
    thread: [AtomicU64; 7],
    /// The process's peak resident memory (KiB) when each phase last ended; 0 where the
    /// system does not say (only Linux's `/proc/self/status` is read).
    peak_after: [AtomicU64; 7],
}

/// The recorder of the process, which the loader, the evaluator and the CLI use.
pub static GLOBAL: Recorder = Recorder::new();

thread_local! {
    /// For each open span of this thread, the wall time of the spans and blocks nested in it.
    static NESTED: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
}

/// Starts recording in the process's recorder (for the rest of the process).
pub fn enable() {
    GLOBAL.enable();
}

pub fn enabled() -> bool {
    GLOBAL.enabled()
}

/// Opens a span of `phase` in the process's recorder.
pub fn span(phase: Phase) -> Span<'static> {
    GLOBAL.span(phase)
}

/// [`Recorder::on_worker`] on the process's recorder.
pub fn on_worker<T>(phase: Phase, work: impl FnOnce() -> T) -> T {
    GLOBAL.on_worker(phase, work)
}

/// [`Recorder::parallel`] on the process's recorder.
pub fn parallel<T>(phases: &[Phase], work: impl FnOnce() -> T) -> T {
    GLOBAL.parallel(phases, work)
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// Charges `nanos` of wall time to the innermost open span of this thread, if any, so that
/// span keeps only its exclusive time.
fn charge_enclosing(nanos: u64) {
    NESTED.with(|stack| {
        if let Some(outer) = stack.borrow_mut().last_mut() {
            *outer = outer.saturating_add(nanos);
        }
    });
}

/// A phase running on the current thread until the guard is dropped.
#[must_use = "the phase ends when the guard is dropped"]
pub struct Span<'a> {
    recorder: &'a Recorder,
    phase: Phase,
    start: Option<Instant>,
}

impl Drop for Span<'_> {
    fn drop(&mut self) {
        let Some(start) = self.start else { return };
        let total = nanos(start.elapsed());
        let nested = NESTED.with(|stack| stack.borrow_mut().pop()).unwrap_or(0);
        self.recorder.wall[self.phase.index()]
            .fetch_add(total.saturating_sub(nested), Ordering::Relaxed);
        self.recorder.note_peak(self.phase);
        charge_enclosing(total);
    }
}

impl Default for Recorder {
    fn default() -> Self {
        Self::new()
    }
}

impl Recorder {
    pub const fn new() -> Self {
        Self {
            enabled: AtomicBool::new(false),
            wall: [const { AtomicU64::new(0) }; 7],
            thread: [const { AtomicU64::new(0) }; 7],
            peak_after: [const { AtomicU64::new(0) }; 7],
        }
    }

    fn note_peak(&self, phase: Phase) {
        if let Some(kib) = peak_memory_kib() {
            self.peak_after[phase.index()].fetch_max(kib, Ordering::Relaxed);
        }
    }

    pub fn enable(&self) {
        self.enabled.store(true, Ordering::Relaxed);
    }

    pub fn enabled(&self) -> bool {
        self.enabled.load(Ordering::Relaxed)
    }

    /// Clears what was recorded (benchmarks measure several runs in one process).
    pub fn reset(&self) {
        for counter in self.wall.iter().chain(&self.thread).chain(&self.peak_after) {
            counter.store(0, Ordering::Relaxed);
        }
    }

    /// Opens a span of `phase` on this thread (a no-op unless enabled).
    pub fn span(&self, phase: Phase) -> Span<'_> {
        if !self.enabled() {
            return Span {
                recorder: self,
                phase,
                start: None,
            };
        }
        NESTED.with(|stack| stack.borrow_mut().push(0));
        Span {
            recorder: self,
            phase,
            start: Some(Instant::now()),
        }
    }

    /// Runs `work` as part of `phase` on a worker of a [`parallel`](Self::parallel) block,
    /// adding its duration to the phase's thread time.
    pub fn on_worker<T>(&self, phase: Phase, work: impl FnOnce() -> T) -> T {
        if !self.enabled() {
            return work();
        }
        let start = Instant::now();
        let out = work();
        self.thread[phase.index()].fetch_add(nanos(start.elapsed()), Ordering::Relaxed);
        out
    }

    /// Runs `work`, whose workers record their time with [`on_worker`](Self::on_worker)
    /// under `phases`, and splits the block's wall time between those phases in proportion
    /// to their thread time.
    pub fn parallel<T>(&self, phases: &[Phase], work: impl FnOnce() -> T) -> T {
        if !self.enabled() || phases.is_empty() {
            return work();
        }
        let before: Vec<u64> = phases
            .iter()
            .map(|p| self.thread[p.index()].load(Ordering::Relaxed))
            .collect();
        let start = Instant::now();
        let out = work();
        let wall = nanos(start.elapsed());
        let spent: Vec<u64> = phases
            .iter()
            .zip(&before)
            .map(|(p, b)| {
                self.thread[p.index()]
                    .load(Ordering::Relaxed)
                    .saturating_sub(*b)
            })
            .collect();
        let total: u128 = spent.iter().map(|&s| u128::from(s)).sum();
        for (phase, &s) in phases.iter().zip(&spent) {
            let share = match (u128::from(wall) * u128::from(s)).checked_div(total) {
                Some(part) => u64::try_from(part).unwrap_or(u64::MAX),
                // Nothing was recorded (no file): the block's time is the first phase's.
                None if *phase == phases[0] => wall,
                None => 0,
            };
            self.wall[phase.index()].fetch_add(share, Ordering::Relaxed);
            self.note_peak(*phase);
        }
        charge_enclosing(wall);
        out
    }

    /// Wall time charged to `phase` so far.
    pub fn wall(&self, phase: Phase) -> Duration {
        Duration::from_nanos(self.wall[phase.index()].load(Ordering::Relaxed))
    }

    /// Thread time of `phase` inside parallel blocks so far, summed over threads.
    pub fn thread_time(&self, phase: Phase) -> Duration {
        Duration::from_nanos(self.thread[phase.index()].load(Ordering::Relaxed))
    }

    /// The table `--timings` prints: each phase's wall time and share of `total`, the thread
    /// time of the phases that ran on several threads, and what no phase accounts for
    /// (arguments, configuration, rule packs, waivers and baseline).
    pub fn table(&self, total: Duration, threads: usize) -> String {
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let share = |d: Duration| {
            if total.is_zero() {
                0.0
            } else {
                100.0 * d.as_secs_f64() / total.as_secs_f64()
            }
        };
        let mib = |kib: u64| {
            if kib == 0 {
                "-".to_owned()
            } else {
                format!("{:.1} MiB", kib as f64 / 1024.0)
            }
        };
        let mut out = format!(
            "timings ({threads} thread{}; wall time per phase, share of the total, peak memory \
             when the phase ended)\n",
            if threads == 1 { "" } else { "s" }
        );
        let mut phases = Duration::ZERO;
        for phase in Phase::ALL {
            let w = self.wall(phase);
            phases += w;
            let peak = self.peak_after[phase.index()].load(Ordering::Relaxed);
            let _ = write!(
                out,
                "  {:<9} {:>10.1} ms {:>5.1}% {:>11}",
                phase.name(),
                ms(w),
                share(w),
                mib(peak)
            );
            let t = self.thread_time(phase);
            if !t.is_zero() {
                let _ = write!(out, "   ({:.1} ms of thread time)", ms(t));
            }
            out.push('\n');
        }
        let other = total.saturating_sub(phases);
        let _ = writeln!(
            out,
            "  {:<9} {:>10.1} ms {:>5.1}% {:>11}   (arguments, configuration, rule packs, gate)",
            "other",
            ms(other),
            share(other),
            ""
        );
        let _ = writeln!(
            out,
            "  {:<9} {:>10.1} ms 100.0% {:>11}",
            "total",
            ms(total),
            mib(peak_memory_kib().unwrap_or(0))
        );
        out
    }
}

/// The process's peak resident set size in KiB (`VmHWM`), where the system reports it.
pub fn peak_memory_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_spans_and_parallel_blocks_add_up_to_the_wall_time() {
        // A recorder of its own: other tests of the crate may be loading files on other
        // threads with the process's recorder.
        let recorder = Recorder::new();
        recorder.enable();
        let started = Instant::now();
        {
            let _evaluate = recorder.span(Phase::Evaluate);
            std::thread::sleep(Duration::from_millis(20));
            {
                let _paths = recorder.span(Phase::Paths);
                std::thread::sleep(Duration::from_millis(30));
            }
            recorder.parallel(&[Phase::Read, Phase::Parse], || {
                std::thread::scope(|scope| {
                    scope.spawn(|| {
                        recorder.on_worker(Phase::Read, || {
                            std::thread::sleep(Duration::from_millis(10));
                        });
                    });
                    recorder.on_worker(Phase::Parse, || {
                        std::thread::sleep(Duration::from_millis(40));
                    });
                });
            });
        }
        let total = started.elapsed();
        let evaluate = recorder.wall(Phase::Evaluate);
        let paths = recorder.wall(Phase::Paths);
        let (read, parse) = (recorder.wall(Phase::Read), recorder.wall(Phase::Parse));
        assert!(paths >= Duration::from_millis(30), "{paths:?}");
        // Exclusive: the evaluate span counts neither the paths span nor the block.
        assert!(evaluate >= Duration::from_millis(20), "{evaluate:?}");
        assert!(evaluate < Duration::from_millis(20) + paths, "{evaluate:?}");
        // The block's wall time is split about 1:4 between read and parse.
        assert!(parse > read * 2, "{read:?} {parse:?}");
        assert!(recorder.thread_time(Phase::Read) >= Duration::from_millis(10));
        let sum = evaluate + paths + read + parse;
        assert!(sum <= total, "{sum:?} > {total:?}");
        assert!(
            total - sum < Duration::from_millis(5),
            "{sum:?} vs {total:?}"
        );
        let text = recorder.table(total, 2);
        assert!(text.starts_with("timings (2 threads;"), "{text}");
        for name in [
            "discover", "read", "parse", "validate", "evaluate", "paths", "render",
        ] {
            assert!(text.contains(&format!("\n  {name:<9} ")), "{text}");
        }
        assert!(text.contains("of thread time"), "{text}");
        assert!(text.lines().last().unwrap().contains(" 100.0% "), "{text}");
        if cfg!(target_os = "linux") {
            let peak = peak_memory_kib().expect("Linux reports VmHWM");
            assert!(peak > 0);
            assert!(text.contains(" MiB"), "{text}");
        }
    }

    #[test]
    fn a_disabled_recorder_records_nothing() {
        let recorder = Recorder::new();
        {
            let _span = recorder.span(Phase::Parse);
            recorder.parallel(&[Phase::Read], || recorder.on_worker(Phase::Read, || ()));
        }
        for phase in Phase::ALL {
            assert_eq!(recorder.wall(phase), Duration::ZERO);
            assert_eq!(recorder.thread_time(phase), Duration::ZERO);
        }
    }
}
