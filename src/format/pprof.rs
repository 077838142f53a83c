//! `?debug=0`: the pprof protobuf (`proto/profile.proto`), after the caller has gunzipped
//! it. Sample types `goroutine/count` and `goroutineleak/count`.
//!
//! Runtime frames are present here (`runtime.chansend1`, `runtime.selectgo`, …), so the
//! wait state is inferred from them later; there are no goroutine ids, wait minutes or
//! creators. Function names keep the linker's shape names (`F[go.shape.int]`); they are
//! rewritten to the `F[...]` the text formats print, so sites match across formats.
//!
//! **Why a hand-written reader.** Decoding into prost's types allocated a `String` per
//! string-table entry and a `Vec` per sample, label list and location: about 0.5 s of the
//! 0.64 s `show` took on a million goroutines with a unique label each (20 MB, 340k
//! samples), where `gzip -d` takes 0.08 s. Here nothing is copied. A first pass over the
//! top-level `Profile` notes where each sample, location, function and string lies in the
//! input, as slices of it; nothing is resolved then, since fields may come in any order (Go
//! writes the string table last). Functions, locations and samples are then read from
//! those slices. A string-table entry is interned when first referenced and remembered by
//! index, so each string is hashed once however many samples use it; a sample's location
//! ids are looked up as bytes, so a stack shared by many samples is decoded and hashed
//! once.
//!
//! The reader accepts what a proto3 parser must: unknown fields of any wire type, repeated
//! scalars packed or not, a later singular field overriding an earlier one. Groups (wire
//! types 3 and 4) have no place in profile.proto and count as malformed, like a truncated
//! varint or a length past the end: `not a valid pprof protobuf (… at byte N)`, never a
//! panic. Fields goroscope does not use (mappings, addresses, `period`, `comment`, …) are
//! stepped over unread, and strings are taken as lossy UTF-8 as in the text formats (Go
//! does not check label values; prost refused the whole profile). The prost types in
//! [`crate::pb`] stay for the tests, which check this reader against prost on every
//! captured profile, the fuzz corpus and corrupted inputs.

use crate::limits::Limits;
use crate::model::{
    Format, Frame, FrameId, Goroutine, ProfileKind, Snapshot, StackId, Strings, Sym, Tables, NONE, NO_LABELS,
};
use rustc_hash::FxHashMap;
use std::fmt::Write as _;

/// True if `data` plausibly starts a serialized Profile: a known top-level field tag.
pub fn sniff(data: &[u8]) -> bool {
    // Field numbers 1..=14 with their wire types: LEN for messages/strings/packed, VARINT
    // for the int64 fields. Go writes period_type (11) first: 0x5a.
    matches!(
        data.first(),
        Some(0x0a | 0x12 | 0x1a | 0x22 | 0x2a | 0x32 | 0x38 | 0x40 | 0x48 | 0x50 | 0x5a | 0x60 | 0x68 | 0x6a | 0x70)
    )
}

pub fn parse(source: &str, data: &[u8], limits: &Limits) -> crate::Result<Snapshot> {
    decode(source, data, limits).map_err(|fail| match fail {
        Fail::Malformed(m) => {
            crate::Error::parse(source, format!("debug0: not a valid pprof protobuf ({})", m.describe(data)))
        }
        Fail::Error(e) => e,
    })
}

fn decode(source: &str, data: &[u8], limits: &Limits) -> Result<Snapshot, Fail> {
    let p = Profile::scan(data)?;
    let mut strings = StringTable::new(data, p.strings);

    let kind = match p.sample_type {
        Some(value_type) => {
            let mut ty = 0;
            let mut fields = Fields::new(value_type);
            while let Some(f) = fields.next()? {
                if f.number == 1 {
                    ty = f.int("ValueType.type")?;
                }
            }
            match strings.bytes(ty) {
                b"goroutine" => ProfileKind::Goroutine,
                b"goroutineleak" => ProfileKind::Goroutineleak,
                other => {
                    let other = String::from_utf8_lossy(other);
                    return Err(crate::Error::parse(
                        source,
                        format!("debug0: a pprof profile of {other:?}, not goroutines (fetch /debug/pprof/goroutine)"),
                    )
                    .into());
                }
            }
        }
        None if p.samples.is_empty() => ProfileKind::Goroutine,
        None => return Err(crate::Error::parse(source, "debug0: the profile has samples but no sample type").into()),
    };
    let mut snap = Snapshot::new(source, Format::Debug0, kind);
    if p.time_nanos != 0 {
        snap.time_nanos = Some(p.time_nanos);
    }
    if p.samples.len() as u64 > limits.max_goroutines {
        return Err(crate::Error::Limit {
            source_name: source.into(),
            message: format!("more than {} samples; raise the limit with --max-goroutines", limits.max_goroutines),
        }
        .into());
    }
    snap.goroutines.reserve(p.samples.len());
    let t = &mut snap.tables;
    // A profile with a unique label per goroutine interns most of its string table: the
    // arena is sized once (growing it copied up to 2× its bytes, issue 14). Not past what
    // samples and functions can refer to: a table of unused strings reserves nothing.
    let referable = (2 * p.samples.len() + 2 * p.functions.len() + 16).min(strings.entries.len());
    t.strings.reserve(referable, strings.entries.iter().map(|e| e.len()).sum());

    // Function: id, name, filename → interned (normalized name, file).
    let mut function_ids = Vec::with_capacity(p.functions.len());
    let mut function_syms: Vec<(Sym, Sym)> = Vec::with_capacity(p.functions.len());
    let mut name_buf = String::new();
    for &function in &p.functions {
        let (mut id, mut name, mut file) = (0, 0, 0);
        let mut fields = Fields::new(function);
        while let Some(f) = fields.next()? {
            match f.number {
                1 => id = f.uint("Function.id")?,
                2 => name = f.int("Function.name")?,
                4 => file = f.int("Function.filename")?,
                _ => {}
            }
        }
        let raw = strings.bytes(name);
        let name = if raw.contains(&b'[') {
            name_buf.clear();
            normalize_generics(&String::from_utf8_lossy(raw), &mut name_buf);
            t.strings.intern(name_buf.as_bytes())
        } else {
            strings.sym(name, &mut t.strings)
        };
        let file = strings.sym(file, &mut t.strings);
        function_ids.push(id);
        function_syms.push((name, file));
    }
    let functions = IdIndex::new(&function_ids);

    // Location: id and lines (inlined callee first) → a run of frames in `arena`.
    let goexit = t.strings.lookup("runtime.goexit");
    let mut location_ids = Vec::with_capacity(p.locations.len());
    let mut spans: Vec<(usize, usize)> = Vec::with_capacity(p.locations.len());
    let mut arena: Vec<FrameId> = Vec::with_capacity(p.locations.len());
    for &location in &p.locations {
        let start = arena.len();
        let (mut id, mut lines) = (0, 0usize);
        let mut fields = Fields::new(location);
        while let Some(f) = fields.next()? {
            match f.number {
                1 => id = f.uint("Location.id")?,
                4 => {
                    lines += 1;
                    let (mut function_id, mut line) = (0, 0);
                    let mut fields = Fields::new(f.message("Location.line")?);
                    while let Some(g) = fields.next()? {
                        match g.number {
                            1 => function_id = g.uint("Line.function_id")?,
                            2 => line = g.int("Line.line")?,
                            _ => {}
                        }
                    }
                    let Some(i) = functions.get(function_id) else { continue };
                    let (function, file) = function_syms[i];
                    if Some(function) == goexit {
                        continue;
                    }
                    arena.push(t.frames.intern(Frame { function, file, line: line.clamp(0, u32::MAX as i64) as u32 }));
                }
                _ => {}
            }
        }
        if lines == 0 {
            // An unsymbolized address.
            let function = t.strings.intern(b"?");
            let file = t.strings.intern(b"");
            arena.push(t.frames.intern(Frame { function, file, line: 0 }));
        }
        location_ids.push(id);
        spans.push((start, arena.len()));
    }
    let locations = Locations { index: IdIndex::new(&location_ids), spans, arena };

    // Sample: location ids (leaf first), values, labels.
    let mut stack: Vec<FrameId> = Vec::with_capacity(64);
    // The location-id bytes of a sample → its interned stack. Samples that differ only by
    // labels repeat the location ids of an earlier one (the 1M-goroutine profile with
    // unique labels has 340k samples and 131 stacks): then these few bytes are hashed,
    // rather than decoded into frames and the frames hashed.
    let mut stacks: FxHashMap<&[u8], StackId> = FxHashMap::default();
    let mut label_msgs: Vec<&[u8]> = Vec::new();
    let mut batch = LabelBatch::default();
    let mut negative = false;
    let mut sets_reserved = false;
    for (i, &sample) in p.samples.iter().enumerate() {
        label_msgs.clear();
        let mut value = None;
        let mut label_count = 0u64;
        // The location-id fields: from the start of the first to the end of the last.
        let mut location_fields = (usize::MAX, 0);
        let offset = |at: &[u8]| at.as_ptr() as usize - sample.as_ptr() as usize;
        // The fields Go writes are read straight off their key byte; anything else (packed
        // values, unknown fields, a wrong wire type) goes through the general reader. The
        // general reader alone was ~35 instructions a field, a third of decoding (issue 14).
        let mut rest = sample;
        while let [key, ref tail @ ..] = *rest {
            let mut after = tail;
            match key {
                // value = 2, one varint.
                0x10 => {
                    let v = read_varint(&mut after)?;
                    value.get_or_insert(v as i64);
                }
                // label = 3.
                0x1a => {
                    let label = read_len(rest, &mut after)?;
                    label_count += 1;
                    // Past the limit the sample is refused below: keep no more.
                    if label_count <= limits.max_labels {
                        label_msgs.push(label);
                    }
                }
                // location_id = 1, packed or one varint.
                0x0a | 0x08 => {
                    if key == 0x0a {
                        read_len(rest, &mut after)?;
                    } else {
                        read_varint(&mut after)?;
                    }
                    location_fields = (location_fields.0.min(offset(rest)), offset(after));
                }
                _ => {
                    let mut fields = Fields::new(rest);
                    let Some(f) = fields.next()? else { break };
                    match f.number {
                        1 => {
                            f.uints("Sample.location_id")?;
                            location_fields = (location_fields.0.min(offset(rest)), offset(fields.rest));
                        }
                        2 => {
                            let mut values = f.uints("Sample.value")?;
                            while let Some(v) = values.next()? {
                                value.get_or_insert(v as i64);
                            }
                        }
                        3 => {
                            let label = f.message("Sample.label")?;
                            label_count += 1;
                            if label_count <= limits.max_labels {
                                label_msgs.push(label);
                            }
                        }
                        _ => {}
                    }
                    after = fields.rest;
                }
            }
            rest = after;
        }
        let location_fields = sample.get(location_fields.0..location_fields.1).unwrap_or_default();
        let known_stack = stacks.get(location_fields).copied();
        if known_stack.is_none() {
            locations.resolve(location_fields, &mut stack, source, limits)?;
        }
        if label_count > limits.max_labels {
            return Err(crate::Error::Limit {
                source_name: source.into(),
                message: format!(
                    "a sample has more than {} labels; raise the limit with --max-labels",
                    limits.max_labels
                ),
            }
            .into());
        }
        let value = value.unwrap_or(0);
        if value < 0 {
            negative = true;
        }
        if value <= 0 {
            continue;
        }
        let stack = known_stack.unwrap_or_else(|| {
            let id = t.stacks.intern(&stack);
            stacks.insert(location_fields, id);
            id
        });
        // Label sets are not cached like stacks: in the profiles at hand they repeat
        // little (960 samples, 208 sets) or not at all, and interning one hashes it once.
        if !sets_reserved && !label_msgs.is_empty() {
            // The set table sized once at the first labelled sample (growing it rehashed
            // 340k sets 19 times: 49M of 969M instructions, issue 14). At most a set per
            // sample left, and no more than the string table has entries: sets of distinct
            // values need distinct strings, and a profile repeating a few sets keeps few.
            sets_reserved = true;
            let sets = (p.samples.len() - i).min(strings.entries.len());
            t.label_sets.reserve(sets, sets * label_msgs.len());
        }
        for &label in &label_msgs {
            batch.labels.push(read_label(label)?);
        }
        batch.samples.push((value as u64, stack, batch.labels.len()));
        if batch.samples.len() == LabelBatch::SIZE {
            batch.flush(&mut strings, t, &mut snap.goroutines);
        }
    }
    batch.flush(&mut strings, t, &mut snap.goroutines);
    if negative {
        snap.notes.push("a delta profile (?seconds=N): samples that shrank are left out".into());
    }
    Ok(snap)
}

/// Samples read whose labels are not yet interned. With a label of distinct value per
/// goroutine (a request id), most of decoding was waiting on the cache misses of interning a
/// new string and a new set into tables of a million entries, one miss after another
/// (issue 14). A batch of samples looks its strings up first, then its sets, so that the
/// misses of a batch overlap; interning them just after finds the tables warm. Strings
/// and sets are interned in the order one sample at a time would intern them, so ids
/// are the same.
#[derive(Default)]
struct LabelBatch {
    /// Per sample: its count, its stack and where its labels end in `labels`.
    samples: Vec<(u64, StackId, usize)>,
    /// Each label's key, str and num, as read.
    labels: Vec<(i64, i64, i64)>,
    pairs: Vec<(Sym, Sym)>,
    /// The samples' label sets, encoded ([`Tables::encode_labels`]) one after another;
    /// and where each ends (an empty one is no labels).
    sets: Vec<Sym>,
    set_ends: Vec<usize>,
    num_buf: String,
}

impl LabelBatch {
    const SIZE: usize = 64;

    /// Interns the labels of the samples held and pushes their goroutines.
    fn flush(&mut self, strings: &mut StringTable, t: &mut Tables, goroutines: &mut Vec<Goroutine>) {
        for &(key, str, _) in &self.labels {
            strings.warm(key, &t.strings);
            if str != 0 {
                strings.warm(str, &t.strings);
            }
        }
        self.sets.clear();
        self.set_ends.clear();
        let mut start = 0;
        for &(_, _, end) in &self.samples {
            self.pairs.clear();
            for &(key, str, num) in &self.labels[start..end] {
                let key = strings.sym(key, &mut t.strings);
                let value = if str != 0 {
                    strings.sym(str, &mut t.strings)
                } else {
                    self.num_buf.clear();
                    let _ = write!(self.num_buf, "{num}");
                    t.strings.intern(self.num_buf.as_bytes())
                };
                self.pairs.push((key, value));
            }
            if !self.pairs.is_empty() {
                t.encode_labels(&mut self.pairs, &mut self.sets);
            }
            self.set_ends.push(self.sets.len());
            start = end;
        }
        let mut start = 0;
        for &end in &self.set_ends {
            if end > start {
                t.label_sets.warm(&self.sets[start..end]);
            }
            start = end;
        }
        let mut start = 0;
        for (&(count, stack, _), &end) in self.samples.iter().zip(&self.set_ends) {
            let labels = if end > start { t.label_sets.intern_encoded(&self.sets[start..end]) } else { NO_LABELS };
            goroutines.push(Goroutine::counted(count, stack, labels));
            start = end;
        }
        self.samples.clear();
        self.labels.clear();
    }
}

/// The profile's locations, each a run of frames in one arena.
struct Locations {
    index: IdIndex,
    /// Per location, its frames as `arena[start..end]`.
    spans: Vec<(usize, usize)>,
    arena: Vec<FrameId>,
}

impl Locations {
    /// Fills `stack` with the frames of the `location_id` fields among `fields` (a part of
    /// a sample).
    fn resolve(&self, fields: &[u8], stack: &mut Vec<FrameId>, source: &str, limits: &Limits) -> Result<(), Fail> {
        stack.clear();
        let mut fields = Fields::new(fields);
        while let Some(f) = fields.next()? {
            if f.number != 1 {
                continue;
            }
            let mut ids = f.uints("Sample.location_id")?;
            while let Some(id) = ids.next()? {
                let Some(i) = self.index.get(id) else {
                    return Err(crate::Error::parse(
                        source,
                        format!("debug0: a sample refers to location {id}, which the profile does not define"),
                    )
                    .into());
                };
                let frames = &self.arena[self.spans[i].0..self.spans[i].1];
                // Checked before growing: a few bytes repeating one id of a location with
                // many lines would otherwise expand quadratically.
                if (stack.len() + frames.len()) as u64 > limits.max_frames {
                    return Err(crate::Error::Limit {
                        source_name: source.into(),
                        message: format!(
                            "a sample has more than {} frames; raise the limit with --max-frames",
                            limits.max_frames
                        ),
                    }
                    .into());
                }
                // Most locations are one frame, and a call to memcpy per frame showed in
                // profiles.
                match frames {
                    [frame] => stack.push(*frame),
                    _ => stack.extend_from_slice(frames),
                }
            }
        }
        Ok(())
    }
}

/// A `Label`'s key, str and num. Go writes `key` then `str` or `num`, all varints: that
/// shape is read in a straight line (the loop below cost ~95 instructions a label, with a
/// million labels in a profile of unique values, issue 14); anything else, and every
/// error, goes through the general reader from the start.
#[inline(always)]
fn read_label(label: &[u8]) -> Result<(i64, i64, i64), Malformed> {
    if let [0x08, ref tail @ ..] = *label {
        let mut rest = tail;
        if let Ok(key) = read_varint(&mut rest) {
            if let [second @ (0x10 | 0x18), ref tail @ ..] = *rest {
                let mut rest = tail;
                if let Ok(v) = read_varint(&mut rest) {
                    if rest.is_empty() {
                        let v = v as i64;
                        return Ok(if second == 0x10 { (key as i64, v, 0) } else { (key as i64, 0, v) });
                    }
                }
            }
        }
    }
    read_label_any(label)
}

/// [`read_label`] for any field order, unknown fields and repeats (a later one overrides).
#[cold]
fn read_label_any(label: &[u8]) -> Result<(i64, i64, i64), Malformed> {
    let (mut key, mut str, mut num) = (0, 0, 0);
    let mut fields = Fields::new(label);
    while let Some(f) = fields.next()? {
        match f.number {
            1 => key = f.int("Label.key")?,
            2 => str = f.int("Label.str")?,
            3 => num = f.int("Label.num")?,
            _ => {}
        }
    }
    Ok((key, str, num))
}

/// A length-delimited value: `after` starts at its length (just past the key at `key`) and
/// is left past the value. Errors as [`Fields`] reports them.
#[inline(always)]
fn read_len<'a>(key: &'a [u8], after: &mut &'a [u8]) -> Result<&'a [u8], Malformed> {
    let len = read_varint(after)?;
    if len > after.len() as u64 {
        return Err(malformed(key, "a length past the end of its message"));
    }
    let (value, rest) = after.split_at(len as usize);
    *after = rest;
    Ok(value)
}

/// The top-level fields goroscope reads, as slices of the input (the first pass).
#[derive(Default)]
struct Profile<'a> {
    /// The first `sample_type`: the profile's kind.
    sample_type: Option<&'a [u8]>,
    samples: Vec<&'a [u8]>,
    locations: Vec<&'a [u8]>,
    functions: Vec<&'a [u8]>,
    strings: Vec<&'a [u8]>,
    time_nanos: i64,
}

impl<'a> Profile<'a> {
    fn scan(data: &'a [u8]) -> Result<Self, Malformed> {
        let mut p = Profile::default();
        let mut rest = data;
        while let [key, ref tail @ ..] = *rest {
            let mut after = tail;
            match key {
                // The many: samples (2) and strings (6), read straight off their key byte.
                0x12 => p.samples.push(read_len(rest, &mut after)?),
                0x32 => p.strings.push(read_len(rest, &mut after)?),
                _ => {
                    let mut fields = Fields::new(rest);
                    let Some(f) = fields.next()? else { break };
                    match f.number {
                        1 => {
                            let value_type = f.message("Profile.sample_type")?;
                            p.sample_type.get_or_insert(value_type);
                        }
                        2 => p.samples.push(f.message("Profile.sample")?),
                        4 => p.locations.push(f.message("Profile.location")?),
                        5 => p.functions.push(f.message("Profile.function")?),
                        6 => p.strings.push(f.message("Profile.string_table")?),
                        9 => p.time_nanos = f.int("Profile.time_nanos")?,
                        _ => {}
                    }
                    after = fields.rest;
                }
            }
            rest = after;
        }
        Ok(p)
    }
}

const UNINTERNED: Sym = u32::MAX;

/// The profile's string table, interned entry by entry on first use.
struct StringTable<'a> {
    entries: Vec<&'a [u8]>,
    /// Index → interned id, or [`UNINTERNED`].
    syms: Vec<Sym>,
    /// The bytes from the first entry to the last, if they are all ASCII (Go writes the
    /// table in one run, and label values mostly are): then no entry needs its own UTF-8
    /// check, which cost a third of interning a short string.
    ascii: Option<&'a str>,
}

impl<'a> StringTable<'a> {
    /// `entries` are slices of `data`.
    fn new(data: &'a [u8], entries: Vec<&'a [u8]>) -> Self {
        let offset = |e: &[u8]| e.as_ptr() as usize - data.as_ptr() as usize;
        let ascii = match (entries.first(), entries.last()) {
            (Some(first), Some(last)) => data
                .get(offset(first)..offset(last) + last.len())
                .filter(|run| run.is_ascii())
                .and_then(|run| std::str::from_utf8(run).ok()),
            _ => None,
        };
        StringTable { syms: vec![UNINTERNED; entries.len()], entries, ascii }
    }

    /// See [`SliceTable::warm`](crate::model::SliceTable::warm): entry `index`, if not yet interned.
    #[inline]
    fn warm(&self, index: i64, strings: &Strings) {
        if let Some(i) = usize::try_from(index).ok().filter(|&i| i < self.entries.len()) {
            if self.syms[i] == UNINTERNED {
                strings.warm(self.entries[i]);
            }
        }
    }

    /// Entry `index`; an index out of range reads as "".
    fn bytes(&self, index: i64) -> &'a [u8] {
        usize::try_from(index).ok().and_then(|i| self.entries.get(i)).copied().unwrap_or(b"")
    }

    #[inline]
    fn sym(&mut self, index: i64, strings: &mut Strings) -> Sym {
        let Some(i) = usize::try_from(index).ok().filter(|&i| i < self.entries.len()) else {
            return strings.intern(b"");
        };
        if self.syms[i] == UNINTERNED {
            let entry = self.entries[i];
            self.syms[i] = match self.ascii {
                // Entries lie between the first and the last, or are not in the run.
                Some(run)
                    if entry.as_ptr() >= run.as_ptr()
                        && entry.as_ptr() as usize + entry.len() <= run.as_ptr() as usize + run.len() =>
                {
                    let at = entry.as_ptr() as usize - run.as_ptr() as usize;
                    strings.intern_str(&run[at..at + entry.len()])
                }
                _ => strings.intern(entry),
            };
        }
        self.syms[i]
    }
}

/// Function or location ids → position in the profile's list (a later duplicate wins). Go
/// numbers them 1, 2, 3, …, so a table indexed by id is the usual case; ids spread wider
/// than that fall back to a hash map, so a huge id costs no memory.
enum IdIndex {
    Dense(Vec<u32>),
    Sparse(FxHashMap<u64, u32>),
}

impl IdIndex {
    fn new(ids: &[u64]) -> IdIndex {
        let max = ids.iter().copied().max().unwrap_or(0);
        if max <= 2 * ids.len() as u64 + 64 {
            let mut dense = vec![NONE; max as usize + 1];
            for (i, &id) in ids.iter().enumerate() {
                dense[id as usize] = i as u32;
            }
            IdIndex::Dense(dense)
        } else {
            IdIndex::Sparse(ids.iter().enumerate().map(|(i, &id)| (id, i as u32)).collect())
        }
    }

    #[inline]
    fn get(&self, id: u64) -> Option<usize> {
        let i = match self {
            IdIndex::Dense(dense) => {
                usize::try_from(id).ok().and_then(|id| dense.get(id)).copied().filter(|&i| i != NONE)
            }
            IdIndex::Sparse(map) => map.get(&id).copied(),
        };
        i.map(|i| i as usize)
    }
}

// ---- The protobuf wire format ----

/// Why decoding stopped: the input is not a protobuf, or a check of the profile failed.
enum Fail {
    Malformed(Malformed),
    Error(crate::Error),
}

impl From<Malformed> for Fail {
    fn from(m: Malformed) -> Fail {
        Fail::Malformed(m)
    }
}

impl From<crate::Error> for Fail {
    fn from(e: crate::Error) -> Fail {
        Fail::Error(e)
    }
}

/// Where and how the input stops being a protobuf of profile.proto.
#[derive(Debug)]
struct Malformed {
    /// The address of the offending bytes in the input; [`Malformed::describe`] makes it
    /// an offset.
    at: usize,
    /// What was found, or, with `field`, what that field should have been.
    what: &'static str,
    field: Option<&'static str>,
}

impl Malformed {
    fn describe(&self, data: &[u8]) -> String {
        let offset = self.at.wrapping_sub(data.as_ptr() as usize);
        match self.field {
            Some(field) => format!("{field} at byte {offset} is not {}", self.what),
            None => format!("{} at byte {offset}", self.what),
        }
    }
}

fn malformed(at: &[u8], what: &'static str) -> Malformed {
    Malformed { at: at.as_ptr() as usize, what, field: None }
}

/// Reads a base-128 varint from the front of `rest`.
/// Inline up to three bytes (string indices up to 2M, field lengths up to 2 MB): the loop
/// of [`read_long_varint`] cost ~60 instructions for a two-byte label key.
#[inline(always)]
fn read_varint(rest: &mut &[u8]) -> Result<u64, Malformed> {
    // Arms in order: a byte reaching a later arm has its high bit set.
    match **rest {
        [b0 @ 0..=0x7f, ref tail @ ..] => {
            *rest = tail;
            Ok(u64::from(b0))
        }
        [b0, b1 @ 0..=0x7f, ref tail @ ..] => {
            *rest = tail;
            Ok(u64::from(b0 & 0x7f) | u64::from(b1) << 7)
        }
        [b0, b1, b2 @ 0..=0x7f, ref tail @ ..] => {
            *rest = tail;
            Ok(u64::from(b0 & 0x7f) | u64::from(b1 & 0x7f) << 7 | u64::from(b2) << 14)
        }
        _ => read_long_varint(rest),
    }
}

fn read_long_varint(rest: &mut &[u8]) -> Result<u64, Malformed> {
    let mut value = 0u64;
    for (i, &b) in rest.iter().take(10).enumerate() {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b < 0x80 {
            // The tenth byte holds bit 63 only.
            if i == 9 && b > 1 {
                return Err(malformed(rest, "a varint over 64 bits"));
            }
            *rest = &rest[i + 1..];
            return Ok(value);
        }
    }
    Err(malformed(rest, if rest.len() >= 10 { "a varint longer than 10 bytes" } else { "a truncated varint" }))
}

/// A field's value as the wire carries it. No field goroscope reads is fixed-width, so
/// those values are only stepped over.
#[derive(Clone, Copy)]
enum Wire<'a> {
    Varint(u64),
    Len(&'a [u8]),
    Fixed,
}

struct Field<'a> {
    number: u32,
    wire: Wire<'a>,
    /// The address of the field's key in the input.
    at: usize,
}

impl<'a> Field<'a> {
    fn wrong(&self, field: &'static str, what: &'static str) -> Malformed {
        Malformed { at: self.at, what, field: Some(field) }
    }

    /// An embedded message, string or bytes.
    fn message(&self, name: &'static str) -> Result<&'a [u8], Malformed> {
        match self.wire {
            Wire::Len(bytes) => Ok(bytes),
            _ => Err(self.wrong(name, "length-delimited")),
        }
    }

    fn uint(&self, name: &'static str) -> Result<u64, Malformed> {
        match self.wire {
            Wire::Varint(v) => Ok(v),
            _ => Err(self.wrong(name, "a varint")),
        }
    }

    /// An `int64`: two's complement, as the wire carries it.
    fn int(&self, name: &'static str) -> Result<i64, Malformed> {
        self.uint(name).map(|v| v as i64)
    }

    /// A repeated varint field, either one value or a packed run.
    fn uints(&self, name: &'static str) -> Result<Varints<'a>, Malformed> {
        match self.wire {
            Wire::Varint(v) => Ok(Varints { one: Some(v), packed: &[] }),
            Wire::Len(packed) => Ok(Varints { one: None, packed }),
            Wire::Fixed => Err(self.wrong(name, "a varint")),
        }
    }
}

/// The values of one occurrence of a repeated varint field.
struct Varints<'a> {
    one: Option<u64>,
    packed: &'a [u8],
}

impl Varints<'_> {
    fn next(&mut self) -> Result<Option<u64>, Malformed> {
        if let Some(v) = self.one.take() {
            return Ok(Some(v));
        }
        if self.packed.is_empty() {
            return Ok(None);
        }
        read_varint(&mut self.packed).map(Some)
    }
}

/// The fields of one message, in wire order.
struct Fields<'a> {
    rest: &'a [u8],
}

impl<'a> Fields<'a> {
    fn new(message: &'a [u8]) -> Fields<'a> {
        Fields { rest: message }
    }

    #[inline(always)]
    fn next(&mut self) -> Result<Option<Field<'a>>, Malformed> {
        if self.rest.is_empty() {
            return Ok(None);
        }
        let at = self.rest.as_ptr() as usize;
        // Inline, the common case: a key of one byte (field numbers up to 15: all that
        // profile.proto has) with a varint of up to three bytes (string indices up to 2M)
        // or a length of one byte.
        if let [key @ 0x08..=0x7f, ref rest @ ..] = *self.rest {
            let number = u32::from(key >> 3);
            let (wire, rest) = match (key & 7, rest) {
                (0, &[b0 @ 0..=0x7f, ref rest @ ..]) => (Wire::Varint(u64::from(b0)), rest),
                (0, &[b0 @ 0x80..=0xff, b1 @ 0..=0x7f, ref rest @ ..]) => {
                    (Wire::Varint(u64::from(b0 & 0x7f) | u64::from(b1) << 7), rest)
                }
                (0, &[b0 @ 0x80..=0xff, b1 @ 0x80..=0xff, b2 @ 0..=0x7f, ref rest @ ..]) => {
                    (Wire::Varint(u64::from(b0 & 0x7f) | u64::from(b1 & 0x7f) << 7 | u64::from(b2) << 14), rest)
                }
                (2, &[len @ 0..=0x7f, ref rest @ ..]) if usize::from(len) <= rest.len() => {
                    let (value, rest) = rest.split_at(usize::from(len));
                    (Wire::Len(value), rest)
                }
                _ => return self.next_any(),
            };
            self.rest = rest;
            return Ok(Some(Field { number, wire, at }));
        }
        self.next_any()
    }

    /// Any field: longer varints, fixed-width values, and every error.
    fn next_any(&mut self) -> Result<Option<Field<'a>>, Malformed> {
        if self.rest.is_empty() {
            return Ok(None);
        }
        let at = self.rest.as_ptr() as usize;
        let whole = self.rest;
        let key = read_varint(&mut self.rest)?;
        let number = key >> 3;
        if number == 0 || number >= 1 << 29 {
            return Err(malformed(whole, "a field number out of range"));
        }
        let wire = match key & 7 {
            0 => Wire::Varint(read_varint(&mut self.rest)?),
            1 => self.skip(8, whole, "a truncated 64-bit field")?,
            2 => {
                let len = read_varint(&mut self.rest)?;
                if len > self.rest.len() as u64 {
                    return Err(malformed(whole, "a length past the end of its message"));
                }
                let (value, rest) = self.rest.split_at(len as usize);
                self.rest = rest;
                Wire::Len(value)
            }
            5 => self.skip(4, whole, "a truncated 32-bit field")?,
            3 => return Err(malformed(whole, "a group (wire type 3), which profile.proto does not use")),
            4 => return Err(malformed(whole, "a group end (wire type 4), which profile.proto does not use")),
            _ => return Err(malformed(whole, "an invalid wire type (6 or 7)")),
        };
        Ok(Some(Field { number: number as u32, wire, at }))
    }

    fn skip(&mut self, n: usize, whole: &[u8], what: &'static str) -> Result<Wire<'a>, Malformed> {
        if self.rest.len() < n {
            return Err(malformed(whole, what));
        }
        self.rest = &self.rest[n..];
        Ok(Wire::Fixed)
    }
}

/// Rewrites type arguments to `[...]` as tracebacks print them:
/// `main.(*Box[go.shape.string]).Get` → `main.(*Box[...]).Get`.
pub(crate) fn normalize_generics(name: &str, out: &mut String) {
    if !name.contains('[') {
        out.push_str(name);
        return;
    }
    let mut depth = 0usize;
    for c in name.chars() {
        match c {
            '[' => {
                if depth == 0 {
                    out.push_str("[...]");
                }
                depth += 1;
            }
            ']' => depth = depth.saturating_sub(1),
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pb;
    use prost::Message;
    use std::path::{Path, PathBuf};

    /// The decoder this module had before the hand-written reader: prost's types, kept as
    /// the reference the reader is checked against.
    fn parse_with_prost(source: &str, data: &[u8], limits: &Limits) -> crate::Result<Snapshot> {
        let p = pb::Profile::decode(data)
            .map_err(|e| crate::Error::parse(source, format!("debug0: not a valid pprof protobuf ({e})")))?;
        let strings = &p.string_table;
        let s =
            |i: i64| -> &str { usize::try_from(i).ok().and_then(|i| strings.get(i)).map(String::as_str).unwrap_or("") };
        let kind = match p.sample_type.first().map(|t| s(t.r#type)) {
            Some("goroutine") => ProfileKind::Goroutine,
            Some("goroutineleak") => ProfileKind::Goroutineleak,
            Some(other) => {
                return Err(crate::Error::parse(
                    source,
                    format!("debug0: a pprof profile of {other:?}, not goroutines (fetch /debug/pprof/goroutine)"),
                ))
            }
            None if p.sample.is_empty() => ProfileKind::Goroutine,
            None => return Err(crate::Error::parse(source, "debug0: the profile has samples but no sample type")),
        };
        let mut snap = Snapshot::new(source, Format::Debug0, kind);
        if p.time_nanos != 0 {
            snap.time_nanos = Some(p.time_nanos);
        }
        if p.sample.len() as u64 > limits.max_goroutines {
            return Err(crate::Error::Limit { source_name: source.into(), message: "samples".into() });
        }
        let t = &mut snap.tables;
        let mut functions: FxHashMap<u64, (u32, u32)> = FxHashMap::default();
        let mut name_buf = String::new();
        for f in &p.function {
            name_buf.clear();
            normalize_generics(s(f.name), &mut name_buf);
            functions.insert(f.id, (t.strings.intern_str(&name_buf), t.strings.intern_str(s(f.filename))));
        }
        let goexit = t.strings.lookup("runtime.goexit");
        let mut locations: FxHashMap<u64, Vec<FrameId>> = FxHashMap::default();
        for loc in &p.location {
            let mut frames = Vec::with_capacity(loc.line.len());
            for l in &loc.line {
                let Some(&(function, file)) = functions.get(&l.function_id) else { continue };
                if Some(function) == goexit {
                    continue;
                }
                frames.push(t.frames.intern(Frame { function, file, line: l.line.clamp(0, u32::MAX as i64) as u32 }));
            }
            if loc.line.is_empty() {
                let function = t.strings.intern(b"?");
                let file = t.strings.intern(b"");
                frames.push(t.frames.intern(Frame { function, file, line: 0 }));
            }
            locations.insert(loc.id, frames);
        }
        let mut stack: Vec<FrameId> = Vec::new();
        let mut negative = false;
        for sample in &p.sample {
            stack.clear();
            for id in &sample.location_id {
                let Some(frames) = locations.get(id) else {
                    return Err(crate::Error::parse(
                        source,
                        format!("debug0: a sample refers to location {id}, which the profile does not define"),
                    ));
                };
                if (stack.len() + frames.len()) as u64 > limits.max_frames {
                    return Err(crate::Error::Limit { source_name: source.into(), message: "frames".into() });
                }
                stack.extend_from_slice(frames);
            }
            if sample.label.len() as u64 > limits.max_labels {
                return Err(crate::Error::Limit { source_name: source.into(), message: "labels".into() });
            }
            let value = sample.value.first().copied().unwrap_or(0);
            negative |= value < 0;
            if value <= 0 {
                continue;
            }
            let mut ids: Vec<(Sym, Sym)> = sample
                .label
                .iter()
                .map(|l| {
                    let v = if l.str != 0 { s(l.str).to_string() } else { l.num.to_string() };
                    (t.strings.intern_str(s(l.key)), t.strings.intern_str(&v))
                })
                .collect();
            let labels = t.intern_labels(&mut ids);
            snap.goroutines.push(Goroutine::counted(value as u64, t.stacks.intern(&stack), labels));
        }
        if negative {
            snap.notes.push("a delta profile (?seconds=N): samples that shrank are left out".into());
        }
        Ok(snap)
    }

    /// A snapshot with every id resolved to strings.
    #[derive(Debug, PartialEq)]
    struct Resolved {
        kind: &'static str,
        time_nanos: Option<i64>,
        notes: Vec<String>,
        goroutines: Vec<ResolvedGoroutine>,
    }

    /// Count, frames (function, file, line), labels.
    type ResolvedGoroutine = (u64, Vec<(String, String, u32)>, Vec<(String, String)>);

    fn resolve(s: &Snapshot) -> Resolved {
        let t = &s.tables;
        let goroutines = s
            .goroutines
            .iter()
            .map(|g| {
                let frames = t
                    .stacks
                    .get(g.stack)
                    .iter()
                    .map(|&f| {
                        let f = t.frame(f);
                        (t.str(f.function).to_string(), t.str(f.file).to_string(), f.line)
                    })
                    .collect();
                let labels = t.labels(g.labels).map(|(k, v)| (k.to_string(), v.to_string())).collect();
                (g.count, frames, labels)
            })
            .collect();
        Resolved { kind: s.profile.name(), time_nanos: s.time_nanos, notes: s.notes.clone(), goroutines }
    }

    fn parse_ok(data: &[u8]) -> Resolved {
        resolve(&parse("test", data, &Limits::default()).unwrap())
    }

    fn parse_err(data: &[u8]) -> String {
        match parse("test", data, &Limits::default()) {
            Ok(_) => panic!("parsed"),
            Err(e) => e.to_string(),
        }
    }

    fn root() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
    }

    fn gunzip(path: &Path) -> Vec<u8> {
        let gz = std::fs::read(path).unwrap();
        crate::format::gunzip_if_needed("test", &gz, &Limits::default()).unwrap().into_owned()
    }

    /// Every `*.pb.gz` under `dir` (none if it does not exist), sorted.
    fn profiles_under(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for e in entries {
            let path = e.unwrap().path();
            if path.is_dir() {
                profiles_under(&path, out);
            } else if path.to_string_lossy().ends_with(".pb.gz") {
                out.push(path);
            }
        }
        out.sort();
    }

    #[test]
    fn agrees_with_prost_on_every_captured_profile() {
        let mut files = Vec::new();
        profiles_under(&root().join("testdata"), &mut files);
        assert!(files.len() >= 28, "{files:?}");
        assert!(files.iter().any(|f| f.to_string_lossy().contains("goroutineleak")));
        // The shared corpus and the generated benchmark profiles, where present (the 1M
        // ones are left to the benchmarks).
        profiles_under(&root().join("../shared/corpus"), &mut files);
        let mut bench = Vec::new();
        profiles_under(&root().join("bench-data"), &mut bench);
        files.extend(bench.into_iter().filter(|f| !f.to_string_lossy().contains("-1m")));
        for file in &files {
            let data = gunzip(file);
            let ours = parse("test", &data, &Limits::default()).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            let reference = parse_with_prost("test", &data, &Limits::default()).unwrap();
            assert!(!ours.goroutines.is_empty(), "{}", file.display());
            assert_eq!(resolve(&ours), resolve(&reference), "{}", file.display());
        }
    }

    /// What libFuzzer has collected for the debug0 target, where present: no panic, and
    /// wherever prost decodes an input, the same snapshot or the same error.
    #[test]
    fn agrees_with_prost_on_the_fuzz_corpus() {
        let Ok(entries) = std::fs::read_dir(root().join("fuzz/corpus/debug0")) else { return };
        let limits = Limits { max_frames: 1000, max_labels: 100, max_goroutines: 10_000, ..Limits::default() };
        for e in entries {
            let path = e.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            let ours = parse("test", &data, &limits);
            let Ok(reference) = parse_with_prost("test", &data, &limits) else { continue };
            match ours {
                Ok(ours) => assert_eq!(resolve(&ours), resolve(&reference), "{}", path.display()),
                Err(e) => panic!("{}: prost decodes it, we say {e}", path.display()),
            }
        }
    }

    // A tiny profile written field by field.

    fn varint(out: &mut Vec<u8>, mut v: u64) {
        while v >= 0x80 {
            out.push(v as u8 | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }

    fn key(out: &mut Vec<u8>, number: u64, wire: u64) {
        varint(out, number << 3 | wire);
    }

    fn int_field(out: &mut Vec<u8>, number: u64, v: u64) {
        key(out, number, 0);
        varint(out, v);
    }

    fn len_field(out: &mut Vec<u8>, number: u64, bytes: &[u8]) {
        key(out, number, 2);
        varint(out, bytes.len() as u64);
        out.extend_from_slice(bytes);
    }

    fn msg(f: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
        let mut out = Vec::new();
        f(&mut out);
        out
    }

    /// Unknown fields of every wire type: number 15, which no message here uses.
    fn unknown_fields(out: &mut Vec<u8>) {
        int_field(out, 15, 1 << 40);
        key(out, 15, 1);
        out.extend_from_slice(&[1; 8]);
        len_field(out, 15, b"\x08\x01 skipped");
        key(out, 15, 5);
        out.extend_from_slice(&[2; 4]);
    }

    #[derive(Clone, Copy)]
    struct Shape {
        packed: bool,
        strings_first: bool,
        unknown: bool,
    }

    const STRINGS: [&str; 10] = [
        "",
        "goroutine",
        "count",
        "main.worker[go.shape.int]",
        "main.go",
        "runtime.gopark",
        "proc.go",
        "runtime.goexit",
        "job",
        "7",
    ];

    /// Two samples: [gopark, worker] ×3 labelled job=7, [worker] ×1 labelled job=42
    /// (a number), and one sample of value 0 that is left out.
    fn tiny(shape: Shape) -> Vec<u8> {
        let extra = |out: &mut Vec<u8>| {
            if shape.unknown {
                unknown_fields(out)
            }
        };
        let ids = |out: &mut Vec<u8>, number: u64, values: &[u64]| {
            if shape.packed {
                len_field(out, number, &msg(|m| values.iter().for_each(|&v| varint(m, v))));
            } else {
                values.iter().for_each(|&v| int_field(out, number, v));
            }
        };
        let strings = |out: &mut Vec<u8>| STRINGS.iter().for_each(|s| len_field(out, 6, s.as_bytes()));
        let mut p = Vec::new();
        extra(&mut p);
        if shape.strings_first {
            strings(&mut p);
        }
        len_field(
            &mut p,
            1,
            &msg(|m| {
                int_field(m, 1, 1);
                int_field(m, 2, 2);
            }),
        );
        let label = |m: &mut Vec<u8>, key: u64, str: u64, num: u64| {
            len_field(
                m,
                3,
                &msg(|l| {
                    extra(l);
                    int_field(l, 1, key);
                    if str != 0 {
                        int_field(l, 2, str);
                    }
                    if num != 0 {
                        int_field(l, 3, num);
                    }
                }),
            )
        };
        len_field(
            &mut p,
            2,
            &msg(|m| {
                ids(m, 1, &[2, 1]);
                extra(m);
                ids(m, 2, &[3]);
                label(m, 8, 9, 0);
            }),
        );
        len_field(
            &mut p,
            2,
            &msg(|m| {
                label(m, 8, 0, 42);
                ids(m, 1, &[1]);
                ids(m, 2, &[1]);
            }),
        );
        len_field(
            &mut p,
            2,
            &msg(|m| {
                ids(m, 1, &[1]);
                ids(m, 2, &[0]);
            }),
        );
        // Locations: 1 = worker, 2 = gopark (inlined, so with goexit's line dropped too).
        for (id, lines) in [(1u64, &[(1u64, 10u64)][..]), (2, &[(2, 20), (3, 1)])] {
            len_field(
                &mut p,
                4,
                &msg(|m| {
                    int_field(m, 1, id);
                    int_field(m, 3, 0x4000);
                    extra(m);
                    for &(function, line) in lines {
                        len_field(
                            m,
                            4,
                            &msg(|l| {
                                int_field(l, 1, function);
                                extra(l);
                                int_field(l, 2, line);
                            }),
                        );
                    }
                }),
            );
        }
        for (id, name, file) in [(1u64, 3u64, 4u64), (2, 5, 6), (3, 7, 6)] {
            len_field(
                &mut p,
                5,
                &msg(|m| {
                    int_field(m, 1, id);
                    int_field(m, 2, name);
                    extra(m);
                    int_field(m, 4, file);
                }),
            );
        }
        int_field(&mut p, 9, 1_700_000_000_000_000_000);
        if !shape.strings_first {
            strings(&mut p);
        }
        extra(&mut p);
        p
    }

    fn tiny_expected() -> Resolved {
        let frame = |f: &str, file: &str, line| (f.to_string(), file.to_string(), line);
        let worker = frame("main.worker[...]", "main.go", 10);
        Resolved {
            kind: "goroutine",
            time_nanos: Some(1_700_000_000_000_000_000),
            notes: vec![],
            goroutines: vec![
                (3, vec![frame("runtime.gopark", "proc.go", 20), worker.clone()], vec![("job".into(), "7".into())]),
                (1, vec![worker], vec![("job".into(), "42".into())]),
            ],
        }
    }

    #[test]
    fn packed_or_not_strings_first_or_last_unknown_fields_or_none() {
        for packed in [true, false] {
            for strings_first in [true, false] {
                for unknown in [true, false] {
                    let data = tiny(Shape { packed, strings_first, unknown });
                    assert_eq!(
                        parse_ok(&data),
                        tiny_expected(),
                        "packed {packed}, strings first {strings_first}, unknown {unknown}"
                    );
                    let reference = parse_with_prost("test", &data, &Limits::default()).unwrap();
                    assert_eq!(resolve(&reference), tiny_expected());
                }
            }
        }
    }

    /// The top-level fields of `data`, each as its bytes.
    fn top_level_fields(data: &[u8]) -> Vec<&[u8]> {
        let mut fields = Fields::new(data);
        let mut out = Vec::new();
        let mut start = 0;
        while fields.next().unwrap().is_some() {
            out.push(&data[start..data.len() - fields.rest.len()]);
            start = data.len() - fields.rest.len();
        }
        out
    }

    #[test]
    fn fields_in_reverse_order_read_the_same() {
        for name in ["go1.27/snapshot-1.pb.gz", "go1.21/snapshot-1.pb.gz", "go1.27/snapshot-1.goroutineleak.pb.gz"] {
            let data = gunzip(&root().join("testdata").join(name));
            // Go writes the string table last: put it first (its entries in their order,
            // which gives their indices), then every other field in reverse.
            let (strings, others): (Vec<&[u8]>, Vec<&[u8]>) =
                top_level_fields(&data).into_iter().partition(|f| f[0] == 6 << 3 | 2);
            assert!(data.ends_with(strings.last().unwrap()));
            let reordered: Vec<u8> = strings.into_iter().chain(others.into_iter().rev()).flatten().copied().collect();
            let mut expected = parse_ok(&data);
            // Samples come in reverse order too.
            expected.goroutines.reverse();
            assert_eq!(parse_ok(&reordered), expected, "{name}");
        }
    }

    #[test]
    fn a_cut_anywhere_but_between_fields_is_malformed() {
        for data in [
            tiny(Shape { packed: true, strings_first: false, unknown: true }),
            gunzip(&root().join("testdata/go1.27/snapshot-1.goroutineleak.pb.gz")),
        ] {
            let mut boundaries = vec![0];
            let mut fields = Fields::new(&data);
            while fields.next().unwrap().is_some() {
                boundaries.push(data.len() - fields.rest.len());
            }
            for cut in 0..data.len() {
                let result = parse("test", &data[..cut], &Limits::default());
                if !boundaries.contains(&cut) {
                    let e = result.err().unwrap_or_else(|| panic!("cut at {cut} parsed")).to_string();
                    assert!(e.starts_with("test: debug0: not a valid pprof protobuf ("), "cut at {cut}: {e}");
                }
            }
        }
    }

    /// Every byte of a real profile set to a few telling values: no panic, and wherever
    /// prost decodes the result, the same snapshot.
    #[test]
    fn corrupt_bytes_never_panic_and_agree_with_prost() {
        let data = gunzip(&root().join("testdata/go1.27/snapshot-1.goroutineleak.pb.gz"));
        let limits = Limits::default();
        let mut agreed = 0;
        for i in 0..data.len() {
            for b in [0x00, 0x01, 0x7f, 0x80, 0xff, data[i] ^ 0x07] {
                let mut corrupt = data.clone();
                corrupt[i] = b;
                let ours = parse("test", &corrupt, &limits);
                if let Ok(reference) = parse_with_prost("test", &corrupt, &limits) {
                    let ours = ours.unwrap_or_else(|e| panic!("byte {i} = {b:#x}: prost decodes it, we say {e}"));
                    assert_eq!(resolve(&ours), resolve(&reference), "byte {i} = {b:#x}");
                    agreed += 1;
                }
            }
        }
        assert!(agreed > data.len(), "{agreed}");
    }

    /// The sample and label fields read off their key byte against the general reader and
    /// prost, on every shape the wire allows (issue 14's straight-line reader): labels of
    /// key and str, key and num, both, neither, out of order, repeated, with unknown fields
    /// and overlong varints; values packed, unpacked and repeated; location ids split
    /// over fields of both kinds; the label before, between and after the other fields.
    #[test]
    fn samples_and_labels_of_any_shape_read_as_prost_reads_them() {
        // Strings as in `tiny`: 8 = "job", 9 = "7".
        let overlong = |out: &mut Vec<u8>, v: u64| out.extend_from_slice(&[0x80 | v as u8, 0x80, 0x80, 0x00]);
        let labels: Vec<(&str, Vec<u8>)> = vec![
            ("key, str", msg(|l| (int_field(l, 1, 8), int_field(l, 2, 9)).1)),
            ("key, num", msg(|l| (int_field(l, 1, 8), int_field(l, 3, 42)).1)),
            ("key, num 2^40", msg(|l| (int_field(l, 1, 8), int_field(l, 3, 1 << 40)).1)),
            ("key, negative num", msg(|l| (int_field(l, 1, 8), int_field(l, 3, -5i64 as u64)).1)),
            ("key, str, num", msg(|l| (int_field(l, 1, 8), int_field(l, 2, 9), int_field(l, 3, 42)).2)),
            ("str, key", msg(|l| (int_field(l, 2, 9), int_field(l, 1, 8)).1)),
            ("key only", msg(|l| int_field(l, 1, 8))),
            ("empty", Vec::new()),
            ("key twice", msg(|l| (int_field(l, 1, 9), int_field(l, 1, 8), int_field(l, 2, 9)).2)),
            ("str twice", msg(|l| (int_field(l, 1, 8), int_field(l, 2, 8), int_field(l, 2, 9)).2)),
            ("num_unit", msg(|l| (int_field(l, 1, 8), int_field(l, 3, 7), int_field(l, 4, 9)).2)),
            ("unknown last", msg(|l| (int_field(l, 1, 8), int_field(l, 2, 9), unknown_fields(l)).2)),
            ("unknown between", msg(|l| (int_field(l, 1, 8), unknown_fields(l), int_field(l, 2, 9)).2)),
            ("overlong varints", {
                let mut l = vec![0x08];
                overlong(&mut l, 8);
                l.push(0x10);
                overlong(&mut l, 9);
                l
            }),
        ];
        let int = |number, v| msg(|m| int_field(m, number, v));
        let len = |number, bytes: &[u8]| msg(|m| len_field(m, number, bytes));
        // Each sample as its fields, so that the label can go between any two.
        let samples: Vec<(&str, Vec<Vec<u8>>)> = vec![
            ("value, ids packed", vec![int(2, 3), len(1, &[2, 1])]),
            ("ids unpacked, value packed", vec![int(1, 2), int(1, 1), len(2, &[3, 9])]),
            ("value twice: the first counts", vec![int(2, 3), int(2, 9), int(1, 1)]),
            ("ids split over kinds", vec![len(1, &[2]), int(2, 3), int(1, 1)]),
            ("value 2^35", vec![int(1, 1), int(2, 1 << 35)]),
        ];
        for (sample_name, fields) in &samples {
            for (label_name, label) in &labels {
                for at in 0..=fields.len() {
                    let mut s = fields[..at].concat();
                    len_field(&mut s, 3, label);
                    s.extend(fields[at..].concat());
                    let data = one_sample_profile(&s);
                    let what = format!("sample {sample_name}, label {label_name} at field {at}: {s:02x?}");
                    let ours = parse("test", &data, &Limits::default());
                    let reference = parse_with_prost("test", &data, &Limits::default());
                    match (ours, reference) {
                        (Ok(ours), Ok(reference)) => assert_eq!(resolve(&ours), resolve(&reference), "{what}"),
                        (ours, reference) => panic!("{what}: {:?} against prost's {:?}", ours.err(), reference.err()),
                    }
                }
            }
        }
        // Go's own shape, as the straight line reads it.
        let s = msg(|m| {
            len_field(m, 1, &[2, 1]);
            int_field(m, 2, 3);
            len_field(m, 3, &labels[0].1);
        });
        let got = parse_ok(&one_sample_profile(&s));
        assert_eq!(got.goroutines.len(), 1);
        assert_eq!(got.goroutines[0].0, 3);
        assert_eq!(got.goroutines[0].2, vec![("job".to_string(), "7".to_string())]);
    }

    /// Labels are interned a batch of samples at a time (`LabelBatch`): across batches, with
    /// sets and strings repeating within and between them, samples skipped (value 0) or
    /// without labels between, every sample's labels and every id come out as interning
    /// one sample at a time (prost's reference) gives them.
    #[test]
    fn labels_interned_in_batches_get_the_ids_of_one_at_a_time() {
        let extra: Vec<String> = (0..150).map(|i| format!("v{i}")).collect();
        let samples: Vec<Vec<u8>> = (0..5 * LabelBatch::SIZE as u64 + 7)
            .map(|i| {
                msg(|m| {
                    len_field(m, 1, &[2, 1]);
                    int_field(m, 2, if i % 11 == 5 { 0 } else { 1 + i % 3 });
                    if i % 13 == 0 {
                        return;
                    }
                    // A value seen often, a new one every third sample, a number; and a
                    // second key on some, given in the wrong order.
                    let value = STRINGS.len() as u64 + if i % 3 == 0 { i / 3 } else { i % 7 };
                    if i % 4 == 1 {
                        len_field(m, 3, &msg(|l| (int_field(l, 1, 2), int_field(l, 3, i % 5)).1));
                    }
                    len_field(m, 3, &msg(|l| (int_field(l, 1, 8), int_field(l, 2, value)).1));
                })
            })
            .collect();
        let data = profile_of(&samples, &extra);
        let ours = parse("test", &data, &Limits::default()).unwrap();
        let reference = parse_with_prost("test", &data, &Limits::default()).unwrap();
        assert_eq!(resolve(&ours), resolve(&reference));
        let ids = |s: &Snapshot| s.goroutines.iter().map(|g| (g.stack, g.labels)).collect::<Vec<_>>();
        assert_eq!(ids(&ours), ids(&reference));
        let distinct: std::collections::BTreeSet<_> = ours.goroutines.iter().map(|g| g.labels).collect();
        assert!(distinct.len() > LabelBatch::SIZE, "{}", distinct.len());
        assert!(distinct.contains(&NO_LABELS));
    }

    /// `tiny`'s strings, locations and functions around one sample.
    fn one_sample_profile(sample: &[u8]) -> Vec<u8> {
        profile_of(&[sample.to_vec()], &[])
    }

    /// `tiny`'s strings, then `extra` ones, with its locations and functions, around
    /// `samples`.
    fn profile_of(samples: &[Vec<u8>], extra: &[String]) -> Vec<u8> {
        let mut p = Vec::new();
        len_field(&mut p, 1, &msg(|m| (int_field(m, 1, 1), int_field(m, 2, 2)).1));
        samples.iter().for_each(|sample| len_field(&mut p, 2, sample));
        for (id, function) in [(1u64, 1u64), (2, 2)] {
            len_field(
                &mut p,
                4,
                &msg(|m| (int_field(m, 1, id), len_field(m, 4, &msg(|l| int_field(l, 1, function)))).1),
            );
        }
        for (id, name, file) in [(1u64, 3u64, 4u64), (2, 5, 6)] {
            len_field(&mut p, 5, &msg(|m| (int_field(m, 1, id), int_field(m, 2, name), int_field(m, 4, file)).2));
        }
        STRINGS.iter().for_each(|s| len_field(&mut p, 6, s.as_bytes()));
        extra.iter().for_each(|s| len_field(&mut p, 6, s.as_bytes()));
        p
    }

    #[test]
    fn malformed_wire_data_names_what_and_where() {
        let cases: &[(&[u8], &str)] = &[
            (b"\x0a\x64\x01\x02\x03", "a length past the end of its message at byte 0"),
            (b"\x48", "a truncated varint at byte 1"),
            (b"\x48\xff\xff", "a truncated varint at byte 1"),
            (b"\x48\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", "a varint longer than 10 bytes at byte 1"),
            (b"\x48\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02", "a varint over 64 bits at byte 1"),
            (b"\x4b", "a group (wire type 3), which profile.proto does not use at byte 0"),
            (b"\x4c", "a group end (wire type 4), which profile.proto does not use at byte 0"),
            (b"\x4e", "an invalid wire type (6 or 7) at byte 0"),
            (b"\x4f", "an invalid wire type (6 or 7) at byte 0"),
            (b"\x48\x01\x07", "a field number out of range at byte 2"),
            (b"\x49\x00\x00", "a truncated 64-bit field at byte 0"),
            (b"\x4d\x00", "a truncated 32-bit field at byte 0"),
            (b"\x10\x05", "Profile.sample at byte 0 is not length-delimited"),
            (b"\x4a\x00", "Profile.time_nanos at byte 0 is not a varint"),
            (b"\x22\x04\x22\x02\x10\x80", "a truncated varint at byte 5"),
            // The samples and strings read off their key byte report as the general reader.
            (b"\x32\x05ab", "a length past the end of its message at byte 0"),
            (b"\x32\x80", "a truncated varint at byte 1"),
            (b"\x12\x02\x10", "a length past the end of its message at byte 0"),
        ];
        for &(data, what) in cases {
            let e = parse_err(data);
            assert_eq!(e, format!("test: debug0: not a valid pprof protobuf ({what})"), "{data:02x?}");
        }
        // Inside samples, which are read once the profile is known to be of goroutines:
        // after these 17 bytes.
        let goroutines = b"\x32\x00\x32\x09goroutine\x0a\x02\x08\x01";
        let cases: &[(&[u8], &str)] = &[
            (b"\x12\x02\x0d\x00", "a truncated 32-bit field at byte 19"),
            (b"\x12\x09\x09\x00\x00\x00\x00\x00\x00\x00\x00", "Sample.location_id at byte 19 is not a varint"),
            (b"\x12\x03\x0a\x01\x80", "a truncated varint at byte 21"),
            (b"\x12\x02\x18\x01", "Sample.label at byte 19 is not length-delimited"),
            (b"\x12\x04\x10\x01\x1a\x01", "a length past the end of its message at byte 21"),
            (b"\x12\x06\x10\x01\x1a\x02\x08\x80", "a truncated varint at byte 24"),
            // Cut inside the fields read off their key byte (value, location ids, labels).
            (b"\x12\x01\x10", "a truncated varint at byte 20"),
            (b"\x12\x02\x10\xff", "a truncated varint at byte 20"),
            (b"\x12\x02\x0a\x05", "a length past the end of its message at byte 19"),
            (b"\x12\x01\x08", "a truncated varint at byte 20"),
            (b"\x12\x05\x10\x01\x1a\x01\x08", "a truncated varint at byte 24"),
            (b"\x12\x07\x10\x01\x1a\x03\x08\x01\x10", "a truncated varint at byte 26"),
            (
                b"\x12\x07\x10\x01\x1a\x03\x08\x01\x1b",
                "a group (wire type 3), which profile.proto does not use at byte 25",
            ),
            (b"\x12\x07\x10\x01\x1a\x03\x08\x01\x11", "a truncated 64-bit field at byte 25"),
            (b"\x12\x08\x10\x01\x1a\x04\x08\x01\x12\x00", "Label.str at byte 25 is not a varint"),
        ];
        for &(sample, what) in cases {
            let e = parse_err(&[&goroutines[..], sample].concat());
            assert_eq!(e, format!("test: debug0: not a valid pprof protobuf ({what})"), "{sample:02x?}");
        }
        // A text dump forced as debug0.
        let e = parse_err(b"goroutine 1 [running]:\nmain.main()\n");
        assert!(e.starts_with("test: debug0: not a valid pprof protobuf ("), "{e}");
    }

    #[test]
    fn profile_checks_keep_their_messages() {
        let goroutine_type = |p: &mut Vec<u8>| {
            len_field(p, 6, b"");
            len_field(p, 6, b"goroutine");
            len_field(p, 1, &msg(|m| int_field(m, 1, 1)));
        };
        // A sample naming a location that is not there.
        let p = msg(|p| {
            goroutine_type(p);
            len_field(
                p,
                2,
                &msg(|m| {
                    int_field(m, 1, 9);
                    int_field(m, 2, 1);
                }),
            );
        });
        assert_eq!(parse_err(&p), "test: debug0: a sample refers to location 9, which the profile does not define");
        // Samples without a sample type.
        let p = msg(|p| len_field(p, 2, &msg(|m| int_field(m, 2, 1))));
        assert_eq!(parse_err(&p), "test: debug0: the profile has samples but no sample type");
        // Another profile.
        let p = msg(|p| {
            len_field(p, 6, b"");
            len_field(p, 6, b"alloc_space");
            len_field(p, 1, &msg(|m| int_field(m, 1, 1)));
        });
        assert_eq!(
            parse_err(&p),
            "test: debug0: a pprof profile of \"alloc_space\", not goroutines (fetch /debug/pprof/goroutine)"
        );
        // An index out of the string table reads as "".
        let p = msg(|p| len_field(p, 1, &msg(|m| int_field(m, 1, 99))));
        assert_eq!(
            parse_err(&p),
            "test: debug0: a pprof profile of \"\", not goroutines (fetch /debug/pprof/goroutine)"
        );
        // Nothing at all: an empty goroutine profile.
        assert_eq!(parse_ok(b"").goroutines, vec![]);
        // A negative value: a delta profile.
        let p = msg(|p| {
            goroutine_type(p);
            len_field(p, 2, &msg(|m| int_field(m, 2, -1i64 as u64)));
        });
        assert_eq!(parse_ok(&p).notes, ["a delta profile (?seconds=N): samples that shrank are left out"]);
        // A location without lines: an unsymbolized address.
        let p = msg(|p| {
            goroutine_type(p);
            len_field(p, 4, &msg(|m| int_field(m, 1, 1)));
            len_field(
                p,
                2,
                &msg(|m| {
                    int_field(m, 1, 1);
                    int_field(m, 2, 1);
                }),
            );
        });
        assert_eq!(parse_ok(&p).goroutines, [(1, vec![("?".into(), "".into(), 0)], vec![])]);
        // Sparse ids: one near u64::MAX.
        let p = msg(|p| {
            goroutine_type(p);
            len_field(p, 4, &msg(|m| int_field(m, 1, u64::MAX)));
            len_field(
                p,
                2,
                &msg(|m| {
                    int_field(m, 1, u64::MAX);
                    int_field(m, 2, 1);
                }),
            );
        });
        assert_eq!(parse_ok(&p).goroutines, [(1, vec![("?".into(), "".into(), 0)], vec![])]);
    }

    #[test]
    fn limits_hold() {
        // One location of 1000 lines, repeated 1000 times by 1000 bytes: stopped before
        // the stack grows to a million frames.
        let p = msg(|p| {
            len_field(p, 6, b"");
            len_field(p, 6, b"goroutine");
            len_field(p, 1, &msg(|m| int_field(m, 1, 1)));
            len_field(p, 5, &msg(|m| int_field(m, 1, 1)));
            len_field(
                p,
                4,
                &msg(|m| {
                    int_field(m, 1, 1);
                    for _ in 0..1000 {
                        len_field(m, 4, &msg(|l| int_field(l, 1, 1)));
                    }
                }),
            );
            len_field(
                p,
                2,
                &msg(|m| {
                    len_field(m, 1, &[1; 1000]);
                    int_field(m, 2, 1);
                    for _ in 0..3 {
                        len_field(m, 3, &msg(|l| int_field(l, 1, 1)));
                    }
                }),
            );
        });
        let limits = Limits { max_frames: 5000, ..Limits::default() };
        let e = parse("test", &p, &limits).err().unwrap().to_string();
        assert_eq!(e, "test: a sample has more than 5000 frames; raise the limit with --max-frames");
        let limits = Limits { max_frames: 1_000_000, max_labels: 2, ..Limits::default() };
        let e = parse("test", &p, &limits).err().unwrap().to_string();
        assert_eq!(e, "test: a sample has more than 2 labels; raise the limit with --max-labels");
        let limits = Limits { max_frames: 1_000_000, max_goroutines: 0, ..Limits::default() };
        let e = parse("test", &p, &limits).err().unwrap().to_string();
        assert_eq!(e, "test: more than 0 samples; raise the limit with --max-goroutines");
    }

    #[test]
    fn generics_read_like_tracebacks() {
        let mut s = String::new();
        super::normalize_generics("main.(*Box[go.shape.string,go.shape.int]).Get", &mut s);
        assert_eq!(s, "main.(*Box[...]).Get");
        s.clear();
        super::normalize_generics("main.G[...].M[...]", &mut s);
        assert_eq!(s, "main.G[...].M[...]");
    }
}
