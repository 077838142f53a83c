//! `trend` at scale: 1,000 snapshots of 1,000 blocking sites each.
//!
//! Two measurements: `compare` alone on grouped snapshots held in memory, and the whole
//! `goroscope trend bench-data/trend/` command (load → parse → group → summarize →
//! compare → table, files in parallel) over 1,000 debug=1 files written once into
//! `bench-data/trend/` (git-ignored; made here on first run, ~140 MB). Target: ≤ 1 s.

use criterion::{criterion_group, criterion_main, Criterion};
use goroscope::app::{self, LoadSettings};
use goroscope::compare::{compare, TrendSettings};
use goroscope::group::{group, GroupSettings, SnapshotReport};
use goroscope::report::{CompareView, Style};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

const SNAPSHOTS: usize = 1000;
const SITES: usize = 1000;

/// Writes snapshot `n` as a debug=1 profile: site `s` holds `1 + s % 7` goroutines, and
/// every tenth site leaks `n / 10` more.
fn write_profile(path: &Path, n: usize) {
    let mut body = String::new();
    let mut total = 0;
    for s in 0..SITES {
        let count = 1 + s % 7 + if s % 10 == 0 { n / 10 } else { 0 };
        total += count;
        let pc = 0x400000 + s * 0x40;
        let _ = write!(
            body,
            "{count} @ 0x48a7ca 0x41723c 0x416e37 {:#x} 0x4915a1\n#\t{:#x}\tgithub.com/acme/shop/svc{}.(*Handler).wait{}+0x44\t/src/shop/svc{}/handler.go:{}\n\n",
            pc + 1,
            pc,
            s % 40,
            s,
            s % 40,
            100 + s
        );
    }
    std::fs::write(path, format!("goroutine profile: total {total}\n{body}")).unwrap();
}

fn dataset() -> Vec<String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("bench-data/trend");
    std::fs::create_dir_all(&dir).unwrap();
    (0..SNAPSHOTS)
        .map(|n| {
            let p = dir.join(format!("snap-{n:04}.debug1.txt"));
            if !p.exists() {
                write_profile(&p, n);
            }
            p.to_string_lossy().into_owned()
        })
        .collect()
}

fn reports(files: &[String]) -> Vec<SnapshotReport> {
    let loaded = app::load(files, &LoadSettings::default()).unwrap();
    let settings = GroupSettings { summary: true, ..GroupSettings::default() };
    loaded.into_iter().map(|mut l| group(&mut l.snapshot, &settings)).collect()
}

fn bench(c: &mut Criterion) {
    let files = dataset();
    let grouped = reports(&files);
    let mut g = c.benchmark_group("trend_1000x1000");
    g.sample_size(10);
    g.bench_function("compare", |b| b.iter(|| compare(&grouped, &TrendSettings::default())));
    let command = app::CompareSettings {
        sources: vec![files[0].rsplit_once('/').unwrap().0.to_string()],
        load: LoadSettings::default(),
        group: GroupSettings::default(),
        trend: TrendSettings::default(),
        order: app::Order::Auto,
        json: false,
        style: Style::default(),
        view: CompareView::Trend,
        limit: 20,
        outputs: app::Outputs::default(),
    };
    g.bench_function("trend_command", |b| b.iter(|| app::compare(&command, &mut std::io::sink()).unwrap()));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
