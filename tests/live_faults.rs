//! Fetching from a service that misbehaves: a tiny scripted HTTP server of the test's own
//! (404, 500, HTML, a slow body, a body over the cap, a gzip bomb, a reset mid-body, 401,
//! a redirect elsewhere, nothing listening, TLS to plain HTTP). Each case checks the exit
//! code and the one line goroscope prints, and that no credential leaks into it.

mod support;

use std::io::Write;
use std::time::Duration;
use support::{goroscope, goroscope_in, respond, FakeServer};

/// A small but real debug=2 dump.
const DUMP: &[u8] = b"goroutine 1 [chan receive]:\nmain.main()\n\t/app/main.go:10 +0x1d\n\ngoroutine 7 [chan send, 3 minutes]:\nmain.leak()\n\t/app/main.go:20 +0x2a\ncreated by main.main in goroutine 1\n\t/app/main.go:9 +0x3b\n";

fn serve(status: &'static str, content_type: &'static str, body: &'static [u8]) -> FakeServer {
    FakeServer::start(move |c, _| respond(c, status, content_type, body))
}

#[test]
fn not_found_asks_whether_pprof_is_served() {
    let s = serve("404 Not Found", "text/plain; charset=utf-8", b"404 page not found\n");
    let r = goroscope(&["show", &s.url("")]);
    assert_eq!(r.code, 2);
    assert_eq!(
        r.error_line(),
        format!(
            "goroscope: {}: 404 Not Found: is net/http/pprof imported and served on this port? (its profiles live under /debug/pprof/)",
            s.url("/debug/pprof/goroutine")
        )
    );
    assert_eq!(s.requests()[0].head.lines().next().unwrap(), "GET /debug/pprof/goroutine HTTP/1.1");
}

#[test]
fn unknown_profile_names_the_profile() {
    let s = serve("404 Not Found", "text/plain; charset=utf-8", b"Unknown profile\n");
    let r = goroscope(&["show", "--profile", "goroutineleak", &s.url("")]);
    assert_eq!(r.code, 2);
    assert!(
        r.error_line().contains("404 Not Found: the service's Go runtime has no \"goroutineleak\" profile"),
        "{}",
        r.stderr
    );
}

#[test]
fn server_error_quotes_the_body() {
    let s = serve("500 Internal Server Error", "text/plain", b"\ncould not write profile: disk full\nmore\n");
    let r = goroscope(&["show", &s.url("/debug/pprof/goroutine")]);
    assert_eq!(r.code, 2);
    assert_eq!(
        r.error_line(),
        format!(
            "goroscope: {}: 500 Internal Server Error: \"could not write profile: disk full\"",
            s.url("/debug/pprof/goroutine")
        )
    );
}

#[test]
fn html_page_says_what_came_back() {
    let s = serve(
        "200 OK",
        "text/html; charset=utf-8",
        b"<!DOCTYPE html><html><head><title>Sign in</title></head><body>...</body></html>",
    );
    let r = goroscope(&["show", &s.url("/")]);
    assert_eq!(r.code, 2);
    let line = r.error_line();
    assert!(line.contains("got an HTML page (Content-Type text/html; charset=utf-8, 79 bytes) instead of a profile, starting \"<!DOCTYPE html><html><head><title>Sign in</title></head><bod\"…"), "{line}");
}

#[test]
fn json_says_what_came_back() {
    let s = serve("200 OK", "application/json", b"{\"status\":\"ok\"}");
    let r = goroscope(&["show", &s.url("/healthz")]);
    assert_eq!(r.code, 2);
    assert!(r.error_line().ends_with("got something that is not a goroutine profile (Content-Type application/json, 15 bytes), starting \"{\\\"status\\\":\\\"ok\\\"}\""), "{}", r.stderr);
}

#[test]
fn slow_body_stops_at_the_timeout() {
    let s = FakeServer::start(|c, _| {
        let _ =
            c.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\n\r\ngoroutine 1 [");
        std::thread::sleep(Duration::from_secs(8));
    });
    let r = goroscope(&["show", "--timeout", "1s", &s.url("/debug/pprof/goroutine?debug=2")]);
    assert_eq!(r.code, 2);
    assert!(r.elapsed < Duration::from_secs(5), "took {:?}", r.elapsed);
    assert_eq!(
        r.error_line(),
        format!(
            "goroscope: {}: timed out after 1s with 13 bytes of the body received (raise --timeout)",
            s.url("/debug/pprof/goroutine?debug=2")
        )
    );
}

#[test]
fn silent_server_stops_at_the_timeout() {
    let s = FakeServer::start(|_, _| std::thread::sleep(Duration::from_secs(8)));
    let r = goroscope(&["show", "--timeout", "500ms", &s.url("")]);
    assert_eq!(r.code, 2);
    assert!(r.elapsed < Duration::from_secs(4), "took {:?}", r.elapsed);
    assert!(
        r.error_line().ends_with("/debug/pprof/goroutine: no response within 500ms (raise --timeout)"),
        "{}",
        r.stderr
    );
}

#[test]
fn body_over_the_cap_is_refused() {
    // Announced: refused before reading.
    let s = serve("200 OK", "text/plain", &[b'x'; 5000]);
    let r = goroscope(&["show", "--max-input", "1000", &s.url("")]);
    assert_eq!(r.code, 2);
    assert_eq!(
        r.error_line(),
        format!(
            "goroscope: {}: the response body is over the limit of 1000 bytes; raise it with --max-input",
            s.url("/debug/pprof/goroutine")
        )
    );
    // Not announced (read until close): stopped while reading.
    let s = FakeServer::start(|c, _| {
        let _ = c.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n");
        for _ in 0..50 {
            let _ = c.write_all(&[b'y'; 1000]);
        }
    });
    let r = goroscope(&["show", "--max-input", "1000", &s.url("")]);
    assert_eq!(r.code, 2);
    assert!(
        r.error_line().ends_with("the response body is over the limit of 1000 bytes; raise it with --max-input"),
        "{}",
        r.stderr
    );
}

#[test]
fn gzip_bomb_stops_at_the_decompressed_cap() {
    // 64 gzip members of 1 MiB of zeros each: ~64 KiB on the wire, 64 MiB unpacked.
    let mut member = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    member.write_all(&vec![0u8; 1 << 20]).unwrap();
    let member = member.finish().unwrap();
    let bomb: &'static [u8] = member.repeat(64).leak();
    let s = serve("200 OK", "application/octet-stream", bomb);
    let r = goroscope(&["show", "--max-decompressed", "1048576", &s.url("")]);
    assert_eq!(r.code, 2);
    assert_eq!(
        r.error_line(),
        format!(
            "goroscope: {}: the decompressed data is over the limit of 1048576 bytes; raise it with --max-decompressed",
            s.url("/debug/pprof/goroutine")
        )
    );
}

#[test]
fn connection_reset_mid_body_says_how_far_it_got() {
    let s = FakeServer::start(|c, _| {
        let _ = c.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\n\r\n");
        let _ = c.write_all(&DUMP[..40]);
        let _ = c.flush();
        std::thread::sleep(Duration::from_millis(200));
        // Linger 0: closing sends RST instead of FIN.
        let _ = socket2::SockRef::from(&*c).set_linger(Some(Duration::ZERO));
        let _ = c.shutdown(std::net::Shutdown::Read);
    });
    let r = goroscope(&["show", &s.url("")]);
    assert_eq!(r.code, 2);
    let line = r.error_line();
    assert!(
        line.starts_with(&format!(
            "goroscope: {}: the connection broke after 40 bytes of the body: ",
            s.url("/debug/pprof/goroutine")
        )),
        "{line}"
    );
}

#[test]
fn nothing_listening_is_one_line() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let r = goroscope(&["show", &format!("http://127.0.0.1:{port}")]);
    assert_eq!(r.code, 2);
    assert_eq!(
        r.error_line(),
        format!("goroscope: http://127.0.0.1:{port}/debug/pprof/goroutine: connection refused (is the service running and listening on this port?)")
    );
}

#[test]
fn tls_to_a_plain_server_is_one_line() {
    // Answers at once, as Go's server answers a TLS hello on a plain port.
    let s = FakeServer::start_raw(|c| {
        respond(c, "400 Bad Request", "text/plain", b"Client sent an HTTP request to an HTTPS server.\n")
    });
    let r = goroscope(&["show", "--timeout", "5s", &format!("https://127.0.0.1:{}", s.port)]);
    assert_eq!(r.code, 2);
    let line = r.error_line();
    assert!(line.contains(": TLS failed: "), "{line}");
    assert!(line.ends_with("does the service speak plain http:// on this port?"), "{line}");
}

#[test]
fn unauthorized_says_which_auth_was_sent_never_its_value() {
    let s = FakeServer::start(|c, _| {
        let _ = c.write_all(b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer realm=\"pprof\"\r\nContent-Length: 13\r\n\r\nunauthorized\n");
    });
    let url = s.url("");
    let r = goroscope(&["show", &url]);
    assert_eq!(r.code, 2);
    assert!(
        r.error_line().ends_with("401 Unauthorized: no credentials were sent (use --bearer-token-file, --user, or -H); the server asks for Bearer auth"),
        "{}",
        r.stderr
    );

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("token"), "  tok-hunter2\n").unwrap();
    let r = goroscope_in(Some(dir.path()), &["show", "--bearer-token-file", "token", &url]);
    assert!(
        r.error_line().ends_with("401 Unauthorized: sent a bearer token (--bearer-token-file), not accepted; the server asks for Bearer auth"),
        "{}",
        r.stderr
    );
    assert_eq!(s.requests().last().unwrap().header("authorization").as_deref(), Some("Bearer tok-hunter2"));
    assert!(!r.stderr.contains("hunter2"), "{}", r.stderr);

    let with_pass = format!("http://alice:pw-hunter2@127.0.0.1:{}/debug/pprof/goroutine", s.port);
    let r = goroscope(&["show", "-H", "X-Api-Key: key-hunter2", &with_pass]);
    assert_eq!(
        r.error_line(),
        format!(
            "goroscope: {}: 401 Unauthorized: sent basic auth (user:pass@ in the URL) and header x-api-key (-H), not accepted; the server asks for Bearer auth",
            s.url("/debug/pprof/goroutine")
        )
    );
    let seen = s.requests().last().unwrap().clone();
    assert_eq!(seen.header("x-api-key").as_deref(), Some("key-hunter2"));
    assert!(seen.header("authorization").unwrap().starts_with("Basic "));
    assert!(!r.stderr.contains("hunter2") && !r.stdout.contains("hunter2"), "{}", r.stderr);
}

#[test]
fn credentials_stay_out_of_errors_and_output() {
    let s = serve("500 Internal Server Error", "text/plain", b"boom\n");
    let url = format!("http://bob:pw-hunter2@127.0.0.1:{}/debug/pprof/goroutine?token=tk-hunter2", s.port);
    let r = goroscope(&["show", &url]);
    assert_eq!(r.code, 2);
    assert_eq!(
        r.error_line(),
        format!(
            "goroscope: http://127.0.0.1:{}/debug/pprof/goroutine?token=REDACTED: 500 Internal Server Error: \"boom\"",
            s.port
        )
    );
    // A successful fetch names the snapshot without them too.
    let ok = serve("200 OK", "text/plain", DUMP);
    let url = format!("http://bob:pw-hunter2@127.0.0.1:{}/debug/pprof/goroutine?debug=2", ok.port);
    let r = goroscope(&["show", "--json", &url]);
    let doc = r.json();
    assert_eq!(doc["snapshots"][0]["source"], format!("http://127.0.0.1:{}/debug/pprof/goroutine?debug=2", ok.port));
    assert!(!r.stdout.contains("hunter2") && !r.stderr.contains("hunter2"));
}

#[test]
fn redirect_to_another_origin_is_not_followed() {
    let other = serve("200 OK", "text/plain", DUMP);
    let target = other.url("/steal");
    let s = FakeServer::start(move |c, _| {
        let _ = write!(c, "HTTP/1.1 302 Found\r\nLocation: {target}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    });
    let r = goroscope(&["show", "--user", "bob:pw-hunter2", &s.url("")]);
    assert_eq!(r.code, 2);
    assert!(
        r.error_line()
            .contains(&format!("302 Found: redirects to another origin ({}); not followed", other.url("/steal"))),
        "{}",
        r.stderr
    );
    assert!(other.requests().is_empty(), "the other origin was contacted");
    assert!(!r.stderr.contains("hunter2"));
}

#[test]
fn redirect_within_the_origin_is_followed() {
    let s = FakeServer::start(|c, seen| {
        if seen.head.starts_with("GET /debug/pprof/goroutine?debug=2 ") {
            // The fake server answers one request per connection, so it says so: a client
            // may otherwise send the redirected request on this connection as it closes.
            let _ = c.write_all(
                b"HTTP/1.1 301 Moved Permanently\r\nLocation: /pprof2/goroutine?debug=2\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        } else {
            respond(c, "200 OK", "text/plain", DUMP);
        }
    });
    let r = goroscope(&["show", "--json", "--debug", "2", &s.url("")]);
    assert_eq!(r.json()["snapshots"][0]["total"], 2);
}

#[test]
fn many_urls_are_fetched_together_and_failures_listed_one_per_line() {
    let slow = || {
        FakeServer::start(|c, _| {
            std::thread::sleep(Duration::from_millis(1500));
            respond(c, "200 OK", "text/plain", DUMP);
        })
    };
    let (a, b, c) = (slow(), slow(), slow());
    let r = goroscope(&["show", "--json", &a.url(""), &b.url(""), &c.url("")]);
    assert_eq!(r.json()["snapshots"].as_array().unwrap().len(), 3);
    assert!(r.elapsed < Duration::from_millis(4000), "three 1.5 s fetches took {:?}: not concurrent", r.elapsed);

    let missing = serve("404 Not Found", "text/plain", b"404 page not found\n");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let r = goroscope(&["show", &a.url(""), &missing.url(""), &format!("http://127.0.0.1:{port}")]);
    assert_eq!(r.code, 2);
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(lines.len(), 3, "{}", r.stderr);
    assert_eq!(lines[0], "goroscope: 2 URLs could not be fetched:");
    assert!(
        lines[1].starts_with(&format!("  {}: 404 Not Found", missing.url("/debug/pprof/goroutine"))),
        "{}",
        r.stderr
    );
    assert!(
        lines[2].starts_with(&format!("  http://127.0.0.1:{port}/debug/pprof/goroutine: connection refused")),
        "{}",
        r.stderr
    );
}

#[test]
fn fetch_saves_the_raw_response_and_never_clobbers() {
    // Bytes a parser would never produce: the file must hold exactly these.
    let body: &'static [u8] = b"goroutine 1 [running]:\r\nmain.main()\r\n\t/app/main.go:10 +0x1d\r\n\r\n\xff";
    let s = serve("200 OK", "text/plain", body);
    let dir = tempfile::tempdir().unwrap();
    let r = goroscope_in(Some(dir.path()), &["fetch", &s.url(""), "-o", "dump.txt"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, format!("{}: saved {} bytes to dump.txt\n", s.url("/debug/pprof/goroutine"), body.len()));
    assert_eq!(std::fs::read(dir.path().join("dump.txt")).unwrap(), body);

    std::fs::write(dir.path().join("dump.txt"), "keep me").unwrap();
    let r = goroscope_in(Some(dir.path()), &["fetch", &s.url(""), "-o", "dump.txt"]);
    assert_eq!(r.code, 2);
    assert_eq!(r.error_line(), "goroscope: dump.txt: already exists; pass --force to overwrite it");
    assert_eq!(std::fs::read(dir.path().join("dump.txt")).unwrap(), b"keep me");
    assert_eq!(s.requests().len(), 1, "refused before fetching");

    let r = goroscope_in(Some(dir.path()), &["fetch", "--force", &s.url(""), "-o", "dump.txt"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(std::fs::read(dir.path().join("dump.txt")).unwrap(), body);
}

#[test]
fn failed_fetch_leaves_nothing_behind() {
    let reset = FakeServer::start(|c, _| {
        let _ = c.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\n\r\n");
        let _ = c.write_all(&[b'g'; 3000]);
        std::thread::sleep(Duration::from_millis(200));
        let _ = socket2::SockRef::from(&*c).set_linger(Some(Duration::ZERO));
    });
    let html = serve("200 OK", "text/html", b"<html>login</html>");
    let dir = tempfile::tempdir().unwrap();
    for url in [reset.url(""), html.url("")] {
        let r = goroscope_in(Some(dir.path()), &["fetch", &url, "-o", "out.pb.gz"]);
        assert_eq!(r.code, 2, "{}", r.stderr);
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert!(left.is_empty(), "left behind: {left:?}");
    }
}

#[test]
fn bad_arguments_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("empty"), "\n").unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["show", "--bearer-token-file", "empty", "http://127.0.0.1:9"], "goroscope: --bearer-token-file empty: the file is empty"),
        (&["show", "--cacert", "missing.pem", "https://127.0.0.1:9"], "goroscope: --cacert missing.pem: cannot read it (No such file or directory (os error 2))"),
        (&["show", "-H", "Bearer hunter2", "http://127.0.0.1:9"], "goroscope: -H wants \"Name: value\"; one of them has no colon"),
        (&["show", "--profile", "goroutineleak", "http://127.0.0.1:9/debug/pprof/goroutine"], "goroscope: http://127.0.0.1:9/debug/pprof/goroutine: the URL names the goroutine profile but --profile asks for goroutineleak; drop one"),
        (&["show", "--debug", "2", "http://u:hunter2@127.0.0.1:9/debug/pprof/goroutine?debug=1"], "goroscope: http://127.0.0.1:9/debug/pprof/goroutine?debug=1: the URL asks for debug=1 but --debug says 2; drop one"),
    ];
    for (args, want) in cases {
        let r = goroscope_in(Some(dir.path()), args);
        assert_eq!(r.code, 2, "{args:?}");
        assert_eq!(r.error_line(), *want, "{args:?}");
    }
}

#[test]
fn no_progress_bar_off_a_terminal() {
    let s = FakeServer::start(|c, _| {
        let _ = write!(c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n", DUMP.len());
        let _ = c.write_all(&DUMP[..50]);
        std::thread::sleep(Duration::from_millis(1200));
        let _ = c.write_all(&DUMP[50..]);
    });
    let r = goroscope(&["show", "--debug", "2", &s.url("")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stderr, "", "progress drawn off a terminal");
}
