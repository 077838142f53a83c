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
//!                             "site": {"function": "main.f.func1", "file": "/app/a.go", "line": 92,
//!                                      "origin": "main_module"},
//!                             "wait_minutes": [1, 3], "locked_to_thread": 0, "leaked": 0,
//!                             "orphaned": 15, "creators": [{"function": "…", "file": "…", "line": 1, "count": 15}],
//!                             "labels": [{"labels": {"k": "v"}, "count": 3}], "distinct_label_sets": 1,
//!                             "goroutine_ids": [41, 57], "example_stack": [{"function": "…", "file": "…", "line": 1}]}]}]}
//! ```
//! `count`, `category`, `state`, `site.{function,file,line}` and `total` are the contract
//! other tools read; the rest may grow.

use crate::classify::Category;
use crate::group::{Group, Grouping, SnapshotReport};
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

/// Writes the `show --json` document from groupings, resolving each group as it is
/// written and dropping it after: the same bytes as [`show_json`] on the reports (a test
/// checks it), without every group's strings held at once.
pub fn show_json_streamed(out: &mut impl Write, groupings: &[Grouping<'_>]) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &StreamedDoc(groupings))?;
    writeln!(out)
}

struct StreamedDoc<'a, 's>(&'a [Grouping<'s>]);
struct StreamedReport<'a, 's>(&'a Grouping<'s>);
struct StreamedGroups<'a, 's>(&'a Grouping<'s>);

impl Serialize for StreamedDoc<'_, '_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut doc = s.serialize_struct("ShowDoc", 2)?;
        doc.serialize_field("schema_version", &1u32)?;
        let reports: Vec<StreamedReport<'_, '_>> = self.0.iter().map(StreamedReport).collect();
        doc.serialize_field("snapshots", &reports)?;
        doc.end()
    }
}

impl Serialize for StreamedReport<'_, '_> {
    /// The fields of [`SnapshotReport`], in its order, with `groups` streamed.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let h = self.0.header();
        let mut r = s.serialize_struct("SnapshotReport", 14)?;
        r.serialize_field("source", &h.source)?;
        r.serialize_field("format", &h.format)?;
        r.serialize_field("profile", &h.profile)?;
        r.serialize_field("total", &h.total)?;
        if let Some(t) = &h.time {
            r.serialize_field("time", t)?;
        }
        if let Some(p) = &h.preamble {
            r.serialize_field("preamble", p)?;
        }
        r.serialize_field("truncated", &h.truncated)?;
        r.serialize_field("skipped", &h.skipped)?;
        r.serialize_field("notes", &h.notes)?;
        r.serialize_field("shown", &h.shown)?;
        r.serialize_field("connections", &h.connections)?;
        r.serialize_field("requests", &h.requests)?;
        if let Some(id) = &h.max_goroutine_id {
            r.serialize_field("max_goroutine_id", id)?;
        }
        r.serialize_field("groups", &StreamedGroups(self.0))?;
        r.end()
    }
}

impl Serialize for StreamedGroups<'_, '_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq((0..self.0.len()).map(|i| StreamedGroup(self.0, i)))
    }
}

/// Group `i` of a grouping, written by [`Group`]'s own `Serialize` with its site and
/// example stack resolved as they are written, one frame at a time: a huge name is held
/// once beside the snapshot's tables, not three times (tables, site, stack).
struct StreamedGroup<'a, 's>(&'a Grouping<'s>, usize);

impl Serialize for StreamedGroup<'_, '_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let g = self.0.group_without_site(self.1);
        g.serialize(lazy_stack::Swap { inner: s, site: LazySite(self.0, self.1), stack: LazyStack(self.0, self.1) })
    }
}

struct LazySite<'a, 's>(&'a Grouping<'s>, usize);
struct LazyStack<'a, 's>(&'a Grouping<'s>, usize);

impl Serialize for LazySite<'_, '_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.site(self.1).serialize(s)
    }
}

impl Serialize for LazyStack<'_, '_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.example_stack(self.1))
    }
}

/// A serializer that passes a struct through unchanged except its `site` and
/// `example_stack` fields, which it takes from elsewhere. Only `serialize_struct` is reached (a [`Group`] is a
/// struct); everything else is refused.
mod lazy_stack {
    use serde::ser::{Error, Impossible, Serialize, SerializeStruct, Serializer};

    pub(super) struct Swap<S, U, T> {
        pub inner: S,
        pub site: U,
        pub stack: T,
    }

    pub(super) struct SwapStruct<M, U, T> {
        inner: M,
        site: U,
        stack: T,
    }

    impl<M: SerializeStruct, U: Serialize, T: Serialize> SerializeStruct for SwapStruct<M, U, T> {
        type Ok = M::Ok;
        type Error = M::Error;
        fn serialize_field<V: ?Sized + Serialize>(&mut self, key: &'static str, value: &V) -> Result<(), M::Error> {
            if key == "example_stack" {
                self.inner.serialize_field(key, &self.stack)
            } else if key == "site" {
                self.inner.serialize_field(key, &self.site)
            } else {
                self.inner.serialize_field(key, value)
            }
        }
        fn skip_field(&mut self, key: &'static str) -> Result<(), M::Error> {
            self.inner.skip_field(key)
        }
        fn end(self) -> Result<M::Ok, M::Error> {
            self.inner.end()
        }
    }

    macro_rules! refuse {
        ($($name:ident($($arg:ty),*) -> $ret:ty;)*) => {
            $(fn $name(self, $(_: $arg),*) -> Result<$ret, S::Error> {
                Err(S::Error::custom("only a struct is expected here"))
            })*
        };
    }

    impl<S: Serializer, U: Serialize, T: Serialize> Serializer for Swap<S, U, T> {
        type Ok = S::Ok;
        type Error = S::Error;
        type SerializeSeq = Impossible<S::Ok, S::Error>;
        type SerializeTuple = Impossible<S::Ok, S::Error>;
        type SerializeTupleStruct = Impossible<S::Ok, S::Error>;
        type SerializeTupleVariant = Impossible<S::Ok, S::Error>;
        type SerializeMap = Impossible<S::Ok, S::Error>;
        type SerializeStruct = SwapStruct<S::SerializeStruct, U, T>;
        type SerializeStructVariant = Impossible<S::Ok, S::Error>;

        fn serialize_struct(self, name: &'static str, len: usize) -> Result<Self::SerializeStruct, S::Error> {
            Ok(SwapStruct { inner: self.inner.serialize_struct(name, len)?, site: self.site, stack: self.stack })
        }
        fn serialize_some<V: ?Sized + Serialize>(self, _: &V) -> Result<S::Ok, S::Error> {
            Err(S::Error::custom("only a struct is expected here"))
        }
        fn serialize_newtype_struct<V: ?Sized + Serialize>(self, _: &'static str, _: &V) -> Result<S::Ok, S::Error> {
            Err(S::Error::custom("only a struct is expected here"))
        }
        fn serialize_newtype_variant<V: ?Sized + Serialize>(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: &V,
        ) -> Result<S::Ok, S::Error> {
            Err(S::Error::custom("only a struct is expected here"))
        }
        refuse! {
            serialize_bool(bool) -> S::Ok;
            serialize_i8(i8) -> S::Ok;
            serialize_i16(i16) -> S::Ok;
            serialize_i32(i32) -> S::Ok;
            serialize_i64(i64) -> S::Ok;
            serialize_u8(u8) -> S::Ok;
            serialize_u16(u16) -> S::Ok;
            serialize_u32(u32) -> S::Ok;
            serialize_u64(u64) -> S::Ok;
            serialize_f32(f32) -> S::Ok;
            serialize_f64(f64) -> S::Ok;
            serialize_char(char) -> S::Ok;
            serialize_str(&str) -> S::Ok;
            serialize_bytes(&[u8]) -> S::Ok;
            serialize_none() -> S::Ok;
            serialize_unit() -> S::Ok;
            serialize_unit_struct(&'static str) -> S::Ok;
            serialize_unit_variant(&'static str, u32, &'static str) -> S::Ok;
            serialize_seq(Option<usize>) -> Self::SerializeSeq;
            serialize_tuple(usize) -> Self::SerializeTuple;
            serialize_tuple_struct(&'static str, usize) -> Self::SerializeTupleStruct;
            serialize_tuple_variant(&'static str, u32, &'static str, usize) -> Self::SerializeTupleVariant;
            serialize_map(Option<usize>) -> Self::SerializeMap;
            serialize_struct_variant(&'static str, u32, &'static str, usize) -> Self::SerializeStructVariant;
        }
    }
}

/// Writes the `show` tables, one per snapshot. Every string from the dump is escaped and
/// capped ([`crate::layout`]); the table fits `style.width`.
pub fn show_table(out: &mut impl Write, reports: &[SnapshotReport], style: Style, stacks: bool) -> io::Result<()> {
    for (i, r) in reports.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        write_show(out, r, r.groups.len(), |g, _| Cow::Borrowed(&r.groups[g]), style, stacks)?;
    }
    Ok(())
}

/// [`show_table`] from groupings: each group is resolved to measure its row, again to
/// write it (and once more for `--stacks`), and dropped in between, so memory holds one
/// row at a time however many groups there are.
pub fn show_table_streamed(
    out: &mut impl Write,
    groupings: &[Grouping<'_>],
    style: Style,
    stacks: bool,
) -> io::Result<()> {
    for (i, g) in groupings.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        write_show(out, &g.header(), g.len(), |n, stack| Cow::Owned(g.group_for_table(n, stack)), style, stacks)?;
    }
    Ok(())
}

/// One snapshot's `show` text: the header lines, the table of its `n` groups (group `i`
/// from `group(i, with_stack)`), and the example stacks if asked.
fn write_show<'g>(
    out: &mut impl Write,
    r: &SnapshotReport,
    n: usize,
    group: impl Fn(usize, bool) -> Cow<'g, Group>,
    style: Style,
    stacks: bool,
) -> io::Result<()> {
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
        count(n as u64, "group"),
        time
    )?;
    if let Some(p) = &r.preamble {
        writeln!(out, "  {}", clean(p))?;
    }
    if r.shown != r.total {
        let verb = if r.shown == 1 { "matches" } else { "match" };
        writeln!(out, "  {} {verb} the filters", count(r.shown, "goroutine"))?;
    }
    for note in &r.notes {
        writeln!(out, "  note: {}", clean(note))?;
    }
    if n == 0 {
        return Ok(());
    }
    let with_label = group(0, false).label_value.is_some();
    let mut t = Table::new(group_columns(with_label));
    for i in 0..n {
        let g = group(i, false);
        t.measure(&group_row(i, &g));
    }
    let plan = t.plan(style.width);
    t.write_header(out, &plan, style.color)?;
    for i in 0..n {
        let g = group(i, false);
        t.write_row(out, &plan, &group_row(i, &g), style.color)?;
    }
    if stacks {
        for i in 0..n {
            let g = group(i, true);
            writeln!(out, "\n#{} {} x {} at {}:", i + 1, g.count, clean(&g.state), clean(&g.site.function))?;
            for f in &g.example_stack {
                writeln!(out, "    {}\n        {}:{}", clean(&f.function), clean(&f.file), f.line)?;
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
        return vec![crate::compare::NO_STACK.into()];
    }
    let base = fit(site.file.rsplit('/').next().unwrap_or(&site.file), 120);
    let mut at = String::with_capacity(base.len() + 11);
    at.push_str(&base);
    at.push(':');
    push_num(&mut at, site.line.into());
    vec![Cow::Borrowed(site.function.as_str()), at.into()]
}

/// Appends `n` in decimal: a table row has several numbers, and the formatting
/// machinery (with the string it grows) costs more than the rest of the cell.
fn push_num(s: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    s.extend(digits[i..].iter().map(|&d| char::from(d)));
}

/// `n` then `text`: `925 orphaned`.
fn num_then(n: u64, text: &str) -> String {
    let mut s = String::with_capacity(20 + text.len());
    push_num(&mut s, n);
    s.push_str(text);
    s
}

/// The columns of the `show` table.
fn group_columns(with_label: bool) -> Vec<Column> {
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
    columns
}

/// The row of group `g`, the `i`th (from 0).
fn group_row(i: usize, g: &Group) -> Row<'_> {
    {
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
            Some([a, b]) if a == b => num_then(a.into(), " min"),
            Some([a, b]) => {
                let mut s = num_then(a.into(), "-");
                push_num(&mut s, b.into());
                s.push_str(" min");
                s
            }
            None => String::new(),
        };
        let creator: Cow<'_, str> = match g.creators.first() {
            Some(c) if g.creators.len() == 1 => Cow::Borrowed(c.site.function.as_str()),
            Some(c) => {
                let f = fit(&c.site.function, crate::layout::CELL_MAX);
                let mut s = String::with_capacity(f.len() + 24);
                s.push_str(&f);
                s.push_str(" (+");
                push_num(&mut s, (g.creators.len() - 1) as u64);
                s.push(')');
                s.into()
            }
            None => "".into(),
        };
        let mut notes: Vec<Cow<'_, str>> = Vec::with_capacity(4);
        if let Some(r) = g.role {
            notes.push(r.name().into());
        }
        if g.orphaned > 0 {
            notes.push(num_then(g.orphaned, " orphaned").into());
        }
        if g.leaked > 0 {
            notes.push(num_then(g.leaked, " leaked").into());
        }
        if g.locked_to_thread > 0 {
            notes.push(num_then(g.locked_to_thread, " locked to thread").into());
        }
        if g.distinct_label_sets == 1 {
            let mut s = String::from("labels ");
            for (n, (k, v)) in g.labels.first().into_iter().flat_map(|l| l.labels.iter()).enumerate() {
                if n > 0 {
                    s.push(',');
                }
                s.push_str(&fit(k, LABEL_MAX));
                s.push('=');
                s.push_str(&fit(v, LABEL_MAX));
            }
            notes.push(s.into());
        } else if g.distinct_label_sets > 1 {
            notes.push(num_then(g.distinct_label_sets, " label sets").into());
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
        if let Some(v) = &g.label_value {
            cells.insert(4, Cell::text(v.as_str()));
        }
        Row { cells, below: Vec::new() }
    }
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
        t.push(Row { cells, below });
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

/// A span for people: `42s`, `3m20s`, `2h5m`.
pub(crate) fn human_duration(nanos: i64) -> String {
    let s = nanos / 1_000_000_000;
    match s {
        0..=119 => format!("{s}s"),
        120..=7199 => format!("{}m{}s", s / 60, s % 60),
        _ => format!("{}h{}m", s / 3600, s % 3600 / 60),
    }
}

#[cfg(test)]
mod streamed_tests {
    use super::*;
    use crate::group::{group, grouping, GroupBy, GroupSettings};

    /// Streaming writes exactly what rendering the collected reports writes: JSON (whose
    /// envelope `StreamedReport` spells out field by field) and tables, for every
    /// grouping of every text and protobuf capture in testdata.
    #[test]
    fn streamed_output_equals_collected_output() {
        let limits = crate::limits::Limits::default();
        let mut checked = 0;
        for version in ["go1.21", "go1.24", "go1.27"] {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata").join(version);
            for f in std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()) {
                let name = f.display().to_string();
                if !(name.ends_with(".txt") || name.ends_with(".pb.gz")) {
                    continue;
                }
                let data = std::fs::read(&f).unwrap();
                let snaps = crate::format::parse(&name, &data, None, &limits).unwrap();
                for by in [GroupBy::Site, GroupBy::Stack, GroupBy::Creator, GroupBy::Label("shard".into())] {
                    let settings = GroupSettings { by, min_count: 2, ..GroupSettings::default() };
                    let mut a = snaps.clone();
                    let mut b = snaps.clone();
                    let reports: Vec<SnapshotReport> = a.iter_mut().map(|s| group(s, &settings)).collect();
                    let groupings: Vec<Grouping<'_>> = b.iter_mut().map(|s| grouping(s, &settings)).collect();
                    let (mut x, mut y) = (Vec::new(), Vec::new());
                    show_json(&mut x, &reports).unwrap();
                    show_json_streamed(&mut y, &groupings).unwrap();
                    assert!(x == y, "{name}: streamed JSON differs");
                    let style = Style { width: 80, ..Style::default() };
                    let (mut x, mut y) = (Vec::new(), Vec::new());
                    show_table(&mut x, &reports, style, true).unwrap();
                    show_table_streamed(&mut y, &groupings, style, true).unwrap();
                    assert!(x == y, "{name}: streamed table differs");
                    checked += 1;
                }
            }
        }
        assert!(checked >= 40, "only {checked} inputs checked");
    }
}
