//! Input formats: detection and dispatch to one parser per format.
//!
//! Every parser has the same face: `sniff(&[u8]) -> bool` where the format can be told
//! from its first bytes, and `parse(source, data, limits)` returning snapshots or an error
//! that names the input. Nothing here does I/O; bytes come from [`crate::source`].

mod cores;
pub mod debug1;
pub(crate) mod escaped;
pub(crate) mod fingerprint;
pub(crate) mod labels;
pub(crate) mod lines;
pub(crate) mod logprefix;
pub mod pprof;
pub mod text;

use crate::limits::Limits;
use crate::model::{Format, Snapshot};
use crate::Error;
use std::borrow::Cow;
use std::io::Read;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Parses `data` (auto-detected unless `forced`) into one or more snapshots.
pub fn parse(source: &str, data: &[u8], forced: Option<Format>, limits: &Limits) -> crate::Result<Vec<Snapshot>> {
    let data = gunzip_if_needed(source, data, limits)?;
    let data: &[u8] = &data;
    let format = match forced {
        Some(f) => f,
        None => detect(source, data)?,
    };
    let snaps = match format {
        Format::Debug0 => vec![pprof::parse(source, data, limits)?],
        Format::Debug1 => vec![parse_debug1(source, data, limits)?],
        Format::Debug2 | Format::Panic | Format::Sigquit => text::parse(source, data, false, limits)?,
        Format::Log => match escaped::decode(data) {
            // A dump inside JSON records or quoted logfmt values: read from the decoded text.
            Some(decoded) => text::parse(source, &decoded, true, limits)?,
            None => text::parse(source, data, true, limits)?,
        },
    };
    if snaps.is_empty() {
        let hint = match forced {
            Some(f) => format!("; it does not read as {f}: leave out --format to detect the format"),
            None => String::new(),
        };
        return Err(Error::parse(
            source,
            format!("no goroutine found in the input (no \"goroutine N [state]:\" header){hint}"),
        ));
    }
    if snaps.len() as u64 > limits.max_snapshots {
        return Err(Error::Limit {
            source_name: source.into(),
            message: format!(
                "more than {} dumps in one input; raise the limit with --max-snapshots",
                limits.max_snapshots
            ),
        });
    }
    Ok(snaps)
}

/// debug=1 text, also when pasted: text before the `goroutine profile:` line (a Markdown
/// fence, a sentence) is left out, and if the profile does not read to the end, it is read
/// again up to the first line that is not part of a profile (a closing fence, `...`, the
/// rest of a comment). A plain profile takes the first attempt only.
fn parse_debug1(source: &str, data: &[u8], limits: &Limits) -> crate::Result<Snapshot> {
    let start = profile_header(data).unwrap_or(0);
    let data = &data[start..];
    match debug1::parse(source, data, limits) {
        Ok(s) => Ok(s),
        Err(e) => {
            let end = debug1_end(data);
            if end == data.len() {
                return Err(e);
            }
            debug1::parse(source, &data[..end], limits).map_err(|_| e)
        }
    }
}

/// The offset of the `goroutine profile: total N` line (at a line start), if any.
fn profile_header(data: &[u8]) -> Option<usize> {
    memchr::memmem::find_iter(data, b"goroutine profile: total ").find(|&at| at == 0 || data[at - 1] == b'\n')
}

/// The end of the debug=1 lines that start `data`: the header, records (`N @ 0x…`), their
/// `#` lines and blank lines.
fn debug1_end(data: &[u8]) -> usize {
    let mut at = 0;
    for (i, line) in data.split(|&b| b == b'\n').enumerate() {
        let l = line.strip_suffix(b"\r").unwrap_or(line);
        let ok = i == 0 || l.is_empty() || l[0] == b'#' || l[0].is_ascii_digit();
        if !ok {
            return at;
        }
        at = (at + line.len() + 1).min(data.len());
    }
    data.len()
}

/// Tells the format from the content.
pub fn detect(source: &str, data: &[u8]) -> crate::Result<Format> {
    let unknown = |why: &str| Error::UnknownFormat { source_name: source.into(), why: why.into() };
    if data.is_empty() {
        return Err(unknown("the input is empty"));
    }
    let trimmed = trim_leading_space(data);
    if debug1::sniff(trimmed) {
        return Ok(Format::Debug1);
    }
    // A debug=1 profile pasted after other text (a Markdown fence), with no traceback
    // header before it; looked for near the start only, so a large dump is not scanned.
    if let Some(at) = profile_header(&data[..data.len().min(64 << 10)]) {
        if first_header(&data[..at]).is_none() && debug1::sniff(&data[at..]) {
            return Ok(Format::Debug1);
        }
    }
    let head = &data[..data.len().min(4096)];
    let binary = head.iter().filter(|&&b| b < 0x09 || (0x0e..0x20).contains(&b)).count() * 20 > head.len();
    if binary {
        if pprof::sniff(data) {
            return Ok(Format::Debug0);
        }
        return Err(unknown("binary data that is neither gzip nor a pprof protobuf"));
    }
    // Text: find the first goroutine header, and see what comes before it.
    match first_header(data) {
        Some((line_start, prefixed)) => {
            if prefixed {
                return Ok(Format::Log);
            }
            let before = &data[..line_start];
            let first_line =
                before.split(|&b| b == b'\n').map(|l| l.strip_suffix(b"\r").unwrap_or(l)).find(|l| !l.is_empty());
            Ok(match first_line {
                None => Format::Debug2,
                // ^\SIGQUIT: quit  (Ctrl-\ echoed by the terminal)
                Some(l) if l.starts_with(b"SIG") || memchr::memmem::find(l, b"^\\SIG").is_some() => Format::Sigquit,
                Some(l)
                    if l.starts_with(b"panic: ") || l.starts_with(b"fatal error: ") || l.starts_with(b"runtime: ") =>
                {
                    Format::Panic
                }
                Some(_) => Format::Log,
            })
        }
        None => {
            if pprof::sniff(data) && std::str::from_utf8(head).is_err() {
                return Ok(Format::Debug0);
            }
            let first = String::from_utf8_lossy(&trimmed[..trimmed.len().min(60)]).into_owned();
            let first = first.lines().next().unwrap_or("").to_string();
            Err(unknown(&format!("no \"goroutine N [state]:\" header or profile header; it starts with {first:?}")))
        }
    }
}

/// The byte offset of the line holding the first goroutine header, and whether that line
/// carries a log prefix (a timestamp, `svc  | `, `> `, …) or other text before the
/// header. Indentation alone is not a prefix: an indented paste is still a dump.
fn first_header(data: &[u8]) -> Option<(usize, bool)> {
    for pos in memchr::memmem::find_iter(data, b"goroutine ") {
        let line_start = memchr::memrchr(b'\n', &data[..pos]).map_or(0, |i| i + 1);
        let line_end = memchr::memchr(b'\n', &data[pos..]).map_or(data.len(), |i| pos + i);
        let line = &data[line_start..line_end];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let p = logprefix::strip_prefix(line);
        let rest = p.rest;
        if rest.starts_with(b"goroutine ") && rest.get(10).is_some_and(u8::is_ascii_digit) && rest.contains(&b'[') {
            return Some((line_start, p.time_nanos.is_some()));
        }
        // goroutine 7 [select]:  after a prefix or glued text (the text parser learns which)
        let after = &line[pos - line_start..];
        let digits = after[10..].iter().take_while(|b| b.is_ascii_digit()).count();
        let opens = after[10 + digits..].starts_with(b" [") || after[10 + digits..].starts_with(b" gp=");
        // The end of the header: the line's end, or `]:\n` / `]:"` inside an escaped string
        // (JSON records, logfmt values; see `escaped`).
        let ends = after.trim_ascii_end().ends_with(b":")
            || memchr::memmem::find(after, b"]:\\n").is_some()
            || memchr::memmem::find(after, b"]:\"").is_some();
        let header_like = digits > 0 && opens && ends;
        if header_like {
            let indent_only = line[..pos - line_start].iter().all(|&b| b == b' ' || b == b'\t');
            return Some((line_start, !indent_only));
        }
    }
    None
}

fn trim_leading_space(data: &[u8]) -> &[u8] {
    let n = data.iter().take_while(|b| b.is_ascii_whitespace()).count();
    &data[n..]
}

/// Gunzips `data` if it starts with the gzip magic, stopping at `limits.max_decompressed`
/// so a gzip bomb ends in an error, not out of memory.
pub fn gunzip_if_needed<'a>(source: &str, data: &'a [u8], limits: &Limits) -> crate::Result<Cow<'a, [u8]>> {
    if !data.starts_with(&GZIP_MAGIC) {
        return Ok(Cow::Borrowed(data));
    }
    // The trailer's ISIZE is the last member's size mod 2^32: a hint, not trusted, so it is
    // capped by what deflate can expand to (1032:1) and by the limit.
    let isize = data.len().checked_sub(4).map_or(0, |at| u32::from_le_bytes(data[at..].try_into().expect("4 bytes")));
    let hint = (isize as usize)
        .max(data.len() * 4)
        .min(data.len().saturating_mul(1032))
        .min(limits.max_decompressed as usize)
        .min(256 << 20);
    // Inflated in place into a zeroed buffer of the hinted size: a large zeroed allocation is
    // fresh pages from the kernel, where `read_to_end` zeroed each spare chunk before
    // inflating into it (20M of 969M instructions on a 20 MB profile, issue 14). `bufread`
    // over the slice, as the input is all in memory: no copy through a `BufReader`.
    let mut out = vec![0u8; hint];
    let mut reader = flate2::bufread::MultiGzDecoder::new(data);
    let mut filled = 0;
    let mut probe = [0u8; 64];
    loop {
        // The hint is usually exact: a full buffer is grown only once a small read shows
        // there is more, never past one byte over the limit.
        let full = filled == out.len();
        if full && filled as u64 > limits.max_decompressed {
            break;
        }
        let into = if full { &mut probe[..] } else { &mut out[filled..] };
        match reader.read(into) {
            Ok(0) => break,
            Ok(n) if full => {
                let room = usize::try_from(limits.max_decompressed + 1 - filled as u64).unwrap_or(usize::MAX);
                out.resize(filled + filled.max(1 << 16).min(room).max(n), 0);
                out[filled..filled + n].copy_from_slice(&probe[..n]);
                filled += n;
            }
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                let what = if e.kind() == std::io::ErrorKind::UnexpectedEof {
                    "truncated gzip data".to_string()
                } else {
                    format!("bad gzip data ({e})")
                };
                return Err(Error::parse(source, what));
            }
        }
    }
    out.truncate(filled);
    if out.len() as u64 > limits.max_decompressed {
        return Err(Error::TooLarge {
            source_name: source.into(),
            what: "the decompressed data",
            limit: limits.max_decompressed,
            flag: "--max-decompressed",
        });
    }
    Ok(Cow::Owned(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn gunzip(data: &[u8], max_decompressed: u64) -> crate::Result<Vec<u8>> {
        let limits = Limits { max_decompressed, ..Limits::default() };
        gunzip_if_needed("t.gz", data, &limits).map(Cow::into_owned)
    }

    /// The buffer is sized from the gzip trailer, which a multi-member file or a lying
    /// writer gets wrong: the output is the same whatever it says, and the limit holds at
    /// the exact byte (issue 14: one pass into a buffer of the hinted size).
    #[test]
    fn gunzip_reads_the_same_whatever_the_size_hint_says() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let real = std::fs::read(root.join("testdata/go1.27/snapshot-1.pb.gz")).unwrap();
        let plain: Vec<u8> = (0..300_000u32).flat_map(|i| (i % 251).to_le_bytes()).collect();
        for (name, gz, expected) in [
            ("captured profile", real.clone(), {
                let mut out = Vec::new();
                flate2::read::MultiGzDecoder::new(&real[..]).read_to_end(&mut out).unwrap();
                out
            }),
            ("exact", gzip(&plain), plain.clone()),
            ("two members", [gzip(&plain[..1000]), gzip(&plain[1000..])].concat(), plain.clone()),
            ("empty", gzip(b""), Vec::new()),
        ] {
            let n = gz.len();
            for isize in [None, Some(0u32), Some(1), Some(expected.len() as u32 / 3), Some(u32::MAX)] {
                let mut gz = gz.clone();
                if let Some(isize) = isize {
                    // A trailer that lies about the size: sizes the buffer wrong, and fails
                    // or not as flate2 alone decides.
                    gz[n - 4..].copy_from_slice(&isize.to_le_bytes());
                }
                let got = gunzip(&gz, 1 << 30);
                match isize {
                    None => assert_eq!(got.unwrap(), expected, "{name}"),
                    Some(_) => {
                        let reference = {
                            let mut out = Vec::new();
                            flate2::read::MultiGzDecoder::new(&gz[..]).read_to_end(&mut out).map(|_| out)
                        };
                        match (got, reference) {
                            (Ok(got), Ok(reference)) => assert_eq!(got, reference, "{name} {isize:?}"),
                            (Err(e), Err(_)) => assert!(e.to_string().starts_with("t.gz: bad gzip data ("), "{e}"),
                            (got, reference) => panic!("{name} {isize:?}: {got:?} against flate2's {reference:?}"),
                        }
                    }
                }
            }
            // The limit: the exact size passes, one byte under fails.
            let len = expected.len() as u64;
            assert_eq!(gunzip(&gz, len).unwrap(), expected, "{name}");
            if len > 0 {
                let e = gunzip(&gz, len - 1).unwrap_err();
                assert!(matches!(e, Error::TooLarge { limit, .. } if limit == len - 1), "{name}: {e}");
            }
            // A cut anywhere in the member ends in the same message as before.
            for cut in [10, n / 2, n - 5] {
                let e = gunzip(&gz[..cut], 1 << 30).unwrap_err().to_string();
                assert!(
                    e == "t.gz: truncated gzip data" || e.starts_with("t.gz: bad gzip data ("),
                    "{name} cut {cut}: {e}"
                );
            }
        }
    }
}
