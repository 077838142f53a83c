//! Dumps of our own leaky service (go/leaky, captured by scripts/gen-testdata.sh with Go
//! 1.21, 1.24 and 1.27) against the ground truth the service reported at the same moment
//! (`*.stats.json`): every site's count and category in every format, the growth series,
//! and the CLI's JSON contract.

use goroscope::app::{self, LoadSettings};
use goroscope::classify::Category;
use goroscope::compare::{compare, TrendSettings};
use goroscope::group::{group, GroupSettings, SnapshotReport};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn data(version: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata").join(version)
}

const VERSIONS: [&str; 3] = ["go1.21", "go1.24", "go1.27"];

fn report(path: &Path) -> SnapshotReport {
    let mut loaded = app::load(&[path.to_string_lossy().into_owned()], &LoadSettings::default())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(loaded.len(), 1, "{}: one snapshot", path.display());
    group(&mut loaded[0].snapshot, &GroupSettings::default())
}

fn stats(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn expected_category(state: &str, format: &str) -> Vec<Category> {
    use Category::*;
    let precise = match state {
        "chan send" => ChanSend,
        "chan receive" => ChanReceive,
        "chan send (nil chan)" => NilChanSend,
        "select" => Select,
        "sync.Mutex.Lock" => Mutex,
        "sync.WaitGroup.Wait" | "semacquire" => Waitgroup,
        "IO wait" => IoWait,
        other => panic!("no expectation for state {other:?}"),
    };
    match (format, precise) {
        ("debug1", ChanSend | ChanReceive | NilChanSend | Select) => vec![Unknown],
        // debug=0 tells a nil channel by the `runtime.chansend` line, known for Go 1.21-1.27.
        // The accept loop races the capture: a dump may catch it between polls.
        (_, IoWait) => vec![IoWait, Syscall, Runnable, Running],
        _ => vec![precise],
    }
}

/// Checks one report against the service's ground truth; `only_leaked` for the
/// goroutineleak profile's debug=0/1 forms, which list only leaked goroutines.
fn check(r: &SnapshotReport, truth: &Value, format: &str, only_leaked: bool) {
    let ctx = &r.source;
    for (name, site) in truth["sites"].as_object().unwrap() {
        let line = site["line"].as_u64().unwrap() as u32;
        let file = site["file"].as_str().unwrap();
        let mine: Vec<_> = r.groups.iter().filter(|g| g.site.line == line && g.site.file.ends_with(file)).collect();
        let got: u64 = mine.iter().map(|g| g.count).sum();
        let leak = site["leak"].as_bool().unwrap();
        let want = if only_leaked && !leak { 0 } else { site["count"].as_u64().unwrap() };
        assert_eq!(got, want, "{ctx}: site {name} at {file}:{line}");
        if want == 0 {
            continue;
        }
        assert_eq!(mine[0].site.function, site["function"].as_str().unwrap(), "{ctx}: {name}");
        let ok = expected_category(site["state"].as_str().unwrap(), format);
        for g in &mine {
            assert!(ok.contains(&g.category), "{ctx}: {name} is {:?}, want one of {ok:?}", g.category);
        }
    }
}

#[test]
fn every_snapshot_matches_what_the_service_reported() {
    for v in VERSIONS {
        let dir = data(v);
        for n in 1..=3 {
            let truth = stats(&dir.join(format!("snapshot-{n}.stats.json")));
            for (file, format) in [("pb.gz", "debug0"), ("debug1.txt", "debug1"), ("debug2.txt", "debug2")] {
                let r = report(&dir.join(format!("snapshot-{n}.{file}")));
                assert_eq!(r.format.name(), format);
                check(&r, &truth, format, false);
                // num_goroutine was read over HTTP just before the capture, whose own
                // request adds at most the two goroutines serving it.
                let num = truth["num_goroutine"].as_u64().unwrap();
                assert!(r.total >= num && r.total <= num + 2, "{}: total {} vs NumGoroutine {num}", r.source, r.total);
            }
        }
    }
}

#[test]
fn the_leak_profile_lists_exactly_the_leaks() {
    let dir = data("go1.27");
    for n in 1..=3 {
        let truth = stats(&dir.join(format!("snapshot-{n}.stats.json")));
        for (file, format) in [("pb.gz", "debug0"), ("debug1.txt", "debug1")] {
            let r = report(&dir.join(format!("snapshot-{n}.goroutineleak.{file}")));
            assert_eq!(r.profile.name(), "goroutineleak");
            check(&r, &truth, format, true);
        }
        let r = report(&dir.join(format!("snapshot-{n}.goroutineleak.debug2.txt")));
        check(&r, &truth, "debug2", false);
        let leaked: u64 = r.groups.iter().map(|g| g.leaked).sum();
        assert!(leaked >= truth["leaked"].as_u64().unwrap(), "{}: (leaked) marks", r.source);
    }
}

#[test]
fn signal_panic_and_log_dumps_hold_the_same_sites() {
    for v in VERSIONS {
        let dir = data(v);
        let truth = stats(&dir.join("snapshot-3.stats.json"));
        let r = report(&dir.join("sigquit.txt"));
        assert_eq!(r.format.name(), "sigquit");
        check(&r, &truth, "sigquit", false);
        let r = report(&dir.join("panic.txt"));
        assert_eq!(r.format.name(), "panic");
        assert!(r.preamble.as_deref().unwrap_or("").starts_with("panic: "), "{:?}", r.preamble);
        check(&r, &stats(&dir.join("panic.stats.json")), "panic", false);
    }
    let dir = data("go1.24");
    let truth = stats(&dir.join("log-with-dump.stats.json"));
    for f in ["log-with-dump.txt", "log-with-dump.cri.txt"] {
        let loaded = app::load(&[dir.join(f).to_string_lossy().into_owned()], &LoadSettings::default()).unwrap();
        let mut dumps: Vec<_> =
            loaded.into_iter().map(|mut l| group(&mut l.snapshot, &GroupSettings::default())).collect();
        assert_eq!(dumps.len(), 1, "{f}: one dump among the log lines");
        let r = dumps.remove(0);
        assert_eq!(r.format.name(), "log");
        assert!(r.time.is_some(), "{f}: capture time from the log prefix");
        check(&r, &truth, "log", false);
    }
}

#[test]
fn the_series_flags_the_leaks_and_not_the_steady_sites() {
    for v in VERSIONS {
        let dir = data(v);
        let truth = stats(&dir.join("snapshot-3.stats.json"));
        // Formats mixed on purpose: sites must meet across them.
        let reps = vec![
            report(&dir.join("snapshot-1.pb.gz")),
            report(&dir.join("snapshot-2.debug2.txt")),
            report(&dir.join("snapshot-3.pb.gz")),
        ];
        // Some sites leak one goroutine a snapshot here: +2 over the series, under trend's
        // default --min-growth (3: a change of one or two is noise); ask for +1.
        let t = compare(&reps, &TrendSettings { min_growth: 1, ..TrendSettings::default() });
        for (name, site) in truth["sites"].as_object().unwrap() {
            let line = site["line"].as_u64().unwrap() as u32;
            let s = t
                .sites
                .iter()
                .find(|s| s.site.line == line && s.site.file.ends_with(site["file"].as_str().unwrap()))
                .unwrap();
            if site["leak"].as_bool().unwrap() && name != "mutex_holder" {
                assert!(s.growing && s.suspect, "{v} {name}: {:?}", s.counts);
            } else if !site["leak"].as_bool().unwrap() {
                assert!(!s.growing && !s.suspect, "{v} {name}: {:?} {:?}", s.counts, s.reasons);
            }
        }
    }
}

#[test]
fn cli_json_contract_and_errors() {
    let bin = env!("CARGO_BIN_EXE_goroscope");
    let f = data("go1.27").join("snapshot-3.debug2.txt");
    let out = Command::new(bin).args(["show", "--json"]).arg(&f).output().unwrap();
    assert!(out.status.success());
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["schema_version"], 1);
    let snap = &doc["snapshots"][0];
    assert_eq!(snap["format"], "debug2");
    assert_eq!(snap["profile"], "goroutine");
    assert!(snap["total"].as_u64().unwrap() > 0);
    let g = &snap["groups"][0];
    for k in ["count", "category", "state"] {
        assert!(!g[k].is_null(), "group.{k}");
    }
    for k in ["function", "file", "line"] {
        assert!(!g["site"][k].is_null(), "group.site.{k}");
    }

    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &[u8], &str); 4] = [
        ("empty.txt", b"", "the input is empty"),
        ("garbage.bin", &[0u8, 1, 2, 3, 255, 254, 7, 8, 0, 0, 9, 1, 2], "binary data"),
        ("words.txt", b"hello world\nnothing here\n", "no \"goroutine N [state]:\" header"),
        ("cut.gz", &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0x4b, 0x4c], "gzip"),
    ];
    for (name, bytes, want) in cases {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        let out = Command::new(bin).arg("show").arg(&p).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{name}: one line: {err}");
        assert!(err.contains(name) && err.contains(want), "{name}: {err}");
    }
}

#[test]
fn trend_cli_orders_by_name_and_fails_on_suspects_when_asked() {
    let bin = env!("CARGO_BIN_EXE_goroscope");
    let dir = data("go1.24");
    // Given out of order: the file names put them back.
    let files: Vec<PathBuf> = [3, 1, 2].iter().map(|n| dir.join(format!("snapshot-{n}.debug2.txt"))).collect();
    let out = Command::new(bin).args(["trend", "--json", "--fail-on-suspect"]).args(&files).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let sources: Vec<&str> =
        doc["snapshots"].as_array().unwrap().iter().map(|s| s["source"].as_str().unwrap()).collect();
    assert!(sources[0].ends_with("snapshot-1.debug2.txt") && sources[2].ends_with("snapshot-3.debug2.txt"));
    let top = &doc["sites"][0];
    assert_eq!(top["category"], "chan_send");
    assert_eq!(top["growing"], true);
    assert_eq!(top["suspect"], true);
    assert!(!top["reasons"].as_array().unwrap().is_empty());
    for k in ["state", "site", "counts", "delta", "rate_per_min"] {
        assert!(top.get(k).is_some(), "sites[].{k}");
    }
    // The same snapshot twice: nothing grows.
    let f = dir.join("snapshot-2.pb.gz");
    let out = Command::new(bin).args(["diff", "--json", "--fail-on-suspect"]).arg(&f).arg(&f).output().unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(doc["sites"].as_array().unwrap().iter().all(|s| s["delta"] == 0 && s["growing"] == false));
}
