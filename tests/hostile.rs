//! A dump is untrusted input (issue 15). Each hostile shape — long names, many distinct
//! wait states, many labels, control bytes, deep stacks, huge ids, many tiny goroutines —
//! is built at two sizes and run through the binary (`show` as a table and as JSON):
//!
//! - **linear time:** the larger input (twice the smaller) takes at most 3× the smaller's
//!   CPU time (user + system of the child, from GNU time; table and JSON runs together,
//!   each the best of three, one 10 ms tick allowed per run), so a busy machine does not
//!   fail it.
//! - **bounded memory:** peak RSS beyond the input and the process's own base is at most
//!   twice the input, and the run succeeds under `prlimit --as` (4x the input and a fixed
//!   allowance for thread stacks and allocator arenas).
//! - **no terminal injection:** text output holds no control character but the newline;
//!   JSON keeps every byte.
//!
//! The numbers of one run are in docs/robustness.md; `cargo test --release --test hostile
//! -- --nocapture` prints them.

mod support;

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::{respond, FakeServer};

/// One run: exit status, output, CPU seconds and peak RSS of the child.
struct Measured {
    code: i32,
    stdout: Vec<u8>,
    stderr: String,
    cpu: f64,
    max_rss: u64,
}

/// Address space `prlimit --as` allows beyond 4x the input (the mapped input, twice it in
/// memory, and as much again in reservations never touched: vectors grown by doubling).
/// The fixed part is for thread stacks and glibc's per-thread arenas (64 MiB reservations
/// each). The cap is loose by nature (it counts reservations); the RSS bound is the tight
/// one. The 14x amplification of issue 15 fails it.
const AS_ALLOWANCE: u64 = 192 << 20;

/// Runs the built goroscope (under `prlimit --as=cap` when given), scrubbed environment,
/// killed after a minute. CPU time and peak RSS come from GNU time, whose own child is
/// goroscope: a child this test spawned directly would share the test's memory until it
/// execs (vfork), and its peak RSS would count the test's.
fn measure(args: &[&str], cap: Option<u64>, env: &[(&str, &str)]) -> Measured {
    let stats = tempfile::NamedTempFile::new().unwrap();
    let mut cmd = Command::new("prlimit");
    cmd.arg(format!("--as={}", cap.unwrap_or(u64::MAX >> 1))).arg("--");
    cmd.args(["/usr/bin/time", "-f", "%U %S %M", "-o"]).arg(stats.path()).arg(env!("CARGO_BIN_EXE_goroscope"));
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("NO_COLOR", "1")
        .envs(env.iter().copied());
    let out = support::output_within(cmd, Duration::from_secs(60));
    let stats = std::fs::read_to_string(stats.path()).unwrap();
    // The last line; GNU time puts "Command exited with non-zero status N" before it.
    let f: Vec<f64> = stats.lines().last().unwrap_or("").split(' ').filter_map(|w| w.parse().ok()).collect();
    assert_eq!(f.len(), 3, "GNU time's output: {stats:?}");
    Measured {
        code: out.status.code().unwrap_or(-1),
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        cpu: f[0] + f[1],
        max_rss: f[2] as u64 * 1024,
    }
}

/// A hostile shape: a name, the generator of its dump for a size `n`, the two sizes,
/// extra flags, and the goroutines a dump of size `n` holds.
struct Shape {
    name: &'static str,
    make: fn(usize) -> Vec<u8>,
    sizes: [usize; 2],
    flags: &'static [&'static str],
    goroutines: fn(usize) -> u64,
}

fn long_names(n: usize) -> Vec<u8> {
    // Distinct 64 KB function names, and one created the next.
    let mut s = Vec::new();
    for i in 0..n {
        let name = format!("main.f{i:08}{}", "x".repeat(65_536));
        write!(
            s,
            "goroutine {} [chan send]:\n{name}(0x1)\n\t/app/main.go:10 +0x1\ncreated by {name} in goroutine 1\n\t/app/main.go:5 +0x1\n\n",
            i + 2
        )
        .unwrap();
    }
    s
}

fn one_long_name(n: usize) -> Vec<u8> {
    // One function name of n MiB (`--max-line` raised): the table was quadratic in it.
    format!("goroutine 1 [chan send]:\nmain.{}(0x1)\n\t/app/main.go:10 +0x1\n\n", "x".repeat(n << 20)).into_bytes()
}

fn distinct_states(n: usize) -> Vec<u8> {
    // Issue 15's shape: every goroutine waits on its own 10 KB state.
    let mut s = Vec::new();
    for i in 0..n {
        let state = format!("s{i:08}").repeat(1111);
        write!(s, "goroutine {} [{state}]:\nmain.f()\n\t/app/main.go:10 +0x1\n\n", i + 1).unwrap();
    }
    s
}

fn many_labels(n: usize) -> Vec<u8> {
    // 100 labels on every goroutine (Go 1.27 headers), a request id unique to each.
    let mut s = Vec::new();
    for i in 0..n {
        let mut labels = vec![format!("request_id: \"{i}\"")];
        labels.extend((0..99).map(|j| format!("k{j}: \"v{}\"", (i + j) % 7)));
        write!(s, "goroutine {} [select] {{{}}}:\nmain.f()\n\t/app/main.go:10 +0x1\n\n", i + 1, labels.join(", "))
            .unwrap();
    }
    s
}

fn distinct_short_states(n: usize) -> Vec<u8> {
    // Every goroutine its own short state (`[s123]`): a group and a string per ~60 bytes.
    let mut s = Vec::new();
    for i in 0..n {
        write!(s, "goroutine {} [s{i}]:\nmain.f()\n\t/app/main.go:10 +0x1\n\n", i + 1).unwrap();
    }
    s
}

fn distinct_label_values(n: usize) -> Vec<u8> {
    // 100 labels on every goroutine, every value distinct: a string per ~17 bytes.
    let mut s = Vec::new();
    for i in 0..n {
        let labels: Vec<String> = (0..100).map(|j| format!("k{j}: \"v{}\"", i * 100 + j)).collect();
        write!(s, "goroutine {} [select] {{{}}}:\nmain.f()\n\t/app/main.go:10 +0x1\n\n", i + 1, labels.join(", "))
            .unwrap();
    }
    s
}

fn distinct_frames(n: usize) -> Vec<u8> {
    // Goroutines of 10,000 frames, every frame line in the dump distinct: a frame per
    // ~40 bytes.
    let mut s = Vec::new();
    for i in 0..n {
        writeln!(s, "goroutine {} [select]:", i + 1).unwrap();
        for j in 0..10_000 {
            let k = i * 10_000 + j;
            write!(s, "main.f{k}()\n\t/app/main.go:{k} +0x1\n").unwrap();
        }
        s.push(b'\n');
    }
    s
}

fn crafted_collisions(n: usize) -> Vec<u8> {
    // Function names of one length and one ending on one file line: the parser's frame
    // cache hashes a name's length and last 8 bytes with the line, so these share a hash
    // (each lookup scanned all before it: 47 s for 100,000 of them).
    let mut s = Vec::new();
    for i in 0..n {
        write!(s, "goroutine {} [select]:\nmain.f{i:08}_samesame()\n\t/app/main.go:10 +0x1\n\n", i + 1).unwrap();
    }
    s
}

/// The bytes that must never reach a terminal raw: OSC retitle, BEL, CSI, a C1 CSI (U+009B),
/// a bidi override, DEL.
const EVIL: &str = "\x1b]0;pwned\x07\x1b[31m\u{9b}2J\u{202e}\x7f";
/// The same without `]`, which would end a goroutine header's state early.
const EVIL_STATE: &str = "\x1b[2J\x07\x1b[31m\u{9b}2J\u{202e}\x7f";

fn control_bytes(n: usize) -> Vec<u8> {
    // One goroutine in ten carries them in its state, function, file and a label.
    let mut s = Vec::new();
    for i in 0..n {
        if i % 10 == 0 {
            write!(
                s,
                "goroutine {} [chan send{EVIL_STATE}] {{k{EVIL}: \"v{EVIL}\"}}:\nmain.evil{}{EVIL}(0x1)\n\t/app/ev{EVIL}il.go:10 +0x1\n\n",
                i + 1,
                i % 1000
            )
            .unwrap();
        } else {
            write!(
                s,
                "goroutine {} [chan receive]:\nmain.worker{}(0x1)\n\t/app/main.go:{} +0x1\ncreated by main.main in goroutine 1\n\t/app/main.go:5 +0x1\n\n",
                i + 1,
                i % 1000,
                i % 7
            )
            .unwrap();
        }
    }
    s
}

fn deep_stacks(n: usize) -> Vec<u8> {
    // Recursion thousands of frames deep, a different depth per goroutine.
    let mut s = Vec::new();
    for i in 0..n {
        writeln!(s, "goroutine {} [chan receive]:", i + 1).unwrap();
        for _ in 0..4000 + i {
            s.extend_from_slice(b"main.rec(0x1)\n\t/app/main.go:12 +0x1\n");
        }
        s.extend_from_slice(b"main.main()\n\t/app/main.go:5 +0x1\n\n");
    }
    s
}

fn huge_ids(n: usize) -> Vec<u8> {
    // 19-digit ids and parents, far apart: no dense id range to lean on.
    let mut s = Vec::new();
    for i in 0..n as u64 {
        write!(
            s,
            "goroutine {} [chan send]:\nmain.f()\n\t/app/main.go:10 +0x1\ncreated by main.g in goroutine {}\n\t/app/main.go:5 +0x1\n\n",
            9_000_000_000_000_000_000 + i * 7919,
            9_100_000_000_000_000_000 + i * 104_729
        )
        .unwrap();
    }
    s
}

fn tiny(n: usize) -> Vec<u8> {
    // Issue 15's other shape: frameless headers, ~31 bytes a goroutine.
    let mut s = Vec::new();
    for i in 0..n {
        write!(s, "goroutine {} [running]:\n\n", i + 10_000_000).unwrap();
    }
    s
}

fn same(n: usize) -> u64 {
    n as u64
}

const SHAPES: &[Shape] = &[
    Shape { name: "long names (64 KB, distinct)", make: long_names, sizes: [160, 320], flags: &[], goroutines: same },
    Shape {
        name: "one long name (MiB)",
        make: one_long_name,
        sizes: [16, 32],
        flags: &["--max-line", "40000000"],
        goroutines: |_| 1,
    },
    Shape {
        name: "distinct wait states (10 KB)",
        make: distinct_states,
        sizes: [2000, 4000],
        flags: &[],
        goroutines: same,
    },
    Shape { name: "many labels (100 each)", make: many_labels, sizes: [8000, 16000], flags: &[], goroutines: same },
    Shape { name: "control bytes", make: control_bytes, sizes: [200_000, 400_000], flags: &[], goroutines: same },
    Shape { name: "deep stacks (4,000+ frames)", make: deep_stacks, sizes: [300, 600], flags: &[], goroutines: same },
    Shape { name: "huge ids", make: huge_ids, sizes: [150_000, 300_000], flags: &[], goroutines: same },
    Shape { name: "many tiny goroutines", make: tiny, sizes: [800_000, 1_600_000], flags: &[], goroutines: same },
    Shape {
        name: "distinct short states",
        make: distinct_short_states,
        // Both sizes past the CPU caches (at 100k its tables fit them, and 200k ran 4x slower).
        sizes: [400_000, 800_000],
        flags: &[],
        goroutines: same,
    },
    Shape {
        name: "distinct label values (100 each)",
        make: distinct_label_values,
        // Instructions double exactly from 5k to 10k (callgrind: 2.04G, 4.07G), CPU time
        // 2.5x: a million distinct strings' tables leave the caches. Past them, 10k → 20k.
        sizes: [10_000, 20_000],
        flags: &[],
        goroutines: same,
    },
    Shape { name: "distinct frame lines", make: distinct_frames, sizes: [30, 60], flags: &[], goroutines: same },
    Shape {
        // Linear time is what this shape was for; its memory, a distinct blocking site (a
        // group) and a distinct frame per ~75-byte goroutine, is the tightest of the suite
        // (docs/robustness.md, "Distinct everything").
        name: "crafted frame-cache collisions",
        make: crafted_collisions,
        sizes: [25_000, 50_000],
        flags: &[],
        goroutines: same,
    },
];

/// What one size of a shape measured.
struct Point {
    bytes: u64,
    cpu: [f64; 2],
    beyond: [f64; 2],
}

/// The process's own peak RSS on a one-goroutine dump.
fn base_rss(dir: &Path) -> u64 {
    let p = dir.join("one.txt");
    std::fs::write(&p, "goroutine 1 [select]:\nmain.f()\n\t/a.go:1 +0x1\n\n").unwrap();
    (0..3).map(|_| measure(&["show", "--json", p.to_str().unwrap()], None, &[]).max_rss).max().unwrap()
}

/// True for a character a terminal may act on (what `layout::escape` escapes).
fn is_control(c: char) -> bool {
    matches!(c, '\0'..='\x1f' | '\x7f'..='\u{9f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') && c != '\n'
}

fn assert_no_control(what: &str, text: &str) {
    if let Some(c) = text.chars().find(|&c| is_control(c)) {
        panic!("{what}: raw control character {c:?} in the output:\n{}", &text[..text.len().min(2000)]);
    }
}

#[test]
#[cfg_attr(debug_assertions, ignore = "times an optimized build: run with cargo test --release")]
fn hostile_shapes_are_linear_in_time_and_bounded_in_memory() {
    // Missing tools fail the test (scripts/setup.sh installs them), never skip it.
    Command::new("prlimit").arg("--version").output().expect("prlimit (util-linux) must be installed");
    Command::new("/usr/bin/time").arg("--version").output().expect("GNU time must be installed (scripts/setup.sh)");
    let dir = tempfile::tempdir().unwrap();
    let base = base_rss(dir.path());
    eprintln!("base RSS {:.1} MB", base as f64 / 1e6);
    let mut failures = Vec::new();
    for shape in SHAPES {
        let files: Vec<(String, u64)> = shape.sizes.iter().map(|&n| write_shape(shape, n, dir.path())).collect();
        let grew = files[1].1 as f64 / files[0].1 as f64;
        assert!((1.8..2.2).contains(&grew), "{}: sizes should double, grew {grew:.2}x", shape.name);
        // A shared machine can slow a stretch of runs (this VM's CPU time for one input
        // moves by up to 2x from one minute to the next): the two sizes are measured in
        // turn within a batch, so that both meet the same machine, and a shape over 3x is
        // measured in up to four batches more, one under 3x being enough (a real quadratic
        // corner is over 3x in every batch).
        let mut best = f64::MAX;
        let mut beyond = [[0f64; 2]; 2];
        for batch in 0..5 {
            let points = measure_sizes(shape, &files, base);
            for (max, p) in beyond.iter_mut().zip(&points) {
                for (max, &b) in max.iter_mut().zip(&p.beyond) {
                    *max = max.max(b);
                }
            }
            // Table and JSON together, each the best of three: GNU time counts in 10 ms
            // ticks, so one tick per run is allowed on top of the 3x.
            let (ta, tb) = (points[0].cpu[0] + points[0].cpu[1], points[1].cpu[0] + points[1].cpu[1]);
            best = best.min((tb - 0.02) / ta);
            if tb <= 3.0 * ta + 0.02 {
                break;
            }
            eprintln!("{}: {ta:.3} s then {tb:.3} s CPU in batch {}: measured again", shape.name, batch + 1);
        }
        if best > 3.0 {
            failures.push(format!(
                "{}: {:.2}x the CPU time for {} bytes as for {} at best (over 3x)",
                shape.name, best, files[1].1, files[0].1
            ));
        }
        for (m, mode) in ["table", "json"].into_iter().enumerate() {
            for b in &beyond {
                if b[m] > 2.0 {
                    failures.push(format!(
                        "{} ({mode}): peak RSS {:.2}x the input beyond the input itself (limit 2x)",
                        shape.name, b[m]
                    ));
                }
            }
        }
        for (path, _) in files {
            std::fs::remove_file(path).unwrap();
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Writes `shape`'s dump of size `n` into `dir`: its path and bytes.
fn write_shape(shape: &Shape, n: usize, dir: &Path) -> (String, u64) {
    let path = dir.join(format!("{}-{n}.txt", shape.name.split(' ').next().unwrap()));
    let data = (shape.make)(n);
    std::fs::write(&path, &data).unwrap();
    (path.to_str().unwrap().to_string(), data.len() as u64)
}

/// Measures `shape`'s dumps (`files`, of the sizes in `shape.sizes`) through the binary,
/// table and JSON, each the best of three runs under an address-space cap, with the output
/// checked. The sizes take turns, run by run.
fn measure_sizes(shape: &Shape, files: &[(String, u64)], base: u64) -> Vec<Point> {
    let mut points: Vec<Point> =
        files.iter().map(|&(_, bytes)| Point { bytes, cpu: [f64::MAX; 2], beyond: [0.0; 2] }).collect();
    for _ in 0..3 {
        for (m, json) in [false, true].into_iter().enumerate() {
            for ((file, bytes), (point, &n)) in files.iter().zip(points.iter_mut().zip(&shape.sizes)) {
                let mut args = vec!["show"];
                if json {
                    args.push("--json");
                }
                args.extend_from_slice(shape.flags);
                args.push(file);
                let cap = bytes * 4 + AS_ALLOWANCE;
                let r = measure(&args, Some(cap), &[]);
                assert_eq!(r.code, 0, "{}: {args:?} under --as={cap} failed: {}", shape.name, r.stderr);
                check_output(shape, n, json, &r.stdout);
                point.cpu[m] = point.cpu[m].min(r.cpu);
                let beyond = r.max_rss.saturating_sub(bytes + base) as f64 / *bytes as f64;
                point.beyond[m] = point.beyond[m].max(beyond);
            }
        }
    }
    for p in &points {
        eprintln!(
            "{:32} {:>7.1} MB  table {:.3} s, {:.2}x input beyond  json {:.3} s, {:.2}x",
            shape.name,
            p.bytes as f64 / 1e6,
            p.cpu[0],
            p.beyond[0],
            p.cpu[1],
            p.beyond[1]
        );
    }
    points
}

/// The output of `show` (`json` or the table) on `shape`'s dump of size `n` counts every
/// goroutine; the table has no control character and no line over 100 columns.
fn check_output(shape: &Shape, n: usize, json: bool, stdout: &[u8]) {
    let total = (shape.goroutines)(n);
    if json {
        let doc: serde_json::Value = serde_json::from_slice(stdout).expect("JSON");
        assert_eq!(doc["snapshots"][0]["total"], total, "{}", shape.name);
        return;
    }
    let text = String::from_utf8_lossy(stdout);
    assert_no_control(shape.name, &text);
    let noun = if total == 1 { "goroutine" } else { "goroutines" };
    assert!(text.contains(&format!(", {total} {noun} in ")), "{}: {}", shape.name, &text[..300.min(text.len())]);
    for l in text.lines() {
        assert!(l.chars().count() <= 100, "{}: a line over 100 columns: {l}", shape.name);
    }
}

/// Every text output escapes control characters: show (table and `--stacks`), diff,
/// trend, error messages; JSON keeps them exactly.
#[test]
fn text_outputs_escape_control_characters_and_json_keeps_them() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.txt");
    let b = dir.path().join("b.txt");
    std::fs::write(&a, control_bytes(30)).unwrap();
    std::fs::write(&b, control_bytes(60)).unwrap();
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    for args in [
        vec!["show", a],
        vec!["show", "--stacks", a],
        vec!["show", "--group-by", &format!("label:k{EVIL}"), a],
        vec!["diff", "--all", a, b],
        vec!["trend", "--all", "--in-order", a, b, b],
    ] {
        let r = measure(&args, None, &[]);
        assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
        let text = String::from_utf8(r.stdout).unwrap();
        assert_no_control(&format!("{args:?}"), &text);
        assert!(text.contains("main.evil0\\x1b]0;pwned\\x07\\x1b[31m\\u{9b}2J\\u{202e}\\x7f"), "{args:?}:\n{text}");
    }
    let r = measure(&["show", "--json", a], None, &[]);
    let doc: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    let functions: Vec<&str> = doc["snapshots"][0]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["site"]["function"].as_str().unwrap())
        .collect();
    assert!(functions.contains(&format!("main.evil0{EVIL}").as_str()), "JSON is exact: {functions:?}");
    let labels = &doc["snapshots"][0]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["labels"] != serde_json::json!([]))
        .unwrap()["labels"];
    assert_eq!(labels[0]["labels"][format!("k{EVIL}")], format!("v{EVIL}"));

    // A file name with control bytes in an error message.
    let evil_name = dir.path().join(format!("no{EVIL}such.txt"));
    let r = measure(&["show", evil_name.to_str().unwrap()], None, &[]);
    assert_eq!(r.code, 2);
    assert_no_control("error", &r.stderr);
    assert!(r.stderr.contains("no\\x1b]0;pwned"), "{}", r.stderr);
}

/// `check`'s text, the webhook (JSON: exact) and Alertmanager's text fields (escaped) on
/// a service whose dump carries control bytes in the leaking function's name and file.
#[test]
fn check_and_alerts_escape_control_characters() {
    let evil_dump = |n: usize| {
        let mut s = String::from("goroutine 1 [IO wait]:\nmain.main()\n\t/srv/main.go:10 +0x1\n\n");
        for i in 0..n {
            s.push_str(&format!(
                "goroutine {} [chan send]:\nmain.leak{EVIL}()\n\t/srv/ev{EVIL}il.go:42 +0x2\ncreated by main.lookup in goroutine 1\n\t/srv/main.go:40 +0x3\n\n",
                i + 2
            ));
        }
        s
    };
    let step = Arc::new(AtomicUsize::new(0));
    let s2 = step.clone();
    let service = FakeServer::start(move |c, _| {
        respond(c, "200 OK", "text/plain", evil_dump(s2.load(Ordering::SeqCst) * 5).as_bytes())
    });
    // (request line, body) of every POST the sink got.
    type Posts = Arc<Mutex<Vec<(String, Vec<u8>)>>>;
    let bodies: Posts = Arc::default();
    let b2 = bodies.clone();
    let sink = FakeServer::start(move |c, seen| {
        let body = support::read_body(c, seen);
        b2.lock().unwrap().push((seen.head.lines().next().unwrap_or("").to_string(), body));
        respond(c, "200 OK", "application/json", b"{}");
    });
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("h.db");
    let (url, hook) = (service.url("/debug/pprof/goroutine?debug=2"), sink.url("/hook"));
    let args =
        ["check", &url, "--history", history.to_str().unwrap(), "--webhook", &hook, "--alertmanager", &sink.url("")];
    // Three polls: 0, 5, 10 leaking senders.
    let runs: Vec<Measured> = (0..3)
        .map(|i| {
            step.store(i, Ordering::SeqCst);
            measure(&args, None, &[])
        })
        .collect();
    let r = runs.last().unwrap();
    assert_eq!(r.code, 1, "an alert fires: {}", r.stderr);
    let text = String::from_utf8(r.stdout.clone()).unwrap();
    assert!(text.contains("ALERT") && text.contains("main.leak\\x1b]0;pwned"), "{text}");
    // Times for people (issue 13): when the alert started, and how long ago.
    let alert = text.lines().find(|l| l.starts_with("ALERT")).unwrap();
    assert!(alert.contains(" since 20") && alert.contains("Z (") && alert.contains(" ago): "), "{alert}");
    assert_no_control("check", &text);
    let bodies = bodies.lock().unwrap();
    let hook = bodies.iter().find(|(l, _)| l.contains("/hook")).expect("webhook called");
    let hook: serde_json::Value = serde_json::from_slice(&hook.1).unwrap();
    assert_eq!(hook["alerts"][0]["site"]["function"], format!("main.leak{EVIL}"), "the webhook's JSON is exact");
    let am = bodies.iter().rev().find(|(l, _)| l.contains("/api/v2/alerts")).expect("alertmanager called");
    let am: serde_json::Value = serde_json::from_slice(&am.1).unwrap();
    let alert = &am[0];
    for field in [&alert["annotations"]["summary"], &alert["annotations"]["description"], &alert["labels"]["site"]] {
        let s = field.as_str().unwrap();
        assert_no_control("alertmanager", s);
    }
    assert!(alert["annotations"]["summary"].as_str().unwrap().contains("main.leak\\x1b]0;pwned"), "{alert}");
}
