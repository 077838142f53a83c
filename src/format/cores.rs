//! How many cores a parse may use *now*: the CPUs the process may run on (affinity,
//! cgroup quota: `available_parallelism`) less those that other work keeps busy at this
//! moment (issue 14: on a loaded machine, two threads were slower than one).
//!
//! The one reading is the kernel's count of runnable tasks (`/proc/loadavg`, 4th field: an
//! instant count, unlike the load averages, which trail a new busy loop by a minute) over
//! the CPUs online. An instant count also catches the commands started beside this one:
//! in `goroscope show dump.txt | less` the pager is runnable while it starts, and a reading
//! then took one of two idle cores for busy (4 runs in 8 through `| head`). So a reading
//! that finds other work is taken again for up to [`settle`]'s window, and the fewest
//! runnable tasks seen count: a busy loop is runnable in every reading, a command starting
//! up is not after a millisecond or two (measured at 0, 0.25, 0.5, 1, 2 ms after start,
//! through `| cat`, `| head`, `| less`, `| grep`: 3–4, 1–3, 1–3, 1–2, 1 runnable). The
//! readings are taken by a helper thread of the split while the calling thread parses
//! ([`super::text::Crew::Scout`]), so waiting for them costs no time. It only sizes a
//! split, never changes a result; where `/proc` cannot be read the allowed CPUs are used.
//! Reads two small files and holds no state.

use std::time::{Duration, Instant};

/// Cores to parse on now: at least 1, at most the CPUs the process may use. `ours`: the
/// runnable threads of this process at the time, the caller included. A reading that
/// finds other work is taken again every 250 µs until `window` has passed or a reading
/// finds none ([`settle`]).
pub(crate) fn free(window: Duration, ours: usize) -> usize {
    let allowed = std::thread::available_parallelism().map_or(1, |n| n.get());
    if allowed == 1 {
        return 1;
    }
    let online = std::fs::read_to_string("/sys/devices/system/cpu/online").ok();
    let Some(online) = online.as_deref().and_then(cpu_count) else { return allowed };
    let deadline = Instant::now() + window;
    // `split` counts the caller alone as ours.
    let readings = std::iter::from_fn(|| {
        let loadavg = std::fs::read_to_string("/proc/loadavg").ok()?;
        runnable(&loadavg).map(|n| n.saturating_sub(ours.saturating_sub(1)))
    });
    settle(allowed, online, readings, || {
        let now = Instant::now();
        now < deadline && {
            std::thread::sleep(Duration::from_micros(250).min(deadline - now));
            true
        }
    })
}

/// The most cores free over `readings` of the runnable count, taken while `again` (which
/// waits between them) says so; stops at the first that leaves every allowed core free.
/// `allowed` when there is no reading.
fn settle(
    allowed: usize,
    online: usize,
    readings: impl Iterator<Item = usize>,
    mut again: impl FnMut() -> bool,
) -> usize {
    let mut best = None;
    for running in readings {
        let n = split(allowed, online, running);
        best = best.max(Some(n));
        if n == allowed || !again() {
            break;
        }
    }
    best.unwrap_or(allowed)
}

/// Cores free for a parse: `allowed` capped by the CPUs online that no other runnable
/// task holds. `running` counts the caller itself.
fn split(allowed: usize, online: usize, running: usize) -> usize {
    let others = running.saturating_sub(1);
    allowed.min(online.saturating_sub(others)).max(1)
}

/// The runnable-task count of `/proc/loadavg` (`0.52 0.58 0.59 3/231 12345` → 3).
fn runnable(loadavg: &str) -> Option<usize> {
    loadavg.split_whitespace().nth(3)?.split('/').next()?.parse().ok()
}

/// The number of CPUs in a kernel CPU list (`0-3,6,8-9` → 7).
fn cpu_count(list: &str) -> Option<usize> {
    let mut n = 0;
    for part in list.trim().split(',') {
        n += match part.split_once('-') {
            Some((a, b)) => b.parse::<usize>().ok()?.checked_sub(a.parse().ok()?)? + 1,
            None => part.parse::<usize>().map(|_| 1).ok()?,
        };
    }
    (n > 0).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_kernel_files() {
        assert_eq!(runnable("0.52 0.58 0.59 3/231 12345\n"), Some(3));
        assert_eq!(runnable("0.52 0.58"), None);
        assert_eq!(cpu_count("0-1\n"), Some(2));
        assert_eq!(cpu_count("0-3,6,8-9"), Some(7));
        assert_eq!(cpu_count("0"), Some(1));
        assert_eq!(cpu_count(""), None);
        assert_eq!(cpu_count("3-1"), None);
    }

    /// A busy loop on one of two cores leaves one; an idle machine leaves every allowed
    /// core; a pinned process never gets more than it may use.
    #[test]
    fn other_runnable_tasks_take_cores() {
        assert_eq!(split(2, 2, 1), 2);
        assert_eq!(split(2, 2, 2), 1);
        assert_eq!(split(2, 2, 6), 1);
        assert_eq!(split(8, 8, 4), 5);
        assert_eq!(split(2, 64, 30), 2);
        assert_eq!(split(4, 4, 0), 4);
    }

    #[test]
    fn free_is_within_the_allowed_cpus() {
        let allowed = std::thread::available_parallelism().map_or(1, |n| n.get());
        let n = free(Duration::from_millis(2), 1);
        assert!((1..=allowed).contains(&n), "{n} of {allowed}");
    }

    /// A command starting beside this one (runnable at first, then not) leaves its core
    /// free; a busy loop (runnable in every reading) does not; the readings stop at the
    /// first that leaves every core free, or when the window ends.
    #[test]
    fn readings_settle_on_the_fewest_runnable() {
        let forever = || true;
        assert_eq!(settle(2, 2, [3, 2, 1, 2].into_iter(), forever), 2);
        assert_eq!(settle(2, 2, [2, 2, 2, 2].into_iter(), forever), 1);
        assert_eq!(settle(8, 8, [9, 6, 7].into_iter(), forever), 3);
        assert_eq!(settle(2, 2, std::iter::empty(), forever), 2);
        let mut taken = 0;
        let readings = [3, 1, 3].into_iter().inspect(|_| taken += 1);
        assert_eq!(settle(2, 2, readings, forever), 2);
        assert_eq!(taken, 2, "read on after every core was free");
        let mut waits = 0;
        let window = || {
            waits += 1;
            waits < 3
        };
        assert_eq!(settle(2, 2, [3, 2, 2, 2, 1].into_iter(), window), 1, "the window ended first");
    }
}
