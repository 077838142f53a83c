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
use super::logprefix::{strip_prefix, Prefix};
use crate::limits::Limits;
use crate::model::{flags, Format, FrameId, Goroutine, ProfileKind, Snapshot, NONE, NO_LABELS};
use memchr::memchr;

/// Parses every dump in `data`. `log_mode` strips `kubectl logs --timestamps` / CRI line
/// prefixes and names the snapshots [`Format::Log`]. Returns no snapshot when the input
/// holds no goroutine header.
pub fn parse(source: &str, data: &[u8], log_mode: bool, limits: &Limits) -> crate::Result<Vec<Snapshot>> {
    let mut p = Parser::new(source, log_mode, limits);
    let mut rest = data;
    let mut line_no = 0u64;
    while !rest.is_empty() {
        let (line, next, complete) = match memchr(b'\n', rest) {
            Some(i) => (&rest[..i], &rest[i + 1..], true),
            None => (rest, &rest[rest.len()..], false),
        };
        rest = next;
        line_no += 1;
        if line.len() as u64 > limits.max_line {
            return Err(crate::Error::Limit {
                source_name: source.to_string(),
                message: format!(
                    "line {line_no} is {} bytes, over the line-length limit of {}; raise it with --max-line",
                    line.len(),
                    limits.max_line
                ),
            });
        }
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        p.line(line, !complete)?;
    }
    p.finish();
    Ok(p.done)
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

struct Parser<'l> {
    source: String,
    log_mode: bool,
    limits: &'l Limits,
    state: State,
    snap: Snapshot,
    done: Vec<Snapshot>,
    cur: Option<Goroutine>,
    stack: Vec<FrameId>,
    /// A function line waiting for its `\tfile:line`.
    pending_fn: Option<Vec<u8>>,
    /// `created by` function waiting for its file line.
    pending_creator: Option<Vec<u8>>,
    /// The log stream (stdout/stderr) the current dump is written to.
    stream: Option<Vec<u8>>,
    /// Timestamp of the last prefixed log line seen.
    last_ts: Option<i64>,
    preamble: Option<String>,
}

impl<'l> Parser<'l> {
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
            stream: None,
            last_ts: None,
            preamble: None,
        }
    }

    fn line(&mut self, raw: &[u8], last_and_torn: bool) -> crate::Result<()> {
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
                Some(Some(g)) => {
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
                Some(None) => self.state = State::Ancestor,
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
            State::Outside => self.outside_line(line),
            State::Damaged | State::Ancestor => {}
            State::CreatedBy => {
                if line[0] == b'\t' {
                    if let (Some(func), Some((file, lno))) = (self.pending_creator.take(), parse_file_line(&line[1..])) {
                        let id = self.intern_frame(&func, file, lno);
                        if let Some(g) = self.cur.as_mut() {
                            g.creator = id;
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

    fn frame_line(&mut self, line: &[u8], last_and_torn: bool) -> crate::Result<()> {
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
                match parse_file_line(&line[1..]) {
                    Some((file, lno)) => {
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
                        let id = self.intern_frame(&func, file, lno);
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
                let (func, parent) = match memchr::memmem::find(rest, b" in goroutine ") {
                    Some(i) => (&rest[..i], parse_u64(&rest[i + 14..])),
                    None => (rest, None),
                };
                if let Some(g) = self.cur.as_mut() {
                    g.parent = parent.unwrap_or(0);
                }
                self.pending_creator = Some(func.to_vec());
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
                self.pending_fn = Some(function_name(line).to_vec());
            }
        }
        Ok(())
    }

    fn intern_frame(&mut self, func: &[u8], file: &[u8], line: u32) -> FrameId {
        let t = &mut self.snap.tables;
        let function = t.strings.intern(func);
        let file = t.strings.intern(file);
        t.frames.intern(crate::model::Frame { function, file, line })
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

/// Reads a header line. `None`: not readable. `Some(None)`: goroutine 0 (not a goroutine).
fn parse_header(snap: &mut Snapshot, line: &[u8]) -> Option<Option<Goroutine>> {
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
        return Some(None);
    }
    // 1.26: `[chan receive labels:{"a": "1"}]`
    let mut status_part = body;
    if let Some(i) = memchr::memmem::find(body, b" labels:{") {
        status_part = &body[..i];
        let l = &body[i + 9..];
        label_text = Some(l.strip_suffix(b"}").unwrap_or(l));
    }
    let mut g = Goroutine {
        id,
        parent: 0,
        count: 1,
        state: 0,
        stack: 0,
        creator: NONE,
        labels: NO_LABELS,
        minutes: NONE,
        flags: 0,
    };
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
    if let Some(text) = label_text {
        if let Some(pairs) = parse_label_pairs(text) {
            let t = &mut snap.tables;
            let ids = pairs.iter().map(|(k, v)| (t.strings.intern(k), t.strings.intern(v))).collect();
            g.labels = t.intern_labels(ids);
        }
    }
    Some(Some(g))
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
    let mut s = s;
    if let Some(i) = memchr::memmem::rfind(s, b" fp=0x") {
        s = &s[..i];
    }
    if let Some(i) = memchr::memmem::rfind(s, b" +0x") {
        s = &s[..i];
    }
    let colon = memchr::memrchr(b':', s)?;
    let line = parse_u64(&s[colon + 1..])?;
    Some((&s[..colon], line.min(u32::MAX as u64) as u32))
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
