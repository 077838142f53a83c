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
    /// How `http(s)://` sources are fetched.
    pub fetch: crate::fetch::FetchSettings,
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
    let specs = crate::source::expand(specs)?;
    // URLs are fetched first, all together; each is then parsed in its place in the order.
    let urls: Vec<String> = specs.iter().filter(|s| crate::source::is_url(s)).cloned().collect();
    let mut fetched = crate::fetch::fetch_all(&urls, &settings.fetch, &settings.limits, settings.format.is_none())?.into_iter();
    for spec in specs {
        let input = if crate::source::is_url(&spec) {
            fetched.next().expect("fetch_all returns one input per URL")
        } else {
            crate::source::read_local(&spec, &settings.limits)?
        };
        for snapshot in crate::source::parse_input(&input, settings.format, &settings.limits)? {
            out.push(Loaded { snapshot, mtime_nanos: input.mtime_nanos });
        }
        if out.len() as u64 > settings.limits.max_snapshots {
            return Err(crate::Error::Limit {
                source_name: input.name.clone(),
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

/// Settings of `goroscope fetch`.
#[derive(Debug, Clone)]
pub struct FetchCommandSettings {
    pub url: String,
    /// Where the raw response goes.
    pub output: std::path::PathBuf,
    /// Replace `output` if it exists.
    pub force: bool,
    pub fetch: crate::fetch::FetchSettings,
    pub limits: Limits,
}

/// `goroscope fetch URL -o FILE`: save the service's response byte for byte, to open later
/// with goroscope or `go tool pprof`; says what it saved on `out`.
pub fn fetch(settings: &FetchCommandSettings, out: &mut impl Write) -> crate::Result<()> {
    let saved = crate::fetch::fetch_to_file(&settings.url, &settings.output, settings.force, &settings.fetch, &settings.limits, true)?;
    writeln!(out, "{}: saved {} bytes to {}", saved.name, saved.bytes, settings.output.display())
        .map_err(|e| crate::Error::io("stdout", e))
}
