//! `goroscope export` and the growth exports of `diff`/`trend`, checked by the real
//! consumers: `go tool pprof` (from the Go toolchain the live tests use) reads every
//! profile, and its totals, tags and frames (file:line) must be what `show --json` says;
//! inferno's `inferno-flamegraph` renders the folded stacks; speedscope's own JSON schema
//! (from the npm package, `npm ci`) validates the speedscope file, with Python's
//! `jsonschema`. All inputs are real dumps from testdata/ (Go 1.21–1.27, every format).

mod support;

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::{goroscope, output_within, KillOnDrop};

const GO: &str = "1.27.3";

fn testdata(p: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata").join(p).to_string_lossy().into_owned()
}

/// Runs `go tool pprof ARGS`, failing the test unless it succeeds; its stdout.
fn pprof(args: &[&str]) -> String {
    let mut cmd = Command::new(support::go(GO));
    cmd.args(["tool", "pprof"]).args(args);
    let out = output_within(cmd, Duration::from_secs(300));
    assert!(out.status.success(), "go tool pprof {args:?}:\n{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// One sample as `go tool pprof -traces -lines` prints it.
#[derive(Debug)]
struct Trace {
    labels: BTreeMap<String, String>,
    value: i64,
    /// `function file:line`, leaf first.
    frames: Vec<String>,
}

fn traces(file: &Path) -> Vec<Trace> {
    let text = pprof(&["-traces", "-lines", file.to_str().unwrap()]);
    let mut out = Vec::new();
    for block in text.split("-----------+-------------------------------------------------------").skip(1) {
        let mut t = Trace { labels: BTreeMap::new(), value: 0, frames: Vec::new() };
        let mut in_stack = false;
        for line in block.lines().filter(|l| !l.trim().is_empty()) {
            if in_stack {
                t.frames.push(line.trim().to_string());
                continue;
            }
            let trimmed = line.trim_start();
            let num: String = trimmed.chars().take_while(|c| c.is_ascii_digit() || *c == '-').collect();
            if !num.is_empty() && trimmed[num.len()..].starts_with("   ") {
                t.value = num.parse().unwrap();
                t.frames.push(trimmed[num.len()..].trim().to_string());
                in_stack = true;
            } else if let Some((k, v)) = trimmed.split_once(":  ") {
                t.labels.insert(k.trim().to_string(), v.trim().to_string());
            } else {
                panic!("unexpected line in pprof -traces: {line:?}");
            }
        }
        // The listing ends with a separator: nothing follows the last one.
        if !t.frames.is_empty() {
            out.push(t);
        }
    }
    out
}

fn show_json(input: &str) -> Value {
    let s = goroscope(&["show", "--json", input]).json();
    assert_eq!(s["snapshots"].as_array().unwrap().len(), 1, "{input}: one snapshot expected");
    s["snapshots"][0].clone()
}

/// A group's state as exports name it: "unknown" where the format does not tell.
fn state_of(g: &Value) -> String {
    match g["state"].as_str().unwrap() {
        "" => "unknown".to_string(),
        s => s.to_string(),
    }
}

fn site_label(site: &Value) -> String {
    format!("{} {}:{}", site["function"].as_str().unwrap(), site["file"].as_str().unwrap(), site["line"])
}

fn export(args: &[&str]) -> support::Run {
    let mut all = vec!["export"];
    all.extend_from_slice(args);
    let r = goroscope(&all);
    assert_eq!(r.code, 0, "export {args:?}: {}", r.stderr);
    r
}

/// Sums `value` of `items` by the string `key` picks.
fn sums<T>(items: &[T], key: impl Fn(&T) -> Option<String>, value: impl Fn(&T) -> i64) -> BTreeMap<String, i64> {
    let mut m = BTreeMap::new();
    for i in items {
        if let Some(k) = key(i) {
            *m.entry(k).or_default() += value(i);
        }
    }
    m
}

/// Every format's export opens in `go tool pprof`, and what pprof reads back is what
/// `show --json` says: the total, goroutines per category, state, blocking site,
/// orphaned and leaked (tracebacks), per pprof label value, and each group's example
/// stack frame by frame (function file:line) under its category, state and site.
#[test]
fn pprof_export_matches_show_for_every_format() {
    let inputs = [
        "go1.27/snapshot-3.debug2.txt",
        "go1.27/sigquit.txt",
        "go1.27/panic.txt",
        "go1.27/snapshot-3.debug1.txt",
        "go1.27/snapshot-3.pb.gz",
        "go1.27/snapshot-3.goroutineleak.debug2.txt",
        "go1.27/snapshot-3.goroutineleak.pb.gz",
        "go1.24/log-with-dump.cri.txt",
        "go1.21/snapshot-3.debug2.txt",
    ];
    let dir = tempfile::tempdir().unwrap();
    for (n, input) in inputs.iter().enumerate() {
        let input = testdata(input);
        let out = dir.path().join(format!("{n}.pb.gz"));
        export(&["--pprof", out.to_str().unwrap(), &input]);
        let snap = show_json(&input);
        let ctx = |what: &str| format!("{input}: {what}");
        let top = pprof(&["-top", out.to_str().unwrap()]);
        assert!(top.contains(&format!("of {} total", snap["total"])), "{}: {top}", ctx("total"));
        // `-traces` leaves out samples without frames (a debug=0 profile may hold one: Go
        // could not walk that goroutine's stack), so the groups they make are set aside.
        let all = snap["groups"].as_array().unwrap();
        let groups: Vec<Value> =
            all.iter().filter(|g| !g["example_stack"].as_array().unwrap().is_empty()).cloned().collect();
        let groups = &groups;
        assert!(all.len() - groups.len() <= 1, "{}", ctx("groups without frames"));
        let tr = traces(&out);
        let total: i64 = tr.iter().map(|t| t.value).sum();
        assert_eq!(total, groups.iter().map(|g| g["count"].as_i64().unwrap()).sum::<i64>(), "{}", ctx("total"));
        let label = |k: &'static str| move |t: &Trace| t.labels.get(k).cloned();
        let count = |g: &Value| g["count"].as_i64().unwrap();
        assert_eq!(
            sums(&tr, label("category"), |t| t.value),
            sums(groups, |g| Some(g["category"].as_str().unwrap().to_string()), count),
            "{}",
            ctx("per category")
        );
        assert_eq!(
            sums(&tr, label("state"), |t| t.value),
            sums(groups, |g| Some(state_of(g)), count),
            "{}",
            ctx("per state")
        );
        assert_eq!(
            sums(&tr, label("blocking_site"), |t| t.value),
            sums(
                groups,
                |g| (!g["site"]["function"].as_str().unwrap().is_empty()).then(|| site_label(&g["site"])),
                count
            ),
            "{}",
            ctx("per blocking site")
        );
        let format = snap["format"].as_str().unwrap();
        if !["debug0", "debug1"].contains(&format) {
            for key in ["orphaned", "leaked"] {
                let traced = sums(&tr, label(key), |t| t.value).get("true").copied().unwrap_or(0);
                let shown: i64 = groups.iter().map(|g| g[key].as_i64().unwrap()).sum();
                assert_eq!(traced, shown, "{}", ctx(key));
            }
        }
        // The goroutines' own labels: per key=value, as many as show's label sets hold
        // (the groups here have fewer than five sets, so show lists them all).
        let mut shown_labels: BTreeMap<String, i64> = BTreeMap::new();
        for g in groups {
            assert!(g["distinct_label_sets"].as_u64().unwrap() <= 5);
            for l in g["labels"].as_array().unwrap() {
                for (k, v) in l["labels"].as_object().unwrap() {
                    *shown_labels.entry(format!("{k}={}", v.as_str().unwrap())).or_default() +=
                        l["count"].as_i64().unwrap();
                }
            }
        }
        let mut traced_labels: BTreeMap<String, i64> = BTreeMap::new();
        for t in &tr {
            for (k, v) in &t.labels {
                if !["state", "category", "blocking_site", "orphaned", "leaked", "created_by", "wait_minutes"]
                    .contains(&k.as_str())
                {
                    *traced_labels.entry(format!("{k}={v}")).or_default() += t.value;
                }
            }
        }
        assert_eq!(traced_labels, shown_labels, "{}", ctx("pprof labels"));
        if input.contains("go1.27/snapshot-3") && format != "debug0" && !input.contains("goroutineleak.pb") {
            assert!(shown_labels.contains_key("tenant=acme"), "{}", ctx("the labeled leak's labels"));
        }

        for g in groups {
            let stack: Vec<String> = g["example_stack"].as_array().unwrap().iter().map(site_label).collect();
            let found = tr.iter().any(|t| {
                t.frames == stack
                    && t.labels.get("category").map(String::as_str) == g["category"].as_str()
                    && t.labels.get("state") == Some(&state_of(g))
            });
            assert!(found, "{}: no pprof sample with stack {stack:#?} for group {g:#}", ctx("frames"));
            if let Some(c) = g["creators"].as_array().unwrap().first() {
                let want = site_label(c);
                assert!(
                    tr.iter().any(|t| t.frames == stack && t.labels.get("created_by") == Some(&want)),
                    "{}",
                    ctx("created_by")
                );
            }
        }
        // goroscope reads its own export back: the same total.
        let back = show_json(out.to_str().unwrap());
        assert_eq!(back["total"], snap["total"], "{}", ctx("read back"));
    }
}

/// The example: on a SIGQUIT dump, `-tagfocus category=^chan_send$` keeps exactly
/// the goroutines blocked sending (pprof matches tag values as unanchored regular
/// expressions, so `category=chan_send` also keeps `nil_chan_send`).
#[test]
fn tagfocus_category_on_a_sigquit_dump() {
    let input = testdata("go1.27/sigquit.txt");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("dump.pb.gz");
    export(&["--pprof", out.to_str().unwrap(), &input]);
    let snap = show_json(&input);
    let count = |cats: &[&str]| -> u64 {
        snap["groups"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|g| cats.contains(&g["category"].as_str().unwrap()))
            .map(|g| g["count"].as_u64().unwrap())
            .sum()
    };
    assert!(count(&["chan_send"]) >= 15, "the leaky service leaks at least 15 senders by round 3");
    assert!(count(&["nil_chan_send"]) > 0);
    for (focus, want) in [
        ("category=^chan_send$", count(&["chan_send"])),
        ("category=chan_send", count(&["chan_send", "nil_chan_send"])),
    ] {
        let top = pprof(&["-top", "-tagfocus", focus, out.to_str().unwrap()]);
        let shown = format!("Showing nodes accounting for {want}, ");
        assert!(top.contains(&shown) && top.contains(&format!("of {} total", snap["total"])), "{focus}: {top}");
        assert!(top.contains("main.slowLookup.func1"), "{top}");
    }
}

/// `wait_minutes` is a numeric label: `-tagfocus wait_minutes=10:` keeps the goroutines
/// that waited ten minutes or more. The runtime prints minutes only after a minute, so
/// this dump is a real one with minutes written into some headers (an edge case on top of
/// the real captures).
#[test]
fn wait_minutes_is_a_numeric_label() {
    let text = std::fs::read_to_string(testdata("go1.27/snapshot-3.debug2.txt")).unwrap();
    let mut long = 0;
    let edited: String = text
        .lines()
        .map(|l| {
            // `goroutine N [state (leaked)] {labels}:` gets `, M minutes` before its `]`.
            let with = |m: u32| {
                let end = l.find(']').unwrap();
                format!("{}, {m} minutes{}", &l[..end], &l[end..])
            };
            if l.starts_with("goroutine ") && l.contains("[chan send") {
                long += 1;
                with(42)
            } else if l.starts_with("goroutine ") && l.contains("[select") {
                with(3)
            } else {
                l.to_string()
            }
        })
        .map(|l| l + "\n")
        .collect();
    assert!(long >= 15);
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("waits.txt");
    std::fs::write(&input, edited).unwrap();
    let snap = show_json(input.to_str().unwrap());
    let waited = |min: u64| -> u64 {
        snap["groups"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|g| g["wait_minutes"][0].as_u64().is_some_and(|m| m >= min))
            .map(|g| g["count"].as_u64().unwrap())
            .sum()
    };
    assert_eq!(waited(10), long, "show --json reads the edited minutes");
    let out = dir.path().join("waits.pb.gz");
    export(&["--pprof", out.to_str().unwrap(), input.to_str().unwrap()]);
    let top = pprof(&["-top", "-tagfocus", "wait_minutes=10:", out.to_str().unwrap()]);
    assert!(top.contains(&format!("Showing nodes accounting for {long}, ")), "{top}");
    let top = pprof(&["-top", "-tagfocus", "wait_minutes=1:", out.to_str().unwrap()]);
    assert!(top.contains(&format!("Showing nodes accounting for {}, ", waited(1))), "{top}");
}

/// `go tool pprof -http` serves the export: its top view names the blocking sites.
#[test]
fn pprof_http_ui_opens_the_export() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("dump.pb.gz");
    export(&["--pprof", out.to_str().unwrap(), &testdata("go1.24/sigquit.txt")]);
    // pprof says the address it was given, so it gets a port that was free a moment ago.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    // The pprof binary itself, not `go tool pprof`: killing go would leave its child serving.
    let mut which = Command::new(support::go(GO));
    which.args(["tool", "-n", "pprof"]);
    let bin = String::from_utf8(output_within(which, Duration::from_secs(300)).stdout).unwrap();
    let mut child = KillOnDrop(
        Command::new(bin.trim())
            .args(["-no_browser", "-http", &format!("127.0.0.1:{port}")])
            .arg(&out)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let url = support::after_marker(child.0.stderr.take().unwrap(), "Serving web UI on ", Duration::from_secs(120))
        .expect("pprof -http did not say where it serves");
    let client = reqwest::blocking::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let page = loop {
        match client.get(format!("{url}/ui/top")).send() {
            Ok(r) if r.status().is_success() => break r.text().unwrap(),
            _ if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(200)),
            r => panic!("GET {url}/ui/top: {r:?}"),
        }
    };
    assert!(page.contains("main.slowLookup.func1"), "{page}");
}

/// Folded stacks: root first, the wait state as the leaf, counts summing to the total;
/// inferno-flamegraph renders them, and its SVG names every blocking site.
#[test]
fn folded_stacks_render_in_inferno() {
    for input in ["go1.27/sigquit.txt", "go1.24/snapshot-3.pb.gz"] {
        let input = testdata(input);
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("dump.folded");
        export(&["--folded", out.to_str().unwrap(), &input]);
        let snap = show_json(&input);
        let text = std::fs::read_to_string(&out).unwrap();
        let mut total = 0;
        for line in text.lines() {
            let (stack, n) = line.rsplit_once(' ').unwrap();
            total += n.parse::<u64>().unwrap();
            let frames: Vec<&str> = stack.split(';').collect();
            let leaf = frames.last().unwrap();
            assert!(leaf.starts_with('[') && leaf.ends_with(']'), "{line}");
            assert!(!frames[0].starts_with("runtime.gopark"), "root first: {line}");
        }
        assert_eq!(total, snap["total"].as_u64().unwrap());
        for g in snap["groups"].as_array().unwrap() {
            let state = format!("[{}]", g["state"].as_str().unwrap());
            assert!(text.contains(&state), "{state} missing from\n{text}");
        }
        let svg = dir.path().join("flame.svg");
        let run = Command::new("inferno-flamegraph")
            .arg(&out)
            .stdout(std::fs::File::create(&svg).unwrap())
            .stderr(Stdio::piped())
            .output()
            .expect("inferno-flamegraph (scripts/setup.sh installs it)");
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
        let svg = std::fs::read_to_string(&svg).unwrap();
        assert!(svg.starts_with("<?xml") && svg.contains("<svg"), "not an SVG");
        for g in snap["groups"].as_array().unwrap() {
            let f = g["site"]["function"].as_str().unwrap();
            if f.starts_with("main.") {
                assert!(svg.contains(f), "{f} not in the flame graph");
            }
        }
        assert!(svg.contains("[chan send]"), "the wait state is the leaf");
    }
}

/// The speedscope file validates against speedscope's own schema (from its npm package)
/// with a real validator, and its weights sum to the total.
#[test]
fn speedscope_file_validates_against_its_schema() {
    let schema =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("node_modules/speedscope/dist/release/file-format-schema.json");
    assert!(schema.is_file(), "{} missing: run scripts/setup.sh (npm ci)", schema.display());
    for input in ["go1.27/snapshot-3.debug2.txt", "go1.27/snapshot-3.debug1.txt"] {
        let input = testdata(input);
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("dump.speedscope.json");
        export(&["--speedscope", out.to_str().unwrap(), &input]);
        let check = "import json,sys,jsonschema\nschema=json.load(open(sys.argv[1]))\njsonschema.Draft7Validator.check_schema(schema)\njsonschema.validate(json.load(open(sys.argv[2])), schema)\nprint('valid')";
        let mut cmd = Command::new("python3");
        cmd.args(["-c", check]).arg(&schema).arg(&out);
        let r = output_within(cmd, Duration::from_secs(60));
        assert!(r.status.success(), "{input}: {}", String::from_utf8_lossy(&r.stderr));
        // The validator is not a rubber stamp: a file missing a required field fails.
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
        let mut broken = doc.clone();
        broken["profiles"][0].as_object_mut().unwrap().remove("weights");
        let bad = dir.path().join("bad.json");
        std::fs::write(&bad, broken.to_string()).unwrap();
        let mut cmd = Command::new("python3");
        cmd.args(["-c", check]).arg(&schema).arg(&bad);
        assert!(!output_within(cmd, Duration::from_secs(60)).status.success());

        let snap = show_json(&input);
        let p = &doc["profiles"][0];
        let weights: u64 = p["weights"].as_array().unwrap().iter().map(|w| w.as_u64().unwrap()).sum();
        assert_eq!(weights, snap["total"].as_u64().unwrap());
        let frames = doc["shared"]["frames"].as_array().unwrap();
        for s in p["samples"].as_array().unwrap() {
            let leaf = &frames[s.as_array().unwrap().last().unwrap().as_u64().unwrap() as usize];
            assert!(leaf["name"].as_str().unwrap().starts_with('['), "leaf is the wait state: {leaf}");
        }
    }
}

/// `trend --pprof` and `diff --pprof`: one sample per site, its growth (last minus first)
/// as the value, negative where it shrank, as `trend --json` and `diff --json` say; the
/// first and last counts as further sample types. Across formats too.
#[test]
fn trend_and_diff_export_the_growth() {
    let dir = tempfile::tempdir().unwrap();
    let snaps = [
        testdata("go1.27/snapshot-1.pb.gz"),
        testdata("go1.27/snapshot-2.debug1.txt"),
        testdata("go1.27/snapshot-3.debug2.txt"),
    ];
    let cases: [(&str, Vec<&str>); 3] = [
        ("trend", snaps.iter().map(String::as_str).collect()),
        ("diff", vec![&snaps[0], &snaps[2]]),
        ("diff", vec![&snaps[2], &snaps[0]]), // backwards: everything shrank
    ];
    for (n, (cmd, inputs)) in cases.iter().enumerate() {
        let out = dir.path().join(format!("{n}.pb.gz"));
        let folded = dir.path().join(format!("{n}.folded"));
        let mut args = vec![*cmd, "--json", "--pprof", out.to_str().unwrap(), "--folded", folded.to_str().unwrap()];
        args.extend(inputs.iter().copied());
        let run = goroscope(&args);
        let json = run.json();
        let sites = json["sites"].as_array().unwrap();
        let tr = traces(&out);
        // One sample per site; `-traces` leaves out a sample without frames (a site with
        // no frame and no example stack), as it is the only one that can lack them.
        let unnamed: Vec<i64> =
            sites.iter().filter(|s| s["site"]["function"] == "").map(|s| s["delta"].as_i64().unwrap()).collect();
        assert!(unnamed.len() <= 1);
        assert!(tr.len() == sites.len() || tr.len() + unnamed.len() == sites.len(), "one sample per site");
        let by_site = sums(&tr, |t| t.labels.get("blocking_site").cloned(), |t| t.value);
        for s in sites.iter().filter(|s| !s["site"]["function"].as_str().unwrap().is_empty()) {
            assert_eq!(by_site.get(&site_label(&s["site"])), Some(&s["delta"].as_i64().unwrap()), "{s:#}");
        }
        let delta: i64 = sites.iter().map(|s| s["delta"].as_i64().unwrap()).sum();
        let traced: i64 = tr.iter().map(|t| t.value).sum();
        let left_out = if tr.len() == sites.len() { 0 } else { unnamed[0] };
        assert_eq!(traced + left_out, delta);
        if n == 2 {
            assert!(delta < 0 && tr.iter().any(|t| t.value < 0), "shrinking shows as negative values");
        }
        let last = json["snapshots"].as_array().unwrap().last().unwrap()["total"].as_u64().unwrap();
        let top = pprof(&["-top", "-sample_index=last", out.to_str().unwrap()]);
        assert!(top.contains(&format!("of {last} total")), "{top}");
        // Folded: only what grew, by how much.
        let grown: i64 = sites.iter().map(|s| s["delta"].as_i64().unwrap().max(0)).sum();
        let text = std::fs::read_to_string(&folded).unwrap();
        let folded_sum: i64 = text.lines().map(|l| l.rsplit_once(' ').unwrap().1.parse::<i64>().unwrap()).sum();
        assert_eq!(folded_sum, grown);
        if n < 2 {
            // The forgotten sender grew by 10 (5 → 15), its wait state the leaf.
            assert!(
                text.lines().any(|l| l.contains("main.slowLookup.func1;") && l.ends_with(";[chan send] 10")),
                "{text}"
            );
        }
    }
}

/// Nothing a user saved is overwritten: an existing file stops the export with one line
/// and exit 2, untouched; `--force` replaces it. A log of several dumps asks which one.
#[test]
fn export_never_overwrites_and_asks_which_dump() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("keep.pb.gz");
    std::fs::write(&out, "precious").unwrap();
    let input = testdata("go1.27/snapshot-3.debug2.txt");
    let r = goroscope(&["export", "--pprof", out.to_str().unwrap(), &input]);
    assert_eq!(r.code, 2);
    assert!(r.error_line().contains("already exists; pass --force"), "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "precious");
    export(&["--force", "--pprof", out.to_str().unwrap(), &input]);
    assert_eq!(show_json(out.to_str().unwrap())["total"], show_json(&input)["total"]);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary file left");

    let r = goroscope(&["export", &input]);
    assert_eq!(r.code, 2);
    assert!(r.error_line().contains("--pprof FILE"), "{}", r.stderr);

    let log = dir.path().join("two.log");
    let one = std::fs::read_to_string(testdata("go1.24/log-with-dump.txt")).unwrap();
    std::fs::write(&log, format!("{one}{one}")).unwrap();
    let folded = dir.path().join("x.folded");
    let r = goroscope(&["export", "--folded", folded.to_str().unwrap(), log.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(r.error_line().contains("holds 2 dumps; choose one with --snapshot 1..2"), "{}", r.stderr);
    assert!(!folded.exists());
    export(&["--snapshot", "2", "--folded", folded.to_str().unwrap(), log.to_str().unwrap()]);
    assert!(folded.exists());
}

/// The growth exports and the report refuse, as `export` does, to replace a file.
#[test]
fn trend_outputs_never_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let html: PathBuf = dir.path().join("r.html");
    std::fs::write(&html, "mine").unwrap();
    let r = goroscope(&[
        "trend",
        "--html",
        html.to_str().unwrap(),
        &testdata("go1.24/snapshot-1.pb.gz"),
        &testdata("go1.24/snapshot-2.pb.gz"),
    ]);
    assert_eq!(r.code, 2);
    assert!(r.error_line().contains("already exists"), "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(&html).unwrap(), "mine");
}
