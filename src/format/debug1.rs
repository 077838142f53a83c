//! `?debug=1` text: `goroutine profile: total N`, then records of identical stacks
//! (`COUNT @ 0x…`), optional `# labels: {…}`, and `#\t0xPC\tfunc+0xOFF\tfile:line` frames.
//! Symbols and labels are kept (pprof's own reader drops both). The runtime hides the
//! leading `runtime.*` frames here, so channel and select waits cannot be told apart:
//! classification says `unknown` for those rather than guess.

use super::labels::parse_label_pairs;
use super::text::parse_u64;
use crate::limits::Limits;
use crate::model::{Format, FrameId, Goroutine, ProfileKind, Snapshot, StackId, NO_LABELS};
use rustc_hash::FxHashMap;

/// True if `data` starts like a debug=1 profile.
pub fn sniff(data: &[u8]) -> bool {
    data.starts_with(b"goroutine profile: total ") || data.starts_with(b"goroutineleak profile: total ")
}

pub fn parse<'a>(source: &str, data: &'a [u8], limits: &Limits) -> crate::Result<Snapshot> {
    let mut snap = Snapshot::new(source, Format::Debug1, ProfileKind::Goroutine);
    let mut stack: Vec<FrameId> = Vec::with_capacity(64);
    let mut cur: Option<Goroutine> = None;
    let mut line_no = 0u64;
    let mut seen_header = false;
    // Frame line as printed (after `#\t`) → frame: a profile repeats a few thousand
    // distinct frame lines over all its records.
    let mut frame_cache: FxHashMap<&[u8], FrameId> = FxHashMap::default();
    let mut label_buf: Vec<(crate::model::Sym, crate::model::Sym)> = Vec::new();
    // The PCs after `@` → the stack they symbolize to, with the text of its frame lines.
    // Records of one stack with different labels repeat the same frame lines: once a PC
    // list is known, identical frame text is stepped over unread.
    let mut by_pcs: FxHashMap<&[u8], (StackId, &[u8])> = FxHashMap::default();
    let mut pcs: &[u8] = &[];
    let mut known: Option<(StackId, &[u8])> = None;
    let mut frames_text: Option<(usize, usize)> = None;

    let flush = |snap: &mut Snapshot,
                 cur: &mut Option<Goroutine>,
                 stack: &mut Vec<FrameId>,
                 by_pcs: &mut FxHashMap<&'a [u8], (StackId, &'a [u8])>,
                 pcs: &'a [u8],
                 frames_text: Option<(usize, usize)>| {
        if let Some(mut g) = cur.take() {
            g.stack = snap.tables.stacks.intern(stack);
            if let Some((start, end)) = frames_text {
                by_pcs.entry(pcs).or_insert((g.stack, &data[start..end]));
            }
            snap.goroutines.push(g);
        }
        stack.clear();
    };

    let mut lines = super::lines::Lines::new(data);
    while let Some((line, complete)) = lines.next() {
        let offset = lines.offset() - line.len() - complete as usize;
        line_no += 1;
        let raw_len = line.len();
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.len() as u64 > limits.max_line {
            return Err(crate::Error::Limit {
                source_name: source.into(),
                message: format!(
                    "line {line_no} is over the line-length limit of {}; raise it with --max-line",
                    limits.max_line
                ),
            });
        }
        let err = |what: &str| {
            crate::Error::parse(
                source,
                format!("debug1:{line_no}: {what}, got {:?}", String::from_utf8_lossy(&line[..line.len().min(80)])),
            )
        };

        if !seen_header {
            // goroutine profile: total 236
            let (kind, n) = if let Some(n) = line.strip_prefix(b"goroutine profile: total ") {
                (ProfileKind::Goroutine, n)
            } else if let Some(n) = line.strip_prefix(b"goroutineleak profile: total ") {
                (ProfileKind::Goroutineleak, n)
            } else {
                return Err(err("expected \"goroutine profile: total N\""));
            };
            snap.profile = kind;
            snap.declared_total = parse_u64(n);
            seen_header = true;
            continue;
        }
        if line.is_empty() {
            flush(&mut snap, &mut cur, &mut stack, &mut by_pcs, pcs, frames_text.take());
            continue;
        }
        if line[0].is_ascii_digit() {
            // 50 @ 0x48a7ca 0x41723c 0x416e37 0x6f8705 0x4915a1
            flush(&mut snap, &mut cur, &mut stack, &mut by_pcs, pcs, frames_text.take());
            let Some(at) = memchr::memchr_iter(b' ', line).find(|&i| line[i + 1..].starts_with(b"@")) else {
                if !complete {
                    snap.truncated = true;
                    break;
                }
                return Err(err("expected \"COUNT @ 0x…\""));
            };
            let Some(count) = parse_u64(&line[..at]) else {
                return Err(err("expected a count before \" @\""));
            };
            pcs = &line[at..];
            known = by_pcs.get(pcs).copied();
            if snap.goroutines.len() as u64 >= limits.max_goroutines {
                return Err(crate::Error::Limit {
                    source_name: source.into(),
                    message: format!(
                        "more than {} records; raise the limit with --max-goroutines",
                        limits.max_goroutines
                    ),
                });
            }
            cur = Some(Goroutine::counted(count, 0, NO_LABELS));
            continue;
        }
        let Some(g) = cur.as_mut() else {
            return Err(err("expected a record \"COUNT @ 0x…\""));
        };
        if let Some(l) = line.strip_prefix(b"# labels: {") {
            // # labels: {"key with space":"va\"l", "worker":"w1"}
            let Some(inner) = l.strip_suffix(b"}") else {
                if !complete {
                    snap.truncated = true;
                    break;
                }
                return Err(err("unterminated label set"));
            };
            let Some(pairs) = parse_label_pairs(inner) else {
                return Err(err("unreadable label set"));
            };
            if pairs.len() as u64 > limits.max_labels {
                return Err(crate::Error::Limit {
                    source_name: source.into(),
                    message: format!(
                        "debug1:{line_no}: more than {} labels; raise the limit with --max-labels",
                        limits.max_labels
                    ),
                });
            }
            let t = &mut snap.tables;
            label_buf.clear();
            label_buf.extend(pairs.iter().map(|(k, v)| (t.strings.intern(k), t.strings.intern(v))));
            g.labels = t.intern_labels(&mut label_buf);
        } else if let Some(f) = line.strip_prefix(b"#\t") {
            if let Some((id, text)) = known.take() {
                // The same frame lines as the first record of these PCs, then a line end.
                if stack.is_empty() && data[offset..].starts_with(text) && data.get(offset + text.len()) == Some(&b'\n')
                {
                    stack.extend_from_slice(snap.tables.stacks.get(id));
                    // One frame per line.
                    line_no += stack.len() as u64 - 1;
                    frames_text = Some((offset, offset + text.len()));
                    lines.seek(offset + text.len() + 1);
                    continue;
                }
            }
            frames_text = Some((frames_text.map_or(offset, |(start, _)| start), offset + raw_len));
            // #	0x6f8704	main.(*server).handleSearch.func1+0xa4		/app/scenarios.go:92
            let id = match frame_cache.get(f) {
                Some(&id) => id,
                None => {
                    let mut cols = f.split(|&b| b == b'\t').filter(|c| !c.is_empty());
                    let _pc = cols.next();
                    let (func, file, lno) = match (cols.next(), cols.next()) {
                        (Some(func), Some(fl)) => {
                            let func = match memchr::memmem::rfind(func, b"+0x") {
                                Some(i) => &func[..i],
                                None => func,
                            };
                            match super::text::parse_file_line(fl) {
                                Some((file, lno)) => (func, file, lno),
                                None if !complete => {
                                    snap.truncated = true;
                                    break;
                                }
                                None => return Err(err("expected file:line")),
                            }
                        }
                        // #	0x4915a1   (no symbol)
                        _ => (&b"?"[..], &b""[..], 0),
                    };
                    let t = &mut snap.tables;
                    let function = t.strings.intern(func);
                    let file = t.strings.intern(file);
                    let id = t.frames.intern(crate::model::Frame { function, file, line: lno });
                    frame_cache.insert(f, id);
                    id
                }
            };
            if stack.len() as u64 >= limits.max_frames {
                return Err(crate::Error::Limit {
                    source_name: source.into(),
                    message: format!(
                        "debug1:{line_no}: more than {} frames; raise the limit with --max-frames",
                        limits.max_frames
                    ),
                });
            }
            stack.push(id);
        } else if !complete {
            snap.truncated = true;
            break;
        } else {
            return Err(err("expected \"# labels:\" or a \"#\\t0x…\" frame line"));
        }
    }
    if !seen_header {
        return Err(crate::Error::parse(source, "debug1: empty profile"));
    }
    flush(&mut snap, &mut cur, &mut stack, &mut by_pcs, pcs, frames_text.take());
    if snap.truncated {
        snap.notes.push(format!("the profile ends in the middle of a record; kept {} records", snap.goroutines.len()));
    }
    if let Some(t) = snap.declared_total {
        let got = snap.total();
        if got != t && !snap.truncated {
            snap.notes.push(format!("the header says total {t}, the records add up to {got}"));
        }
    }
    Ok(snap)
}

#[cfg(test)]
mod tests {
    use super::parse;
    use crate::limits::Limits;
    use crate::model::Snapshot;

    const REAL: &str = include_str!("../../testdata/go1.27/snapshot-3.debug1.txt");

    /// A record resolved to text: count, labels, frames.
    type Record = (u64, Vec<(String, String)>, Vec<String>);

    fn records(s: &Snapshot) -> Vec<Record> {
        let t = &s.tables;
        s.goroutines
            .iter()
            .map(|g| {
                let labels = t.labels(g.labels).map(|(k, v)| (k.to_string(), v.to_string())).collect();
                let frames = t
                    .stacks
                    .get(g.stack)
                    .iter()
                    .map(|&f| format!("{} {}:{}", t.function(f), t.str(t.frame(f).file), t.frame(f).line))
                    .collect();
                (g.count, labels, frames)
            })
            .collect()
    }

    /// The real profile's records again, after it, with new labels: same PCs, so their
    /// frame lines are stepped over, and they must read as the first copies did.
    #[test]
    fn repeated_pcs_read_like_their_first_record() {
        let body = REAL.split_once('\n').unwrap().1;
        let again = body.replace("# labels: {", "# labels: {\"copy\":\"2\", ");
        let twice = format!("{REAL}\n{again}");
        let s = parse("twice", twice.as_bytes(), &Limits::default()).unwrap();
        let one = records(&parse("real", REAL.as_bytes(), &Limits::default()).unwrap());
        let got = records(&s);
        assert_eq!(got.len(), 2 * one.len());
        for (a, b) in one.iter().zip(&got[one.len()..]) {
            assert_eq!((a.0, &a.2), (b.0, &b.2));
        }
    }

    /// Same PCs but other frame text (a hand-edited file): the lines are read.
    #[test]
    fn same_pcs_with_other_frames_are_read() {
        let text = "goroutine profile: total 2\n\
            1 @ 0x1 0x2\n#\t0x1\tmain.a+0x1\t/x/a.go:1\n#\t0x2\tmain.b+0x1\t/x/a.go:2\n\n\
            1 @ 0x1 0x2\n#\t0x1\tmain.c+0x1\t/x/a.go:3\n#\t0x2\tmain.b+0x1\t/x/a.go:2\n";
        let s = parse("edited", text.as_bytes(), &Limits::default()).unwrap();
        let r = records(&s);
        assert_eq!(r[0].2[0], "main.a /x/a.go:1");
        assert_eq!(r[1].2[0], "main.c /x/a.go:3");
    }

    /// Line numbers in errors count the lines that were stepped over.
    #[test]
    fn errors_after_skipped_frames_name_the_right_line() {
        let rec = "1 @ 0x1 0x2\n#\t0x1\tmain.a+0x1\t/x/a.go:1\n#\t0x2\tmain.b+0x1\t/x/a.go:2\n\n";
        let text = format!("goroutine profile: total 3\n{rec}{rec}1 @ 0x9\n#\t0x9\tmain.z+0x1\tno-line-number\n");
        let e = parse("bad", text.as_bytes(), &Limits::default()).unwrap_err().to_string();
        assert!(e.contains("debug1:11:"), "{e}");
    }
}
