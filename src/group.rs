//! Grouping: goroutines with the same key (by default category, state and blocking site)
//! become one [`Group`] with counts, wait minutes, creators, labels and an example stack.
//!
//! A pure function of a snapshot and [`GroupSettings`]. Keys are integer ids from the
//! snapshot's tables; strings are resolved only for the groups that come out. Goroutine
//! ids are used for one thing: telling orphans (parent gone) — never as a key.

use crate::classify::{Category, Classifier, Origin};
use crate::model::{flags, FrameId, Goroutine, Snapshot, StackId, Tables, NONE};
use crate::role::{Role, RoleCache};
use regex::Regex;
use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;
use std::collections::BTreeMap;

/// How goroutines are grouped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupBy {
    /// Category, state and blocking site (the default).
    Site,
    /// Category, state and the whole stack.
    Stack,
    /// The `created by` site.
    Creator,
    /// Blocking site split by the value of one pprof label.
    Label(String),
}

impl std::str::FromStr for GroupBy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "site" => Ok(GroupBy::Site),
            "stack" => Ok(GroupBy::Stack),
            "creator" => Ok(GroupBy::Creator),
            _ => match s.strip_prefix("label:") {
                Some(k) if !k.is_empty() => Ok(GroupBy::Label(k.to_string())),
                _ => Err(format!("unknown grouping {s:?}; choose site, stack, creator or label:KEY")),
            },
        }
    }
}

/// What to group by and which goroutines to keep.
#[derive(Debug, Clone)]
pub struct GroupSettings {
    pub by: GroupBy,
    /// Keep only goroutines with a frame (function or file) matching this.
    pub focus: Option<Regex>,
    /// Drop goroutines with a frame matching this.
    pub ignore: Option<Regex>,
    /// Keep only these categories or states (exact names).
    pub states: Vec<String>,
    /// Drop groups smaller than this.
    pub min_count: u64,
    /// How many distinct label sets and creators to keep per group.
    pub keep_examples: usize,
    /// Counts only: no example stacks and no sorting (for `trend`, which sorts by growth
    /// itself and would otherwise spend its time ordering thousands of groups per snapshot).
    pub summary: bool,
    /// The program's own code, as import path prefixes (`--module`); empty: found from
    /// the snapshot ([`crate::classify::MainModule`]).
    pub modules: Vec<String>,
}

impl Default for GroupSettings {
    fn default() -> Self {
        GroupSettings {
            by: GroupBy::Site,
            focus: None,
            ignore: None,
            states: Vec::new(),
            min_count: 1,
            keep_examples: 5,
            summary: false,
            modules: Vec::new(),
        }
    }
}

/// A code location, resolved to strings.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Site {
    pub function: String,
    pub file: String,
    pub line: u32,
}

impl Site {
    pub fn of(t: &Tables, f: FrameId) -> Site {
        let fr = t.frame(f);
        Site { function: t.str(fr.function).to_string(), file: t.str(fr.file).to_string(), line: fr.line }
    }
    pub fn unknown() -> Site {
        Site { function: String::new(), file: String::new(), line: 0 }
    }
    /// `file:line`, with the file's directory dropped for display.
    pub fn short_location(&self) -> String {
        let base = self.file.rsplit('/').next().unwrap_or(&self.file);
        format!("{base}:{}", self.line)
    }
}

/// A group's blocking site: where it waits, and whose code that is. Serialized flat, as
/// `{"function", "file", "line", "origin"}`; it reads as a [`Site`] (`site.function`), and
/// the origin is derived, never part of a site's identity across snapshots.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct BlockingSite {
    #[serde(flatten)]
    pub location: Site,
    /// Absent where no site was found, or where the groups were rebuilt from a history.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
}

impl std::ops::Deref for BlockingSite {
    type Target = Site;
    fn deref(&self) -> &Site {
        &self.location
    }
}

impl From<Site> for BlockingSite {
    fn from(location: Site) -> BlockingSite {
        BlockingSite { location, origin: None }
    }
}

/// A label set with how many goroutines of the group carry it.
#[derive(Debug, Clone, Serialize)]
pub struct LabelCount {
    pub labels: BTreeMap<String, String>,
    pub count: u64,
}

/// A creator (`created by` site) with how many goroutines of the group it started.
#[derive(Debug, Clone, Serialize)]
pub struct CreatorCount {
    #[serde(flatten)]
    pub site: Site,
    pub count: u64,
}

/// One group of goroutines. The fields `count`, `category`, `state` and `site` are the
/// JSON contract; the rest is detail.
#[derive(Debug, Clone, Serialize)]
pub struct Group {
    pub count: u64,
    pub category: Category,
    pub state: String,
    pub site: BlockingSite,
    /// The label value this group is split by (`--group-by label:KEY`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label_value: Option<String>,
    /// What these library goroutines are (a connection, a pool, the profile request);
    /// absent for the program's own goroutines.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// Goroutines of the group that hold a connection (see [`crate::role`]).
    #[serde(skip_serializing_if = "is_zero")]
    pub connections: u64,
    /// Goroutines of the group that serve a request in flight (see [`crate::role`]).
    #[serde(skip_serializing_if = "is_zero")]
    pub requests: u64,
    /// `[min, max]` of the `N minutes` the runtime printed; absent where none was printed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wait_minutes: Option<[u32; 2]>,
    pub locked_to_thread: u64,
    pub leaked: u64,
    /// Goroutines whose creating goroutine is no longer in the dump.
    pub orphaned: u64,
    pub creators: Vec<CreatorCount>,
    pub labels: Vec<LabelCount>,
    /// How many distinct label sets the group holds (all of them, not only those listed).
    pub distinct_label_sets: u64,
    /// Up to five goroutine ids, lowest first (tracebacks only).
    pub goroutine_ids: Vec<u64>,
    /// One goroutine's stack, leaf first.
    pub example_stack: Vec<Site>,
    /// Goroutines by how long they have waited, in the buckets of [`WAIT_BUCKETS`]
    /// (tracebacks only; all zero where the format prints no wait). For the HTML report.
    #[serde(skip)]
    pub wait_histogram: [u64; WAIT_BUCKETS.len()],
}

/// The wait-minute buckets of [`Group::wait_histogram`]: the least minutes of each, and
/// its name. A goroutine the runtime printed no `N minutes` for waited under one.
pub const WAIT_BUCKETS: [(u32, &str); 6] =
    [(0, "< 1 min"), (1, "1-9 min"), (10, "10-59 min"), (60, "1-6 h"), (360, "6-24 h"), (1440, ">= 1 day")];

fn wait_bucket(minutes: u32) -> usize {
    WAIT_BUCKETS.iter().rposition(|&(least, _)| minutes >= least).unwrap_or(0)
}

/// The groups of one snapshot, ready to render.
#[derive(Debug, Clone, Serialize)]
pub struct SnapshotReport {
    pub source: String,
    pub format: crate::model::Format,
    pub profile: crate::model::ProfileKind,
    pub total: u64,
    /// Capture time, RFC 3339, where known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preamble: Option<String>,
    pub truncated: bool,
    pub skipped: u64,
    pub notes: Vec<String>,
    /// Goroutines left after filters.
    pub shown: u64,
    /// Goroutines holding a connection (a load proxy; the profile request left out).
    pub connections: u64,
    /// Goroutines serving a request in flight (the other load proxy).
    pub requests: u64,
    /// The highest goroutine id (tracebacks): it falls when the process restarted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_goroutine_id: Option<u64>,
    pub groups: Vec<Group>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// What a group gathers while its goroutines are counted. Kept small and free of heap
/// allocations for a group of one (issue 15: a dump where every goroutine has its own
/// wait state is one group per goroutine; the first creator, label set and id are held
/// inline, and a map or list is made only for a second one).
struct Acc {
    count: u64,
    locked: u64,
    leaked: u64,
    orphaned: u64,
    state: u32,
    site: u32,
    origin: Option<Origin>,
    min_minutes: u32,
    max_minutes: u32,
    example: StackId,
    category: Category,
    creators: Tally<FrameId>,
    labels: Tally<u32>,
    ids: LowIds,
    role: Option<Role>,
    connections: u64,
    requests: u64,
    /// Goroutines that waited a minute or more, by [`WAIT_BUCKETS`] from the second (the
    /// first is the rest); boxed and absent until one has, so a group costs 8 bytes here.
    waits: Option<Box<[u64; WAIT_BUCKETS.len() - 1]>>,
}

/// Goroutines per id (creator frame, label set): the first inline, a map from the second.
enum Tally<K> {
    Empty,
    One(K, u64),
    Many(Box<FxHashMap<K, u64>>),
}

impl<K: Copy + Eq + std::hash::Hash> Tally<K> {
    fn add(&mut self, k: K, n: u64) {
        match self {
            Tally::Empty => *self = Tally::One(k, n),
            Tally::One(f, c) if *f == k => *c += n,
            Tally::One(f, c) => {
                let mut m = FxHashMap::default();
                m.insert(*f, *c);
                m.insert(k, n);
                *self = Tally::Many(Box::new(m));
            }
            Tally::Many(m) => *m.entry(k).or_default() += n,
        }
    }
    fn len(&self) -> usize {
        match self {
            Tally::Empty => 0,
            Tally::One(..) => 1,
            Tally::Many(m) => m.len(),
        }
    }
    fn iter(&self) -> TallyIter<'_, K> {
        match self {
            Tally::Empty => TallyIter::One(None),
            Tally::One(k, n) => TallyIter::One(Some((*k, *n))),
            Tally::Many(m) => TallyIter::Many(m.iter()),
        }
    }
}

enum TallyIter<'a, K> {
    One(Option<(K, u64)>),
    Many(std::collections::hash_map::Iter<'a, K, u64>),
}

impl<K: Copy> Iterator for TallyIter<'_, K> {
    type Item = (K, u64);
    fn next(&mut self) -> Option<(K, u64)> {
        match self {
            TallyIter::One(o) => o.take(),
            TallyIter::Many(i) => i.next().map(|(k, n)| (*k, *n)),
        }
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = match self {
            TallyIter::One(o) => usize::from(o.is_some()),
            TallyIter::Many(i) => i.len(),
        };
        (n, Some(n))
    }
}

impl<K: Copy> ExactSizeIterator for TallyIter<'_, K> {}

/// The lowest few goroutine ids of a group: the first inline (0: none yet; ids kept are
/// never 0).
#[derive(Default)]
struct LowIds {
    first: u64,
    more: Vec<u64>,
}

impl LowIds {
    fn add(&mut self, id: u64, keep: usize) {
        if self.first == 0 {
            self.first = id;
        } else if self.more.len() + 1 < keep {
            self.more.push(id);
        } else {
            let max = self.more.iter_mut().chain(std::iter::once(&mut self.first)).max().expect("one id at least");
            if id < *max {
                *max = id;
            }
        }
    }
    fn sorted(&self) -> Vec<u64> {
        let mut ids: Vec<u64> =
            std::iter::once(self.first).filter(|&i| i != 0).chain(self.more.iter().copied()).collect();
        ids.sort_unstable();
        ids
    }
}

/// A group key: category, state, site (or creator), the stack or label value, and the
/// role (so the profile request's own goroutines are a group of their own).
type Key = (Category, u32, u32, u32, Option<Role>);

/// Groups one snapshot's goroutines.
pub fn group(snap: &mut Snapshot, settings: &GroupSettings) -> SnapshotReport {
    grouping(snap, settings).into_report()
}

/// The groups of one snapshot, counted and in their final order but resolved to strings
/// one at a time ([`Grouping::group`]): `show` writes each group out and drops it, so the
/// strings of a large dump's groups (names, example stacks) never all exist at once.
pub struct Grouping<'s> {
    snap: &'s Snapshot,
    settings: &'s GroupSettings,
    accs: Vec<(Key, Acc)>,
    shown: u64,
    notes: Vec<String>,
    connections: u64,
    requests: u64,
    max_goroutine_id: Option<u64>,
}

/// Counts and orders the groups of one snapshot, resolving nothing yet.
pub fn grouping<'s>(snap: &'s mut Snapshot, settings: &'s GroupSettings) -> Grouping<'s> {
    let (mut accs, shown) = accumulate(snap, settings);
    let snap: &'s Snapshot = snap;
    let connections = accs.iter().map(|(_, a)| a.connections).sum();
    let requests = accs.iter().map(|(_, a)| a.requests).sum();
    let max_goroutine_id = if snap.format.is_traceback() { snap.goroutines.iter().map(|g| g.id).max() } else { None };
    let mut notes = snap.notes.clone();
    let before = accs.len();
    let hidden_goroutines: u64 = accs.iter().filter(|(_, a)| a.count < settings.min_count).map(|(_, a)| a.count).sum();
    accs.retain(|(_, a)| a.count >= settings.min_count);
    if accs.len() < before {
        let n = before - accs.len();
        notes.push(format!(
            "{} of fewer than {} goroutines ({} in all) not shown (--min-count)",
            crate::report::count(n as u64, "group"),
            settings.min_count,
            hidden_goroutines
        ));
    }
    if !settings.summary {
        let by_label = matches!(settings.by, GroupBy::Label(_));
        // Stable, on the same keys as `sort_groups`, compared in place.
        accs.sort_by(|x, y| cmp_accs(&snap.tables, by_label, x, y));
    }
    Grouping { snap, settings, accs, shown, notes, connections, requests, max_goroutine_id }
}

impl Grouping<'_> {
    /// How many groups there are.
    pub fn len(&self) -> usize {
        self.accs.len()
    }
    pub fn is_empty(&self) -> bool {
        self.accs.is_empty()
    }
    /// Group `i`, resolved to strings; `stack`: with its example stack.
    pub fn group(&self, i: usize, stack: bool) -> Group {
        let (key, a) = &self.accs[i];
        resolve(&self.snap.tables, *key, a, self.settings, stack && !self.settings.summary, true, true)
    }
    /// Group `i` as the `show` table needs it: its label sets only when it has exactly one
    /// (the table shows a count otherwise). Choosing the top few of a million distinct sets
    /// costs ~100M instructions, and the table resolves every group twice.
    pub fn group_for_table(&self, i: usize, stack: bool) -> Group {
        let (key, a) = &self.accs[i];
        resolve(&self.snap.tables, *key, a, self.settings, stack && !self.settings.summary, true, a.labels.len() <= 1)
    }
    /// Group `i` without its site and example stack (`Site::unknown()`, empty): for a
    /// writer that takes them from [`Grouping::site`] and [`Grouping::example_stack`].
    pub fn group_without_site(&self, i: usize) -> Group {
        let (key, a) = &self.accs[i];
        resolve(&self.snap.tables, *key, a, self.settings, false, false, true)
    }
    /// Group `i`'s site.
    pub fn site(&self, i: usize) -> BlockingSite {
        let a = &self.accs[i].1;
        let location = if a.site != NONE { Site::of(&self.snap.tables, a.site) } else { Site::unknown() };
        BlockingSite { location, origin: a.origin }
    }
    /// Group `i`'s example stack, each frame resolved as it is asked for.
    pub fn example_stack(&self, i: usize) -> impl ExactSizeIterator<Item = Site> + '_ {
        let t = &self.snap.tables;
        let stack = if self.settings.summary { &[][..] } else { t.stacks.get(self.accs[i].1.example) };
        stack.iter().map(move |&f| Site::of(t, f))
    }
    /// The report without its groups: what is said of the snapshot as a whole.
    pub fn header(&self) -> SnapshotReport {
        let snap = self.snap;
        SnapshotReport {
            source: snap.source.clone(),
            format: snap.format,
            profile: snap.profile,
            total: snap.total(),
            time: snap.time_nanos.map(crate::report::rfc3339),
            preamble: snap.preamble.clone(),
            truncated: snap.truncated,
            skipped: snap.skipped,
            notes: self.notes.clone(),
            shown: self.shown,
            connections: self.connections,
            requests: self.requests,
            max_goroutine_id: self.max_goroutine_id,
            groups: Vec::new(),
        }
    }
    /// The whole report, every group resolved.
    pub fn into_report(self) -> SnapshotReport {
        let mut r = self.header();
        r.groups = (0..self.len()).map(|i| self.group(i, true)).collect();
        r
    }
}

/// The order of [`sort_groups`], on accumulators: largest first, then category, state,
/// site, label value, example stack, each string compared as the `String` it resolves to.
fn cmp_accs(t: &Tables, by_label: bool, x: &(Key, Acc), y: &(Key, Acc)) -> std::cmp::Ordering {
    let ((ka, a), (kb, b)) = (x, y);
    let site = |f: u32| if f == NONE { ("", "", 0) } else { frame_strs(t, f) };
    let label = |v: u32| if v == NONE { "" } else { t.str(v) };
    b.count
        .cmp(&a.count)
        .then_with(|| a.category.cmp(&b.category))
        .then_with(|| t.str(a.state).cmp(t.str(b.state)))
        .then_with(|| site(a.site).cmp(&site(b.site)))
        .then_with(|| a.origin.cmp(&b.origin))
        .then_with(|| if by_label { label(ka.3).cmp(label(kb.3)) } else { std::cmp::Ordering::Equal })
        .then_with(|| a.role.cmp(&b.role))
        .then_with(|| {
            let (sa, sb) = (t.stacks.get(a.example), t.stacks.get(b.example));
            sa.iter().map(|&f| frame_strs(t, f)).cmp(sb.iter().map(|&f| frame_strs(t, f)))
        })
}

/// A frame as the strings of its [`Site`]: function, file, line.
fn frame_strs(t: &Tables, f: FrameId) -> (&str, &str, u32) {
    let fr = t.frame(f);
    (t.str(fr.function), t.str(fr.file), fr.line)
}

/// One group of [`group_facts`]: what a comparison reads, names borrowed from the
/// snapshot's tables. The same values as the [`Group`] [`group`] would give.
#[derive(Debug, Clone, Copy)]
pub struct GroupFacts<'t> {
    pub count: u64,
    pub category: Category,
    pub state: &'t str,
    /// Function, file, line; empty strings and 0 where no site was found.
    pub site: (&'t str, &'t str, u32),
    pub origin: Option<Origin>,
    pub orphaned: u64,
    pub leaked: u64,
    /// The longest wait printed, as `Group::wait_minutes` has it.
    pub max_wait: Option<u32>,
    /// The function of the group's first creator (most goroutines, then by site).
    pub creator: Option<&'t str>,
    pub role: Option<Role>,
    /// Goroutines of the group that hold a connection.
    pub connections: u64,
    /// Goroutines of the group that serve a request in flight.
    pub requests: u64,
}

/// Groups one snapshot as [`group`] does, without making [`Group`]s: for `trend`, which
/// reads a few numbers and names per group of each of many snapshots.
pub fn group_facts<'s>(snap: &'s mut Snapshot, settings: &GroupSettings) -> Vec<GroupFacts<'s>> {
    let (accs, _) = accumulate(snap, settings);
    let t = &snap.tables;
    accs.into_iter()
        .filter(|(_, a)| a.count >= settings.min_count)
        .map(|(_, a)| {
            let site = if a.site != NONE {
                let fr = t.frame(a.site);
                (t.str(fr.function), t.str(fr.file), fr.line)
            } else {
                ("", "", 0)
            };
            let creator = if settings.keep_examples == 0 {
                None
            } else {
                a.creators
                    .iter()
                    .min_by(|x, y| y.1.cmp(&x.1).then_with(|| frame_order(t, x.0).cmp(&frame_order(t, y.0))))
                    .map(|(f, _)| t.function(f))
            };
            GroupFacts {
                count: a.count,
                category: a.category,
                state: t.str(a.state),
                site,
                origin: a.origin,
                orphaned: a.orphaned,
                leaked: a.leaked,
                max_wait: wait_minutes(&a).map(|[_, max]| max),
                creator,
                role: a.role,
                connections: a.connections,
                requests: a.requests,
            }
        })
        .collect()
}

/// Goroutines per group key, in order of first appearance, and how many passed the
/// filters.
fn accumulate(snap: &mut Snapshot, settings: &GroupSettings) -> (Vec<(Key, Acc)>, u64) {
    let mut classifier = Classifier::new(snap, &settings.modules);
    let frames_complete = snap.format == crate::model::Format::Debug0;
    // Only a goroutine with a parent asks whether its parent is alive; the set is sized
    // once (a growing set briefly holds two tables: 10 million headers, issue 15).
    let ids: FxHashSet<u64> = if snap.format.is_traceback() && snap.goroutines.iter().any(|g| g.parent != 0) {
        let mut ids = FxHashSet::with_capacity_and_hasher(snap.goroutines.len(), Default::default());
        ids.extend(snap.goroutines.iter().map(|g| g.id));
        ids
    } else {
        FxHashSet::default()
    };
    let label_key = match &settings.by {
        GroupBy::Label(k) => snap.tables.strings.lookup(k),
        _ => None,
    };
    let mut keep_stack: FxHashMap<StackId, bool> = FxHashMap::default();
    let mut other_states = OtherStates::default();
    let mut roles = RoleCache::default();
    // The profile request's connection has one background reader (HTTP/1): as many of
    // those as there are profile writers belong to the request, not to the clients.
    let mut request_readers: u64 =
        snap.goroutines.iter().filter(|g| roles.get(&snap.tables, g.stack).profile_writer).map(|g| g.count).sum();
    // Keys index `accs`: an accumulator is large, and a map of them moved each on growth.
    let mut index: FxHashMap<Key, u32> = FxHashMap::default();
    let mut accs: Vec<(Key, Acc)> = Vec::new();
    let mut shown = 0u64;

    let goroutines = std::mem::take(&mut snap.goroutines);
    for g in &goroutines {
        if (settings.focus.is_some() || settings.ignore.is_some())
            && !*keep_stack.entry(g.stack).or_insert_with(|| stack_passes(&snap.tables, g.stack, settings))
        {
            continue;
        }
        let (category, state) = classifier.category(snap, g.state, g.stack, frames_complete);
        if !settings.states.is_empty() {
            let st = snap.tables.str(state);
            if !settings.states.iter().any(|s| s == category.name() || s == st) {
                continue;
            }
        }
        shown += g.count;
        let state = if category == Category::Other { other_states.fold(snap, state) } else { state };
        let site = classifier.site(snap, g.stack).unwrap_or(NONE);
        let sr = roles.get(&snap.tables, g.stack);
        let extra = match &settings.by {
            GroupBy::Site | GroupBy::Creator => 0,
            GroupBy::Stack => g.stack,
            GroupBy::Label(_) => label_key
                .and_then(|k| snap.tables.label_sets.get(g.labels).find(|(lk, _)| *lk == k).map(|(_, v)| v))
                .unwrap_or(NONE),
        };
        let place = if settings.by == GroupBy::Creator { g.creator } else { site };
        // A debug=0 record stands for many goroutines: split off the request's share.
        let mine = if sr.background_reader { request_readers.min(g.count) } else { 0 };
        request_readers -= mine;
        let split =
            [(mine, Some(Role::ProfileRequest), false, false), (g.count - mine, sr.role, sr.connection, sr.request)];
        for (n, role, conn, request) in split {
            if n == 0 {
                continue;
            }
            let key = (category, state, place, extra, role);
            let slot = *index.entry(key).or_insert_with(|| {
                let origin = (site != NONE).then(|| classifier.origin(&snap.tables, site));
                accs.push((
                    key,
                    Acc {
                        count: 0,
                        locked: 0,
                        leaked: 0,
                        orphaned: 0,
                        state,
                        site,
                        origin,
                        min_minutes: NONE,
                        max_minutes: 0,
                        example: g.stack,
                        category,
                        creators: Tally::Empty,
                        labels: Tally::Empty,
                        ids: LowIds::default(),
                        role,
                        connections: 0,
                        requests: 0,
                        waits: None,
                    },
                ));
                accs.len() as u32 - 1
            });
            let a = &mut accs[slot as usize].1;
            if conn {
                a.connections += n;
            }
            if request {
                a.requests += n;
            }
            add(a, &Goroutine { count: n, ..*g }, &ids, settings);
        }
    }
    snap.goroutines = goroutines;
    (accs, shown)
}

/// Distinct wait states that are not Go's wait reasons ([`Category::Other`]) get a group
/// each up to this many; later ones are folded into one state per site,
/// [`FOLDED_STATES`]. Go prints a few dozen wait reasons; a dump with a distinct state per
/// goroutine (issue 15: 500,000 of them) made a group, ~250 bytes, per ~60 bytes of input.
const MAX_OTHER_STATES: usize = 1000;
const FOLDED_STATES: &str = "other (past 1000 distinct states)";

/// The `Other` states met so far, and the folded state once there are too many.
#[derive(Default)]
struct OtherStates {
    seen: FxHashSet<u32>,
    folded: Option<u32>,
}

impl OtherStates {
    fn fold(&mut self, snap: &mut Snapshot, state: u32) -> u32 {
        if self.seen.contains(&state) {
            return state;
        }
        if self.seen.len() < MAX_OTHER_STATES {
            self.seen.insert(state);
            return state;
        }
        *self.folded.get_or_insert_with(|| snap.tables.strings.intern_str(FOLDED_STATES))
    }
}

/// Goroutines per wait bucket: those that waited a minute or more as counted, the rest
/// under one; all zero where the format prints no waits (no minimum was ever set).
fn wait_histogram(a: &Acc) -> [u64; WAIT_BUCKETS.len()] {
    let mut h = [0; WAIT_BUCKETS.len()];
    if a.min_minutes == NONE && a.waits.is_none() {
        return h;
    }
    if let Some(w) = &a.waits {
        h[1..].copy_from_slice(&w[..]);
    }
    h[0] = a.count - h[1..].iter().sum::<u64>();
    h
}

/// `[min, max]` wait minutes of a group, where any were printed.
fn wait_minutes(a: &Acc) -> Option<[u32; 2]> {
    (a.max_minutes > 0 || (a.min_minutes != NONE && a.min_minutes > 0))
        .then_some([if a.min_minutes == NONE { 0 } else { a.min_minutes }, a.max_minutes])
}

fn add(a: &mut Acc, g: &Goroutine, ids: &FxHashSet<u64>, settings: &GroupSettings) {
    a.count += g.count;
    if let Some(m) = g.minutes() {
        a.min_minutes = a.min_minutes.min(m);
        a.max_minutes = a.max_minutes.max(m);
        if m > 0 {
            a.waits.get_or_insert_default()[wait_bucket(m) - 1] += g.count;
        }
    } else if g.id != 0 {
        // A goroutine without the annotation waited under a minute (or was not yet seen
        // by a GC): the group's minimum is 0.
        a.min_minutes = 0;
    }
    if g.has(flags::LOCKED) {
        a.locked += g.count;
    }
    if g.has(flags::LEAKED) {
        a.leaked += g.count;
    }
    if g.parent != 0 && !ids.is_empty() && !ids.contains(&g.parent) {
        a.orphaned += g.count;
    }
    if let Some(c) = g.creator() {
        a.creators.add(c, g.count);
    }
    if g.labels != 0 {
        a.labels.add(g.labels, g.count);
    }
    if g.id != 0 {
        a.ids.add(g.id, settings.keep_examples.max(5));
    }
}

fn resolve(
    t: &Tables,
    key: Key,
    a: &Acc,
    settings: &GroupSettings,
    stack: bool,
    with_site: bool,
    with_labels: bool,
) -> Group {
    let (_, _, _, extra, _) = key;
    let location = if a.site != NONE && with_site { Site::of(t, a.site) } else { Site::unknown() };
    let site = BlockingSite { location, origin: a.origin };
    let label_value = match &settings.by {
        GroupBy::Label(_) => Some(if extra == NONE { String::new() } else { t.str(extra).to_string() }),
        _ => None,
    };
    let wait = wait_minutes(a);
    // Only the top few are shown: choose them on ids, comparing strings in place, and
    // resolve only those (a profile with a unique label per goroutine has as many sets as
    // goroutines).
    let creators: Vec<CreatorCount> = top_k(a.creators.iter(), settings.keep_examples, |x, y| {
        y.1.cmp(&x.1).then_with(|| frame_order(t, x.0).cmp(&frame_order(t, y.0)))
    })
    .into_iter()
    .map(|(f, n)| CreatorCount { site: Site::of(t, f), count: n })
    .collect();
    let distinct = a.labels.len() as u64;
    let label_sets = if with_labels { &a.labels } else { &Tally::Empty };
    let labels: Vec<LabelCount> =
        top_k(label_sets.iter(), settings.keep_examples, |x, y| y.1.cmp(&x.1).then_with(|| t.cmp_label_sets(x.0, y.0)))
            .into_iter()
            .map(|(l, n)| LabelCount {
                labels: t.labels(l).map(|(k, v)| (k.to_string(), v.to_string())).collect(),
                count: n,
            })
            .collect();
    Group {
        count: a.count,
        category: a.category,
        state: t.str(a.state).to_string(),
        site,
        label_value,
        role: a.role,
        connections: a.connections,
        requests: a.requests,
        wait_minutes: wait,
        locked_to_thread: a.locked,
        leaked: a.leaked,
        orphaned: a.orphaned,
        creators,
        labels,
        distinct_label_sets: distinct,
        goroutine_ids: a.ids.sorted(),
        example_stack: if stack {
            t.stacks.get(a.example).iter().map(|&f| Site::of(t, f)).collect()
        } else {
            Vec::new()
        },
        wait_histogram: wait_histogram(a),
    }
}

/// How creators tie-break: by function, file and line, as raw bytes (no `str` needed).
fn frame_order(t: &Tables, f: FrameId) -> (&[u8], &[u8], u32) {
    let fr = t.frame(f);
    (t.strings.raw(fr.function), t.strings.raw(fr.file), fr.line)
}

/// The `k` first items in the order `cmp`, sorted. One pass keeping the best `k` so far:
/// an item that does not beat the worst of them costs one comparison (a group with a
/// unique label set per goroutine has as many sets as goroutines, all of count 1).
fn top_k<T>(items: impl ExactSizeIterator<Item = T>, k: usize, cmp: impl Fn(&T, &T) -> std::cmp::Ordering) -> Vec<T> {
    let mut best: Vec<T> = Vec::with_capacity(k.min(items.len()) + 1);
    for item in items {
        if best.len() == k && best.last().is_none_or(|worst| cmp(&item, worst).is_ge()) {
            continue;
        }
        let at = best.partition_point(|b| cmp(b, &item).is_le());
        best.insert(at, item);
        best.truncate(k);
    }
    best
}

fn stack_passes(t: &Tables, stack: StackId, s: &GroupSettings) -> bool {
    let frames = t.stacks.get(stack);
    let matches = |re: &Regex| {
        frames.iter().any(|&f| {
            let fr = t.frame(f);
            re.is_match(t.str(fr.function)) || re.is_match(t.str(fr.file))
        })
    };
    s.focus.as_ref().is_none_or(matches) && !s.ignore.as_ref().is_some_and(matches)
}

/// Largest first; ties broken by category, site and label value so output is stable.
pub fn sort_groups(groups: &mut [Group]) {
    groups.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| a.category.cmp(&b.category))
            .then_with(|| a.state.cmp(&b.state))
            .then_with(|| a.site.cmp(&b.site))
            .then_with(|| a.label_value.cmp(&b.label_value))
            .then_with(|| a.role.cmp(&b.role))
            .then_with(|| a.example_stack.cmp(&b.example_stack))
    });
}

impl Group {
    /// A group with its key and count and nothing else: how history rebuilds a snapshot's
    /// groups from stored counts, and how tests build one.
    pub fn bare(count: u64, category: Category, state: String, site: Site) -> Group {
        Group {
            count,
            category,
            state,
            site: site.into(),
            label_value: None,
            role: None,
            connections: 0,
            requests: 0,
            wait_minutes: None,
            locked_to_thread: 0,
            leaked: 0,
            orphaned: 0,
            creators: Vec::new(),
            labels: Vec::new(),
            distinct_label_sets: 0,
            goroutine_ids: Vec::new(),
            example_stack: Vec::new(),
            wait_histogram: [0; WAIT_BUCKETS.len()],
        }
    }
}

impl SnapshotReport {
    /// A report holding only `groups` (total = their sum), for history and tests.
    pub fn bare(source: &str, format: crate::model::Format, groups: Vec<Group>) -> SnapshotReport {
        SnapshotReport {
            source: source.to_string(),
            format,
            profile: crate::model::ProfileKind::Goroutine,
            total: groups.iter().map(|g| g.count).sum(),
            time: None,
            preamble: None,
            truncated: false,
            skipped: 0,
            notes: Vec::new(),
            shown: 0,
            connections: groups.iter().map(|g| g.connections).sum(),
            requests: groups.iter().map(|g| g.requests).sum(),
            max_goroutine_id: None,
            groups,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::top_k;

    /// The one-pass selection gives the head of a full sort, ties included, for every k.
    #[test]
    fn top_k_is_the_head_of_a_sort() {
        // A deterministic mix with many ties on the first field.
        let items: Vec<(u64, u32)> = (0..500u32).map(|i| ((i * 7919 % 13) as u64, i * 104_729 % 1009)).collect();
        let cmp = |a: &(u64, u32), b: &(u64, u32)| b.0.cmp(&a.0).then(a.1.cmp(&b.1));
        let mut sorted = items.clone();
        sorted.sort_by(cmp);
        for k in [0, 1, 2, 5, 37, 499, 500, 600] {
            assert_eq!(top_k(items.clone().into_iter(), k, cmp), sorted[..k.min(items.len())], "k = {k}");
        }
    }
}
