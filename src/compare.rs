//! Growth across snapshots: per blocking site, the count series, its growth, and whether
//! the site is a leak suspect (and why).
//!
//! A pure function of grouped snapshots ([`SnapshotReport`]s grouped by site), already in
//! time order. Sites are matched across snapshots by function (type arguments folded to
//! `[...]`, so debug=0 shape names meet the text formats' `[...]`), file and line — not by
//! category, since debug=1 cannot name a channel wait that debug=2 names — except where one
//! snapshot itself holds two wait states at one site (two rows in `show`): then the trend has
//! a row per state too, never one state chosen arbitrarily.
//!
//! [`growth`] is the one rule that tells growth from load, for `trend`, `diff` and `check`
//! alike (see its docs and the README's "The rule").

use crate::classify::Category;
use crate::group::{group_facts, BlockingSite, GroupBy, GroupFacts, GroupSettings, Site, SnapshotReport};
use crate::model::Format;
use crate::model::Snapshot;
use crate::role::Role;
use rustc_hash::FxHashMap;
use serde::Serialize;
use std::borrow::Cow;
use std::sync::Mutex;

/// Thresholds of the growth rule ([`growth`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
pub struct Thresholds {
    /// Least snapshots the growth must be sustained over.
    pub min_snapshots: usize,
    /// Least growth, in goroutines (beyond what the load explains).
    pub min_growth: u64,
    /// Least growth relative to the starting count (0.5 = +50 %); a site from zero passes.
    pub min_relative: f64,
}

impl Thresholds {
    /// `check`'s default.
    pub const DEFAULT: Thresholds = Thresholds { min_snapshots: 4, min_growth: 10, min_relative: 0.5 };
    /// For the forgotten-sender shape and orphans: they are leaks far more often.
    pub const EARLY: Thresholds = Thresholds { min_snapshots: 3, min_growth: 3, min_relative: 0.2 };

    /// The laxer of two: each threshold at its lower value.
    pub fn laxer(self, o: Thresholds) -> Thresholds {
        Thresholds {
            min_snapshots: self.min_snapshots.min(o.min_snapshots),
            min_growth: self.min_growth.min(o.min_growth),
            min_relative: self.min_relative.min(o.min_relative),
        }
    }
}

/// Settings of `trend` and `diff`.
#[derive(Debug, Clone)]
pub struct TrendSettings {
    /// Least growth (beyond the load) that counts as growth: a change of one or two
    /// goroutines is noise (a connection opening, the profile request's own work).
    pub min_growth: u64,
    /// Wait minutes from which a wait is called long (a reason, not a verdict alone).
    pub long_wait_minutes: u32,
    /// Snapshots without growth after which a site is no longer called growing.
    pub resolve_after: usize,
    /// Compute rates from files' modification times too (otherwise only from capture and
    /// log times).
    pub file_times: bool,
    /// Growing connections are suspects (by default they are reported, not suspected).
    pub connections_suspect: bool,
}

/// Default `--min-growth` of `trend` and `diff`.
pub const DEFAULT_TREND_MIN_GROWTH: u64 = 3;

impl Default for TrendSettings {
    fn default() -> Self {
        TrendSettings {
            min_growth: DEFAULT_TREND_MIN_GROWTH,
            long_wait_minutes: 10,
            resolve_after: 2,
            file_times: false,
            connections_suspect: false,
        }
    }
}

/// Where a snapshot's time comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum TimeSource {
    /// Taken when the profile was captured (pprof `time_nanos`, or the fetch).
    #[default]
    Capture,
    /// A log line's timestamp.
    Log,
    /// The file's modification time: no rate is computed from it unless asked.
    File,
}

/// One snapshot of the series.
#[derive(Debug, Clone, Serialize)]
pub struct Point {
    pub source: String,
    /// Capture time, RFC 3339, where known.
    pub time: Option<String>,
    #[serde(skip)]
    pub time_nanos: Option<i64>,
    /// Absent where there is no time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_source: Option<TimeSource>,
    pub format: Format,
    pub total: u64,
    /// Goroutines holding a connection: one of the two loads growth is judged against.
    pub connections: u64,
    /// Goroutines serving a request in flight: the other load.
    pub requests: u64,
    /// The service restarted before this snapshot (goroutine ids started again): growth
    /// is judged from here on.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub restart: bool,
    #[serde(skip)]
    pub max_goroutine_id: Option<u64>,
}

/// What happened to a site between the first and last snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    New,
    Vanished,
    Grew,
    Shrank,
    Same,
}

/// One blocking site across the series. `category`, `state`, `site`, `counts`, `delta`,
/// `rate_per_min`, `growing`, `suspect` and `reasons` are the JSON contract.
#[derive(Debug, Clone, Serialize)]
pub struct SiteTrend {
    pub category: Category,
    pub state: String,
    pub site: BlockingSite,
    pub counts: Vec<u64>,
    pub delta: i64,
    /// Growth per minute from the first to the last snapshot; null without capture times.
    pub rate_per_min: Option<f64>,
    /// Growth by [`growth`]: a trailing run of snapshots over which the count rose beyond
    /// what the load explains.
    pub growing: bool,
    pub suspect: bool,
    pub reasons: Vec<String>,
    /// The usual fix, for the forgotten-sender shape.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    pub change: Change,
    /// Orphaned goroutines (creator gone) in the last snapshot.
    pub orphaned: u64,
    /// Longest wait printed for the site in any snapshot, in minutes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_wait_minutes: Option<u32>,
    pub leaked: u64,
    /// The most common creator in the last snapshot that has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// What these library goroutines are (connections, a pool, the profile request).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// Most of these goroutines serve a request in flight (a handler on the stack): they
    /// are the load itself, reported when they grow, never suspected by their count.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub in_flight: bool,
}

/// The comparison of a series.
#[derive(Debug, Clone, Serialize)]
pub struct Trend {
    pub snapshots: Vec<Point>,
    pub sites: Vec<SiteTrend>,
}

impl Trend {
    pub fn suspects(&self) -> impl Iterator<Item = &SiteTrend> {
        self.sites.iter().filter(|s| s.suspect)
    }
}

/// The key that matches a site across snapshots, formats and Go versions; borrows from
/// the site unless generics need folding.
pub fn site_key(site: &Site) -> (Cow<'_, str>, &str, u32) {
    (canonical_function(&site.function), &site.file, site.line)
}

/// Folds everything from the first `[` to the last `]` into `[...]`: Go prints generics
/// as `F[...]` in text, `F[go.shape.int]` in profiles, and 1.27 as `T[...].M[...]`.
pub fn canonical_function(f: &str) -> Cow<'_, str> {
    match (f.find('['), f.rfind(']')) {
        (Some(a), Some(b)) if b > a => Cow::Owned(format!("{}[...]{}", &f[..a], &f[b + 1..])),
        _ => Cow::Borrowed(f),
    }
}

/// Names shared by the [`Summary`]s of one comparison: sites as printed, the key that
/// matches them across formats, wait states and creators, each as a dense id.
#[derive(Debug, Default)]
pub struct Names {
    /// Found by a borrowed [`SiteRef`], so a known site costs no allocation.
    sites: hashbrown::HashMap<Site, u32, rustc_hash::FxBuildHasher>,
    /// By site id: the site (with the origin it was first seen with), and its match key's id.
    site_list: Vec<(BlockingSite, u32)>,
    keys: FxHashMap<(String, String, u32), u32>,
    strings: FxHashMap<String, u32>,
    string_list: Vec<String>,
}

/// A [`Site`] borrowed: hashes as the owned one does (same fields, same order).
#[derive(Hash)]
struct SiteRef<'a> {
    function: &'a str,
    file: &'a str,
    line: u32,
}

impl hashbrown::Equivalent<Site> for SiteRef<'_> {
    fn equivalent(&self, s: &Site) -> bool {
        self.function == s.function && self.file == s.file && self.line == s.line
    }
}

impl Names {
    fn site(&mut self, (function, file, line): (&str, &str, u32), origin: Option<crate::classify::Origin>) -> u32 {
        if let Some(&id) = self.sites.get(&SiteRef { function, file, line }) {
            return id;
        }
        let site = Site { function: function.to_string(), file: file.to_string(), line };
        let (f, file, line) = site_key(&site);
        let next = self.keys.len() as u32;
        let key = *self.keys.entry((f.into_owned(), file.to_string(), line)).or_insert(next);
        let id = self.site_list.len() as u32;
        self.site_list.push((BlockingSite { location: site.clone(), origin }, key));
        self.sites.insert(site, id);
        id
    }
    fn string(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.strings.get(s) {
            return id;
        }
        let id = self.string_list.len() as u32;
        self.string_list.push(s.to_string());
        self.strings.insert(s.to_string(), id);
        id
    }
}

/// One grouped snapshot reduced to what a comparison reads: a few integers per site,
/// names interned in [`Names`]. A long series is held this way rather than as reports
/// (1,000 snapshots of 1,000 sites: 40 MB instead of 400 MB).
#[derive(Debug, Clone)]
pub struct Summary {
    pub point: Point,
    rows: Vec<Row>,
}

#[derive(Debug, Clone, Copy)]
struct Row {
    count: u64,
    orphaned: u64,
    leaked: u64,
    site: u32,
    /// A [`Names`] string; [`NONE`] when the group has no state or it is `unknown`.
    state: u32,
    /// The first creator's function, or [`NONE`].
    creator: u32,
    max_wait: u32,
    category: Category,
    role: Option<Role>,
    /// Of `count`, the goroutines serving a request in flight.
    requests: u32,
}

const NONE: u32 = u32::MAX;

/// Where the time of a snapshot with `time_nanos` from its content comes from.
fn content_time_source(format: Format) -> TimeSource {
    match format {
        Format::Debug0 | Format::Debug1 => TimeSource::Capture,
        _ => TimeSource::Log,
    }
}

/// Reduces a report grouped by site to a [`Summary`].
pub fn summarize(r: &SnapshotReport, names: &mut Names) -> Summary {
    let facts = r.groups.iter().map(|g| GroupFacts {
        count: g.count,
        category: g.category,
        state: &g.state,
        site: (&g.site.function, &g.site.file, g.site.line),
        origin: g.site.origin,
        orphaned: g.orphaned,
        leaked: g.leaked,
        max_wait: g.wait_minutes.map(|[_, max]| max),
        creator: g.creators.first().map(|c| c.site.function.as_str()),
        role: g.role,
        connections: g.connections,
        requests: g.requests,
    });
    let time_nanos = time_of(r);
    let point = Point {
        source: r.source.clone(),
        time: r.time.clone(),
        time_nanos,
        time_source: time_nanos.map(|_| content_time_source(r.format)),
        format: r.format,
        total: r.total,
        connections: r.connections,
        requests: r.requests,
        restart: false,
        max_goroutine_id: r.max_goroutine_id,
    };
    Summary { point, rows: facts.map(|f| row(f, names)).collect() }
}

/// Groups a snapshot by site straight into a [`Summary`]: what `summarize(&group(…))`
/// gives, without the reports in between (`trend` does this for every file, on every
/// core: `names` is locked only to intern the result).
pub fn summarize_snapshot(snap: &mut Snapshot, settings: &GroupSettings, names: &Mutex<Names>) -> Summary {
    let settings = GroupSettings { by: GroupBy::Site, summary: true, ..settings.clone() };
    let time = snap.time_nanos.map(crate::report::rfc3339);
    let max_goroutine_id = if snap.format.is_traceback() { snap.goroutines.iter().map(|g| g.id).max() } else { None };
    let time_nanos = time.as_deref().and_then(time_of_text);
    let mut point = Point {
        source: snap.source.clone(),
        time_nanos,
        time,
        time_source: time_nanos.map(|_| content_time_source(snap.format)),
        format: snap.format,
        total: snap.total(),
        connections: 0,
        requests: 0,
        restart: false,
        max_goroutine_id,
    };
    let facts = group_facts(snap, &settings);
    point.connections = facts.iter().map(|f| f.connections).sum();
    point.requests = facts.iter().map(|f| f.requests).sum();
    let mut names = names.lock().unwrap_or_else(|e| e.into_inner());
    // Not `collect`: it would reuse the facts' larger allocation for the rows, which are
    // kept for the whole series (2.7x the memory, measured).
    let mut rows = Vec::with_capacity(facts.len());
    rows.extend(facts.into_iter().map(|f| row(f, &mut names)));
    Summary { point, rows }
}

fn row(g: GroupFacts<'_>, names: &mut Names) -> Row {
    Row {
        count: g.count,
        orphaned: g.orphaned,
        leaked: g.leaked,
        site: names.site(g.site, g.origin),
        state: if !g.state.is_empty() && g.category != Category::Unknown { names.string(g.state) } else { NONE },
        creator: g.creator.map_or(NONE, |c| names.string(c)),
        max_wait: g.max_wait.unwrap_or(NONE),
        category: g.category,
        role: g.role,
        requests: u32::try_from(g.requests).unwrap_or(u32::MAX),
    }
}

struct Acc {
    /// The site as first printed in the series.
    site: u32,
    counts: Vec<u64>,
    /// Count per category, with how precise its source format was.
    categories: FxHashMap<Category, (u64, u8)>,
    states: FxHashMap<u32, u64>,
    orphaned_last: u64,
    orphaned_any: bool,
    max_wait: Option<u32>,
    leaked_last: u64,
    created_by: Option<u32>,
    /// The role seen last, and whether it is the profile request's row.
    role: Option<Role>,
    /// Goroutines over the series that served a request in flight.
    requests: u64,
}

/// How precisely a format names waits: tracebacks print them, debug=0 implies them from
/// runtime frames, debug=1 hides the channel frames.
fn precision(f: Format) -> u8 {
    match f {
        Format::Debug1 => 1,
        Format::Debug0 => 2,
        _ => 3,
    }
}

/// Compares grouped snapshots (in time order).
pub fn compare(reports: &[SnapshotReport], settings: &TrendSettings) -> Trend {
    let mut names = Names::default();
    let summaries: Vec<Summary> = reports.iter().map(|r| summarize(r, &mut names)).collect();
    compare_summaries(&summaries, &names, settings)
}

/// True when `cur` is from a process that restarted since `prev`: goroutine ids, which
/// only grow in one process (and every profile request starts a new goroutine), started
/// again. Without ids (debug=0/1) a restart shows only as counts falling, which starts a
/// new growth run anyway; `check` adds a guess from totals ([`restart_by_totals`]).
pub fn restarted(prev: &Point, cur: &Point) -> bool {
    matches!((prev.max_goroutine_id, cur.max_goroutine_id), (Some(a), Some(b)) if ids_restarted(a, b))
}

/// Ids are handed out to each P in batches, so the highest live id can dip a little when
/// the newest goroutines exit; a restart starts them again from the bottom.
pub fn ids_restarted(before: u64, now: u64) -> bool {
    now * 2 < before && before - now > 256
}

/// A restart guessed without goroutine ids: the total fell to half the previous one or
/// less, and below every total since the last restart (a fresh process holds none of the
/// goroutines that piled up; a load that eases off returns to totals seen before).
pub fn restart_by_totals(prev_total: u64, total: u64, least_since_restart: u64) -> bool {
    prev_total >= 8 && total * 2 <= prev_total && total < least_since_restart
}

/// Compares summarized snapshots (in time order) whose names are in `names`.
pub fn compare_summaries(summaries: &[Summary], names: &Names, settings: &TrendSettings) -> Trend {
    let n = summaries.len();
    // Sites that hold two known categories within one snapshot get a row per category.
    let mut split: Vec<bool> = vec![false; names.keys.len()];
    for s in summaries {
        let mut seen: FxHashMap<u32, Category> = FxHashMap::default();
        for g in s.rows.iter().filter(|g| g.category != Category::Unknown && g.role != Some(Role::ProfileRequest)) {
            let key = names.site_list[g.site as usize].1;
            if *seen.entry(key).or_insert(g.category) != g.category {
                split[key as usize] = true;
            }
        }
    }
    let mut index: FxHashMap<(u32, Option<Category>, bool), u32> = FxHashMap::default();
    let mut accs: Vec<Acc> = Vec::new();
    for (i, s) in summaries.iter().enumerate() {
        let p = precision(s.point.format);
        for g in &s.rows {
            let key = names.site_list[g.site as usize].1;
            let cat = (split[key as usize] && g.category != Category::Unknown).then_some(g.category);
            let mine = g.role == Some(Role::ProfileRequest);
            let slot = *index.entry((key, cat, mine)).or_insert_with(|| {
                accs.push(Acc {
                    site: g.site,
                    counts: vec![0; n],
                    categories: FxHashMap::default(),
                    states: FxHashMap::default(),
                    orphaned_last: 0,
                    orphaned_any: false,
                    max_wait: None,
                    leaked_last: 0,
                    created_by: None,
                    role: None,
                    requests: 0,
                });
                accs.len() as u32 - 1
            });
            let a = &mut accs[slot as usize];
            a.counts[i] += g.count;
            a.requests += u64::from(g.requests);
            let e = a.categories.entry(g.category).or_insert((0, 0));
            e.0 += g.count;
            e.1 = e.1.max(p);
            if g.state != NONE {
                *a.states.entry(g.state).or_default() += g.count * p as u64;
            }
            if i + 1 == n {
                a.orphaned_last += g.orphaned;
                a.leaked_last += g.leaked;
            }
            a.orphaned_any |= g.orphaned > 0;
            if g.max_wait != NONE {
                a.max_wait = Some(a.max_wait.map_or(g.max_wait, |m| m.max(g.max_wait)));
            }
            if g.creator != NONE {
                a.created_by = Some(g.creator);
            }
            if g.role.is_some() {
                a.role = g.role;
            }
        }
    }

    let mut snapshots: Vec<Point> = summaries.iter().map(|s| s.point.clone()).collect();
    for i in 1..snapshots.len() {
        snapshots[i].restart = restarted(&snapshots[i - 1], &snapshots[i]);
    }
    let from = judged_from(&snapshots);
    let series = Series { points: &snapshots[from..], from, file_times: settings.file_times };
    let mut sites: Vec<SiteTrend> = accs.into_iter().map(|a| judge(a, names, &series, settings)).collect();
    sites.sort_by(|a, b| {
        b.suspect
            .cmp(&a.suspect)
            .then_with(|| {
                (b.suspect && b.growing && b.category == Category::ChanSend)
                    .cmp(&(a.suspect && a.growing && a.category == Category::ChanSend))
            })
            .then_with(|| b.delta.cmp(&a.delta))
            .then_with(|| b.counts.last().cmp(&a.counts.last()))
            .then_with(|| a.site.cmp(&b.site))
            .then_with(|| a.category.cmp(&b.category))
            .then_with(|| a.role.cmp(&b.role))
    });
    Trend { snapshots, sites }
}

/// How many snapshots after a restart may still be its warm-up.
pub const WARM_UP: usize = 3;

/// Where growth is judged from: the last restart, past its warm-up (up to [`WARM_UP`]
/// snapshots in which connections kept rising: the clients coming back). A fresh process
/// fills its pools and per-request workers from nothing while its clients return, faster
/// than any ratio to the load explains (recorded on a busy machine: `go/leaky`'s shard
/// workers, 3 per search, alerted at the third check of a warm-up); a leak after the
/// restart is judged from the first snapshot whose connections did not rise, at most three
/// checks later.
pub fn judged_from(snapshots: &[Point]) -> usize {
    let Some(mut from) = snapshots.iter().rposition(|p| p.restart) else {
        return 0;
    };
    let last = (from + WARM_UP).min(snapshots.len() - 1);
    while from < last && snapshots[from + 1].connections > snapshots[from].connections {
        from += 1;
    }
    from
}

/// The snapshots growth is judged on (since the last restart), and how to time them.
pub struct Series<'a> {
    pub points: &'a [Point],
    /// Index of `points[0]` in the whole series.
    pub from: usize,
    pub file_times: bool,
}

impl Series<'_> {
    /// Minutes spanned by the last `k` points, when their times are good for a rate:
    /// capture or log times (file times only when asked), at least a second apart.
    pub fn minutes(&self, k: usize) -> Option<f64> {
        let run = &self.points[self.points.len().checked_sub(k)?..];
        if !self.file_times && run.iter().any(|p| p.time_source == Some(TimeSource::File)) {
            return None;
        }
        match (run.first()?.time_nanos, run.last()?.time_nanos) {
            (Some(a), Some(b)) if b - a >= 1_000_000_000 && k >= 2 => Some((b - a) as f64 / 60e9),
            _ => None,
        }
    }
    /// The load of each point.
    pub fn loads(&self) -> Vec<Load> {
        self.points.iter().map(|p| Load { connections: p.connections, requests: p.requests }).collect()
    }
}

fn time_of(r: &SnapshotReport) -> Option<i64> {
    r.time.as_deref().and_then(time_of_text)
}

/// Unix nanoseconds of an RFC 3339 time as reports print it.
pub fn time_of_text(t: &str) -> Option<i64> {
    crate::format::logprefix::rfc3339(t.as_bytes()).map(|(n, _)| n)
}

/// The load of one snapshot: goroutines holding a connection, and goroutines serving a
/// request in flight (see [`crate::role`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Load {
    pub connections: u64,
    pub requests: u64,
}

impl Load {
    /// No load in the profile: growth is then plain growth.
    pub const NONE: Load = Load { connections: 0, requests: 0 };

    /// How many times the clients grew from `before` to `self`: connections counted one
    /// more (0 → 1 is a doubling, not ∞), at least 1 (a load that fell explains no growth).
    pub fn clients_rise_from(self, before: Load) -> f64 {
        ((self.connections as f64 + 1.0) / (before.connections as f64 + 1.0)).max(1.0)
    }

    /// How many times the load grew from `before` to `self`: the larger of the two
    /// proxies' factors, at least 1; `None` when the clients more than doubled
    /// ([`LOAD_JUMP`]), which explains any rise. Requests in flight are counted two more
    /// and explain at most a doubling: they are a sample of one instant (1 of 8 busy
    /// clients in one snapshot, all 8 in the next), so a few more or fewer say little, and
    /// more than twice as many in one step is as often chance as more load. With one more,
    /// the leak hidden in a ramp of `tests/load_profile.rs` was caught at check 5 in one of
    /// 19 recorded runs (requests in flight 4 → 10 in its second step); with three, workers
    /// exactly in step with the requests in flight looked like growth at a few requests.
    /// Uncapped, requests that went 4 → 11 while the clients went 8 → 14 explained a step
    /// away, and the same leak was caught at check 5 (fresh-clone CI); capped, each of 33
    /// recorded runs is caught at the third check.
    pub fn rise_from(self, before: Load) -> Option<f64> {
        let clients = self.clients_rise_from(before);
        if clients > LOAD_JUMP {
            return None;
        }
        let requests = (self.requests as f64 + 2.0) / (before.requests as f64 + 2.0);
        Some(clients.max(requests.min(LOAD_JUMP)))
    }
}

/// A step in which the clients (connections) grew more than this many times says nothing
/// about leaks: when they more than double (the first clients after idle, a burst), how
/// many goroutines a request holds at each line is anyone's guess (from idle every
/// per-request site starts at 0), so any rise is explained. Requests in flight explain at
/// most this much growth in one step ([`Load::rise_from`]). Lower slows detection in a
/// ramp: at 1.5 the leak hidden in a ramp of `tests/load_profile.rs` (recorded runs
/// replayed through `check`) was caught up to two checks later than at 2.
pub const LOAD_JUMP: f64 = 2.0;

/// A run of snapshots over which a site grew beyond its load (see [`growth`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Growth {
    /// Snapshots in the run (the last `len` of the series).
    pub len: usize,
    pub first: u64,
    pub last: u64,
    /// What the load explains: `last` less the growth beyond the load.
    pub expected: u64,
}

/// The growth rule, the one `trend`, `diff` and `check` apply to a site's counts (oldest
/// first) and the load at each snapshot:
///
/// the longest trailing run of at least `t.min_snapshots` snapshots in which the count
/// never fell (leaked goroutines never exit) and stayed above its first value, rose in
/// most steps by one goroutine more than the step's rise in connections explains (the
/// clients: a steady measure, where requests in flight are a sample of one instant; steps
/// where the clients more than doubled say nothing and are not counted), and
/// outgrew the load by at least `t.min_growth` goroutines and `t.min_relative` of what the
/// load explains; the outgrowth is the sum over the run's steps of
/// `count − previous × rise` (the load's [`Load::rise_from`]), at least 0, and 0 in a
/// step where the clients more than doubled ([`LOAD_JUMP`]); and the count still rose within
/// the last `resolve_after` snapshots, to more goroutines than there are requests in
/// flight (a line holding at most one goroutine per request in flight is per-request work
/// as far as counts can tell: recorded on a busy machine, the shard workers of `go/leaky`
/// rose 1 → 10 → 16 beside 13 → 18 → 18 requests, and its forgotten sender held 2 to 5
/// per request by the third check).
///
/// A site that follows the load (connections, handlers in flight, per-request workers,
/// whose count grows with the clients or with the time each request takes) rises as much
/// as the load does and no more, and falls when it falls or when its requests move on; a
/// leak rises on a flat load, outruns a rising one, and never falls. Without any load in
/// the profile every step counts in full: plain sustained growth. `None`: not growing.
pub fn growth(counts: &[u64], loads: &[Load], t: Thresholds, resolve_after: usize) -> Option<Growth> {
    let n = counts.len();
    let need = t.min_snapshots.max(2);
    if n < need || loads.len() != n {
        return None;
    }
    let quiet_from = counts[n - 1 - resolve_after.clamp(1, n - 1)];
    if counts[n - 1] <= quiet_from || counts[n - 1] <= loads[n - 1].requests {
        return None;
    }
    (need..=n).rev().find_map(|k| {
        let (run, load) = (&counts[n - k..], &loads[n - k..]);
        let (first, last) = (run[0], run[k - 1]);
        if !run[1..].iter().all(|&c| c > first) || run.windows(2).any(|w| w[1] < w[0]) {
            return None;
        }
        // Each step's rise; `None` where the clients more than doubled, a step that says
        // nothing: it neither rises nor outgrows.
        let rises: Vec<Option<f64>> = (1..k).map(|i| load[i].rise_from(load[i - 1])).collect();
        let told = rises.iter().filter(|r| r.is_some()).count();
        // Rising, in most steps that say something: by one more than the step's rise in
        // connections explains.
        let rising = (1..k)
            .filter(|&i| {
                rises[i - 1].is_some()
                    && run[i] as f64 >= run[i - 1] as f64 * load[i].clients_rise_from(load[i - 1]) + 1.0
            })
            .count();
        if rising * 2 < told + 1 {
            return None;
        }
        let beyond: f64 =
            (1..k).map(|i| rises[i - 1].map_or(0.0, |rise| (run[i] as f64 - run[i - 1] as f64 * rise).max(0.0))).sum();
        let expected = last as f64 - beyond;
        if beyond < t.min_growth.max(1) as f64 || beyond < t.min_relative * expected {
            return None;
        }
        Some(Growth { len: k, first, last, expected: expected.round() as u64 })
    })
}

/// The growth of a site whose alert is firing, while it lasts: its longest trailing run of
/// at least two snapshots in which the count never fell, when the count still rose within
/// the last `resolve_after` snapshots (what resolving an alert waits for) and did not fall
/// in the last (leaked goroutines never exit). Nothing is said to be explained by the
/// load (`expected` is the run's first count).
pub fn still_growing(counts: &[u64], resolve_after: usize) -> Option<Growth> {
    let n = counts.len();
    if n < 2 || counts[n - 1] <= counts[n - 1 - resolve_after.clamp(1, n - 1)] || counts[n - 1] < counts[n - 2] {
        return None;
    }
    let len = 1 + counts.windows(2).rev().take_while(|w| w[1] >= w[0]).count();
    let first = counts[n - len];
    Some(Growth { len, first, last: counts[n - 1], expected: first })
}

/// The reason connection goroutines grew: `open client connections growing: 8 → 20 connections`.
pub fn connections_reason(role: Role, g: &Growth) -> String {
    format!("{}: {} → {} connections", role.growth_text(), g.first, g.last)
}

/// The reason orphans make a site suspect.
pub fn orphan_reason(n: u64) -> String {
    format!("{n} orphaned: the goroutine that created them has exited")
}

/// The reason the runtime's leak detector makes a site suspect.
pub fn leaked_reason(n: u64) -> String {
    format!("{n} marked leaked by the Go runtime's leak detector")
}

/// A rate for reasons: per minute, or per hour when under 0.1 a minute.
pub fn format_rate(per_min: f64) -> String {
    if per_min.abs() >= 0.095 {
        format!("{per_min:.1}/min")
    } else {
        format!("{:.1}/h", per_min * 60.0)
    }
}

/// The reason a growth run gives: `sustained growth: 1 → 251 over 6 snapshots, 50.0/min`
/// (two snapshots: `grew 3 → 9`), with what the load explains when it explains any:
/// `; the load (connections 8 → 20, requests in flight 6 → 17) explains 11`.
pub fn growth_reason(g: &Growth, rate_per_min: Option<f64>, loads: (Load, Load)) -> String {
    let rate = rate_per_min.filter(|r| *r > 0.0).map(|r| format!(", {}", format_rate(r))).unwrap_or_default();
    let mut s = if g.len == 2 {
        format!("grew {} → {}{rate}", g.first, g.last)
    } else {
        format!("sustained growth: {} → {} over {} snapshots{rate}", g.first, g.last, g.len)
    };
    if g.expected > g.first {
        let (a, b) = loads;
        s.push_str(&format!(
            "; the load (connections {} → {}, requests in flight {} → {}) explains {}",
            a.connections,
            b.connections,
            a.requests,
            b.requests,
            g.expected.min(g.last)
        ));
    }
    s
}

/// What a growing site of goroutines serving requests in flight is said to be.
pub const IN_FLIGHT_GROWING: &str = "requests in flight growing (more clients, or slower handlers)";

/// The forgotten sender's usual fix.
pub const FORGOTTEN_SENDER_HINT: &str = "forgotten sender: the receiver gave up and nobody reads the channel; \
     make it buffered (cap 1) or send in a select with <-ctx.Done()";

/// What blocking site a row of no stack shows as.
pub const NO_STACK: &str = "no stack in profile";

fn judge(a: Acc, names: &Names, series: &Series<'_>, settings: &TrendSettings) -> SiteTrend {
    let counts = a.counts;
    let first = counts[0];
    let last = *counts.last().unwrap_or(&0);
    let delta = last as i64 - first as i64;
    let category = a
        .categories
        .iter()
        .filter(|(c, _)| **c != Category::Unknown)
        .max_by_key(|(c, (n, p))| (*p, *n, std::cmp::Reverse(**c)))
        .map(|(c, _)| *c)
        .unwrap_or(Category::Unknown);
    let str = |id: u32| names.string_list[id as usize].as_str();
    let state = a
        .states
        .iter()
        .map(|(&s, &n)| (str(s), n))
        .max_by(|x, y| x.1.cmp(&y.1).then_with(|| y.0.cmp(x.0)))
        .map(|(s, _)| s.to_string())
        .unwrap_or_else(|| category.implied_state().to_string());
    let minutes = series.minutes(counts.len());
    let rate_per_min = minutes.map(|m| delta as f64 / m);
    let change = match (first, last) {
        (0, l) if l > 0 => Change::New,
        (f, 0) if f > 0 => Change::Vanished,
        (f, l) if l > f => Change::Grew,
        (f, l) if l < f => Change::Shrank,
        _ => Change::Same,
    };
    let site = names.site_list[a.site as usize].0.clone();
    let no_stack = site.function.is_empty();
    let role = a.role;

    let mut reasons = Vec::new();
    let mut suspect = false;
    let mut hint = None;
    // Judged since the last restart; the profile request and stackless samples never grow.
    let judged = &counts[series.from..];
    let connection = role.is_some_and(Role::is_connection);
    // Goroutines serving requests in flight are the load itself: judged on their own count,
    // reported, never suspected by it (a handler stuck for good looks like a slow one).
    let in_flight = role.is_none() && a.requests * 2 > counts.iter().sum::<u64>();
    let loads = if connection || in_flight { vec![Load::NONE; judged.len()] } else { series.loads() };
    // Two snapshots (diff) make a run of two; a series needs three to call growth sustained.
    let t = Thresholds { min_snapshots: judged.len().clamp(2, 3), min_growth: settings.min_growth, min_relative: 0.0 };
    let grown = if role == Some(Role::ProfileRequest) || no_stack {
        None
    } else {
        growth(judged, &loads, t, settings.resolve_after)
    };
    let growing = grown.is_some();
    if let Some(g) = &grown {
        let rate = series.minutes(g.len).map(|m| (g.last as f64 - g.first as f64) / m);
        if let Some(r) = role.filter(|r| r.is_connection()) {
            reasons.push(connections_reason(r, g));
            hint = Some(r.hint().to_string());
            suspect = settings.connections_suspect;
        } else if in_flight {
            reasons.push(format!("{}: {} → {}", IN_FLIGHT_GROWING, g.first, g.last));
        } else {
            suspect = true;
            let l = loads.len();
            reasons.push(growth_reason(g, rate, (loads[l - g.len], loads[l - 1])));
        }
    }
    if role == Some(Role::ProfileRequest) {
        reasons.push("serving goroscope's own profile request: left out of growth".into());
    }
    if no_stack && last > 0 {
        reasons.push("samples with no stack: left out of growth".into());
    }
    let is_main = site.function == "main.main";
    if category.blocked_forever() && last > 0 && !is_main {
        suspect = true;
        reasons.push(format!("blocked forever by construction ({})", category.implied_state()));
    }
    let orphan_reason = orphan_reason(a.orphaned_last);
    if a.orphaned_last > 0 && delta >= settings.min_growth as i64 && role.is_none() {
        suspect = true;
        reasons.push(orphan_reason);
    } else if a.orphaned_last > 0 && suspect {
        reasons.push(orphan_reason);
    }
    if let Some(m) = a.max_wait.filter(|&m| m >= settings.long_wait_minutes && in_flight) {
        suspect = true;
        reasons.push(format!("requests in flight for up to {m} minutes: a handler that does not return"));
    } else if let Some(m) = a.max_wait.filter(|&m| m >= settings.long_wait_minutes) {
        reasons.push(format!("waiting up to {m} minutes"));
    }
    if a.leaked_last > 0 {
        suspect = true;
        reasons.push(leaked_reason(a.leaked_last));
    }
    if suspect
        && category == Category::ChanSend
        && !crate::classify::may_be_nil_chan(&state)
        && delta > 0
        && (a.orphaned_any || growing)
    {
        hint = Some(FORGOTTEN_SENDER_HINT.to_string());
    }
    SiteTrend {
        category,
        state,
        site,
        counts,
        delta,
        rate_per_min,
        growing,
        suspect,
        reasons,
        hint,
        change,
        orphaned: a.orphaned_last,
        max_wait_minutes: a.max_wait,
        leaked: a.leaked_last,
        created_by: a.created_by.map(|c| str(c).to_string()),
        role,
        in_flight,
    }
}

/// Most characters a sparkline takes; longer series are shown by bucket maxima.
const SPARK_WIDTH: usize = 32;

/// Eight-level sparkline of a count series, at most [`SPARK_WIDTH`] characters wide.
pub fn sparkline(counts: &[u64]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let bucketed: Vec<u64>;
    let counts = if counts.len() > SPARK_WIDTH {
        let per = counts.len().div_ceil(SPARK_WIDTH);
        bucketed = counts.chunks(per).map(|c| c.iter().copied().max().unwrap_or(0)).collect();
        &bucketed[..]
    } else {
        counts
    };
    let max = counts.iter().copied().max().unwrap_or(0);
    let min = counts.iter().copied().min().unwrap_or(0);
    counts
        .iter()
        .map(
            |&c| {
                if max == min {
                    BARS[if max == 0 { 0 } else { 3 }]
                } else {
                    BARS[((c - min) * 7 / (max - min)) as usize]
                }
            },
        )
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::group::Group;

    fn report(counts: &[(&str, u64, Category)]) -> SnapshotReport {
        let groups = counts
            .iter()
            .map(|&(f, n, c)| {
                Group::bare(n, c, c.implied_state().into(), Site { function: f.into(), file: "/a.go".into(), line: 1 })
            })
            .collect();
        SnapshotReport::bare("s", Format::Debug2, groups)
    }

    fn trend_growing(v: &[u64]) -> bool {
        let rs: Vec<_> = v.iter().map(|&n| report(&[("main.f", n, Category::ChanSend)])).collect();
        compare(&rs, &TrendSettings::default()).sites[0].growing
    }

    #[test]
    fn growth_is_sustained_or_not() {
        assert!(trend_growing(&[1, 2, 3, 4]));
        assert!(trend_growing(&[1, 2, 2, 4]));
        assert!(!trend_growing(&[1, 2, 2, 3]), "+2 is noise by default");
        assert!(!trend_growing(&[5, 5, 5, 5]), "steady");
        assert!(!trend_growing(&[5, 10, 15, 15, 15, 15]), "growth stopped");
        assert!(!trend_growing(&[3, 9, 1, 9]), "fell back: no sustained run");
    }

    /// Loads of connections only.
    fn conns(c: &[u64]) -> Vec<Load> {
        c.iter().map(|&connections| Load { connections, requests: 0 }).collect()
    }
    /// Loads of connections and requests in flight.
    fn loads(c: &[u64], r: &[u64]) -> Vec<Load> {
        c.iter().zip(r).map(|(&connections, &requests)| Load { connections, requests }).collect()
    }
    const FLAT: [u64; 8] = [10; 8];
    fn check_rule(counts: &[u64], loads: &[Load]) -> Option<Growth> {
        growth(counts, &loads[..counts.len()], Thresholds::DEFAULT, 2)
    }
    fn early(counts: &[u64], loads: &[Load]) -> Option<Growth> {
        growth(counts, &loads[..counts.len()], Thresholds::EARLY, 2)
    }

    /// The series: a quiet baseline, then growth. The longest growing run starts
    /// after the baseline.
    #[test]
    fn baseline_then_growth_is_a_leak() {
        let g = check_rule(&[1, 1, 51, 101, 151, 201, 251], &conns(&FLAT)).unwrap();
        assert_eq!((g.len, g.first, g.last), (6, 1, 251));
        assert!(trend_growing(&[1, 1, 51, 101, 151, 201, 251]));
        assert_eq!(early(&[1, 1, 51, 101, 151, 201, 251], &[Load::NONE; 7]).unwrap().len, 6);
    }

    /// Counts that follow the load (connections 8 → 48) are not growth; a leak hidden in
    /// the same ramp is. The README's example by hand.
    #[test]
    fn ramp_follows_the_load_and_a_leak_outruns_it() {
        let ramp = conns(&[8, 14, 20, 26, 32, 38, 44, 48]);
        let handlers = [4, 7, 10, 13, 16, 19, 22, 24];
        for k in 3..=8 {
            assert_eq!(check_rule(&handlers[..k], &ramp), None, "{k}");
            assert_eq!(early(&handlers[..k], &ramp), None, "{k}");
        }
        // One leaked per 20 requests: cumulative. 11 - 4 × 15/9 = 4.3, 21 - 11 × 21/15 = 5.6.
        let leaked = [4, 11, 21, 34, 50, 69, 91, 115];
        let g = early(&leaked[..3], &ramp).expect("caught at check 3");
        assert_eq!((g.first, g.last, g.expected), (4, 21, 11));
        assert!(check_rule(&leaked[..4], &ramp).is_some(), "caught at check 4 by the default thresholds");
        // Without a load in the profile the same ramp would look like a leak.
        assert!(check_rule(&handlers[..5], &[Load::NONE; 5]).is_some());
    }

    /// Connections flat, requests taking longer (a busy machine): the requests in flight
    /// rise, and the per-request workers with them. Not growth; a leak on the same
    /// traffic still is, at the third snapshot.
    #[test]
    fn slower_requests_are_load_too() {
        let slower = loads(&[12; 5], &[4, 6, 8, 10, 12]);
        let workers = [8, 12, 16, 20, 24];
        for k in 2..=5 {
            assert_eq!(check_rule(&workers[..k], &slower), None, "{k}");
            assert_eq!(early(&workers[..k], &slower), None, "{k}");
        }
        assert!(check_rule(&workers, &conns(&[12; 5])).is_some(), "by connections alone: a false alert");
        assert!(early(&[10, 20, 30], &slower).is_some());
    }

    /// Requests in flight are a sample of one instant: 1 of 8 busy clients in one
    /// snapshot, all 8 in the next (seen in `tests/load_profile.rs`). A step in which the
    /// load more than doubled explains any growth, so the noise hides no leak for long:
    /// the forgotten sender below rose by 10 in a step where nothing rose.
    #[test]
    fn noisy_requests_in_flight_do_not_hide_a_leak() {
        let l = loads(&[8; 5], &[1, 1, 4, 8, 8]);
        assert!(early(&[10, 20, 29], &l).is_some(), "caught at the third snapshot");
        assert!(early(&[10, 20, 29, 39, 49], &l).is_some());
        // In a ramp, requests in flight 4 → 10 beside connections 8 → 14 (recorded).
        assert!(early(&[2, 12, 29], &loads(&[2, 8, 14], &[0, 4, 10])).is_some(), "caught at the third snapshot");
    }

    /// Handlers are the requests in flight: the line where a slower request spends its
    /// time gathers more of them (recorded: searches slowed from 30 to 300 ms, the render
    /// line went 2 → 23 while requests in flight went 3 → 23). Reported, not suspected; a
    /// handler in flight for minutes (debug=2) is.
    #[test]
    fn requests_in_flight_are_reported_not_suspected() {
        let render = [2, 3, 5, 15, 19, 23];
        let requests = [3, 7, 9, 17, 20, 23];
        assert!(growth(&render, &loads(&[41; 6], &[0; 6]), Thresholds::DEFAULT, 2).is_some(), "by their own count");
        assert_eq!(growth(&render, &loads(&[41; 6], &requests), Thresholds::DEFAULT, 2), None, "no more than requests");
        let snap = |n: u64, r: u64, wait: Option<u32>| {
            let mut g = Group::bare(
                n,
                Category::Sleep,
                "sleep".into(),
                Site { function: "main.handle".into(), file: "/a.go".into(), line: 9 },
            );
            g.requests = n;
            g.wait_minutes = wait.map(|m| [m, m]);
            let mut rep = SnapshotReport::bare("s", Format::Debug2, vec![g]);
            (rep.connections, rep.requests) = (41, r);
            rep
        };
        let rs: Vec<_> = render.iter().zip(requests).map(|(&n, r)| snap(n, r, None)).collect();
        let s = &compare(&rs, &TrendSettings::default()).sites[0];
        assert!(s.growing && s.in_flight && !s.suspect, "{s:?}");
        assert!(s.reasons[0].starts_with(IN_FLIGHT_GROWING), "{:?}", s.reasons);
        let stuck: Vec<_> = [2, 2, 3].iter().map(|&n| snap(n, n, Some(12))).collect();
        let s = &compare(&stuck, &TrendSettings::default()).sites[0];
        assert!(s.suspect && s.reasons.iter().any(|r| r.contains("in flight for up to 12 minutes")), "{s:?}");
    }

    /// A line with no more goroutines than requests in flight is per-request work, however
    /// it rose (recorded on a busy machine, `go/leaky`'s shard workers beside its
    /// forgotten sender); the sender, above the requests, is caught at the third check.
    #[test]
    fn no_more_than_one_per_request_in_flight_is_load() {
        let l = loads(&[2, 8, 14, 20, 26], &[1, 8, 13, 18, 18]);
        assert_eq!(check_rule(&[0, 0, 1, 10, 16], &l), None);
        assert_eq!(early(&[0, 0, 1, 10, 16], &l), None);
        assert!(early(&[0, 0, 1, 10, 19], &l).is_some(), "one more than requests in flight, outgrowing the load");
        let ramp = loads(&[2, 8, 14], &[2, 8, 9]);
        assert!(early(&[2, 12, 31], &ramp).is_some(), "the sender, recorded in the same kind of run");
    }

    /// The first clients after idle: every per-request site starts from 0, which no
    /// ratio scales; that step explains any rise.
    #[test]
    fn first_clients_after_idle() {
        let ramp = conns(&[0, 2, 4, 6]);
        assert_eq!(early(&[0, 4, 8, 12], &ramp), None);
        assert!(early(&[0, 4, 11, 20], &ramp).is_some(), "a leak still outruns the ramp after it");
    }

    /// A burst of ten times the load and back: the followers rise and fall with it.
    #[test]
    fn burst_and_back() {
        let burst = conns(&[10, 10, 100, 10, 10, 10]);
        let workers = [5, 5, 50, 5, 5, 5];
        for k in 2..=6 {
            assert_eq!(check_rule(&workers[..k], &burst), None);
            assert_eq!(early(&workers[..k], &burst), None);
        }
        // A leak keeps what the burst left.
        assert!(early(&[5, 9, 60, 64, 68, 72], &burst).is_some());
    }

    /// Sites of `go/leaky` that only follow the load, as recorded (mostly on a busy machine) by
    /// `tests/load_profile.rs` (counts, connections, requests in flight): how many
    /// goroutines a request holds at one line shifts when the load jumps or the machine is
    /// busy, but a count that falls is no leak.
    #[test]
    fn recorded_per_request_sites_are_not_growth() {
        let cases: [(&[u64], &[u64], &[u64]); 6] = [
            // A burst of 120 clients onto 12 and 30 idle connections: a handler's line.
            (&[0, 4, 0, 3, 2, 45], &[4, 8, 12, 12, 42, 150], &[2, 8, 12, 12, 11, 109]),
            // A ramp 2 → 26 clients: the shard workers.
            (&[3, 0, 3, 46, 19], &[2, 8, 14, 20, 26], &[1, 8, 7, 18, 17]),
            (&[2, 0, 9, 30, 22], &[2, 8, 14, 20, 26], &[1, 2, 9, 13, 23]),
            (&[3, 11, 16, 43, 7], &[2, 8, 14, 20, 26], &[2, 6, 7, 20, 24]),
            // A sample that caught most requests among their shards, after one that did not.
            (&[3, 1, 7, 5, 23], &[2, 8, 14, 20, 26], &[1, 6, 11, 14, 23]),
            (&[0, 3, 1, 4, 23], &[2, 8, 14, 20, 26], &[2, 7, 10, 20, 22]),
        ];
        for (counts, c, r) in cases {
            let l = loads(c, r);
            for k in 2..=counts.len() {
                assert_eq!(check_rule(&counts[..k], &l), None, "{counts:?} at {k}");
            }
        }
    }

    /// A step where the clients more than doubled says nothing, for rising as for
    /// outgrowing: recorded in a no-leak run of `tests/load_profile.rs` (debug=2), the
    /// shard workers asleep at 1 after the first clients came (0 → 2), then 1, 1, 10, 14
    /// as they went 4 → 12: two of four steps that say something rose, not most.
    #[test]
    fn a_jump_in_the_clients_is_not_a_rising_step() {
        let l = loads(&[0, 2, 4, 8, 12, 12], &[0, 2, 3, 7, 11, 11]);
        let sleepers = Thresholds { min_snapshots: 5, ..Thresholds::DEFAULT };
        assert_eq!(growth(&[0, 1, 1, 1, 10, 14], &l, sleepers, 2), None);
        assert!(growth(&[0, 1, 2, 8, 18, 30], &l, sleepers, 2).is_some(), "rising in the steps that tell");
    }

    /// ±1 and ±2 jitter of a steady site, with or without a load.
    #[test]
    fn noise_is_not_growth() {
        for v in [[4, 5, 4, 5, 6, 5], [4, 5, 6, 5, 6, 6], [0, 1, 2, 1, 2, 2], [10, 11, 12, 11, 12, 12]] {
            assert_eq!(check_rule(&v, &conns(&FLAT)), None, "{v:?}");
            assert_eq!(early(&v, &[Load::NONE; 6]), None, "{v:?}");
            assert!(!trend_growing(&v), "{v:?}");
        }
        assert!(!trend_growing(&[7, 8]), "diff: +1");
        assert!(!trend_growing(&[7, 9]), "diff: +2");
        assert!(trend_growing(&[7, 10]), "diff: +3");
    }

    /// A drop (a restart, or a fix) then growth again: the run starts at the drop.
    #[test]
    fn drop_then_regrow() {
        let v = [100, 140, 180, 2, 2, 30, 60, 90];
        assert_eq!(check_rule(&v[..5], &conns(&FLAT)), None, "the drop and the flat warm-up");
        let g = check_rule(&v, &conns(&FLAT)).unwrap();
        assert_eq!((g.first, g.last, g.len), (2, 90, 4));
        assert!(trend_growing(&v));
    }

    /// After a restart the clients come back: workers filling up from nothing while the
    /// connections rise are its warm-up, not growth (recorded: `go/leaky`'s shard workers
    /// 0 → 1 → 3 → 15 as clients came back 4 → 8 → 12); growth after it is judged as usual.
    #[test]
    fn warm_up_after_a_restart_is_not_growth() {
        let snap = |n: u64, max_id: u64, connections: u64| {
            let mut r = report(&[("main.fetchShard", n, Category::Sleep)]);
            r.max_goroutine_id = Some(max_id);
            r.connections = connections;
            r
        };
        let mut rs = vec![snap(20, 5000, 12), snap(4, 9000, 2), snap(0, 20, 0), snap(1, 300, 4), snap(3, 600, 8)];
        rs.push(snap(15, 900, 12));
        let t = compare(&rs, &TrendSettings::default());
        assert!(t.snapshots[2].restart);
        assert_eq!(judged_from(&t.snapshots), 5, "past the three snapshots of rising connections");
        assert!(!t.sites[0].growing && !t.sites[0].suspect, "{:?}", t.sites[0]);
        rs.extend([snap(30, 1200, 12), snap(45, 1500, 12), snap(60, 1800, 12)]);
        let t = compare(&rs, &TrendSettings::default());
        assert!(t.sites[0].growing && t.sites[0].suspect, "{:?}", t.sites[0]);
        assert_eq!(t.sites[0].reasons[0], "sustained growth: 15 → 60 over 4 snapshots");
    }

    /// Goroutine ids starting again mark a restart; growth is judged after it only.
    #[test]
    fn restart_starts_a_new_baseline() {
        let snap = |n: u64, max_id: u64| {
            let mut r = report(&[("main.f", n, Category::ChanSend)]);
            r.max_goroutine_id = Some(max_id);
            r
        };
        let rs = [snap(10, 100), snap(20, 200), snap(30, 300), snap(1, 12), snap(3, 40), snap(5, 70)];
        let t = compare(&rs, &TrendSettings::default());
        assert_eq!(
            t.snapshots.iter().map(|p| p.restart).collect::<Vec<_>>(),
            [false, false, false, true, false, false]
        );
        assert_eq!(t.sites[0].reasons, ["sustained growth: 1 → 5 over 3 snapshots"], "judged since the restart");
        let rs = [snap(10, 1000), snap(20, 2000), snap(30, 3000), snap(1, 12), snap(1, 40), snap(2, 70)];
        let t = compare(&rs, &TrendSettings::default());
        assert!(!t.sites[0].growing && !t.sites[0].suspect, "no alert for the drop nor the warm-up");
        assert!(restart_by_totals(200, 40, 60));
        assert!(!restart_by_totals(200, 120, 60), "a load easing off");
        assert!(!restart_by_totals(200, 90, 60), "back to a total seen before");
    }

    /// Two wait states at one site in one snapshot are two rows, as in `show`.
    #[test]
    fn mixed_states_at_one_site_are_two_rows() {
        let r = |a: u64, b: u64| report(&[("main.read", a, Category::IoWait), ("main.read", b, Category::Semaphore)]);
        let t = compare(&[r(3, 1), r(3, 9)], &TrendSettings::default());
        let mut rows: Vec<(Category, Vec<u64>)> = t.sites.iter().map(|s| (s.category, s.counts.clone())).collect();
        rows.sort();
        assert_eq!(rows, [(Category::Semaphore, vec![1, 9]), (Category::IoWait, vec![3, 3])]);
    }

    /// Connections are reported, with what they are, and not suspected by default.
    #[test]
    fn growing_connections_are_named_not_suspected() {
        let r = |n: u64| {
            let mut g = Group::bare(
                n,
                Category::IoWait,
                "IO wait".into(),
                Site {
                    function: "net/http.(*conn).serve".into(),
                    file: "/usr/lib/go/src/net/http/server.go".into(),
                    line: 2009,
                },
            );
            g.role = Some(Role::HttpServerConn);
            g.connections = n;
            SnapshotReport::bare("s", Format::Debug0, vec![g])
        };
        let t = compare(&[r(2), r(10), r(20), r(40)], &TrendSettings::default());
        let s = &t.sites[0];
        assert!(s.growing && !s.suspect, "{s:?}");
        assert_eq!(s.reasons, ["open client connections growing: 2 → 40 connections"]);
        assert!(s.hint.as_deref().unwrap().contains("IdleTimeout"));
        let t =
            compare(&[r(2), r(10), r(20), r(40)], &TrendSettings { connections_suspect: true, ..Default::default() });
        assert!(t.sites[0].suspect);
    }

    #[test]
    fn diff_of_a_snapshot_with_itself_shows_no_growth() {
        let r = report(&[("main.f", 5, Category::ChanSend), ("main.g", 1, Category::IoWait)]);
        let t = compare(&[r.clone(), r], &TrendSettings::default());
        assert!(t.sites.iter().all(|s| s.delta == 0 && !s.growing && s.change == Change::Same));
    }

    #[test]
    fn generics_match_across_formats() {
        assert_eq!(canonical_function("main.G[go.shape.int].M[go.shape.int]"), "main.G[...]");
        assert_eq!(canonical_function("main.G[...].M[...]"), "main.G[...]");
    }

    #[test]
    fn sparkline_scales() {
        assert_eq!(sparkline(&[0, 7]), "▁█");
        assert_eq!(sparkline(&[2, 2]), "▄▄");
        let long: Vec<u64> = (0..1000).collect();
        assert_eq!(sparkline(&long).chars().count(), 32);
    }

    /// A summary's rows with their names resolved, for comparing summaries made with
    /// different [`Names`].
    fn resolved(s: &Summary, names: &Names) -> Vec<String> {
        let str = |id: u32| if id == NONE { "-" } else { names.string_list[id as usize].as_str() };
        s.rows
            .iter()
            .map(|r| {
                format!(
                    "{} {} {} {:?} {} {} {} {:?}",
                    r.count,
                    r.orphaned,
                    r.leaked,
                    names.site_list[r.site as usize].0,
                    str(r.state),
                    str(r.creator),
                    r.max_wait,
                    r.category
                )
            })
            .collect()
    }

    /// The direct path `trend` takes gives what summarizing the grouped report gives, on
    /// every dump of the test data (all formats, Go 1.21–1.27, the shared corpus).
    #[test]
    fn summarize_snapshot_matches_summarize_of_group() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata");
        let mut files = Vec::new();
        let mut dirs = vec![root];
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    dirs.push(p);
                } else if !p.extension().is_some_and(|x| x == "json" || x == "md") {
                    files.push(p);
                }
            }
        }
        let mut checked = 0;
        for f in files {
            let data = std::fs::read(&f).unwrap();
            let Ok(snaps) = crate::format::parse("t", &data, None, &crate::limits::Limits::default()) else { continue };
            for snap in snaps {
                let (mut a, mut b) = (snap.clone(), snap);
                let settings = GroupSettings { by: GroupBy::Site, summary: true, ..GroupSettings::default() };
                let mut names_a = Names::default();
                let sa = summarize(&crate::group::group(&mut a, &settings), &mut names_a);
                let names_b = Mutex::new(Names::default());
                let sb = summarize_snapshot(&mut b, &GroupSettings::default(), &names_b);
                let names_b = names_b.into_inner().unwrap();
                assert_eq!(resolved(&sa, &names_a), resolved(&sb, &names_b), "{}", f.display());
                assert_eq!(format!("{:?}", sa.point), format!("{:?}", sb.point), "{}", f.display());
                checked += 1;
            }
        }
        assert!(checked > 100, "only {checked} snapshots found under testdata/");
    }
}
