//! How many cores a parse may use *now*: the CPUs the process may run on (affinity,
//! cgroup quota: `available_parallelism`) less those that other work keeps busy at this
//! moment (issue 14: on a loaded machine, two threads were slower than one).
//!
//! The one reading is the kernel's count of runnable tasks (`/proc/loadavg`, 4th field: an
//! instant count, unlike the load averages, which trail a new busy loop by a minute) over
//! the CPUs online. It only sizes a split, never changes a result; where `/proc` cannot be
//! read the allowed CPUs are used. Reads two small files and holds no state.

/// Cores to parse on now: at least 1, at most the CPUs the process may use.
pub(crate) fn free() -> usize {
    let allowed = std::thread::available_parallelism().map_or(1, |n| n.get());
    if allowed == 1 {
        return 1;
    }
    let loadavg = std::fs::read_to_string("/proc/loadavg").ok();
    let online = std::fs::read_to_string("/sys/devices/system/cpu/online").ok();
    match (loadavg.as_deref().and_then(runnable), online.as_deref().and_then(cpu_count)) {
        (Some(running), Some(online)) => split(allowed, online, running),
        _ => allowed,
    }
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
        let n = free();
        assert!((1..=allowed).contains(&n), "{n} of {allowed}");
    }
}
