//! History: the SQLite file behind `check` and `watch` (`--history FILE`). Per target and
//! snapshot it keeps the capture time, the per-site counts (with each site's role), the load
//! (goroutines holding a connection, serving a request), whether the service restarted before it and a
//! digest of the raw profile (an unchanged profile is not recorded twice), the alerts
//! that are firing, and per target the fetch errors and the last success.
//!
//! Every write is one transaction and the file is in WAL mode with a busy timeout, so a
//! process killed at any moment leaves the history complete up to its last finished
//! snapshot, and two processes writing one file at once both succeed. The schema has a
//! version ([`SCHEMA_VERSION`], table `goroscope_schema`); a newer one is refused with a
//! clear error. A file that is not a goroscope history (or is damaged) is reported and
//! never written to. This module stores and reads; it does not judge growth (that is
//! [`crate::rules`]).
//!
//! Size (issue 14): a snapshot is one row. Targets, sources, formats and sites (function,
//! file, line, category, state, role) are each stored once, in their own tables, and a
//! snapshot's per-site counts are one blob of varints (site id, count, orphaned, leaked,
//! requests per site, in the report's order): about 7 bytes a site where schema 2 spent
//! ~150. Ids are `INTEGER PRIMARY KEY`s, which VACUUM keeps, and a site is never deleted,
//! so the in-memory caches of ids stay right while other processes write the same file.
//! New files use incremental auto-vacuum, and `prune` gives back free pages, so `--retain`
//! keeps the file's size flat.
//!
//! Older schemas are upgraded when opened: first a copy of the file is made beside it
//! (`FILE.schema-N.bak`, never overwriting one), then the whole upgrade runs in one
//! transaction (a failure leaves the file as it was), then the file is vacuumed into the
//! new layout.

use crate::classify::Category;
use crate::group::{Group, Site, SnapshotReport};
use crate::model::{Format, ProfileKind};
use crate::Error;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, TransactionBehavior};
use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

/// The schema this build writes and reads. Version 1 files (no load, restart, digest or
/// role columns) and version 2 files (a row per site and snapshot, names repeated) are
/// upgraded when opened: their snapshots read back as they were written (version 1's with
/// no load, so growth on them is plain growth).
pub const SCHEMA_VERSION: i64 = 3;
/// How long a writer waits for another to finish: far longer than any one write takes.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Schema 3. `targets.id`, `names.id` and `sites.id` are what snapshots refer to; a
/// site's `role` is `''` when it has none (so the unique key sees it).
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS goroscope_schema (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS targets (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    fetch_errors INTEGER NOT NULL DEFAULT 0,
    last_success_nanos INTEGER
);
CREATE TABLE IF NOT EXISTS names (id INTEGER PRIMARY KEY, text TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS sites (
    id INTEGER PRIMARY KEY,
    function TEXT NOT NULL,
    file TEXT NOT NULL,
    line INTEGER NOT NULL,
    category TEXT NOT NULL,
    state TEXT NOT NULL,
    role TEXT NOT NULL DEFAULT '',
    UNIQUE (function, file, line, category, state, role)
);
CREATE TABLE IF NOT EXISTS snapshots (
    id INTEGER PRIMARY KEY,
    target_id INTEGER NOT NULL,
    time_nanos INTEGER NOT NULL,
    source_id INTEGER NOT NULL,
    format_id INTEGER NOT NULL,
    total INTEGER NOT NULL,
    raw_path TEXT,
    connections INTEGER NOT NULL DEFAULT 0,
    requests INTEGER NOT NULL DEFAULT 0,
    max_goroutine_id INTEGER,
    restart INTEGER NOT NULL DEFAULT 0,
    digest TEXT,
    least_total INTEGER,
    sites BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS snapshots_by_target ON snapshots (target_id, time_nanos);
CREATE INDEX IF NOT EXISTS snapshots_restarts ON snapshots (target_id, id) WHERE restart != 0;
CREATE TABLE IF NOT EXISTS alerts (
    target TEXT NOT NULL,
    function TEXT NOT NULL,
    file TEXT NOT NULL,
    line INTEGER NOT NULL,
    category TEXT NOT NULL,
    since_nanos INTEGER NOT NULL,
    PRIMARY KEY (target, function, file, line)
);
";

/// An alert that is firing, as remembered between runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveAlert {
    pub site: Site,
    pub category: Category,
    pub since_nanos: i64,
}

/// Columns version 2 added to version 1's tables.
const UPGRADE_1_TO_2: &str = "
ALTER TABLE snapshots ADD COLUMN connections INTEGER NOT NULL DEFAULT 0;
ALTER TABLE snapshots ADD COLUMN requests INTEGER NOT NULL DEFAULT 0;
ALTER TABLE snapshots ADD COLUMN max_goroutine_id INTEGER;
ALTER TABLE snapshots ADD COLUMN restart INTEGER NOT NULL DEFAULT 0;
ALTER TABLE snapshots ADD COLUMN digest TEXT;
ALTER TABLE site_counts ADD COLUMN role TEXT;
ALTER TABLE site_counts ADD COLUMN requests INTEGER NOT NULL DEFAULT 0;
UPDATE goroscope_schema SET version = 2;
";

/// The last snapshot recorded for a target: what the next one is compared with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LastSnapshot {
    pub total: u64,
    pub max_goroutine_id: Option<u64>,
    pub digest: Option<String>,
    /// The least total since the last restart (this snapshot included).
    pub least_total: u64,
}

/// What the history knows about a target's polls.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TargetStatus {
    pub fetch_errors: u64,
    pub last_success_nanos: Option<i64>,
}

/// A site as schema 3 stores it once: where, what it waits on, and its role.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct SiteRow {
    site: Site,
    category: Category,
    state: String,
    role: Option<crate::role::Role>,
}

/// Ids already looked up or written, per kind (they never change; see the module docs).
#[derive(Default)]
struct Ids {
    targets: HashMap<String, i64>,
    names: HashMap<String, i64>,
    names_by_id: HashMap<i64, String>,
    sites: HashMap<SiteRow, i64>,
    sites_by_id: HashMap<i64, SiteRow>,
}

/// An open history.
pub struct History {
    conn: Connection,
    name: String,
    /// Interior: reading a snapshot back learns ids, and reads take `&self`.
    ids: std::cell::RefCell<Ids>,
}

impl History {
    /// Opens (or creates) the history at `path`; an older schema is upgraded (see the
    /// module docs: a backup copy first, then one transaction).
    pub fn open(path: &Path) -> crate::Result<History> {
        let name = path.display().to_string();
        check_header(path, &name)?;
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| history_error(&name, &e))?;
        let mut h = History { conn, name, ids: Default::default() };
        h.conn.busy_timeout(BUSY_TIMEOUT).map_err(|e| h.err(&e))?;
        // Read before writing anything: a damaged or foreign file is reported untouched.
        let version = h.check_schema()?;
        if version.is_none() {
            // Only takes effect before the first table is made: a new file.
            h.conn.execute_batch("PRAGMA auto_vacuum = INCREMENTAL;").map_err(|e| h.err(&e))?;
        }
        with_busy_retry(|| h.conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get::<_, String>(0)))
            .map_err(|e| h.err(&e))?;
        h.conn.execute_batch("PRAGMA synchronous=NORMAL;").map_err(|e| h.err(&e))?;
        if version.is_some_and(|v| v < SCHEMA_VERSION) {
            h.backup(path, version.unwrap_or(0))?;
        }
        if h.init()? {
            // The upgrade left the old tables' pages free: compact the file, and let it
            // give free pages back from now on. The upgrade is done and committed; if
            // another process holds the file, VACUUM cannot run now and that is fine.
            let _ = h.conn.execute_batch("PRAGMA auto_vacuum = INCREMENTAL; VACUUM;");
        }
        Ok(h)
    }

    /// A history that lives as long as the process (`watch` without `--history`).
    pub fn in_memory() -> crate::Result<History> {
        let conn = Connection::open_in_memory().map_err(|e| history_error("(memory)", &e))?;
        let mut h = History { conn, name: "(memory)".into(), ids: Default::default() };
        h.init()?;
        Ok(h)
    }

    fn err(&self, e: &rusqlite::Error) -> Error {
        history_error(&self.name, e)
    }

    /// The schema version of the file (`None`: a new, empty file).
    fn check_schema(&self) -> crate::Result<Option<i64>> {
        let tables: Vec<String> = self
            .conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
            .map_err(|e| self.err(&e))?;
        if tables.is_empty() {
            return Ok(None);
        }
        if !tables.iter().any(|t| t == "goroscope_schema") {
            return Err(Error::History(format!(
                "{}: an SQLite database, but not a goroscope history (it has no goroscope_schema table); it was left untouched: pass another --history",
                self.name
            )));
        }
        let version: Option<i64> = self
            .conn
            .query_row("SELECT max(version) FROM goroscope_schema", [], |r| r.get(0))
            .map_err(|e| self.err(&e))?;
        match version {
            Some(v) if v > SCHEMA_VERSION => Err(Error::History(format!(
                "{}: history schema version {v} is newer than this goroscope understands ({SCHEMA_VERSION}); upgrade goroscope, or pass another --history",
                self.name
            ))),
            v => Ok(v),
        }
    }

    /// Copies the file, as it is, to `FILE.schema-N.bak` (or `….bak.2`, … when that is
    /// taken) before an upgrade: an older goroscope can still read the copy.
    fn backup(&self, path: &Path, version: i64) -> crate::Result<()> {
        let base = format!("{}.schema-{version}.bak", path.display());
        let mut dest = std::path::PathBuf::from(&base);
        let mut n = 1;
        while dest.symlink_metadata().is_ok() {
            n += 1;
            dest = std::path::PathBuf::from(format!("{base}.{n}"));
        }
        let shown = dest.display().to_string();
        self.conn.execute("VACUUM INTO ?1", [&shown]).map(drop).map_err(|e| {
            Error::History(format!(
                "{}: cannot keep a copy before upgrading the history to schema {SCHEMA_VERSION} ({e}: {shown}); it was left untouched: make room, or pass another --history",
                self.name
            ))
        })
    }

    /// Makes the schema, or upgrades an older one, in one transaction. True when it
    /// upgraded.
    fn init(&mut self) -> crate::Result<bool> {
        let name = self.name.clone();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| history_error(&name, &e))?;
        let e = |e: rusqlite::Error| history_error(&name, &e);
        tx.execute_batch("CREATE TABLE IF NOT EXISTS goroscope_schema (version INTEGER NOT NULL);").map_err(e)?;
        let have: Option<i64> =
            tx.query_row("SELECT max(version) FROM goroscope_schema", [], |r| r.get(0)).map_err(e)?;
        let upgraded = match have {
            None => {
                tx.execute_batch(SCHEMA).map_err(e)?;
                tx.execute("INSERT INTO goroscope_schema (version) VALUES (?1)", [SCHEMA_VERSION]).map_err(e)?;
                false
            }
            Some(v) if v < SCHEMA_VERSION => {
                if v == 1 {
                    tx.execute_batch(UPGRADE_1_TO_2).map_err(e)?;
                }
                upgrade_2_to_3(&tx, self.ids.get_mut()).map_err(e)?;
                true
            }
            Some(_) => false,
        };
        tx.commit().map_err(e)?;
        Ok(upgraded)
    }

    /// Records one snapshot of `target`, captured at `time_nanos`, with its per-site
    /// counts (`report` grouped by site), in one transaction. Returns its id.
    pub fn record(
        &mut self,
        target: &str,
        time_nanos: i64,
        report: &SnapshotReport,
        raw_path: Option<&str>,
    ) -> crate::Result<i64> {
        self.record_with(target, time_nanos, report, raw_path, &Recorded::default())
    }

    /// [`History::record`] with what `check` knows besides: a restart seen, the digest.
    pub fn record_with(
        &mut self,
        target: &str,
        time_nanos: i64,
        report: &SnapshotReport,
        raw_path: Option<&str>,
        extra: &Recorded,
    ) -> crate::Result<i64> {
        let r = (|| -> crate::Result<i64> {
            let name = self.name.clone();
            let e = |e: rusqlite::Error| history_error(&name, &e);
            let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(e)?;
            let ids = self.ids.get_mut();
            let target_id = target_id(&tx, ids, target).map_err(e)?;
            let source_id = name_id(&tx, ids, &report.source).map_err(e)?;
            let format_id = name_id(&tx, ids, report.format.name()).map_err(e)?;
            let mut blob = Vec::with_capacity(report.groups.len() * 8);
            for g in &report.groups {
                let row = SiteRow {
                    site: g.site.location.clone(),
                    category: g.category,
                    state: g.state.clone(),
                    role: g.role,
                };
                let counts = [g.count, g.orphaned, g.leaked, g.requests];
                put_entry(&mut blob, site_id(&tx, ids, row).map_err(e)?, counts);
            }
            let total = report.total as i64;
            let least = match least_since_restart(&tx, target_id).map_err(e)? {
                Some(least) if !extra.restart => least.min(total),
                _ => total,
            };
            tx.execute(
                "INSERT INTO snapshots (target_id, time_nanos, source_id, format_id, total, raw_path, connections, requests, max_goroutine_id, restart, digest, sites, least_total)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                params![
                    target_id,
                    time_nanos,
                    source_id,
                    format_id,
                    total,
                    raw_path,
                    report.connections as i64,
                    report.requests as i64,
                    report.max_goroutine_id.map(|n| n as i64),
                    extra.restart,
                    extra.digest,
                    blob,
                    least
                ],
            )
            .map_err(e)?;
            let id = tx.last_insert_rowid();
            tx.execute(
                "UPDATE targets SET last_success_nanos = max(coalesce(last_success_nanos, 0), ?2) WHERE id = ?1",
                params![target_id, time_nanos],
            )
            .map_err(e)?;
            tx.commit().map_err(e)?;
            Ok(id)
        })();
        if r.is_err() {
            // Ids learnt in a transaction that did not commit name nothing in the file.
            *self.ids.get_mut() = Ids::default();
        }
        r
    }

    /// Counts one failed poll of `target`.
    pub fn record_failure(&mut self, target: &str) -> crate::Result<()> {
        self.conn
            .execute(
                "INSERT INTO targets (name, fetch_errors) VALUES (?1, 1)
                 ON CONFLICT (name) DO UPDATE SET fetch_errors = fetch_errors + 1",
                [target],
            )
            .map(drop)
            .map_err(|e| self.err(&e))
    }

    /// Fetch errors and last success of `target`.
    pub fn status(&self, target: &str) -> crate::Result<TargetStatus> {
        self.conn
            .prepare_cached("SELECT fetch_errors, last_success_nanos FROM targets WHERE name = ?1")
            .and_then(|mut s| {
                s.query_row([target], |r| {
                    Ok(TargetStatus { fetch_errors: r.get::<_, i64>(0)? as u64, last_success_nanos: r.get(1)? })
                })
                .optional()
            })
            .map(Option::unwrap_or_default)
            .map_err(|e| self.err(&e))
    }

    /// The id `target` has in the file, if it has one.
    fn known_target(&self, target: &str) -> crate::Result<Option<i64>> {
        if let Some(&id) = self.ids.borrow().targets.get(target) {
            return Ok(Some(id));
        }
        self.conn
            .prepare_cached("SELECT id FROM targets WHERE name = ?1")
            .and_then(|mut s| s.query_row([target], |r| r.get(0)).optional())
            .map_err(|e| self.err(&e))
    }

    /// The snapshot last recorded for `target`, if any.
    pub fn last(&self, target: &str) -> crate::Result<Option<LastSnapshot>> {
        let e = |e: rusqlite::Error| self.err(&e);
        let Some(tid) = self.known_target(target)? else { return Ok(None) };
        let last = self
            .conn
            .prepare_cached(
                "SELECT total, max_goroutine_id, digest FROM snapshots WHERE target_id = ?1 ORDER BY time_nanos DESC, id DESC LIMIT 1",
            )
            .and_then(|mut s| {
                s.query_row([tid], |r| {
                    Ok(LastSnapshot {
                        total: r.get::<_, i64>(0)? as u64,
                        max_goroutine_id: r.get::<_, Option<i64>>(1)?.map(|n| n as u64),
                        digest: r.get(2)?,
                        least_total: 0,
                    })
                })
                .optional()
            })
            .map_err(e)?;
        let Some(mut last) = last else { return Ok(None) };
        last.least_total = least_since_restart(&self.conn, tid).map_err(e)?.unwrap_or(0) as u64;
        Ok(Some(last))
    }

    /// The id of the last snapshot of target `tid` recorded after a restart (0: none).
    fn last_restart(&self, tid: i64) -> crate::Result<i64> {
        self.conn
            .prepare_cached("SELECT coalesce(max(id), 0) FROM snapshots WHERE target_id = ?1 AND restart != 0")
            .and_then(|mut s| s.query_row([tid], |r| r.get(0)))
            .map_err(|e| self.err(&e))
    }

    /// The last `n` snapshots of `target` since its last restart (a restart starts a new
    /// baseline), oldest first, as site-grouped reports (each group has its site, role,
    /// category, state, count, orphaned and leaked counts).
    pub fn recent(&self, target: &str, n: usize) -> crate::Result<Vec<SnapshotReport>> {
        let Some(tid) = self.known_target(target)? else { return Ok(Vec::new()) };
        let since = self.last_restart(tid)?;
        type SnapRow = (i64, i64, i64, i64, i64, i64, Option<i64>, Vec<u8>);
        let rows: Vec<SnapRow> = self
            .conn
            .prepare_cached("SELECT time_nanos, source_id, format_id, total, connections, requests, max_goroutine_id, sites FROM snapshots WHERE target_id = ?1 AND id >= ?3 ORDER BY time_nanos DESC, id DESC LIMIT ?2")
            .and_then(|mut s| {
                s.query_map(params![tid, n as i64, since], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?))
                })?
                .collect()
            })
            .map_err(|e| self.err(&e))?;
        let mut out = Vec::with_capacity(rows.len());
        for (time, source, format, total, connections, requests, max_id, blob) in rows.into_iter().rev() {
            let groups = self.groups_of(&blob)?;
            let format = self.name_of(format)?;
            out.push(SnapshotReport {
                source: self.name_of(source)?,
                format: Format::from_name(&format).unwrap_or(Format::Debug0),
                profile: ProfileKind::Goroutine,
                total: total as u64,
                time: Some(crate::report::rfc3339(time)),
                preamble: None,
                truncated: false,
                skipped: 0,
                notes: vec![],
                shown: groups.len() as u64,
                connections: connections as u64,
                requests: requests as u64,
                max_goroutine_id: max_id.map(|n| n as u64),
                groups,
            });
        }
        Ok(out)
    }

    /// Whether the last `n` snapshots of `target` since its last restart ([`History::recent`])
    /// begin with the restart itself: the new process's first snapshot, and its warm-up.
    pub fn recent_starts_at_restart(&self, target: &str, n: usize) -> crate::Result<bool> {
        let Some(tid) = self.known_target(target)? else { return Ok(false) };
        let since = self.last_restart(tid)?;
        if since == 0 {
            return Ok(false);
        }
        let after: i64 = self
            .conn
            .prepare_cached("SELECT count(*) FROM snapshots WHERE target_id = ?1 AND id >= ?2")
            .and_then(|mut s| s.query_row(params![tid, since], |r| r.get(0)))
            .map_err(|e| self.err(&e))?;
        Ok(after as usize <= n)
    }

    /// The groups a snapshot's blob holds, in the order they were recorded.
    fn groups_of(&self, blob: &[u8]) -> crate::Result<Vec<Group>> {
        let damaged = || {
            Error::History(format!(
                "{}: the history is damaged (a snapshot's site list does not decode); move it away (or restore a copy) and pass another --history",
                self.name
            ))
        };
        let mut groups = Vec::new();
        let mut at = 0;
        while at < blob.len() {
            let (id, [count, orphaned, leaked, requests]) = take_entry(blob, &mut at).ok_or_else(damaged)?;
            let known = self.ids.borrow().sites_by_id.get(&(id as i64)).cloned();
            let row = match known {
                Some(row) => row,
                None => self.load_site(id as i64)?,
            };
            let mut g = stored_group(row.site, row.category, row.state, count, orphaned, leaked);
            g.role = row.role;
            g.requests = requests;
            groups.push(g);
        }
        Ok(groups)
    }

    fn load_site(&self, id: i64) -> crate::Result<SiteRow> {
        let row = self
            .conn
            .prepare_cached("SELECT function, file, line, category, state, role FROM sites WHERE id = ?1")
            .and_then(|mut s| {
                s.query_row([id], |r| {
                    let category: String = r.get(3)?;
                    let role: String = r.get(5)?;
                    Ok(SiteRow {
                        site: Site { function: r.get(0)?, file: r.get(1)?, line: r.get(2)? },
                        category: Category::from_name(&category).unwrap_or(Category::Unknown),
                        state: r.get(4)?,
                        role: crate::role::Role::from_name(&role),
                    })
                })
            })
            .map_err(|e| self.err(&e))?;
        let mut ids = self.ids.borrow_mut();
        ids.sites.insert(row.clone(), id);
        ids.sites_by_id.insert(id, row.clone());
        Ok(row)
    }

    fn name_of(&self, id: i64) -> crate::Result<String> {
        if let Some(s) = self.ids.borrow().names_by_id.get(&id) {
            return Ok(s.clone());
        }
        let text: String = self
            .conn
            .prepare_cached("SELECT text FROM names WHERE id = ?1")
            .and_then(|mut s| s.query_row([id], |r| r.get(0)))
            .map_err(|e| self.err(&e))?;
        let mut ids = self.ids.borrow_mut();
        ids.names.insert(text.clone(), id);
        ids.names_by_id.insert(id, text.clone());
        Ok(text)
    }

    /// Deletes snapshots captured before `before_nanos`; returns the raw files they kept.
    /// Free pages beyond a quarter of the file are given back, so the file stays as large
    /// as what it keeps.
    pub fn prune(&mut self, before_nanos: i64) -> crate::Result<Vec<String>> {
        let name = self.name.clone();
        let e = |e: rusqlite::Error| history_error(&name, &e);
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(e)?;
        let raw: Vec<String> = tx
            .prepare("SELECT raw_path FROM snapshots WHERE time_nanos < ?1 AND raw_path IS NOT NULL")
            .and_then(|mut s| s.query_map([before_nanos], |r| r.get(0))?.collect())
            .map_err(e)?;
        let deleted = tx.execute("DELETE FROM snapshots WHERE time_nanos < ?1", [before_nanos]).map_err(e)?;
        tx.commit().map_err(e)?;
        if deleted > 0 {
            self.give_back_free_pages()?;
        }
        Ok(raw)
    }

    /// Keeps only the newest `n` snapshots of `target` (a history in memory, which no one
    /// else reads, keeps what the rules and the live report look at, not every poll).
    pub fn keep_newest(&mut self, target: &str, n: usize) -> crate::Result<()> {
        let Some(tid) = self.known_target(target)? else { return Ok(()) };
        self.conn
            .prepare_cached(
                "DELETE FROM snapshots WHERE target_id = ?1 AND id NOT IN
                 (SELECT id FROM snapshots WHERE target_id = ?1 ORDER BY time_nanos DESC, id DESC LIMIT ?2)",
            )
            .and_then(|mut s| s.execute(params![tid, n as i64]))
            .map(drop)
            .map_err(|e| self.err(&e))
    }

    fn give_back_free_pages(&mut self) -> crate::Result<()> {
        let e = |e: rusqlite::Error| history_error(&self.name, &e);
        let free: i64 = self.conn.query_row("PRAGMA freelist_count", [], |r| r.get(0)).map_err(e)?;
        let pages: i64 = self.conn.query_row("PRAGMA page_count", [], |r| r.get(0)).map_err(e)?;
        if free * 4 > pages {
            // With incremental auto-vacuum (new and upgraded files); a no-op otherwise.
            self.conn.execute_batch("PRAGMA incremental_vacuum;").map_err(e)?;
        }
        Ok(())
    }

    /// The alerts firing for `target`, as the last run left them.
    pub fn active_alerts(&self, target: &str) -> crate::Result<Vec<ActiveAlert>> {
        self.conn
            .prepare("SELECT function, file, line, category, since_nanos FROM alerts WHERE target = ?1 ORDER BY function, file, line")
            .and_then(|mut s| {
                s.query_map([target], |r| {
                    let category: String = r.get(3)?;
                    Ok(ActiveAlert {
                        site: Site { function: r.get(0)?, file: r.get(1)?, line: r.get(2)? },
                        category: Category::from_name(&category).unwrap_or(Category::Unknown),
                        since_nanos: r.get(4)?,
                    })
                })?
                .collect()
            })
            .map_err(|e| self.err(&e))
    }

    /// Replaces the firing alerts of `target` with `firing`, in one transaction.
    pub fn set_alerts(&mut self, target: &str, firing: &[ActiveAlert]) -> crate::Result<()> {
        let name = self.name.clone();
        let e = |e: rusqlite::Error| history_error(&name, &e);
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(e)?;
        tx.execute("DELETE FROM alerts WHERE target = ?1", [target]).map_err(e)?;
        for a in firing {
            tx.execute(
                "INSERT OR REPLACE INTO alerts (target, function, file, line, category, since_nanos) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![target, a.site.function, a.site.file, a.site.line, a.category.name(), a.since_nanos],
            )
            .map_err(e)?;
        }
        tx.commit().map_err(e)
    }

    /// Every target the history has seen, sorted.
    pub fn targets(&self) -> crate::Result<Vec<String>> {
        self.conn
            .prepare("SELECT name FROM targets ORDER BY name")
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
            .map_err(|e| self.err(&e))
    }

    /// Snapshots stored for `target`.
    pub fn count(&self, target: &str) -> crate::Result<u64> {
        self.conn
            .query_row(
                "SELECT count(*) FROM snapshots WHERE target_id = (SELECT id FROM targets WHERE name = ?1)",
                [target],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n as u64)
            .map_err(|e| self.err(&e))
    }
}

/// The least total of target `tid` since its last restart (that snapshot included), as of
/// its last recorded snapshot: kept in each row as a running minimum, so no check reads a
/// week of rows; rows upgraded from schema 2 have none and it is counted from them.
fn least_since_restart(c: &Connection, tid: i64) -> rusqlite::Result<Option<i64>> {
    let last = c
        .prepare_cached("SELECT least_total FROM snapshots WHERE target_id = ?1 ORDER BY id DESC LIMIT 1")?
        .query_row([tid], |r| r.get::<_, Option<i64>>(0))
        .optional()?;
    match last {
        None => Ok(None),
        Some(Some(least)) => Ok(Some(least)),
        Some(None) => c
            .prepare_cached(
                "SELECT min(total) FROM snapshots WHERE target_id = ?1 AND id >=
                 (SELECT coalesce(max(id), 0) FROM snapshots WHERE target_id = ?1 AND restart != 0)",
            )?
            .query_row([tid], |r| r.get(0)),
    }
}

/// The id of `text` in `table`, whose `column` is unique, made when new.
fn unique_id(c: &Connection, table: &str, column: &str, text: &str) -> rusqlite::Result<i64> {
    c.prepare_cached(&format!("INSERT INTO {table} ({column}) VALUES (?1) ON CONFLICT ({column}) DO NOTHING"))?
        .execute([text])?;
    c.prepare_cached(&format!("SELECT id FROM {table} WHERE {column} = ?1"))?.query_row([text], |r| r.get(0))
}

/// The id of target `name`, made when new.
fn target_id(c: &Connection, ids: &mut Ids, name: &str) -> rusqlite::Result<i64> {
    if let Some(&id) = ids.targets.get(name) {
        return Ok(id);
    }
    let id = unique_id(c, "targets", "name", name)?;
    ids.targets.insert(name.to_string(), id);
    Ok(id)
}

/// The id of a source or format name, made when new.
fn name_id(c: &Connection, ids: &mut Ids, text: &str) -> rusqlite::Result<i64> {
    if let Some(&id) = ids.names.get(text) {
        return Ok(id);
    }
    let id = unique_id(c, "names", "text", text)?;
    ids.names.insert(text.to_string(), id);
    ids.names_by_id.insert(id, text.to_string());
    Ok(id)
}

/// The id of a site, made when new.
fn site_id(c: &Connection, ids: &mut Ids, row: SiteRow) -> rusqlite::Result<u64> {
    if let Some(&id) = ids.sites.get(&row) {
        return Ok(id as u64);
    }
    let role = row.role.map_or("", |r| r.name());
    let key = params![row.site.function, row.site.file, row.site.line, row.category.name(), row.state, role];
    c.prepare_cached(
        "INSERT INTO sites (function, file, line, category, state, role) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT DO NOTHING",
    )?
    .execute(key)?;
    let id: i64 = c
        .prepare_cached(
            "SELECT id FROM sites WHERE function = ?1 AND file = ?2 AND line = ?3 AND category = ?4 AND state = ?5 AND role = ?6",
        )?
        .query_row(key, |r| r.get(0))?;
    ids.sites_by_id.insert(id, row.clone());
    ids.sites.insert(row, id);
    Ok(id as u64)
}

/// Appends one site's entry to a snapshot's blob: its id and counts as LEB128 varints.
fn put_entry(blob: &mut Vec<u8>, site: u64, counts: [u64; 4]) {
    for mut v in std::iter::once(site).chain(counts) {
        while v >= 0x80 {
            blob.push((v as u8) | 0x80);
            v >>= 7;
        }
        blob.push(v as u8);
    }
}

/// Reads one entry written by [`put_entry`] at `*at`; `None` when the blob is damaged.
fn take_entry(blob: &[u8], at: &mut usize) -> Option<(u64, [u64; 4])> {
    let mut next = || {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *blob.get(*at)?;
            *at += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Some(v);
            }
        }
        None
    };
    let site = next()?;
    Some((site, [next()?, next()?, next()?, next()?]))
}

/// Moves a version 2 history into schema 3's tables, inside the caller's transaction:
/// every target (with its fetch errors and last success), every snapshot under its own id
/// with its sites in the order they were written; alerts stay as they are.
fn upgrade_2_to_3(tx: &Connection, ids: &mut Ids) -> rusqlite::Result<()> {
    tx.execute_batch(
        "ALTER TABLE targets RENAME TO targets_v2;
         ALTER TABLE snapshots RENAME TO snapshots_v2;
         DROP INDEX IF EXISTS snapshots_by_target;
         DROP INDEX IF EXISTS site_counts_by_snapshot;",
    )?;
    tx.execute_batch(SCHEMA)?;
    tx.execute_batch(
        "INSERT INTO targets (name, fetch_errors, last_success_nanos)
           SELECT target, fetch_errors, last_success_nanos FROM targets_v2 ORDER BY target;
         INSERT INTO targets (name) SELECT DISTINCT target FROM snapshots_v2 WHERE true ORDER BY target
           ON CONFLICT (name) DO NOTHING;",
    )?;
    {
        let mut snaps = tx.prepare(
            "SELECT id, target, time_nanos, source, format, total, raw_path, connections, requests, max_goroutine_id, restart, digest
             FROM snapshots_v2 ORDER BY id",
        )?;
        let mut sites = tx.prepare(
            "SELECT function, file, line, category, state, count, orphaned, leaked, role, requests
             FROM site_counts WHERE snapshot_id = ?1 ORDER BY rowid",
        )?;
        let mut ins = tx.prepare(
            "INSERT INTO snapshots (id, target_id, time_nanos, source_id, format_id, total, raw_path, connections, requests, max_goroutine_id, restart, digest, sites)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        )?;
        let mut rows = snaps.query([])?;
        while let Some(r) = rows.next()? {
            let id: i64 = r.get(0)?;
            let mut blob = Vec::new();
            let mut site_rows = sites.query([id])?;
            while let Some(s) = site_rows.next()? {
                let category: String = s.get(3)?;
                let role: Option<String> = s.get(8)?;
                let row = SiteRow {
                    site: Site { function: s.get(0)?, file: s.get(1)?, line: s.get(2)? },
                    category: Category::from_name(&category).unwrap_or(Category::Unknown),
                    state: s.get(4)?,
                    role: role.as_deref().and_then(crate::role::Role::from_name),
                };
                let counts = [s.get::<_, i64>(5)?, s.get(6)?, s.get(7)?, s.get(9)?].map(|n| n.max(0) as u64);
                put_entry(&mut blob, site_id(tx, ids, row)?, counts);
            }
            let target: String = r.get(1)?;
            let (source, format): (String, String) = (r.get(3)?, r.get(4)?);
            ins.execute(params![
                id,
                target_id(tx, ids, &target)?,
                r.get::<_, i64>(2)?,
                name_id(tx, ids, &source)?,
                name_id(tx, ids, &format)?,
                r.get::<_, i64>(5)?,
                r.get::<_, Option<String>>(6)?,
                r.get::<_, i64>(7)?,
                r.get::<_, i64>(8)?,
                r.get::<_, Option<i64>>(9)?,
                r.get::<_, i64>(10)?,
                r.get::<_, Option<String>>(11)?,
                blob
            ])?;
        }
    }
    tx.execute_batch(
        "DROP TABLE site_counts;
         DROP TABLE snapshots_v2;
         DROP TABLE targets_v2;
         UPDATE goroscope_schema SET version = 3;",
    )
}

/// What `check` records beside the report.
#[derive(Debug, Clone, Default)]
pub struct Recorded {
    /// The service restarted before this snapshot: a new baseline.
    pub restart: bool,
    /// Digest of the raw profile.
    pub digest: Option<String>,
}

/// Helpers for tests outside the crate (no SQLite tool needed).
#[doc(hidden)]
pub mod testing {
    /// Stamps the history at `path` with schema `version`, as a later goroscope would.
    pub fn set_schema_version(path: &std::path::Path, version: i64) -> rusqlite::Result<()> {
        rusqlite::Connection::open(path)?.execute("UPDATE goroscope_schema SET version = ?1", [version]).map(drop)
    }
}

fn stored_group(site: Site, category: Category, state: String, count: u64, orphaned: u64, leaked: u64) -> Group {
    Group { leaked, orphaned, ..Group::bare(count, category, state, site) }
}

/// Refuses a file that is not empty and does not start like an SQLite database, before
/// SQLite opens (and might write to) it.
fn check_header(path: &Path, name: &str) -> crate::Result<()> {
    use std::io::Read;
    let mut head = [0u8; 16];
    let n = match std::fs::File::open(path) {
        Ok(mut f) => f.read(&mut head).map_err(|e| Error::io(name, e))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(name, e)),
    };
    if n > 0 && (n < 16 || head != *b"SQLite format 3\0") {
        return Err(Error::History(format!(
            "{name}: not a goroscope history (not an SQLite database, or damaged); it was left untouched: move it away or pass another --history"
        )));
    }
    Ok(())
}

fn history_error(name: &str, e: &rusqlite::Error) -> Error {
    let damaged =
        matches!(e.sqlite_error_code(), Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase));
    if damaged {
        Error::History(format!(
            "{name}: the history is damaged ({e}); it was left untouched: move it away (or restore a copy) and pass another --history"
        ))
    } else {
        Error::History(format!("{name}: history: {e}"))
    }
}

/// Runs `f` again while SQLite says the database is busy past its timeout (setting WAL
/// mode on a brand-new file races with another process doing the same).
fn with_busy_retry<T>(mut f: impl FnMut() -> rusqlite::Result<T>) -> rusqlite::Result<T> {
    let mut tries = 0;
    loop {
        match f() {
            Err(e) if tries < 20 && e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy) => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(50));
            }
            r => return r,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(counts: &[(&str, u64)]) -> SnapshotReport {
        let groups = counts
            .iter()
            .map(|&(f, n)| {
                let site = Site { function: f.into(), file: "/a.go".into(), line: 3 };
                stored_group(site, Category::ChanSend, "chan send".into(), n, 0, 0)
            })
            .collect();
        SnapshotReport::bare("http://svc", Format::Debug0, groups)
    }

    #[test]
    fn records_and_reads_back_in_time_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.db");
        let mut h = History::open(&path).unwrap();
        h.record("a", 2_000, &report(&[("main.f", 2)]), None).unwrap();
        h.record("a", 1_000, &report(&[("main.f", 1)]), None).unwrap();
        h.record("b", 3_000, &report(&[("main.g", 9)]), None).unwrap();
        drop(h);
        let h = History::open(&path).unwrap();
        let r = h.recent("a", 10).unwrap();
        assert_eq!(r.iter().map(|r| r.groups[0].count).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(h.recent("a", 1).unwrap()[0].groups[0].count, 2);
        assert_eq!(h.status("a").unwrap().last_success_nanos, Some(2_000));
    }

    #[test]
    fn prune_and_alerts() {
        let mut h = History::in_memory().unwrap();
        h.record("a", 1, &report(&[("main.f", 1)]), Some("/raw/1")).unwrap();
        h.record("a", 5, &report(&[("main.f", 1)]), None).unwrap();
        assert_eq!(h.prune(3).unwrap(), ["/raw/1"]);
        assert_eq!(h.count("a").unwrap(), 1);
        let a = ActiveAlert {
            site: Site { function: "main.f".into(), file: "/a.go".into(), line: 3 },
            category: Category::ChanSend,
            since_nanos: 5,
        };
        h.set_alerts("a", std::slice::from_ref(&a)).unwrap();
        assert_eq!(h.active_alerts("a").unwrap(), [a]);
        h.set_alerts("a", &[]).unwrap();
        assert!(h.active_alerts("a").unwrap().is_empty());
        h.record_failure("a").unwrap();
        assert_eq!(h.status("a").unwrap().fetch_errors, 1);
    }

    /// A version 1 file (as goroscope wrote it before roles, loads and restarts) opens,
    /// keeps its snapshots, and is upgraded in place.
    #[test]
    fn version_1_files_are_upgraded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v1.db");
        let c = Connection::open(&path).unwrap();
        c.execute_batch(
            "CREATE TABLE goroscope_schema (version INTEGER NOT NULL); INSERT INTO goroscope_schema VALUES (1);
             CREATE TABLE snapshots (id INTEGER PRIMARY KEY, target TEXT NOT NULL, time_nanos INTEGER NOT NULL,
               source TEXT NOT NULL, format TEXT NOT NULL, total INTEGER NOT NULL, raw_path TEXT);
             CREATE TABLE site_counts (snapshot_id INTEGER NOT NULL REFERENCES snapshots (id) ON DELETE CASCADE,
               function TEXT NOT NULL, file TEXT NOT NULL, line INTEGER NOT NULL, category TEXT NOT NULL,
               state TEXT NOT NULL, count INTEGER NOT NULL, orphaned INTEGER NOT NULL, leaked INTEGER NOT NULL);
             CREATE TABLE alerts (target TEXT NOT NULL, function TEXT NOT NULL, file TEXT NOT NULL, line INTEGER NOT NULL,
               category TEXT NOT NULL, since_nanos INTEGER NOT NULL, PRIMARY KEY (target, function, file, line));
             CREATE TABLE targets (target TEXT PRIMARY KEY, fetch_errors INTEGER NOT NULL DEFAULT 0, last_success_nanos INTEGER);
             INSERT INTO snapshots VALUES (1, 'a', 5, 'http://svc', 'debug0', 7, NULL);
             INSERT INTO site_counts VALUES (1, 'main.f', '/a.go', 3, 'chan_send', 'chan send', 7, 0, 0);",
        )
        .unwrap();
        drop(c);
        let mut h = History::open(&path).unwrap();
        assert_eq!(h.recent("a", 5).unwrap()[0].groups[0].count, 7);
        h.record("a", 9, &report(&[("main.f", 9)]), None).unwrap();
        assert_eq!(h.recent("a", 5).unwrap().len(), 2);
        drop(h);
        let v: i64 = Connection::open(&path)
            .unwrap()
            .query_row("SELECT max(version) FROM goroscope_schema", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, SCHEMA_VERSION);
    }

    /// The load of each snapshot (what growth is judged against) and each site's requests in
    /// flight are read back as written.
    #[test]
    fn loads_are_kept() {
        let mut h = History::in_memory().unwrap();
        let mut r = report(&[("main.f", 4)]);
        (r.connections, r.requests, r.groups[0].requests) = (12, 7, 3);
        h.record("a", 1, &r, None).unwrap();
        let back = &h.recent("a", 1).unwrap()[0];
        assert_eq!((back.connections, back.requests, back.groups[0].requests), (12, 7, 3));
    }

    /// A restart cuts what `recent` gives: a new baseline.
    #[test]
    fn recent_starts_at_the_last_restart() {
        let mut h = History::in_memory().unwrap();
        for (t, n, restart) in [(1, 5, false), (2, 9, false), (3, 1, true), (4, 2, false)] {
            let extra = Recorded { restart, digest: Some(format!("d{t}")) };
            h.record_with("a", t, &report(&[("main.f", n)]), None, &extra).unwrap();
        }
        let r = h.recent("a", 10).unwrap();
        assert_eq!(r.iter().map(|r| r.groups[0].count).collect::<Vec<_>>(), [1, 2]);
        let last = h.last("a").unwrap().unwrap();
        assert_eq!((last.total, last.least_total, last.digest.as_deref()), (2, 1, Some("d4")));
    }

    #[test]
    fn newer_schema_and_foreign_files_are_refused_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.db");
        drop(History::open(&path).unwrap());
        Connection::open(&path).unwrap().execute("UPDATE goroscope_schema SET version = 99", []).unwrap();
        let e = History::open(&path).err().unwrap().to_string();
        assert!(e.contains("schema version 99 is newer"), "{e}");

        let junk = dir.path().join("junk.db");
        std::fs::write(&junk, b"this is not a database at all, not even close").unwrap();
        let before = std::fs::read(&junk).unwrap();
        let e = History::open(&junk).err().unwrap().to_string();
        assert!(e.contains("not a goroscope history") && e.contains("left untouched"), "{e}");
        assert_eq!(std::fs::read(&junk).unwrap(), before);
    }
}
