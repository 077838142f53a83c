//! Renderers: tables for people, JSON for programs. They take data and a `&mut impl Write`
//! and never compute anything the analysis did not.
//!
//! # JSON of `show` (schema_version 1)
//!
//! ```json
//! {"schema_version": 1,
//!  "snapshots": [{"source": "dump.txt", "format": "debug2", "profile": "goroutine",
//!                 "total": 236, "time": "2026-01-02T03:04:05Z", "truncated": false,
//!                 "skipped": 0, "notes": [], "shown": 236,
//!                 "groups": [{"count": 15, "category": "chan_send", "state": "chan send",
//!                             "site": {"function": "main.f.func1", "file": "/app/a.go", "line": 92},
//!                             "wait_minutes": [1, 3], "locked_to_thread": 0, "leaked": 0,
//!                             "orphaned": 15, "creators": [{"function": "…", "file": "…", "line": 1, "count": 15}],
//!                             "labels": [{"labels": {"k": "v"}, "count": 3}], "distinct_label_sets": 1,
//!                             "goroutine_ids": [41, 57], "example_stack": [{"function": "…", "file": "…", "line": 1}]}]}]}
//! ```
//! `count`, `category`, `state`, `site.{function,file,line}` and `total` are the contract
//! other tools read; the rest may grow.

use crate::classify::Category;
use crate::group::{Group, SnapshotReport};
use crate::layout::{clean, escape, fit, Cell, Column, Paint, Row, Table};
use serde::Serialize;
use std::borrow::Cow;
use std::io::{self, Write};

/// Width of tables written to a pipe or file when `COLUMNS` does not say: wide enough for
/// the usual names, narrow enough to read in a review or a ticket.
pub const PIPED_WIDTH: usize = 100;

/// Output styling decided once by `main` (terminal or not, `NO_COLOR`, width, the time).
#[derive(Debug, Clone, Copy, Default)]
pub struct Style {
    /// Colour and bold: only on a terminal, never with `NO_COLOR` (which means no escape
    /// codes at all).
    pub color: bool,
    /// Writing to a terminal.
    pub terminal: bool,
    /// Columns tables fit in (0: no limit).
    pub width: usize,
    /// Now, in Unix nanoseconds, to say how long ago a snapshot was captured (`None`: not said).
    pub now_nanos: Option<i64>,
}

impl Style {
    /// The style for standard output: the terminal's width (or `COLUMNS`), else
    /// [`PIPED_WIDTH`] (or `COLUMNS`); colour on a terminal unless `NO_COLOR` is set.
    pub fn for_stdout() -> Style {
        use std::io::IsTerminal;
        let terminal = std::io::stdout().is_terminal();
        let columns = std::env::var("COLUMNS").ok().and_then(|c| c.trim().parse::<usize>().ok()).filter(|&c| c > 0);
        let width = columns.unwrap_or_else(|| {
            if terminal {
                terminal_size::terminal_size().map_or(PIPED_WIDTH, |(w, _)| w.0 as usize)
            } else {
                PIPED_WIDTH
            }
        });
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos().min(i64::MAX as u128) as i64);
        Style { color: terminal && !no_color(), terminal, width, now_nanos: Some(now) }
    }
}

/// True when `NO_COLOR` is set to anything but the empty string (no-color.org).
pub fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

/// `n noun` with the noun in the plural unless `n` is 1: `1 group`, `2 groups`.
pub fn count(n: impl Into<u64>, noun: &str) -> String {
    let n = n.into();
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[derive(Serialize)]
struct ShowDoc<'a> {
    schema_version: u32,
    snapshots: &'a [SnapshotReport],
}

/// Writes the `show --json` document.
pub fn show_json(out: &mut impl Write, reports: &[SnapshotReport]) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &ShowDoc { schema_version: 1, snapshots: reports })?;
    writeln!(out)
}

/// Writes the `show` tables, one per snapshot. Every string from the dump is escaped and
/// capped ([`crate::layout`]); the table fits `style.width`.
pub fn show_table(out: &mut impl Write, reports: &[SnapshotReport], style: Style, stacks: bool) -> io::Result<()> {
    for (i, r) in reports.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        let time = r
            .time
            .as_deref()
            .and_then(crate::compare::time_of_text)
            .map(|t| format!(", captured {}", human_time(t, style.now_nanos)))
            .unwrap_or_default();
        let leak = if r.profile == crate::model::ProfileKind::Goroutineleak { " (goroutineleak profile)" } else { "" };
        writeln!(
            out,
            "{}: {}{leak}, {} in {}{}",
            escape(&r.source),
            r.format,
            count(r.total, "goroutine"),
            count(r.groups.len() as u64, "group"),
            time
        )?;
        if let Some(p) = &r.preamble {
            writeln!(out, "  {}", clean(p))?;
        }
        if r.shown != r.total {
            let verb = if r.shown == 1 { "matches" } else { "match" };
            writeln!(out, "  {} {verb} the filters", count(r.shown, "goroutine"))?;
        }
        for n in &r.notes {
            writeln!(out, "  note: {}", clean(n))?;
        }
        if r.groups.is_empty() {
            continue;
        }
        groups_table(&r.groups).render(out, style.width, style.color)?;
        if stacks {
            for (n, g) in r.groups.iter().enumerate() {
                writeln!(out, "\n#{} {} x {} at {}:", n + 1, g.count, clean(&g.state), clean(&g.site.function))?;
                for f in &g.example_stack {
                    writeln!(out, "    {}\n        {}:{}", clean(&f.function), clean(&f.file), f.line)?;
                }
            }
        }
    }
    Ok(())
}

/// Most columns a label key or value takes in the NOTES cell.
const LABEL_MAX: usize = 40;

/// The category, with the runtime's own wording beneath when it says more.
fn waiting_lines<'a>(category: Category, state: &'a str) -> Vec<Cow<'a, str>> {
    if state.is_empty() || state == category.name() {
        vec![category.name().into()]
    } else {
        vec![category.name().into(), state.into()]
    }
}

/// Function, and `file:line` with the file's directory dropped; `?` when unknown.
fn site_lines(site: &crate::group::Site) -> Vec<Cow<'_, str>> {
    if site.function.is_empty() {
        return vec!["?".into()];
    }
    let base = site.file.rsplit('/').next().unwrap_or(&site.file);
    vec![Cow::Borrowed(site.function.as_str()), format!("{}:{}", fit(base, 120), site.line).into()]
}

fn groups_table(groups: &[Group]) -> Table<'_> {
    let with_label = groups.iter().any(|g| g.label_value.is_some());
    let mut columns = vec![
        Column::right("#"),
        Column::right("COUNT"),
        Column::left("WAITING ON", 14, 2),
        Column::left("BLOCKING SITE", 20, 3),
        Column::fixed("WAIT"),
        Column::left("CREATED BY", 10, 1).folds("created by "),
        Column::left("NOTES", 12, 0).folds(""),
    ];
    if with_label {
        columns.insert(4, Column::left("LABEL", 8, 1));
    }
    let mut t = Table::new(columns);
    for (i, g) in groups.iter().enumerate() {
        let paint = match g.category {
            Category::ChanSend => Some(Paint::RedBold),
            c if c.blocked_forever() => Some(Paint::Red),
            Category::ChanReceive
            | Category::Select
            | Category::Mutex
            | Category::RwmutexRead
            | Category::RwmutexWrite => Some(Paint::Yellow),
            _ => None,
        };
        let wait = match g.wait_minutes {
            Some([a, b]) if a == b => format!("{a} min"),
            Some([a, b]) => format!("{a}-{b} min"),
            None => String::new(),
        };
        let creator: Cow<'_, str> = match g.creators.first() {
            Some(c) if g.creators.len() == 1 => Cow::Borrowed(c.site.function.as_str()),
            Some(c) => format!("{} (+{})", fit(&c.site.function, crate::layout::CELL_MAX), g.creators.len() - 1).into(),
            None => "".into(),
        };
        let mut notes: Vec<Cow<'_, str>> = Vec::new();
        if g.orphaned > 0 {
            notes.push(format!("{} orphaned", g.orphaned).into());
        }
        if g.leaked > 0 {
            notes.push(format!("{} leaked", g.leaked).into());
        }
        if g.locked_to_thread > 0 {
            notes.push(format!("{} locked to thread", g.locked_to_thread).into());
        }
        if g.distinct_label_sets == 1 {
            let first = g.labels.first().map(|l| {
                l.labels.iter().map(|(k, v)| format!("{}={}", fit(k, LABEL_MAX), fit(v, LABEL_MAX))).collect::<Vec<_>>()
            });
            notes.push(format!("labels {}", first.unwrap_or_default().join(",")).into());
        } else if g.distinct_label_sets > 1 {
            notes.push(format!("{} label sets", g.distinct_label_sets).into());
        }
        let mut cells = vec![
            Cell::text((i + 1).to_string()),
            Cell::text(g.count.to_string()),
            Cell::new(waiting_lines(g.category, &g.state)).paint(paint),
            Cell::new(site_lines(&g.site)),
            Cell::text(wait),
            Cell::text(creator),
            Cell::new(notes),
        ];
        if with_label {
            cells.insert(4, Cell::text(g.label_value.as_deref().unwrap_or_default()));
        }
        t.rows.push(Row { cells, below: Vec::new() });
    }
    t
}

/// A capture time for people: `2026-11-28 18:33:53Z (12 s ago)`, UTC to the second; the
/// part in brackets only when `now_nanos` is given.
pub fn human_time(nanos: i64, now_nanos: Option<i64>) -> String {
    let full = rfc3339(nanos.div_euclid(1_000_000_000) * 1_000_000_000);
    let shown = full.replacen('T', " ", 1);
    match now_nanos {
        Some(now) => format!("{shown} ({})", ago(now.saturating_sub(nanos))),
        None => shown,
    }
}

/// `12 s ago`, `5 min ago`, `3 h ago`, `2 days ago`; `in 5 s` for a time ahead of the clock.
fn ago(nanos: i64) -> String {
    let s = nanos / 1_000_000_000;
    let (n, unit) = match s.unsigned_abs() {
        n @ 0..=119 => (n, "s"),
        n @ 120..=7_199 => (n / 60, "min"),
        n @ 7_200..=172_799 => (n / 3600, "h"),
        n => (n / 86_400, "days"),
    };
    if s < 0 {
        format!("in {n} {unit}")
    } else {
        format!("{n} {unit} ago")
    }
}

/// Formats Unix nanoseconds as RFC 3339 UTC (`2026-01-02T03:04:05.123Z`).
pub fn rfc3339(nanos: i64) -> String {
    let secs = nanos.div_euclid(1_000_000_000);
    let frac = nanos.rem_euclid(1_000_000_000);
    let days = secs.div_euclid(86400);
    let sod = secs.rem_euclid(86400);
    let (y, m, d) = civil_from_days(days);
    let base = format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}", sod / 3600, sod % 3600 / 60, sod % 60);
    if frac == 0 {
        format!("{base}Z")
    } else {
        let f = format!("{frac:09}");
        format!("{base}.{}Z", f.trim_end_matches('0'))
    }
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    #[test]
    fn rfc3339_round_trip() {
        let s = super::rfc3339(1_767_323_045_500_000_000);
        assert_eq!(s, "2026-01-02T03:04:05.5Z");
        let (n, _) = crate::format::logprefix::rfc3339(s.as_bytes()).unwrap();
        assert_eq!(n, 1_767_323_045_500_000_000);
    }
}

/// Which comparison a table shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareView {
    /// Two snapshots: before, after, delta.
    Diff,
    /// A series: sparkline, growth, rate.
    Trend,
}

#[derive(Serialize)]
struct TrendDoc<'a> {
    schema_version: u32,
    snapshots: &'a [crate::compare::Point],
    sites: &'a [crate::compare::SiteTrend],
}

/// Writes the `diff --json` / `trend --json` document:
/// `{"schema_version": 1, "snapshots": [{"source", "time", "format", "total"}],
///   "sites": [{"category", "state", "site", "counts", "delta", "rate_per_min",
///              "growing", "suspect", "reasons", "hint"?, "change", "orphaned", …}]}`.
pub fn trend_json(out: &mut impl Write, trend: &crate::compare::Trend) -> io::Result<()> {
    serde_json::to_writer_pretty(
        &mut *out,
        &TrendDoc { schema_version: 1, snapshots: &trend.snapshots, sites: &trend.sites },
    )?;
    writeln!(out)
}

/// Writes the `diff` or `trend` table: suspects first (growing `chan send` at the top),
/// then the rest; `limit` caps the rows of non-suspects (0 = all). Reasons and hints go on
/// their own lines under the row.
pub fn trend_table(
    out: &mut impl Write,
    trend: &crate::compare::Trend,
    style: Style,
    view: CompareView,
    limit: usize,
) -> io::Result<()> {
    use crate::compare::{sparkline, Change};
    let n = trend.snapshots.len();
    match (trend.snapshots.first(), trend.snapshots.last()) {
        (Some(a), Some(b)) if view == CompareView::Diff => writeln!(
            out,
            "{} ({}) → {} ({})",
            clean(&a.source),
            count(a.total, "goroutine"),
            clean(&b.source),
            count(b.total, "goroutine")
        )?,
        (Some(a), Some(b)) => {
            let span = match (a.time_nanos, b.time_nanos) {
                (Some(x), Some(y)) if y > x => format!(" over {}", human_duration(y - x)),
                _ => String::new(),
            };
            let total = if b.total == 1 { "goroutine" } else { "goroutines" };
            writeln!(out, "{n} snapshots{span}: {} → {} {total}", a.total, b.total)?
        }
        _ => return Ok(()),
    }
    let suspects = trend.sites.iter().filter(|s| s.suspect).count();
    writeln!(out, "{}, {}", count(trend.sites.len() as u64, "site"), count(suspects as u64, "leak suspect"))?;

    let mut columns = vec![Column::fixed("")];
    match view {
        CompareView::Diff => columns.extend([Column::right("BEFORE"), Column::right("AFTER"), Column::right("DELTA")]),
        CompareView::Trend => columns.extend([
            Column::fixed("COUNTS"),
            Column::right("LAST"),
            Column::right("DELTA"),
            Column::right("PER MIN"),
        ]),
    }
    columns.extend([Column::left("WAITING ON", 14, 0), Column::left("BLOCKING SITE", 20, 1)]);
    let mut t = Table::new(columns);
    let mut shown_rest = 0usize;
    let mut hidden = 0usize;
    for s in &trend.sites {
        if !s.suspect {
            if limit > 0 && shown_rest >= limit {
                hidden += 1;
                continue;
            }
            shown_rest += 1;
        }
        let hot = s.suspect && s.category == Category::ChanSend && s.delta > 0;
        let marker = match (s.suspect, hot) {
            (true, true) => "!!",
            (true, false) => "!",
            _ => "",
        };
        let marker_paint = match (s.suspect, hot) {
            (_, true) => Some(Paint::RedBold),
            (true, false) => Some(Paint::Yellow),
            _ => None,
        };
        let mut below: Vec<Cow<'_, str>> = Vec::new();
        match s.change {
            Change::New => below.push("new".into()),
            Change::Vanished => below.push("vanished".into()),
            _ => {}
        }
        below.extend(s.reasons.iter().map(|r| Cow::Borrowed(r.as_str())));
        if let Some(h) = &s.hint {
            below.push(format!("hint: {h}").into());
        }
        let mut cells = vec![Cell::text(marker).paint(marker_paint)];
        let last = s.counts.last().copied().unwrap_or(0).to_string();
        match view {
            CompareView::Diff => {
                cells.push(Cell::text(s.counts.first().copied().unwrap_or(0).to_string()));
                cells.push(Cell::text(last));
                cells.push(Cell::text(format!("{:+}", s.delta)));
            }
            CompareView::Trend => {
                cells.push(Cell::text(sparkline(&s.counts)));
                cells.push(Cell::text(last));
                cells.push(Cell::text(format!("{:+}", s.delta)));
                cells.push(Cell::text(s.rate_per_min.map(|r| format!("{r:.1}")).unwrap_or_default()));
            }
        }
        cells.push(Cell::new(waiting_lines(s.category, &s.state)).paint(hot.then_some(Paint::RedBold)));
        cells.push(Cell::new(site_lines(&s.site)));
        t.rows.push(Row { cells, below });
    }
    t.render(out, style.width, style.color)?;
    if hidden > 0 {
        let more = if hidden == 1 { "1 more steady site" } else { &format!("{hidden} more steady sites") };
        writeln!(out, "({more} not shown; --all shows them)")?;
    }
    if !style.color && trend.sites.iter().any(|s| s.suspect) {
        writeln!(out, "!! = growing chan send (forgotten sender shape), ! = other leak suspect")?;
    }
    Ok(())
}

fn human_duration(nanos: i64) -> String {
    let s = nanos / 1_000_000_000;
    match s {
        0..=119 => format!("{s}s"),
        120..=7199 => format!("{}m{}s", s / 60, s % 60),
        _ => format!("{}h{}m", s / 3600, s % 3600 / 60),
    }
}
