//! Line prefixes that container runtimes and `kubectl logs --timestamps` put before each
//! line a program wrote: `2026-01-02T03:04:05.123456789Z ` (RFC 3339) and CRI's
//! `<RFC 3339> stdout|stderr F|P `. Stripping them turns a log back into the dump.

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
    if s[4] != b'-' || s[7] != b'-' || (s[10] != b'T' && s[10] != b't') || s[13] != b':' || s[16] != b':' {
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
        Some(&sign @ (b'+' | b'-')) if s.len() >= i + 6 && s[i + 3] == b':' => {
            let off = num(i + 1, i + 3)? * 3600 + num(i + 4, i + 6)? * 60;
            i += 6;
            if sign == b'+' {
                off
            } else {
                -off
            }
        }
        _ => return None,
    };
    let days = days_from_civil(y, mo, d);
    let secs = days * 86400 + h * 3600 + mi * 60 + se - offset;
    // Unix nanoseconds in an i64 reach from 1677 to 2262; a year outside (found by the
    // log fuzzer: `9999-…`) is not a capture time.
    let nanos = secs.checked_mul(1_000_000_000)?.checked_add(nanos)?;
    Some((nanos, &s[i..]))
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
    fn offsets() {
        let (a, _) = rfc3339(b"2026-01-02T03:04:05+01:00").unwrap();
        let (b, _) = rfc3339(b"2026-01-02T02:04:05Z").unwrap();
        assert_eq!(a, b);
    }
}
