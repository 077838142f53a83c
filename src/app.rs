//! The commands, as plain functions of plain settings (no clap types): each loads its
//! sources, runs the pure stages, and renders to the writer it is given.

use crate::group::{GroupSettings, SnapshotReport};
use crate::limits::Limits;
use crate::model::{Format, Snapshot};
use crate::report::Style;
use std::io::Write;

/// How sources are read.
#[derive(Debug, Clone, Default)]
pub struct LoadSettings {
    /// Force a format instead of detecting it.
    pub format: Option<Format>,
    pub limits: Limits,
}

/// A loaded snapshot with what is known about where it came from.
pub struct Loaded {
    pub snapshot: Snapshot,
    /// The file's modification time, a fallback capture time for ordering.
    pub mtime_nanos: Option<i64>,
}

/// Loads every source (files, folders, stdin, URLs) in the order given.
pub fn load(specs: &[String], settings: &LoadSettings) -> crate::Result<Vec<Loaded>> {
    let mut out = Vec::new();
    for spec in crate::source::expand(specs)? {
        if crate::source::is_url(&spec) {
            return Err(crate::Error::Usage(format!("{spec}: fetching URLs is not available in this build")));
        }
        let input = crate::source::read_local(&spec, &settings.limits)?;
        for snapshot in crate::source::parse_input(&input, settings.format, &settings.limits)? {
            out.push(Loaded { snapshot, mtime_nanos: input.mtime_nanos });
        }
        if out.len() as u64 > settings.limits.max_snapshots {
            return Err(crate::Error::Limit {
                source_name: spec.clone(),
                message: format!("more than {} snapshots; raise the limit with --max-snapshots", settings.limits.max_snapshots),
            });
        }
    }
    Ok(out)
}

/// Settings of `goroscope show`.
#[derive(Debug, Clone)]
pub struct ShowSettings {
    pub sources: Vec<String>,
    pub load: LoadSettings,
    pub group: GroupSettings,
    pub json: bool,
    pub stacks: bool,
    pub style: Style,
}

/// `goroscope show`: group each snapshot by blocking site and print a table or JSON.
pub fn show(settings: &ShowSettings, out: &mut impl Write) -> crate::Result<()> {
    let loaded = load(&settings.sources, &settings.load)?;
    let reports: Vec<SnapshotReport> =
        loaded.into_iter().map(|mut l| crate::group::group(&mut l.snapshot, &settings.group)).collect();
    let r = if settings.json {
        crate::report::show_json(out, &reports)
    } else {
        crate::report::show_table(out, &reports, settings.style, settings.stacks)
    };
    r.map_err(|e| crate::Error::io("stdout", e))
}
