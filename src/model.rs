//! The snapshot model every parser produces and every later stage reads.
//!
//! A [`Snapshot`] is one dump or profile: its goroutines (or counted stacks) and the
//! tables that intern function names, files, frames, stacks and label sets as `u32` ids,
//! so that classification and grouping compare integers, never strings. This module owns
//! no I/O and knows nothing about formats.

use rustc_hash::FxHashMap;
use serde::Serialize;
use std::fmt;
use std::hash::Hash;

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
    map: FxHashMap<K, u32>,
    items: Vec<K>,
}

impl<K: Hash + Eq + Clone> Default for Table<K> {
    fn default() -> Self {
        Table { map: FxHashMap::default(), items: Vec::new() }
    }
}

impl<K: Hash + Eq + Clone> Table<K> {
    pub fn intern(&mut self, key: K) -> u32 {
        if let Some(&id) = self.map.get(&key) {
            return id;
        }
        let id = self.items.len() as u32;
        self.items.push(key.clone());
        self.map.insert(key, id);
        id
    }
    pub fn get(&self, id: u32) -> &K {
        &self.items[id as usize]
    }
    pub fn len(&self) -> usize {
        self.items.len()
    }
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// String interner keyed by bytes, so parsers can look up slices of the input without
/// allocating; only a new string is copied.
#[derive(Debug, Clone, Default)]
pub struct Strings {
    map: FxHashMap<Box<[u8]>, Sym>,
    items: Vec<Box<str>>,
}

impl Strings {
    pub fn intern(&mut self, bytes: &[u8]) -> Sym {
        if let Some(&id) = self.map.get(bytes) {
            return id;
        }
        let id = self.items.len() as Sym;
        self.items.push(String::from_utf8_lossy(bytes).into());
        self.map.insert(bytes.into(), id);
        id
    }
    pub fn intern_str(&mut self, s: &str) -> Sym {
        self.intern(s.as_bytes())
    }
    pub fn get(&self, id: Sym) -> &str {
        &self.items[id as usize]
    }
    pub fn lookup(&self, s: &str) -> Option<Sym> {
        self.map.get(s.as_bytes()).copied()
    }
    /// The bytes each id was interned from, in id order (the shown strings are lossy
    /// UTF-8; merging must use the original bytes so ids split exactly as one pass would).
    fn raw_in_order(&self) -> Vec<&[u8]> {
        let mut raw: Vec<&[u8]> = vec![&[]; self.items.len()];
        for (k, &id) in &self.map {
            raw[id as usize] = k;
        }
        raw
    }
    pub fn len(&self) -> usize {
        self.items.len()
    }
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// Stacks interned as slices of frame ids, stored flat.
#[derive(Debug, Clone, Default)]
pub struct Stacks {
    map: FxHashMap<Box<[FrameId]>, StackId>,
    spans: Vec<(u32, u32)>,
    frames: Vec<FrameId>,
}

impl Stacks {
    pub fn intern(&mut self, frames: &[FrameId]) -> StackId {
        if let Some(&id) = self.map.get(frames) {
            return id;
        }
        let id = self.spans.len() as StackId;
        let start = self.frames.len() as u32;
        self.frames.extend_from_slice(frames);
        self.spans.push((start, frames.len() as u32));
        self.map.insert(frames.into(), id);
        id
    }
    pub fn get(&self, id: StackId) -> &[FrameId] {
        let (start, len) = self.spans[id as usize];
        &self.frames[start as usize..(start + len) as usize]
    }
    pub fn len(&self) -> usize {
        self.spans.len()
    }
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }
}

/// Everything a snapshot interns. Ids are only meaningful within one snapshot; later
/// stages that span snapshots (diff, trend) compare resolved strings.
#[derive(Debug, Clone, Default)]
pub struct Tables {
    pub strings: Strings,
    pub frames: Table<Frame>,
    pub stacks: Stacks,
    /// Label sets: sorted (key, value) pairs. Id 0 is the empty set.
    pub label_sets: Table<Vec<(Sym, Sym)>>,
}

impl Tables {
    pub fn new() -> Self {
        let mut t = Tables::default();
        t.strings.intern(b"");
        t.label_sets.intern(Vec::new());
        t
    }

    /// Interns everything `other` holds into `self`, in `other`'s id order, and returns
    /// how `other`'s ids map to `self`'s. Merging the tables of consecutive chunks this
    /// way gives the very ids one pass over the whole input would have given, since a
    /// table's order is the order of first appearance.
    pub fn absorb(&mut self, other: &Tables) -> Remap {
        let strings: Vec<Sym> = other.strings.raw_in_order().into_iter().map(|b| self.strings.intern(b)).collect();
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
        let label_sets: Vec<LabelSetId> = other
            .label_sets
            .items
            .iter()
            .map(|set| {
                self.label_sets.intern(set.iter().map(|&(k, v)| (strings[k as usize], strings[v as usize])).collect())
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
    pub fn labels(&self, id: LabelSetId) -> impl Iterator<Item = (&str, &str)> {
        self.label_sets.get(id).iter().map(|&(k, v)| (self.str(k), self.str(v)))
    }
    /// Interns a label set given as (key, value) pairs in any order.
    pub fn intern_labels(&mut self, mut pairs: Vec<(Sym, Sym)>) -> LabelSetId {
        if pairs.is_empty() {
            return NO_LABELS;
        }
        pairs.sort_unstable_by(|a, b| self.str(a.0).cmp(self.str(b.0)).then(self.str(a.1).cmp(self.str(b.1))));
        pairs.dedup();
        self.label_sets.intern(pairs)
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
