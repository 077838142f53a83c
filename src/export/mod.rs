//! Exports: a snapshot (or the growth between snapshots) in formats other tools open —
//! pprof's `profile.proto` ([`pprof`]), folded stacks for flame graph tools ([`folded`])
//! and speedscope's JSON ([`speedscope`]).
//!
//! Every format renders one [`Profile`]: stacks of resolved frames, each with its values
//! and the labels goroscope knows and the format may not (wait state, category, blocking
//! site, wait minutes, orphaned, leaked, creator). [`from_snapshot`] builds one sample per
//! distinct (stack, labels) of a snapshot, the goroutine count as its value;
//! [`from_trend`] builds one per site of a comparison, the growth as its value. The
//! writers share one face, `write(&Profile, &mut impl Write) -> io::Result<()>`, and are
//! pure; [`save`] is the only I/O here: a new file, written through a temporary file.

pub mod folded;
pub mod pprof;
pub mod speedscope;

use crate::classify::Classifier;
use crate::compare::{site_key, Trend};
use crate::group::{CreatorCount, Site};
use crate::model::{flags, FrameId, LabelSetId, Snapshot, StackId, Sym, NONE};
use rustc_hash::{FxHashMap, FxHashSet};
use std::io::Write;
use std::path::Path;

/// A closed set of export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// Gzipped `profile.proto`, for `go tool pprof`.
    Pprof,
    /// `frame;frame;frame count` lines, root first, for inferno / flamegraph.pl.
    Folded,
    /// speedscope's file format (JSON).
    Speedscope,
}

impl ExportFormat {
    pub fn name(self) -> &'static str {
        match self {
            ExportFormat::Pprof => "pprof",
            ExportFormat::Folded => "folded",
            ExportFormat::Speedscope => "speedscope",
        }
    }

    /// Renders `profile` in this format.
    pub fn write(self, profile: &Profile, out: &mut impl Write) -> std::io::Result<()> {
        match self {
            ExportFormat::Pprof => pprof::write(profile, out),
            ExportFormat::Folded => folded::write(profile, out),
            ExportFormat::Speedscope => speedscope::write(profile, out),
        }
    }
}

/// What the values of a [`Profile`] count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// One value: goroutines (`goroutine/count`, as the Go runtime writes it).
    Goroutines,
    /// Three values: the growth from the first to the last snapshot (`delta/count`, which
    /// may be negative, as in `go tool pprof -diff_base`), then the first and last counts.
    Growth,
}

impl Measure {
    /// pprof sample types: (type, unit), the first the default.
    pub fn sample_types(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Measure::Goroutines => &[("goroutine", "count")],
            Measure::Growth => &[("delta", "count"), ("first", "count"), ("last", "count")],
        }
    }
}

/// An export-ready profile: resolved frames and annotated samples.
#[derive(Debug, Clone)]
pub struct Profile {
    /// Where it came from (a file, a URL, or `first → last`).
    pub name: String,
    /// Capture time, Unix nanoseconds (the last snapshot's for growth).
    pub time_nanos: Option<i64>,
    /// Span of a growth profile, nanoseconds.
    pub duration_nanos: Option<i64>,
    pub measure: Measure,
    /// Distinct frames; samples index them.
    pub frames: Vec<Site>,
    pub samples: Vec<Sample>,
}

/// One stack with its values and labels.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Indices into [`Profile::frames`], leaf first (as pprof orders them).
    pub stack: Vec<u32>,
    /// The wait state (`chan send`), which folded stacks and speedscope show as the leaf.
    pub state: String,
    /// One value per [`Measure::sample_types`].
    pub values: Vec<i64>,
    /// String labels: goroscope's first (`state`, `category`, `blocking_site`, …), then the
    /// goroutine's own pprof labels.
    pub labels: Vec<(String, String)>,
    /// Numeric labels: (key, value, unit), e.g. `wait_minutes`.
    pub numbers: Vec<(String, i64, &'static str)>,
}

impl Sample {
    /// The first value (goroutines, or growth).
    pub fn value(&self) -> i64 {
        self.values.first().copied().unwrap_or(0)
    }
}

/// `function file:line`, how a site is named in labels.
pub fn site_label(s: &Site) -> String {
    format!("{} {}:{}", s.function, s.file, s.line)
}

/// Per-goroutine sample key: stack, label set, shown state, site, minutes, creator,
/// orphaned, leaked (category follows from state and stack).
type Key = (StackId, LabelSetId, Sym, FrameId, u32, FrameId, bool, bool);

/// One sample per distinct stack and labels of `snap`, classified as `group` classifies
/// (category, wait state, blocking site), the goroutine count as the value. No goroutine
/// is left out: filters are the consumer's (`go tool pprof -focus`, `-tagfocus`).
pub fn from_snapshot(snap: &mut Snapshot, modules: &[String]) -> Profile {
    let mut classifier = Classifier::new(snap, modules);
    let frames_complete = snap.format == crate::model::Format::Debug0;
    let traceback = snap.format.is_traceback();
    let ids: FxHashSet<u64> =
        if traceback { snap.goroutines.iter().map(|g| g.id).collect() } else { FxHashSet::default() };
    // A goroutineleak profile in debug=0/1 lists only goroutines the runtime found leaked.
    let all_leaked = !traceback && snap.profile == crate::model::ProfileKind::Goroutineleak;

    let mut index: FxHashMap<Key, usize> = FxHashMap::default();
    let mut keyed: Vec<(Key, crate::classify::Category, u64)> = Vec::new();
    let goroutines = std::mem::take(&mut snap.goroutines);
    for g in &goroutines {
        let (category, state) = classifier.category(snap, g.state, g.stack, frames_complete);
        let site = classifier.site(snap, g.stack).unwrap_or(NONE);
        let minutes = if traceback { g.minutes().unwrap_or(0) } else { NONE };
        let orphaned = g.parent != 0 && !ids.is_empty() && !ids.contains(&g.parent);
        let key = (g.stack, g.labels, state, site, minutes, g.creator, orphaned, g.has(flags::LEAKED));
        let slot = *index.entry(key).or_insert_with(|| {
            keyed.push((key, category, 0));
            keyed.len() - 1
        });
        keyed[slot].2 += g.count;
    }
    snap.goroutines = goroutines;

    let t = &snap.tables;
    let mut frames = Frames::default();
    let samples = keyed
        .into_iter()
        .map(|((stack, labels, state, site, minutes, creator, orphaned, leaked), category, count)| {
            // What the format does not tell is "unknown", never "" (pprof drops empty labels).
            let state = match t.str(state) {
                "" => "unknown".to_string(),
                s => s.to_string(),
            };
            let mut l = vec![("state".to_string(), state.clone()), ("category".into(), category.name().into())];
            if site != NONE {
                l.push(("blocking_site".into(), site_label(&Site::of(t, site))));
            }
            if traceback {
                l.push(("orphaned".into(), orphaned.to_string()));
                l.push(("leaked".into(), leaked.to_string()));
            } else if all_leaked {
                l.push(("leaked".into(), "true".into()));
            }
            if creator != NONE {
                l.push(("created_by".into(), site_label(&Site::of(t, creator))));
            }
            l.extend(t.labels(labels).map(|(k, v)| (k.to_string(), v.to_string())));
            let numbers =
                if minutes != NONE { vec![("wait_minutes".to_string(), minutes as i64, "minutes")] } else { vec![] };
            Sample {
                stack: t.stacks.get(stack).iter().map(|&f| frames.id(Site::of(t, f))).collect(),
                state,
                values: vec![count as i64],
                labels: l,
                numbers,
            }
        })
        .collect();
    Profile {
        name: snap.source.clone(),
        time_nanos: snap.time_nanos,
        duration_nanos: None,
        measure: Measure::Goroutines,
        frames: frames.list,
        samples,
    }
}

/// A site's example from some snapshot of a comparison: one goroutine's stack (leaf first)
/// and the site's creators there. `trend --pprof` and the HTML report show them.
#[derive(Debug, Clone, Default)]
pub struct Example {
    pub stack: Vec<Site>,
    pub creators: Vec<CreatorCount>,
}

/// Examples by site match key (function with generics folded, file, line).
pub type Examples = FxHashMap<(String, String, u32), Example>;

/// The match key of a site, owned, as [`Examples`] is keyed.
pub fn example_key(site: &Site) -> (String, String, u32) {
    let (f, file, line) = site_key(site);
    (f.into_owned(), file.to_string(), line)
}

/// Keeps, for every site of `report` not yet in `examples`, its example stack and
/// creators.
pub fn collect_examples(report: &crate::group::SnapshotReport, examples: &mut Examples) {
    for g in &report.groups {
        if g.example_stack.is_empty() {
            continue;
        }
        examples
            .entry(example_key(&g.site))
            .or_insert_with(|| Example { stack: g.example_stack.clone(), creators: g.creators.clone() });
    }
}

/// The growth of every site of `trend` from its first to its last snapshot: one sample per
/// site, its example stack as the stack (the site's own frame alone where no example was
/// kept), values delta, first, last.
pub fn from_trend(trend: &Trend, examples: &Examples) -> Profile {
    let mut frames = Frames::default();
    let samples = trend
        .sites
        .iter()
        .map(|s| {
            let first = s.counts.first().copied().unwrap_or(0) as i64;
            let last = s.counts.last().copied().unwrap_or(0) as i64;
            let state = if s.state.is_empty() { "unknown".to_string() } else { s.state.clone() };
            let stack: Vec<u32> = match examples.get(&example_key(&s.site)) {
                Some(e) => e.stack.iter().map(|f| frames.id(f.clone())).collect(),
                None if !s.site.function.is_empty() => vec![frames.id(s.site.location.clone())],
                None => Vec::new(),
            };
            let mut labels = vec![("state".to_string(), state.clone()), ("category".into(), s.category.name().into())];
            if !s.site.function.is_empty() {
                labels.push(("blocking_site".into(), site_label(&s.site)));
            }
            labels.push(("suspect".into(), s.suspect.to_string()));
            labels.push(("growing".into(), s.growing.to_string()));
            if s.orphaned > 0 {
                labels.push(("orphaned".into(), "true".into()));
            }
            if s.leaked > 0 {
                labels.push(("leaked".into(), "true".into()));
            }
            if let Some(c) = &s.created_by {
                labels.push(("created_by".into(), c.clone()));
            }
            let numbers =
                s.max_wait_minutes.map(|m| vec![("wait_minutes".into(), m as i64, "minutes")]).unwrap_or_default();
            Sample { stack, state, values: vec![last - first, first, last], labels, numbers }
        })
        .collect();
    let (a, b) = (trend.snapshots.first(), trend.snapshots.last());
    Profile {
        name: match (a, b) {
            (Some(a), Some(b)) => format!("{} → {}", a.source, b.source),
            _ => String::new(),
        },
        time_nanos: b.and_then(|p| p.time_nanos),
        duration_nanos: match (a.and_then(|p| p.time_nanos), b.and_then(|p| p.time_nanos)) {
            (Some(x), Some(y)) if y > x => Some(y - x),
            _ => None,
        },
        measure: Measure::Growth,
        frames: frames.list,
        samples,
    }
}

/// Interns resolved frames.
#[derive(Default)]
struct Frames {
    index: FxHashMap<Site, u32>,
    list: Vec<Site>,
}

impl Frames {
    fn id(&mut self, s: Site) -> u32 {
        if let Some(&i) = self.index.get(&s) {
            return i;
        }
        let i = self.list.len() as u32;
        self.list.push(s.clone());
        self.index.insert(s, i);
        i
    }
}

/// Refuses to go on when `path` exists (without `force`) or is a folder: checked for every
/// output before any work, so a run that would fail writes nothing.
pub fn check_writable(path: &Path, force: bool) -> crate::Result<()> {
    let shown = path.display().to_string();
    if path.is_dir() {
        return Err(crate::Error::Usage(format!("{shown}: is a folder; name the file to write")));
    }
    if !force && path.symlink_metadata().is_ok() {
        return Err(crate::Error::Usage(format!("{shown}: already exists; pass --force to overwrite it")));
    }
    Ok(())
}

/// Writes a new file at `path` with what `render` writes: through a temporary file beside
/// it, moved into place only once complete; an existing file is replaced only with
/// `force`. A failed render leaves nothing behind.
pub fn save(
    path: &Path,
    force: bool,
    render: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>,
) -> crate::Result<u64> {
    check_writable(path, force)?;
    let shown = path.display().to_string();
    let temp = crate::fetch::TempFile::create(path)?;
    let file = std::fs::File::options().write(true).open(temp.path()).map_err(|e| crate::Error::io(&shown, e))?;
    let mut w = std::io::BufWriter::new(file);
    render(&mut w).map_err(|e| crate::Error::io(&shown, e))?;
    let file = w.into_inner().map_err(|e| crate::Error::io(&shown, e.into_error()))?;
    file.sync_all().map_err(|e| crate::Error::io(&shown, e))?;
    let bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
    drop(file);
    temp.persist(path, force)?;
    Ok(bytes)
}
