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
use comfy_table::{presets, Attribute, Cell, CellAlignment, Color, ContentArrangement, Table};
use serde::Serialize;
use std::io::{self, Write};

/// Output styling decided once by `main` (terminal or not, `NO_COLOR`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Style {
    pub color: bool,
    /// Writing to a terminal: tables fit its width.
    pub terminal: bool,
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

/// Writes the `show` tables, one per snapshot.
pub fn show_table(out: &mut impl Write, reports: &[SnapshotReport], style: Style, stacks: bool) -> io::Result<()> {
    for (i, r) in reports.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        let time = r.time.as_deref().map(|t| format!(", captured {t}")).unwrap_or_default();
        let leak = if r.profile == crate::model::ProfileKind::Goroutineleak { " (goroutineleak profile)" } else { "" };
        writeln!(out, "{}: {}{leak}, {} goroutines in {} groups{}", r.source, r.format, r.total, r.groups.len(), time)?;
        if let Some(p) = &r.preamble {
            writeln!(out, "  {p}")?;
        }
        if r.shown != r.total {
            writeln!(out, "  {} goroutines match the filters", r.shown)?;
        }
        for n in &r.notes {
            writeln!(out, "  note: {n}")?;
        }
        if r.groups.is_empty() {
            continue;
        }
        let table = groups_table(&r.groups, style);
        writeln!(out, "{table}")?;
        if stacks {
            for (n, g) in r.groups.iter().enumerate() {
                writeln!(out, "\n#{} {} x {} at {}:", n + 1, g.count, g.state, g.site.function)?;
                for f in &g.example_stack {
                    writeln!(out, "    {}\n        {}:{}", f.function, f.file, f.line)?;
                }
            }
        }
    }
    Ok(())
}

fn groups_table(groups: &[Group], style: Style) -> Table {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_BORDERS_ONLY);
    t.set_content_arrangement(if style.terminal { ContentArrangement::Dynamic } else { ContentArrangement::Disabled });
    let with_label = groups.iter().any(|g| g.label_value.is_some());
    let mut header = vec!["#", "COUNT", "WAITING ON", "BLOCKING SITE", "WAIT", "CREATED BY", "NOTES"];
    if with_label {
        header.insert(4, "LABEL");
    }
    t.set_header(header.into_iter().map(|h| Cell::new(h).add_attribute(Attribute::Bold)));
    for (i, g) in groups.iter().enumerate() {
        let waiting = if g.state.is_empty() || g.state == g.category.name() {
            g.category.name().to_string()
        } else {
            format!("{}\n{}", g.category.name(), g.state)
        };
        let mut waiting_cell = Cell::new(waiting);
        if style.color {
            waiting_cell = match g.category {
                Category::ChanSend => waiting_cell.fg(Color::Red).add_attribute(Attribute::Bold),
                c if c.blocked_forever() => waiting_cell.fg(Color::Red),
                Category::ChanReceive
                | Category::Select
                | Category::Mutex
                | Category::RwmutexRead
                | Category::RwmutexWrite => waiting_cell.fg(Color::Yellow),
                _ => waiting_cell,
            };
        }
        let site = if g.site.function.is_empty() {
            crate::compare::NO_STACK.to_string()
        } else {
            format!("{}\n{}", g.site.function, g.site.short_location())
        };
        let wait = match g.wait_minutes {
            Some([a, b]) if a == b => format!("{a} min"),
            Some([a, b]) => format!("{a}-{b} min"),
            None => String::new(),
        };
        let creator = match g.creators.first() {
            Some(c) if g.creators.len() == 1 => c.site.function.clone(),
            Some(c) => format!("{} (+{})", c.site.function, g.creators.len() - 1),
            None => String::new(),
        };
        let mut notes = Vec::new();
        if let Some(r) = g.role {
            notes.push(r.name().to_string());
        }
        if g.orphaned > 0 {
            notes.push(format!("{} orphaned", g.orphaned));
        }
        if g.leaked > 0 {
            notes.push(format!("{} leaked", g.leaked));
        }
        if g.locked_to_thread > 0 {
            notes.push(format!("{} locked to thread", g.locked_to_thread));
        }
        if g.distinct_label_sets > 0 {
            let first = g
                .labels
                .first()
                .map(|l| l.labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(","));
            if g.distinct_label_sets == 1 {
                notes.push(format!("labels {}", first.unwrap_or_default()));
            } else {
                notes.push(format!("{} label sets", g.distinct_label_sets));
            }
        }
        let mut row = vec![
            Cell::new(i + 1).set_alignment(CellAlignment::Right),
            Cell::new(g.count).set_alignment(CellAlignment::Right),
            waiting_cell,
            Cell::new(site),
            Cell::new(wait),
            Cell::new(creator),
            Cell::new(notes.join("\n")),
        ];
        if with_label {
            row.insert(4, Cell::new(g.label_value.clone().unwrap_or_default()));
        }
        t.add_row(row);
    }
    t
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
/// then the rest; `limit` caps the rows of non-suspects (0 = all).
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
        (Some(a), Some(b)) if view == CompareView::Diff => {
            writeln!(out, "{} ({} goroutines) → {} ({} goroutines)", a.source, a.total, b.source, b.total)?
        }
        (Some(a), Some(b)) => {
            let span = match (a.time_nanos, b.time_nanos) {
                (Some(x), Some(y)) if y > x => format!(" over {}", human_duration(y - x)),
                _ => String::new(),
            };
            writeln!(out, "{n} snapshots{span}: {} → {} goroutines", a.total, b.total)?
        }
        _ => return Ok(()),
    }
    let suspects = trend.sites.iter().filter(|s| s.suspect).count();
    writeln!(out, "{} sites, {} leak suspect{}", trend.sites.len(), suspects, if suspects == 1 { "" } else { "s" })?;

    let mut t = Table::new();
    t.load_preset(presets::UTF8_BORDERS_ONLY);
    t.set_content_arrangement(if style.terminal { ContentArrangement::Dynamic } else { ContentArrangement::Disabled });
    let header: Vec<&str> = match view {
        CompareView::Diff => vec!["", "BEFORE", "AFTER", "DELTA", "WAITING ON", "BLOCKING SITE", "WHY"],
        CompareView::Trend => vec!["", "COUNTS", "LAST", "DELTA", "PER MIN", "WAITING ON", "BLOCKING SITE", "WHY"],
    };
    t.set_header(header.into_iter().map(|h| Cell::new(h).add_attribute(Attribute::Bold)));
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
        let mut waiting = Cell::new(if s.state.is_empty() || s.state == s.category.name() {
            s.category.name().to_string()
        } else {
            format!("{}\n{}", s.category.name(), s.state)
        });
        let mut marker_cell = Cell::new(marker);
        if style.color && hot {
            waiting = waiting.fg(Color::Red).add_attribute(Attribute::Bold);
            marker_cell = marker_cell.fg(Color::Red).add_attribute(Attribute::Bold);
        } else if style.color && s.suspect {
            marker_cell = marker_cell.fg(Color::Yellow);
        }
        let site = if s.site.function.is_empty() {
            crate::compare::NO_STACK.into()
        } else {
            format!("{}\n{}", s.site.function, s.site.short_location())
        };
        let mut why = s.reasons.clone();
        if let Some(h) = &s.hint {
            why.push(format!("hint: {h}"));
        }
        match s.change {
            Change::New => why.insert(0, "new".into()),
            Change::Vanished => why.insert(0, "vanished".into()),
            _ => {}
        }
        let delta = format!("{:+}", s.delta);
        let mut row = vec![marker_cell];
        match view {
            CompareView::Diff => {
                row.push(Cell::new(s.counts.first().copied().unwrap_or(0)).set_alignment(CellAlignment::Right));
                row.push(Cell::new(s.counts.last().copied().unwrap_or(0)).set_alignment(CellAlignment::Right));
                row.push(Cell::new(delta).set_alignment(CellAlignment::Right));
            }
            CompareView::Trend => {
                row.push(Cell::new(sparkline(&s.counts)));
                row.push(Cell::new(s.counts.last().copied().unwrap_or(0)).set_alignment(CellAlignment::Right));
                row.push(Cell::new(delta).set_alignment(CellAlignment::Right));
                row.push(
                    Cell::new(s.rate_per_min.map(|r| format!("{r:.1}")).unwrap_or_default())
                        .set_alignment(CellAlignment::Right),
                );
            }
        }
        row.push(waiting);
        row.push(Cell::new(site));
        row.push(Cell::new(why.join("\n")));
        t.add_row(row);
    }
    writeln!(out, "{t}")?;
    if hidden > 0 {
        writeln!(out, "({hidden} more steady sites not shown; --all shows them)")?;
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
