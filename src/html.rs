//! The HTML report (`--html FILE` on `show`, `diff`, `trend`; `watch --listen` at `/`):
//! one self-contained page — inline CSS, inline SVG charts, a little inline JS, no network,
//! no external scripts or fonts — small enough to attach to a ticket (1,000 sites × 100
//! snapshots stay under 1 MB; tests/html_report.rs checks it).
//!
//! A renderer like those of [`crate::report`]: it takes the data the JSON renderers take
//! ([`SnapshotReport`]s, a [`Trend`] with its sites' [`Examples`]) and a `&mut impl Write`,
//! and computes nothing the analysis did not. Tables, charts and reasons are written as
//! HTML, so the page reads without JS; the example stacks, creators and labels a click
//! shows come from one JSON block the script reads. A dump is untrusted input: every
//! string from it is HTML-escaped ([`Esc`]), and the JSON block cannot close its
//! `<script>` element (`<`, `>`, `&` written as `\u003c`…); the script only ever sets
//! `textContent`.

use crate::classify::Category;
use crate::compare::{Change, SiteTrend, Trend};
use crate::export::{example_key, Examples};
use crate::group::{Group, Site, SnapshotReport, WAIT_BUCKETS};
use crate::report::CompareView;
use rustc_hash::FxHashMap;
use serde_json::{json, Value};
use std::fmt;
use std::io::{self, Write};

/// One comparison on a trend page: a target of `watch`, or the whole page of `trend`.
pub struct TrendSection<'a> {
    /// Shown above the section (the target's name), if any.
    pub title: Option<&'a str>,
    pub trend: &'a Trend,
    pub examples: &'a Examples,
}

/// Writes the `show` report: per snapshot, its groups with counts as bars, a wait-minute
/// histogram, and each group's stack, labels and creators on a click.
pub fn show(out: &mut impl Write, reports: &[SnapshotReport]) -> io::Result<()> {
    let title = match reports {
        [r] => format!("goroscope show: {}", r.source),
        _ => format!("goroscope show: {} snapshots", reports.len()),
    };
    head(out, &title, None)?;
    writeln!(out, "<h1>{}</h1>", Esc(&title))?;
    filter_box(out, "filter groups: function, file, category, state")?;
    let mut data = Data::default();
    for (t, r) in reports.iter().enumerate() {
        writeln!(out, "<section class=\"snap\">")?;
        let time = r.time.as_deref().map(|t| format!(", captured {t}")).unwrap_or_default();
        writeln!(
            out,
            "<h2>{}</h2><p class=\"meta\">{}, {} goroutines in {} groups{}</p>",
            Esc(&r.source),
            r.format,
            r.total,
            r.groups.len(),
            Esc(&time)
        )?;
        if let Some(p) = &r.preamble {
            writeln!(out, "<p class=\"meta\"><code>{}</code></p>", Esc(p))?;
        }
        if r.shown != r.total {
            writeln!(out, "<p class=\"meta\">{} goroutines match the filters</p>", r.shown)?;
        }
        for n in &r.notes {
            writeln!(out, "<p class=\"note\">note: {}</p>", Esc(n))?;
        }
        let mut hist = [0u64; WAIT_BUCKETS.len()];
        for g in &r.groups {
            for (h, n) in hist.iter_mut().zip(g.wait_histogram) {
                *h += n;
            }
        }
        histogram(out, &hist)?;
        let max = r.groups.iter().map(|g| g.count).max().unwrap_or(1).max(1);
        writeln!(
            out,
            "<table class=\"rows\" data-t=\"{t}\"><thead><tr><th>#</th><th>count</th><th>waiting on</th><th>blocking site</th><th>wait</th><th>created by</th><th>notes</th></tr></thead><tbody>"
        )?;
        let mut rows = Vec::with_capacity(r.groups.len());
        for (i, g) in r.groups.iter().enumerate() {
            let class = if g.category == Category::ChanSend { "row hot" } else { "row" };
            write!(out, "<tr class=\"{class}\" data-i=\"{i}\"><td class=\"n\">{}</td>", i + 1)?;
            write!(
                out,
                "<td class=\"count\"><span class=\"bar\" style=\"width:{:.1}%\"></span><span class=\"v\">{}</span></td>",
                g.count as f64 * 100.0 / max as f64,
                g.count
            )?;
            waiting_cell(out, g.category, &g.state)?;
            site_cell(out, &g.site, g.label_value.as_deref())?;
            write!(out, "<td class=\"n\">{}</td>", wait_text(g))?;
            write!(out, "<td>{}</td>", Esc(&creator_text(g)))?;
            let notes = group_notes(g);
            writeln!(out, "<td>{}</td></tr>", Esc(&notes.join(", ")))?;
            let labels: Vec<Value> = g.labels.iter().map(|l| json!([l.labels, l.count])).collect();
            rows.push(json!({
                "s": data.stack(&g.example_stack),
                "c": g.creators.iter().map(|c| json!([data.frame(&c.site), c.count])).collect::<Vec<_>>(),
                "l": labels,
                "d": g.distinct_label_sets,
                "g": g.goroutine_ids,
                "h": if g.wait_histogram.iter().any(|&n| n > 0) { json!(g.wait_histogram) } else { Value::Null },
            }));
        }
        writeln!(out, "</tbody></table></section>")?;
        data.rows.push(rows);
    }
    tail(out, &data, &WAIT_BUCKETS.iter().map(|b| b.1).collect::<Vec<_>>())
}

/// Writes the `trend` / `diff` report (and `watch`'s live page, one section per target,
/// reloading every `refresh` seconds): the total over time, then per site its sparkline,
/// count, delta, rate, wait and why; suspects first, growing `chan send` highlighted.
pub fn trend(
    out: &mut impl Write,
    sections: &[TrendSection],
    view: CompareView,
    refresh: Option<u64>,
) -> io::Result<()> {
    let title = match (view, sections) {
        (_, []) => "goroscope: no snapshots yet".to_string(),
        (CompareView::Diff, [s]) => match (s.trend.snapshots.first(), s.trend.snapshots.last()) {
            (Some(a), Some(b)) => format!("goroscope diff: {} → {}", a.source, b.source),
            _ => "goroscope diff".into(),
        },
        (CompareView::Trend, [s]) if s.title.is_none() => {
            format!("goroscope trend: {} snapshots", s.trend.snapshots.len())
        }
        _ => format!("goroscope watch: {} targets", sections.len()),
    };
    head(out, &title, refresh)?;
    writeln!(out, "<h1>{}</h1>", Esc(&title))?;
    if sections.is_empty() {
        writeln!(out, "<p class=\"meta\">Waiting for the first poll.</p>")?;
    } else {
        filter_box(out, "filter sites: function, file, category, state")?;
    }
    let mut data = Data::default();
    for (t, s) in sections.iter().enumerate() {
        let trend = s.trend;
        writeln!(out, "<section class=\"trend\">")?;
        if let Some(title) = s.title {
            writeln!(out, "<h2>{}</h2>", Esc(title))?;
        }
        let suspects = trend.sites.iter().filter(|s| s.suspect).count();
        let (first, last) = (trend.snapshots.first(), trend.snapshots.last());
        let span = match (first.and_then(|p| p.time_nanos), last.and_then(|p| p.time_nanos)) {
            (Some(a), Some(b)) if b > a => format!(" over {}", crate::report::human_duration(b - a)),
            _ => String::new(),
        };
        writeln!(
            out,
            "<p class=\"meta\">{} snapshots{span}: {} → {} goroutines; {} sites, <b>{suspects} leak suspect{}</b></p>",
            trend.snapshots.len(),
            first.map_or(0, |p| p.total),
            last.map_or(0, |p| p.total),
            trend.sites.len(),
            if suspects == 1 { "" } else { "s" }
        )?;
        total_chart(out, trend)?;
        snapshot_list(out, trend)?;
        let head = match view {
            CompareView::Diff => "<th></th><th>before</th><th>after</th><th>delta</th>",
            CompareView::Trend => "<th></th><th>counts</th><th>last</th><th>delta</th><th>per min</th>",
        };
        writeln!(
            out,
            "<table class=\"rows\" data-t=\"{t}\"><thead><tr>{head}<th>waiting on</th><th>blocking site</th><th>why</th></tr></thead><tbody>"
        )?;
        let mut rows = Vec::with_capacity(trend.sites.len());
        for (i, site) in trend.sites.iter().enumerate() {
            trend_row(out, site, i, view)?;
            let e = s.examples.get(&example_key(&site.site));
            rows.push(json!({
                "s": e.map(|e| data.stack(&e.stack)).unwrap_or_default(),
                "c": e.map(|e| e.creators.iter().map(|c| json!([data.frame(&c.site), c.count])).collect::<Vec<_>>()).unwrap_or_default(),
                "k": site.created_by,
                "n": [site.counts.first(), site.counts.iter().max(), site.counts.last()],
            }));
        }
        writeln!(out, "</tbody></table></section>")?;
        data.rows.push(rows);
    }
    tail(out, &data, &[])
}

/// A group's wait minutes as shown: `3 min`, `1-4 min`, or nothing.
fn wait_text(g: &Group) -> String {
    match g.wait_minutes {
        Some([a, b]) if a == b => format!("{a} min"),
        Some([a, b]) => format!("{a}-{b} min"),
        None => String::new(),
    }
}

/// A group's first creator, and how many others there are.
fn creator_text(g: &Group) -> String {
    match g.creators.first() {
        Some(c) if g.creators.len() == 1 => c.site.function.clone(),
        Some(c) => format!("{} (+{})", c.site.function, g.creators.len() - 1),
        None => String::new(),
    }
}

/// A group's notes: orphaned, leaked, locked to thread, its labels.
fn group_notes(g: &Group) -> Vec<String> {
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
        let first =
            g.labels.first().map(|l| l.labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(","));
        if g.distinct_label_sets == 1 {
            notes.push(format!("labels {}", first.unwrap_or_default()));
        } else {
            notes.push(format!("{} label sets", g.distinct_label_sets));
        }
    }
    notes
}

fn trend_row(out: &mut impl Write, s: &SiteTrend, i: usize, view: CompareView) -> io::Result<()> {
    let hot = s.suspect && s.category == Category::ChanSend && s.delta > 0;
    let class = match (s.suspect, hot) {
        (true, true) => "row suspect hot",
        (true, false) => "row suspect",
        _ => "row",
    };
    let marker = match (s.suspect, hot) {
        (true, true) => "!!",
        (true, false) => "!",
        _ => "",
    };
    write!(out, "<tr class=\"{class}\" data-i=\"{i}\"><td class=\"m\">{marker}</td>")?;
    let (first, last) = (s.counts.first().copied().unwrap_or(0), s.counts.last().copied().unwrap_or(0));
    match view {
        CompareView::Diff => write!(out, "<td class=\"n\">{first}</td><td class=\"n\">{last}</td>")?,
        CompareView::Trend => {
            write!(out, "<td>")?;
            sparkline(out, &s.counts)?;
            write!(out, "</td><td class=\"n\">{last}</td>")?;
        }
    }
    write!(out, "<td class=\"n\">{:+}</td>", s.delta)?;
    if view == CompareView::Trend {
        write!(out, "<td class=\"n\">{}</td>", s.rate_per_min.map(|r| format!("{r:.1}")).unwrap_or_default())?;
    }
    waiting_cell(out, s.category, &s.state)?;
    site_cell(out, &s.site, None)?;
    let mut why: Vec<String> = Vec::new();
    match s.change {
        Change::New => why.push("new".into()),
        Change::Vanished => why.push("vanished".into()),
        _ => {}
    }
    why.extend(s.reasons.iter().cloned());
    write!(out, "<td class=\"why\">{}", Esc(&why.join("; ")))?;
    if let Some(h) = &s.hint {
        write!(out, "<div class=\"hint\">hint: {}</div>", Esc(h))?;
    }
    writeln!(out, "</td></tr>")
}

fn waiting_cell(out: &mut impl Write, c: Category, state: &str) -> io::Result<()> {
    if state.is_empty() || state == c.name() {
        write!(out, "<td class=\"cat\"><b>{}</b></td>", c.name())
    } else {
        write!(out, "<td class=\"cat\"><b>{}</b><br><small>{}</small></td>", c.name(), Esc(state))
    }
}

fn site_cell(out: &mut impl Write, s: &Site, label: Option<&str>) -> io::Result<()> {
    if s.function.is_empty() {
        write!(out, "<td class=\"site\">?")?;
    } else {
        write!(out, "<td class=\"site\">{}<br> <small>{}:{}</small>", Esc(&s.function), Esc(&s.file), s.line)?;
    }
    if let Some(l) = label {
        write!(out, "<br><small>label value: {}</small>", Esc(l))?;
    }
    write!(out, "</td>")
}

/// Most points of a sparkline; longer series are shown by bucket maxima.
const SPARK_POINTS: usize = 40;

/// A row-sized line chart of a count series.
fn sparkline(out: &mut impl Write, counts: &[u64]) -> io::Result<()> {
    let bucketed: Vec<u64> = if counts.len() > SPARK_POINTS {
        let per = counts.len().div_ceil(SPARK_POINTS);
        counts.chunks(per).map(|c| c.iter().copied().max().unwrap_or(0)).collect()
    } else {
        counts.to_vec()
    };
    let (min, max) = (bucketed.iter().copied().min().unwrap_or(0), bucketed.iter().copied().max().unwrap_or(0));
    const WIDTH: usize = 80;
    let steps = bucketed.len().max(2) - 1;
    write!(out, "<svg class=\"sp\" viewBox=\"0 0 {WIDTH} 20\" width=\"{WIDTH}\" height=\"20\"><polyline points=\"")?;
    for (i, &c) in bucketed.iter().enumerate() {
        let y = if max == min { 10 } else { 18 - (c - min) * 16 / (max - min) };
        write!(out, "{}{},{y}", if i > 0 { " " } else { "" }, i * WIDTH / steps)?;
    }
    write!(out, "\"/></svg>")
}

/// The total goroutines over time: one point per snapshot, placed by capture time where
/// every snapshot has one, else evenly in order.
fn total_chart(out: &mut impl Write, trend: &Trend) -> io::Result<()> {
    const W: f64 = 760.0;
    const H: f64 = 200.0;
    const LEFT: f64 = 56.0;
    const RIGHT: f64 = 16.0;
    const TOP: f64 = 12.0;
    const BOTTOM: f64 = 40.0;
    let pts = &trend.snapshots;
    if pts.is_empty() {
        return Ok(());
    }
    // Times out of order (a file's modification time standing in for a capture time)
    // still place each point at its time.
    let times: Option<Vec<i64>> = pts.iter().map(|p| p.time_nanos).collect();
    let range = times.as_ref().and_then(|t| Some((*t.iter().min()?, *t.iter().max()?))).filter(|(a, b)| b > a);
    let times = times.filter(|_| range.is_some());
    let (t0, t1) = range.unwrap_or((0, 1));
    let n = pts.len();
    let x_of = |i: usize| -> f64 {
        let frac = match &times {
            Some(t) => (t[i] - t0) as f64 / (t1 - t0) as f64,
            None if n > 1 => i as f64 / (n - 1) as f64,
            None => 0.5,
        };
        LEFT + frac * (W - LEFT - RIGHT)
    };
    let max = nice_max(pts.iter().map(|p| p.total).max().unwrap_or(0));
    let y_of = |v: u64| TOP + (1.0 - v as f64 / max as f64) * (H - TOP - BOTTOM);
    writeln!(
        out,
        "<figure><svg class=\"total\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"total goroutines over time\">"
    )?;
    for k in 0..=4 {
        let v = max * k / 4;
        let y = y_of(v);
        writeln!(
            out,
            "<line class=\"grid\" x1=\"{LEFT}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\"/><text class=\"ya\" x=\"{}\" y=\"{:.1}\">{v}</text>",
            W - RIGHT,
            LEFT - 6.0,
            y + 4.0
        )?;
    }
    // Time axis: up to 5 ticks at snapshot positions (first and last always).
    let ticks: Vec<usize> = if n <= 5 { (0..n).collect() } else { (0..5).map(|k| k * (n - 1) / 4).collect() };
    for &i in &ticks {
        let label = match (&times, pts[i].time.as_deref()) {
            (Some(_), Some(t)) => axis_time(t, pts[0].time.as_deref()),
            _ => format!("#{}", i + 1),
        };
        let x = x_of(i);
        // Labels at the edges grow inwards, so none is cut off.
        let anchor = if x < LEFT + 40.0 {
            " style=\"text-anchor:start\""
        } else if x > W - RIGHT - 40.0 {
            " style=\"text-anchor:end\""
        } else {
            ""
        };
        writeln!(out, "<text class=\"xa\"{anchor} x=\"{x:.1}\" y=\"{}\">{}</text>", H - BOTTOM + 16.0, Esc(&label))?;
    }
    let axis = if times.is_some() { "capture time (UTC)" } else { "snapshot, in order (no capture times)" };
    writeln!(out, "<text class=\"xt\" x=\"{}\" y=\"{}\">{axis}</text>", W / 2.0, H - 6.0)?;
    write!(out, "<polyline class=\"line\" points=\"")?;
    for (i, p) in pts.iter().enumerate() {
        write!(out, "{}{:.1},{:.1}", if i > 0 { " " } else { "" }, x_of(i), y_of(p.total))?;
    }
    writeln!(out, "\"/>")?;
    for (i, p) in pts.iter().enumerate() {
        let when = p.time.as_deref().unwrap_or("no capture time");
        writeln!(
            out,
            "<circle class=\"pt\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\"><title>{}: {} goroutines ({})</title></circle>",
            x_of(i),
            y_of(p.total),
            Esc(when),
            p.total,
            Esc(&p.source)
        )?;
    }
    writeln!(out, "</svg><figcaption>total goroutines per snapshot</figcaption></figure>")
}

fn snapshot_list(out: &mut impl Write, trend: &Trend) -> io::Result<()> {
    writeln!(out, "<details class=\"snaps\"><summary>{} snapshots</summary><ol>", trend.snapshots.len())?;
    for p in &trend.snapshots {
        writeln!(
            out,
            "<li>{} <small>{}, {} goroutines{}</small></li>",
            Esc(&p.source),
            p.format,
            p.total,
            Esc(&p.time.as_deref().map(|t| format!(", {t}")).unwrap_or_default())
        )?;
    }
    writeln!(out, "</ol></details>")
}

/// Bars of goroutines per wait-minute bucket; says so where the format prints no waits.
fn histogram(out: &mut impl Write, hist: &[u64; WAIT_BUCKETS.len()]) -> io::Result<()> {
    let max = hist.iter().copied().max().unwrap_or(0);
    if max == 0 {
        return writeln!(
            out,
            "<p class=\"meta\">No wait times in this format (debug=2, panic and SIGQUIT dumps print them).</p>"
        );
    }
    const BAR: f64 = 70.0;
    let w = BAR * hist.len() as f64;
    writeln!(
        out,
        "<figure><svg class=\"hist\" viewBox=\"0 0 {w} 120\" role=\"img\" aria-label=\"goroutines by wait minutes\">"
    )?;
    for (i, (&n, (_, name))) in hist.iter().zip(WAIT_BUCKETS.iter()).enumerate() {
        let h = n as f64 * 80.0 / max as f64;
        let x = i as f64 * BAR;
        writeln!(
            out,
            "<rect class=\"hb\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{h:.1}\"><title>{name}: {n}</title></rect><text class=\"hv\" x=\"{:.1}\" y=\"{:.1}\">{n}</text><text class=\"xa\" x=\"{:.1}\" y=\"112\">{name}</text>",
            x + 8.0,
            94.0 - h,
            BAR - 16.0,
            x + BAR / 2.0,
            90.0 - h,
            x + BAR / 2.0
        )?;
    }
    writeln!(out, "</svg><figcaption>goroutines by how long they have waited</figcaption></figure>")
}

/// The smallest 1, 2 or 5 × 10^k at or above `v` (at least 1): a round top for an axis.
fn nice_max(v: u64) -> u64 {
    let mut p = 1u64;
    loop {
        for m in [1, 2, 5] {
            if m * p >= v.max(1) {
                return m * p;
            }
        }
        p = p.saturating_mul(10);
    }
}

/// An axis label for an RFC 3339 time: `HH:MM:SS`, with the date where it differs from
/// the first snapshot's.
fn axis_time(t: &str, first: Option<&str>) -> String {
    let (date, rest) = t.split_once('T').unwrap_or((t, ""));
    let clock: String = rest.chars().take(8).collect();
    match first.and_then(|f| f.split_once('T')) {
        Some((d, _)) if d == date => clock,
        _ => format!("{date} {clock}"),
    }
}

fn filter_box(out: &mut impl Write, placeholder: &str) -> io::Result<()> {
    writeln!(
        out,
        "<p class=\"tools\"><input id=\"filter\" type=\"search\" placeholder=\"{placeholder}\" autocomplete=\"off\"> <span id=\"shown\"></span> <small>Click a row for its example stack and creators.</small></p>"
    )
}

/// What the script shows on a click: frames once, rows by table and index.
#[derive(Default)]
struct Data {
    frames: Vec<[Value; 3]>,
    index: FxHashMap<Site, usize>,
    rows: Vec<Vec<Value>>,
}

impl Data {
    fn frame(&mut self, s: &Site) -> usize {
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        self.frames.push([json!(s.function), json!(s.file), json!(s.line)]);
        self.index.insert(s.clone(), self.frames.len() - 1);
        self.frames.len() - 1
    }
    fn stack(&mut self, stack: &[Site]) -> Vec<usize> {
        stack.iter().map(|f| self.frame(f)).collect()
    }
}

fn head(out: &mut impl Write, title: &str, refresh: Option<u64>) -> io::Result<()> {
    writeln!(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")?;
    writeln!(out, "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")?;
    // No network: nothing may be fetched, whatever a dump holds.
    writeln!(
        out,
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">"
    )?;
    if let Some(s) = refresh {
        writeln!(out, "<meta http-equiv=\"refresh\" content=\"{s}\">")?;
    }
    writeln!(out, "<title>{}</title>\n<style>{CSS}</style></head><body>", Esc(title))
}

fn tail(out: &mut impl Write, data: &Data, buckets: &[&str]) -> io::Result<()> {
    let doc = json!({ "f": data.frames, "r": data.rows, "b": buckets });
    write!(out, "<script type=\"application/json\" id=\"gs-data\">")?;
    let text = serde_json::to_string(&doc).map_err(io::Error::other)?;
    write_script_safe(out, &text)?;
    writeln!(out, "</script>\n<script>{JS}</script>")?;
    writeln!(
        out,
        "<footer>goroscope {} · this page loads nothing from the network</footer></body></html>",
        env!("CARGO_PKG_VERSION")
    )
}

/// Writes JSON inside a `<script>` element: `<`, `>` and `&` as JSON escapes, so no
/// string can end the element or open a comment.
fn write_script_safe(out: &mut impl Write, json: &str) -> io::Result<()> {
    let mut last = 0;
    for (i, b) in json.bytes().enumerate() {
        let esc = match b {
            b'<' => "\\u003c",
            b'>' => "\\u003e",
            b'&' => "\\u0026",
            _ => continue,
        };
        out.write_all(&json.as_bytes()[last..i])?;
        out.write_all(esc.as_bytes())?;
        last = i + 1;
    }
    out.write_all(&json.as_bytes()[last..])
}

/// A string HTML-escaped for text and attribute values.
pub struct Esc<'a>(pub &'a str);

impl fmt::Display for Esc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut last = 0;
        for (i, c) in self.0.char_indices() {
            let esc = match c {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' => "&quot;",
                '\'' => "&#39;",
                _ => continue,
            };
            f.write_str(&self.0[last..i])?;
            f.write_str(esc)?;
            last = i + 1;
        }
        f.write_str(&self.0[last..])
    }
}

const CSS: &str = r#"
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:1.5em;color:#1d1d1f;background:#fff}
h1{font-size:1.35em;margin:0 0 .3em;word-break:break-all}h2{font-size:1.1em;margin:1.2em 0 .2em;word-break:break-all}
.meta,.note,figcaption,footer{color:#555}.note{color:#8a5300}footer{margin-top:2em;font-size:.85em}
figure{margin:.6em 0}svg.total{width:100%;max-width:900px;height:auto;background:#fafafa;border:1px solid #e3e3e3}
.grid{stroke:#e3e3e3}.ya{font-size:11px;text-anchor:end;fill:#555}.xa{font-size:11px;text-anchor:middle;fill:#555}.xt{font-size:11px;text-anchor:middle;fill:#777}
.line{fill:none;stroke:#2457c5;stroke-width:2}.pt{fill:#2457c5}
svg.hist{width:100%;max-width:460px;height:auto}.hb{fill:#7a8fc9}.hv{font-size:11px;text-anchor:middle}
table{border-collapse:collapse;margin-top:.5em;width:100%}th{text-align:left;font-weight:600;border-bottom:2px solid #ccc;padding:4px 6px;position:sticky;top:0;background:#fff}
td{border-bottom:1px solid #eee;padding:3px 6px;vertical-align:top}tr.row{cursor:pointer}tr.row:hover{background:#f3f6fd}
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}td.m{color:#b00;font-weight:700}
td.site{word-break:break-all}small{color:#666}.why{max-width:34em}.hint{color:#8a1010;margin-top:2px}
tr.suspect td.m{color:#c77700}tr.hot{background:#fdeceb}tr.hot:hover{background:#fadcd9}tr.hot td.m,tr.hot .cat b{color:#b00}
svg.sp polyline{fill:none;stroke:#2457c5;stroke-width:1.5}tr.hot svg.sp polyline{stroke:#c00}
td.count{position:relative;min-width:7em}.bar{position:absolute;left:0;top:3px;bottom:3px;background:#dfe7fb}tr.hot .bar{background:#f6c9c4}.v{position:relative;font-variant-numeric:tabular-nums}
tr.detail td{background:#f7f7f7;cursor:auto}.stack{font:12px/1.5 ui-monospace,Menlo,Consolas,monospace;margin:.3em 0;padding-left:1.6em}.stack .loc{color:#666}
.detail h4{margin:.4em 0 .1em;font-size:.95em}#filter{width:24em;padding:4px}.snaps{margin:.4em 0}
"#;

const JS: &str = r#"
(function(){
var D=JSON.parse(document.getElementById('gs-data').textContent);
function E(t,c,x){var e=document.createElement(t);if(c)e.className=c;if(x!=null)e.textContent=String(x);return e;}
function frame(i){var f=D.f[i],li=E('li');li.appendChild(E('span','fn',f[0]||'?'));li.appendChild(E('span','loc','  '+f[1]+':'+f[2]));return li;}
function list(box,title,items){if(!items.length)return;box.appendChild(E('h4',null,title));var ol=E('ol','stack');items.forEach(function(x){ol.appendChild(x);});box.appendChild(ol);}
function detail(row){
 var t=+row.parentNode.parentNode.dataset.t,d=D.r[t][+row.dataset.i],box=E('div');
 if(d.n){box.appendChild(E('p',null,'first '+d.n[0]+', most '+d.n[1]+', last '+d.n[2]+(d.k?'; created by '+d.k:'')));}
 list(box,'example stack (leaf first)',d.s.map(frame));
 if(!d.s.length)box.appendChild(E('p',null,'No example stack kept for this site.'));
 list(box,'created by',d.c.map(function(c){var li=frame(c[0]);li.appendChild(E('span','loc','  ('+c[1]+')'));return li;}));
 if(d.l&&d.l.length){list(box,'labels'+(d.d>d.l.length?' (top '+d.l.length+' of '+d.d+' sets)':''),d.l.map(function(l){return E('li',null,Object.keys(l[0]).map(function(k){return k+'='+l[0][k];}).join(', ')+'  ('+l[1]+')');}));}
 if(d.g&&d.g.length)box.appendChild(E('p',null,'goroutine ids: '+d.g.join(', ')));
 if(d.h)box.appendChild(E('p',null,'waited: '+d.h.map(function(n,i){return n?D.b[i]+': '+n:null;}).filter(Boolean).join(', ')));
 return box;}
function toggle(row){var n=row.nextElementSibling;if(n&&n.classList.contains('detail')){n.remove();row.classList.remove('open');return;}
 var tr=E('tr','detail'),td=E('td');td.colSpan=row.children.length;td.appendChild(detail(row));tr.appendChild(td);row.parentNode.insertBefore(tr,row.nextSibling);row.classList.add('open');}
var rows=Array.prototype.slice.call(document.querySelectorAll('tr.row'));
rows.forEach(function(r){r.addEventListener('click',function(){toggle(r);});});
var f=document.getElementById('filter'),shown=document.getElementById('shown');
function apply(){var words=f.value.toLowerCase().split(/\s+/).filter(Boolean),n=0;
 rows.forEach(function(r){var s=r.querySelector('.site'),c=r.querySelector('.cat');var text=((s?s.textContent:'')+' '+(c?c.textContent:'')).toLowerCase();
  var hide=words.some(function(w){return text.indexOf(w)<0;});r.hidden=hide;var d=r.nextElementSibling;if(d&&d.classList.contains('detail'))d.hidden=hide;if(!hide)n++;});
 shown.textContent=words.length?n+' of '+rows.length+' rows':'';}
if(f)f.addEventListener('input',apply);
})();
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_text_and_script_data() {
        assert_eq!(Esc("<script>a&b</script>\"'").to_string(), "&lt;script&gt;a&amp;b&lt;/script&gt;&quot;&#39;");
        let mut out = Vec::new();
        write_script_safe(&mut out, r#"{"a":"</script><!--&"}"#).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), r#"{"a":"\u003c/script\u003e\u003c!--\u0026"}"#);
    }

    #[test]
    fn axis_and_scales() {
        assert_eq!(nice_max(0), 1);
        assert_eq!(nice_max(59), 100);
        assert_eq!(nice_max(17), 20);
        assert_eq!(nice_max(3000), 5000);
        assert_eq!(axis_time("2026-01-02T03:04:05.5Z", Some("2026-01-02T00:00:00Z")), "03:04:05");
        assert_eq!(axis_time("2026-01-03T03:04:05Z", Some("2026-01-02T00:00:00Z")), "2026-01-03 03:04:05");
    }
}
