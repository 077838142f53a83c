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
