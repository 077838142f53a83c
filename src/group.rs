//! Grouping: goroutines with the same key (by default category, state and blocking site)
//! become one [`Group`] with counts, wait minutes, creators, labels and an example stack.
//!
//! A pure function of a snapshot and [`GroupSettings`]. Keys are integer ids from the
//! snapshot's tables; strings are resolved only for the groups that come out. Goroutine
//! ids are used for one thing: telling orphans (parent gone) — never as a key.

use crate::classify::{Category, Classifier, Origin};
use crate::model::{flags, FrameId, Goroutine, Snapshot, StackId, Tables, NONE};
use crate::role::{Role, RoleCache};
use hashbrown::hash_table::{Entry, HashTable};
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

/// What a group gathers while its goroutines are counted: 64 bytes, with no heap
/// allocation for a group whose goroutines agree on everything but their ids (issue 15: a
/// dump where every goroutine has its own blocking site is one group per ~75 bytes of
/// input). The first creator, label set and id are held inline, the count of the first
/// creator and label set implied; what few groups have (a second creator or label set,
/// more ids, waits of a minute or more, locked, leaked or orphaned goroutines,
/// connections) is in [`Rare`], made on first need.
struct Acc {
    count: u64,
    /// The first goroutine id kept (0: none yet; ids kept are never 0); more in
    /// [`Rare::ids`].
    first_id: u64,
    state: u32,
    site: u32,
    /// The key's last part: the stack (`--group-by stack`), the label value (`label:KEY`,
    /// [`NONE`] for none), the creator frame (`creator`, which keys on it in place of the
    /// site), else 0.
    extra: u32,
    example: StackId,
    min_minutes: u32,
    max_minutes: u32,
    /// The first creator frame met, or [`NONE`]; its count is implied (see [`Spill`]).
    creator: FrameId,
    /// The first label set met, or 0; its count is implied (see [`Spill`]).
    labels: u32,
    category: Category,
    origin: Option<Origin>,
    role: Option<Role>,
    rare: Option<Box<Rare>>,
}

// The size the issue 15 budget was worked out for (a group per ~75-byte goroutine).
const _: () = assert!(std::mem::size_of::<Acc>() == 64);

/// What a group holds beyond [`Acc`]'s inline fields.
#[derive(Default)]
struct Rare {
    locked: u64,
    leaked: u64,
    orphaned: u64,
    connections: u64,
    requests: u64,
    /// Goroutines that waited a minute or more, by [`WAIT_BUCKETS`] from the second (the
    /// first is the rest).
    waits: [u64; WAIT_BUCKETS.len() - 1],
    /// Goroutine ids kept beside [`Acc::first_id`].
    ids: Vec<u64>,
    /// The largest id kept once `keep` are (0: not known).
    ids_max: u64,
    creators: Spill<FrameId>,
    labels: Spill<u32>,
}

/// The rest of a per-key tally (creator frames, label sets) whose first key is inline in
/// [`Acc`]: while that key is the only one, its count is the group's count less the
/// goroutines `without` a key; from a second key on, `many` counts every key.
struct Spill<K> {
    without: u64,
    many: Option<Counts<K>>,
}

/// Counts per key. Keys met in increasing order (the usual case for label sets, whose ids
/// are given in order of first appearance) are appended to a sorted run, which needs no
/// hashing and is written in order; the others are counted in a map. A profile with a
/// unique label per goroutine put all its sets in one group's map: growing and probing it
/// cost a tenth of `show` (issue 14).
struct Counts<K> {
    /// Keys in increasing order, with their counts.
    run: Vec<(K, u64)>,
    /// Keys that came below the run's last key when first met. Each is below every key
    /// appended to the run after it, so a key above the run's last is in neither.
    rest: FxHashMap<K, u64>,
}

impl<K: Copy + Ord + std::hash::Hash> Counts<K> {
    fn one(k: K, n: u64) -> Self {
        Counts { run: vec![(k, n)], rest: FxHashMap::default() }
    }
    fn add(&mut self, k: K, n: u64) {
        match self.run.last() {
            Some(&(last, _)) if k <= last => match self.run.binary_search_by(|e| e.0.cmp(&k)) {
                Ok(i) => self.run[i].1 += n,
                Err(_) => *self.rest.entry(k).or_default() += n,
            },
            _ => self.run.push((k, n)),
        }
    }
}

impl<K> Default for Spill<K> {
    fn default() -> Self {
        Spill { without: 0, many: None }
    }
}

impl<K: Copy + Ord + std::hash::Hash> Spill<K> {
    /// Counts `n` goroutines with key `k` (`None`: without one) into a tally whose first
    /// key is `*first` (`none` while there is none) and whose goroutines so far are
    /// `before` (this record's `n` not yet counted in).
    fn add(
        rare: &mut Option<Box<Rare>>,
        spill: fn(&mut Rare) -> &mut Spill<K>,
        first: &mut K,
        none: K,
        before: u64,
        k: Option<K>,
        n: u64,
    ) {
        match k {
            None => {
                // Without a key: counted only once a key exists (otherwise every goroutine
                // of the group is without one, and the tally is empty).
                if *first != none {
                    let s = spill(rare.get_or_insert_default());
                    match &mut s.many {
                        Some(_) => {}
                        None => s.without += n,
                    }
                }
            }
            Some(k) if *first == none => {
                *first = k;
                if before > 0 {
                    spill(rare.get_or_insert_default()).without = before;
                }
            }
            Some(k) => {
                if k == *first && rare.as_deref_mut().is_none_or(|r| spill(r).many.is_none()) {
                    return;
                }
                let s = spill(rare.get_or_insert_default());
                let m = s.many.get_or_insert_with(|| Counts::one(*first, before - s.without));
                m.add(k, n);
            }
        }
    }
}

/// A tally's keys and counts, read from the inline first key and its [`Spill`].
fn tally<K: Copy + Ord + std::hash::Hash>(first: K, none: K, count: u64, spill: Option<&Spill<K>>) -> TallyIter<'_, K> {
    match spill.and_then(|s| s.many.as_ref()) {
        Some(m) => TallyIter::Many(m.run.iter(), m.rest.iter()),
        None if first == none => TallyIter::One(None),
        None => TallyIter::One(Some((first, count - spill.map_or(0, |s| s.without)))),
    }
}

enum TallyIter<'a, K> {
    One(Option<(K, u64)>),
    /// A [`Counts`]: its run, then the rest.
    Many(std::slice::Iter<'a, (K, u64)>, std::collections::hash_map::Iter<'a, K, u64>),
}

impl<K: Copy> Iterator for TallyIter<'_, K> {
    type Item = (K, u64);
    fn next(&mut self) -> Option<(K, u64)> {
        match self {
            TallyIter::One(o) => o.take(),
            TallyIter::Many(run, rest) => run.next().copied().or_else(|| rest.next().map(|(k, n)| (*k, *n))),
        }
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = match self {
            TallyIter::One(o) => usize::from(o.is_some()),
            TallyIter::Many(run, rest) => run.len() + rest.len(),
        };
        (n, Some(n))
    }
}

impl<K: Copy> ExactSizeIterator for TallyIter<'_, K> {}

impl Acc {
    fn rare(&self) -> Option<&Rare> {
        self.rare.as_deref()
    }
    fn creators(&self) -> TallyIter<'_, FrameId> {
        tally(self.creator, NONE, self.count, self.rare().map(|r| &r.creators))
    }
    fn label_sets(&self) -> TallyIter<'_, u32> {
        tally(self.labels, 0, self.count, self.rare().map(|r| &r.labels))
    }
    fn distinct_label_sets(&self) -> usize {
        self.label_sets().len()
    }
    fn get(&self, f: fn(&Rare) -> u64) -> u64 {
        self.rare().map_or(0, f)
    }
    /// The group's key: category, state, site (or creator), the stack or label value, and
    /// the role (so the profile request's own goroutines are a group of their own).
    fn key(&self, by_creator: bool) -> Key {
        if by_creator {
            (self.category, self.state, self.extra, 0, self.role)
        } else {
            (self.category, self.state, self.site, self.extra, self.role)
        }
    }
    /// The ids kept, lowest first.
    fn ids(&self) -> Vec<u64> {
        let more = self.rare().map_or(&[][..], |r| &r.ids[..]);
        let mut ids: Vec<u64> =
            std::iter::once(self.first_id).filter(|&i| i != 0).chain(more.iter().copied()).collect();
        ids.sort_unstable();
        ids
    }
    /// Keeps `id` among the lowest `keep`.
    fn add_id(&mut self, id: u64, keep: usize) {
        if self.first_id == 0 {
            self.first_id = id;
            return;
        }
        let r = self.rare.get_or_insert_default();
        if r.ids.len() + 1 < keep {
            r.ids.push(id);
        } else {
            // Full: most ids are past the largest kept (a dump lists goroutines about in
            // creation order), so that one is remembered rather than sought each time.
            if r.ids_max == 0 {
                r.ids_max = r.ids.iter().copied().chain([self.first_id]).max().expect("one id at least");
            }
            if id >= r.ids_max {
                return;
            }
            let max = r.ids.iter_mut().chain(std::iter::once(&mut self.first_id)).max().expect("one id at least");
            *max = id;
            r.ids_max = 0;
        }
    }
}

/// A group key, as [`Acc::key`] gives it.
type Key = (Category, u32, u32, u32, Option<Role>);

fn hash_key(k: &Key) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = rustc_hash::FxHasher::default();
    k.hash(&mut h);
    h.finish()
}

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
    accs: Vec<Acc>,
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
    let connections = accs.iter().map(|a| a.get(|r| r.connections)).sum();
    let requests = accs.iter().map(|a| a.get(|r| r.requests)).sum();
    let max_goroutine_id = if snap.format.is_traceback() { snap.goroutines.iter().map(|g| g.id).max() } else { None };
    let mut notes = snap.notes.clone();
    let before = accs.len();
    let hidden_goroutines: u64 = accs.iter().filter(|a| a.count < settings.min_count).map(|a| a.count).sum();
    accs.retain(|a| a.count >= settings.min_count);
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
        // On the same keys as `sort_groups`, compared in place; ties in order of first
        // appearance, as a stable sort would leave them. A permutation is sorted and then
        // applied in place: a stable sort of the accumulators themselves takes scratch of
        // half of them (issue 15: 8 MB for 50,000 one-goroutine groups).
        let mut order: Vec<u32> = (0..accs.len() as u32).collect();
        order.sort_unstable_by(|&x, &y| {
            cmp_accs(&snap.tables, by_label, &accs[x as usize], &accs[y as usize]).then(x.cmp(&y))
        });
        permute(&mut accs, &mut order);
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
        let a = &self.accs[i];
        resolve(&self.snap.tables, a, self.settings, stack && !self.settings.summary, true, true)
    }
    /// Group `i` as the `show` table needs it: its label sets only when it has exactly one
    /// (the table shows a count otherwise). Choosing the top few of a million distinct sets
    /// costs ~100M instructions, and the table resolves every group twice.
    pub fn group_for_table(&self, i: usize, stack: bool) -> Group {
        let a = &self.accs[i];
        let labels = a.distinct_label_sets() <= 1;
        resolve(&self.snap.tables, a, self.settings, stack && !self.settings.summary, true, labels)
    }
    /// Group `i` without its site and example stack (`Site::unknown()`, empty): for a
    /// writer that takes them from [`Grouping::site`] and [`Grouping::example_stack`].
    pub fn group_without_site(&self, i: usize) -> Group {
        resolve(&self.snap.tables, &self.accs[i], self.settings, false, false, true)
    }
    /// Group `i`'s site.
    pub fn site(&self, i: usize) -> BlockingSite {
        let a = &self.accs[i];
        let location = if a.site != NONE { Site::of(&self.snap.tables, a.site) } else { Site::unknown() };
        BlockingSite { location, origin: a.origin }
    }
    /// Group `i`'s example stack, each frame resolved as it is asked for.
    pub fn example_stack(&self, i: usize) -> impl ExactSizeIterator<Item = Site> + '_ {
        let t = &self.snap.tables;
        let stack = if self.settings.summary { &[][..] } else { t.stacks.get(self.accs[i].example) };
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
fn cmp_accs(t: &Tables, by_label: bool, a: &Acc, b: &Acc) -> std::cmp::Ordering {
    let site = |f: u32| if f == NONE { ("", "", 0) } else { frame_strs(t, f) };
    let label = |v: u32| if v == NONE { "" } else { t.str(v) };
    b.count
        .cmp(&a.count)
        .then_with(|| a.category.cmp(&b.category))
        .then_with(|| t.str(a.state).cmp(t.str(b.state)))
        .then_with(|| site(a.site).cmp(&site(b.site)))
        .then_with(|| a.origin.cmp(&b.origin))
        .then_with(|| if by_label { label(a.extra).cmp(label(b.extra)) } else { std::cmp::Ordering::Equal })
        .then_with(|| a.role.cmp(&b.role))
        .then_with(|| {
            let (sa, sb) = (t.stacks.get(a.example), t.stacks.get(b.example));
            sa.iter().map(|&f| frame_strs(t, f)).cmp(sb.iter().map(|&f| frame_strs(t, f)))
        })
}

/// Reorders `items` so that item `i` is the one that was at `order[i]`, in place, one
/// cycle of the permutation at a time (`order` is spent: each entry set to its own index
/// once placed).
fn permute<T>(items: &mut [T], order: &mut [u32]) {
    for start in 0..items.len() {
        let mut i = start;
        while order[i] as usize != i {
            let j = order[i] as usize;
            order[i] = i as u32;
            if j == start {
                break;
            }
            items.swap(i, j);
            i = j;
        }
    }
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
        .filter(|a| a.count >= settings.min_count)
        .map(|a| {
            let site = if a.site != NONE {
                let fr = t.frame(a.site);
                (t.str(fr.function), t.str(fr.file), fr.line)
            } else {
                ("", "", 0)
            };
            let creator = if settings.keep_examples == 0 {
                None
            } else {
                a.creators()
                    .min_by(|x, y| y.1.cmp(&x.1).then_with(|| frame_order(t, x.0).cmp(&frame_order(t, y.0))))
                    .map(|(f, _)| t.function(f))
            };
            GroupFacts {
                count: a.count,
                category: a.category,
                state: t.str(a.state),
                site,
                origin: a.origin,
                orphaned: a.get(|r| r.orphaned),
                leaked: a.get(|r| r.leaked),
                max_wait: wait_minutes(&a).map(|[_, max]| max),
                creator,
                role: a.role,
                connections: a.get(|r| r.connections),
                requests: a.get(|r| r.requests),
            }
        })
        .collect()
}

/// Goroutines per group key, in order of first appearance, and how many passed the
/// filters.
fn accumulate(snap: &mut Snapshot, settings: &GroupSettings) -> (Vec<Acc>, u64) {
    let mut classifier = Classifier::new(snap, &settings.modules);
    let frames_complete = snap.format == crate::model::Format::Debug0;
    let alive = Alive::of(snap);
    let label_key = match &settings.by {
        GroupBy::Label(k) => snap.tables.strings.lookup(k),
        _ => None,
    };
    let by_creator = settings.by == GroupBy::Creator;
    let keep_ids = settings.keep_examples.max(5);
    let mut keep_stack: FxHashMap<StackId, bool> = FxHashMap::default();
    let mut other_states = OtherStates::default();
    let mut roles = RoleCache::default();
    // The profile request's connection has one background reader (HTTP/1): as many of
    // those as there are profile writers belong to the request, not to the clients.
    let mut request_readers: u64 =
        snap.goroutines.iter().filter(|g| roles.get(&snap.tables, g.stack).profile_writer).map(|g| g.count).sum();
    // Acc ids by key, the key read from the accumulator (4 bytes a group, issue 15).
    let mut index: HashTable<u32> = HashTable::new();
    let mut accs: Vec<Acc> = Vec::new();
    let mut shown = 0u64;
    // Where the key is a function of state and stack alone (site or stack grouping), each
    // stack remembers the last state met on it, the group that pair went to and the
    // stack's connection and request marks: the goroutines of a stack after its first then
    // skip the classifier, the role cache, the filters and the key lookup (issue 14: a
    // million goroutines over 18,000 stacks). 8 bytes a stack.
    let memoize = matches!(settings.by, GroupBy::Site | GroupBy::Stack);
    let mut memo: Vec<(u32, u32)> = if memoize { vec![(NONE, 0); snap.tables.stacks.len()] } else { Vec::new() };

    let goroutines = std::mem::take(&mut snap.goroutines);
    for g in &goroutines {
        // Whether the stack was met before with another state (only then is the
        // classifier's cache of pairs worth an entry).
        let mut seen = !memoize;
        if memoize {
            let (state, packed) = memo[g.stack as usize];
            seen = state != NONE;
            if state == g.state && seen {
                if packed == MEMO_FILTERED {
                    continue;
                }
                shown += g.count;
                let a = &mut accs[(packed & MEMO_SLOT) as usize];
                if packed & MEMO_CONNECTION != 0 {
                    a.rare.get_or_insert_default().connections += g.count;
                }
                if packed & MEMO_REQUEST != 0 {
                    a.rare.get_or_insert_default().requests += g.count;
                }
                add(a, g, &alive, keep_ids);
                continue;
            }
        }
        if (settings.focus.is_some() || settings.ignore.is_some())
            && !*keep_stack.entry(g.stack).or_insert_with(|| stack_passes(&snap.tables, g.stack, settings))
        {
            if memoize && g.state != NONE {
                memo[g.stack as usize] = (g.state, MEMO_FILTERED);
            }
            continue;
        }
        let sr = roles.get(&snap.tables, g.stack);
        // A background reader's goroutines are never memoized (their groups are split).
        let (category, state) = if seen || sr.background_reader {
            classifier.category(snap, g.state, g.stack, frames_complete)
        } else {
            classifier.category_once(snap, g, frames_complete)
        };
        if !settings.states.is_empty() {
            let st = snap.tables.str(state);
            if !settings.states.iter().any(|s| s == category.name() || s == st) {
                if memoize && g.state != NONE {
                    memo[g.stack as usize] = (g.state, MEMO_FILTERED);
                }
                continue;
            }
        }
        shown += g.count;
        let state = if category == Category::Other { other_states.fold(snap, state) } else { state };
        let site = classifier.site(snap, g.stack).unwrap_or(NONE);
        let extra = match &settings.by {
            GroupBy::Site => 0,
            GroupBy::Creator => g.creator,
            GroupBy::Stack => g.stack,
            GroupBy::Label(_) => label_key
                .and_then(|k| snap.tables.label_sets.get(g.labels).find(|(lk, _)| *lk == k).map(|(_, v)| v))
                .unwrap_or(NONE),
        };
        // A debug=0 record stands for many goroutines: split off the request's share.
        let mine = if sr.background_reader { request_readers.min(g.count) } else { 0 };
        request_readers -= mine;
        let split =
            [(mine, Some(Role::ProfileRequest), false, false), (g.count - mine, sr.role, sr.connection, sr.request)];
        for (n, role, conn, request) in split {
            if n == 0 {
                continue;
            }
            let key = if by_creator { (category, state, extra, 0, role) } else { (category, state, site, extra, role) };
            let hash = hash_key(&key);
            let entry = index.entry(
                hash,
                |&i| accs[i as usize].key(by_creator) == key,
                |&i| hash_key(&accs[i as usize].key(by_creator)),
            );
            let slot = match entry {
                Entry::Occupied(e) => *e.get(),
                Entry::Vacant(e) => {
                    let origin = (site != NONE).then(|| classifier.origin(&snap.tables, site));
                    e.insert(accs.len() as u32);
                    accs.push(Acc {
                        count: 0,
                        first_id: 0,
                        state,
                        site,
                        extra,
                        example: g.stack,
                        min_minutes: NONE,
                        max_minutes: 0,
                        creator: NONE,
                        labels: 0,
                        category,
                        origin,
                        role,
                        rare: None,
                    });
                    accs.len() as u32 - 1
                }
            };
            let a = &mut accs[slot as usize];
            if conn {
                a.rare.get_or_insert_default().connections += n;
            }
            if request {
                a.rare.get_or_insert_default().requests += n;
            }
            add(a, &Goroutine { count: n, ..*g }, &alive, keep_ids);
            if memoize && mine == 0 && !sr.background_reader && slot < MEMO_SLOT && g.state != NONE {
                let marks = if conn { MEMO_CONNECTION } else { 0 } | if request { MEMO_REQUEST } else { 0 };
                memo[g.stack as usize] = (g.state, slot | marks);
            }
        }
    }
    snap.goroutines = goroutines;
    (accs, shown)
}

/// How `accumulate`'s memo packs a group's slot with a stack's marks; all bits set: the
/// pair is filtered out (`--focus`, `--ignore`, `--state`).
const MEMO_CONNECTION: u32 = 1 << 31;
const MEMO_REQUEST: u32 = 1 << 30;
const MEMO_SLOT: u32 = MEMO_REQUEST - 1;
const MEMO_FILTERED: u32 = u32::MAX;

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
    // A wait of a minute or more sets the minimum too.
    if a.min_minutes == NONE {
        return h;
    }
    if let Some(r) = a.rare() {
        h[1..].copy_from_slice(&r.waits);
    }
    h[0] = a.count - h[1..].iter().sum::<u64>();
    h
}

/// `[min, max]` wait minutes of a group, where any were printed.
fn wait_minutes(a: &Acc) -> Option<[u32; 2]> {
    (a.max_minutes > 0 || (a.min_minutes != NONE && a.min_minutes > 0))
        .then_some([if a.min_minutes == NONE { 0 } else { a.min_minutes }, a.max_minutes])
}

/// The ids of a traceback's goroutines, asked whether a parent is still alive. The runtime
/// hands ids out in order, so they are dense: a bitmap over their range (one pass, no
/// hashing; at most 4 bytes a goroutine) where the range allows, a hash set where it does
/// not (ids far apart: issue 15's huge ids). A hash set of a million ids took 2.6% of the
/// wide 1M dump's time on one core and was a sixth of the serial work after a parallel
/// parse (issue 14).
enum Alive {
    /// Not asked: the format has no ids, or no goroutine names a parent.
    Unknown,
    Bits {
        min: u64,
        bits: Vec<u64>,
    },
    Set(FxHashSet<u64>),
}

impl Alive {
    fn of(snap: &Snapshot) -> Alive {
        let gs = &snap.goroutines;
        if !snap.format.is_traceback() || !gs.iter().any(|g| g.parent != 0) {
            return Alive::Unknown;
        }
        let (min, max) = gs.iter().fold((u64::MAX, 0), |(lo, hi), g| (lo.min(g.id), hi.max(g.id)));
        let span = max.saturating_sub(min);
        if span / 32 <= gs.len() as u64 {
            let mut bits = vec![0u64; (span / 64 + 1) as usize];
            for g in gs {
                let at = g.id - min;
                bits[(at / 64) as usize] |= 1 << (at % 64);
            }
            return Alive::Bits { min, bits };
        }
        // Sized once: a growing set briefly holds two tables (10 million headers, issue 15).
        let mut ids = FxHashSet::with_capacity_and_hasher(gs.len(), Default::default());
        ids.extend(gs.iter().map(|g| g.id));
        Alive::Set(ids)
    }

    /// Whether `parent` is known to be gone: asked, and not among the ids.
    fn gone(&self, parent: u64) -> bool {
        match self {
            Alive::Unknown => false,
            Alive::Bits { min, bits } => {
                let Some(at) = parent.checked_sub(*min) else { return true };
                bits.get((at / 64) as usize).is_none_or(|w| w & (1 << (at % 64)) == 0)
            }
            Alive::Set(ids) => !ids.contains(&parent),
        }
    }
}

fn add(a: &mut Acc, g: &Goroutine, alive: &Alive, keep_ids: usize) {
    let before = a.count;
    a.count += g.count;
    if let Some(m) = g.minutes() {
        a.min_minutes = a.min_minutes.min(m);
        a.max_minutes = a.max_minutes.max(m);
        if m > 0 {
            a.rare.get_or_insert_default().waits[wait_bucket(m) - 1] += g.count;
        }
    } else if g.id != 0 {
        // A goroutine without the annotation waited under a minute (or was not yet seen
        // by a GC): the group's minimum is 0.
        a.min_minutes = 0;
    }
    if g.has(flags::LOCKED) {
        a.rare.get_or_insert_default().locked += g.count;
    }
    if g.has(flags::LEAKED) {
        a.rare.get_or_insert_default().leaked += g.count;
    }
    if g.parent != 0 && alive.gone(g.parent) {
        a.rare.get_or_insert_default().orphaned += g.count;
    }
    if g.creator != a.creator || a.rare.is_some() {
        Spill::add(&mut a.rare, |r| &mut r.creators, &mut a.creator, NONE, before, g.creator(), g.count);
    }
    if g.labels != a.labels || a.rare.is_some() {
        let labels = (g.labels != 0).then_some(g.labels);
        Spill::add(&mut a.rare, |r| &mut r.labels, &mut a.labels, 0, before, labels, g.count);
    }
    if g.id != 0 {
        a.add_id(g.id, keep_ids);
    }
}

fn resolve(t: &Tables, a: &Acc, settings: &GroupSettings, stack: bool, with_site: bool, with_labels: bool) -> Group {
    let extra = a.extra;
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
    let creators: Vec<CreatorCount> = top_k(a.creators(), settings.keep_examples, |x, y| {
        y.1.cmp(&x.1).then_with(|| frame_order(t, x.0).cmp(&frame_order(t, y.0)))
    })
    .into_iter()
    .map(|(f, n)| CreatorCount { site: Site::of(t, f), count: n })
    .collect();
    let distinct = a.distinct_label_sets() as u64;
    let label_sets = if with_labels { a.label_sets() } else { TallyIter::One(None) };
    let labels: Vec<LabelCount> =
        top_k(label_sets, settings.keep_examples, |x, y| y.1.cmp(&x.1).then_with(|| t.cmp_label_sets(x.0, y.0)))
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
        connections: a.get(|r| r.connections),
        requests: a.get(|r| r.requests),
        wait_minutes: wait,
        locked_to_thread: a.get(|r| r.locked),
        leaked: a.get(|r| r.leaked),
        orphaned: a.get(|r| r.orphaned),
        creators,
        labels,
        distinct_label_sets: distinct,
        goroutine_ids: a.ids(),
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
    use super::*;

    fn empty_acc() -> Acc {
        Acc {
            count: 0,
            first_id: 0,
            state: 0,
            site: NONE,
            extra: 0,
            example: 0,
            min_minutes: NONE,
            max_minutes: 0,
            creator: NONE,
            labels: 0,
            category: Category::Select,
            origin: None,
            role: None,
            rare: None,
        }
    }

    fn sorted<K: Ord>(mut v: Vec<(K, u64)>) -> Vec<(K, u64)> {
        v.sort();
        v
    }

    /// Keys in increasing order go to the run, the others to the map; either way every
    /// key is counted once with its whole count.
    #[test]
    fn counts_hold_keys_in_any_order() {
        let keys: Vec<u32> = vec![5, 7, 3, 7, 9, 4, 5, 3, 10, 1, 9, 12, 4, 2, 12, 11, 0, 6];
        let mut counts = Counts::one(keys[0], 1);
        let mut expected: std::collections::BTreeMap<u32, u64> = [(keys[0], 1)].into();
        for (i, &k) in keys.iter().enumerate().skip(1) {
            counts.add(k, i as u64);
            *expected.entry(k).or_default() += i as u64;
        }
        assert!(counts.run.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(!counts.rest.is_empty());
        let tallied = TallyIter::Many(counts.run.iter(), counts.rest.iter());
        assert_eq!(tallied.len(), expected.len());
        let mut got: Vec<(u32, u64)> = tallied.collect();
        got.sort();
        assert_eq!(got, expected.into_iter().collect::<Vec<_>>());
    }

    /// The compact tallies (first key inline, its count implied, a map from the second
    /// key) count exactly what a plain map counts, for any order of goroutines with and
    /// without a creator or a label set; the ids kept are the lowest few (issue 15).
    #[test]
    fn compact_accumulator_counts_as_a_map_does() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let none = Alive::Unknown;
        for round in 0..400 {
            let mut a = empty_acc();
            let (mut creators, mut labels) = (FxHashMap::default(), FxHashMap::default());
            let mut ids = Vec::new();
            // Few distinct keys, so that groups of one key, of two and of many all occur.
            let kinds = 1 + round % 4;
            for _ in 0..(1 + next(12)) {
                let creator = if next(3) == 0 { NONE } else { 10 + next(kinds) as u32 };
                let label = if next(3) == 0 { 0 } else { 20 + next(kinds) as u32 };
                let count = 1 + next(3);
                let id = if round % 2 == 0 { 1 + next(1000) } else { 0 };
                let g = Goroutine { id, creator, ..Goroutine::counted(count, 0, label) };
                add(&mut a, &g, &none, 5);
                if creator != NONE {
                    *creators.entry(creator).or_insert(0u64) += count;
                }
                if label != 0 {
                    *labels.entry(label).or_insert(0u64) += count;
                }
                if id != 0 {
                    ids.push(id);
                }
            }
            assert_eq!(sorted(a.creators().collect()), sorted(creators.into_iter().collect()), "round {round}");
            assert_eq!(sorted(a.label_sets().collect()), sorted(labels.into_iter().collect()), "round {round}");
            ids.sort_unstable();
            ids.truncate(5);
            assert_eq!(a.ids(), ids, "round {round}");
        }
    }

    /// Sorting a permutation and applying it in place gives the stable sort's order.
    /// Dense ids take the bitmap, ids far apart the hash set; both answer alike, at the
    /// edges of the range too.
    #[test]
    fn alive_ids_as_bitmap_and_as_set() {
        let snap_of = |ids: &[u64]| {
            let mut snap = Snapshot::new("t", crate::model::Format::Debug2, crate::model::ProfileKind::Goroutine);
            snap.goroutines =
                ids.iter().map(|&id| Goroutine { id, parent: 1, ..Goroutine::counted(1, 0, 0) }).collect();
            snap
        };
        let dense: Vec<u64> = (100..1100).filter(|i| i % 3 != 0).collect();
        let sparse: Vec<u64> = (1..500u64).map(|i| i * 1_000_003 + u64::MAX / 2).collect();
        for (ids, bits) in [(&dense, true), (&sparse, false)] {
            let alive = Alive::of(&snap_of(ids));
            assert_eq!(matches!(alive, Alive::Bits { .. }), bits);
            let probes = ids.iter().flat_map(|&i| [i - 1, i, i + 1]).chain([0, 1, u64::MAX, ids[0] - 64, ids[0] + 64]);
            for p in probes {
                assert_eq!(alive.gone(p), !ids.contains(&p), "{p}");
            }
        }
        // No parent named, or a format without ids: nothing is asked.
        let mut snap = snap_of(&dense);
        snap.goroutines.iter_mut().for_each(|g| g.parent = 0);
        assert!(matches!(Alive::of(&snap), Alive::Unknown));
        assert!(!Alive::Unknown.gone(12345));
    }

    #[test]
    fn permutation_sort_is_the_stable_sort() {
        let items: Vec<(u32, u32)> = (0..1000u32).map(|i| (i * 7919 % 17, i)).collect();
        let mut stable = items.clone();
        stable.sort_by_key(|x| x.0);
        let mut order: Vec<u32> = (0..items.len() as u32).collect();
        order.sort_unstable_by(|&x, &y| items[x as usize].0.cmp(&items[y as usize].0).then(x.cmp(&y)));
        let mut permuted = items.clone();
        permute(&mut permuted, &mut order);
        assert_eq!(permuted, stable);
    }

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
