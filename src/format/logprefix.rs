//! Line prefixes that loggers put before each line a program wrote, and the timestamps in
//! them. Stripping them turns a log back into the dump.
//!
//! Two kinds:
//! - Known ones, stripped from every line of a log: `kubectl logs --timestamps`
//!   (`2026-01-02T03:04:05.123456789Z `, RFC 3339) and CRI's `<RFC 3339> stdout|stderr F|P `.
//! - Learned ones ([`LinePrefix`]): whatever text stands before `goroutine N [` on a header
//!   line (docker compose's `svc  | `, HashiCorp's `<time> [DEBUG] plugin.x: `, syslog's
//!   `Nov 28 18:33:53 host app[123]: `, a Markdown quote's `> `, an indented paste's
//!   spaces). Following lines carry a prefix of the same shape: digit runs may differ (a
//!   clock, a pid), space runs may differ in width (`Nov  8` / `Nov 10`), everything else
//!   must match byte for byte.
//!
//! Timestamps read ([`stamp`]): RFC 3339 with `T` or a space, with `Z`, `±HH:MM`, `±HHMM`
//! or no zone (read as UTC); Go's `log` `2006/01/02 15:04:05` (UTC: the logger's zone is not
//! written); and, without a year, syslog's `Jan _2 15:04:05` and klog's `I0102 15:04:05`.
//! A stamp without a year is kept as a time within its year ([`Stamp::NoYear`]); the caller
//! that knows the file's modification time places it in a year (see
//! [`resolve_year`]). Nothing here allocates or does I/O.

/// What [`strip_prefix`] found on one line.
pub(crate) struct Prefix<'a> {
    pub rest: &'a [u8],
    pub time_nanos: Option<i64>,
    /// `stdout` / `stderr` for CRI lines.
    pub stream: Option<&'a [u8]>,
}

/// Strips a timestamp (and CRI stream + tag) from the start of `line`, if present.
pub(crate) fn strip_prefix(line: &[u8]) -> Prefix<'_> {
    let none = Prefix { rest: line, time_nanos: None, stream: None };
    let Some((ts, after)) = rfc3339(line) else {
        return none;
    };
    let Some(after) = after.strip_prefix(b" ") else {
        return none;
    };
    // CRI: `stderr F ` (F = full line, P = partial).
    for stream in [&b"stdout"[..], &b"stderr"[..]] {
        if let Some(r) = after.strip_prefix(stream) {
            if r.len() >= 3 && r[0] == b' ' && (r[1] == b'F' || r[1] == b'P') && r[2] == b' ' {
                return Prefix { rest: &r[3..], time_nanos: Some(ts), stream: Some(stream) };
            }
            if r.len() == 2 && r[0] == b' ' && (r[1] == b'F' || r[1] == b'P') {
                return Prefix { rest: &r[2..], time_nanos: Some(ts), stream: Some(stream) };
            }
        }
    }
    Prefix { rest: after, time_nanos: Some(ts), stream: None }
}

/// Reads `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)` at the start of `s`: Unix nanoseconds and
/// the rest of the line.
pub(crate) fn rfc3339(s: &[u8]) -> Option<(i64, &[u8])> {
    if s.len() < 20 {
        return None;
    }
    rfc3339_like(s, true)
}

/// [`rfc3339`] (`strict`: `T` between date and time, a zone required) and its looser kin
/// in log prefixes: a space may stand for `T`, and no zone means UTC.
fn rfc3339_like(s: &[u8], strict: bool) -> Option<(i64, &[u8])> {
    if s.len() < 19 {
        return None;
    }
    let num = |a: usize, b: usize| -> Option<i64> {
        let mut n = 0i64;
        for &c in &s[a..b] {
            if !c.is_ascii_digit() {
                return None;
            }
            n = n * 10 + (c - b'0') as i64;
        }
        Some(n)
    };
    let sep_ok = matches!(s[10], b'T' | b't') || (!strict && s[10] == b' ');
    if s[4] != b'-' || s[7] != b'-' || !sep_ok || s[13] != b':' || s[16] != b':' {
        return None;
    }
    let (y, mo, d, h, mi, se) = (num(0, 4)?, num(5, 7)?, num(8, 10)?, num(11, 13)?, num(14, 16)?, num(17, 19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let mut i = 19;
    let mut nanos = 0i64;
    if s.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < s.len() && s[i].is_ascii_digit() {
            if i - start < 9 {
                nanos = nanos * 10 + (s[i] - b'0') as i64;
            }
            i += 1;
        }
        if i == start {
            return None;
        }
        for _ in (i - start).min(9)..9 {
            nanos *= 10;
        }
    }
    let offset = match s.get(i) {
        Some(b'Z') | Some(b'z') => {
            i += 1;
            0
        }
        // ±HH:MM, or ±HHMM (HashiCorp's hclog: 2021-05-27T10:46:33.875+0300)
        Some(&sign @ (b'+' | b'-')) => {
            let (minutes, len) = if s.get(i + 3) == Some(&b':') { (i + 4, 6) } else { (i + 3, 5) };
            if s.len() < i + len {
                return None;
            }
            let off = num(i + 1, i + 3)? * 3600 + num(minutes, minutes + 2)? * 60;
            i += len;
            if sign == b'+' {
                off
            } else {
                -off
            }
        }
        _ if !strict => 0,
        _ => return None,
    };
    let days = days_from_civil(y, mo, d);
    let secs = days * 86400 + h * 3600 + mi * 60 + se - offset;
    // Unix nanoseconds in an i64 reach from 1677 to 2262; a year outside (found by the
    // log fuzzer: `9999-…`) is not a capture time.
    let nanos = secs.checked_mul(1_000_000_000)?.checked_add(nanos)?;
    Some((nanos, &s[i..]))
}

/// A prefix learned from a header line: the text before `goroutine N [`, used as the
/// shape of the prefix every following line of that dump carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LinePrefix<'a> {
    example: &'a [u8],
}

impl<'a> LinePrefix<'a> {
    pub(crate) fn new(example: &'a [u8]) -> Self {
        LinePrefix { example }
    }

    /// The text after a prefix of this shape, or `None` if `line` does not start with one.
    /// A line holding only the prefix with its trailing spaces cut (`>` for `> `, a
    /// logger's empty line) is an empty line.
    pub(crate) fn strip<'b>(&self, line: &'b [u8]) -> Option<&'b [u8]> {
        // 0: a literal byte, 1: a digit run, 2: a space run.
        let class = |b: u8| match b {
            b'0'..=b'9' => 1,
            b' ' => 2,
            _ => 0,
        };
        let (p, l) = (self.example, line);
        let ends_here = |i: usize, j: usize| (j == l.len() && p[i..].iter().all(|&b| b == b' ')).then_some(&l[j..]);
        let (mut i, mut j) = (0, 0);
        while i < p.len() {
            let k = class(p[i]);
            if k == 0 {
                if l.get(j) != Some(&p[i]) {
                    return ends_here(i, j);
                }
                i += 1;
                j += 1;
                continue;
            }
            let pi = i + p[i..].iter().take_while(|&&b| class(b) == k).count();
            let mut lj = j + l[j..].iter().take_while(|&&b| class(b) == k).count();
            if lj == j {
                return ends_here(i, j);
            }
            if pi == p.len() && k == 2 {
                // The prefix's last spaces: no more than it has, the rest is indentation.
                lj = lj.min(j + (pi - i));
            }
            i = pi;
            j = lj;
        }
        Some(&l[j..])
    }
}

/// A time read from a log prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stamp {
    /// Unix nanoseconds.
    At(i64),
    /// A stamp without a year (syslog, klog): nanoseconds since January 1st, 00:00 UTC of
    /// a leap year (so February 29th fits).
    NoYear(i64),
}

/// The timestamp a log prefix starts with (after an optional `[`, `<`, or a level letter
/// for klog), if it has a readable one.
pub(crate) fn stamp(prefix: &[u8]) -> Option<Stamp> {
    let p = prefix.strip_prefix(b"[").or_else(|| prefix.strip_prefix(b"<")).unwrap_or(prefix);
    if let Some((t, _)) = rfc3339_like(p, false) {
        return Some(Stamp::At(t));
    }
    // 2015/11/30 15:34:56[.123456]: Go's log package
    if p.len() >= 19 && p[4] == b'/' && p[7] == b'/' && p[10] == b' ' {
        let mut iso = [0u8; 19];
        iso.copy_from_slice(&p[..19]);
        iso[4] = b'-';
        iso[7] = b'-';
        let frac = fraction(&p[19..]);
        return rfc3339_like(&iso, false).map(|(t, _)| Stamp::At(t + frac));
    }
    // Nov 28 18:33:53 / Nov  8 18:33:53: syslog, no year
    if p.len() >= 15 && p[3] == b' ' {
        if let Some(month) = MONTHS.iter().position(|m| p[..3] == **m) {
            let rest = &p[4..];
            let rest = rest.strip_prefix(b" ").unwrap_or(rest);
            let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
            let day = super::text::parse_u64(&rest[..digits])? as i64;
            let clock = rest[digits..].strip_prefix(b" ")?;
            return no_year(month as i64 + 1, day, clock);
        }
    }
    // I1128 18:33:53.123456: klog (glog), level letter then MMDD, no year
    if p.len() >= 14 && matches!(p[0], b'I' | b'W' | b'E' | b'F') && p[5] == b' ' {
        let month = super::text::parse_u64(&p[1..3])? as i64;
        let day = super::text::parse_u64(&p[3..5])? as i64;
        return no_year(month, day, &p[6..]);
    }
    None
}

const MONTHS: [&[u8; 3]; 12] =
    [b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec"];

/// `15:04:05[.frac]` on month/day of a year-less stamp.
fn no_year(month: i64, day: i64, clock: &[u8]) -> Option<Stamp> {
    if clock.len() < 8 || clock[2] != b':' || clock[5] != b':' {
        return None;
    }
    let n = |a: usize| super::text::parse_u64(&clock[a..a + 2]).map(|v| v as i64);
    let (h, mi, se) = (n(0)?, n(3)?, n(6)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let days = days_from_civil(2000, month, day) - days_from_civil(2000, 1, 1);
    Some(Stamp::NoYear((days * 86400 + h * 3600 + mi * 60 + se) * 1_000_000_000 + fraction(&clock[8..])))
}

/// Nanoseconds of a `.123456` fraction at the start of `s` (0 without one).
fn fraction(s: &[u8]) -> i64 {
    let Some(d) = s.strip_prefix(b".").or_else(|| s.strip_prefix(b",")) else { return 0 };
    let digits = d.iter().take_while(|b| b.is_ascii_digit()).count().min(9);
    let mut n = super::text::parse_u64(&d[..digits]).unwrap_or(0) as i64;
    for _ in digits..9 {
        n *= 10;
    }
    n
}

/// Places a year-less stamp in a year: the latest date at or before `reference` (a file's
/// modification time, Unix nanoseconds) plus a day of slack for clock and zone skew. A log
/// is written before the file's last change, so this is the year it was written unless
/// the file sat untouched for over a year.
pub fn resolve_year(since_new_year: i64, reference: i64) -> Option<i64> {
    const DAY: i64 = 86_400_000_000_000;
    let secs = reference.div_euclid(1_000_000_000);
    let year = year_of_days(secs.div_euclid(86400));
    let (month, day) = month_day(since_new_year.div_euclid(DAY));
    for y in [year, year - 1, year - 2, year - 3, year - 4] {
        // February 29th only exists in leap years.
        if month == 2 && day == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)) {
            continue;
        }
        let t = days_from_civil(y, month, day).checked_mul(DAY)?.checked_add(since_new_year.rem_euclid(DAY))?;
        if t <= reference + DAY {
            return Some(t);
        }
    }
    None
}

/// Month and day of the `n`th day (from 0) of a leap year.
fn month_day(n: i64) -> (i64, i64) {
    let lengths = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let mut n = n;
    for (m, len) in lengths.iter().enumerate() {
        if n < *len {
            return (m as i64 + 1, n + 1);
        }
        n -= len;
    }
    (12, 31)
}

/// The year of a day count since 1970-01-01.
fn year_of_days(days: i64) -> i64 {
    let mut y = 1970 + days.div_euclid(366);
    while days_from_civil(y + 1, 1, 1) <= days {
        y += 1;
    }
    y
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubectl_and_cri_prefixes() {
        let p = strip_prefix(b"2026-01-02T03:04:05.5Z goroutine 1 [running]:");
        assert_eq!(p.rest, b"goroutine 1 [running]:");
        assert_eq!(p.time_nanos, Some(1_767_323_045_500_000_000));
        let p = strip_prefix(b"2026-11-27T18:03:40.512988122Z stderr F goroutine 105 [syscall]:");
        assert_eq!(p.rest, b"goroutine 105 [syscall]:");
        assert_eq!(p.stream, Some(&b"stderr"[..]));
        let p = strip_prefix(b"2026-11-27T18:03:40Z stderr F ");
        assert_eq!(p.rest, b"");
        assert!(strip_prefix(b"goroutine 1 [running]:").time_nanos.is_none());
    }

    #[test]
    fn learned_prefix_shapes() {
        let compose = LinePrefix::new(b"headscale  | ");
        assert_eq!(compose.strip(b"headscale  | \t/go/x.go:3 +0x1"), Some(&b"\t/go/x.go:3 +0x1"[..]));
        assert_eq!(compose.strip(b"headscale  |"), Some(&b""[..]));
        assert_eq!(compose.strip(b"postgres_1 | LOG: x"), None);
        let syslog = LinePrefix::new(b"Nov  8 18:33:53 host app[123]: ");
        assert_eq!(syslog.strip(b"Nov 10 09:01:02 host app[123]: main.f()"), Some(&b"main.f()"[..]));
        assert_eq!(syslog.strip(b"Nov 10 09:01:02 host other[9]: main.f()"), None);
        let quote = LinePrefix::new(b"> ");
        assert_eq!(quote.strip(b">"), Some(&b""[..]));
        assert_eq!(quote.strip(b">     /a.go:1"), Some(&b"    /a.go:1"[..]));
        assert_eq!(quote.strip(b"main.f()"), None);
    }

    #[test]
    fn stamps() {
        let at = |s: &[u8]| match stamp(s) {
            Some(Stamp::At(t)) => t,
            other => panic!("{other:?}"),
        };
        let utc = at(b"2021-05-27T07:46:33.875Z ");
        assert_eq!(at(b"2021-05-27T10:46:33.875+0300 [DEBUG] plugin.x: "), utc);
        assert_eq!(at(b"2021-05-27 07:46:33.875 "), utc);
        assert_eq!(at(b"2021/05/27 07:46:33.875 [DEBUG] "), utc);
        let Some(Stamp::NoYear(n)) = stamp(b"Nov 28 18:33:53 host app[1]: ") else { panic!() };
        let Some(Stamp::NoYear(k)) = stamp(b"I1128 18:33:53.000000   28683 main.go:47] ") else { panic!() };
        assert_eq!(n, k);
        // Placed in the year of the reference, or the one before when it would be later.
        let dec = rfc3339(b"2026-12-01T00:00:00Z").unwrap().0;
        assert_eq!(resolve_year(n, dec), Some(rfc3339(b"2026-11-28T18:33:53Z").unwrap().0));
        let jan = rfc3339(b"2027-01-02T00:00:00Z").unwrap().0;
        assert_eq!(resolve_year(n, jan), Some(rfc3339(b"2026-11-28T18:33:53Z").unwrap().0));
        assert!(stamp(b"headscale  | ").is_none());
    }

    #[test]
    fn offsets() {
        let (a, _) = rfc3339(b"2026-01-02T03:04:05+01:00").unwrap();
        let (b, _) = rfc3339(b"2026-01-02T02:04:05Z").unwrap();
        assert_eq!(a, b);
    }
}
