//! `goroscope check` and `watch` against real parts: the leaky Go service (`go/leaky`,
//! through `tests/support`) loaded in steps, a real Prometheus Alertmanager (Debian's
//! `prometheus-alertmanager`) on loopback, and `promtool check metrics` (Debian's
//! `prometheus`). Run `scripts/setup.sh` first on a fresh machine: it installs them.
//!
//! The history, its transactions and a SIGKILL mid-write are exercised with the real
//! binary too: the next `check` must read what the killed one left.

mod support;

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::{goroscope, KillOnDrop, Run, Service, ServiceOptions};

const GO: &str = "1.27.3";

/// A tool the tests need, or a failure that says how to get it.
fn tool(name: &str) -> String {
    let found =
        std::env::var_os("PATH").map(|p| std::env::split_paths(&p).any(|d| d.join(name).is_file())).unwrap_or(false);
    assert!(found, "{name} is not installed: run scripts/setup.sh (it installs the Debian packages the tests need)");
    name.to_string()
}

fn events(r: &Run) -> Vec<Value> {
    r.stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}\n{}", r.stdout)))
        .collect()
}

fn of_type<'a>(ev: &'a [Value], t: &str) -> Vec<&'a Value> {
    ev.iter().filter(|e| e["type"] == t).collect()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn http_get(url: &str) -> (u16, String) {
    let r = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
        .get(url)
        .send()
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    (r.status().as_u16(), r.text().unwrap())
}

/// Runs `promtool check metrics` on `text`; fails the test with its complaints.
fn promtool_check(text: &str) {
    let mut child = Command::new(tool("promtool"))
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics failed:\n{}{}\n--- metrics ---\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A real Alertmanager on 127.0.0.1 with its own storage, stopped when dropped.
struct Alertmanager {
    _child: KillOnDrop,
    _dir: tempfile::TempDir,
    url: String,
}

impl Alertmanager {
    fn start() -> Alertmanager {
        let bin = tool("prometheus-alertmanager");
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("alertmanager.yml");
        std::fs::write(&config, "route:\n  receiver: nobody\nreceivers:\n  - name: nobody\n").unwrap();
        let port = free_port();
        let child = KillOnDrop(
            Command::new(bin)
                .arg(format!("--config.file={}", config.display()))
                .arg(format!("--storage.path={}", dir.path().join("data").display()))
                .arg(format!("--web.listen-address=127.0.0.1:{port}"))
                .arg("--cluster.listen-address=")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = reqwest::blocking::get(format!("{url}/-/ready")).map(|r| r.status().is_success());
            if ready.unwrap_or(false) {
                break;
            }
            assert!(Instant::now() < deadline, "Alertmanager did not get ready within 30s");
            std::thread::sleep(Duration::from_millis(100));
        }
        Alertmanager { _child: child, _dir: dir, url }
    }

    /// The GoroutineLeak alerts it holds as active.
    fn leak_alerts(&self) -> Vec<Value> {
        let (status, body) =
            http_get(&format!("{}/api/v2/alerts?active=true&silenced=false&inhibited=false", self.url));
        assert_eq!(status, 200, "{body}");
        let all: Vec<Value> = serde_json::from_str(&body).unwrap();
        all.into_iter().filter(|a| a["labels"]["alertname"] == "GoroutineLeak").collect()
    }

    /// Waits up to 10s for `ok` to hold of the active leak alerts.
    fn wait_for(&self, what: &str, ok: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let a = self.leak_alerts();
            if ok(&a) {
                return a;
            }
            assert!(Instant::now() < deadline, "Alertmanager: {what}; it has {a:#?}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

/// The sites of `/stats` as (function, line, leak).
fn stats_sites(svc: &Service) -> Vec<(String, u64, bool)> {
    svc.stats()["sites"]
        .as_object()
        .unwrap()
        .values()
        .map(|s| {
            (s["function"].as_str().unwrap().to_string(), s["line"].as_u64().unwrap(), s["leak"].as_bool().unwrap())
        })
        .collect()
}

fn alerted_functions(ev: &[Value]) -> Vec<String> {
    let mut f: Vec<String> =
        of_type(ev, "alert").iter().map(|a| a["site"]["function"].as_str().unwrap().to_string()).collect();
    f.sort();
    f
}

const SENDER: &str = "main.slowLookup.func1";
const RECEIVER: &str = "main.startConsumer.func1";

/// Loads the service in steps (forgotten senders and receivers) with `check` between
/// them: it alerts for the leaking sites only, never for the steady pool, ticker or
/// accept loop; Alertmanager holds the alerts; when the load stops they resolve there
/// too; the metrics file passes promtool.
#[test]
fn check_alerts_on_leaking_sites_only_and_resolves_when_load_stops() {
    let am = Alertmanager::start();
    let svc = Service::start(GO, ServiceOptions::default());
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history.db");
    let metrics = dir.path().join("goroscope.prom");
    let raw = dir.path().join("raw");
    let check = || {
        let r = goroscope(&[
            "check",
            &svc.url,
            "--history",
            history.to_str().unwrap(),
            "--json",
            "--metrics-file",
            metrics.to_str().unwrap(),
            "--alertmanager",
            &am.url,
            "--keep-raw",
            raw.to_str().unwrap(),
        ]);
        assert!(r.code == 0 || r.code == 1, "check failed ({}):\n{}\n{}", r.code, r.stderr, r.stdout);
        let ev = events(&r);
        assert_eq!(of_type(&ev, "snapshot").len(), 1, "{}", r.stdout);
        assert_eq!(r.code == 1, !of_type(&ev, "alert").is_empty(), "exit 1 exactly when an alert fires:\n{}", r.stdout);
        (r.code, ev)
    };
    let steady: Vec<(String, u64, bool)> = stats_sites(&svc).into_iter().filter(|s| !s.2).collect();
    assert!(steady.len() >= 2, "the service reports its steady sites: {steady:?}");
    let assert_only_leaks = |ev: &[Value]| {
        let sites = stats_sites(&svc);
        for a in of_type(ev, "alert") {
            let (f, line) = (a["site"]["function"].as_str().unwrap(), a["site"]["line"].as_u64().unwrap());
            let known = sites.iter().find(|s| s.0 == f && s.1 == line);
            assert!(known.is_some_and(|s| s.2), "alert for a site that is not a leak: {a:#}\n{sites:?}");
            assert_eq!(a["target"], svc.url.as_str());
        }
    };
    let load = || {
        svc.get("/leak/sender?n=4");
        svc.get("/leak/receiver?n=8");
    };

    // Baseline, then two steps: only the forgotten sender (chan_send) alerts this early.
    let (code, ev) = check();
    assert_eq!((code, alerted_functions(&ev)), (0, vec![]));
    load();
    let (code, ev) = check();
    assert_eq!((code, alerted_functions(&ev)), (0, vec![]), "one step is not sustained growth");
    load();
    let (code, ev) = check();
    assert_only_leaks(&ev);
    assert_eq!((code, alerted_functions(&ev)), (1, vec![SENDER.to_string()]));
    let a = of_type(&ev, "alert")[0];
    assert_eq!(a["category"], "chan_send");
    assert_eq!(a["counts"], serde_json::json!([0, 4, 8]));
    assert_eq!(a["new"], true);
    assert!(a["hint"].as_str().unwrap().contains("forgotten sender"), "{a:#}");
    // Alertmanager holds it, labelled by target, category and site.
    let held = am.wait_for("the sender's alert arrives", |a| a.len() == 1);
    assert_eq!(held[0]["labels"]["target"], svc.url.as_str());
    assert_eq!(held[0]["labels"]["category"], "chan_send");
    assert!(held[0]["labels"]["site"].as_str().unwrap().starts_with(SENDER), "{:#}", held[0]);
    assert_eq!(held[0]["annotations"]["counts"], "0 → 4 → 8");
    assert_eq!(held[0]["status"]["state"], "active");

    // Third step: the receivers (4 snapshots needed) join.
    load();
    let (code, ev) = check();
    assert_only_leaks(&ev);
    assert_eq!((code, alerted_functions(&ev)), (1, vec![SENDER.to_string(), RECEIVER.to_string()]));
    am.wait_for("both alerts arrive", |a| a.len() == 2);
    promtool_check(&std::fs::read_to_string(&metrics).unwrap());
    let m = std::fs::read_to_string(&metrics).unwrap();
    assert!(m.contains(&format!("goroscope_suspects{{target=\"{}\"}} 2", svc.url)), "{m}");
    assert!(m.contains(&format!("function=\"{SENDER}\"")), "{m}");

    // The load stops: one quiet snapshot keeps the alerts, two resolve them.
    let (code, ev) = check();
    assert_eq!((code, alerted_functions(&ev)), (1, vec![SENDER.to_string(), RECEIVER.to_string()]));
    assert!(of_type(&ev, "alert").iter().all(|a| a["new"] == false));
    let (code, ev) = check();
    assert_eq!(code, 0, "{ev:#?}");
    let mut resolved: Vec<&str> =
        of_type(&ev, "resolved").iter().map(|r| r["site"]["function"].as_str().unwrap()).collect();
    resolved.sort();
    assert_eq!(resolved, [SENDER, RECEIVER]);
    am.wait_for("the resolved alerts leave the active list", |a| a.is_empty());
    promtool_check(&std::fs::read_to_string(&metrics).unwrap());

    // Every snapshot's raw profile was kept and reads back as a goroutine profile.
    let kept: Vec<_> = std::fs::read_dir(&raw).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(kept.len(), 6, "{kept:?}");
    let shown = goroscope(&["show", "--json", kept[0].to_str().unwrap()]);
    assert_eq!(shown.code, 0, "{}", shown.stderr);
}

/// `check` killed with SIGKILL at many moments (bounded loop) leaves a history that the
/// next `check` opens and extends; no snapshot is ever half written.
#[test]
fn check_killed_mid_write_leaves_a_readable_history() {
    let svc = Service::start(GO, ServiceOptions::default());
    svc.get("/leak/receiver?n=200");
    svc.get("/leak/sender?n=50");
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history.db");
    let ok = goroscope(&["check", &svc.url, "--history", history.to_str().unwrap()]);
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    // Measure one run, then kill runs at points spread over that span.
    let started = Instant::now();
    let ok = goroscope(&["check", &svc.url, "--history", history.to_str().unwrap()]);
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    let span = started.elapsed();
    let mut killed = 0;
    for i in 0..24u32 {
        let mut child = KillOnDrop(
            Command::new(env!("CARGO_BIN_EXE_goroscope"))
                .args(["check", &svc.url, "--history", history.to_str().unwrap()])
                .env_clear()
                .env("PATH", std::env::var_os("PATH").unwrap_or_default())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        std::thread::sleep(span.mul_f64(f64::from(i) / 20.0));
        if child.0.try_wait().unwrap().is_none() {
            child.0.kill().unwrap(); // SIGKILL
            killed += 1;
        }
        let _ = child.0.wait();
        let next = goroscope(&["check", &svc.url, "--history", history.to_str().unwrap(), "--json"]);
        assert!(next.code == 0 || next.code == 1, "after a kill at {i}/20 of a run, check failed:\n{}", next.stderr);
        let h = goroscope::history::History::open(&history).unwrap();
        for r in h.recent(&svc.url, 1000).unwrap() {
            assert!(
                r.groups.iter().map(|g| g.count).sum::<u64>() >= 250,
                "a snapshot is incomplete: {} goroutines",
                r.total
            );
        }
    }
    assert!(killed >= 5, "only {killed} runs were killed before they finished");
}

/// Two `check`s writing one history at once both succeed, and both snapshots are kept.
#[test]
fn concurrent_checks_on_one_history_both_succeed() {
    let svc = Service::start(GO, ServiceOptions::default());
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("shared.db");
    let h = history.to_str().unwrap().to_string();
    for round in 0..3 {
        let runs: Vec<Run> = std::thread::scope(|s| {
            let handles: Vec<_> =
                (0..2).map(|_| s.spawn(|| goroscope(&["check", &svc.url, "--history", &h]))).collect();
            handles.into_iter().map(|j| j.join().unwrap()).collect()
        });
        for r in &runs {
            assert_eq!(r.code, 0, "round {round}: {}", r.stderr);
        }
    }
    let h = goroscope::history::History::open(Path::new(&h)).unwrap();
    assert_eq!(h.count(&svc.url).unwrap(), 6);
}

/// `watch` with a live target and a dead one (from a --targets file): JSON Lines events,
/// failed polls reported and counted while the loop goes on, `/metrics` that passes
/// promtool, and SIGTERM stops it cleanly with every poll recorded.
#[test]
fn watch_streams_events_serves_metrics_and_stops_on_sigterm() {
    let svc = Service::start(GO, ServiceOptions::default());
    let dir = tempfile::tempdir().unwrap();
    let targets = dir.path().join("fleet.txt");
    let dead = format!("http://127.0.0.1:{}", free_port());
    std::fs::write(&targets, format!("# fleet\n{} leaky\n{dead} dead\n", svc.url)).unwrap();
    let history = dir.path().join("h.db");
    let port = free_port();
    let mut child = KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_goroscope"))
            .args(["watch", "--targets", targets.to_str().unwrap(), "--every", "300ms", "--timeout", "2s"])
            .args(["--history", history.to_str().unwrap(), "--listen", &format!("127.0.0.1:{port}")])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut lines = BufReader::new(child.0.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while seen.iter().filter(|e: &&Value| e["type"] == "error").count() < 3 {
        assert!(Instant::now() < deadline, "watch printed {seen:#?}");
        let line = lines.next().expect("watch ended early").unwrap();
        seen.push(serde_json::from_str::<Value>(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")));
    }
    let errors = of_type(&seen, "error");
    assert!(errors.iter().all(|e| e["target"] == "dead"), "{errors:#?}");
    assert_eq!(errors.iter().map(|e| e["fetch_errors"].as_u64().unwrap()).collect::<Vec<_>>(), [1, 2, 3]);
    assert!(of_type(&seen, "snapshot").iter().any(|s| s["target"] == "leaky" && s["goroutines"].as_u64().unwrap() > 0));

    let (status, page) = http_get(&format!("http://127.0.0.1:{port}/metrics"));
    assert_eq!(status, 200);
    assert!(page.contains("goroscope_fetch_errors_total{target=\"dead\"}"), "{page}");
    assert!(page.contains("goroscope_last_success_timestamp_seconds{target=\"leaky\"}"), "{page}");
    promtool_check(&page);

    let term = Command::new("kill").args(["-TERM", &child.0.id().to_string()]).status().unwrap();
    assert!(term.success());
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(s) = child.0.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "watch did not stop within 15s of SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut err = String::new();
    child.0.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert_eq!(status.code(), Some(0), "watch exited with {status}: {err}");
    // Every poll it printed is in the history.
    let rest: Vec<Value> = lines.map(|l| serde_json::from_str(&l.unwrap()).unwrap()).collect();
    let printed = of_type(&seen, "snapshot").len() + of_type(&rest, "snapshot").len();
    let h = goroscope::history::History::open(&history).unwrap();
    assert_eq!(h.count("leaky").unwrap() as usize, printed);
    assert!(h.status("dead").unwrap().fetch_errors >= 3);
}
