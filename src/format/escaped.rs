//! Dumps carried inside escaped strings: JSON-per-line logs (Docker's json-file driver
//! `{"log":"goroutine 1 [running]:\n","stream":"stderr","time":"…"}`, zap/logrus/slog
//! records whose `stack` or `msg` field holds a whole dump as `…\n\t…`) and logfmt
//! (`level=error stack="goroutine 1 [running]:\n…"`).
//!
//! [`decode`] turns such a log back into text lines, each behind its record's time as an
//! RFC 3339 prefix, which the text parser reads in log mode. Only logs take this path (it
//! copies); plain dumps never reach it. No I/O.

use serde_json::Value;

/// The decoded text, if the first goroutine header in `data` sits in an escaped string
/// (a JSON object per line, or a quoted value with `\n` escapes).
pub(crate) fn decode(data: &[u8]) -> Option<Vec<u8>> {
    let (line, at) = first_escaped_header(data)?;
    if trim_start(line).starts_with(b"{") {
        let first: serde_json::Map<String, Value> = serde_json::from_slice(line).ok()?;
        let key = first.iter().find(|(_, v)| v.as_str().is_some_and(|s| s.contains("goroutine ")))?.0.clone();
        Some(json_lines(data, &key))
    } else {
        // The quoted value the header starts: `stack="goroutine 1 [running]:\n…"`.
        let open = memchr::memrchr(b'"', &line[..at])?;
        let key = key_before(&line[..open]).to_vec();
        Some(quoted_lines(data, &key))
    }
}

/// The first line with a goroutine header in an escaped string (`…]:\n` with a literal
/// backslash), and the header's offset in it. Headers written plainly (a dump printed
/// straight to stderr among JSON records) are passed over: they are read as they are.
fn first_escaped_header(data: &[u8]) -> Option<(&[u8], usize)> {
    for end in memchr::memmem::find_iter(data, b"]:\\n") {
        let start = memchr::memrchr(b'\n', &data[..end]).map_or(0, |i| i + 1);
        let line_end = memchr::memchr(b'\n', &data[end..]).map_or(data.len(), |i| end + i);
        let line = &data[start..line_end];
        let before = &data[start..end];
        let header = memchr::memmem::rfind(before, b"goroutine ").filter(|&at| {
            before.get(at + 10).is_some_and(u8::is_ascii_digit) && memchr::memchr(b'[', &before[at..]).is_some()
        });
        if let Some(at) = header {
            return Some((line, at));
        }
    }
    None
}

/// The lines of `data` (no empty last one after a final newline).
fn lines(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    data.strip_suffix(b"\n").unwrap_or(data).split(|&b| b == b'\n')
}

/// One JSON object per line: the `key` field of each, behind the record's time.
fn json_lines(data: &[u8], key: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    for line in lines(data) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let Ok(obj) = serde_json::from_slice::<serde_json::Map<String, Value>>(line) else {
            // Not a record: left as it is, the text parser skips it.
            out.extend_from_slice(line);
            out.push(b'\n');
            continue;
        };
        let time = ["time", "ts", "timestamp", "@timestamp", "T"].iter().find_map(|k| obj.get(*k).and_then(time_of));
        match obj.get(key).and_then(Value::as_str) {
            Some(text) => emit(&mut out, time, text.as_bytes()),
            None => {
                out.extend_from_slice(line);
                out.push(b'\n');
            }
        }
    }
    out
}

/// logfmt and the like: the quoted `key="…"` value of each line, behind the line's time.
fn quoted_lines(data: &[u8], key: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    let mut needle = key.to_vec();
    needle.extend_from_slice(b"=\"");
    for line in lines(data) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let value = memchr::memmem::find(line, &needle).and_then(|at| unquote(&line[at + needle.len() - 1..]));
        match value {
            Some(text) => {
                let time = [&b"time=\""[..], b"ts=\"", b"time=", b"ts="].iter().find_map(|k| {
                    let at = memchr::memmem::find(line, k)?;
                    crate::format::logprefix::rfc3339(&line[at + k.len()..]).map(|(t, _)| t)
                });
                emit(&mut out, time, &text);
            }
            None => {
                out.extend_from_slice(line);
                out.push(b'\n');
            }
        }
    }
    out
}

/// Writes `text`'s lines, each behind `time` (RFC 3339) when there is one.
fn emit(out: &mut Vec<u8>, time: Option<i64>, text: &[u8]) {
    let text = text.strip_suffix(b"\n").unwrap_or(text);
    let stamp = time.map(crate::report::rfc3339);
    for l in text.split(|&b| b == b'\n') {
        if let Some(s) = &stamp {
            out.extend_from_slice(s.as_bytes());
            out.push(b' ');
        }
        out.extend_from_slice(l);
        out.push(b'\n');
    }
}

/// A record's time: an RFC 3339 string, or Unix seconds (zap's `ts`).
fn time_of(v: &Value) -> Option<i64> {
    match v {
        Value::String(s) => crate::format::logprefix::rfc3339(s.as_bytes()).map(|(t, _)| t),
        // Microseconds: what an f64 of today's Unix seconds holds exactly.
        Value::Number(n) => n.as_f64().filter(|s| (1e8..1e10).contains(s)).map(|s| (s * 1e6).round() as i64 * 1000),
        _ => None,
    }
}

/// The logfmt key right before `=` at the end of `s`.
fn key_before(s: &[u8]) -> &[u8] {
    let s = s.strip_suffix(b"=").unwrap_or(s);
    let start = s.iter().rposition(|&b| b == b' ' || b == b'\t').map_or(0, |i| i + 1);
    &s[start..]
}

/// The value of the Go/JSON-quoted string `s` starts with, escapes undone.
fn unquote(s: &[u8]) -> Option<Vec<u8>> {
    let s = s.strip_prefix(b"\"")?;
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'"' => return Some(out),
            b'\\' => {
                let c = *s.get(i + 1)?;
                i += 2;
                match c {
                    b'n' => out.push(b'\n'),
                    b't' => out.push(b'\t'),
                    b'r' => {}
                    b'u' => {
                        let hex = std::str::from_utf8(s.get(i..i + 4)?).ok()?;
                        let ch = char::from_u32(u32::from_str_radix(hex, 16).ok()?).unwrap_or('\u{fffd}');
                        out.extend_from_slice(ch.to_string().as_bytes());
                        i += 4;
                    }
                    b'x' => {
                        let hex = std::str::from_utf8(s.get(i..i + 2)?).ok()?;
                        out.push(u8::from_str_radix(hex, 16).ok()?);
                        i += 2;
                    }
                    other => out.push(other),
                }
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    None
}

fn trim_start(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|b| b.is_ascii_whitespace()).count();
    &s[n..]
}

#[cfg(test)]
mod tests {
    use super::decode;

    #[test]
    fn docker_json_file_lines() {
        let log = br#"{"log":"goroutine 1 [running]:\n","stream":"stderr","time":"2026-11-28T10:00:00.5Z"}
{"log":"main.main()\n","stream":"stderr","time":"2026-11-28T10:00:00.5Z"}
{"log":"\t/app/main.go:5 +0x1d\n","stream":"stderr","time":"2026-11-28T10:00:00.5Z"}
"#;
        let text = String::from_utf8(decode(log).unwrap()).unwrap();
        assert_eq!(
            text,
            "2026-11-28T10:00:00.5Z goroutine 1 [running]:\n2026-11-28T10:00:00.5Z main.main()\n2026-11-28T10:00:00.5Z \t/app/main.go:5 +0x1d\n"
        );
    }

    #[test]
    fn zap_stack_field_and_logfmt() {
        let zap = br#"{"level":"error","ts":1764324000.25,"msg":"dump","stack":"goroutine 7 [select]:\nmain.f()\n\t/a.go:3 +0x1\n"}"#;
        let text = String::from_utf8(decode(zap).unwrap()).unwrap();
        assert!(text.starts_with("2025-11-28T10:00:00.25Z goroutine 7 [select]:\n"), "{text}");
        assert!(text.contains(" \t/a.go:3 +0x1\n"), "{text}");
        let logfmt =
            br#"time=2026-11-28T10:00:00Z level=error stack="goroutine 7 [select]:\nmain.f()\n\t/a.go:3 +0x1\n" msg=x"#;
        let text = String::from_utf8(decode(logfmt).unwrap()).unwrap();
        assert_eq!(text, "2026-11-28T10:00:00Z goroutine 7 [select]:\n2026-11-28T10:00:00Z main.f()\n2026-11-28T10:00:00Z \t/a.go:3 +0x1\n");
        assert!(decode(b"goroutine 1 [running]:\nmain.main()\n").is_none());
    }
}
