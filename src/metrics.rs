//! Metrics: the state of the watched targets in Prometheus' text exposition format, for
//! `watch --listen` (served at `/metrics`) and `check --metrics-file` (written atomically,
//! for node_exporter's textfile collector). Rendering is a pure function of
//! [`TargetMetrics`]; the only I/O here is the atomic file write and the tiny server.
//!
//! Series (all labelled `target`):
//! - `goroscope_goroutines{category,function,file,line}` gauge: goroutines per site in the
//!   last snapshot;
//! - `goroscope_target_goroutines` gauge: all goroutines in the last snapshot;
//! - `goroscope_suspects` gauge: sites alerting now;
//! - `goroscope_fetch_errors_total` counter: failed polls;
//! - `goroscope_last_success_timestamp_seconds` gauge: capture time of the last snapshot.

use crate::classify::Category;
use crate::group::Site;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// What is exported about one target.
#[derive(Debug, Clone, Default)]
pub struct TargetMetrics {
    pub target: String,
    /// Per site in the last snapshot.
    pub sites: Vec<(Category, Site, u64)>,
    pub total: Option<u64>,
    pub suspects: u64,
    pub fetch_errors: u64,
    pub last_success_nanos: Option<i64>,
}

/// Renders `targets` (sorted by target, sites by site) in the text format, version 0.0.4.
pub fn render(targets: &[TargetMetrics], out: &mut impl Write) -> std::io::Result<()> {
    let mut targets: Vec<&TargetMetrics> = targets.iter().collect();
    targets.sort_by(|a, b| a.target.cmp(&b.target));
    header(out, "goroscope_goroutines", "gauge", "Goroutines blocked at a site in the last snapshot.")?;
    for t in &targets {
        let mut sites = t.sites.clone();
        sites.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
        for (c, s, n) in sites {
            writeln!(
                out,
                "goroscope_goroutines{{target=\"{}\",category=\"{}\",function=\"{}\",file=\"{}\",line=\"{}\"}} {n}",
                esc(&t.target),
                c.name(),
                esc(&s.function),
                esc(&s.file),
                s.line
            )?;
        }
    }
    header(out, "goroscope_target_goroutines", "gauge", "All goroutines in the last snapshot.")?;
    for t in targets.iter().filter(|t| t.total.is_some()) {
        writeln!(out, "goroscope_target_goroutines{{target=\"{}\"}} {}", esc(&t.target), t.total.unwrap_or(0))?;
    }
    header(out, "goroscope_suspects", "gauge", "Blocking sites whose growth alerts now.")?;
    for t in &targets {
        writeln!(out, "goroscope_suspects{{target=\"{}\"}} {}", esc(&t.target), t.suspects)?;
    }
    header(out, "goroscope_fetch_errors_total", "counter", "Polls of the target that failed.")?;
    for t in &targets {
        writeln!(out, "goroscope_fetch_errors_total{{target=\"{}\"}} {}", esc(&t.target), t.fetch_errors)?;
    }
    header(
        out,
        "goroscope_last_success_timestamp_seconds",
        "gauge",
        "Capture time of the target's last snapshot, Unix seconds.",
    )?;
    for t in &targets {
        if let Some(n) = t.last_success_nanos {
            writeln!(
                out,
                "goroscope_last_success_timestamp_seconds{{target=\"{}\"}} {:.3}",
                esc(&t.target),
                n as f64 / 1e9
            )?;
        }
    }
    Ok(())
}

fn header(out: &mut impl Write, name: &str, kind: &str, help: &str) -> std::io::Result<()> {
    writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}")
}

/// Escapes a label value: backslash, double quote, newline.
fn esc(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// Writes `bytes` to `path` through a temporary file in the same folder, renamed into
/// place: a reader sees the old file or the new one, never half of one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> crate::Result<()> {
    let name = path.display().to_string();
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let file_name = path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_else(|| "metrics".into());
    let tmp = dir.join(format!(".{file_name}.tmp.{}", std::process::id()));
    let r = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = r {
        let _ = std::fs::remove_file(&tmp);
        return Err(crate::Error::io(&name, e));
    }
    Ok(())
}

/// Serves the latest rendering in `page` at `GET /metrics`, and the live HTML report in
/// `report` at `GET /`, until `stop` is set. One request at a time: Prometheus scrapes
/// seldom and the pages are small.
pub fn serve(
    listener: std::net::TcpListener,
    page: Arc<Mutex<String>>,
    report: Arc<Mutex<String>>,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<()> {
    let _ = listener.set_nonblocking(true);
    std::thread::spawn(move || {
        while !stop.load(Ordering::SeqCst) {
            match listener.accept() {
                Ok((conn, _)) => {
                    let _ = conn.set_nonblocking(false);
                    let _ = answer(conn, &page, &report);
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    std::thread::sleep(std::time::Duration::from_millis(50))
                }
                Err(_) => std::thread::sleep(std::time::Duration::from_millis(50)),
            }
        }
    })
}

fn answer(mut conn: std::net::TcpStream, page: &Mutex<String>, report: &Mutex<String>) -> std::io::Result<()> {
    use std::io::{BufRead, BufReader};
    conn.set_read_timeout(Some(std::time::Duration::from_secs(5)))?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut request = String::new();
    reader.read_line(&mut request)?;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
            break;
        }
    }
    let path = request.split_whitespace().nth(1).unwrap_or("");
    let (status, kind, body) = if path == "/metrics" || path.starts_with("/metrics?") {
        ("200 OK", "text/plain; version=0.0.4; charset=utf-8", page.lock().map(|p| p.clone()).unwrap_or_default())
    } else if path == "/" || path.starts_with("/?") {
        ("200 OK", "text/html; charset=utf-8", report.lock().map(|p| p.clone()).unwrap_or_default())
    } else {
        (
            "404 Not Found",
            "text/plain; charset=utf-8",
            "goroscope serves /metrics and / (the live report)\n".to_string(),
        )
    };
    write!(
        conn,
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    conn.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_sorted_and_escaped() {
        let t = TargetMetrics {
            target: "svc \"a\"".into(),
            sites: vec![(Category::ChanSend, Site { function: "main.f".into(), file: "C:\\m.go".into(), line: 3 }, 4)],
            total: Some(9),
            suspects: 1,
            fetch_errors: 2,
            last_success_nanos: Some(1_500_000_000),
        };
        let mut out = Vec::new();
        render(&[t], &mut out).unwrap();
        let s = String::from_utf8(out).unwrap();
        assert!(s.contains(r#"goroscope_goroutines{target="svc \"a\"",category="chan_send",function="main.f",file="C:\\m.go",line="3"} 4"#), "{s}");
        assert!(s.contains("goroscope_last_success_timestamp_seconds{target=\"svc \\\"a\\\"\"} 1.500"), "{s}");
    }
}
