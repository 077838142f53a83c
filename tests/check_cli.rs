//! `goroscope check` as a user meets it without a Go service: damaged and newer history
//! files, targets that cannot be reached, a rules file with a mistake, and a webhook that
//! fails before it succeeds (served by the scripted HTTP server of `tests/support`).

mod support;

use std::io::Read;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use support::{goroscope, respond, FakeServer};

/// A Go goroutine dump (debug=2) with `n` forgotten senders, served as the service would.
fn dump(n: usize) -> String {
    let mut s = String::from("goroutine 1 [IO wait]:\nmain.main()\n\t/srv/main.go:10 +0x1\n\n");
    for i in 0..n {
        s.push_str(&format!(
            "goroutine {} [chan send]:\nmain.lookup.func1()\n\t/srv/main.go:42 +0x2\ncreated by main.lookup in goroutine 1\n\t/srv/main.go:40 +0x3\n\n",
            i + 2
        ));
    }
    s
}

#[test]
fn a_damaged_history_is_reported_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let h = dir.path().join("history.db");
    let junk = b"SQLite format 3\0but then the rest of the file is garbage, not pages".repeat(64);
    std::fs::write(&h, &junk).unwrap();
    let r = goroscope(&["check", "http://127.0.0.1:9/", "--history", h.to_str().unwrap()]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let line = r.error_line();
    assert!(line.contains("history.db") && line.contains("left untouched"), "{line}");
    assert_eq!(std::fs::read(&h).unwrap(), junk, "the file was changed");
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names.len(), 1, "no side files: {names:?}");

    std::fs::write(&h, b"not sqlite at all").unwrap();
    let r = goroscope(&["check", "http://127.0.0.1:9/", "--history", h.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(r.error_line().contains("not a goroscope history"), "{}", r.stderr);
}

#[test]
fn a_history_from_a_newer_goroscope_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let h = dir.path().join("h.db");
    drop(goroscope::history::History::open(&h).unwrap());
    // Pretend a later goroscope wrote it.
    bump_schema(&h);
    let r = goroscope(&["check", "http://127.0.0.1:9/", "--history", h.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    let want = format!(
        "schema version {} is newer than this goroscope understands ({})",
        goroscope::history::SCHEMA_VERSION + 1,
        goroscope::history::SCHEMA_VERSION
    );
    assert!(r.error_line().contains(&want), "{}", r.stderr);
}

/// Writes the next schema version through the library's own SQLite (no sqlite3 tool needed).
fn bump_schema(path: &std::path::Path) {
    goroscope::history::testing::set_schema_version(path, goroscope::history::SCHEMA_VERSION + 1).unwrap();
}

/// `check` on profile files (issue 16.5): a missing one is refused before the history
/// is created; a real one is recorded once, and again only when it changed.
#[test]
fn check_takes_files_and_records_an_unchanged_profile_once() {
    let dir = tempfile::tempdir().unwrap();
    let h = dir.path().join("h.db");
    let r = goroscope(&["check", dir.path().join("nope.pb.gz").to_str().unwrap(), "--history", h.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(r.error_line().contains("nope.pb.gz: cannot read it"), "{}", r.stderr);
    assert!(!h.exists(), "the history was created");

    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/go1.24");
    let file = dir.path().join("profile.pb.gz");
    std::fs::copy(root.join("snapshot-1.pb.gz"), &file).unwrap();
    let url = format!("file://{}", file.display());
    let run = || {
        let r = goroscope(&["check", &url, "--history", h.to_str().unwrap(), "--json"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        serde_json::from_str::<serde_json::Value>(r.stdout.lines().next().unwrap()).unwrap()
    };
    assert!(run().get("unchanged").is_none());
    assert_eq!(run()["unchanged"], true);
    std::fs::copy(root.join("snapshot-3.pb.gz"), &file).unwrap();
    assert!(run().get("unchanged").is_none());
    let hist = goroscope::history::History::open(&h).unwrap();
    assert_eq!(hist.count(&url).unwrap(), 2);
}

#[test]
fn an_unreachable_target_exits_2_and_is_counted() {
    let dir = tempfile::tempdir().unwrap();
    let h = dir.path().join("h.db");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}");
    for n in 1..=2 {
        let r = goroscope(&["check", &url, "--history", h.to_str().unwrap(), "--json"]);
        assert_eq!(r.code, 2, "{}", r.stdout);
        let ev: serde_json::Value = serde_json::from_str(r.stdout.trim()).unwrap();
        assert_eq!(ev["type"], "error");
        assert_eq!(ev["target"], url.as_str());
        assert_eq!(ev["fetch_errors"], n);
    }
}

#[test]
fn a_rules_file_mistake_names_the_file_and_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.toml");
    std::fs::write(&rules, "[category.chan_sned]\nmin_growth = 1\n").unwrap();
    let h = dir.path().join("h.db");
    let r = goroscope(&[
        "check",
        "http://127.0.0.1:9/",
        "--history",
        h.to_str().unwrap(),
        "--rules",
        rules.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 2);
    let line = r.error_line();
    assert!(line.contains("rules.toml: unknown category [category.chan_sned]; choose one of: chan_send"), "{line}");
}

/// Growth of forgotten senders across three checks fires one webhook POST, retried
/// through two failures (with the real 1s, 2s backoff).
#[test]
fn webhook_gets_the_alert_after_retries() {
    let step = Arc::new(AtomicUsize::new(0));
    let s2 = step.clone();
    let service = FakeServer::start(move |c, _| {
        respond(c, "200 OK", "text/plain", dump(s2.load(Ordering::SeqCst) * 5).as_bytes())
    });
    let calls = Arc::new(AtomicUsize::new(0));
    let bodies = Arc::new(std::sync::Mutex::new(Vec::new()));
    let (c2, b2) = (calls.clone(), bodies.clone());
    let hook = FakeServer::start(move |c, seen| {
        let len: usize = seen.header("content-length").unwrap().parse().unwrap();
        let mut body = vec![0; len];
        c.read_exact(&mut body).unwrap();
        if c2.fetch_add(1, Ordering::SeqCst) < 2 {
            respond(c, "503 Service Unavailable", "text/plain", b"busy");
        } else {
            b2.lock().unwrap().push(String::from_utf8(body).unwrap());
            respond(c, "204 No Content", "text/plain", b"");
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let h = dir.path().join("h.db");
    let url = service.url("/debug/pprof/goroutine?debug=2");
    let mut last = None;
    for i in 0..3 {
        step.store(i, Ordering::SeqCst);
        let r = goroscope(&["check", &url, "--history", h.to_str().unwrap(), "--webhook", &hook.url("/hook")]);
        last = Some(r);
    }
    let r = last.unwrap();
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("ALERT") && r.stdout.contains("main.lookup.func1") && r.stdout.contains("[new]"),
        "{}",
        r.stdout
    );
    assert!(r.stderr.is_empty(), "no give-up line: {}", r.stderr);
    assert_eq!(calls.load(Ordering::SeqCst), 3, "two failures, then success");
    let body: serde_json::Value = serde_json::from_str(&bodies.lock().unwrap()[0]).unwrap();
    assert_eq!(body["version"], 1);
    assert_eq!(body["alerts"][0]["site"]["function"], "main.lookup.func1");
    assert_eq!(body["alerts"][0]["counts"], serde_json::json!([0, 5, 10]));
}
