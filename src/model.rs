//! The snapshot model every parser produces and every later stage reads.
//!
//! A [`Snapshot`] is one dump or profile: its goroutines (or counted stacks) and the
//! tables that intern function names, files, frames, stacks and label sets as `u32` ids,
//! so that classification and grouping compare integers, never strings. This module owns
//! no I/O and knows nothing about formats.

use hashbrown::hash_table::{Entry, HashTable};
use rustc_hash::{FxHashMap, FxHasher};
use serde::Serialize;
use std::fmt;
use std::hash::Hash;
use std::hash::Hasher;

/// An interned string (function name, file path, wait state, label key or value).
pub type Sym = u32;
/// An interned frame: function, file, line.
pub type FrameId = u32;
/// An interned stack: frames from the leaf outwards.
pub type StackId = u32;
/// An interned label set; [`NO_LABELS`] is the empty set.
pub type LabelSetId = u32;

pub const NO_LABELS: LabelSetId = 0;
/// Marks an absent optional id in the compact [`Goroutine`] record.
pub const NONE: u32 = u32::MAX;

/// Which input format a snapshot was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// `?debug=2` full tracebacks (also `runtime.Stack`).
    Debug2,
    /// `?debug=1` counted stacks with symbols.
    Debug1,
    /// `?debug=0` pprof protobuf (gzipped or raw).
    Debug0,
    /// Panic or fatal error output.
    Panic,
    /// SIGQUIT (or other fatal signal) output.
    Sigquit,
    /// A dump found among ordinary log lines.
    Log,
}

impl Format {
    pub const ALL: [Format; 6] =
        [Format::Debug2, Format::Debug1, Format::Debug0, Format::Panic, Format::Sigquit, Format::Log];

    pub fn name(self) -> &'static str {
        match self {
            Format::Debug2 => "debug2",
            Format::Debug1 => "debug1",
            Format::Debug0 => "debug0",
            Format::Panic => "panic",
            Format::Sigquit => "sigquit",
            Format::Log => "log",
        }
    }

    pub fn from_name(s: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name() == s)
    }

    /// True for formats that print one traceback per goroutine (ids, wait states, creators).
    pub fn is_traceback(self) -> bool {
        !matches!(self, Format::Debug1 | Format::Debug0)
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which runtime profile the data came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProfileKind {
    Goroutine,
    Goroutineleak,
}

impl ProfileKind {
    pub fn name(self) -> &'static str {
        match self {
            ProfileKind::Goroutine => "goroutine",
            ProfileKind::Goroutineleak => "goroutineleak",
        }
    }
}

/// One frame of a stack, by interned ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Frame {
    pub function: Sym,
    pub file: Sym,
    pub line: u32,
}

/// Header flags of a goroutine (bit set).
pub mod flags {
    pub const LOCKED: u8 = 1;
    pub const LEAKED: u8 = 2;
    pub const SCAN: u8 = 4;
    pub const DURABLE: u8 = 8;
    /// The goroutine's frames ended early (elided, cut, or unavailable).
    pub const PARTIAL: u8 = 16;
}

/// One goroutine of a traceback, or one counted record of a profile. Kept compact
/// (48 bytes): a million of them must fit comfortably.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Goroutine {
    /// Goroutine id; 0 where the format has none.
    pub id: u64,
    /// Id of the goroutine that created this one; 0 when not printed.
    pub parent: u64,
    /// How many goroutines this record stands for (1 in tracebacks).
    pub count: u64,
    /// Wait state as printed (annotations removed), or as implied by frames; a [`Sym`].
    pub state: Sym,
    pub stack: StackId,
    /// `created by` frame, or [`NONE`].
    pub creator: FrameId,
    pub labels: LabelSetId,
    /// `, N minutes` from the header, or [`NONE`].
    pub minutes: u32,
    pub flags: u8,
}

impl Goroutine {
    /// A record of `count` goroutines on `stack` with `labels`, nothing else known (the
    /// profile formats; tracebacks fill in the rest).
    pub fn counted(count: u64, stack: StackId, labels: LabelSetId) -> Goroutine {
        Goroutine { id: 0, parent: 0, count, state: 0, stack, creator: NONE, labels, minutes: NONE, flags: 0 }
    }
    pub fn minutes(&self) -> Option<u32> {
        (self.minutes != NONE).then_some(self.minutes)
    }
    pub fn creator(&self) -> Option<FrameId> {
        (self.creator != NONE).then_some(self.creator)
    }
    pub fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }
}

/// Interns values of type `K` as dense `u32` ids, keeping them in insertion order.
#[derive(Debug, Clone)]
pub struct Table<K: Hash + Eq + Clone> {
    /// Ids, found by their value's hash (hashed again when the table grows): 4 bytes an
    /// entry beside the value, where a map from value to id held the value twice (issue
    /// 15: a dump of distinct frame lines).
    index: HashTable<u32>,
    items: Vec<K>,
}

impl<K: Hash + Eq + Clone> Default for Table<K> {
    fn default() -> Self {
        Table { index: HashTable::new(), items: Vec::new() }
    }
}

fn hash_one<K: Hash>(k: &K) -> u64 {
    let mut h = FxHasher::default();
    k.hash(&mut h);
    h.finish()
}

impl<K: Hash + Eq + Clone> Table<K> {
    pub fn intern(&mut self, key: K) -> u32 {
        let Table { index, items } = self;
        match index.entry(hash_one(&key), |&id| items[id as usize] == key, |&id| hash_one(&items[id as usize])) {
            Entry::Occupied(e) => *e.get(),
            Entry::Vacant(e) => {
                let id = items.len() as u32;
                e.insert(id);
                items.push(key);
                id
            }
        }
    }
    pub fn get(&self, id: u32) -> &K {
        &self.items[id as usize]
    }
    /// About the heap bytes held (index at its usual load).
    pub fn heap_bytes(&self) -> usize {
        self.items.len() * (std::mem::size_of::<K>() + 8)
    }
    pub fn len(&self) -> usize {
        self.items.len()
    }
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// Interns slices of `T` in one flat arena: each distinct slice is stored once, with no
/// allocation per entry (a profile with a unique label per goroutine interns a million
/// strings; two heap objects each made allocation and freeing the largest cost).
#[derive(Debug, Clone)]
pub struct SliceTable<T> {
    /// Ids, found by their slice's hash. The hash is not kept: growing hashes each slice
    /// again, which costs time only when the table grows, while keeping it cost 4 bytes an
    /// entry (issue 15: every byte per entry counts against a dump of distinct values).
    index: HashTable<u32>,
    /// The low 32 bits of where each id's slice ends in `data`; it starts where the
    /// previous id's ends (ids are appended in order), so an entry costs 4 bytes, not 16.
    ends: Vec<u32>,
    /// The ids whose end passed a multiple of 2^32 (one per multiple passed), in order:
    /// empty unless `data` outgrows 4 Gi elements.
    wraps: Vec<u32>,
    data: Vec<T>,
}

impl<T> Default for SliceTable<T> {
    fn default() -> Self {
        SliceTable { index: HashTable::new(), ends: Vec::new(), wraps: Vec::new(), data: Vec::new() }
    }
}

/// Slots of a growing [`SliceTable`] index filled together: 16 KiB of ids and 4 KiB of
/// their tags, well within the L2 cache beside what else a parse holds there.
const GROW_REGION_SLOTS: usize = 4096;

/// A slice's hash, folded to 32 bits and spread over 64 (the table takes its bucket from
/// the low bits and a tag from the high ones).
#[inline]
fn hash_slice<T: Hash>(s: &[T]) -> u64 {
    let mut h = FxHasher::default();
    s.hash(&mut h);
    let h = h.finish();
    spread((h >> 32) as u32 ^ h as u32)
}

/// A 32-bit hash as [`hash_slice`] gives it.
#[inline(always)]
fn spread(h32: u32) -> u64 {
    (h32 as u64) << 32 | h32 as u64
}

/// Where id `id`'s slice ends in `data`.
#[inline(always)]
fn end(ends: &[u32], wraps: &[u32], id: usize) -> usize {
    let low = ends[id] as u64;
    if wraps.is_empty() {
        return low as usize;
    }
    let high = wraps.partition_point(|&w| w as usize <= id) as u64;
    (high << 32 | low) as usize
}

/// The range of `data` id `id` occupies, from the ends of the ids.
#[inline(always)]
fn span(ends: &[u32], wraps: &[u32], id: u32) -> std::ops::Range<usize> {
    let id = id as usize;
    (if id == 0 { 0 } else { end(ends, wraps, id - 1) })..end(ends, wraps, id)
}

impl<T: Copy + Eq + Hash> SliceTable<T> {
    /// Inlined into its callers: where it was not (the code generator's choice, which moved
    /// with unrelated edits), the wide 100k dump cost 27M instructions more (issue 14).
    #[inline]
    pub fn intern(&mut self, s: &[T]) -> u32 {
        if self.index.len() == self.index.capacity() {
            self.grow();
        }
        let SliceTable { index, ends, wraps, data } = self;
        let eq = |&id: &u32| &data[span(ends, wraps, id)] == s;
        match index.entry(hash_slice(s), eq, |&id| hash_slice(&data[span(ends, wraps, id)])) {
            Entry::Occupied(e) => *e.get(),
            Entry::Vacant(e) => {
                let id = ends.len() as u32;
                e.insert(id);
                data.extend_from_slice(s);
                let n = data.len() as u64;
                while (n >> 32) as usize > wraps.len() {
                    wraps.push(id);
                }
                ends.push(n as u32);
                id
            }
        }
    }
    /// Doubles the index. The slices are hashed again in id order, so they stream from
    /// memory: the table's own growth hashed them in the order of its slots, reading
    /// `ends` and `data` at random, and with a million distinct strings most of the time of
    /// a dump went there (issue 15's linear-time test: a dump twice the size took 3.3x the
    /// time). A large index is then filled one region after another, not at random: the
    /// entries are first sorted by the region of the new index their slot is in (a
    /// counting sort on the slot's high bits), so that the writes of each region stay in
    /// the cache ([`GROW_REGION_SLOTS`]). The old index is dropped first.
    #[cold]
    #[inline(never)]
    fn grow(&mut self) {
        let SliceTable { index, ends, wraps, data } = self;
        let hash = |id: u32| hash_slice(&data[span(ends, wraps, id)]);
        let capacity = (index.capacity() * 2).max(16);
        *index = HashTable::new();
        let mut grown = HashTable::with_capacity(capacity);
        let n = ends.len() as u32;
        // The slot an entry starts probing at is its hash's low bits under the index's
        // mask; its region, the high ones of those. Only speed depends on this.
        let slots = (grown.capacity() / 7 * 8).next_power_of_two();
        let regions = slots / GROW_REGION_SLOTS;
        if regions < 2 {
            for id in 0..n {
                grown.insert_unique(hash(id), id, |&id| hash(id));
            }
            *index = grown;
            return;
        }
        let region = |h: u64| (h as usize & (slots - 1)) / GROW_REGION_SLOTS;
        // In two halves, each sorted and then inserted in one sweep of the index: the
        // scratch takes 4 bytes an entry, less than the dropped index held (5.7 at the
        // 7/8 load it grows at), so the peak does not rise. Each half is hashed twice
        // rather than its hashes kept, which would cost 4 bytes an entry more.
        let half = n.div_ceil(2);
        let mut starts = vec![0u32; regions + 1];
        let mut sorted = vec![(0u32, 0u32); half as usize];
        for ids in [0..half, half..n] {
            starts.fill(0);
            for id in ids.clone() {
                starts[region(hash(id)) + 1] += 1;
            }
            for r in 1..=regions {
                starts[r] += starts[r - 1];
            }
            for id in ids.clone() {
                let h = hash(id);
                let at = &mut starts[region(h)];
                sorted[*at as usize] = (h as u32, id);
                *at += 1;
            }
            for &(h, id) in &sorted[..ids.len()] {
                grown.insert_unique(spread(h), id, |&id| hash(id));
            }
        }
        *index = grown;
    }
    /// Room for `entries` more slices of `items` elements in all, so that a table whose
    /// size is known ahead grows in one step.
    pub fn reserve(&mut self, entries: usize, items: usize) {
        let SliceTable { index, ends, wraps, data } = self;
        index.reserve(entries, |&id| hash_slice(&data[span(ends, wraps, id)]));
        ends.reserve(entries);
        data.reserve(items);
    }
    pub fn lookup(&self, s: &[T]) -> Option<u32> {
        self.index.find(hash_slice(s), |&id| self.get(id) == s).copied()
    }
    /// Looks `s` up only to bring its part of the index into the cache. Lookups of
    /// several slices in a row, with nothing else between them, wait on their cache
    /// misses together; interning the same slices just after finds them warm.
    #[inline]
    pub fn warm(&self, s: &[T]) {
        std::hint::black_box(self.lookup(s));
    }
    #[inline(always)]
    pub fn get(&self, id: u32) -> &[T] {
        &self.data[span(&self.ends, &self.wraps, id)]
    }
    pub fn len(&self) -> usize {
        self.ends.len()
    }
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
    /// Elements of all slices together.
    pub fn items(&self) -> usize {
        self.data.len()
    }
    /// About the heap bytes held (index at its usual load).
    pub fn heap_bytes(&self) -> usize {
        self.data.len() * std::mem::size_of::<T>() + self.ends.len() * 12
    }
}

/// String interner keyed by bytes, so parsers can look up slices of the input without
/// allocating. Strings are shown as UTF-8: the few that are not valid keep a lossy copy
/// beside the original bytes, which stay the key.
#[derive(Debug, Clone, Default)]
pub struct Strings {
    raw: SliceTable<u8>,
    lossy: FxHashMap<Sym, Box<str>>,
}

impl Strings {
    pub fn intern(&mut self, bytes: &[u8]) -> Sym {
        let n = self.raw.len();
        let id = self.raw.intern(bytes);
        if id as usize == n && std::str::from_utf8(bytes).is_err() {
            self.lossy.insert(id, String::from_utf8_lossy(bytes).into());
        }
        id
    }
    /// [`Strings::intern`] of text known to be UTF-8, which needs no check.
    pub fn intern_str(&mut self, s: &str) -> Sym {
        self.raw.intern(s.as_bytes())
    }
    /// Room for `entries` more strings of `bytes` bytes in all.
    pub fn reserve(&mut self, entries: usize, bytes: usize) {
        self.raw.reserve(entries, bytes);
    }
    /// See [`SliceTable::warm`].
    #[inline]
    pub fn warm(&self, bytes: &[u8]) {
        self.raw.warm(bytes);
    }
    pub fn get(&self, id: Sym) -> &str {
        if !self.lossy.is_empty() {
            if let Some(s) = self.lossy.get(&id) {
                return s;
            }
        }
        let raw = self.raw.get(id);
        debug_assert!(std::str::from_utf8(raw).is_ok());
        // SAFETY: every string was checked when it was interned (`intern`), or came as a
        // `&str` (`intern_str`); those that are not UTF-8 have an entry in `lossy`, taken
        // above. Checking again on every read was 4% of `show` on a dump of 20k call sites.
        unsafe { std::str::from_utf8_unchecked(raw) }
    }
    pub fn lookup(&self, s: &str) -> Option<Sym> {
        self.raw.lookup(s.as_bytes())
    }
    /// The bytes an id was interned from. What [`Strings::get`] shows is lossy UTF-8;
    /// merging uses the original bytes so ids split exactly as one pass would, and
    /// ordering uses them since it is cheaper and the same for valid UTF-8.
    pub fn raw(&self, id: Sym) -> &[u8] {
        self.raw.get(id)
    }
    pub fn len(&self) -> usize {
        self.raw.len()
    }
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }
}

/// Stacks: slices of frame ids, from the leaf outwards.
pub type Stacks = SliceTable<FrameId>;

/// Label sets, each kept as the id of its list of keys followed by its values: the sets of
/// a dump share a few key lists, so a pair costs 4 bytes, not 8 (issue 15: 100 labels of
/// distinct values per goroutine, ~17 bytes of input a pair).
#[derive(Debug, Clone, Default)]
pub struct LabelSets {
    keys: SliceTable<Sym>,
    /// Per set: its key list's id, then its values in the keys' order.
    sets: SliceTable<Sym>,
    /// The key list of the last set interned (sets of one dump mostly share it).
    last_keys: Option<u32>,
    scratch: Vec<Sym>,
}

impl LabelSets {
    /// Interns a set given as (key, value) pairs in their final order.
    pub fn intern(&mut self, pairs: &[(Sym, Sym)]) -> LabelSetId {
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        self.encode(pairs, &mut scratch);
        let id = self.sets.intern(&scratch);
        self.scratch = scratch;
        id
    }
    /// Appends the form a set of (key, value) pairs in their final order is kept in (its
    /// key list's id, then its values), interning the key list: [`LabelSets::intern_encoded`]
    /// interns it later, so that a batch of sets can be [warmed](LabelSets::warm) first.
    pub fn encode(&mut self, pairs: &[(Sym, Sym)], out: &mut Vec<Sym>) {
        let LabelSets { keys, last_keys, .. } = self;
        let same = last_keys.is_some_and(|k| {
            let ks = keys.get(k);
            ks.len() == pairs.len() && ks.iter().zip(pairs).all(|(a, p)| *a == p.0)
        });
        let kid = match *last_keys {
            Some(k) if same => k,
            _ => {
                // The key list, written past the end of `out` only to be interned.
                let start = out.len();
                out.extend(pairs.iter().map(|p| p.0));
                let kid = keys.intern(&out[start..]);
                out.truncate(start);
                kid
            }
        };
        *last_keys = Some(kid);
        out.push(kid);
        out.extend(pairs.iter().map(|p| p.1));
    }
    /// Interns a set [encoded](LabelSets::encode) before.
    #[inline]
    pub fn intern_encoded(&mut self, set: &[Sym]) -> LabelSetId {
        self.sets.intern(set)
    }
    /// See [`SliceTable::warm`]; `set` as [`LabelSets::encode`] gives it.
    #[inline]
    pub fn warm(&self, set: &[Sym]) {
        self.sets.warm(set);
    }
    /// The (key, value) pairs of a set.
    pub fn get(&self, id: LabelSetId) -> impl ExactSizeIterator<Item = (Sym, Sym)> + Clone + '_ {
        let (_, keys, values) = self.parts(id);
        keys.iter().copied().zip(values.iter().copied())
    }
    /// A set's key list id, keys and values.
    #[inline]
    fn parts(&self, id: LabelSetId) -> (u32, &[Sym], &[Sym]) {
        let (kid, values) = self.sets.get(id).split_first().map_or((0, &[][..]), |(k, v)| (*k, v));
        let keys = if self.keys.is_empty() { &[][..] } else { self.keys.get(kid) };
        (kid, keys, values)
    }
    pub fn len(&self) -> usize {
        self.sets.len()
    }
    pub fn is_empty(&self) -> bool {
        self.sets.is_empty()
    }
    /// Room for `entries` more sets of `pairs` pairs in all.
    pub fn reserve(&mut self, entries: usize, pairs: usize) {
        self.sets.reserve(entries, entries + pairs);
    }
    /// About the heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.keys.heap_bytes() + self.sets.heap_bytes()
    }
    /// Pairs of all sets together (an upper bound: key-list ids included).
    pub fn items(&self) -> usize {
        self.sets.items()
    }
}

/// Everything a snapshot interns. Ids are only meaningful within one snapshot; later
/// stages that span snapshots (diff, trend) compare resolved strings.
#[derive(Debug, Clone, Default)]
pub struct Tables {
    pub strings: Strings,
    pub frames: Table<Frame>,
    pub stacks: Stacks,
    /// Label sets: (key, value) pairs sorted by key, then value. Id 0 is the empty set.
    pub label_sets: LabelSets,
    /// The keys of the last label set found in strictly increasing order: a set with the
    /// same keys in the same order is sorted too, without comparing strings.
    sorted_keys: Vec<Sym>,
}

impl Tables {
    /// About the heap bytes the tables hold.
    pub fn heap_bytes(&self) -> usize {
        self.strings.raw.heap_bytes()
            + self.frames.heap_bytes()
            + self.stacks.heap_bytes()
            + self.label_sets.heap_bytes()
    }
    pub fn new() -> Self {
        let mut t = Tables::default();
        t.strings.intern(b"");
        t.label_sets.intern(&[]);
        t
    }

    /// Interns everything `other` holds into `self`, in `other`'s id order, and returns
    /// how `other`'s ids map to `self`'s. Merging the tables of consecutive chunks this
    /// way gives the very ids one pass over the whole input would have given, since a
    /// table's order is the order of first appearance.
    pub fn absorb(&mut self, other: &Tables) -> Remap {
        // Grown once to what both may need, not by doubling while both are alive (issue 15).
        self.strings.reserve(other.strings.len(), other.strings.raw.items());
        self.stacks.reserve(other.stacks.len(), other.stacks.items());
        self.label_sets.reserve(other.label_sets.len(), other.label_sets.items());
        let strings: Vec<Sym> =
            (0..other.strings.len() as Sym).map(|id| self.strings.intern(other.strings.raw(id))).collect();
        let frames: Vec<FrameId> = other
            .frames
            .items
            .iter()
            .map(|f| {
                let f = Frame { function: strings[f.function as usize], file: strings[f.file as usize], line: f.line };
                self.frames.intern(f)
            })
            .collect();
        let mut buf = Vec::new();
        let stacks: Vec<StackId> = (0..other.stacks.len() as StackId)
            .map(|id| {
                buf.clear();
                buf.extend(other.stacks.get(id).iter().map(|&f| frames[f as usize]));
                self.stacks.intern(&buf)
            })
            .collect();
        // Pairs keep their order: it is by the strings, which are the same.
        let label_sets: Vec<LabelSetId> = (0..other.label_sets.len() as LabelSetId)
            .map(|id| {
                let pairs: Vec<(Sym, Sym)> =
                    other.label_sets.get(id).map(|(k, v)| (strings[k as usize], strings[v as usize])).collect();
                self.label_sets.intern(&pairs)
            })
            .collect();
        Remap { strings, frames, stacks, label_sets }
    }

    pub fn frame(&self, id: FrameId) -> &Frame {
        self.frames.get(id)
    }
    pub fn function(&self, id: FrameId) -> &str {
        self.strings.get(self.frames.get(id).function)
    }
    pub fn str(&self, id: Sym) -> &str {
        self.strings.get(id)
    }
    /// Orders two strings by their bytes (as `str` does for valid UTF-8), without
    /// resolving them to `str`.
    pub fn cmp_strings(&self, a: Sym, b: Sym) -> std::cmp::Ordering {
        if a == b {
            return std::cmp::Ordering::Equal;
        }
        self.strings.raw(a).cmp(self.strings.raw(b))
    }
    /// Orders two label sets as their (key, value) string pairs would order.
    pub fn cmp_label_sets(&self, a: LabelSetId, b: LabelSetId) -> std::cmp::Ordering {
        if a == b {
            return std::cmp::Ordering::Equal;
        }
        let (sa, sb) = (self.label_sets.sets.get(a), self.label_sets.sets.get(b));
        if sa.first() == sb.first() {
            // One key list (the usual case): only the values can differ.
            let values = sa.iter().zip(sb).skip(1);
            return values
                .map(|(&x, &y)| self.cmp_strings(x, y))
                .find(|o| o.is_ne())
                .unwrap_or(std::cmp::Ordering::Equal);
        }
        let ((_, keys_a, va), (_, keys_b, vb)) = (self.label_sets.parts(a), self.label_sets.parts(b));
        keys_a
            .iter()
            .zip(va)
            .zip(keys_b.iter().zip(vb))
            .map(|((&xk, &xv), (&yk, &yv))| self.cmp_strings(xk, yk).then_with(|| self.cmp_strings(xv, yv)))
            .find(|o| o.is_ne())
            .unwrap_or(keys_a.len().cmp(&keys_b.len()))
    }
    pub fn labels(&self, id: LabelSetId) -> impl Iterator<Item = (&str, &str)> {
        self.label_sets.get(id).map(|(k, v)| (self.str(k), self.str(v)))
    }
    /// Interns a label set given as (key, value) pairs in any order; `pairs` is left
    /// sorted, and can be cleared and reused for the next set.
    pub fn intern_labels(&mut self, pairs: &mut Vec<(Sym, Sym)>) -> LabelSetId {
        if pairs.is_empty() {
            return NO_LABELS;
        }
        self.sort_labels(pairs);
        self.label_sets.intern(pairs)
    }
    /// [`Tables::intern_labels`] in two steps, for a caller that warms a batch of sets
    /// before interning them: this appends a non-empty set's encoded form to `out`
    /// (see [`LabelSets::encode`]); `label_sets.intern_encoded` interns it.
    pub fn encode_labels(&mut self, pairs: &mut Vec<(Sym, Sym)>, out: &mut Vec<Sym>) {
        debug_assert!(!pairs.is_empty());
        self.sort_labels(pairs);
        self.label_sets.encode(pairs, out);
    }
    /// Sorts a set's pairs by their strings and drops repeated pairs.
    fn sort_labels(&mut self, pairs: &mut Vec<(Sym, Sym)>) {
        // Profiles repeat one key set over many records, printed sorted by key.
        let same_keys =
            pairs.len() == self.sorted_keys.len() && pairs.iter().zip(&self.sorted_keys).all(|(p, &k)| p.0 == k);
        if !same_keys {
            let by_strings =
                |a: &(Sym, Sym), b: &(Sym, Sym)| self.cmp_strings(a.0, b.0).then_with(|| self.cmp_strings(a.1, b.1));
            if !pairs.is_sorted_by(|a, b| by_strings(a, b).is_lt()) {
                pairs.sort_unstable_by(by_strings);
                pairs.dedup();
            }
            if pairs.windows(2).all(|w| w[0].0 != w[1].0) {
                self.sorted_keys.clear();
                self.sorted_keys.extend(pairs.iter().map(|p| p.0));
            }
        }
    }
}

/// How the ids of one [`Tables`] map into another, from [`Tables::absorb`].
pub struct Remap {
    strings: Vec<Sym>,
    frames: Vec<FrameId>,
    stacks: Vec<StackId>,
    label_sets: Vec<LabelSetId>,
}

impl Remap {
    /// The goroutine with its ids rewritten.
    pub fn goroutine(&self, g: &Goroutine) -> Goroutine {
        Goroutine {
            state: self.strings[g.state as usize],
            stack: self.stacks[g.stack as usize],
            creator: if g.creator == NONE { NONE } else { self.frames[g.creator as usize] },
            labels: self.label_sets[g.labels as usize],
            ..*g
        }
    }
}

/// Appends `src`, each record mapped by `f`, to `dst`, handing `src`'s memory back as it
/// goes, so the records are never held twice over (merging the pieces of a parallel parse
/// otherwise peaked at 1.5x the records: 10 million frameless headers, issue 15). `src` is
/// reversed once and eaten from its end a block at a time; shrinking a vector in place
/// returns its tail pages (glibc's `realloc` shrinks without moving).
pub fn append_draining(dst: &mut Vec<Goroutine>, mut src: Vec<Goroutine>, f: impl Fn(&Goroutine) -> Goroutine) {
    /// 3 MiB of records: few enough reallocations, little held twice.
    const BLOCK: usize = 1 << 16;
    dst.reserve_exact(src.len());
    if src.len() <= BLOCK {
        dst.extend(src.iter().map(f));
        return;
    }
    src.reverse();
    while !src.is_empty() {
        let from = src.len().saturating_sub(BLOCK);
        dst.extend(src[from..].iter().rev().map(&f));
        src.truncate(from);
        src.shrink_to_fit();
    }
}

/// One goroutine dump or profile.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// Where it came from: a path, `-` for stdin, or a URL without credentials.
    pub source: String,
    pub format: Format,
    pub profile: ProfileKind,
    /// Capture time in Unix nanoseconds, where the input says (pprof `time_nanos`, a log
    /// timestamp, or the file's modification time as a fallback filled in by the caller).
    pub time_nanos: Option<i64>,
    /// A log time without a year (syslog, klog), as nanoseconds into its year; the caller
    /// that knows the file's modification time turns it into `time_nanos`.
    pub time_in_year: Option<i64>,
    pub goroutines: Vec<Goroutine>,
    pub tables: Tables,
    /// The first line of a panic / fatal error / signal preamble.
    pub preamble: Option<String>,
    /// Goroutines that could not be read and were left out.
    pub skipped: u64,
    /// The input ended in the middle of a goroutine (debug=2 is cut at 64 MiB).
    pub truncated: bool,
    /// `total` as the profile itself declares it (debug=1 header), if any.
    pub declared_total: Option<u64>,
    /// Notes for the user (one line each): truncation, skipped records, limits.
    pub notes: Vec<String>,
}

impl Snapshot {
    pub fn new(source: &str, format: Format, profile: ProfileKind) -> Self {
        Snapshot {
            source: source.to_string(),
            format,
            profile,
            time_nanos: None,
            time_in_year: None,
            goroutines: Vec::new(),
            tables: Tables::new(),
            preamble: None,
            skipped: 0,
            truncated: false,
            declared_total: None,
            notes: Vec::new(),
        }
    }

    /// The number of goroutines the snapshot holds.
    pub fn total(&self) -> u64 {
        self.goroutines.iter().map(|g| g.count).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ends are kept in 32 bits; past 4 Gi elements the ids that crossed a multiple of
    /// 2^32 give the high part.
    #[test]
    fn slice_ends_past_four_gib() {
        let (ends, wraps) = ([5u32, 10, 3, 7, 2], [2u32, 4]);
        let got: Vec<usize> = (0..5).map(|id| end(&ends, &wraps, id)).collect();
        assert_eq!(got, [5, 10, (1 << 32) + 3, (1 << 32) + 7, (2 << 32) + 2]);
        assert_eq!(span(&ends, &wraps, 2), 10..(1 << 32) + 3);
    }

    /// The index grows region by region past a few thousand entries: every slice is still
    /// found under its id, and interning it again gives that id.
    #[test]
    fn grown_index_finds_every_slice() {
        let mut t = SliceTable::<u8>::default();
        let key = |i: u32| format!("{}{i}", "v".repeat(i as usize % 7)).into_bytes();
        let n = 200_000;
        for i in 0..n {
            assert_eq!(t.intern(&key(i)), i);
            if i % 997 == 0 {
                assert_eq!(t.intern(&key(i / 2)), i / 2, "{i}");
            }
        }
        assert!(t.index.capacity() / 7 * 8 / GROW_REGION_SLOTS >= 32, "grew past the region sort");
        for i in 0..n {
            assert_eq!(t.lookup(&key(i)), Some(i));
            assert_eq!(t.get(i), key(i));
        }
        assert_eq!(t.lookup(b"absent"), None);
        assert_eq!(t.intern(b""), n);
        assert_eq!(t.intern(&key(n - 1)), n - 1);
        assert_eq!(t.len(), n as usize + 1);
    }

    /// Label sets keep their pairs through the key-list form, equal sets one id.
    #[test]
    fn label_sets_round_trip() {
        let mut t = Tables::new();
        let (a, b, x, y) =
            (t.strings.intern(b"a"), t.strings.intern(b"b"), t.strings.intern(b"x"), t.strings.intern(b"y"));
        let one = t.intern_labels(&mut vec![(b, y), (a, x)]);
        let two = t.intern_labels(&mut vec![(a, y)]);
        let again = t.intern_labels(&mut vec![(a, x), (b, y)]);
        assert_eq!(one, again);
        assert_ne!(one, two);
        assert_eq!(t.labels(one).collect::<Vec<_>>(), [("a", "x"), ("b", "y")]);
        assert_eq!(t.labels(two).collect::<Vec<_>>(), [("a", "y")]);
        assert_eq!(t.labels(NO_LABELS).count(), 0);
        assert_eq!(t.cmp_label_sets(two, one), std::cmp::Ordering::Greater);
    }
}
