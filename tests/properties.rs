//! Properties of parsing and comparing, checked with proptest on real dumps from
//! `testdata/`: any bytes give snapshots or a clean error; a dump cut at any byte gives
//! no more goroutines than the whole one and no error; goroutine order does not change the
//! groups; a dump pasted or logged with any consistent line prefix, any indentation of its
//! frame lines and stray lines between goroutines reads to the same groups (issue 11); a
//! snapshot compared with itself shows no growth.
//!
//! Case counts are modest (the suite stays well under 30 s); the fuzz targets in `fuzz/`
//! search the same ground for much longer.

mod support;

use goroscope::compare::{compare, Change, TrendSettings};
use goroscope::format;
use goroscope::group::{group, GroupSettings, SnapshotReport};
use goroscope::limits::Limits;
use goroscope::model::Snapshot;
use proptest::prelude::*;
use std::path::Path;
use std::sync::OnceLock;
use support::group_keys;

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata").join(rel)).unwrap()
}

/// Text dumps of every text format, from the real captures.
const TEXT_DUMPS: &[&str] = &[
    "go1.27/snapshot-3.debug2.txt",
    "go1.27/snapshot-2.goroutineleak.debug2.txt",
    "go1.27/sigquit.txt",
    "go1.27/panic.txt",
    "go1.21/snapshot-2.debug2.txt",
    "go1.24/log-with-dump.txt",
    "go1.24/log-with-dump.cri.txt",
    "go1.27/snapshot-3.debug1.txt",
    "go1.21/snapshot-1.debug1.txt",
];

fn dumps() -> &'static Vec<(&'static str, Vec<u8>)> {
    static D: OnceLock<Vec<(&'static str, Vec<u8>)>> = OnceLock::new();
    D.get_or_init(|| TEXT_DUMPS.iter().map(|p| (*p, read(p))).collect())
}

fn parse(data: &[u8]) -> goroscope::Result<Vec<Snapshot>> {
    format::parse("prop", data, None, &Limits::default())
}

/// Goroutines in all snapshots: records and the goroutines they count.
fn counts(snaps: &[Snapshot]) -> (usize, u64) {
    (snaps.iter().map(|s| s.goroutines.len()).sum(), snaps.iter().map(|s| s.total()).sum())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Any bytes: snapshots or an error, never a panic.
    #[test]
    fn any_bytes_parse_or_fail_cleanly(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
        if let Ok(mut snaps) = parse(&data) {
            for s in &mut snaps {
                group(s, &GroupSettings::default());
            }
        }
    }

    /// Real dumps with a few bytes overwritten: snapshots or an error, never a panic.
    #[test]
    fn damaged_real_dumps_parse_or_fail_cleanly(
        which in 0..TEXT_DUMPS.len(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..16),
    ) {
        let mut data = dumps()[which].1.clone();
        for (at, b) in edits {
            let i = at.index(data.len());
            data[i] = b;
        }
        if let Ok(mut snaps) = parse(&data) {
            for s in &mut snaps {
                group(s, &GroupSettings::default());
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// A dump cut at any byte after its first goroutine header parses (the torn last
    /// goroutine is kept or dropped, never an error) with no more goroutines than the
    /// whole dump.
    #[test]
    fn a_cut_dump_never_has_more_goroutines(which in 0..TEXT_DUMPS.len(), at in any::<prop::sample::Index>()) {
        let (name, whole) = &dumps()[which];
        let full = parse(whole).unwrap();
        let (records, total) = counts(&full);
        // The cut must keep the first header line whole (format detection needs it).
        let first_header = first_header_end(whole);
        let cut = first_header + at.index(whole.len() - first_header + 1);
        let part = &whole[..cut];
        let snaps = parse(part).unwrap_or_else(|e| panic!("{name} cut at {cut}: {e}"));
        let (r, t) = counts(&snaps);
        prop_assert!(r <= records && t <= total, "{name} cut at {cut}: {r}/{t} records/goroutines, whole {records}/{total}");
        prop_assert_eq!(snaps[0].format, full[0].format, "{} cut at {}: format", name, cut);
    }

    /// The goroutines of a debug=2 dump in any order give the same groups.
    #[test]
    fn goroutine_order_does_not_change_groups(
        which in 0..3usize,
        seed in any::<u64>(),
    ) {
        let name = ["go1.27/snapshot-3.debug2.txt", "go1.21/snapshot-3.debug2.txt", "go1.24/snapshot-2.debug2.txt"][which];
        let text = String::from_utf8(read(name)).unwrap();
        let mut blocks: Vec<&str> = text.split("\n\n").map(|b| b.trim_matches('\n')).filter(|b| !b.is_empty()).collect();
        let whole = reports(&(blocks.join("\n\n") + "\n"));
        shuffle(&mut blocks, seed);
        let shuffled = reports(&(blocks.join("\n\n") + "\n"));
        prop_assert_eq!(whole.len(), 1);
        prop_assert_eq!(shuffled.len(), 1);
        prop_assert_eq!(whole[0].total, shuffled[0].total);
        prop_assert_eq!(group_keys(&whole[0]), group_keys(&shuffled[0]));
    }
}

/// Real traceback dumps of every kind (debug=2, SIGQUIT, panic) and Go version.
const TRACEBACKS: &[&str] = &[
    "go1.21/snapshot-3.debug2.txt",
    "go1.24/snapshot-2.debug2.txt",
    "go1.27/snapshot-3.debug2.txt",
    "go1.27/snapshot-2.goroutineleak.debug2.txt",
    "go1.21/sigquit.txt",
    "go1.27/sigquit.txt",
    "go1.24/panic.txt",
];

/// A line prefix of the kind a logger writes; digits vary from line to line.
fn line_prefix(kind: usize, line: usize) -> String {
    match kind {
        0 => "api-1  | ".into(),
        1 => format!(
            "2021-05-27T10:{:02}:{:02}.{:03}+0300 [DEBUG] plugin.x_v1.0_x5: ",
            line / 3600 % 60,
            line / 60 % 60,
            line % 1000
        ),
        2 => format!("Nov {:>2} 18:33:{:02} host app[4242]: ", 8 + line / 500 % 3, line % 60),
        3 => "> ".into(),
        4 => format!("2015/11/30 15:34:{:02} [DEBUG] terraform-provider-aws: ", line % 60),
        5 => format!("I1128 18:33:{:02}.{:06}   28683 main.go:47] ", line % 60, line * 7 % 1_000_000),
        _ => String::new(),
    }
}

/// A line that is not part of any dump, of the kinds people and loggers interleave.
fn stray(kind: usize) -> &'static str {
    [
        "## mainSrv.wait()",
        "2021/05/27 10:46:33 [INFO] served GET /healthz in 3ms",
        "level=info msg=\"request done\" status=200",
        "```",
        "<-- this one is stuck",
        "",
    ][kind % 6]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Issue 11: any real dump with any consistent prefix (or none), its frame lines
    /// indented with spaces instead of a tab, blank lines trimmed or not, and stray lines
    /// between goroutines reads to the groups of the clean dump, as one snapshot.
    #[test]
    fn a_pasted_or_logged_dump_reads_to_the_same_groups(
        which in 0..TRACEBACKS.len(),
        prefix in 0..7usize,
        indent in prop::sample::select(vec!["\t", "        ", "    ", "  ", " \t"]),
        trim_blank in any::<bool>(),
        strays in proptest::collection::vec((any::<prop::sample::Index>(), 0..6usize, any::<bool>()), 0..8),
    ) {
        let clean = String::from_utf8(read(TRACEBACKS[which])).unwrap();
        let lines: Vec<&str> = clean.lines().collect();
        // Stray lines go right before a goroutine header (between goroutines).
        let headers: Vec<usize> = lines.iter().enumerate().filter(|(i, l)| *i > 0 && l.starts_with("goroutine ")).map(|(i, _)| i).collect();
        let mut before: std::collections::BTreeMap<usize, Vec<(usize, bool)>> = Default::default();
        for (at, kind, with_prefix) in &strays {
            before.entry(headers[at.index(headers.len())]).or_default().push((*kind, *with_prefix));
        }
        let mut pasted = String::new();
        let mut n = 0;
        let mut emit = |text: &str, with_prefix: bool, out: &mut String| {
            let p = if with_prefix { line_prefix(prefix, n) } else { String::new() };
            n += 1;
            if text.is_empty() && trim_blank {
                out.push_str(p.trim_end());
            } else {
                out.push_str(&p);
                out.push_str(text);
            }
            out.push('\n');
        };
        for (i, line) in lines.iter().enumerate() {
            for (kind, with_prefix) in before.get(&i).into_iter().flatten() {
                emit(stray(*kind), *with_prefix, &mut pasted);
            }
            let line = match line.strip_prefix('\t') {
                Some(rest) => format!("{indent}{rest}"),
                None => line.to_string(),
            };
            emit(&line, true, &mut pasted);
        }
        let want = reports(&clean);
        let got = reports(&pasted);
        prop_assert_eq!(want.len(), 1);
        prop_assert_eq!(got.len(), 1, "{} snapshots from:\n{:.2000}", got.len(), pasted);
        prop_assert_eq!(got[0].total, want[0].total);
        prop_assert_eq!(group_keys(&got[0]), group_keys(&want[0]));
    }
}

fn reports(text: &str) -> Vec<SnapshotReport> {
    parse(text.as_bytes()).unwrap().iter_mut().map(|s| group(s, &GroupSettings::default())).collect()
}

/// Fisher–Yates with a xorshift generator seeded by proptest (so a failure replays).
fn shuffle<T>(v: &mut [T], seed: u64) {
    let mut x = seed | 1;
    for i in (1..v.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.swap(i, (x % (i as u64 + 1)) as usize);
    }
}

/// The end (after the newline) of the first line holding a goroutine header with an id
/// other than 0 (goroutine 0 is a g0 stack, not a goroutine), or the debug=1 header.
fn first_header_end(data: &[u8]) -> usize {
    let pos = data
        .windows(11)
        .position(|w| w.starts_with(b"goroutine ") && (matches!(w[10], b'1'..=b'9') || w[10] == b'p'))
        .expect("a goroutine header");
    pos + data[pos..].iter().position(|&b| b == b'\n').unwrap() + 1
}

/// `diff(a, a)` on every real snapshot: every site the same, none growing, no suspect.
#[test]
fn diff_of_a_snapshot_with_itself_shows_no_growth() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata");
    let mut n = 0;
    for dir in ["go1.21", "go1.24", "go1.27"] {
        for e in std::fs::read_dir(root.join(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "json") {
                continue;
            }
            let data = std::fs::read(&p).unwrap();
            for mut s in format::parse(&p.to_string_lossy(), &data, None, &Limits::default()).unwrap() {
                let r = group(&mut s, &GroupSettings::default());
                let t = compare(&[r.clone(), r], &TrendSettings::default());
                assert!(!t.sites.is_empty(), "{}", p.display());
                for site in &t.sites {
                    assert_eq!(site.change, Change::Same, "{}: {:?}", p.display(), site.site);
                    assert_eq!(site.delta, 0, "{}: {:?}", p.display(), site.site);
                    assert!(!site.growing, "{}: {:?}", p.display(), site.site);
                    assert_eq!(site.counts[0], site.counts[1]);
                }
                n += 1;
            }
        }
    }
    assert!(n >= 30, "checked {n} snapshots");
}
