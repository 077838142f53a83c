//! Detection under load (issue 12): a service is driven through a scripted load profile
//! (ramp up, plateau, held idle connections, a burst of ten times the clients and back,
//! ramp down, slower requests, restart) by `go/loadgen`, with `goroscope check` between
//! the steps, seconds apart, on a machine kept busy on purpose (one busy loop per core).
//! Every check's exit code and the sites it alerted on are asserted: no alert while only
//! the load changes, and a real leak is caught, naming its site.
//!
//! The services: our own leaky service (`go/leaky`, whose `/search` starts per-request
//! goroutines that follow the load and, with `-leak-every N`, leaks a forgotten sender
//! every N searches), and real third-party Go servers from Debian started on 127.0.0.1
//! with free ports and temporary data dirs: etcd (`etcd-server`) and Prometheus
//! (`prometheus`). `scripts/setup.sh` installs them. Each scenario prints one line
//! `SCENARIO name: …` with what it measured (the README's table comes from these lines).
//!
//! Knobs: `GOROSCOPE_HARNESS_BUSY=N` runs N busy loops instead of one per core (0: a
//! quiet machine); `GOROSCOPE_HARNESS_BIN=path` runs the checks with another goroscope
//! binary (to measure an older rule); `GOROSCOPE_HARNESS_KEEP=DIR` keeps every profile
//! checked, under `DIR/<scenario>/`, to replay with `check` or `trend`.

mod support;

use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};
use support::{go, output_within, KillOnDrop};

const GO: &str = "1.27.3";

/// One scenario at a time, each with the machine made busy on purpose ([`Busy`]): how busy
/// then depends on the busy loops, not on which scenarios happen to overlap.
fn one_at_a_time() -> (std::sync::MutexGuard<'static, ()>, Busy) {
    static LOCK: Mutex<()> = Mutex::new(());
    let guard = LOCK.lock().unwrap_or_else(|p| p.into_inner());
    (guard, Busy::start())
}

/// Busy-loop processes competing with the service, goroscope and the load generator for
/// the CPU while a scenario runs: one per core by default (`GOROSCOPE_HARNESS_BUSY=N`: N;
/// 0 for a quiet machine), killed when the scenario ends. A busy machine makes every
/// request slower, so more of them (and of their goroutines) are in flight at once.
struct Busy {
    _procs: Vec<KillOnDrop>,
}

impl Busy {
    fn start() -> Busy {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let n = std::env::var("GOROSCOPE_HARNESS_BUSY").ok().and_then(|v| v.parse().ok()).unwrap_or(cores);
        let sh =
            || KillOnDrop(Command::new("sh").args(["-c", "while :; do :; done"]).stdin(Stdio::null()).spawn().unwrap());
        Busy { _procs: (0..n).map(|_| sh()).collect() }
    }
}

/// Time between a load step and the check after it: long enough for the load to settle.
const SETTLE: Duration = Duration::from_millis(1500);

fn tool(name: &str) -> PathBuf {
    let found =
        std::env::var_os("PATH").and_then(|p| std::env::split_paths(&p).map(|d| d.join(name)).find(|p| p.is_file()));
    found.unwrap_or_else(|| panic!("{name} is not installed: run scripts/setup.sh (it installs it)"))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Builds a Go program under `go/` once per test binary.
fn build(dir: &str) -> PathBuf {
    static BUILT: OnceLock<Mutex<Vec<(String, PathBuf)>>> = OnceLock::new();
    let cache = BUILT.get_or_init(|| Mutex::new(Vec::new()));
    let mut cache = cache.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((_, p)) = cache.iter().find(|(d, _)| d == dir) {
        return p.clone();
    }
    let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{dir}-{GO}"));
    std::fs::create_dir_all(&out_dir).unwrap();
    let bin = out_dir.join(dir);
    let mut cmd = Command::new(go(GO));
    cmd.args(["build", "-o"])
        .arg(&bin)
        .arg(".")
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("go").join(dir));
    let out = output_within(cmd, Duration::from_secs(300));
    assert!(out.status.success(), "go build {dir} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    cache.push((dir.to_string(), bin.clone()));
    bin
}

/// Starts a server with no input and its output thrown away.
fn spawn_quiet(cmd: &mut Command) -> KillOnDrop {
    KillOnDrop(cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap())
}

/// Runs each load step of `profile`, then a check that must be quiet.
fn quiet_through(load: &mut Load, checks: &mut Checks, profile: &[&str]) {
    for cmd in profile {
        load.send(cmd);
        std::thread::sleep(SETTLE);
        checks.quiet(cmd);
    }
}

/// Waits until `url` answers 200.
fn wait_ready(url: &str, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let client = reqwest::blocking::Client::builder().timeout(Duration::from_secs(2)).build().unwrap();
    while !client.get(url).send().is_ok_and(|r| r.status().is_success()) {
        assert!(Instant::now() < deadline, "{what} did not answer {url} within 60s");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The load generator, driven line by line.
struct Load {
    _child: KillOnDrop,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Load {
    fn start(url: &str, kind: &str) -> Load {
        let mut child = KillOnDrop(
            Command::new(build("loadgen"))
                .args(["-url", url, "-kind", kind])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        let stdin = child.0.stdin.take().unwrap();
        let stdout = BufReader::new(child.0.stdout.take().unwrap());
        Load { _child: child, stdin, stdout }
    }
    fn send(&mut self, cmd: &str) -> String {
        writeln!(self.stdin, "{cmd}").unwrap();
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        assert!(!line.starts_with("error") && !line.is_empty(), "loadgen {cmd}: {line}");
        line.trim().to_string()
    }
}

/// `goroscope check` against one target with one history.
struct Checks {
    url: String,
    history: PathBuf,
    extra: Vec<String>,
    n: usize,
    log: Vec<String>,
    /// Alerts on sites that only follow the load: `check N (step): site`.
    false_alerts: Vec<String>,
}

/// What one check said.
struct Checked {
    code: i32,
    /// Alerted sites: function (category).
    alerts: Vec<String>,
    events: Vec<Value>,
}

impl Checks {
    fn new(url: &str, dir: &Path, extra: &[&str], name: &str) -> Checks {
        let mut extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        // `GOROSCOPE_HARNESS_KEEP=DIR` keeps every profile under DIR/NAME, to replay.
        if let Some(keep) = std::env::var_os("GOROSCOPE_HARNESS_KEEP") {
            let dir = PathBuf::from(keep).join(name);
            let _ = std::fs::remove_dir_all(&dir);
            extra.extend(["--keep-raw".to_string(), dir.display().to_string()]);
        }
        Checks {
            url: url.to_string(),
            history: dir.join("history.db"),
            extra,
            n: 0,
            log: Vec::new(),
            false_alerts: Vec::new(),
        }
    }
    fn run(&mut self, step: &str) -> Checked {
        self.n += 1;
        let bin = std::env::var_os("GOROSCOPE_HARNESS_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_goroscope")));
        let mut cmd = Command::new(bin);
        cmd.args(["check", &self.url, "--history", self.history.to_str().unwrap(), "--json", "--timeout", "20s"])
            .args(&self.extra)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .stdin(Stdio::null());
        let out = output_within(cmd, Duration::from_secs(60));
        let stdout = String::from_utf8_lossy(&out.stdout);
        let code = out.status.code().unwrap_or(-1);
        assert!(
            code == 0 || code == 1,
            "check {} ({step}) failed ({code}):\n{}",
            self.n,
            String::from_utf8_lossy(&out.stderr)
        );
        let (events, alerts) = support::check_events(&stdout);
        let snap = events.iter().find(|e| e["type"] == "snapshot").expect("a snapshot event");
        self.log.push(format!(
            "check {:2} {step:<28} exit {code} goroutines {:4} connections {:3} requests {:3}{} alerts {alerts:?}",
            self.n,
            snap["goroutines"],
            snap["connections"],
            snap["requests"],
            if snap["restart"] == true { " RESTART" } else { "" }
        ));
        assert_eq!(code == 1, !alerts.is_empty(), "exit 1 exactly when an alert fires: {stdout}");
        Checked { code, alerts, events }
    }
    /// The log of every check so far, for failure messages.
    fn story(&self) -> String {
        self.log.join("\n")
    }
    /// Runs a check that must be quiet.
    fn quiet(&mut self, step: &str) -> Checked {
        self.only(step, |_| false)
    }
    /// Runs a check that may alert only on sites `leaking` accepts; any other alert is a
    /// false alert, told by [`Checks::finish`] (the scenario runs to its end first, so the
    /// story shows what came after).
    fn only(&mut self, step: &str, leaking: impl Fn(&str) -> bool) -> Checked {
        let c = self.run(step);
        for a in c.alerts.iter().filter(|a| !leaking(a)) {
            self.false_alerts.push(format!("check {} ({step}): {a}", self.n));
            if let Some(line) = self.log.last_mut() {
                line.push_str(" FALSE");
            }
        }
        c
    }
    /// The check (counted from 1) at which `what` happened, which must be by check `most`.
    fn within(&self, what: &str, at: Option<usize>, most: usize) -> usize {
        let n = at.unwrap_or_else(|| panic!("{what}: never:\n{}", self.story()));
        assert!(n <= most, "{what}: at check {n}, not by {most}:\n{}", self.story());
        n
    }
    /// Prints the story; fails on any false alert.
    fn finish(&self) {
        println!("{}", self.story());
        assert!(self.false_alerts.is_empty(), "false alerts {:?}:\n{}", self.false_alerts, self.story());
    }
}

/// A leaky service on a fixed port, so a restart keeps its URL.
struct Leaky {
    child: Option<KillOnDrop>,
    port: u16,
    args: Vec<String>,
}

impl Leaky {
    fn start(args: &[&str]) -> Leaky {
        let mut l = Leaky { child: None, port: free_port(), args: args.iter().map(|s| s.to_string()).collect() };
        l.restart();
        l
    }
    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
    fn restart(&mut self) {
        self.child = None; // kills the old process
        let child = KillOnDrop(
            Command::new(support::leaky(GO))
                .args(["-addr", &format!("127.0.0.1:{}", self.port), "-tick", "1h"])
                .args(&self.args)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        self.child = Some(child);
        wait_ready(&format!("{}/stats", self.url()), "leaky");
    }
}

const SENDER: &str = "main.lookupSuggestion.func1 (chan_send)";

/// Our leaky service with no leak, through the whole profile, checked with debug=2 (so a
/// restart is seen by its goroutine ids): 18 checks, no alert; the restart is told.
#[test]
fn leaky_load_profile_without_leak_stays_quiet() {
    let _serial = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let mut svc = Leaky::start(&[]);
    let mut load = Load::start(&svc.url(), "leaky");
    let mut checks = Checks::new(&svc.url(), dir.path(), &["--debug", "2"], "leaky-no-leak");
    let step = |load: &mut Load, checks: &mut Checks, cmd: &str, name: &str| {
        if !cmd.is_empty() {
            load.send(cmd);
        }
        std::thread::sleep(SETTLE);
        checks.quiet(name)
    };
    step(&mut load, &mut checks, "", "idle");
    for n in [2, 4, 8, 12] {
        step(&mut load, &mut checks, &format!("clients {n}"), &format!("ramp up to {n} clients"));
    }
    step(&mut load, &mut checks, "", "plateau 12");
    step(&mut load, &mut checks, "hold 30", "plateau + 30 idle conns");
    step(&mut load, &mut checks, "clients 120", "burst x10: 120 clients");
    step(&mut load, &mut checks, "clients 12", "back to 12");
    step(&mut load, &mut checks, "release", "idle conns closed");
    for n in [6, 2, 0] {
        step(&mut load, &mut checks, &format!("clients {n}"), &format!("ramp down to {n}"));
    }
    drop(load);
    svc.restart();
    let c = step(&mut Load::start(&svc.url(), "leaky"), &mut checks, "", "restarted, idle");
    let snap = c.events.iter().find(|e| e["type"] == "snapshot").unwrap();
    assert_eq!(snap["restart"], true, "the restart is told:\n{}", checks.story());
    let mut load = Load::start(&svc.url(), "leaky");
    for n in [4, 8, 12, 12] {
        step(&mut load, &mut checks, &format!("clients {n}"), &format!("warm-up: {n} clients"));
    }
    let restarts = checks.log.iter().filter(|l| l.contains("RESTART")).count();
    assert_eq!(restarts, 1, "one restart seen, no other:\n{}", checks.story());
    checks.finish();
    println!("SCENARIO leaky, ramp/plateau/burst/ramp down/restart, no leak: {} checks, false alerts 0", checks.n);
}

/// Requests that take longer (the brief's flake, made deterministic): 40 clients pausing
/// about 300 ms between searches throughout, while each search's rendering goes from 30 to
/// 100, 200 and 300 ms (a slower backend; a busy machine does the same), then back. More
/// requests are in flight at once, and their goroutines with them, while the connections
/// stay at 40: the rule that judged by connections alone alerted here. No alert.
#[test]
fn leaky_slower_requests_stay_quiet() {
    let _serial = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let svc = Leaky::start(&[]);
    let mut load = Load::start(&svc.url(), "leaky");
    load.send("pace 300");
    load.send("clients 40");
    let mut checks = Checks::new(&svc.url(), dir.path(), &[], "leaky-slower");
    let client = reqwest::blocking::Client::new();
    let mut requests = Vec::new();
    for (ms, name) in [
        (30, "40 clients, 300 ms apart"),
        (30, "steady"),
        (100, "searches take 100 ms"),
        (200, "searches take 200 ms"),
        (300, "searches take 300 ms"),
        (300, "steady"),
        (30, "30 ms again"),
        (30, "steady"),
    ] {
        let r = client.get(format!("{}/search/wait?ms={ms}", svc.url())).send().unwrap();
        assert!(r.status().is_success());
        std::thread::sleep(SETTLE);
        let c = checks.quiet(name);
        let snap = c.events.iter().find(|e| e["type"] == "snapshot").unwrap();
        requests.push(snap["requests"].as_u64().unwrap_or(0));
    }
    let story = checks.story();
    checks.finish();
    let (fast, slow) = (requests[..2].iter().max().unwrap(), requests[4..6].iter().min().unwrap());
    println!(
        "SCENARIO leaky, 40 clients, searches 30 → 300 ms → 30: {} checks, false alerts 0; requests in flight {fast} → {slow}",
        checks.n
    );
    assert!(slow > fast, "searches did not get slower: requests in flight {requests:?}\n{story}");
}

/// Runs a leak scenario on the leaky service: `steps` of load with the leak running, then
/// the load stops. The leak must alert by check `by` and at every check after it
/// while the load runs, and resolve within three checks of the stop (the first may still
/// see the last growth, then two quiet ones resolve it). Alerts may only name the
/// forgotten sender.
fn leak_scenario(name: &str, slug: &str, steps: &[&str], by: usize) {
    let _serial = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let svc = Leaky::start(&["-leak-every", "20"]);
    let mut load = Load::start(&svc.url(), "leaky");
    let mut checks = Checks::new(&svc.url(), dir.path(), &[], slug);
    let mut alerted = Vec::new();
    for cmd in steps {
        load.send(cmd);
        std::thread::sleep(SETTLE);
        alerted.push(checks.only(cmd, |a| a == SENDER).code == 1);
    }
    let detected = checks.within(&format!("{name}: caught"), alerted.iter().position(|&a| a).map(|i| i + 1), by);
    assert!(alerted[detected..].iter().all(|&a| a), "{name}: the alert came and went:\n{}", checks.story());
    load.send("clients 0");
    let mut resolved = None;
    for i in 1..=4 {
        std::thread::sleep(SETTLE);
        let c = checks.only("load stopped", |a| a == SENDER);
        if c.code == 0 {
            let r: Vec<&Value> = c.events.iter().filter(|e| e["type"] == "resolved").collect();
            assert_eq!(r.len(), 1, "{}", checks.story());
            assert!(r[0]["reason"].as_str().unwrap().starts_with("no longer growing"), "{:#}", r[0]);
            resolved = Some(i);
            break;
        }
    }
    let resolved = checks.within(&format!("{name}: resolved"), resolved, 3);
    checks.finish();
    println!("SCENARIO {name}: false alerts 0, checks to detect {detected}, checks to resolve {resolved}");
}

/// The case: a forgotten sender (one leak per 20 searches) hidden in a traffic
/// ramp is caught by default (debug=0) at the third check, as on steady traffic: so in
/// each of 33 kept runs replayed through `check` (README, "The rule"), since requests in
/// flight explain at most a doubling in one step. The test allows a fourth check for a
/// machine busier than any of those runs (the fourth and fifth were seen before that cap).
#[test]
fn leaky_forgotten_sender_in_a_ramp_is_caught_within_4_checks() {
    leak_scenario(
        "leaky, forgotten sender 1/20 searches in a ramp (2 → 26 clients)",
        "leaky-leak-ramp",
        &["clients 2", "clients 8", "clients 14", "clients 20", "clients 26"],
        4,
    );
}

/// The same leak on steady traffic: caught within 3 checks.
#[test]
fn leaky_forgotten_sender_on_steady_traffic_is_caught_within_3_checks() {
    leak_scenario(
        "leaky, forgotten sender 1/20 searches, steady 8 clients",
        "leaky-leak-steady",
        &["clients 8", "clients 8", "clients 8", "clients 8", "clients 8"],
        3,
    );
}

/// etcd 3.4 (Debian) on loopback: quiet through 12 checks of varying load (busy clients
/// over HTTP/1 to the gRPC gateway, held idle connections, a burst, idle); then a client
/// opens watch streams over one HTTP/2 connection and never closes them: the alert names
/// etcd's watch stream site, and only watch-stream sites.
#[test]
fn etcd_stays_quiet_under_load_and_its_forgotten_watches_alert() {
    let _serial = one_at_a_time();
    let etcd = tool("etcd");
    let dir = tempfile::tempdir().unwrap();
    let (client, peer) = (free_port(), free_port());
    let url = format!("http://127.0.0.1:{client}");
    let peer_url = format!("http://127.0.0.1:{peer}");
    let _etcd = spawn_quiet(
        Command::new(etcd)
            .args(["--name", "t", "--data-dir"])
            .arg(dir.path().join("data"))
            .args(["--listen-client-urls", &url, "--advertise-client-urls", &url])
            .args(["--listen-peer-urls", &peer_url, "--initial-advertise-peer-urls", &peer_url])
            .args(["--initial-cluster", &format!("t={peer_url}"), "--enable-pprof"])
            .args(["--logger", "zap", "--log-outputs", "stderr", "--log-level", "error"]),
    );
    wait_ready(&format!("{url}/health"), "etcd");
    let mut load = Load::start(&url, "etcd");
    let mut checks = Checks::new(&url, dir.path(), &[], "etcd");
    let profile = [
        "clients 0",
        "clients 2",
        "clients 6",
        "clients 10",
        "hold 40",
        "clients 10",
        "clients 40",
        "clients 4",
        "release",
        "clients 2",
        "clients 0",
        "clients 4",
    ];
    quiet_through(&mut load, &mut checks, &profile);
    let quiet = checks.n;
    let mut detected = None;
    for i in 1..=5 {
        load.send("watches 40");
        std::thread::sleep(SETTLE);
        let c = checks.only("40 more forgotten watches", |a| {
            a.contains("Watch") || a.contains("watch") || a.contains("recvBufferReader")
        });
        if c.code == 1 {
            assert!(c.alerts.iter().any(|a| a.contains("v3rpc")), "{:?}", c.alerts);
            detected = Some(i);
            break;
        }
    }
    let detected = checks.within("the forgotten watches caught", detected, 3);
    checks.finish();
    println!("SCENARIO etcd 3.4, varying load: {quiet} checks, false alerts 0; forgotten watch streams (40 per check): checks to detect {detected}");
}

/// Prometheus 2.42 (Debian) on loopback, scraping itself every second: quiet through 12
/// checks of varying API load (busy clients, held idle keep-alive connections, a burst,
/// idle).
#[test]
fn prometheus_stays_quiet_under_varying_load() {
    let _serial = one_at_a_time();
    let prom = tool("prometheus");
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: self\n    static_configs:\n      - targets: ['127.0.0.1:{port}']\n"
        ),
    )
    .unwrap();
    let _prom = spawn_quiet(
        Command::new(prom)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", dir.path().join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}")),
    );
    wait_ready(&format!("{url}/-/ready"), "prometheus");
    let mut load = Load::start(&url, "prometheus");
    let mut checks = Checks::new(&url, dir.path(), &[], "prometheus");
    let profile = [
        "clients 0",
        "clients 2",
        "clients 6",
        "clients 12",
        "hold 40",
        "clients 12",
        "clients 60",
        "clients 6",
        "release",
        "clients 2",
        "clients 0",
        "clients 8",
    ];
    quiet_through(&mut load, &mut checks, &profile);
    checks.finish();
    println!("SCENARIO prometheus 2.42, varying load: {} checks, false alerts 0", checks.n);
}
