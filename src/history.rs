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

use crate::classify::Category;
use crate::group::{Group, Site, SnapshotReport};
use crate::model::{Format, ProfileKind};
use crate::Error;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, TransactionBehavior};
use std::path::Path;
use std::time::Duration;

/// The schema this build writes and reads. Version 1 files (no load, restart, digest or
/// role columns) are upgraded in place when opened, in one transaction: their snapshots
/// read back with no load, so growth on them is plain growth.
pub const SCHEMA_VERSION: i64 = 2;
/// How long a writer waits for another to finish: far longer than any one write takes.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS goroscope_schema (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS snapshots (
    id INTEGER PRIMARY KEY,
    target TEXT NOT NULL,
    time_nanos INTEGER NOT NULL,
    source TEXT NOT NULL,
    format TEXT NOT NULL,
    total INTEGER NOT NULL,
    raw_path TEXT,
    connections INTEGER NOT NULL DEFAULT 0,
    requests INTEGER NOT NULL DEFAULT 0,
    max_goroutine_id INTEGER,
    restart INTEGER NOT NULL DEFAULT 0,
    digest TEXT
);
CREATE INDEX IF NOT EXISTS snapshots_by_target ON snapshots (target, time_nanos);
CREATE TABLE IF NOT EXISTS site_counts (
    snapshot_id INTEGER NOT NULL REFERENCES snapshots (id) ON DELETE CASCADE,
    function TEXT NOT NULL,
    file TEXT NOT NULL,
    line INTEGER NOT NULL,
    category TEXT NOT NULL,
    state TEXT NOT NULL,
    count INTEGER NOT NULL,
    orphaned INTEGER NOT NULL,
    leaked INTEGER NOT NULL,
    role TEXT,
    requests INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS site_counts_by_snapshot ON site_counts (snapshot_id);
CREATE TABLE IF NOT EXISTS alerts (
    target TEXT NOT NULL,
    function TEXT NOT NULL,
    file TEXT NOT NULL,
    line INTEGER NOT NULL,
    category TEXT NOT NULL,
    since_nanos INTEGER NOT NULL,
    PRIMARY KEY (target, function, file, line)
);
CREATE TABLE IF NOT EXISTS targets (
    target TEXT PRIMARY KEY,
    fetch_errors INTEGER NOT NULL DEFAULT 0,
    last_success_nanos INTEGER
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

/// An open history.
pub struct History {
    conn: Connection,
    name: String,
}

impl History {
    /// Opens (or creates) the history at `path`.
    pub fn open(path: &Path) -> crate::Result<History> {
        let name = path.display().to_string();
        check_header(path, &name)?;
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| history_error(&name, &e))?;
        let mut h = History { conn, name };
        h.conn.busy_timeout(BUSY_TIMEOUT).map_err(|e| h.err(&e))?;
        // Read before writing anything: a damaged or foreign file is reported untouched.
        h.check_schema()?;
        with_busy_retry(|| h.conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get::<_, String>(0)))
            .map_err(|e| h.err(&e))?;
        h.conn.execute_batch("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;").map_err(|e| h.err(&e))?;
        h.init()?;
        Ok(h)
    }

    /// A history that lives as long as the process (`watch` without `--history`).
    pub fn in_memory() -> crate::Result<History> {
        let conn = Connection::open_in_memory().map_err(|e| history_error("(memory)", &e))?;
        let mut h = History { conn, name: "(memory)".into() };
        h.conn.execute_batch("PRAGMA foreign_keys=ON;").map_err(|e| h.err(&e))?;
        h.init()?;
        Ok(h)
    }

    fn err(&self, e: &rusqlite::Error) -> Error {
        history_error(&self.name, e)
    }

    fn check_schema(&self) -> crate::Result<()> {
        let tables: Vec<String> = self
            .conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
            .map_err(|e| self.err(&e))?;
        if tables.is_empty() {
            return Ok(());
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
            _ => Ok(()),
        }
    }

    fn init(&mut self) -> crate::Result<()> {
        let name = self.name.clone();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| history_error(&name, &e))?;
        tx.execute_batch(SCHEMA).map_err(|e| history_error(&name, &e))?;
        let have: Option<i64> = tx
            .query_row("SELECT max(version) FROM goroscope_schema", [], |r| r.get(0))
            .map_err(|e| history_error(&name, &e))?;
        if have == Some(1) {
            tx.execute_batch(UPGRADE_1_TO_2).map_err(|e| history_error(&name, &e))?;
        }
        if have.is_none() {
            tx.execute("INSERT INTO goroscope_schema (version) VALUES (?1)", [SCHEMA_VERSION])
                .map_err(|e| history_error(&name, &e))?;
        }
        tx.commit().map_err(|e| history_error(&name, &e))
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
        let name = self.name.clone();
        let e = |e: rusqlite::Error| history_error(&name, &e);
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(e)?;
        tx.execute(
            "INSERT INTO snapshots (target, time_nanos, source, format, total, raw_path, connections, requests, max_goroutine_id, restart, digest)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                target,
                time_nanos,
                report.source,
                report.format.name(),
                report.total as i64,
                raw_path,
                report.connections as i64,
                report.requests as i64,
                report.max_goroutine_id.map(|n| n as i64),
                extra.restart,
                extra.digest
            ],
        )
        .map_err(e)?;
        let id = tx.last_insert_rowid();
        {
            let mut ins = tx
                .prepare(
                    "INSERT INTO site_counts (snapshot_id, function, file, line, category, state, count, orphaned, leaked, role, requests)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                )
                .map_err(e)?;
            for g in &report.groups {
                ins.execute(params![
                    id,
                    g.site.function,
                    g.site.file,
                    g.site.line,
                    g.category.name(),
                    g.state,
                    g.count as i64,
                    g.orphaned as i64,
                    g.leaked as i64,
                    g.role.map(|r| r.name()),
                    g.requests as i64
                ])
                .map_err(e)?;
            }
        }
        tx.execute(
            "INSERT INTO targets (target, last_success_nanos) VALUES (?1, ?2)
             ON CONFLICT (target) DO UPDATE SET last_success_nanos = max(coalesce(last_success_nanos, 0), ?2)",
            params![target, time_nanos],
        )
        .map_err(e)?;
        tx.commit().map_err(e)?;
        Ok(id)
    }

    /// Counts one failed poll of `target`.
    pub fn record_failure(&mut self, target: &str) -> crate::Result<()> {
        self.conn
            .execute(
                "INSERT INTO targets (target, fetch_errors) VALUES (?1, 1)
                 ON CONFLICT (target) DO UPDATE SET fetch_errors = fetch_errors + 1",
                [target],
            )
            .map(drop)
            .map_err(|e| self.err(&e))
    }

    /// Fetch errors and last success of `target`.
    pub fn status(&self, target: &str) -> crate::Result<TargetStatus> {
        self.conn
            .query_row("SELECT fetch_errors, last_success_nanos FROM targets WHERE target = ?1", [target], |r| {
                Ok(TargetStatus { fetch_errors: r.get::<_, i64>(0)? as u64, last_success_nanos: r.get(1)? })
            })
            .optional()
            .map(Option::unwrap_or_default)
            .map_err(|e| self.err(&e))
    }

    /// The snapshot last recorded for `target`, if any.
    pub fn last(&self, target: &str) -> crate::Result<Option<LastSnapshot>> {
        let e = |e: rusqlite::Error| self.err(&e);
        let last = self
            .conn
            .query_row(
                "SELECT total, max_goroutine_id, digest FROM snapshots WHERE target = ?1 ORDER BY time_nanos DESC, id DESC LIMIT 1",
                [target],
                |r| {
                    Ok(LastSnapshot {
                        total: r.get::<_, i64>(0)? as u64,
                        max_goroutine_id: r.get::<_, Option<i64>>(1)?.map(|n| n as u64),
                        digest: r.get(2)?,
                        least_total: 0,
                    })
                },
            )
            .optional()
            .map_err(e)?;
        let Some(mut last) = last else { return Ok(None) };
        last.least_total = self
            .conn
            .query_row(
                "SELECT min(total) FROM snapshots WHERE target = ?1 AND id >= ?2",
                params![target, self.last_restart(target)?],
                |r| r.get::<_, Option<i64>>(0),
            )
            .map_err(e)?
            .unwrap_or(0) as u64;
        Ok(Some(last))
    }

    /// The id of the last snapshot of `target` recorded after a restart (0: none).
    fn last_restart(&self, target: &str) -> crate::Result<i64> {
        self.conn
            .query_row("SELECT coalesce(max(id), 0) FROM snapshots WHERE target = ?1 AND restart != 0", [target], |r| {
                r.get(0)
            })
            .map_err(|e| self.err(&e))
    }

    /// The last `n` snapshots of `target` since its last restart (a restart starts a new
    /// baseline), oldest first, as site-grouped reports (each group has its site, role,
    /// category, state, count, orphaned and leaked counts).
    pub fn recent(&self, target: &str, n: usize) -> crate::Result<Vec<SnapshotReport>> {
        let e = |e: rusqlite::Error| self.err(&e);
        let since = self.last_restart(target)?;
        let mut snaps = self
            .conn
            .prepare("SELECT id, time_nanos, source, format, total, connections, requests, max_goroutine_id FROM snapshots WHERE target = ?1 AND id >= ?3 ORDER BY time_nanos DESC, id DESC LIMIT ?2")
            .map_err(e)?;
        type SnapRow = (i64, i64, String, String, i64, i64, i64, Option<i64>);
        let rows: Vec<SnapRow> = snaps
            .query_map(params![target, n as i64, since], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?))
            })
            .and_then(|m| m.collect())
            .map_err(e)?;
        let mut sites = self
            .conn
            .prepare("SELECT function, file, line, category, state, count, orphaned, leaked, role, requests FROM site_counts WHERE snapshot_id = ?1")
            .map_err(e)?;
        let mut out = Vec::with_capacity(rows.len());
        for (id, time, source, format, total, connections, requests, max_id) in rows.into_iter().rev() {
            let groups: Vec<Group> = sites
                .query_map([id], |r| {
                    let category: String = r.get(3)?;
                    let role: Option<String> = r.get(8)?;
                    let mut g = stored_group(
                        Site { function: r.get(0)?, file: r.get(1)?, line: r.get(2)? },
                        Category::from_name(&category).unwrap_or(Category::Unknown),
                        r.get(4)?,
                        r.get::<_, i64>(5)? as u64,
                        r.get::<_, i64>(6)? as u64,
                        r.get::<_, i64>(7)? as u64,
                    );
                    g.role = role.as_deref().and_then(crate::role::Role::from_name);
                    g.requests = r.get::<_, i64>(9)? as u64;
                    Ok(g)
                })
                .and_then(|m| m.collect())
                .map_err(e)?;
            out.push(SnapshotReport {
                source,
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

    /// Deletes snapshots captured before `before_nanos`; returns the raw files they kept.
    pub fn prune(&mut self, before_nanos: i64) -> crate::Result<Vec<String>> {
        let name = self.name.clone();
        let e = |e: rusqlite::Error| history_error(&name, &e);
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(e)?;
        let raw: Vec<String> = tx
            .prepare("SELECT raw_path FROM snapshots WHERE time_nanos < ?1 AND raw_path IS NOT NULL")
            .and_then(|mut s| s.query_map([before_nanos], |r| r.get(0))?.collect())
            .map_err(e)?;
        tx.execute(
            "DELETE FROM site_counts WHERE snapshot_id IN (SELECT id FROM snapshots WHERE time_nanos < ?1)",
            [before_nanos],
        )
        .map_err(e)?;
        tx.execute("DELETE FROM snapshots WHERE time_nanos < ?1", [before_nanos]).map_err(e)?;
        tx.commit().map_err(e)?;
        Ok(raw)
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
            .prepare("SELECT DISTINCT target FROM targets ORDER BY target")
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
            .map_err(|e| self.err(&e))
    }

    /// Snapshots stored for `target`.
    pub fn count(&self, target: &str) -> crate::Result<u64> {
        self.conn
            .query_row("SELECT count(*) FROM snapshots WHERE target = ?1", [target], |r| r.get::<_, i64>(0))
            .map(|n| n as u64)
            .map_err(|e| self.err(&e))
    }
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
