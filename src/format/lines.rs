//! Line splitting for the text parsers: finds the newlines of 64 bytes at a time as a bit
//! mask and hands out lines from it.
//!
//! Goroutine dumps have short lines (40–50 bytes on average), so calling `memchr` once per
//! line spends more on the call than on the search; one mask per 64 bytes costs a handful
//! of instructions and each line then costs a `trailing_zeros`. Owns no parsing.

/// The lines of `data` without their `\n`, each with `true` if a `\n` ended it (only the
/// last line can lack one).
pub(crate) struct Lines<'a> {
    data: &'a [u8],
    /// Start of the next line.
    pos: usize,
    /// Offset of the 64-byte block `mask` describes.
    block: usize,
    /// Newlines of the current block not yet handed out (bit i: `data[block + i]`).
    mask: u64,
}

impl<'a> Lines<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Lines { data, pos: 0, block: 0, mask: newline_mask(data, 0) }
    }
}

impl Lines<'_> {
    /// Offset of the next line's start.
    pub(crate) fn offset(&self) -> usize {
        self.pos
    }

    /// Goes on from `pos` (a line start at or after [`Lines::offset`]).
    pub(crate) fn seek(&mut self, pos: usize) {
        debug_assert!(pos >= self.pos && pos <= self.data.len());
        self.pos = pos;
        self.block = pos - pos % 64;
        let before = (1u64 << (pos % 64)) - 1;
        self.mask = newline_mask(self.data, self.block) & !before;
    }
}

impl<'a> Iterator for Lines<'a> {
    type Item = (&'a [u8], bool);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.mask != 0 {
                let end = self.block + self.mask.trailing_zeros() as usize;
                self.mask &= self.mask - 1;
                let line = &self.data[self.pos..end];
                self.pos = end + 1;
                return Some((line, true));
            }
            self.block += 64;
            if self.block >= self.data.len() {
                if self.pos < self.data.len() {
                    let line = &self.data[self.pos..];
                    self.pos = self.data.len();
                    return Some((line, false));
                }
                return None;
            }
            self.mask = newline_mask(self.data, self.block);
        }
    }
}

/// Bit i set where `data[at + i] == b'\n'`, for the up to 64 bytes from `at`.
#[inline]
fn newline_mask(data: &[u8], at: usize) -> u64 {
    match data.get(at..at + 64) {
        Some(block) => block_mask(block.try_into().expect("64 bytes")),
        None => data[at.min(data.len())..].iter().enumerate().fold(0, |m, (i, &b)| m | (((b == b'\n') as u64) << i)),
    }
}

#[cfg(target_arch = "x86_64")]
#[inline]
fn block_mask(block: &[u8; 64]) -> u64 {
    use std::arch::x86_64::{__m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8};
    // SAFETY: SSE2 is part of the x86_64 baseline; the four unaligned 16-byte loads stay
    // inside `block`, which is 64 bytes long.
    unsafe {
        let nl = _mm_set1_epi8(b'\n' as i8);
        let p = block.as_ptr() as *const __m128i;
        let m = |i: usize| _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128(p.add(i)), nl)) as u16 as u64;
        m(0) | m(1) << 16 | m(2) << 32 | m(3) << 48
    }
}

/// The first index in `s` of `a` or `b`, 16 bytes at a time and inline: the text after a
/// function name is 20–200 bytes, where calling `memchr2` (its dispatch, its setup) cost
/// more than the scan (issue 14).
#[inline(always)]
pub(crate) fn find_either(s: &[u8], a: u8, b: u8) -> Option<usize> {
    let n = s.len();
    if n < 16 {
        return s.iter().position(|&c| c == a || c == b);
    }
    let mut i = 0;
    while i + 16 <= n {
        let m = pair_mask(s[i..i + 16].try_into().expect("16 bytes"), a, b);
        if m != 0 {
            return Some(i + m.trailing_zeros() as usize);
        }
        i += 16;
    }
    // The last 16 bytes, less those already read.
    let seen = 16 - (n - i);
    let m = pair_mask(s[n - 16..].try_into().expect("16 bytes"), a, b) >> seen << seen;
    (m != 0).then(|| n - 16 + m.trailing_zeros() as usize)
}

/// The last index of `a` in `s`, 16 bytes at a time from the end and inline: a function
/// line's arguments, which the search for its last `(` crosses, are 2–100 bytes, where
/// calling `memrchr` cost more than the scan (issue 14).
#[inline(always)]
pub(crate) fn rfind_byte(s: &[u8], a: u8) -> Option<usize> {
    let n = s.len();
    if n < 16 {
        return s.iter().rposition(|&c| c == a);
    }
    let mut end = n;
    while end >= 16 {
        let m = pair_mask(s[end - 16..end].try_into().expect("16 bytes"), a, a);
        if m != 0 {
            return Some(end - 16 + 31 - m.leading_zeros() as usize);
        }
        end -= 16;
    }
    // The first 16 bytes, less those already read.
    let m = pair_mask(s[..16].try_into().expect("16 bytes"), a, a) & ((1u32 << end) - 1);
    (m != 0).then(|| 31 - m.leading_zeros() as usize)
}

/// Bit i set where `block[i]` is `a` or `b`.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn pair_mask(block: &[u8; 16], a: u8, b: u8) -> u32 {
    use std::arch::x86_64::{__m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8};
    // SAFETY: SSE2 is part of the x86_64 baseline; the load reads the 16 bytes of `block`.
    unsafe {
        let v = _mm_loadu_si128(block.as_ptr() as *const __m128i);
        let hit = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(a as i8)), _mm_cmpeq_epi8(v, _mm_set1_epi8(b as i8)));
        _mm_movemask_epi8(hit) as u32
    }
}

#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn pair_mask(block: &[u8; 16], a: u8, b: u8) -> u32 {
    block.iter().enumerate().fold(0, |m, (i, &c)| m | (((c == a || c == b) as u32) << i))
}

#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn block_mask(block: &[u8; 64]) -> u64 {
    block.iter().enumerate().fold(0, |m, (i, &b)| m | (((b == b'\n') as u64) << i))
}

#[cfg(test)]
mod tests {
    use super::{find_either, rfind_byte, Lines};

    #[test]
    fn find_either_is_the_first_of_two_bytes_at_every_length_and_place() {
        for n in 0..80 {
            for at in 0..=n {
                for (a, b) in [(b'(', b'\n'), (b'\n', b'(')] {
                    let mut s = vec![b'x'; n];
                    if at < n {
                        s[at] = a;
                    }
                    if at + 3 < n {
                        s[at + 3] = b;
                    }
                    let want = s.iter().position(|&c| c == b'(' || c == b'\n');
                    assert_eq!(find_either(&s, b'(', b'\n'), want, "n={n} at={at}");
                }
            }
        }
    }

    #[test]
    fn rfind_byte_is_the_last_at_every_length_and_place() {
        for n in 0..80 {
            for at in 0..=n {
                for gap in [1, 5, 17] {
                    let mut s = vec![b'x'; n];
                    if at < n {
                        s[at] = b'(';
                    }
                    if at >= gap {
                        s[at - gap] = b'(';
                    }
                    let want = s.iter().rposition(|&c| c == b'(');
                    assert_eq!(rfind_byte(&s, b'('), want, "n={n} at={at} gap={gap}");
                }
            }
        }
    }

    /// The reference: split on `\n` the plain way.
    fn plain(data: &[u8]) -> Vec<(&[u8], bool)> {
        let mut out = Vec::new();
        let mut rest = data;
        while !rest.is_empty() {
            match memchr::memchr(b'\n', rest) {
                Some(i) => {
                    out.push((&rest[..i], true));
                    rest = &rest[i + 1..];
                }
                None => {
                    out.push((rest, false));
                    rest = &[];
                }
            }
        }
        out
    }

    #[test]
    fn same_as_plain_split_at_every_length_and_block_edge() {
        let mut data = Vec::new();
        for n in 0..300u32 {
            // Lines of varied lengths, blank lines, and runs of newlines across block edges.
            data.extend(std::iter::repeat_n(b'a' + (n % 26) as u8, (n * 7 % 131) as usize));
            data.push(b'\n');
            if n % 17 == 0 {
                data.extend_from_slice(b"\n\n");
            }
        }
        for len in (0..data.len()).step_by(13).chain([data.len()]) {
            let d = &data[..len];
            assert_eq!(Lines::new(d).collect::<Vec<_>>(), plain(d), "length {len}");
        }
        // Seeking to any line start gives the rest as a fresh split from there would.
        let starts: Vec<usize> = std::iter::once(0).chain(memchr::memchr_iter(b'\n', &data).map(|i| i + 1)).collect();
        for (n, &to) in starts.iter().enumerate().step_by(7) {
            let mut lines = Lines::new(&data);
            for _ in 0..n / 2 {
                lines.next();
            }
            lines.seek(to);
            assert_eq!(lines.offset(), to);
            assert_eq!(lines.collect::<Vec<_>>(), plain(&data[to..]), "seek to {to}");
        }
        assert_eq!(Lines::new(b"").count(), 0);
        assert_eq!(Lines::new(b"\n").collect::<Vec<_>>(), vec![(&b""[..], true)]);
        assert_eq!(Lines::new(b"x").collect::<Vec<_>>(), vec![(&b"x"[..], false)]);
    }
}
