//! Inputs the fuzzers (`fuzz/`) found to break a parser, each kept in
//! `testdata/regressions/` and named after what it broke. The property is the fuzzers':
//! the input gives snapshots or a clean error, never a panic.

use goroscope::format;
use goroscope::limits::Limits;
use std::path::Path;

fn input(name: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/regressions").join(name)).unwrap()
}

/// A CRI log line stamped `0226-11-27T…`: the Unix nanoseconds of year 226 overflow an
/// i64, which panicked (overflow check) in the log-prefix reader. Such a stamp is not a
/// capture time; the dump in the log still parses.
#[test]
fn log_timestamp_year_overflow() {
    let data = input("log-timestamp-year-overflow.txt");
    let _ = format::text::parse("fuzz", &data, true, &Limits::default());
    let _ = format::parse("fuzz", &data, None, &Limits::default());
    for line in ["9999-12-31T23:59:59.999999999Z goroutine 1 [select]:", "0001-01-01T00:00:00Z goroutine 1 [select]:"] {
        let text = format!("{line}\nmain.f()\n\t/a.go:3 +0x1\n");
        let snaps = format::text::parse("t", text.as_bytes(), true, &Limits::default()).unwrap();
        assert!(snaps.iter().all(|s| s.time_nanos.is_none()), "{line}: no capture time");
    }
}
