//! Label-set text as the runtime prints it, in three dialects:
//! debug=1 `{"k":"v", "k2":"v2"}` (Go `%q`), Go 1.26 tracebacks `"k": "v", …`, and Go 1.27
//! tracebacks `k: v, "key with space": "v\"q"` (quoted only when needed). Quoted strings
//! are unescaped so the same label reads the same from every format.

use std::borrow::Cow;

/// A key and its value, borrowed from the input where no escape had to be undone.
pub(crate) type LabelPair<'a> = (Cow<'a, [u8]>, Cow<'a, [u8]>);

/// Parses the text between the braces into (key, value) pairs; `None` if malformed. A
/// token without escapes is borrowed from `s`: a profile with a unique label per record
/// would otherwise allocate twice per label.
pub(crate) fn parse_label_pairs(s: &[u8]) -> Option<Vec<LabelPair<'_>>> {
    let mut out = Vec::new();
    let mut i = 0;
    let skip_spaces = |i: &mut usize| {
        while *i < s.len() && s[*i] == b' ' {
            *i += 1;
        }
    };
    loop {
        skip_spaces(&mut i);
        if i >= s.len() {
            break;
        }
        let key = token(s, &mut i, b':')?;
        if s.get(i) != Some(&b':') {
            return None;
        }
        i += 1;
        skip_spaces(&mut i);
        let value = token(s, &mut i, b',')?;
        out.push((key, value));
        skip_spaces(&mut i);
        match s.get(i) {
            None => break,
            Some(b',') => i += 1,
            Some(_) => return None,
        }
    }
    Some(out)
}

/// A quoted string (unescaped) or a bare word ending before `stop`.
fn token<'a>(s: &'a [u8], i: &mut usize, stop: u8) -> Option<Cow<'a, [u8]>> {
    if s.get(*i) == Some(&b'"') {
        *i += 1;
        // "billing-exporter" (no backslash before the closing quote): borrowed.
        if let Some(n) = memchr::memchr2(b'"', b'\\', &s[*i..]) {
            if s[*i + n] == b'"' {
                let word = &s[*i..*i + n];
                *i += n + 1;
                return Some(Cow::Borrowed(word));
            }
        }
        let mut out = Vec::new();
        while *i < s.len() {
            let b = s[*i];
            *i += 1;
            match b {
                b'"' => return Some(Cow::Owned(out)),
                b'\\' => {
                    let e = *s.get(*i)?;
                    *i += 1;
                    match e {
                        b'n' => out.push(b'\n'),
                        b't' => out.push(b'\t'),
                        b'r' => out.push(b'\r'),
                        b'a' => out.push(7),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'v' => out.push(11),
                        b'x' => {
                            let v = hex(s.get(*i..*i + 2)?)?;
                            *i += 2;
                            out.push(v as u8);
                        }
                        b'u' | b'U' => {
                            let n = if e == b'u' { 4 } else { 8 };
                            let v = hex(s.get(*i..*i + n)?)?;
                            *i += n;
                            let c = char::from_u32(v).unwrap_or('\u{fffd}');
                            out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                        }
                        other => out.push(other),
                    }
                }
                _ => out.push(b),
            }
        }
        None
    } else {
        let start = *i;
        while *i < s.len() && s[*i] != stop {
            *i += 1;
        }
        let word = &s[start..*i];
        Some(Cow::Borrowed(word.strip_suffix(b" ").unwrap_or(word)))
    }
}

fn hex(s: &[u8]) -> Option<u32> {
    let mut v = 0u32;
    for &b in s {
        v = v * 16 + (b as char).to_digit(16)?;
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(s: &str) -> Vec<(String, String)> {
        parse_label_pairs(s.as_bytes())
            .unwrap()
            .into_iter()
            .map(|(k, v)| (String::from_utf8(k.into_owned()).unwrap(), String::from_utf8(v.into_owned()).unwrap()))
            .collect()
    }

    #[test]
    fn three_dialects_read_alike() {
        let want = vec![("k s".to_string(), "v\"q".to_string()), ("z".to_string(), "ü".to_string())];
        assert_eq!(pairs(r#""k s":"v\"q", "z":"ü""#), want);
        assert_eq!(pairs(r#""k s": "v\"q", "z": "\u00fc""#), want);
        assert_eq!(pairs(r#""k s": "v\"q", z: "\u00fc""#), want);
        assert_eq!(
            pairs("endpoint: /api/tenant, shard: 1"),
            vec![("endpoint".into(), "/api/tenant".into()), ("shard".into(), "1".into())]
        );
    }

    #[test]
    fn malformed_is_none() {
        assert!(parse_label_pairs(b"\"open").is_none());
        assert!(parse_label_pairs(b"novalue").is_none());
    }
}
