//! The commands, as plain functions of plain settings (no clap types): each loads its
//! sources, runs the pure stages, and renders to the writer it is given.

use crate::compare::{Names, Summary};
use crate::group::GroupSettings;
use crate::limits::Limits;
use crate::model::{Format, Snapshot};
use crate::report::Style;
use std::io::Write;
use std::sync::Mutex;

/// How sources are read.
#[derive(Debug, Clone, Default)]
pub struct LoadSettings {
    /// Force a format instead of detecting it.
    pub format: Option<Format>,
    pub limits: Limits,
    /// How `http(s)://` sources are fetched.
    pub fetch: crate::fetch::FetchSettings,
    /// Name every file skipped in a folder (`-v`), not only how many.
    pub verbose: bool,
}

/// A loaded snapshot with what is known about where it came from.
pub struct Loaded {
    pub snapshot: Snapshot,
    /// The file's modification time, a fallback capture time for ordering.
    pub mtime_nanos: Option<i64>,
}

/// Loads every source (files, folders, stdin, URLs) in the order given. A file in a named
/// folder that is clearly not a dump (a manifest, a README) is skipped and counted, with
/// one line on stderr (`-v`: one per file); a file named itself that is not a dump is an
/// error.
pub fn load(specs: &[String], settings: &LoadSettings) -> crate::Result<Vec<Loaded>> {
    let specs = crate::source::expand(specs)?;
    let mut skipped = Vec::new();
    let out = load_specs(&specs, settings, &mut skipped)?;
    report_skipped(&specs, &skipped, settings.verbose, out.is_empty())?;
    Ok(out)
}

/// A file skipped in a folder: its path, the folder, and why.
struct Skip {
    file: String,
    folder: String,
    why: String,
}

/// Loads `specs` (already expanded), adding files of folders that are not dumps to `skipped`.
fn load_specs(
    specs: &[crate::source::Spec],
    settings: &LoadSettings,
    skipped: &mut Vec<Skip>,
) -> crate::Result<Vec<Loaded>> {
    let mut out = Vec::new();
    // URLs are fetched first, all together; each is then parsed in its place in the order.
    let urls: Vec<String> = specs.iter().filter(|s| crate::source::is_url(&s.name)).map(|s| s.name.clone()).collect();
    let mut fetched =
        crate::fetch::fetch_all(&urls, &settings.fetch, &settings.limits, settings.format.is_none())?.into_iter();
    for spec in specs {
        let url = crate::source::is_url(&spec.name);
        let input = if url {
            fetched.next().expect("fetch_all returns one input per URL")
        } else {
            crate::source::read_local(&spec.name, &settings.limits)?
        };
        let leak_url = url && url_path_names_leak_profile(&spec.name, &settings.fetch);
        let snapshots = match crate::source::parse_input(&input, settings.format, &settings.limits) {
            Err(e) if spec.folder.is_some() && crate::source::is_not_a_dump(&e) => {
                let why = match &e {
                    crate::Error::UnknownFormat { why, .. } => why.clone(),
                    e => e.to_string(),
                };
                skipped.push(Skip { file: spec.name.clone(), folder: spec.folder.clone().unwrap_or_default(), why });
                continue;
            }
            r => r?,
        };
        for mut snapshot in snapshots {
            // debug=2 text does not name its profile; the URL does.
            if leak_url && snapshot.format.is_traceback() {
                snapshot.profile = crate::model::ProfileKind::Goroutineleak;
            }
            // A syslog or klog time has no year: it is taken as the last such date before
            // the file was last written.
            if let (None, Some(t), Some(m)) = (snapshot.time_nanos, snapshot.time_in_year, input.mtime_nanos) {
                snapshot.time_nanos = crate::format::logprefix::resolve_year(t, m);
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

/// Says on stderr what was skipped: per folder how many files (`verbose`: each file and
/// why). An error when nothing was left to read.
fn report_skipped(
    specs: &[crate::source::Spec],
    skipped: &[Skip],
    verbose: bool,
    nothing_loaded: bool,
) -> crate::Result<()> {
    use crate::layout::escape;
    if skipped.is_empty() {
        return Ok(());
    }
    let mut folders: Vec<&str> = skipped.iter().map(|s| s.folder.as_str()).collect();
    folders.dedup();
    if nothing_loaded && skipped.len() == specs.len() {
        return Err(crate::Error::Usage(format!(
            "{}: no goroutine dump or profile in it ({} skipped: not dumps); name a folder of dumps",
            folders.join(", "),
            crate::report::count(skipped.len() as u64, "file")
        )));
    }
    for folder in folders {
        let n = skipped.iter().filter(|s| s.folder == folder).count();
        let what = if n == 1 {
            "1 file that is not a goroutine dump"
        } else {
            &format!("{n} files that are not goroutine dumps")
        };
        let hint = match (verbose, n) {
            (true, _) => "",
            (false, 1) => " (-v names it)",
            _ => " (-v names them)",
        };
        eprintln!("goroscope: {}: skipped {what}{hint}", escape(folder));
    }
    if verbose {
        for s in skipped {
            eprintln!("goroscope: skipped {}: not a goroutine dump ({})", escape(&s.file), escape(&s.why));
        }
    }
    Ok(())
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
    /// Also write the HTML report here (`--html`).
    pub html: Option<std::path::PathBuf>,
    /// Replace an existing `html` file.
    pub force: bool,
}

/// The wait states and goroutine statuses Go 1.21–1.27 print (`waitReasonStrings` and
/// `gStatusStrings` of the runtime; shared/reference/go-formats.md §1.3, §2).
const KNOWN_STATES: &[&str] = &[
    "GC assist marking",
    "IO wait",
    "chan receive (nil chan)",
    "chan send (nil chan)",
    "dumping heap",
    "garbage collection",
    "garbage collection scan",
    "panicwait",
    "select",
    "select (no cases)",
    "GC assist wait",
    "GC sweep wait",
    "GC scavenge wait",
    "chan receive",
    "chan send",
    "finalizer wait",
    "force gc (idle)",
    "semacquire",
    "sleep",
    "sync.Cond.Wait",
    "sync.Mutex.Lock",
    "sync.RWMutex.RLock",
    "sync.RWMutex.Lock",
    "trace reader (blocked)",
    "wait for GC cycle",
    "GC worker (idle)",
    "GC worker (active)",
    "preempted",
    "debug call",
    "GC mark termination",
    "stopping the world",
    "flushing proc caches",
    "trace goroutine status",
    "trace proc status",
    "page trace flush",
    "coroutine",
    "GC weak to strong wait",
    "sync.WaitGroup.Wait",
    "synctest.Run",
    "synctest.Wait",
    "chan receive (synctest)",
    "chan send (synctest)",
    "select (synctest)",
    "GOMAXPROCS updater (idle)",
    "chan receive (durable)",
    "chan send (durable)",
    "select (durable)",
    "sync.WaitGroup.Wait (durable)",
    "cleanup wait",
    "idle",
    "runnable",
    "running",
    "syscall",
    "waiting",
    "dead",
    "copystack",
    "leaked",
    "waiting for cgo callback",
];

/// Refuses a `--state` that is neither a category, nor a state the runtime prints, nor a
/// state some goroutine of the input is in (a newer Go's): it would silently match nothing.
fn check_states(states: &[String], loaded: &[Loaded]) -> crate::Result<()> {
    for st in states {
        let known = crate::classify::Category::from_name(st).is_some()
            || KNOWN_STATES.contains(&st.as_str())
            || loaded.iter().any(|l| {
                let t = &l.snapshot.tables;
                t.strings.lookup(st).is_some_and(|id| l.snapshot.goroutines.iter().any(|g| g.state == id))
            });
        if !known {
            let categories: Vec<&str> = crate::classify::Category::ALL.iter().map(|c| c.name()).collect();
            return Err(crate::Error::Usage(format!(
                "--state {st:?}: not a category or a wait state; use a category ({}) or a wait state as the runtime prints it (\"chan receive\", \"IO wait\", \"sync.Mutex.Lock\", …)",
                categories.join(", ")
            )));
        }
    }
    Ok(())
}

/// Warns when `--group-by label:KEY` names a key no goroutine carries (every group would
/// have an empty value), listing the keys there are.
fn check_label_key(by: &crate::group::GroupBy, loaded: &[Loaded]) {
    let crate::group::GroupBy::Label(key) = by else { return };
    let mut keys = std::collections::BTreeSet::new();
    let mut found = false;
    for l in loaded {
        let t = &l.snapshot.tables;
        for id in 0..t.label_sets.len() as u32 {
            for (k, _) in t.labels(id) {
                found |= k == key;
                if keys.len() < 20 {
                    keys.insert(k.to_string());
                }
            }
        }
    }
    if !found {
        let seen = if keys.is_empty() {
            "no goroutine has labels".to_string()
        } else {
            format!("keys seen: {}", keys.into_iter().collect::<Vec<_>>().join(", "))
        };
        eprintln!(
            "goroscope: warning: --group-by label:{}: no goroutine has this label ({})",
            crate::layout::escape(key),
            crate::layout::escape(&seen)
        );
    }
}

/// `goroscope show`: group each snapshot by blocking site and print a table or JSON.
pub fn show(settings: &ShowSettings, out: &mut impl Write) -> crate::Result<()> {
    if let Some(p) = &settings.html {
        crate::export::check_writable(p, settings.force)?;
    }
    let mut loaded = load(&settings.sources, &settings.load)?;
    check_states(&settings.group.states, &loaded)?;
    check_label_key(&settings.group.by, &loaded);
    // Groups are resolved to strings one at a time as they are written (issue 15: the
    // strings of every group at once cost more than the dump).
    let groupings: Vec<crate::group::Grouping<'_>> =
        loaded.iter_mut().map(|l| crate::group::grouping(&mut l.snapshot, &settings.group)).collect();
    let r = if settings.json {
        crate::report::show_json_streamed(out, &groupings)
    } else {
        crate::report::show_table_streamed(out, &groupings, settings.style, settings.stacks)
    };
    r.map_err(|e| crate::Error::io("stdout", e))?;
    if let Some(p) = &settings.html {
        // The page holds every group's stack and labels: resolved all at once, only here.
        let reports: Vec<crate::group::SnapshotReport> = groupings.into_iter().map(|g| g.into_report()).collect();
        crate::export::save(p, settings.force, |w| crate::html::show(w, &reports))?;
    }
    Ok(())
}

/// Settings of `goroscope export`.
#[derive(Debug, Clone)]
pub struct ExportSettings {
    pub source: String,
    pub load: LoadSettings,
    /// Each format asked for, with the file it goes to.
    pub outputs: Vec<(crate::export::ExportFormat, std::path::PathBuf)>,
    /// Replace existing files.
    pub force: bool,
    /// Which snapshot of a source holding several (a log), from 1.
    pub snapshot: Option<usize>,
    /// The program's own code (`--module`), for the blocking site.
    pub modules: Vec<String>,
}

/// `goroscope export`: one snapshot as a pprof profile, folded stacks or a speedscope
/// file (any of them at once); says what it wrote on `out`.
pub fn export(settings: &ExportSettings, out: &mut impl Write) -> crate::Result<()> {
    if settings.outputs.is_empty() {
        return Err(crate::Error::Usage(
            "nothing to write: pass --pprof FILE, --folded FILE or --speedscope FILE".into(),
        ));
    }
    for (i, (_, p)) in settings.outputs.iter().enumerate() {
        if settings.outputs[..i].iter().any(|(_, q)| q == p) {
            return Err(crate::Error::Usage(format!("{}: named for two outputs; give each its own file", p.display())));
        }
        crate::export::check_writable(p, settings.force)?;
    }
    let mut loaded = load(std::slice::from_ref(&settings.source), &settings.load)?;
    let n = loaded.len();
    let pick = match (settings.snapshot, n) {
        (None, 1) => 0,
        (None, 0) => return Err(crate::Error::parse(&settings.source, "no goroutine dump in it")),
        (None, n) => {
            return Err(crate::Error::Usage(format!(
                "{}: holds {n} dumps; choose one with --snapshot 1..{n} (or compare them with trend)",
                settings.source
            )))
        }
        (Some(k), n) if k >= 1 && k <= n => k - 1,
        (Some(k), n) => {
            return Err(crate::Error::Usage(format!(
                "{}: --snapshot {k}, but it holds {n} dump(s); choose 1..{n}",
                settings.source
            )))
        }
    };
    let mut snap = loaded.swap_remove(pick).snapshot;
    let profile = crate::export::from_snapshot(&mut snap, &settings.modules);
    let goroutines: i64 = profile.samples.iter().map(|s| s.value()).sum();
    for (format, path) in &settings.outputs {
        let bytes = crate::export::save(path, settings.force, |w| format.write(&profile, w))?;
        writeln!(
            out,
            "{}: wrote {} ({} samples, {goroutines} goroutines, {bytes} bytes) to {}",
            snap.source,
            format.name(),
            profile.samples.len(),
            path.display()
        )
        .map_err(|e| crate::Error::io("stdout", e))?;
    }
    Ok(())
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
    /// The HTML report and growth exports to write besides.
    pub outputs: Outputs,
}

/// Files a comparison writes besides its table or JSON.
#[derive(Debug, Clone, Default)]
pub struct Outputs {
    /// The HTML report (`--html`).
    pub html: Option<std::path::PathBuf>,
    /// Growth exports (`--pprof`, `--folded`, `--speedscope`).
    pub exports: Vec<(crate::export::ExportFormat, std::path::PathBuf)>,
    /// Replace existing files.
    pub force: bool,
}

impl Outputs {
    fn wanted(&self) -> bool {
        self.html.is_some() || !self.exports.is_empty()
    }
}

/// `goroscope diff OLD NEW` and `goroscope trend SOURCE...`: growth per blocking site.
/// Returns the comparison so callers can act on suspects.
pub fn compare(settings: &CompareSettings, out: &mut impl Write) -> crate::Result<crate::compare::Trend> {
    // Grouped by site whatever `settings.group.by` says (summarize_snapshot sees to it).
    let names = std::sync::Mutex::new(Names::default());
    let outputs = &settings.outputs;
    for p in outputs.html.iter().chain(outputs.exports.iter().map(|(_, p)| p)) {
        crate::export::check_writable(p, outputs.force)?;
    }
    let examples = outputs.wanted().then(|| std::sync::Mutex::new(RankedExamples::default()));
    let mut grouped = load_grouped(&settings.sources, &settings.load, &settings.group, &names, examples.as_ref())?;
    if grouped.len() < 2 {
        return Err(crate::Error::Usage(format!(
            "{} found in {}; comparing needs at least 2",
            crate::report::count(grouped.len() as u64, "snapshot"),
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
    if let Some(examples) = examples {
        let examples: crate::export::Examples =
            examples.into_inner().unwrap_or_else(|e| e.into_inner()).into_iter().map(|(k, (_, e))| (k, e)).collect();
        if let Some(p) = &outputs.html {
            let section = crate::html::TrendSection { title: None, trend: &trend, examples: &examples };
            crate::export::save(p, outputs.force, |w| crate::html::trend(w, &[section], settings.view, None))?;
        }
        if !outputs.exports.is_empty() {
            let profile = crate::export::from_trend(&trend, &examples);
            for (format, p) in &outputs.exports {
                crate::export::save(p, outputs.force, |w| format.write(&profile, w))?;
            }
        }
    }
    Ok(trend)
}

/// Example stacks by site, each with the position (file, then snapshot in it) of the
/// snapshot it came from: the last one in the order given wins, whatever order the
/// loader threads finish in.
type RankedExamples = rustc_hash::FxHashMap<(String, String, u32), ((usize, usize), crate::export::Example)>;

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
    examples: Option<&std::sync::Mutex<RankedExamples>>,
) -> crate::Result<Vec<Grouped>> {
    let to_grouped = |rank: (usize, usize), l: Loaded| {
        let content_time = l.snapshot.time_nanos;
        let mut snap = l.snapshot;
        let summary = match examples {
            // The HTML report and exports show an example stack per site: the full grouping.
            Some(examples) => {
                let by_site = GroupSettings { by: crate::group::GroupBy::Site, ..group.clone() };
                let report = crate::group::group(&mut snap, &by_site);
                let mut found = crate::export::Examples::default();
                crate::export::collect_examples(&report, &mut found);
                let mut examples = examples.lock().unwrap_or_else(|e| e.into_inner());
                for (k, e) in found {
                    match examples.get(&k) {
                        Some((r, _)) if *r > rank => {}
                        _ => {
                            examples.insert(k, (rank, e));
                        }
                    }
                }
                drop(examples);
                crate::compare::summarize(&report, &mut names.lock().unwrap_or_else(|e| e.into_inner()))
            }
            None => crate::compare::summarize_snapshot(&mut snap, group, names),
        };
        Grouped { summary, content_time, mtime_nanos: l.mtime_nanos }
    };
    if specs.iter().any(|s| crate::source::is_url(s)) {
        return Ok(load(specs, settings)?.into_iter().enumerate().map(|(i, l)| to_grouped((0, i), l)).collect());
    }
    let files = crate::source::expand(specs)?;
    let skipped = Mutex::new(Vec::new());
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
                        let mut skips = Vec::new();
                        let r = load_specs(std::slice::from_ref(spec), settings, &mut skips)
                            .map(|v| v.into_iter().enumerate().map(|(j, l)| to_grouped((i, j), l)).collect());
                        skipped.lock().unwrap_or_else(|e| e.into_inner()).extend(skips.into_iter().map(|s| (i, s)));
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
    for (spec, r) in files.iter().map(|f| &f.name).zip(slots) {
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
    let mut skipped = skipped.into_inner().unwrap_or_else(|e| e.into_inner());
    skipped.sort_by_key(|(i, _)| *i);
    let skipped: Vec<Skip> = skipped.into_iter().map(|(_, s)| s).collect();
    report_skipped(&files, &skipped, settings.verbose, out.is_empty())?;
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
