//! `?debug=1` text: `goroutine profile: total N`, then records of identical stacks
//! (`COUNT @ 0x…`), optional `# labels: {…}`, and `#\t0xPC\tfunc+0xOFF\tfile:line` frames.
//! Symbols and labels are kept (pprof's own reader drops both). The runtime hides the
//! leading `runtime.*` frames here, so channel and select waits cannot be told apart:
//! classification says `unknown` for those rather than guess.

use super::labels::parse_label_pairs;
use super::text::parse_u64;
use crate::limits::Limits;
use crate::model::{Format, FrameId, Goroutine, ProfileKind, Snapshot, NONE, NO_LABELS};
use rustc_hash::FxHashMap;

/// True if `data` starts like a debug=1 profile.
pub fn sniff(data: &[u8]) -> bool {
    data.starts_with(b"goroutine profile: total ") || data.starts_with(b"goroutineleak profile: total ")
}

pub fn parse(source: &str, data: &[u8], limits: &Limits) -> crate::Result<Snapshot> {
    let mut snap = Snapshot::new(source, Format::Debug1, ProfileKind::Goroutine);
    let mut stack: Vec<FrameId> = Vec::with_capacity(64);
    let mut cur: Option<Goroutine> = None;
    let mut line_no = 0u64;
    let mut seen_header = false;
    // Frame line as printed (after `#\t`) → frame: a profile repeats a few thousand
    // distinct frame lines over all its records.
    let mut frame_cache: FxHashMap<&[u8], FrameId> = FxHashMap::default();

    let flush = |snap: &mut Snapshot, cur: &mut Option<Goroutine>, stack: &mut Vec<FrameId>| {
        if let Some(mut g) = cur.take() {
            g.stack = snap.tables.stacks.intern(stack);
            snap.goroutines.push(g);
        }
        stack.clear();
    };

    for (line, complete) in super::lines::Lines::new(data) {
        line_no += 1;
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
            flush(&mut snap, &mut cur, &mut stack);
            continue;
        }
        if line[0].is_ascii_digit() {
            // 50 @ 0x48a7ca 0x41723c 0x416e37 0x6f8705 0x4915a1
            flush(&mut snap, &mut cur, &mut stack);
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
            if snap.goroutines.len() as u64 >= limits.max_goroutines {
                return Err(crate::Error::Limit {
                    source_name: source.into(),
                    message: format!(
                        "more than {} records; raise the limit with --max-goroutines",
                        limits.max_goroutines
                    ),
                });
            }
            cur = Some(Goroutine {
                id: 0,
                parent: 0,
                count,
                state: 0,
                stack: 0,
                creator: NONE,
                labels: NO_LABELS,
                minutes: NONE,
                flags: 0,
            });
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
            let ids = pairs.iter().map(|(k, v)| (t.strings.intern(k), t.strings.intern(v))).collect();
            g.labels = t.intern_labels(ids);
        } else if let Some(f) = line.strip_prefix(b"#\t") {
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
    flush(&mut snap, &mut cur, &mut stack);
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
