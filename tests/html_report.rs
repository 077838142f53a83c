//! The HTML report in a real browser: headless Debian Chromium, driven by playwright-core
//! (`npm ci`; never a downloaded browser) through `tests/browser/check-report.js`, loads
//! reports of real testdata and of generated series, and reports what a person would see:
//! the rows and their order, the chart's points, what the filter hides, what a click
//! shows, script errors, network requests, and a screenshot judged for non-blank pixels.
//! Also: 1,000 sites × 100 snapshots stay under 1 MB, a hostile dump cannot inject
//! markup or script, and `watch --listen` serves the live report at `/`.

mod support;

use serde_json::Value;
use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::{goroscope, output_within, FakeServer, KillOnDrop};

fn testdata(p: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata").join(p).to_string_lossy().into_owned()
}

/// Runs the browser check on `target` (a file or URL); what it saw.
fn browse(target: &str, filter: Option<&str>, screenshot: Option<&Path>) -> Value {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    assert!(
        root.join("node_modules/playwright-core").is_dir() && Path::new("/usr/bin/chromium").exists(),
        "playwright-core or chromium missing: run scripts/setup.sh"
    );
    let mut cmd = Command::new("node");
    cmd.arg(root.join("tests/browser/check-report.js")).arg(target).current_dir(root);
    if let Some(f) = filter {
        cmd.args(["--filter", f]);
    }
    if let Some(s) = screenshot {
        cmd.arg("--screenshot").arg(s);
    }
    let out = output_within(cmd, Duration::from_secs(120));
    assert!(out.status.success(), "check-report.js failed:\n{}", String::from_utf8_lossy(&out.stderr));
    let seen: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(seen["errors"], serde_json::json!([]), "script errors in {target}");
    assert_eq!(seen["requests"], serde_json::json!([]), "{target} fetched something");
    seen
}

fn not_blank(seen: &Value) {
    let s = &seen["screenshot"];
    assert!(s["inkFraction"].as_f64().unwrap() > 0.03, "screenshot looks blank: {s}");
    assert!(s["colors"].as_u64().unwrap() > 50, "screenshot has almost no colours: {s}");
}

/// A trend report of the leaky service's three captures (three formats): one row per site
/// in `trend --json`'s order, suspects first with the growing `chan send` on top and
/// highlighted, one chart point per snapshot, the filter hiding rows that do not match,
/// a click showing the example stack and creators.
#[test]
fn trend_report_in_a_browser() {
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("trend.html");
    let snaps = [
        testdata("go1.27/snapshot-1.pb.gz"),
        testdata("go1.27/snapshot-2.debug1.txt"),
        testdata("go1.27/snapshot-3.debug2.txt"),
    ];
    let mut args = vec!["trend", "--json", "--html", html.to_str().unwrap()];
    args.extend(snaps.iter().map(String::as_str));
    let json = goroscope(&args).json();
    let sites = json["sites"].as_array().unwrap();
    let shot = dir.path().join("trend.png");
    let seen = browse(html.to_str().unwrap(), Some("leakmutex"), Some(&shot));

    assert_eq!(seen["rows"].as_u64().unwrap() as usize, sites.len());
    assert_eq!(seen["points"], 3, "one chart point per snapshot");
    assert_eq!(seen["sparklines"].as_u64().unwrap() as usize, sites.len());
    let rows = seen["sites"].as_array().unwrap();
    for (row, site) in rows.iter().zip(sites) {
        let f = site["site"]["function"].as_str().unwrap();
        assert!(row["text"].as_str().unwrap().starts_with(if f.is_empty() { "?" } else { f }), "{row} vs {site}");
        assert_eq!(row["suspect"], site["suspect"]);
    }
    let suspects = rows.iter().take_while(|r| r["suspect"] == true).count();
    assert!(suspects >= 8, "the eight leaks are suspects");
    assert!(rows[suspects..].iter().all(|r| r["suspect"] == false), "suspects first");
    assert!(rows[0]["hot"] == true && rows[0]["text"].as_str().unwrap().starts_with("main.slowLookup.func1"));
    assert_eq!(rows.iter().filter(|r| r["hot"] == true).count(), 1, "only growing chan send is highlighted");

    let f = &seen["filter"];
    assert_eq!(f["visible"], 2, "leakMutex.func1 and .func2: {f}");
    assert_eq!(f["allMatch"], true);
    assert_eq!(f["counter"], format!("2 of {} rows", sites.len()));
    assert_eq!(seen["visibleAfterClear"].as_u64().unwrap() as usize, sites.len());

    let d = &seen["detail"];
    let text = d["text"].as_str().unwrap();
    assert!(d["frames"].as_u64().unwrap() >= 2, "{d}");
    assert!(text.contains("example stack") && text.contains("main.slowLookup.func1"), "{text}");
    assert!(text.contains("created by") && text.contains("main.slowLookup  example.com/leaky/main.go:135"), "{text}");
    assert_eq!(seen["detailAfterSecondClick"], 0);
    not_blank(&seen);
}

/// The show report: one row per group with its count bar, the wait histogram, a click
/// showing the stack and labels.
#[test]
fn show_report_in_a_browser() {
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("show.html");
    let input = testdata("go1.27/snapshot-3.debug2.txt");
    let json = goroscope(&["show", "--json", "--html", html.to_str().unwrap(), &input]).json();
    let groups = json["snapshots"][0]["groups"].as_array().unwrap();
    let shot = dir.path().join("show.png");
    let seen = browse(html.to_str().unwrap(), Some("chan_receive"), Some(&shot));
    assert_eq!(seen["rows"].as_u64().unwrap() as usize, groups.len());
    assert_eq!(seen["histogramBars"], 6, "a bar per wait bucket");
    let receiving = groups.iter().filter(|g| g["category"] == "chan_receive").count();
    assert_eq!(seen["filter"]["visible"].as_u64().unwrap() as usize, receiving);
    let text = seen["detail"]["text"].as_str().unwrap();
    assert!(text.contains("main.slowLookup.func1") && text.contains("goroutine ids"), "{text}");
    not_blank(&seen);

    // The labeled leak shows its labels on a click (checked in the page's data).
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("\"tenant\":\"acme\""), "labels in the report data");
}

/// A dump is untrusted: a function name and a label value carrying markup and script end
/// up as text — in the file (escaped) and in the browser (no script ran, no element made).
#[test]
fn hostile_dump_cannot_inject() {
    let dir = tempfile::tempdir().unwrap();
    let evil = "main.slowLookup.func1<script>window.pwned=1</script><img/src=x/onerror=window.pwned=2>";
    let text = std::fs::read_to_string(testdata("go1.27/snapshot-3.debug2.txt"))
        .unwrap()
        .replace("main.slowLookup.func1", evil)
        .replace("tenant: acme", "tenant: </script><script>window.pwned=3</script>");
    let input = dir.path().join("evil.txt");
    std::fs::write(&input, &text).unwrap();
    let before = dir.path().join("before.txt");
    std::fs::write(&before, text.replace(evil, "main.x")).unwrap();
    let show = dir.path().join("show.html");
    let trend = dir.path().join("trend.html");
    goroscope(&["show", "--json", "--html", show.to_str().unwrap(), input.to_str().unwrap()]).json();
    goroscope(&[
        "diff",
        "--json",
        "--html",
        trend.to_str().unwrap(),
        before.to_str().unwrap(),
        input.to_str().unwrap(),
    ])
    .json();
    for page in [&show, &trend] {
        let html = std::fs::read_to_string(page).unwrap();
        assert!(!html.contains("<script>window") && !html.contains("<img"), "unescaped markup in {}", page.display());
        assert!(html.contains("main.slowLookup.func1&lt;script&gt;window.pwned=1&lt;/script&gt;"));
        let seen = browse(page.to_str().unwrap(), None, None);
        assert_eq!(seen["pwned"], Value::Null, "a script from the dump ran");
        assert_eq!(seen["images"], 0);
        assert_eq!(seen["scripts"], 2, "only the report's data and code");
        assert_eq!(seen["dialogs"], 0);
        let shown = seen["sites"].as_array().unwrap().iter().any(|r| r["text"].as_str().unwrap().contains(evil));
        assert!(shown, "the hostile name is shown as text");
    }
}

/// Writes snapshot `n` of a 1,000-site service as debug=1: realistic stacks (a site
/// function, its handler, the server or a worker pool, the runtime), every tenth site
/// leaking. The leaking sites run in the pool: goroutines serving requests in flight are
/// the load itself and never suspects by their count (README, "requests in flight").
fn write_series_profile(path: &Path, n: usize, sites: usize) {
    let mut body = String::new();
    let mut total = 0;
    for s in 0..sites {
        let count = 1 + s % 7 + if s % 10 == 0 { n } else { 0 };
        total += count;
        let pc = 0x400000 + s * 0x40;
        let (outer_pc, outer) = if s % 10 == 0 {
            (0x6a2000, "github.com/acme/shop/internal/pool.(*Pool).run+0x5a0\t/src/shop/internal/pool/pool.go:88")
        } else {
            (0x6a1f00, "net/http.(*conn).serve+0x5a0\tnet/http/server.go:2092")
        };
        let _ = write!(
            body,
            "{count} @ 0x48a7ca {:#x} {:#x} {outer_pc:#x} 0x4915a1\n\
             #\t{:#x}\tgithub.com/acme/shop/svc{}.(*Store).wait{}+0x44\t/src/shop/svc{}/store.go:{}\n\
             #\t{:#x}\tgithub.com/acme/shop/svc{}.(*Handler).Serve+0x91\t/src/shop/svc{}/handler.go:{}\n\
             #\t{outer_pc:#x}\t{outer}\n\n",
            pc,
            pc + 0x100000,
            pc,
            s % 40,
            s,
            s % 40,
            100 + s,
            pc + 0x100000,
            s % 40,
            s % 40,
            200 + s % 13,
        );
    }
    std::fs::write(path, format!("goroutine profile: total {total}\n{body}")).unwrap();
}

/// 1,000 sites × 100 snapshots: the report stays under 1 MB and still works in the
/// browser (every row, a point per snapshot).
#[test]
fn report_of_1000_sites_by_100_snapshots_is_under_a_megabyte() {
    let dir = tempfile::tempdir().unwrap();
    let series = dir.path().join("series");
    std::fs::create_dir(&series).unwrap();
    for n in 0..100 {
        write_series_profile(&series.join(format!("snap-{n:03}.debug1.txt")), n, 1000);
    }
    let html = dir.path().join("big.html");
    let r = goroscope(&["trend", "--html", html.to_str().unwrap(), series.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let size = std::fs::metadata(&html).unwrap().len();
    eprintln!("1,000 sites x 100 snapshots: {size} bytes");
    assert!(size <= 1 << 20, "{size} bytes");
    let seen = browse(html.to_str().unwrap(), Some("svc7."), None);
    assert_eq!(seen["rows"], 1000);
    assert_eq!(seen["points"], 100);
    assert_eq!(seen["filter"]["visible"], 25, "svc7. names 25 of the sites");
    assert!(seen["sites"][0]["suspect"] == true);
}

/// `watch --listen` serves the live report at `/`: it fills in as polls arrive, and it
/// works in the browser.
#[test]
fn watch_serves_the_live_report() {
    // The service: each request gets the next of three real captures, then the last again.
    let snaps: Vec<Vec<u8>> =
        (1..=3).map(|n| std::fs::read(testdata(&format!("go1.27/snapshot-{n}.pb.gz"))).unwrap()).collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let server = FakeServer::start(move |conn, _| {
        let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst).min(2);
        support::respond(conn, "200 OK", "application/octet-stream", &snaps[i]);
    });
    let mut child = KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_goroscope"))
            .args([
                "watch",
                &server.url("/debug/pprof/goroutine"),
                "--every",
                "1s",
                "--listen",
                "127.0.0.1:0",
                "--json",
            ])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let url = support::after_marker(child.0.stderr.take().unwrap(), "a live report at ", Duration::from_secs(30))
        .expect("watch did not say where it serves");
    let client = reqwest::blocking::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let page = loop {
        let r = client.get(&url).send().unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        let page = r.text().unwrap();
        if page.matches("class=\"pt\"").count() >= 3 {
            break page;
        }
        assert!(Instant::now() < deadline, "the live report never showed 3 snapshots:\n{page}");
        std::thread::sleep(Duration::from_millis(300));
    };
    assert!(page.contains("<meta http-equiv=\"refresh\""));
    assert!(page.contains("main.slowLookup.func1"));
    let seen = browse(&url, None, None);
    assert!(seen["points"].as_u64().unwrap() >= 3);
    assert!(seen["sites"].as_array().unwrap().iter().any(|r| r["suspect"] == true));
    let metrics = client.get(format!("{url}metrics")).send().unwrap();
    assert_eq!(metrics.status(), 200, "/metrics still served");
    drop(child);
}
