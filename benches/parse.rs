//! Parse and group throughput on the synthetic dumps of `scripts/gen-bench-data.sh`
//! (`bench-data/`, git-ignored): bytes per second, per format and size.
//!
//! Run `scripts/gen-bench-data.sh` once, then `cargo bench --bench parse`. Inputs that are
//! missing are skipped with a note. `GOROSCOPE_BENCH_SIZES=10k,100k,1m` picks the sizes
//! (default `10k,100k`; the 1M dumps take seconds per iteration).
//!
//! Before the timings it prints the peak heap of parse + group per goroutine, measured by
//! a counting allocator: the number the issue bounds at 200 bytes beyond interned names
//! and the input (files are memory-mapped, so the input is not on the heap).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use goroscope::format;
use goroscope::group::{group, GroupSettings};
use goroscope::limits::Limits;
use std::alloc::{GlobalAlloc, Layout, System};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Counts live and peak heap bytes.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: defers to the system allocator; only adds bookkeeping.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(live, Ordering::Relaxed);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() {
            let live = LIVE.fetch_add(new_size - layout.size(), Ordering::Relaxed) + new_size - layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        } else {
            LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
        }
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("bench-data")
}

fn sizes() -> Vec<String> {
    std::env::var("GOROSCOPE_BENCH_SIZES")
        .unwrap_or_else(|_| "10k,100k".into())
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// The file, memory-mapped as `goroscope show` reads it; `None` (with a note) if missing.
fn load(name: &str) -> Option<memmap2::Mmap> {
    let path = data_dir().join(name);
    match std::fs::File::open(&path) {
        // SAFETY: bench inputs are not modified while the benchmark runs.
        Ok(f) => Some(unsafe { memmap2::Mmap::map(&f) }.expect("mmap")),
        Err(_) => {
            eprintln!("skip {name}: not found in bench-data/ (run scripts/gen-bench-data.sh)");
            None
        }
    }
}

/// Parse (format detected, as `show` does) and group every snapshot; returns the groups
/// so the work is not optimized away.
fn parse_and_group(name: &str, data: &[u8], threads: Option<usize>) -> usize {
    let limits = Limits::default();
    let mut snaps = match threads {
        Some(t) => format::text::parse_threads(name, data, false, &limits, t).expect("parses"),
        None => format::parse(name, data, None, &limits).expect("parses"),
    };
    snaps.iter_mut().map(|s| group(s, &GroupSettings::default()).groups.len()).sum()
}

fn report_memory() {
    for size in sizes() {
        let name = format!("goroutines-{size}.debug2.txt");
        let Some(data) = load(&name) else { continue };
        let before = LIVE.load(Ordering::Relaxed);
        PEAK.store(before, Ordering::Relaxed);
        let limits = Limits::default();
        let mut snaps = format::text::parse_threads(&name, &data, false, &limits, 1).expect("parses");
        let n: usize = snaps.iter().map(|s| s.goroutines.len()).sum();
        let strings: usize = snaps.iter().map(|s| s.tables.strings.len()).sum();
        let groups: usize = snaps.iter_mut().map(|s| group(s, &GroupSettings::default()).groups.len()).sum();
        let peak = PEAK.load(Ordering::Relaxed) - before;
        eprintln!(
            "memory {name}: {n} goroutines, {strings} interned strings, {groups} groups; peak heap {:.1} MB = {:.0} bytes/goroutine (input mmapped, not counted)",
            peak as f64 / 1e6,
            peak as f64 / n.max(1) as f64
        );
    }
}

fn bench(c: &mut Criterion) {
    report_memory();
    let one_core = std::thread::available_parallelism().map_or(1, |n| n.get()) == 1;
    for size in sizes() {
        let big = size == "1m";
        let mut g = c.benchmark_group(format!("parse+group/{size}"));
        g.sample_size(10);
        if big {
            g.measurement_time(Duration::from_secs(30));
        }
        // Both generator shapes (issue 14): `goroutines-N` (a service of ~390 call sites) and
        // `wide-N` (long paths, generics, deep stacks, 20k distinct call sites).
        let cases: [(&str, &str, Option<usize>); 10] = [
            ("debug2 1 thread", "goroutines-{}.debug2.txt", Some(1)),
            ("debug2 all threads", "goroutines-{}.debug2.txt", Some(0)),
            ("wide debug2 1 thread", "wide-{}.debug2.txt", Some(1)),
            ("wide debug2 all threads", "wide-{}.debug2.txt", Some(0)),
            ("sigquit", "goroutines-{}.sigquit.txt", None),
            ("wide sigquit 1 thread", "wide-{}.sigquit.txt", Some(1)),
            ("wide sigquit all threads", "wide-{}.sigquit.txt", Some(0)),
            ("debug1", "goroutines-{}.debug1.txt", None),
            ("debug1 unique labels", "goroutines-{}.unique.debug1.txt", None),
            ("debug0 unique labels", "goroutines-{}.unique.pb.gz", None),
        ];
        let all = std::thread::available_parallelism().map_or(1, |n| n.get());
        for (label, pattern, threads) in cases {
            if one_core && label.ends_with("all threads") {
                continue;
            }
            // Some(0): every core the process may use, whatever the machine's load.
            let threads = threads.map(|t| if t == 0 { all } else { t });
            let name = pattern.replace("{}", &size);
            let Some(data) = load(&name) else { continue };
            g.throughput(Throughput::Bytes(data.len() as u64));
            g.bench_with_input(BenchmarkId::new(label, data.len()), &data[..], |b, d| {
                b.iter(|| parse_and_group(&name, d, threads))
            });
        }
        if let Some(data) = load(&format!("goroutines-{size}.unique.pb.gz")) {
            // The floor for debug=0: gunzip alone.
            g.throughput(Throughput::Bytes(data.len() as u64));
            g.bench_with_input(BenchmarkId::new("gunzip only (floor)", data.len()), &data[..], |b, d| {
                b.iter(|| format::gunzip_if_needed("pb", d, &Limits::default()).expect("gunzips").len())
            });
        }
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
