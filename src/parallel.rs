//! Work spread over the machine's cores with the results kept in input order, so output never
//! depends on the number of threads or on which thread finished first.
//!
//! `AUTHAUDIT_THREADS=N` sets the number of threads (1 runs everything on the calling thread);
//! by default, one per core the process may use. Scoped standard-library threads rather than
//! a thread-pool crate: the loader and the evaluator each need one flat map over independent
//! files, which a shared counter balances well (see ARCHITECTURE.md, Performance).

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The environment variable that sets the number of threads.
pub const THREADS_VAR: &str = "AUTHAUDIT_THREADS";

/// Set by [`set_threads`]; 0 when not set.
static CHOSEN: AtomicUsize = AtomicUsize::new(0);

/// The number of threads to use: what [`set_threads`] chose, else `AUTHAUDIT_THREADS` when it
/// is a whole number of at least 1, else the cores available to the process.
pub fn threads() -> usize {
    static FROM_ENVIRONMENT: OnceLock<usize> = OnceLock::new();
    match CHOSEN.load(Ordering::Relaxed) {
        0 => *FROM_ENVIRONMENT.get_or_init(|| {
            threads_from(
                std::env::var(THREADS_VAR).ok().as_deref(),
                std::thread::available_parallelism().map_or(1, usize::from),
            )
        }),
        n => n,
    }
}

/// Sets the number of threads for the rest of the process (benchmarks and tests compare one
/// thread with several in one run); 0 goes back to `AUTHAUDIT_THREADS` or the cores.
pub fn set_threads(n: usize) {
    CHOSEN.store(n, Ordering::Relaxed);
}

/// What `AUTHAUDIT_THREADS=given` means on a machine with `cores` cores. A value that is not a
/// number of at least 1 is ignored rather than refused: it tunes speed, never results.
fn threads_from(given: Option<&str>, cores: usize) -> usize {
    given
        .and_then(|text| text.trim().parse::<usize>().ok())
        .filter(|&n| n >= 1)
        .unwrap_or(cores)
        .max(1)
}

/// `f` applied to every item on [`threads`] threads; the results are in the order of `items`.
pub fn map<T, R, F>(items: &[T], f: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync,
{
    map_on(threads(), items, f)
}

/// [`map`] with a state that `init` makes once per thread and every call on that thread
/// reuses (something costly to build that cannot move between threads).
pub fn map_init<T, S, R, I, F>(items: &[T], init: I, f: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    I: Fn() -> S + Sync,
    F: Fn(&mut S, &T) -> R + Sync,
{
    map_init_on(threads(), items, init, f)
}

/// [`map`] on `threads` threads (the calling thread is one of them).
pub fn map_on<T, R, F>(threads: usize, items: &[T], f: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync,
{
    map_init_on(threads, items, || (), |(), item| f(item))
}

/// [`map_init`] on `threads` threads (the calling thread is one of them).
pub fn map_init_on<T, S, R, I, F>(threads: usize, items: &[T], init: I, f: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    I: Fn() -> S + Sync,
    F: Fn(&mut S, &T) -> R + Sync,
{
    let threads = threads.min(items.len());
    if threads <= 1 {
        if items.is_empty() {
            return Vec::new();
        }
        let mut state = init();
        return items.iter().map(|item| f(&mut state, item)).collect();
    }
    // Each thread takes the next item when it is free, so one large file does not leave the
    // other threads idle behind a fixed share of the list.
    let next = AtomicUsize::new(0);
    let work = || {
        let mut state = init();
        let mut done = Vec::new();
        loop {
            let index = next.fetch_add(1, Ordering::Relaxed);
            let Some(item) = items.get(index) else {
                return done;
            };
            done.push((index, f(&mut state, item)));
        }
    };
    let mut results: Vec<Option<R>> = std::iter::repeat_with(|| None).take(items.len()).collect();
    std::thread::scope(|scope| {
        let helpers: Vec<_> = (1..threads).map(|_| scope.spawn(work)).collect();
        let mut parts = vec![work()];
        for helper in helpers {
            match helper.join() {
                Ok(part) => parts.push(part),
                // A panic on a helper is a bug; it surfaces as it would have on one thread.
                Err(payload) => std::panic::resume_unwind(payload),
            }
        }
        for (index, result) in parts.into_iter().flatten() {
            results[index] = Some(result);
        }
    });
    // The counter hands out every index once, and every thread ran until the list was empty.
    results
        .into_iter()
        .map(|r| r.expect("every item was mapped"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_the_input_order_whatever_the_thread_count() {
        let items: Vec<u64> = (0..1_000).collect();
        // Uneven work, so threads finish out of order.
        let slow_square = |n: &u64| {
            if n.is_multiple_of(7) {
                std::thread::sleep(std::time::Duration::from_micros(200));
            }
            n * n
        };
        let one = map_on(1, &items, slow_square);
        assert_eq!(one, items.iter().map(|n| n * n).collect::<Vec<_>>());
        for threads in [2, 3, 8] {
            assert_eq!(
                map_on(threads, &items, slow_square),
                one,
                "{threads} threads"
            );
        }
        assert!(map_on(4, &[] as &[u64], slow_square).is_empty());
    }

    #[test]
    fn each_thread_builds_its_state_once() {
        let items: Vec<u32> = (0..200).collect();
        let built = AtomicUsize::new(0);
        let out = map_init_on(
            2,
            &items,
            || {
                built.fetch_add(1, Ordering::Relaxed);
                Vec::<u32>::new()
            },
            |seen, n| {
                seen.push(*n);
                n + 1
            },
        );
        assert_eq!(out, (1..=200).collect::<Vec<_>>());
        assert!(built.load(Ordering::Relaxed) <= 2);
        let none = map_init_on(
            2,
            &[] as &[u32],
            || built.fetch_add(10, Ordering::Relaxed),
            |_, n| *n,
        );
        assert!(none.is_empty());
        assert!(built.load(Ordering::Relaxed) <= 2, "no state for no item");
    }

    #[test]
    fn work_is_spread_over_the_threads() {
        // Each item waits until both have been taken: one thread alone would wait out the
        // deadline on the first and return the same id twice.
        let arrived = AtomicUsize::new(0);
        let ids = map_on(2, &[0, 1], |_| {
            arrived.fetch_add(1, Ordering::SeqCst);
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
            while arrived.load(Ordering::SeqCst) < 2 && std::time::Instant::now() < deadline {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            std::thread::current().id()
        });
        assert_ne!(ids[0], ids[1]);
    }

    #[test]
    fn the_thread_count_comes_from_the_variable_or_the_cores() {
        assert_eq!(threads_from(None, 2), 2);
        assert_eq!(threads_from(Some("1"), 2), 1);
        assert_eq!(threads_from(Some(" 4 "), 2), 4);
        assert_eq!(threads_from(Some("0"), 2), 2);
        assert_eq!(threads_from(Some("many"), 8), 8);
        assert_eq!(threads_from(None, 0), 1);
    }
}
