//! Fleet scale (issue 14): one `check --targets` over 1,000 services served by one local
//! server, an hour of `watch` polls on an injected clock with flat memory, and the history's
//! size, upgrade and retention.
//!
//! The profiles are real: goroutine records of the etcd and Alertmanager dumps in
//! `testdata/servers` (captured from the running Debian packages by
//! `scripts/gen-server-dumps.sh`), renumbered into one dump of 48 sites, and made distinct
//! per target by repeating some of its records with fresh goroutine ids.

mod support;

use goroscope::history::History;
use serde_json::json;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Every answer the history gives about the file at `path`, as JSON: per target its
/// status, last snapshot, snapshot count, firing alerts and its recent snapshots at several
/// windows. The migration test compares these before and after.
fn history_queries(path: &Path) -> serde_json::Value {
    let h = History::open(path).unwrap();
    let mut out = serde_json::Map::new();
    for t in h.targets().unwrap() {
        let status = h.status(&t).unwrap();
        let last = h.last(&t).unwrap();
        let alerts: Vec<_> = h
            .active_alerts(&t)
            .unwrap()
            .into_iter()
            .map(|a| json!([a.site.function, a.site.file, a.site.line, a.category.name(), a.since_nanos]))
            .collect();
        let mut recent = serde_json::Map::new();
        for n in [1, 3, 6, 1000] {
            recent.insert(n.to_string(), serde_json::to_value(h.recent(&t, n).unwrap()).unwrap());
        }
        out.insert(
            t.clone(),
            json!({
                "fetch_errors": status.fetch_errors,
                "last_success_nanos": status.last_success_nanos,
                "last": last.map(|l| json!([l.total, l.max_goroutine_id, l.digest, l.least_total])),
                "count": h.count(&t).unwrap(),
                "alerts": alerts,
                "recent": recent,
            }),
        );
    }
    serde_json::Value::Object(out)
}

/// A history of schema 1 or 2 (written by the goroscope of e2ab9e1, see
/// testdata/history/README.md) upgrades to the current schema keeping every answer the
/// history gave there, leaves a backup copy that still reads as before, and a second
/// opening changes nothing.
#[test]
fn old_histories_upgrade_without_losing_anything() {
    for v in [1, 2] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.db");
        std::fs::copy(format!("testdata/history/v{v}.db"), &path).unwrap();
        let gz = std::fs::read(format!("testdata/history/v{v}.queries.json.gz")).unwrap();
        let mut text = String::new();
        flate2::read::GzDecoder::new(&gz[..]).read_to_string(&mut text).unwrap();
        let before: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(before["leaky"]["alerts"].as_array().unwrap().len(), 2, "the fixture has firing alerts");

        // A file of the user's where the backup would go is kept: the backup goes beside.
        let taken = dir.path().join(format!("h.db.schema-{v}.bak"));
        if v == 2 {
            std::fs::write(&taken, b"mine").unwrap();
        }
        let after = history_queries(&path);
        assert_eq!(after, before, "schema {v}: a query answers differently after the upgrade");
        let backup = if v == 2 {
            assert_eq!(std::fs::read(&taken).unwrap(), b"mine");
            dir.path().join(format!("h.db.schema-{v}.bak.2"))
        } else {
            taken
        };
        let copy = rusqlite::Connection::open(&backup).unwrap();
        let n: i64 = copy.query_row("SELECT count(*) FROM site_counts", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 433, "the backup holds the old rows");
        drop(copy);
        assert_eq!(history_queries(&path), before, "a second opening changed something");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        let backups = names.iter().filter(|n| n.to_string_lossy().contains(".bak")).count();
        assert_eq!(backups, if v == 2 { 2 } else { 1 }, "one backup, made once: {names:?}");
        // The upgraded file still takes new snapshots.
        let mut h = History::open(&path).unwrap();
        let r = h.recent("leaky", 1).unwrap().pop().unwrap();
        h.record("leaky", 1_790_000_000_000_000_000, &r, None).unwrap();
        assert_eq!(h.count("leaky").unwrap(), 9);
    }
}

/// The goroutine records of the real etcd and Alertmanager dumps, renumbered from 1.
fn real_records() -> Vec<String> {
    let mut out = Vec::new();
    for name in ["etcd", "alertmanager"] {
        let text = std::fs::read_to_string(format!("testdata/servers/{name}.debug2.txt")).unwrap();
        out.extend(text.split("\n\n").filter(|r| r.starts_with("goroutine ")).map(|r| r.trim_end().to_string()));
    }
    out
}

/// The profile target `i` serves at its `k`-th poll: every real record once, and record
/// `i % n` again `copies(i, k)` times under fresh ids, so no two targets serve the same
/// profile, and each changes from poll to poll.
fn profile(records: &[String], i: usize, k: usize) -> Vec<u8> {
    let n = records.len();
    let mut out = String::with_capacity(40 << 10);
    let mut id = 0;
    let mut push = |r: &str, out: &mut String| {
        id += 1;
        let rest = &r[r.find(' ').unwrap() + 1..];
        let rest = &rest[rest.find(' ').unwrap()..];
        out.push_str(&format!("goroutine {id}{rest}\n\n"));
    };
    for r in records {
        push(r, &mut out);
    }
    for _ in 0..copies(n, i, k) {
        push(&records[i % n], &mut out);
    }
    out.into_bytes()
}

fn copies(n: usize, i: usize, k: usize) -> usize {
    // Changing at every poll (each is recorded) but not growing: memory must stay flat
    // because the input does.
    1 + i / n + (k + i) % 5
}

/// One local HTTP/1.1 server (keep-alive, a thread per connection) for the whole fleet:
/// `/t/I/debug/pprof/goroutine` is target I's profile at its next poll; `/fail/…` answers
/// 500; `/slow/…` answers after 3 s. Counts the polls of each target.
struct FleetServer {
    port: u16,
    polls: Arc<Vec<AtomicUsize>>,
    stop: Arc<AtomicBool>,
}

impl FleetServer {
    fn start(targets: usize) -> FleetServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let polls: Arc<Vec<AtomicUsize>> = Arc::new((0..targets).map(|_| AtomicUsize::new(0)).collect());
        let records = Arc::new(real_records());
        let stop = Arc::new(AtomicBool::new(false));
        let (polls2, stop2) = (polls.clone(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (polls, records) = (polls2.clone(), records.clone());
                std::thread::spawn(move || serve(conn, &polls, &records));
            }
        });
        FleetServer { port, polls, stop }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

impl Drop for FleetServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn serve(conn: TcpStream, polls: &[AtomicUsize], records: &[String]) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(30)));
    let _ = conn.set_nodelay(true);
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut conn = conn;
    loop {
        let mut request = String::new();
        if reader.read_line(&mut request).unwrap_or(0) == 0 {
            return;
        }
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            if header == "\r\n" {
                break;
            }
        }
        let path = request.split_whitespace().nth(1).unwrap_or("");
        let (status, body) = if let Some(rest) = path.strip_prefix("/t/") {
            let i: usize = rest.split('/').next().unwrap().parse().unwrap();
            let k = polls[i].fetch_add(1, Ordering::SeqCst);
            ("200 OK", profile(records, i, k))
        } else if path.starts_with("/slow/") {
            std::thread::sleep(Duration::from_secs(3));
            ("200 OK", profile(records, 0, 0))
        } else {
            ("500 Internal Server Error", b"boom\n".to_vec())
        };
        // One write, head and body: two would meet Nagle and delayed ACKs (40 ms a poll).
        let mut response = format!(
            "HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        response.extend_from_slice(&body);
        if conn.write_all(&response).is_err() {
            return;
        }
    }
}

/// Writes a `--targets` file: the fleet's `n` targets, named `svc-I`, then `extra` lines.
fn targets_file(dir: &Path, server: &FleetServer, n: usize, extra: &[String]) -> std::path::PathBuf {
    let mut text = String::from("# the fleet\n");
    for i in 0..n {
        text.push_str(&format!("{} svc-{i}\n", server.url(&format!("/t/{i}/debug/pprof/goroutine?debug=2"))));
    }
    for e in extra {
        text.push_str(e);
        text.push('\n');
    }
    let path = dir.join("targets.txt");
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs goroscope under `/usr/bin/time`: (exit code, stdout, stderr, wall, peak RSS in MB,
/// CPU seconds).
fn timed(args: &[&str]) -> (i32, String, String, Duration, u64, f64) {
    let tmp = tempfile::tempdir().unwrap();
    let stats = tmp.path().join("time");
    let mut cmd = Command::new("/usr/bin/time");
    cmd.arg("-f")
        .arg("%U %S %M")
        .arg("-o")
        .arg(&stats)
        .arg(env!("CARGO_BIN_EXE_goroscope"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    let started = Instant::now();
    let out = support::output_within(cmd, Duration::from_secs(120));
    let wall = started.elapsed();
    let stats = std::fs::read_to_string(&stats).unwrap();
    // "Command exited with non-zero status 2" comes first when it failed: the last line.
    let last: Vec<f64> = stats.lines().last().unwrap().split_whitespace().map(|w| w.parse().unwrap()).collect();
    let (cpu, kb) = (last[0] + last[1], last[2] as u64);
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr), wall, kb / 1024, cpu)
}

/// Issue 14: one `check` over 1,000 targets polls and records every one, within 30 s and
/// 300 MB, at the default concurrency; a slow target (past `--timeout`), one answering 500
/// and one refusing connections are each reported on their own and hold nothing up.
#[test]
fn one_check_polls_a_thousand_targets() {
    const N: usize = 1000;
    let server = FleetServer::start(N);
    let dir = tempfile::tempdir().unwrap();
    let refused = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let bad = [
        format!("{} slow", server.url("/slow/debug/pprof/goroutine?debug=2")),
        format!("{} failing", server.url("/fail/debug/pprof/goroutine?debug=2")),
        format!("http://127.0.0.1:{refused}/debug/pprof/goroutine?debug=2 refused"),
    ];
    let targets = targets_file(dir.path(), &server, N, &bad);
    let history = dir.path().join("fleet.db");
    let (code, stdout, stderr, wall, rss_mb, cpu) = timed(&[
        "check",
        "--targets",
        targets.to_str().unwrap(),
        "--history",
        history.to_str().unwrap(),
        "--timeout",
        "1s",
        "--json",
    ]);
    eprintln!(
        "fleet check: {N} targets + 3 failing in {:.2} s, peak RSS {rss_mb} MB, CPU {cpu:.2} s",
        wall.as_secs_f64()
    );
    assert_eq!(code, 2, "failing targets make the exit status 2\n{stderr}");
    let events: Vec<serde_json::Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let records = real_records();
    let mut seen = vec![false; N];
    for e in events.iter().filter(|e| e["type"] == "snapshot") {
        let i: usize = e["target"].as_str().unwrap().strip_prefix("svc-").unwrap().parse().unwrap();
        assert!(!seen[i], "svc-{i} reported twice");
        seen[i] = true;
        assert_eq!(e["goroutines"], records.len() + copies(records.len(), i, 0), "svc-{i}: {e}");
        assert!(e["sites"].as_u64().unwrap() >= 45, "{e}");
    }
    assert!(seen.iter().all(|&s| s), "targets not reported: {:?}", seen.iter().positions_false());
    let errors: Vec<_> = events.iter().filter(|e| e["type"] == "error").collect();
    let by = |name: &str| errors.iter().find(|e| e["target"] == name).unwrap_or_else(|| panic!("no error for {name}"));
    assert_eq!(errors.len(), 3, "{errors:?}");
    assert!(by("slow")["message"].as_str().unwrap().contains("raise --timeout"), "{:?}", by("slow"));
    assert!(by("failing")["message"].as_str().unwrap().contains("500"), "{:?}", by("failing"));
    assert!(by("refused")["message"].as_str().unwrap().contains("refused"), "{:?}", by("refused"));
    for (i, p) in server.polls.iter().enumerate() {
        assert_eq!(p.load(Ordering::SeqCst), 1, "svc-{i} was fetched a wrong number of times");
    }
    let h = History::open(&history).unwrap();
    for i in 0..N {
        assert_eq!(h.count(&format!("svc-{i}")).unwrap(), 1, "svc-{i} not recorded");
    }
    assert_eq!(h.status("slow").unwrap().fetch_errors, 1);
    assert!(wall < Duration::from_secs(30), "1,000 targets took {wall:?} (target: 30 s)");
    assert!(rss_mb <= 300, "peak RSS {rss_mb} MB (target: 300 MB)");
}

trait PositionsFalse {
    fn positions_false(self) -> Vec<usize>;
}
impl<'a, I: Iterator<Item = &'a bool>> PositionsFalse for I {
    fn positions_false(self) -> Vec<usize> {
        self.enumerate().filter(|(_, &b)| !b).map(|(i, _)| i).take(10).collect()
    }
}

/// Resident memory of process `pid`, in KB.
fn rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Issue 14: `watch` over a fleet for an hour of polls every 30 s (120 rounds, on the
/// injected clock of `GOROSCOPE_TEST_CLOCK`, so it takes seconds) with its history in
/// memory: every round polls every target, the events' times span the hour, and resident
/// memory after warm-up does not grow. 100 targets keep the hour (12,000 polls) within
/// CI's budget; the 1,000-target round is `one_check_polls_a_thousand_targets`.
#[test]
fn an_hour_of_watch_over_a_fleet_keeps_memory_flat() {
    const N: usize = 100;
    const ROUNDS: usize = 120;
    let server = FleetServer::start(N);
    let dir = tempfile::tempdir().unwrap();
    let targets = targets_file(dir.path(), &server, N, &[]);
    let start_s: i64 = 1_780_000_000;
    let mut child = support::KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_goroscope"))
            .args(["watch", "--targets", targets.to_str().unwrap(), "--every", "30s", "--json"])
            .args(["--polls", &ROUNDS.to_string()])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("GOROSCOPE_TEST_CLOCK", start_s.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let pid = child.0.id();
    let stdout = child.0.stdout.take().unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let done2 = done.clone();
    // Nothing may hang the test: past two minutes the watcher is killed.
    std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(120);
        while !done2.load(Ordering::SeqCst) {
            if Instant::now() > deadline {
                let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    });
    let started = Instant::now();
    let (mut snapshots, mut rss, mut times) = (0usize, Vec::new(), Vec::new());
    for line in BufReader::new(stdout).lines() {
        let e: serde_json::Value = serde_json::from_str(&line.unwrap()).unwrap();
        assert_ne!(e["type"], "error", "{e}");
        if e["type"] == "snapshot" {
            snapshots += 1;
            if snapshots % N == 0 {
                rss.push(rss_kb(pid).unwrap_or(0));
                times.push(e["time"].as_str().unwrap().to_string());
            }
        }
    }
    let wall = started.elapsed();
    done.store(true, Ordering::SeqCst);
    let status = child.0.wait().unwrap();
    assert!(status.success(), "watch failed: {status}");
    assert_eq!(snapshots, N * ROUNDS, "every target at every round");
    for (i, p) in server.polls.iter().enumerate() {
        assert_eq!(p.load(Ordering::SeqCst), ROUNDS, "svc-{i}");
    }
    let t = |s: &str| chrono_free_seconds(s);
    assert_eq!(t(&times[ROUNDS - 1]) - t(&times[0]), (ROUNDS as i64 - 1) * 30, "{} .. {}", times[0], times[ROUNDS - 1]);
    let mb = |kb: u64| kb as f64 / 1024.0;
    // Warm-up: the history in memory fills to its window, the allocator's arenas settle
    // (over 360 rounds RSS stays at 27-30 MB from round 40 on).
    let warm = *rss[20..60].iter().max().unwrap();
    let late = *rss[ROUNDS - 40..].iter().max().unwrap();
    eprintln!(
        "watch: {N} targets x {ROUNDS} rounds in {:.1} s; RSS after round 1 {:.1} MB, rounds 20-60 max {:.1} MB, last 40 max {:.1} MB",
        wall.as_secs_f64(),
        mb(rss[0]),
        mb(warm),
        mb(late)
    );
    assert!(rss.iter().all(|&k| k > 0), "RSS not read: {rss:?}");
    assert!(late <= warm + 3072, "memory grew after warm-up: {:.1} MB -> {:.1} MB ({rss:?})", mb(warm), mb(late));
}

/// Seconds since the epoch of an RFC 3339 time `YYYY-MM-DDTHH:MM:SS…Z` (days from a
/// civil date, Howard Hinnant's algorithm).
fn chrono_free_seconds(s: &str) -> i64 {
    let n = |a: usize, b: usize| s[a..b].parse::<i64>().unwrap();
    let (y, m, d) = (n(0, 4), n(5, 7), n(8, 10));
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    days * 86_400 + n(11, 13) * 3600 + n(14, 16) * 60 + n(17, 19)
}

/// The site-grouped report of target `i`'s `k`-th profile, as `check` records it.
fn fleet_report(records: &[String], i: usize, k: usize) -> goroscope::group::SnapshotReport {
    let name = format!("http://10.1.{}.{}:6060/debug/pprof/goroutine?debug=2", i / 250, i % 250);
    let input = goroscope::source::Input {
        name: name.clone(),
        bytes: goroscope::source::Bytes::Owned(profile(records, i, k)),
        mtime_nanos: None,
    };
    let limits = goroscope::limits::Limits::default();
    let mut snap = goroscope::source::parse_input(&input, None, &limits).unwrap().pop().unwrap();
    let by_site = goroscope::group::GroupSettings { by: goroscope::group::GroupBy::Site, ..Default::default() };
    goroscope::group::group(&mut snap, &by_site)
}

/// Bytes the history file holds in pages in use (what it would be after a VACUUM).
fn used_bytes(path: &Path) -> u64 {
    let c = rusqlite::Connection::open(path).unwrap();
    let q = |p: &str| c.query_row(p, [], |r| r.get::<_, i64>(0)).unwrap() as u64;
    (q("PRAGMA page_count") - q("PRAGMA freelist_count")) * q("PRAGMA page_size")
}

/// Issue 14: a snapshot of ~50 sites costs at most 1.5 KB of history (schema 2 spent
/// ~7.4 KB on these), measured as the growth of the file's pages in use from snapshot 100
/// to 1,000 of 10 targets.
#[test]
fn a_snapshot_of_fifty_sites_costs_under_one_and_a_half_kb() {
    let records = real_records();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.db");
    let mut h = History::open(&path).unwrap();
    let mut sites = 0;
    let mut at_100 = 0;
    for n in 0..1000usize {
        let (i, k) = (n % 10, n / 10);
        let r = fleet_report(&records, i, k);
        sites += r.groups.len();
        let extra =
            goroscope::history::Recorded { restart: false, digest: Some(format!("{:016x}-{}", n * 7919, 30000 + n)) };
        h.record_with(&format!("svc-{i}"), 1_780_000_000_000_000_000 + k as i64 * 30_000_000_000, &r, None, &extra)
            .unwrap();
        if n == 99 {
            drop(h);
            at_100 = used_bytes(&path);
            h = History::open(&path).unwrap();
        }
    }
    drop(h);
    let per = (used_bytes(&path) - at_100) as f64 / 900.0;
    let mean_sites = sites as f64 / 1000.0;
    eprintln!(
        "history: {per:.0} bytes per snapshot of {mean_sites:.1} sites (file {} KB for 1,000 snapshots)",
        std::fs::metadata(&path).unwrap().len() / 1024
    );
    assert!((45.0..=60.0).contains(&mean_sites), "{mean_sites} sites per snapshot");
    assert!(per <= 1536.0, "{per:.0} bytes per snapshot (target: 1.5 KB)");
    // What was recorded reads back as it was reported.
    let h = History::open(&path).unwrap();
    let back = h.recent("svc-3", 1).unwrap().pop().unwrap();
    let want = fleet_report(&records, 3, 99);
    assert_eq!(back.total, want.total);
    let counts = |r: &goroscope::group::SnapshotReport| {
        r.groups.iter().map(|g| (g.site.function.clone(), g.state.clone(), g.count, g.role)).collect::<Vec<_>>()
    };
    assert_eq!(counts(&back), counts(&want));
}

/// Issue 14: with `--retain`, the history file stops growing once the retained span is
/// full: 600 rounds of 10 targets every 30 s, keeping 1 h (120 rounds), as `check` prunes.
#[test]
fn retain_keeps_the_history_file_flat() {
    let records = real_records();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.db");
    let mut h = History::open(&path).unwrap();
    let reports: Vec<_> = (0..50).map(|n| fleet_report(&records, n % 10, n / 10)).collect();
    let mut sizes = Vec::new();
    for round in 0..600i64 {
        let now = 1_780_000_000_000_000_000 + round * 30_000_000_000;
        for i in 0..10 {
            let extra = goroscope::history::Recorded { restart: false, digest: Some(format!("{round}-{i}")) };
            h.record_with(&format!("svc-{i}"), now, &reports[(round as usize * 10 + i) % 50], None, &extra).unwrap();
        }
        h.prune(now - 3_600_000_000_000).unwrap();
        let len = |p: &Path| std::fs::metadata(p).map_or(0, |m| m.len());
        sizes.push(len(&path));
        // The write-ahead log is part of what it takes on disk: bounded by SQLite's
        // checkpoint every 1,000 pages.
        let wal = len(&dir.path().join("h.db-wal"));
        assert!(wal <= 4_300_000, "round {round}: the WAL holds {wal} bytes");
    }
    assert_eq!(h.count("svc-0").unwrap(), 121, "an hour of rounds kept (both ends)");
    let full = *sizes[150..250].iter().max().unwrap();
    let late = *sizes[400..].iter().max().unwrap();
    eprintln!(
        "retain: file {} KB when the hour first filled, {} KB at most over the last 200 rounds",
        full / 1024,
        late / 1024
    );
    assert!(late <= full, "the file grew from {full} to {late} bytes with --retain");
}
