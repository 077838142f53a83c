//! Traceback text: `?debug=2` dumps, panics, fatal errors, SIGQUIT output, and dumps
//! embedded in container logs (line prefixes stripped by [`super::logprefix`]).
//!
//! One hand-written line scanner over `&[u8]` (no regex on the hot path). It owns the
//! grammar of goroutine headers, frame lines, `created by` lines, elision markers and
//! ancestor blocks from Go 1.21 to 1.27; it does no I/O and no classification.
//!
//! A file may hold several dumps (a log with two SIGQUITs): ordinary text between dumps
//! ends one snapshot, and the next header starts another.

use super::labels::parse_label_pairs;
use super::lines::Lines;
use super::logprefix::{strip_prefix, Prefix};
use crate::limits::Limits;
use crate::model::{flags, Format, FrameId, Goroutine, LabelSetId, ProfileKind, Snapshot, NONE, NO_LABELS};
use memchr::memchr;
use rustc_hash::FxHashMap;

/// Parses every dump in `data`. `log_mode` strips `kubectl logs --timestamps` / CRI line
/// prefixes and names the snapshots [`Format::Log`]. Returns no snapshot when the input
/// holds no goroutine header.
///
/// A large plain dump is split at goroutine boundaries and parsed on every core the
/// process may use (`taskset` narrows that); the result is exactly that of one pass.
pub fn parse(source: &str, data: &[u8], log_mode: bool, limits: &Limits) -> crate::Result<Vec<Snapshot>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    parse_threads(source, data, log_mode, limits, threads)
}

/// [`parse`] on at most `threads` threads (1: one pass on the calling thread).
pub fn parse_threads(
    source: &str,
    data: &[u8],
    log_mode: bool,
    limits: &Limits,
    threads: usize,
) -> crate::Result<Vec<Snapshot>> {
    if threads > 1 && !log_mode && data.len() >= PARALLEL_MIN_BYTES {
        if let Some(snaps) = parse_in_chunks(source, data, limits, threads) {
            return Ok(snaps);
        }
    }
    parse_serial(source, data, log_mode, limits)
}

/// Below this size one thread is used. Spawning and merging cost about 0.1 ms plus a
/// table merge proportional to distinct frames; at 4 MiB (~10k goroutines) one thread
/// takes ~5 ms, so a second one already pays (measured with `scripts/bench.sh` on the
/// 10k dump, 2 cores).
const PARALLEL_MIN_BYTES: usize = 4 << 20;

/// One pass over the whole input on the calling thread.
fn parse_serial(source: &str, data: &[u8], log_mode: bool, limits: &Limits) -> crate::Result<Vec<Snapshot>> {
    let mut p = Parser::new(source, log_mode, limits);
    p.feed(data)?;
    p.finish();
    Ok(p.done)
}

/// Parses `data` in up to `chunks` pieces on as many threads and merges them. A later
/// piece stops at the first text between goroutines (a register dump, a second dump): its
/// meaning depends on everything before it, so the merged parser reads on from there
/// itself. `None` when the pieces cannot be merged into exactly what one pass gives (no
/// boundary found, text right after a frame, an error): the caller then parses serially,
/// which also reports an error with the right line number.
pub(crate) fn parse_in_chunks(source: &str, data: &[u8], limits: &Limits, chunks: usize) -> Option<Vec<Snapshot>> {
    let bounds = chunk_bounds(data, chunks);
    if bounds.len() < 3 {
        return None;
    }
    let parts: Vec<&[u8]> = bounds.windows(2).map(|w| &data[w[0]..w[1]]).collect();
    let run = |part, later| {
        let mut p = Parser::new(source, false, limits);
        p.stop_at_text = later;
        p.feed(part).ok()?;
        p.end_goroutine();
        Some(p)
    };
    let outs: Vec<Option<Parser>> = std::thread::scope(|s| {
        let handles: Vec<_> = parts[1..].iter().map(|&part| s.spawn(move || run(part, true))).collect();
        let first = run(parts[0], false);
        std::iter::once(first)
            .chain(handles.into_iter().map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))))
            .collect()
    });
    let mut outs = outs.into_iter();
    let mut first = outs.next()??;
    let rest: Vec<Parser> = outs.collect::<Option<_>>()?;
    // A later piece starts at a header after a blank line, where one pass is between
    // goroutines too; only text outside goroutines (which may end a dump or start a
    // preamble) depends on what came before.
    if rest.iter().any(|p| !p.done.is_empty() || p.outside_text) {
        return None;
    }
    // Pieces after one that stopped are read again by the merged parser.
    let used = rest.iter().position(|p| p.stopped_at.is_some()).map_or(rest.len(), |i| i + 1);
    let total = first.snap.goroutines.len() + rest[..used].iter().map(|p| p.snap.goroutines.len()).sum::<usize>();
    if total as u64 > limits.max_goroutines {
        return None;
    }
    first.snap.goroutines.reserve_exact(total - first.snap.goroutines.len());
    let mut tail = None;
    for (i, mut p) in rest.into_iter().take(used).enumerate() {
        let remap = first.snap.tables.absorb(&p.snap.tables);
        let piece = std::mem::take(&mut p.snap.goroutines);
        crate::model::append_draining(&mut first.snap.goroutines, piece, |g| remap.goroutine(g));
        first.snap.skipped += p.snap.skipped;
        first.snap.truncated |= p.snap.truncated;
        tail = p.stopped_at.map(|at| bounds[i + 1] + at);
    }
    if let Some(at) = tail {
        // One pass is between goroutines here too (the piece stopped only there), and the
        // merged parser is in that state after the blank line that ended its own piece.
        first.feed(&data[at..]).ok()?;
    }
    first.finish();
    Some(first.done)
}

/// Offsets that cut `data` into about `chunks` equal pieces, each later piece starting at
/// a line `goroutine ` right after a blank line. Starts with 0 and ends with the length.
fn chunk_bounds(data: &[u8], chunks: usize) -> Vec<usize> {
    let finder = memchr::memmem::Finder::new(b"\n\ngoroutine ");
    let mut bounds = vec![0];
    for i in 1..chunks {
        let from = (data.len() / chunks * i).max(*bounds.last().unwrap_or(&0));
        match finder.find(&data[from..]) {
            Some(j) if from + j + 2 < data.len() => bounds.push(from + j + 2),
            _ => break,
        }
    }
    bounds.push(data.len());
    bounds
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    /// Between goroutines or dumps.
    Outside,
    /// Inside a goroutine's frames.
    Frames,
    /// After `created by …`, waiting for its file line.
    CreatedBy,
    /// Inside an `[originating from goroutine N]:` block: skipped.
    Ancestor,
    /// After a header that could not be read: skip to the next blank line or header.
    Damaged,
}

/// The parser borrows from the input (`'a`): pending function names and the frame cache
/// are slices of it, so a frame line costs no allocation.
struct Parser<'a, 'l> {
    source: String,
    log_mode: bool,
    limits: &'l Limits,
    state: State,
    snap: Snapshot,
    done: Vec<Snapshot>,
    cur: Option<Goroutine>,
    stack: Vec<FrameId>,
    /// A function line waiting for its `\tfile:line`.
    pending_fn: Option<&'a [u8]>,
    /// `created by` function waiting for its file line.
    pending_creator: Option<&'a [u8]>,
    /// (function name, file line as printed) → frame. A dump of a million goroutines
    /// holds a few thousand distinct frame lines; this turns three table lookups and the
    /// file-line scan into one hash of the raw bytes. Lines with `fp=`/`sp=` (different
    /// for every goroutine) are not cached, so the cache stays as small as the program.
    frame_cache: FxHashMap<FrameKey<'a>, FrameId>,
    /// Label text as printed in a header → label set (the same set prints the same way).
    label_cache: FxHashMap<&'a [u8], LabelSetId>,
    /// Text other than goroutines was seen (a preamble, a second dump, a register dump).
    outside_text: bool,
    /// A later piece of a parallel parse: stop at the first text between goroutines.
    stop_at_text: bool,
    /// Set on such text; `feed` then stops and notes where (offset into the fed data).
    stopped: bool,
    stopped_at: Option<usize>,
    /// The log stream (stdout/stderr) the current dump is written to.
    stream: Option<Vec<u8>>,
    /// Timestamp of the last prefixed log line seen.
    last_ts: Option<i64>,
    preamble: Option<String>,
}

impl<'a, 'l> Parser<'a, 'l> {
    fn new(source: &str, log_mode: bool, limits: &'l Limits) -> Self {
        Parser {
            source: source.to_string(),
            log_mode,
            limits,
            state: State::Outside,
            snap: Snapshot::new(source, Format::Debug2, ProfileKind::Goroutine),
            done: Vec::new(),
            cur: None,
            stack: Vec::with_capacity(64),
            pending_fn: None,
            pending_creator: None,
            frame_cache: FxHashMap::default(),
            label_cache: FxHashMap::default(),
            outside_text: false,
            stop_at_text: false,
            stopped: false,
            stopped_at: None,
            stream: None,
            last_ts: None,
            preamble: None,
        }
    }

    /// Feeds every line of `data`, the last one possibly torn.
    fn feed(&mut self, data: &'a [u8]) -> crate::Result<()> {
        let mut line_no = 0u64;
        for (line, complete) in Lines::new(data) {
            line_no += 1;
            if line.len() as u64 > self.limits.max_line {
                return Err(crate::Error::Limit {
                    source_name: self.source.clone(),
                    message: format!(
                        "line {line_no} is {} bytes, over the line-length limit of {}; raise it with --max-line",
                        line.len(),
                        self.limits.max_line
                    ),
                });
            }
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            self.line(line, !complete)?;
            if self.stopped {
                self.stopped_at = Some(line.as_ptr() as usize - data.as_ptr() as usize);
                return Ok(());
            }
        }
        Ok(())
    }

    fn line(&mut self, raw: &'a [u8], last_and_torn: bool) -> crate::Result<()> {
        let mut line = raw;
        if self.log_mode {
            let Prefix { rest, time_nanos, stream } = strip_prefix(raw);
            if let (Some(want), Some(got)) = (&self.stream, stream) {
                if want.as_slice() != got && (self.cur.is_some() || !self.snap.goroutines.is_empty()) {
                    // Another stream's line in the middle of a dump: not part of it.
                    return Ok(());
                }
            }
            if time_nanos.is_some() {
                self.last_ts = time_nanos;
            }
            if stream.is_some() && self.cur.is_none() && self.snap.goroutines.is_empty() {
                self.stream = stream.map(|s| s.to_vec());
            }
            line = rest;
        }

        if line.is_empty() {
            self.end_goroutine();
            self.state = State::Outside;
            return Ok(());
        }

        // goroutine 18 gp=0xc000102a80 m=nil [chan send, 3 minutes, locked to thread]:
        if line.starts_with(b"goroutine ") && line.len() > 10 && line[10].is_ascii_digit() {
            self.end_goroutine();
            match parse_header(&mut self.snap, line) {
                Some(Header::Goroutine(mut g, label_text)) => {
                    if let Some(text) = label_text {
                        g.labels = self.intern_labels(text);
                    }
                    if self.snap.goroutines.is_empty() && self.snap.time_nanos.is_none() {
                        self.snap.time_nanos = self.last_ts;
                    }
                    if g.labels != NO_LABELS
                        && self.snap.tables.labels(g.labels).count() as u64 > self.limits.max_labels
                    {
                        return Err(crate::Error::Limit {
                            source_name: self.source.clone(),
                            message: format!(
                                "goroutine {} has more than {} labels; raise the limit with --max-labels",
                                g.id, self.limits.max_labels
                            ),
                        });
                    }
                    if self.snap.goroutines.len() as u64 >= self.limits.max_goroutines {
                        return Err(crate::Error::Limit {
                            source_name: self.source.clone(),
                            message: format!(
                                "more than {} goroutines in one dump; raise the limit with --max-goroutines",
                                self.limits.max_goroutines
                            ),
                        });
                    }
                    self.cur = Some(g);
                    self.state = State::Frames;
                }
                // goroutine 0 (a g0 stack, not a goroutine): read its frames, keep nothing.
                Some(Header::Zero) => self.state = State::Ancestor,
                None => {
                    if last_and_torn {
                        self.snap.truncated = true;
                    } else {
                        self.snap.skipped += 1;
                    }
                    self.state = State::Damaged;
                }
            }
            return Ok(());
        }

        match self.state {
            // registers: rax 0x0 (text after a blank line, between goroutines)
            State::Outside if self.stop_at_text && line != b"-----" => self.stopped = true,
            State::Outside => self.outside_line(line),
            State::Damaged | State::Ancestor => {}
            State::CreatedBy => {
                // \t/app/server.go:88 +0x1c5
                if line[0] == b'\t' {
                    if let Some(func) = self.pending_creator.take() {
                        if let Some(id) = self.frame(func, &line[1..]) {
                            if let Some(g) = self.cur.as_mut() {
                                g.creator = id;
                            }
                        }
                    }
                }
                self.pending_creator = None;
                self.state = State::Frames;
            }
            State::Frames => self.frame_line(line, last_and_torn)?,
        }
        Ok(())
    }

    fn outside_line(&mut self, line: &[u8]) {
        // -----  separates the per-M dumps of GOTRACEBACK=crash: the same dump goes on.
        if line == b"-----" {
            return;
        }
        self.outside_text = true;
        let is_preamble = line.starts_with(b"panic: ")
            || line.starts_with(b"fatal error: ")
            || line.starts_with(b"SIGQUIT: ")
            || (line.starts_with(b"SIG") && line.contains(&b':'))
            || line.starts_with(b"fatal: morestack");
        if !self.snap.goroutines.is_empty() && !line.starts_with(b"PC=") && !line.starts_with(b"[signal ") {
            // Ordinary text after goroutines ends this dump (register dump, log lines).
            self.finish_snapshot();
        }
        if is_preamble && self.snap.goroutines.is_empty() {
            self.preamble = Some(String::from_utf8_lossy(line).into_owned());
            self.stream = None;
        }
    }

    fn frame_line(&mut self, line: &'a [u8], last_and_torn: bool) -> crate::Result<()> {
        match line[0] {
            b'\t' => {
                // \t/usr/local/go/src/runtime/chan.go:283 +0x3b fp=0xc… sp=0xc… pc=0x40…
                let Some(func) = self.pending_fn.take() else {
                    // \tgoroutine running on other thread; stack unavailable
                    if let Some(g) = self.cur.as_mut() {
                        g.flags |= flags::PARTIAL;
                    }
                    return Ok(());
                };
                match self.frame(func, &line[1..]) {
                    Some(id) => {
                        if self.stack.len() as u64 >= self.limits.max_frames {
                            return Err(crate::Error::Limit {
                                source_name: self.source.clone(),
                                message: format!(
                                    "goroutine {} has more than {} frames; raise the limit with --max-frames",
                                    self.cur.map(|g| g.id).unwrap_or(0),
                                    self.limits.max_frames
                                ),
                            });
                        }
                        self.stack.push(id);
                    }
                    None if last_and_torn => self.snap.truncated = true,
                    None => {}
                }
            }
            // ...12 frames elided...
            b'.' if line.starts_with(b"...") => {
                if let Some(g) = self.cur.as_mut() {
                    g.flags |= flags::PARTIAL;
                }
            }
            // [originating from goroutine 9]:
            b'[' if line.starts_with(b"[originating from goroutine ") => {
                self.pending_fn = None;
                self.state = State::Ancestor;
            }
            // created by main.(*server).handle in goroutine 7
            b'c' if line.starts_with(b"created by ") => {
                self.pending_fn = None;
                let rest = &line[11..];
                let (func, parent) = match find_at_byte(rest, b' ', b" in goroutine ") {
                    Some(i) => (&rest[..i], parse_u64(&rest[i + 14..])),
                    None => (rest, None),
                };
                if let Some(g) = self.cur.as_mut() {
                    g.parent = parent.unwrap_or(0);
                }
                self.pending_creator = Some(func);
                self.state = State::CreatedBy;
            }
            _ => {
                if last_and_torn {
                    self.snap.truncated = true;
                    return Ok(());
                }
                // main.(*server).handleSearch.func1(0xc000010000, {0x5d8e40, 0xc00001c0a8})
                // A function line not followed by its file line is text after the dump;
                // the check happens when the next line arrives.
                if self.pending_fn.is_some() {
                    // Two function lines in a row: the goroutine ended before this text.
                    self.end_goroutine();
                    self.state = State::Outside;
                    self.outside_line(line);
                    return Ok(());
                }
                self.pending_fn = Some(function_name(line));
            }
        }
        Ok(())
    }

    /// The frame of a function name and the file line after it (tab removed); `None` if
    /// the file line cannot be read.
    fn frame(&mut self, func: &'a [u8], file_line: &'a [u8]) -> Option<FrameId> {
        if let Some(&id) = self.frame_cache.get(&FrameKey { func, file_line }) {
            return Some(id);
        }
        // \t/usr/local/go/src/runtime/proc.go:435 +0x29 fp=0xc000052f38 sp=0xc000052f18 pc=0x43e2ae
        // (GOTRACEBACK=system and crash dumps): fp/sp differ per goroutine, so the key
        // stops before them, and is looked up again.
        let key = cut_frame_pointers(file_line);
        if key.len() != file_line.len() {
            if let Some(&id) = self.frame_cache.get(&FrameKey { func, file_line: key }) {
                return Some(id);
            }
        }
        let (file, line) = parse_file_line_without_frame_pointers(key)?;
        let t = &mut self.snap.tables;
        let function = t.strings.intern(func);
        let file = t.strings.intern(file);
        let id = t.frames.intern(crate::model::Frame { function, file, line });
        self.frame_cache.insert(FrameKey { func, file_line: key }, id);
        Some(id)
    }

    /// Interns the label text of a header (between the braces).
    fn intern_labels(&mut self, text: &'a [u8]) -> LabelSetId {
        if let Some(&id) = self.label_cache.get(text) {
            return id;
        }
        let id = match parse_label_pairs(text) {
            Some(pairs) => {
                let t = &mut self.snap.tables;
                let mut ids = pairs.iter().map(|(k, v)| (t.strings.intern(k), t.strings.intern(v))).collect();
                t.intern_labels(&mut ids)
            }
            None => NO_LABELS,
        };
        self.label_cache.insert(text, id);
        id
    }

    fn end_goroutine(&mut self) {
        if self.pending_fn.take().is_some() {
            if let Some(g) = self.cur.as_mut() {
                g.flags |= flags::PARTIAL;
            }
        }
        self.pending_creator = None;
        if let Some(mut g) = self.cur.take() {
            g.stack = self.snap.tables.stacks.intern(&self.stack);
            self.snap.goroutines.push(g);
        }
        self.stack.clear();
    }

    fn finish_snapshot(&mut self) {
        self.end_goroutine();
        let fresh = Snapshot::new(&self.source, Format::Debug2, ProfileKind::Goroutine);
        let mut snap = std::mem::replace(&mut self.snap, fresh);
        // The caches hold ids of the finished snapshot's tables.
        self.frame_cache.clear();
        self.label_cache.clear();
        let preamble = self.preamble.take();
        if snap.goroutines.is_empty() && snap.skipped == 0 {
            return;
        }
        snap.format = if self.log_mode {
            Format::Log
        } else {
            match preamble.as_deref() {
                Some(p) if p.starts_with("SIG") => Format::Sigquit,
                Some(_) => Format::Panic,
                None => Format::Debug2,
            }
        };
        if snap.goroutines.iter().any(|g| g.has(flags::LEAKED)) {
            // Only the goroutineleak profile marks goroutines; later dumps of the same
            // process keep the mark, so this is a hint, not proof of the endpoint.
            snap.notes.push("goroutines marked (leaked) by the runtime's leak detector".into());
        }
        if snap.truncated {
            snap.notes.push(format!(
                "the dump ends in the middle of a goroutine (cut off? debug=2 stops at 64 MiB); kept {} goroutines",
                snap.goroutines.len()
            ));
        }
        if snap.skipped > 0 {
            snap.notes.push(format!("{} damaged goroutine header(s) skipped", snap.skipped));
        }
        snap.preamble = preamble;
        self.stream = None;
        self.done.push(snap);
    }

    fn finish(&mut self) {
        self.end_goroutine();
        self.finish_snapshot();
    }
}

/// A readable goroutine header.
enum Header<'a> {
    /// A goroutine and the text of its label set, if any.
    Goroutine(Goroutine, Option<&'a [u8]>),
    /// `goroutine 0`: a g0 stack, not a goroutine.
    Zero,
}

/// Reads a header line: the goroutine and its label text (interned by the caller).
/// `None`: not readable.
fn parse_header<'a>(snap: &mut Snapshot, line: &'a [u8]) -> Option<Header<'a>> {
    let rest = &line[10..];
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    let id = parse_u64(&rest[..digits])?;
    let rest = &rest[digits..];
    // Optional ` gp=0x… m=N mp=0x…` (1.22+, level 2) before the bracket.
    let open = memchr(b'[', rest)?;
    let pre = &rest[..open];
    if !(pre == b" " || pre.starts_with(b" gp=")) {
        return None;
    }
    let body_start = open + 1;
    let close = body_start + find_close_bracket(&rest[body_start..])?;
    let body = &rest[body_start..close];
    let after = &rest[close + 1..];
    // `]:` or 1.27 `] {k: v, …}:`
    let after = after.strip_suffix(b":")?;
    let mut label_text: Option<&[u8]> = None;
    if !after.is_empty() {
        let l = after.strip_prefix(b" {")?.strip_suffix(b"}")?;
        label_text = Some(l);
    }
    if id == 0 {
        return Some(Header::Zero);
    }
    // 1.26: `[chan receive labels:{"a": "1"}]`
    let mut status_part = body;
    if let Some(i) = find_at_byte(body, b' ', b" labels:{") {
        status_part = &body[..i];
        let l = &body[i + 9..];
        label_text = Some(l.strip_suffix(b"}").unwrap_or(l));
    }
    let mut g = Goroutine { id, ..Goroutine::counted(1, 0, NO_LABELS) };
    let mut parts = status_part.split(|&b| b == b',');
    let mut status = parts.next().unwrap_or(b"");
    for p in parts {
        let p = p.strip_prefix(b" ").unwrap_or(p);
        if let Some(n) = p.strip_suffix(b" minutes") {
            g.minutes = parse_u64(n).map(|n| n.min(u32::MAX as u64 - 1) as u32).unwrap_or(NONE);
        } else if p == b"locked to thread" {
            g.flags |= flags::LOCKED;
        }
        // `synctest group N` (1.24) / `synctest bubble N` (1.25+) and anything newer: kept
        // out of the state, ignored.
    }
    loop {
        if let Some(s) = status.strip_suffix(b" (leaked)") {
            g.flags |= flags::LEAKED;
            status = s;
        } else if let Some(s) = status.strip_suffix(b" (scan)") {
            g.flags |= flags::SCAN;
            status = s;
        } else if let Some(s) = status.strip_suffix(b" (durable)") {
            g.flags |= flags::DURABLE;
            status = s;
        } else {
            break;
        }
    }
    if status == b"leaked" {
        g.flags |= flags::LEAKED;
    }
    g.state = snap.tables.strings.intern(status);
    Some(Header::Goroutine(g, label_text))
}

/// Index of the `]` closing a header's bracket, skipping `]` inside quoted label text.
fn find_close_bracket(s: &[u8]) -> Option<usize> {
    let mut in_quote = false;
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'\\' if in_quote => i += 1,
            b'"' => in_quote = !in_quote,
            b']' if !in_quote => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

/// `main.(*T).m(0x1, {0x2?})` → `main.(*T).m`; `panic({…})` → `runtime.gopanic`.
/// A frame as printed: function name and file line. Hashed by the file line alone, whose
/// `+0x` offset makes it all but unique, so half the bytes are hashed; both are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FrameKey<'a> {
    func: &'a [u8],
    file_line: &'a [u8],
}

impl std::hash::Hash for FrameKey<'_> {
    #[inline]
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.file_line.hash(h);
        // And the function's length and last 8 bytes: a hostile dump (issue 15) put
        // thousands of functions on one file line, and hashing the line alone made each
        // lookup a long scan. Not the whole name, which cost 10% more instructions on a
        // debug=2 dump (callgrind).
        let f = self.func;
        let tail = match f.len().checked_sub(8) {
            Some(at) => u64::from_le_bytes(f[at..].try_into().expect("8 bytes")),
            None => f.iter().fold(0u64, |w, &x| w << 8 | x as u64),
        };
        h.write_u64(tail ^ f.len() as u64);
    }
}

pub(crate) fn function_name(line: &[u8]) -> &[u8] {
    let name = match (line.last(), memchr::memrchr(b'(', line)) {
        (Some(b')'), Some(i)) if i > 0 => &line[..i],
        _ => line,
    };
    // Arguments can hold `{…}` but never `(`; a `(` inside them would only come from
    // `(...)`, which memrchr finds first. Receivers `(*T)` come before the last `(`.
    if name == b"panic" {
        b"runtime.gopanic"
    } else {
        name
    }
}

/// `/app/x.go:92 +0x3b fp=… sp=… pc=…` → (`/app/x.go`, 92). Parsed from the right, since
/// paths may hold spaces or colons.
pub(crate) fn parse_file_line(s: &[u8]) -> Option<(&[u8], u32)> {
    parse_file_line_without_frame_pointers(cut_frame_pointers(s))
}

/// A file line up to its last ` fp=0x…` (which `sp=`, `pc=` follow).
fn cut_frame_pointers(s: &[u8]) -> &[u8] {
    match rfind_after_space(s, b"fp=0x") {
        Some(i) => &s[..i],
        None => s,
    }
}

/// [`parse_file_line`] after [`cut_frame_pointers`].
fn parse_file_line_without_frame_pointers(s: &[u8]) -> Option<(&[u8], u32)> {
    let mut s = s;
    if let Some(i) = rfind_after_space(s, b"+0x") {
        s = &s[..i];
    }
    let colon = memchr::memrchr(b':', s)?;
    let line = parse_u64(&s[colon + 1..])?;
    Some((&s[..colon], line.min(u32::MAX as u64) as u32))
}

/// The first index of `needle` (which starts with `first`) in `s`, trying only the places
/// where `first` occurs: on these short lines that beats `memmem::find`, which builds a
/// searcher on every call.
fn find_at_byte(s: &[u8], first: u8, needle: &[u8]) -> Option<usize> {
    memchr::memchr_iter(first, s).find(|&i| s[i..].starts_with(needle))
}

/// The last index of `" " + word` in `s`. Walks the spaces from the right with `memrchr`:
/// a file line has one or two, so this beats a general substring search (which builds a
/// searcher per call and was the top entry of the profile).
fn rfind_after_space(s: &[u8], word: &[u8]) -> Option<usize> {
    let mut end = s.len();
    while let Some(i) = memchr::memrchr(b' ', &s[..end]) {
        if s[i + 1..].starts_with(word) {
            return Some(i);
        }
        end = i;
    }
    None
}

pub(crate) fn parse_u64(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 19 {
        return None;
    }
    let mut n = 0u64;
    for &b in s {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n * 10 + (b - b'0') as u64;
    }
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Everything a snapshot holds that output can depend on, with the groups it renders
    /// to under every grouping, as text.
    fn fingerprint(snaps: &mut [Snapshot]) -> String {
        use crate::group::{group, GroupBy, GroupSettings};
        let mut out = String::new();
        for s in snaps.iter_mut() {
            let t = &s.tables;
            let strings: Vec<&str> = (0..t.strings.len() as u32).map(|i| t.strings.get(i)).collect();
            let frames: Vec<_> = (0..t.frames.len() as u32).map(|i| *t.frames.get(i)).collect();
            let stacks: Vec<_> = (0..t.stacks.len() as u32).map(|i| t.stacks.get(i).to_vec()).collect();
            let labels: Vec<_> = (0..t.label_sets.len() as u32).map(|i| t.label_sets.get(i).to_vec()).collect();
            out += &format!(
                "{:?} {:?} {} {} {:?} {:?}\n{strings:?}\n{frames:?}\n{stacks:?}\n{labels:?}\n{:?}\n",
                s.format, s.preamble, s.skipped, s.truncated, s.notes, s.time_nanos, s.goroutines
            );
            for by in [GroupBy::Site, GroupBy::Stack, GroupBy::Creator, GroupBy::Label("shard".into())] {
                let r = group(s, &GroupSettings { by, ..GroupSettings::default() });
                let mut json = Vec::new();
                crate::report::show_json(&mut json, &[r]).unwrap();
                out += &String::from_utf8(json).unwrap();
            }
        }
        out
    }

    /// Issue 6: N threads must give exactly the output of one.
    #[test]
    fn chunks_merge_to_one_pass() {
        let limits = Limits::default();
        let mut inputs: Vec<(String, Vec<u8>)> = Vec::new();
        for version in ["go1.21", "go1.24", "go1.27"] {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata").join(version);
            let Ok(rd) = std::fs::read_dir(&dir) else { continue };
            let mut files: Vec<_> = rd.filter_map(|e| e.ok()).map(|e| e.path()).collect();
            files.sort();
            for f in files.into_iter().filter(|f| f.extension().is_some_and(|e| e == "txt")) {
                let data = std::fs::read(&f).unwrap();
                // The dump three times over, then a torn goroutine and a damaged header.
                let mut big = data.repeat(3);
                big.extend_from_slice(
                    b"\ngoroutine 77 [select:\nmain.f()\n\t/a.go:1\n\ngoroutine 78 [chan send]:\nmain.g()\n\t/a.go:",
                );
                inputs.push((f.display().to_string(), data));
                inputs.push((format!("{} x3", f.display()), big));
            }
        }
        assert!(inputs.len() >= 10, "testdata dumps found: {}", inputs.len());
        let mut merged = 0;
        for (name, data) in &inputs {
            let mut one = parse_serial(name, data, false, &limits).unwrap();
            let want = fingerprint(&mut one);
            for chunks in [2, 3, 8] {
                if let Some(mut got) = parse_in_chunks(name, data, &limits, chunks) {
                    merged += 1;
                    assert!(fingerprint(&mut got) == want, "{name}: {chunks} chunks differ from one pass");
                }
            }
        }
        assert!(merged >= inputs.len(), "only {merged} of {} inputs were split", inputs.len() * 3);
    }

    fn one(text: &str) -> Snapshot {
        let mut v = parse("t", text.as_bytes(), false, &Limits::default()).unwrap();
        assert_eq!(v.len(), 1, "one snapshot");
        v.remove(0)
    }

    #[test]
    fn header_annotations() {
        let s = one("goroutine 7 gp=0xc0 m=nil [chan send (leaked) (scan), 12 minutes, locked to thread]:\nmain.f()\n\t/a.go:3 +0x1\n");
        let g = s.goroutines[0];
        assert_eq!(g.id, 7);
        assert_eq!(s.tables.str(g.state), "chan send");
        assert_eq!(g.minutes(), Some(12));
        assert!(g.has(flags::LOCKED) && g.has(flags::LEAKED) && g.has(flags::SCAN));
    }

    #[test]
    fn labels_go126_inside_and_go127_after() {
        let s = one("goroutine 8 [chan receive labels:{\"a\": \"1]\", \"k s\": \"v\\\"q\"}]:\nmain.f()\n\t/a.go:3\n");
        let g = s.goroutines[0];
        assert_eq!(s.tables.str(g.state), "chan receive");
        let l: Vec<_> = s.tables.labels(g.labels).collect();
        assert_eq!(l, vec![("a", "1]"), ("k s", "v\"q")]);

        let s = one("goroutine 8 [select] {component: \"billing-exporter\", shard: 1}:\nmain.f()\n\t/a.go:3\n");
        let l: Vec<_> = s.tables.labels(s.goroutines[0].labels).collect();
        assert_eq!(l, vec![("component", "billing-exporter"), ("shard", "1")]);
    }

    #[test]
    fn file_line_from_the_right() {
        assert_eq!(parse_file_line(b"/a b/c.go:12 +0x1f fp=0x1 sp=0x2 pc=0x3"), Some((&b"/a b/c.go"[..], 12)));
        assert_eq!(parse_file_line(b"C:/x/y.go:7"), Some((&b"C:/x/y.go"[..], 7)));
        assert_eq!(parse_file_line(b"no line here"), None);
    }

    #[test]
    fn torn_tail_is_kept_and_reported() {
        let s = one("goroutine 1 [select]:\nmain.f()\n\t/a.go:3 +0x1\n\ngoroutine 2 [chan send]:\nmain.g()\n\t/a.go:");
        assert_eq!(s.goroutines.len(), 2);
        assert!(s.truncated);
    }

    #[test]
    fn damaged_header_is_skipped_not_fatal() {
        let s = one("goroutine 1 [select:\nmain.f()\n\t/a.go:3\n\ngoroutine 2 [chan send]:\nmain.g()\n\t/a.go:4\n");
        assert_eq!(s.goroutines.len(), 1);
        assert_eq!(s.skipped, 1);
    }
}
