//! Text for people: strings from a dump made safe for a terminal, long ones elided in the
//! middle, and tables laid out to a width.
//!
//! A dump is untrusted input (a ticket, a paste, a compromised service), and a function
//! name, file, label or wait state in it may carry raw control bytes: an OSC sequence
//! retitles the terminal or writes the clipboard, a CSI one hides text. So every text a
//! person reads passes through [`escape`] (or [`fit`], which also elides): C0 controls,
//! DEL, C1 controls and the bidirectional overrides are shown as escapes (`\x1b`, `\t`,
//! `\u{9b}`), never written raw. JSON output does not come here: serde escapes exactly.
//!
//! Everything here is linear in its input: a cell shows at most [`CELL_MAX`] columns, and a
//! longer string costs one pass to measure, not a copy, so a 4 MB function name renders as
//! fast as a short one.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::{self, Write};
use unicode_width::UnicodeWidthChar;

/// Most columns one table cell (or one `--stacks` line) shows; a longer string is elided
/// in the middle with its length noted.
pub const CELL_MAX: usize = 200;

/// True for the characters a terminal may act on: C0 controls, DEL, C1 controls, and the
/// bidirectional embeddings, overrides and isolates (which reorder what is shown).
fn is_control(c: char) -> bool {
    matches!(c, '\0'..='\x1f' | '\x7f'..='\u{9f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// A byte that starts (or is) such a character in UTF-8: a quick filter, since nearly
/// every string has none.
fn may_start_control(b: u8) -> bool {
    b < 0x20 || b == 0x7f || b == 0xc2 || b == 0xe2
}

/// True when every byte is printable ASCII (space to `~`): shown as is, a column a byte.
/// Nearly every string from a dump is, so this is the fast path of measuring, escaping
/// and eliding. Checked 16 bytes at a time without an early exit, which the compiler
/// turns into a few vector instructions per chunk.
fn plain(s: &str) -> bool {
    let bytes = s.as_bytes();
    let mut chunks = bytes.chunks_exact(16);
    for chunk in &mut chunks {
        if chunk.iter().fold(false, |bad, &b| bad | !(0x20..0x7f).contains(&b)) {
            return false;
        }
    }
    chunks.remainder().iter().all(|b| (0x20..0x7f).contains(b))
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '\t' => out.push_str("\\t"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        c if (c as u32) < 0x80 && is_control(c) => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c if is_control(c) => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
        c => out.push(c),
    }
}

/// Columns a character takes once escaped.
fn char_width(c: char) -> usize {
    match c {
        '\t' | '\n' | '\r' => 2,
        c if (c as u32) < 0x80 && is_control(c) => 4,
        c if is_control(c) => format!("{:x}", c as u32).len() + 4,
        c if c.is_ascii() => 1,
        c => c.width().unwrap_or(0),
    }
}

/// `s` with every control character escaped; borrowed when there is none (the usual case).
pub fn escape(s: &str) -> Cow<'_, str> {
    if plain(s) || !s.bytes().any(may_start_control) || !s.chars().any(is_control) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        push_escaped(&mut out, c);
    }
    Cow::Owned(out)
}

/// Columns `s` takes once escaped, counted up to `cap` (a larger result means "more").
pub fn width_upto(s: &str, cap: usize) -> usize {
    if plain(s) {
        return s.len().min(cap.saturating_add(1));
    }
    let mut w = 0;
    for c in s.chars() {
        w += char_width(c);
        if w > cap {
            return w;
        }
    }
    w
}

/// `s` escaped, in at most `width` columns: elided in the middle (`head…tail`) when longer,
/// with the length noted (`head…[4000005 chars]…tail`) when it is longer than
/// [`CELL_MAX`] characters and the note fits. Linear in `s`, and copies only what is shown.
pub fn fit(s: &str, width: usize) -> Cow<'_, str> {
    fit_measured(s, width).0
}

/// [`fit`], and the columns its result takes.
fn fit_measured(s: &str, width: usize) -> (Cow<'_, str>, usize) {
    if plain(s) {
        if s.len() <= width {
            return (Cow::Borrowed(s), s.len());
        }
        // One byte, one character, one column: the head and tail are slices.
        let (marker, marker_w) = marker(s.len(), width);
        let room = width.saturating_sub(marker_w);
        let (head_room, tail_room) = (room.div_ceil(2), room / 2);
        let mut out = String::with_capacity(head_room + marker.len() + tail_room);
        out.push_str(&s[..head_room]);
        out.push_str(&marker);
        out.push_str(&s[s.len() - tail_room..]);
        return (Cow::Owned(out), head_room + marker_w + tail_room);
    }
    fit_chars(s, width)
}

/// [`fit_measured`] a character at a time: for strings with controls or non-ASCII.
fn fit_chars(s: &str, width: usize) -> (Cow<'_, str>, usize) {
    if width_upto(s, width) <= width {
        let e = escape(s);
        let w = width_upto(&e, usize::MAX - 1);
        return (e, w);
    }
    let (marker, marker_w) = marker(s.chars().count(), width);
    let room = width.saturating_sub(marker_w);
    let (head_room, tail_room) = (room.div_ceil(2), room / 2);
    let mut head = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = char_width(c);
        if used + w > head_room {
            break;
        }
        used += w;
        push_escaped(&mut head, c);
    }
    let mut tail: Vec<char> = Vec::new();
    let mut used = 0;
    for c in s.chars().rev() {
        let w = char_width(c);
        if used + w > tail_room {
            break;
        }
        used += w;
        tail.push(c);
    }
    let mut out = head;
    out.push_str(&marker);
    for &c in tail.iter().rev() {
        push_escaped(&mut out, c);
    }
    let w = width_upto(&out, usize::MAX - 1);
    (Cow::Owned(out), w)
}

/// What stands for the elided middle of a string of `chars` characters fitted to `width`,
/// and its columns: the length noted when the string is longer than [`CELL_MAX`] and the
/// note fits twice, else `…`.
fn marker(chars: usize, width: usize) -> (Cow<'static, str>, usize) {
    if chars > CELL_MAX {
        let note = format!("…[{chars} chars]…");
        let w = note.chars().count();
        if w * 2 <= width {
            return (Cow::Owned(note), w);
        }
    }
    (Cow::Borrowed("…"), 1)
}

/// `s` escaped and capped at [`CELL_MAX`] columns: for a line outside a table.
pub fn clean(s: &str) -> Cow<'_, str> {
    fit(s, CELL_MAX)
}

/// Splits `text` (escaped) into lines of at most `width` columns at spaces; a word longer
/// than a line is cut.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let text = clean_long(text);
    let width = width.max(10);
    let mut lines = Vec::new();
    let mut line = String::with_capacity(width.min(text.len()));
    let mut line_w = 0;
    for word in text.split(' ') {
        let mut word: &str = word;
        loop {
            let w = width_upto(word, usize::MAX - 1);
            let gap = usize::from(line_w > 0);
            if line_w + gap + w <= width {
                if gap == 1 {
                    line.push(' ');
                }
                line.push_str(word);
                line_w += gap + w;
                break;
            }
            if line_w > 0 {
                lines.push(std::mem::replace(&mut line, String::with_capacity(width.min(text.len()))));
                line_w = 0;
                continue;
            }
            // A word longer than a line: cut it at the width (a column a byte when plain).
            let mut cut = 0;
            if plain(word) {
                cut = width.min(word.len());
            } else {
                let mut cw = 0;
                for (i, c) in word.char_indices() {
                    let w = c.width().unwrap_or(0);
                    if cw + w > width {
                        break;
                    }
                    cw += w;
                    cut = i + c.len_utf8();
                }
            }
            if cut == 0 {
                cut = word.chars().next().map_or(word.len(), char::len_utf8);
            }
            lines.push(word[..cut].to_string());
            word = &word[cut..];
            if word.is_empty() {
                break;
            }
        }
    }
    if line_w > 0 || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// Escapes `text`, eliding it to a few lines' worth when it is huge (a reason quoting a
/// hostile name must not print megabytes).
fn clean_long(text: &str) -> Cow<'_, str> {
    fit(text, CELL_MAX * 4)
}

/// How a column's cells line up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// A table column: its title, alignment, and whether it may be squeezed to fit a width:
/// down to how many columns, and in which turn (lower ranks give way first).
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub title: &'static str,
    pub align: Align,
    pub squeeze: Option<Squeeze>,
    /// On a narrow width the column may leave the table and its cells go under the row,
    /// after this prefix (`created by `).
    pub fold: Option<&'static str>,
}

/// How far and in which turn a column gives way.
#[derive(Debug, Clone, Copy)]
pub struct Squeeze {
    pub floor: usize,
    pub rank: u8,
}

impl Column {
    /// A left-aligned column that may be squeezed down to `floor`, in turn `rank`.
    pub fn left(title: &'static str, floor: usize, rank: u8) -> Column {
        Column { title, align: Align::Left, squeeze: Some(Squeeze { floor, rank }), fold: None }
    }
    /// A left-aligned column never squeezed (markers, sparklines).
    pub fn fixed(title: &'static str) -> Column {
        Column { title, align: Align::Left, squeeze: None, fold: None }
    }
    /// The column may move under the row (its cells after `prefix`) when the table does
    /// not fit; columns fold in the order of their squeeze rank.
    pub fn folds(mut self, prefix: &'static str) -> Column {
        self.fold = Some(prefix);
        self
    }
    /// A right-aligned column never squeezed (numbers).
    pub fn right(title: &'static str) -> Column {
        Column { title, align: Align::Right, squeeze: None, fold: None }
    }
}

/// Colours a cell may have (used only when colour is on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paint {
    Red,
    RedBold,
    Yellow,
}

impl Paint {
    fn code(self) -> &'static str {
        match self {
            Paint::Red => "\x1b[31m",
            Paint::RedBold => "\x1b[1;31m",
            Paint::Yellow => "\x1b[33m",
        }
    }
}

/// One cell: its lines (raw text, escaped when drawn) and an optional colour.
#[derive(Debug, Clone, Default)]
pub struct Cell<'a> {
    pub lines: Vec<Cow<'a, str>>,
    pub paint: Option<Paint>,
}

impl<'a> Cell<'a> {
    pub fn new(lines: impl IntoIterator<Item = Cow<'a, str>>) -> Cell<'a> {
        Cell { lines: lines.into_iter().collect(), paint: None }
    }
    pub fn text(s: impl Into<Cow<'a, str>>) -> Cell<'a> {
        Cell { lines: vec![s.into()], paint: None }
    }
    pub fn empty() -> Cell<'a> {
        Cell::default()
    }
    pub fn paint(mut self, p: Option<Paint>) -> Cell<'a> {
        self.paint = p;
        self
    }
}

/// One row: a cell per column, and lines printed under it across the whole width
/// (reasons, hints), word-wrapped.
#[derive(Debug, Clone, Default)]
pub struct Row<'a> {
    pub cells: Vec<Cell<'a>>,
    pub below: Vec<Cow<'a, str>>,
}

/// Columns between cells, and the indent of the lines under a row.
const GAP: usize = 2;
const BELOW_INDENT: usize = 6;

/// A table drawn without borders, fitted to a width: on a narrow width columns that may
/// fold move under the row, then columns that may be squeezed lose columns (the widest
/// first) down to their floor, and a cell longer than its column is elided in the middle.
///
/// Rows are either kept ([`Table::push`], then [`Table::render`]) or streamed: measured
/// one at a time ([`Table::measure`]), then written one at a time ([`Table::plan`],
/// [`Table::write_header`], [`Table::write_row`]), so a table of a million groups holds
/// no row longer than it takes to write it.
#[derive(Debug, Clone)]
pub struct Table<'a> {
    pub columns: Vec<Column>,
    pub rows: Vec<Row<'a>>,
    /// Widest cell of each column so far, at most [`CELL_MAX`].
    natural: Vec<usize>,
    /// Whether any cell of the column has text.
    filled: Vec<bool>,
    measured: usize,
}

/// How a table is laid out at a width: the columns shown, those folded under the rows,
/// and the width of each shown column.
#[derive(Debug, Clone)]
pub struct Plan {
    shown: Vec<usize>,
    folded: Vec<usize>,
    widths: Vec<usize>,
    below_width: usize,
}

impl<'a> Table<'a> {
    pub fn new(columns: Vec<Column>) -> Table<'a> {
        let natural = columns.iter().map(|c| c.title.chars().count()).collect();
        let filled = vec![false; columns.len()];
        Table { columns, rows: Vec::new(), natural, filled, measured: 0 }
    }

    /// Takes a row's cells into account for the layout, without keeping it.
    pub fn measure(&mut self, row: &Row<'_>) {
        self.measured += 1;
        for (i, cell) in row.cells.iter().enumerate().take(self.columns.len()) {
            for l in &cell.lines {
                self.natural[i] = self.natural[i].max(width_upto(l, CELL_MAX).min(CELL_MAX));
                self.filled[i] |= !l.is_empty();
            }
        }
    }

    /// Measures and keeps a row.
    pub fn push(&mut self, row: Row<'a>) {
        self.measure(&row);
        self.rows.push(row);
    }

    /// The layout at `width` (0: no limit) for the rows measured. A column empty in every
    /// row is left out.
    pub fn plan(&self, width: usize) -> Plan {
        let mut shown: Vec<usize> = (0..self.columns.len()).filter(|&i| self.measured == 0 || self.filled[i]).collect();
        let mut folded = Vec::new();
        let below_width = if width == 0 { CELL_MAX } else { width.saturating_sub(BELOW_INDENT) };
        loop {
            let natural: Vec<usize> = shown.iter().map(|&i| self.natural[i]).collect();
            if width == 0 || total(&natural) <= width {
                folded.sort_unstable();
                return Plan { shown, folded, widths: natural, below_width };
            }
            let next = shown
                .iter()
                .enumerate()
                .filter(|(_, &i)| self.columns[i].fold.is_some())
                .min_by_key(|(_, &i)| self.columns[i].squeeze.map_or(u8::MAX, |s| s.rank));
            match next {
                Some((k, &i)) => {
                    shown.remove(k);
                    folded.push(i);
                }
                None => {
                    let widths = self.squeeze(&shown, natural, width);
                    folded.sort_unstable();
                    return Plan { shown, folded, widths, below_width };
                }
            }
        }
    }

    /// Narrows squeezable columns until the table fits `width` (or all are at their floor).
    fn squeeze(&self, shown: &[usize], natural: Vec<usize>, width: usize) -> Vec<usize> {
        let mut w = natural;
        let mut excess = total(&w).saturating_sub(width);
        let cols: Vec<&Column> = shown.iter().map(|&i| &self.columns[i]).collect();
        let mut ranks: Vec<u8> = cols.iter().filter_map(|c| c.squeeze.map(|s| s.rank)).collect();
        ranks.sort_unstable();
        ranks.dedup();
        // Rank by rank, take a column from the widest squeezable one until it fits.
        for rank in ranks {
            while excess > 0 {
                let widest = (0..w.len())
                    .filter(|&i| cols[i].squeeze.is_some_and(|s| s.rank == rank && w[i] > s.floor))
                    .max_by_key(|&i| (w[i], std::cmp::Reverse(i)));
                let Some(i) = widest else { break };
                w[i] -= 1;
                excess -= 1;
            }
        }
        w
    }

    /// Draws the kept rows, at most `width` columns wide where the floors allow (0: no
    /// limit); `color` paints cells and makes the header bold.
    pub fn render(&self, out: &mut impl Write, width: usize, color: bool) -> io::Result<()> {
        let plan = self.plan(width);
        self.write_header(out, &plan, color)?;
        for row in &self.rows {
            self.write_row(out, &plan, row, color)?;
        }
        Ok(())
    }

    /// Writes the titles.
    pub fn write_header(&self, out: &mut impl Write, plan: &Plan, color: bool) -> io::Result<()> {
        let mut line = String::new();
        for (k, &i) in plan.shown.iter().enumerate() {
            let c = &self.columns[i];
            let (title, w) = fit_measured(c.title, plan.widths[k]);
            pad(&mut line, &title, w, None, plan.widths[k], c.align, k + 1 == plan.shown.len());
        }
        let header = line.trim_end();
        if color {
            writeln!(out, "\x1b[1m{header}\x1b[0m")
        } else {
            writeln!(out, "{header}")
        }
    }

    /// Writes one row: its lines, then its folded cells and its own lines under it.
    pub fn write_row(&self, out: &mut impl Write, plan: &Plan, row: &Row<'_>, color: bool) -> io::Result<()> {
        let mut line = String::with_capacity(total(&plan.widths).max(plan.below_width) + 64);
        let height =
            plan.shown.iter().filter_map(|&i| row.cells.get(i)).map(|c| c.lines.len()).max().unwrap_or(0).max(1);
        for l in 0..height {
            line.clear();
            for (k, &i) in plan.shown.iter().enumerate() {
                let cell = row.cells.get(i);
                let (text, w) = cell
                    .and_then(|cell| cell.lines.get(l))
                    .map(|s| fit_measured(s, plan.widths[k]))
                    .unwrap_or_default();
                let paint = cell.and_then(|c| c.paint).filter(|_| color);
                pad(&mut line, &text, w, paint, plan.widths[k], self.columns[i].align, k + 1 == plan.shown.len());
            }
            line.truncate(line.trim_end().len());
            line.push('\n');
            out.write_all(line.as_bytes())?;
        }
        // The folded cells, `prefix` and lines joined by `, `, cells by `; `.
        let mut fold = String::new();
        for &i in &plan.folded {
            let Some(cell) = row.cells.get(i).filter(|c| c.lines.iter().any(|l| !l.is_empty())) else { continue };
            if !fold.is_empty() {
                fold.push_str("; ");
            }
            fold.push_str(self.columns[i].fold.unwrap_or_default());
            for (n, l) in cell.lines.iter().enumerate() {
                if n > 0 {
                    fold.push_str(", ");
                }
                fold.push_str(&clean(l));
            }
        }
        let fold = (!fold.is_empty()).then_some(fold);
        for b in fold.iter().map(String::as_str).chain(row.below.iter().map(|b| &**b)) {
            for l in wrap(b, plan.below_width) {
                line.clear();
                spaces(&mut line, BELOW_INDENT);
                line.push_str(&l);
                line.push('\n');
                out.write_all(line.as_bytes())?;
            }
        }
        Ok(())
    }
}

/// Columns a table takes with these column widths.
fn total(widths: &[usize]) -> usize {
    widths.iter().sum::<usize>() + GAP * widths.len().saturating_sub(1)
}

/// Appends `text` (already fitted, `text_width` columns), painted if asked, padded to
/// `width`, then the gap unless it is the last column.
fn pad(line: &mut String, text: &str, text_width: usize, paint: Option<Paint>, width: usize, align: Align, last: bool) {
    let fill = width.saturating_sub(text_width);
    if align == Align::Right {
        spaces(line, fill);
    }
    match paint.filter(|_| !text.is_empty()) {
        Some(p) => {
            line.push_str(p.code());
            line.push_str(text);
            line.push_str("\x1b[0m");
        }
        None => line.push_str(text),
    }
    if align == Align::Left {
        spaces(line, fill);
    }
    if !last {
        spaces(line, GAP);
    }
}

/// Appends `n` spaces: a slice at a time, not a character at a time.
fn spaces(line: &mut String, mut n: usize) {
    const SPACES: &str = "                                                                ";
    while n > 0 {
        let k = n.min(SPACES.len());
        line.push_str(&SPACES[..k]);
        n -= k;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_shows_every_control_character() {
        assert_eq!(escape("main.f"), "main.f");
        assert!(matches!(escape("main.f"), Cow::Borrowed(_)));
        assert_eq!(escape("a\x1b]0;pwned\x07b"), "a\\x1b]0;pwned\\x07b");
        assert_eq!(escape("t\tn\nr\r"), "t\\tn\\nr\\r");
        assert_eq!(escape("del\x7f"), "del\\x7f");
        assert_eq!(escape("c1\u{9b}31m"), "c1\\u{9b}31m");
        assert_eq!(escape("bidi\u{202e}x"), "bidi\\u{202e}x");
        // Printable non-ASCII is kept.
        assert_eq!(escape("café ✓ 日本"), "café ✓ 日本");
        for s in ["\x1b", "\u{85}", "\u{2066}", "a\x00b"] {
            assert!(!escape(s).chars().any(is_control), "{s:?}");
        }
    }

    #[test]
    fn fit_elides_in_the_middle() {
        assert_eq!(fit("main.short", 20), "main.short");
        let s = format!("main.{}end", "x".repeat(30));
        let f = fit(&s, 12);
        assert_eq!(width_upto(&f, 100), 12, "{f}");
        assert!(f.starts_with("main.") && f.ends_with("end") && f.contains('…'), "{f}");
        // A string longer than CELL_MAX notes its length.
        let long = format!("main.{}", "y".repeat(4_000_000));
        let f = fit(&long, CELL_MAX);
        assert!(f.contains("…[4000005 chars]…"), "{f}");
        assert!(width_upto(&f, 1000) <= CELL_MAX);
        // Escapes count as what they show, and are never cut in half.
        let f = fit("\x1b\x1b\x1b\x1b\x1b\x1b", 10);
        assert!(!f.chars().any(is_control));
        assert!(width_upto(&f, 100) <= 10, "{f}");
    }

    #[test]
    fn plain_fast_path_matches_the_general_one() {
        assert!(
            plain("github.com/a/b.(*T).f ~")
                && !plain("a\x7f")
                && !plain("é")
                && !plain(&format!("{}\t", "x".repeat(40)))
        );
        for len in [0, 1, 5, 15, 16, 17, 40, 199, 200, 201, 250, 4000] {
            let s: String = (0..len).map(|i| char::from(b' ' + (i * 7 % 95) as u8)).collect();
            for width in [0, 1, 2, 3, 10, 16, 40, 120, 200, 800] {
                assert_eq!(fit_measured(&s, width), fit_chars(&s, width), "len {len} width {width}");
                let (f, w) = fit_measured(&s, width);
                assert_eq!(w, width_upto(&f, usize::MAX - 1), "len {len} width {width}");
            }
        }
        // A long plain word is cut by bytes exactly where the character loop cut it.
        assert_eq!(wrap(&"ab".repeat(30), 25), vec!["ab".repeat(12) + "a", "ba".repeat(12) + "b", "ab".repeat(5)]);
    }

    #[test]
    fn wrap_breaks_at_spaces() {
        let l = wrap("hint: forgotten sender: the receiver gave up and nobody reads the channel", 30);
        assert!(l.iter().all(|l| width_upto(l, 100) <= 30), "{l:?}");
        assert_eq!(l.join(" "), "hint: forgotten sender: the receiver gave up and nobody reads the channel");
        let l = wrap(&"z".repeat(25), 10);
        assert_eq!(l, vec!["z".repeat(10), "z".repeat(10), "z".repeat(5)]);
    }

    #[test]
    fn tables_fit_the_width() {
        let mut t = Table::new(vec![Column::right("#"), Column::left("NAME", 8, 1), Column::left("NOTES", 6, 0)]);
        for i in 0..3 {
            t.push(Row {
                cells: vec![
                    Cell::text(format!("{i}")),
                    Cell::new([
                        Cow::Owned(format!("github.com/acme/service/internal/pkg{i}.(*Worker).run")),
                        "w.go:1".into(),
                    ]),
                    Cell::new(["3 orphaned".into(), "labels shard=1".into(), "2 leaked".into()]),
                ],
                below: vec!["sustained growth: 1 → 3 over 3 snapshots".into()],
            });
        }
        for width in [30, 40, 80] {
            let mut out = Vec::new();
            t.render(&mut out, width, false).unwrap();
            let text = String::from_utf8(out).unwrap();
            for l in text.lines() {
                assert!(width_upto(l, 1000) <= width, "{width}: {l:?}\n{text}");
            }
            assert!(text.contains("sustained growth"), "{text}");
            assert!(!text.lines().any(|l| l.trim().is_empty()), "no blank line (a folded cell takes none): {text}");
        }
    }
}
