//! `?debug=0`: the pprof protobuf (`proto/profile.proto`), decoded with prost after the
//! caller has gunzipped it. Sample types `goroutine/count` and `goroutineleak/count`.
//!
//! Runtime frames are present here (`runtime.chansend1`, `runtime.selectgo`, …), so the
//! wait state is inferred from them later; there are no goroutine ids, wait minutes or
//! creators. Function names keep the linker's shape names (`F[go.shape.int]`); they are
//! rewritten to the `F[...]` the text formats print, so sites match across formats.

use crate::limits::Limits;
use crate::model::{Format, Frame, FrameId, Goroutine, ProfileKind, Snapshot, NONE, NO_LABELS};
use crate::pb;
use prost::Message;
use rustc_hash::FxHashMap;

/// True if `data` plausibly starts a serialized Profile: a known top-level field tag.
pub fn sniff(data: &[u8]) -> bool {
    // Field numbers 1..=14 with their wire types: LEN for messages/strings/packed, VARINT
    // for the int64 fields. Go writes period_type (11) first: 0x5a.
    matches!(data.first(), Some(0x0a | 0x12 | 0x1a | 0x22 | 0x2a | 0x32 | 0x38 | 0x40 | 0x48 | 0x50 | 0x5a | 0x60 | 0x68 | 0x6a | 0x70))
}

pub fn parse(source: &str, data: &[u8], limits: &Limits) -> crate::Result<Snapshot> {
    let p = pb::Profile::decode(data)
        .map_err(|e| crate::Error::parse(source, format!("debug0: not a valid pprof protobuf ({e})")))?;
    let strings = &p.string_table;
    let s = |i: i64| -> &str { usize::try_from(i).ok().and_then(|i| strings.get(i)).map(String::as_str).unwrap_or("") };

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
        return Err(crate::Error::Limit {
            source_name: source.into(),
            message: format!("more than {} samples; raise the limit with --max-goroutines", limits.max_goroutines),
        });
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
            // An unsymbolized address.
            let function = t.strings.intern(b"?");
            let file = t.strings.intern(b"");
            frames.push(t.frames.intern(Frame { function, file, line: 0 }));
        }
        locations.insert(loc.id, frames);
    }

    let mut stack: Vec<FrameId> = Vec::with_capacity(64);
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
            // Checked before growing: a few bytes repeating one id of a location with
            // many lines would otherwise expand quadratically.
            if (stack.len() + frames.len()) as u64 > limits.max_frames {
                return Err(crate::Error::Limit {
                    source_name: source.into(),
                    message: format!(
                        "a sample has more than {} frames; raise the limit with --max-frames",
                        limits.max_frames
                    ),
                });
            }
            stack.extend_from_slice(frames);
        }
        if sample.label.len() as u64 > limits.max_labels {
            return Err(crate::Error::Limit {
                source_name: source.into(),
                message: format!("a sample has more than {} labels; raise the limit with --max-labels", limits.max_labels),
            });
        }
        let value = sample.value.first().copied().unwrap_or(0);
        if value < 0 {
            negative = true;
        }
        if value <= 0 {
            continue;
        }
        let labels = if sample.label.is_empty() {
            NO_LABELS
        } else {
            let mut ids = sample
                .label
                .iter()
                .map(|l| {
                    let v = if l.str != 0 { s(l.str).to_string() } else { l.num.to_string() };
                    (t.strings.intern_str(s(l.key)), t.strings.intern_str(&v))
                })
                .collect();
            t.intern_labels(&mut ids)
        };
        snap.goroutines.push(Goroutine {
            id: 0,
            parent: 0,
            count: value as u64,
            state: 0,
            stack: t.stacks.intern(&stack),
            creator: NONE,
            labels,
            minutes: NONE,
            flags: 0,
        });
    }
    if negative {
        snap.notes.push("a delta profile (?seconds=N): samples that shrank are left out".into());
    }
    Ok(snap)
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
