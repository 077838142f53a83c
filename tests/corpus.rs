//! The shared corpus of real dumps (copied into testdata/corpus: Go 1.21, 1.24, 1.27),
//! checked against its manifests' ground truth: totals, per-site counts and categories
//! for every file; the same process in three formats giving the same groups; and the
//! four-snapshot series showing leak sites growing and baseline sites steady.

use goroscope::app::{self, LoadSettings};
use goroscope::classify::Category;
use goroscope::compare::{compare, TrendSettings};
use goroscope::group::{group, GroupSettings, SnapshotReport};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn corpus_dirs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/corpus");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("manifest.json").exists())
        .collect();
    v.sort();
    assert!(v.len() >= 3, "testdata/corpus holds the Go 1.21, 1.24 and 1.27 corpora");
    v
}

fn manifest(dir: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap()
}

fn reports(path: &Path) -> Vec<SnapshotReport> {
    let loaded = app::load(&[path.to_string_lossy().into_owned()], &LoadSettings::default())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    loaded.into_iter().map(|mut l| group(&mut l.snapshot, &GroupSettings::default())).collect()
}

/// Which categories fit a wait state, as the corpus checker defines it.
fn fits(state: &str, fmt: &str) -> Vec<Category> {
    use Category::*;
    let mut ok = match state {
        "chan send" => vec![ChanSend],
        "chan receive" => vec![ChanReceive],
        "chan send (nil chan)" => vec![NilChanSend],
        "chan receive (nil chan)" => vec![NilChanReceive],
        "select" => vec![Select],
        "select (no cases)" => vec![SelectNoCases],
        "sync.Mutex.Lock" => vec![Mutex, RwmutexWrite],
        "sync.RWMutex.RLock" => vec![RwmutexRead],
        "sync.RWMutex.Lock" => vec![RwmutexWrite],
        "sync.WaitGroup.Wait" => vec![Waitgroup],
        "semacquire" => vec![Waitgroup, Semaphore],
        "sync.Cond.Wait" => vec![Cond],
        "IO wait" => vec![IoWait],
        "sleep" => vec![Sleep],
        "syscall" => vec![Syscall],
        "running" | "runnable" => vec![Running, Runnable],
        _ => vec![],
    };
    if fmt == "debug0" {
        match state {
            "chan send (nil chan)" => ok.push(ChanSend),
            "chan receive (nil chan)" => ok.push(ChanReceive),
            _ => {}
        }
    }
    let hidden = [
        "chan send",
        "chan receive",
        "chan send (nil chan)",
        "chan receive (nil chan)",
        "running",
        "runnable",
        "select",
        "select (no cases)",
    ];
    if fmt == "debug1" && hidden.contains(&state) {
        ok.push(Unknown);
    }
    ok
}

fn fmt_of(kind: &str) -> &'static str {
    if kind.ends_with("debug0") {
        "debug0"
    } else if kind.ends_with("debug1") {
        "debug1"
    } else {
        "text"
    }
}

#[test]
fn every_corpus_file_matches_its_ground_truth() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for dir in corpus_dirs() {
        let m = manifest(&dir);
        let sites = &m["sites"];
        for cap in m["captures"].as_array().unwrap() {
            for (kind, name) in cap["files"].as_object().unwrap() {
                let path = dir.join(name.as_str().unwrap());
                let fmt = fmt_of(kind);
                let leak_profile = kind.contains("goroutineleak") && fmt != "text";
                let reps = reports(&path);
                let snap = reps.iter().max_by_key(|r| r.total).unwrap();
                let label = format!("{}/{}", dir.file_name().unwrap().to_string_lossy(), name.as_str().unwrap());
                let (lo, hi) = if leak_profile {
                    let t = cap["goroutineleak"]["expected_leaked_total"].as_u64().unwrap();
                    (t, t)
                } else {
                    let lo = cap["total_goroutines"].as_u64().unwrap();
                    let cc = &cap["crosscheck"];
                    let headers = cc[kind.as_str()]["goroutine_headers"]
                        .as_u64()
                        .or_else(|| cc["embedded_dump"]["goroutine_headers"].as_u64())
                        .unwrap_or(0);
                    (lo, lo.max(headers))
                };
                if !(lo..=hi).contains(&snap.total) {
                    failures.push(format!("{label}: total {} not in {lo}..={hi}", snap.total));
                }
                let expected: Vec<(String, u64)> = if leak_profile {
                    cap["goroutineleak"]["expected_leaked_by_site"]
                        .as_object()
                        .map(|o| o.iter().map(|(k, v)| (k.clone(), v.as_u64().unwrap())).collect())
                        .unwrap_or_default()
                } else {
                    cap["groups"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|g| (g["site"].as_str().unwrap().to_string(), g["count"].as_u64().unwrap()))
                        .collect()
                };
                for (site, want) in expected {
                    let s = &sites[site.as_str()];
                    if !s["function"].as_str().unwrap_or("").starts_with("main.") {
                        continue;
                    }
                    let file = s["file"].as_str().unwrap();
                    let line = s["line"].as_u64().unwrap() as u32;
                    let mine: Vec<_> = snap
                        .groups
                        .iter()
                        .filter(|g| g.site.line == line && g.site.file.rsplit('/').next() == Some(file))
                        .collect();
                    let got: u64 = mine.iter().map(|g| g.count).sum();
                    checked += 1;
                    if got != want {
                        failures.push(format!("{label}: site {site} ({file}:{line}) count {got}, want {want}"));
                        continue;
                    }
                    if want == 0 || leak_profile {
                        continue;
                    }
                    let top = mine.iter().max_by_key(|g| g.count).unwrap();
                    let mut ok = fits(s["wait_state"].as_str().unwrap(), fmt);
                    for alt in s["wait_state_alternatives"].as_array().into_iter().flatten() {
                        ok.extend(fits(alt.as_str().unwrap(), fmt));
                    }
                    if !ok.is_empty() && !ok.contains(&top.category) {
                        failures.push(format!("{label}: site {site} category {:?}, want one of {ok:?}", top.category));
                    }
                }
            }
        }
    }
    assert!(checked > 1000, "checked {checked} sites");
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

/// Site counts of a report: (file basename, line) → count, program sites only.
fn site_counts(r: &SnapshotReport) -> BTreeMap<(String, u32), u64> {
    let mut m = BTreeMap::new();
    for g in &r.groups {
        if g.site.function.starts_with("main.") {
            let base = g.site.file.rsplit('/').next().unwrap().to_string();
            *m.entry((base, g.site.line)).or_default() += g.count;
        }
    }
    m
}

#[test]
fn one_process_in_three_formats_gives_the_same_groups() {
    for dir in corpus_dirs() {
        for n in 1..=4 {
            let d0 = &reports(&dir.join(format!("snapshot-{n}.pb.gz")))[0];
            let d1 = &reports(&dir.join(format!("snapshot-{n}.debug1.txt")))[0];
            let d2 = &reports(&dir.join(format!("snapshot-{n}.debug2.txt")))[0];
            assert_eq!(d0.total, d1.total, "{} snapshot-{n}", dir.display());
            // The in-flight profile request differs between the three captures; the
            // program's own sites must not.
            assert_eq!(site_counts(d0), site_counts(d1), "{} snapshot-{n}: debug0 vs debug1", dir.display());
            assert_eq!(site_counts(d0), site_counts(d2), "{} snapshot-{n}: debug0 vs debug2", dir.display());
            // debug=0 names what debug=2 names, nil channels included (by the line of
            // `runtime.chansend`/`chanrecv`, known for Go 1.21-1.27).
            for g2 in d2.groups.iter().filter(|g| g.site.function.starts_with("main.")) {
                let g0 = d0.groups.iter().find(|g| g.site == g2.site).expect("site in debug0");
                let relaxed = match g2.category {
                    Category::Running => Category::Runnable,
                    c => c,
                };
                let g0c = if g0.category == Category::Running { Category::Runnable } else { g0.category };
                assert!(
                    g0.category == g2.category || g0c == relaxed,
                    "{}: {:?} vs {:?}",
                    g2.site.function,
                    g0.category,
                    g2.category
                );
            }
        }
    }
}

#[test]
fn the_series_shows_leaks_growing_and_baselines_steady() {
    for dir in corpus_dirs() {
        let m = manifest(&dir);
        for fmt in ["pb.gz", "debug1.txt", "debug2.txt"] {
            let reps: Vec<SnapshotReport> =
                (1..=4).map(|n| reports(&dir.join(format!("snapshot-{n}.{fmt}"))).remove(0)).collect();
            let trend = compare(&reps, &TrendSettings::default());
            for (name, s) in m["sites"].as_object().unwrap() {
                let kind = s["kind"].as_str().unwrap();
                if !s["function"].as_str().unwrap().starts_with("main.") || !matches!(kind, "leak" | "baseline") {
                    continue;
                }
                let line = s["line"].as_u64().unwrap() as u32;
                let file = s["file"].as_str().unwrap();
                let Some(t) = trend.sites.iter().find(|t| t.site.line == line && t.site.file.ends_with(file)) else {
                    panic!("{}: site {name} missing from the {fmt} trend", dir.display())
                };
                let ctx = format!("{} {fmt} {name} {:?}", dir.display(), t.counts);
                match kind {
                    "leak" => assert!(t.growing && t.suspect, "{ctx}: a leak grows and is a suspect"),
                    _ => assert!(!t.growing && !t.suspect, "{ctx}: a baseline is steady"),
                }
            }
            // The forgotten sender leads the suspects, with its hint where creators are known.
            let top = &trend.sites[0];
            assert_eq!(top.category, if fmt == "debug1.txt" { top.category } else { Category::ChanSend });
            assert!(top.growing);
            if fmt == "debug2.txt" {
                assert!(top.hint.as_deref().unwrap_or("").contains("forgotten sender"), "{:?}", top);
            }
        }
    }
}

#[test]
fn mixed_formats_compare_site_by_site() {
    let dir = &corpus_dirs()[0];
    let a = reports(&dir.join("snapshot-1.pb.gz")).remove(0);
    let b = reports(&dir.join("snapshot-4.debug2.txt")).remove(0);
    let trend = compare(&[a, b], &TrendSettings::default());
    let sender = trend.sites.iter().find(|s| s.site.function == "main.(*server).handleSearch.func1").unwrap();
    assert_eq!(sender.counts, vec![5, 50]);
    assert_eq!(sender.category, Category::ChanSend);
}
