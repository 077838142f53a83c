//! The clock: the one seam through which `check`, `watch`, the rules (allowlist expiry),
//! retention and alert retries learn the time or wait. Tests inject [`ManualClock`], whose
//! `sleep` only moves its time forward, so nothing time-dependent is tested with sleeps.
//! This module must not hold any policy: it tells the time and waits.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

/// Wall-clock time and waiting.
pub trait Clock: Send + Sync {
    /// Now, in nanoseconds since the Unix epoch.
    fn now_nanos(&self) -> i64;
    /// Waits for `d`.
    fn sleep(&self, d: Duration);
}

/// The system's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_nanos(&self) -> i64 {
        let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
    }
    fn sleep(&self, d: Duration) {
        std::thread::sleep(d);
    }
}

/// A clock for tests: it stands still until told to move, and `sleep` moves it.
#[derive(Debug, Default)]
pub struct ManualClock {
    now: AtomicI64,
}

impl ManualClock {
    pub fn at(nanos: i64) -> ManualClock {
        ManualClock { now: AtomicI64::new(nanos) }
    }
    pub fn advance(&self, d: Duration) {
        self.now.fetch_add(d.as_nanos() as i64, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_nanos(&self) -> i64 {
        self.now.load(Ordering::SeqCst)
    }
    fn sleep(&self, d: Duration) {
        self.advance(d);
    }
}

/// Parses a span such as `7d`, `12h`, `30m`, `90s`, `2w` (`--retain`, `--every`).
pub fn parse_span(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num.parse().map_err(|_| format!("{s:?} is not a span; write e.g. 30s, 10m, 12h or 7d"))?;
    let scale = match unit {
        "ms" => return ok_nonzero(Duration::from_millis(n), s),
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        other => return Err(format!("unknown unit {other:?} in {s:?}; use ms, s, m, h, d or w")),
    };
    ok_nonzero(Duration::from_secs(n.saturating_mul(scale)), s)
}

fn ok_nonzero(d: Duration, s: &str) -> Result<Duration, String> {
    if d.is_zero() {
        Err(format!("{s:?}: the span must be more than zero"))
    } else {
        Ok(d)
    }
}

/// Days since the Unix epoch of a `YYYY-MM-DD` date.
pub fn parse_date(s: &str) -> Option<i64> {
    let t = format!("{}T00:00:00Z", s.trim());
    if s.trim().len() != 10 {
        return None;
    }
    crate::format::logprefix::rfc3339(t.as_bytes()).map(|(n, _)| n.div_euclid(86_400_000_000_000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_and_dates() {
        assert_eq!(parse_span("7d"), Ok(Duration::from_secs(7 * 86_400)));
        assert_eq!(parse_span("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_span("250ms"), Ok(Duration::from_millis(250)));
        assert!(parse_span("0s").is_err());
        assert!(parse_span("3 parsecs").is_err());
        assert_eq!(parse_date("1970-01-02"), Some(1));
        assert_eq!(parse_date("2026-13-01"), None);
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::at(5);
        c.sleep(Duration::from_nanos(10));
        assert_eq!(c.now_nanos(), 15);
    }
}
