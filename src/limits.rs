//! Resource limits applied while reading input. Each has a flag to raise it and a clear
//! error naming the input when crossed, so hostile or broken input cannot exhaust memory.

/// The limits in force for one run; `Default` gives the documented defaults.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Bytes read from one file, stdin or HTTP body (`--max-input`).
    pub max_input: u64,
    /// Bytes after gunzip (`--max-decompressed`): a gzip bomb stops here.
    pub max_decompressed: u64,
    /// Bytes in one text line (`--max-line`).
    pub max_line: u64,
    /// Frames in one goroutine (`--max-frames`).
    pub max_frames: u64,
    /// Labels on one goroutine or sample (`--max-labels`).
    pub max_labels: u64,
    /// Goroutines (or samples) in one snapshot (`--max-goroutines`).
    pub max_goroutines: u64,
    /// Snapshots in one run (`--max-snapshots`).
    pub max_snapshots: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_input: 16 << 30,
            max_decompressed: 4 << 30,
            max_line: 1 << 20,
            max_frames: 100_000,
            max_labels: 1_000,
            max_goroutines: 50_000_000,
            max_snapshots: 100_000,
        }
    }
}

/// A size in bytes as flags take it: `1GiB`, `512MiB`, `64k`, `1.5G`, `2GB` or plain
/// bytes. `K`, `M`, `G`, `T` alone and with `iB` are powers of 1024; with `B` (`MB`,
/// `GB`) powers of 1000. Shown as the largest binary unit that divides it (`16GiB`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteSize(pub u64);

impl std::str::FromStr for ByteSize {
    type Err = String;
    fn from_str(s: &str) -> Result<ByteSize, String> {
        let t = s.trim();
        let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
        let (num, unit) = t.split_at(split);
        let unit = unit.trim();
        let mult: u64 = match unit.to_ascii_lowercase().as_str() {
            "" | "b" => 1,
            "k" | "kib" => 1 << 10,
            "m" | "mib" => 1 << 20,
            "g" | "gib" => 1 << 30,
            "t" | "tib" => 1 << 40,
            "kb" => 1_000,
            "mb" => 1_000_000,
            "gb" => 1_000_000_000,
            "tb" => 1_000_000_000_000,
            _ => return Err(format!("unknown unit {unit:?} in {s:?}; write e.g. 512MiB, 1GiB or a number of bytes")),
        };
        let bad = || format!("{s:?} is not a size; write e.g. 512MiB, 1GiB or a number of bytes");
        let bytes = if num.contains('.') {
            let n: f64 = num.parse().map_err(|_| bad())?;
            let b = (n * mult as f64).round();
            if !(0.0..=u64::MAX as f64).contains(&b) {
                return Err(bad());
            }
            b as u64
        } else {
            num.parse::<u64>().ok().and_then(|n| n.checked_mul(mult)).ok_or_else(bad)?
        };
        Ok(ByteSize(bytes))
    }
}

impl std::fmt::Display for ByteSize {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (shift, unit) in [(40, "TiB"), (30, "GiB"), (20, "MiB"), (10, "KiB")] {
            if self.0 >= 1 << shift && self.0.is_multiple_of(1 << shift) {
                return write!(f, "{}{unit}", self.0 >> shift);
            }
        }
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::ByteSize;

    #[test]
    fn byte_sizes() {
        let p = |s: &str| s.parse::<ByteSize>().map(|b| b.0);
        assert_eq!(p("1GiB"), Ok(1 << 30));
        assert_eq!(p("512MiB"), Ok(512 << 20));
        assert_eq!(p("512 mib"), Ok(512 << 20));
        assert_eq!(p("64k"), Ok(64 << 10));
        assert_eq!(p("1.5G"), Ok(3 << 29));
        assert_eq!(p("2GB"), Ok(2_000_000_000));
        assert_eq!(p("1000"), Ok(1000));
        assert!(p("12 parsecs").unwrap_err().contains("unknown unit"));
        assert!(p("GiB").is_err());
        assert!(p("99999999999TiB").is_err());
        assert_eq!(ByteSize(16 << 30).to_string(), "16GiB");
        assert_eq!(ByteSize(1 << 20).to_string(), "1MiB");
        assert_eq!(ByteSize(1000).to_string(), "1000");
        for s in ["16GiB", "4GiB", "1MiB", "1000"] {
            assert_eq!(p(s).map(|b| ByteSize(b).to_string()), Ok(s.to_string()));
        }
    }
}
