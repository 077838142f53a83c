//! Growth across snapshots: per blocking site, the count series, its growth, and whether
//! the site is a leak suspect (and why).
//!
//! A pure function of grouped snapshots ([`SnapshotReport`]s grouped by site), already in
//! time order. Sites are matched across snapshots by function (type arguments folded to
//! `[...]`, so debug=0 shape names meet the text formats' `[...]`), file and line — not by
//! category, since debug=1 cannot name a channel wait that debug=2 names.

use crate::classify::Category;
use crate::group::{group_facts, BlockingSite, GroupBy, GroupFacts, GroupSettings, Site, SnapshotReport};
use crate::model::Format;
use crate::model::Snapshot;
use rustc_hash::FxHashMap;
use serde::Serialize;
use std::borrow::Cow;
use std::sync::Mutex;

/// Thresholds of the suspect rules.
#[derive(Debug, Clone)]
pub struct TrendSettings {
    /// Least growth (last minus first) that counts as growth.
    pub min_growth: u64,
    /// Wait minutes from which a wait is called long (a reason, not a verdict alone).
    pub long_wait_minutes: u32,
}

impl Default for TrendSettings {
    fn default() -> Self {
        TrendSettings { min_growth: 1, long_wait_minutes: 10 }
    }
}

/// One snapshot of the series.
#[derive(Debug, Clone, Serialize)]
pub struct Point {
    pub source: String,
    /// Capture time, RFC 3339, where known.
    pub time: Option<String>,
    #[serde(skip)]
    pub time_nanos: Option<i64>,
    pub format: Format,
    pub total: u64,
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
    /// Sustained growth: rises in most steps and never falls back to the first value.
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
}

const NONE: u32 = u32::MAX;

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
    });
    let point = Point {
        source: r.source.clone(),
        time: r.time.clone(),
        time_nanos: time_of(r),
        format: r.format,
        total: r.total,
    };
    Summary { point, rows: facts.map(|f| row(f, names)).collect() }
}

/// Groups a snapshot by site straight into a [`Summary`]: what `summarize(&group(…))`
/// gives, without the reports in between (`trend` does this for every file, on every
/// core: `names` is locked only to intern the result).
pub fn summarize_snapshot(snap: &mut Snapshot, settings: &GroupSettings, names: &Mutex<Names>) -> Summary {
    let settings = GroupSettings { by: GroupBy::Site, summary: true, ..settings.clone() };
    let time = snap.time_nanos.map(crate::report::rfc3339);
    let point = Point {
        source: snap.source.clone(),
        time_nanos: time.as_deref().and_then(time_of_text),
        time,
        format: snap.format,
        total: snap.total(),
    };
    let facts = group_facts(snap, &settings);
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

/// Compares summarized snapshots (in time order) whose names are in `names`.
pub fn compare_summaries(summaries: &[Summary], names: &Names, settings: &TrendSettings) -> Trend {
    let n = summaries.len();
    // By match key: the site's accumulator.
    let mut index: Vec<u32> = vec![NONE; names.keys.len()];
    let mut accs: Vec<Acc> = Vec::new();
    for (i, s) in summaries.iter().enumerate() {
        let p = precision(s.point.format);
        for g in &s.rows {
            let slot = &mut index[names.site_list[g.site as usize].1 as usize];
            if *slot == NONE {
                *slot = accs.len() as u32;
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
                });
            }
            let a = &mut accs[*slot as usize];
            a.counts[i] += g.count;
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
        }
    }

    let minutes =
        match (summaries.first().and_then(|s| s.point.time_nanos), summaries.last().and_then(|s| s.point.time_nanos)) {
            // Under a second apart (files copied together, say): no meaningful rate.
            (Some(a), Some(b)) if b - a >= 1_000_000_000 && n >= 2 => Some((b - a) as f64 / 60e9),
            _ => None,
        };
    let mut sites: Vec<SiteTrend> = accs.into_iter().map(|a| judge(a, names, minutes, settings)).collect();
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
    });
    let snapshots = summaries.iter().map(|s| s.point.clone()).collect();
    Trend { snapshots, sites }
}

fn time_of(r: &SnapshotReport) -> Option<i64> {
    r.time.as_deref().and_then(time_of_text)
}

/// Unix nanoseconds of an RFC 3339 time as reports print it.
pub fn time_of_text(t: &str) -> Option<i64> {
    crate::format::logprefix::rfc3339(t.as_bytes()).map(|(n, _)| n)
}

/// Sustained growth of a count series: it grew by at least `min_growth` from first to
/// last, rose in most steps, and never fell back to its first value. The rule `trend`
/// marks `growing` with, and [`crate::rules`] applies to the recent history of a target.
pub fn is_growing(counts: &[u64], min_growth: u64) -> bool {
    let (Some(&first), Some(&last)) = (counts.first(), counts.last()) else {
        return false;
    };
    let steps = counts.len() - 1;
    let rises = counts.windows(2).filter(|w| w[1] > w[0]).count();
    steps > 0
        && last as i64 - first as i64 >= min_growth as i64
        && rises * 2 > steps
        && counts[1..].iter().all(|&c| c > first)
}

fn judge(a: Acc, names: &Names, minutes: Option<f64>, settings: &TrendSettings) -> SiteTrend {
    let counts = a.counts;
    let first = counts[0];
    let last = *counts.last().unwrap_or(&0);
    let delta = last as i64 - first as i64;
    let growing = is_growing(&counts, settings.min_growth);
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
    let rate_per_min = minutes.map(|m| delta as f64 / m);
    let change = match (first, last) {
        (0, l) if l > 0 => Change::New,
        (f, 0) if f > 0 => Change::Vanished,
        (f, l) if l > f => Change::Grew,
        (f, l) if l < f => Change::Shrank,
        _ => Change::Same,
    };

    let mut reasons = Vec::new();
    let mut suspect = false;
    if growing {
        suspect = true;
        let rate = rate_per_min.map(|r| format!(", {r:.1}/min")).unwrap_or_default();
        reasons.push(format!("sustained growth: {first} → {last} over {} snapshots{rate}", counts.len()));
    }
    let site = names.site_list[a.site as usize].0.clone();
    let is_main = site.function == "main.main";
    if category.blocked_forever() && last > 0 && !is_main {
        suspect = true;
        reasons.push(format!("blocked forever by construction ({})", category.implied_state()));
    }
    if a.orphaned_last > 0 && delta > 0 {
        suspect = true;
        reasons.push(format!("{} orphaned: the goroutine that created them has exited", a.orphaned_last));
    } else if a.orphaned_last > 0 && suspect {
        reasons.push(format!("{} orphaned: the goroutine that created them has exited", a.orphaned_last));
    }
    if let Some(m) = a.max_wait.filter(|&m| m >= settings.long_wait_minutes) {
        reasons.push(format!("waiting up to {m} minutes"));
    }
    if a.leaked_last > 0 {
        suspect = true;
        reasons.push(format!("{} marked leaked by the Go runtime's leak detector", a.leaked_last));
    }
    let hint = (suspect
        && category == Category::ChanSend
        && !crate::classify::may_be_nil_chan(&state)
        && delta > 0
        && (a.orphaned_any || growing))
        .then(|| {
            "forgotten sender: the receiver gave up and nobody reads the channel; \
         make it buffered (cap 1) or send in a select with <-ctx.Done()"
                .to_string()
        });
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

    #[test]
    fn growth_is_sustained_or_not() {
        let s = |v: &[u64]| {
            let rs: Vec<_> = v.iter().map(|&n| report(&[("main.f", n, Category::ChanSend)])).collect();
            compare(&rs, &TrendSettings::default()).sites[0].growing
        };
        assert!(s(&[1, 2, 3, 4]));
        assert!(s(&[1, 2, 2, 3]));
        assert!(!s(&[5, 5, 5, 5]), "steady");
        assert!(!s(&[5, 10, 15, 15, 15, 15]), "growth stopped");
        assert!(!s(&[3, 9, 1, 9]), "fell back to the first value");
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
