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
        writeln!(
            out,
            "{}: {} {} profile, {} goroutines in {} groups{}",
            r.source,
            r.format,
            r.profile.name(),
            r.total,
            r.groups.len(),
            time
        )?;
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
                Category::ChanReceive | Category::Select | Category::Mutex | Category::RwmutexRead | Category::RwmutexWrite => {
                    waiting_cell.fg(Color::Yellow)
                }
                _ => waiting_cell,
            };
        }
        let site = if g.site.function.is_empty() {
            "?".to_string()
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
            let first = g.labels.first().map(|l| {
                l.labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",")
            });
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
