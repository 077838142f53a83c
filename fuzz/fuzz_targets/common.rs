//! Shared by every target: the property is "never panics, never hangs, never exhausts
//! memory", and a snapshot that parses also groups (the next stage must accept whatever
//! a parser returns).

use goroscope::group::{group, GroupSettings};
use goroscope::limits::Limits;
use goroscope::model::Snapshot;

/// Default limits, except a decompressed cap well under libFuzzer's 2 GB RSS limit.
pub fn limits() -> Limits {
    Limits { max_decompressed: 64 << 20, ..Limits::default() }
}

pub fn check(snaps: &mut [Snapshot]) {
    for s in snaps {
        let _ = group(s, &GroupSettings::default());
    }
}
