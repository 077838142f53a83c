//! The commands, as plain functions of plain settings (no clap types): each loads its
//! sources, runs the pure stages, and renders to the writer it is given.

use crate::compare::{Names, Summary};
use crate::group::{GroupSettings, SnapshotReport};
use crate::limits::Limits;
use crate::model::{Format, Snapshot};
use crate::report::Style;
use std::io::Write;

/// How sources are read.
#[derive(Debug, Clone, Default)]
pub struct LoadSettings {
    /// Force a format instead of detecting it.
    pub format: Option<Format>,
    pub limits: Limits,
    /// How `http(s)://` sources are fetched.
    pub fetch: crate::fetch::FetchSettings,
}

/// A loaded snapshot with what is known about where it came from.
pub struct Loaded {
    pub snapshot: Snapshot,
    /// The file's modification time, a fallback capture time for ordering.
    pub mtime_nanos: Option<i64>,
}

/// Loads every source (files, folders, stdin, URLs) in the order given.
pub fn load(specs: &[String], settings: &LoadSettings) -> crate::Result<Vec<Loaded>> {
    let mut out = Vec::new();
    let specs = crate::source::expand(specs)?;
    // URLs are fetched first, all together; each is then parsed in its place in the order.
    let urls: Vec<String> = specs.iter().filter(|s| crate::source::is_url(s)).cloned().collect();
    let mut fetched =
        crate::fetch::fetch_all(&urls, &settings.fetch, &settings.limits, settings.format.is_none())?.into_iter();
    for spec in specs {
        let input = if crate::source::is_url(&spec) {
            fetched.next().expect("fetch_all returns one input per URL")
        } else {
            crate::source::read_local(&spec, &settings.limits)?
        };
        let leak_url = crate::source::is_url(&spec) && url_path_names_leak_profile(&spec, &settings.fetch);
        for mut snapshot in crate::source::parse_input(&input, settings.format, &settings.limits)? {
            // debug=2 text does not name its profile; the URL does.
            if leak_url && snapshot.format.is_traceback() {
                snapshot.profile = crate::model::ProfileKind::Goroutineleak;
            }
            out.push(Loaded { snapshot, mtime_nanos: input.mtime_nanos });
        }
        if out.len() as u64 > settings.limits.max_snapshots {
            return Err(crate::Error::Limit {
                source_name: input.name.clone(),
                message: format!(
                    "more than {} snapshots; raise the limit with --max-snapshots",
                    settings.limits.max_snapshots
                ),
            });
        }
    }
    Ok(out)
}

/// True if the URL (as completed by the fetcher) asks for the goroutineleak profile.
fn url_path_names_leak_profile(spec: &str, fetch: &crate::fetch::FetchSettings) -> bool {
    let path = spec.split(['?', '#']).next().unwrap_or(spec);
    path.trim_end_matches('/').ends_with("/goroutineleak")
        || fetch.profile == Some(crate::model::ProfileKind::Goroutineleak)
}

/// Settings of `goroscope show`.
#[derive(Debug, Clone)]
pub struct ShowSettings {
    pub sources: Vec<String>,
    pub load: LoadSettings,
    pub group: GroupSettings,
    pub json: bool,
    pub stacks: bool,
    pub style: Style,
}

/// `goroscope show`: group each snapshot by blocking site and print a table or JSON.
pub fn show(settings: &ShowSettings, out: &mut impl Write) -> crate::Result<()> {
    let loaded = load(&settings.sources, &settings.load)?;
    let reports: Vec<SnapshotReport> =
        loaded.into_iter().map(|mut l| crate::group::group(&mut l.snapshot, &settings.group)).collect();
    let r = if settings.json {
        crate::report::show_json(out, &reports)
    } else {
        crate::report::show_table(out, &reports, settings.style, settings.stacks)
    };
    r.map_err(|e| crate::Error::io("stdout", e))
}

/// How a series is put in time order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Order {
    /// Capture time where every snapshot has one; else file names (natural order); else
    /// modification times.
    #[default]
    Auto,
    /// The order given on the command line.
    AsGiven,
}

/// Settings of `goroscope diff` and `goroscope trend`.
#[derive(Debug, Clone)]
pub struct CompareSettings {
    pub sources: Vec<String>,
    pub load: LoadSettings,
    pub group: GroupSettings,
    pub trend: crate::compare::TrendSettings,
    pub order: Order,
    pub json: bool,
    pub style: Style,
    pub view: crate::report::CompareView,
    /// Rows of steady sites to show (0 = all).
    pub limit: usize,
}

/// `goroscope diff OLD NEW` and `goroscope trend SOURCE...`: growth per blocking site.
/// Returns the comparison so callers can act on suspects.
pub fn compare(settings: &CompareSettings, out: &mut impl Write) -> crate::Result<crate::compare::Trend> {
    // Grouped by site whatever `settings.group.by` says (summarize_snapshot sees to it).
    let names = std::sync::Mutex::new(Names::default());
    let mut grouped = load_grouped(&settings.sources, &settings.load, &settings.group, &names)?;
    if grouped.len() < 2 {
        return Err(crate::Error::Usage(format!(
            "{} snapshot(s) found in {}; comparing needs at least 2",
            grouped.len(),
            settings.sources.join(" ")
        )));
    }
    if settings.view == crate::report::CompareView::Diff && grouped.len() != 2 {
        return Err(crate::Error::Usage(format!(
            "diff compares two snapshots, and {} were found (a log may hold several dumps); use trend for a series",
            grouped.len()
        )));
    }
    if settings.view == crate::report::CompareView::Trend {
        order(&mut grouped, settings.order);
    }
    let summaries: Vec<Summary> = grouped
        .into_iter()
        .map(|mut g| {
            if g.summary.point.time.is_none() {
                if let Some(t) = g.mtime_nanos {
                    let time = crate::report::rfc3339(t);
                    g.summary.point.time_nanos = crate::compare::time_of_text(&time);
                    g.summary.point.time = Some(time);
                    // A fetched profile's "modification time" is when it was fetched.
                    g.summary.point.time_source = Some(if crate::source::is_url(&g.summary.point.source) {
                        crate::compare::TimeSource::Capture
                    } else {
                        crate::compare::TimeSource::File
                    });
                }
            }
            g.summary
        })
        .collect();
    let names = names.into_inner().unwrap_or_else(|e| e.into_inner());
    let trend = crate::compare::compare_summaries(&summaries, &names, &settings.trend);
    let r = if settings.json {
        crate::report::trend_json(out, &trend)
    } else {
        crate::report::trend_table(out, &trend, settings.style, settings.view, settings.limit)
    };
    r.map_err(|e| crate::Error::io("stdout", e))?;
    Ok(trend)
}

/// A grouped snapshot, summarized, with what ordering needs.
struct Grouped {
    summary: Summary,
    /// Capture time from the content (pprof `time_nanos`, a log timestamp).
    content_time: Option<i64>,
    mtime_nanos: Option<i64>,
}

/// Loads, groups and summarizes every source. Local files are parsed and grouped in
/// parallel, one file at a time per core, and each snapshot is dropped once summarized,
/// so a long series never holds more than its summaries (measured:
/// benches/trend.rs, 1,000 files of 1,000 sites). URLs are fetched together first.
fn load_grouped(
    specs: &[String],
    settings: &LoadSettings,
    group: &GroupSettings,
    names: &std::sync::Mutex<Names>,
) -> crate::Result<Vec<Grouped>> {
    let to_grouped = |l: Loaded| {
        let content_time = l.snapshot.time_nanos;
        let mut snap = l.snapshot;
        let summary = crate::compare::summarize_snapshot(&mut snap, group, names);
        Grouped { summary, content_time, mtime_nanos: l.mtime_nanos }
    };
    if specs.iter().any(|s| crate::source::is_url(s)) {
        return Ok(load(specs, settings)?.into_iter().map(to_grouped).collect());
    }
    let files = crate::source::expand(specs)?;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(files.len()).max(1);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut slots: Vec<Option<crate::Result<Vec<Grouped>>>> = (0..files.len()).map(|_| None).collect();
    let results: Vec<Vec<(usize, crate::Result<Vec<Grouped>>)>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(spec) = files.get(i) else { break };
                        let r =
                            load(std::slice::from_ref(spec), settings).map(|v| v.into_iter().map(to_grouped).collect());
                        let failed = r.is_err();
                        done.push((i, r));
                        if failed {
                            break;
                        }
                    }
                    done
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().expect("a loader thread panicked")).collect()
    });
    for (i, r) in results.into_iter().flatten() {
        slots[i] = Some(r);
    }
    let mut out = Vec::new();
    // The first failure in the order given is the one reported, as without threads.
    for (spec, r) in files.iter().zip(slots) {
        let Some(r) = r else { continue };
        out.extend(r?);
        if out.len() as u64 > settings.limits.max_snapshots {
            return Err(crate::Error::Limit {
                source_name: spec.clone(),
                message: format!(
                    "more than {} snapshots; raise the limit with --max-snapshots",
                    settings.limits.max_snapshots
                ),
            });
        }
    }
    Ok(out)
}

/// Puts a series in time order (stable: ties keep the given order).
fn order(grouped: &mut [Grouped], how: Order) {
    if how == Order::AsGiven {
        return;
    }
    if grouped.iter().all(|g| g.content_time.is_some()) {
        grouped.sort_by_key(|g| g.content_time);
        return;
    }
    let names: Vec<&str> = grouped.iter().map(|g| g.summary.point.source.as_str()).collect();
    let distinct = names.iter().collect::<std::collections::HashSet<_>>().len() == names.len();
    if distinct && names.iter().all(|n| n.bytes().any(|b| b.is_ascii_digit())) {
        grouped.sort_by(|a, b| natural_cmp(&a.summary.point.source, &b.summary.point.source));
        return;
    }
    grouped.sort_by_key(|g| g.mtime_nanos);
}

/// Compares names with digit runs as numbers: `snap-2` before `snap-10`.
pub fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let (mut x, mut y) = (a.as_bytes(), b.as_bytes());
    while !x.is_empty() && !y.is_empty() {
        if x[0].is_ascii_digit() && y[0].is_ascii_digit() {
            let dx = x.iter().take_while(|c| c.is_ascii_digit()).count();
            let dy = y.iter().take_while(|c| c.is_ascii_digit()).count();
            let nx = std::str::from_utf8(&x[..dx])
                .ok()
                .and_then(|s| s.trim_start_matches('0').parse::<u128>().ok())
                .unwrap_or(0);
            let ny = std::str::from_utf8(&y[..dy])
                .ok()
                .and_then(|s| s.trim_start_matches('0').parse::<u128>().ok())
                .unwrap_or(0);
            match nx.cmp(&ny) {
                std::cmp::Ordering::Equal => {}
                o => return o,
            }
            x = &x[dx..];
            y = &y[dy..];
        } else {
            match x[0].cmp(&y[0]) {
                std::cmp::Ordering::Equal => {}
                o => return o,
            }
            x = &x[1..];
            y = &y[1..];
        }
    }
    x.len().cmp(&y.len())
}

/// Settings of `goroscope fetch`.
#[derive(Debug, Clone)]
pub struct FetchCommandSettings {
    pub url: String,
    /// Where the raw response goes.
    pub output: std::path::PathBuf,
    /// Replace `output` if it exists.
    pub force: bool,
    pub fetch: crate::fetch::FetchSettings,
    pub limits: Limits,
}

/// `goroscope fetch URL -o FILE`: save the service's response byte for byte, to open later
/// with goroscope or `go tool pprof`; says what it saved on `out`.
pub fn fetch(settings: &FetchCommandSettings, out: &mut impl Write) -> crate::Result<()> {
    let saved = crate::fetch::fetch_to_file(
        &settings.url,
        &settings.output,
        settings.force,
        &settings.fetch,
        &settings.limits,
        true,
    )?;
    writeln!(out, "{}: saved {} bytes to {}", saved.name, saved.bytes, settings.output.display())
        .map_err(|e| crate::Error::io("stdout", e))
}
