//! Fetching: goroutine profiles from a running Go service over HTTP(S) or a Unix socket,
//! as `net/http/pprof` serves them.
//!
//! This module owns the transport — turning a SOURCE URL into a request (profile, `debug`),
//! auth, TLS, timeouts, size caps, progress — and turns every failure into one line that
//! names the URL and the cause. It hands back raw bytes and never parses them: it only
//! sniffs whether what came back is a profile at all, so an HTML login page is reported
//! as such instead of as a parse error.
//!
//! Credentials never leave this module: the display name of a URL (the snapshot's
//! `source`) has its `user:pass@` removed and secret-looking query values masked, header
//! values are marked sensitive, errors name the kind of auth that was sent, never its
//! value, and [`FetchSettings`]' `Debug` hides them.

use crate::limits::Limits;
use crate::model::ProfileKind;
use crate::source::{Bytes, Input};
use crate::Error;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION, CONTENT_TYPE, LOCATION, WWW_AUTHENTICATE};
use reqwest::{StatusCode, Url};
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::time::Instant;

/// How long a fetch may take, connecting included, unless `--timeout` says otherwise. A
/// debug=2 dump of a service with a million goroutines takes tens of seconds to write.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// Fetches in flight at once; more URLs wait their turn.
const MAX_IN_FLIGHT: usize = 8;
/// A fetch shows a progress bar (on a terminal) once it has run this long…
const PROGRESS_AFTER: Duration = Duration::from_millis(700);
/// …or as soon as it announces a body at least this large.
const PROGRESS_SIZE: u64 = 16 << 20;
/// Bytes kept from the start of a body to tell what came back.
const HEAD: usize = 64 << 10;
/// Bytes of an error response's body read to quote it.
const ERROR_BODY: usize = 4 << 10;

/// How to fetch URLs. `Default` is: the goroutine profile, debug=0, no auth, the system's
/// and Mozilla's roots, [`DEFAULT_TIMEOUT`], TCP, no progress bars.
#[derive(Clone, Default)]
pub struct FetchSettings {
    /// The profile a base URL (`http://host:port`, `…/debug/pprof/`) is completed with.
    pub profile: Option<ProfileKind>,
    /// `?debug=N`; `None` leaves the URL's own (0 when it has none).
    pub debug: Option<u8>,
    /// Extra request headers, each `"Name: value"`.
    pub headers: Vec<String>,
    /// A file holding a bearer token (surrounding whitespace ignored).
    pub bearer_token_file: Option<PathBuf>,
    /// Basic auth as `USER:PASS` (or `USER` for an empty password).
    pub user: Option<String>,
    /// Extra trusted root certificates (PEM).
    pub cacert: Option<PathBuf>,
    /// Client certificate (PEM) for mTLS; it may hold the key too.
    pub cert: Option<PathBuf>,
    /// Client private key (PEM) for mTLS.
    pub key: Option<PathBuf>,
    /// Skip checking the server's certificate.
    pub insecure: bool,
    /// Connect and total timeout; `None` means [`DEFAULT_TIMEOUT`].
    pub timeout: Option<Duration>,
    /// Connect to this Unix socket instead of the URL's host and port.
    pub unix_socket: Option<PathBuf>,
    /// Draw progress bars on stderr for slow or large fetches (`main` sets this when
    /// stderr is a terminal).
    pub progress: bool,
}

impl fmt::Debug for FetchSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|h| h.split_once(':').map_or("?", |(k, _)| k.trim())).collect();
        f.debug_struct("FetchSettings")
            .field("profile", &self.profile)
            .field("debug", &self.debug)
            .field("headers", &names)
            .field("bearer_token_file", &self.bearer_token_file)
            .field("user", &self.user.as_ref().map(|_| "<redacted>"))
            .field("cacert", &self.cacert)
            .field("cert", &self.cert)
            .field("key", &self.key)
            .field("insecure", &self.insecure)
            .field("timeout", &self.timeout)
            .field("unix_socket", &self.unix_socket)
            .field("progress", &self.progress)
            .finish()
    }
}

impl FetchSettings {
    fn timeout(&self) -> Duration {
        self.timeout.unwrap_or(DEFAULT_TIMEOUT)
    }
}

/// What `fetch_to_file` saved.
#[derive(Debug, Clone)]
pub struct Saved {
    /// The URL as shown (no credentials).
    pub name: String,
    pub bytes: u64,
}

/// Fetches every URL, concurrently, and returns their bodies in the order given, named
/// by their display URL and stamped with the time the response arrived. With `check`,
/// a body that is plainly not a profile (HTML, JSON, …) is an error saying what came back.
/// When several fail, the error lists each on its own line.
pub fn fetch_all(
    specs: &[String],
    settings: &FetchSettings,
    limits: &Limits,
    check: bool,
) -> crate::Result<Vec<Input>> {
    if specs.is_empty() {
        return Ok(Vec::new());
    }
    let targets = specs.iter().map(|s| Target::new(s, settings)).collect::<crate::Result<Vec<_>>>()?;
    let ctx = Arc::new(Ctx::new(settings, limits, check)?);
    let runtime = runtime()?;
    let results = runtime.block_on(async {
        let gate = Arc::new(tokio::sync::Semaphore::new(MAX_IN_FLIGHT));
        let mut set = tokio::task::JoinSet::new();
        for (i, t) in targets.iter().cloned().enumerate() {
            let (ctx, gate) = (ctx.clone(), gate.clone());
            set.spawn(async move {
                let _permit = gate.acquire_owned().await;
                let mut sink = Sink::Memory(Vec::new());
                let r = fetch_one(&ctx, &t, &mut sink).await;
                (i, r.map(|done| (sink, done)))
            });
        }
        let mut results: Vec<Option<crate::Result<(Sink, Done)>>> = (0..targets.len()).map(|_| None).collect();
        while let Some(joined) = set.join_next().await {
            match joined {
                Ok((i, r)) => results[i] = Some(r),
                Err(e) => std::panic::resume_unwind(e.into_panic()),
            }
        }
        results
    });
    let mut inputs = Vec::with_capacity(targets.len());
    let mut errors = Vec::new();
    for (t, r) in targets.iter().zip(results) {
        match r.expect("every spawned fetch reports") {
            Ok((Sink::Memory(body), done)) => inputs.push(Input {
                name: t.name.clone(),
                bytes: Bytes::Owned(body),
                mtime_nanos: Some(done.time_nanos),
            }),
            Ok((Sink::File(..), _)) => unreachable!("fetch_all fetches into memory"),
            Err(e) => errors.push(e),
        }
    }
    match errors.len() {
        0 => {}
        1 => return Err(errors.pop().expect("one error")),
        _ => return Err(Error::FetchMany(errors)),
    }
    Ok(inputs)
}

/// A client kept for many fetches one after another (each `check`/`watch` poller holds
/// one): the HTTP client (its TLS roots read once, its connections kept alive) and the
/// runtime are made once, not per URL, which at a thousand targets is most of the cost.
pub struct Fetcher {
    ctx: Ctx,
    runtime: tokio::runtime::Runtime,
}

impl Fetcher {
    /// A fetcher for `settings`; with `check`, a body that is plainly not a profile is an
    /// error (as in [`fetch_all`]).
    pub fn new(settings: &FetchSettings, limits: &Limits, check: bool) -> crate::Result<Fetcher> {
        Ok(Fetcher { ctx: Ctx::new(settings, limits, check)?, runtime: runtime()? })
    }

    /// Fetches one URL into memory, named by its display URL and stamped with the time
    /// the response arrived.
    pub fn fetch(&self, spec: &str, settings: &FetchSettings) -> crate::Result<Input> {
        let t = Target::new(spec, settings)?;
        let mut sink = Sink::Memory(Vec::new());
        let done = self.runtime.block_on(fetch_one(&self.ctx, &t, &mut sink))?;
        let Sink::Memory(body) = sink else { unreachable!("the sink stays in memory") };
        Ok(Input { name: t.name, bytes: Bytes::Owned(body), mtime_nanos: Some(done.time_nanos) })
    }
}

/// Fetches one URL into `path`, byte for byte as the service sent it, through a temporary
/// file in the same folder renamed into place at the end: a failed fetch leaves nothing.
/// An existing `path` is an error unless `force`.
pub fn fetch_to_file(
    spec: &str,
    path: &Path,
    force: bool,
    settings: &FetchSettings,
    limits: &Limits,
    check: bool,
) -> crate::Result<Saved> {
    let shown = path.display().to_string();
    if path.is_dir() {
        return Err(Error::Usage(format!("{shown}: is a folder; name the file to write")));
    }
    if !force && path.symlink_metadata().is_ok() {
        return Err(Error::Usage(format!("{shown}: already exists; pass --force to overwrite it")));
    }
    let target = Target::new(spec, settings)?;
    let ctx = Ctx::new(settings, limits, check)?;
    let temp = TempFile::create(path)?;
    let file = std::fs::File::options().write(true).open(&temp.path).map_err(|e| Error::io(&shown, e))?;
    let mut sink = Sink::File(file, Vec::new());
    let done = runtime()?.block_on(fetch_one(&ctx, &target, &mut sink))?;
    let Sink::File(file, _) = sink else { unreachable!("the sink stays a file") };
    file.sync_all().map_err(|e| Error::io(&shown, e))?;
    drop(file);
    temp.persist(path, force)?;
    Ok(Saved { name: target.name, bytes: done.bytes })
}

/// Parses a `--timeout` value: `30s`, `500ms`, `2m`, `1.5s`, or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().map_err(|_| format!("{s:?} is not a duration; write e.g. 30s, 500ms or 2m"))?;
    let scale = match unit.trim() {
        "" | "s" => 1.0,
        "ms" => 1e-3,
        "m" => 60.0,
        "h" => 3600.0,
        other => return Err(format!("unknown unit {other:?} in {s:?}; use ms, s, m or h")),
    };
    let d = Duration::try_from_secs_f64(n * scale).map_err(|_| format!("{s:?} is out of range"))?;
    if d.is_zero() {
        return Err("the timeout must be more than zero".into());
    }
    Ok(d)
}

/// The one-line note for a command that analysed a debug=0 profile fetched from `specs`
/// (`None` when no URL among them asks for debug=0). Said once per run, after the output.
pub fn debug0_note(specs: &[String], settings: &FetchSettings) -> Option<&'static str> {
    let debug0 =
        specs.iter().filter(|s| crate::source::is_url(s)).any(|s| Target::new(s, settings).is_ok_and(|t| t.debug == 0));
    debug0.then_some(
        "note: debug=0 profiles hold no wait states, wait times or goroutine ids, so states are inferred from stacks; --debug 2 has them (see --help for its cost)",
    )
}

fn runtime() -> crate::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| Error::Fetch {
        source_name: "goroscope".into(),
        message: format!("cannot start the HTTP client ({e})"),
    })
}

/// Where a body goes: memory, or a file (keeping its first bytes to sniff).
enum Sink {
    Memory(Vec<u8>),
    File(std::fs::File, Vec<u8>),
}

impl Sink {
    fn write(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        match self {
            Sink::Memory(v) => v.extend_from_slice(chunk),
            Sink::File(f, head) => {
                f.write_all(chunk)?;
                let room = HEAD.saturating_sub(head.len());
                head.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
        }
        Ok(())
    }
    fn head(&self) -> &[u8] {
        match self {
            Sink::Memory(v) => &v[..v.len().min(HEAD)],
            Sink::File(_, head) => head,
        }
    }
}

/// A fetch that completed.
struct Done {
    bytes: u64,
    time_nanos: i64,
}

/// One URL, resolved: what to request, how to show it, and which auth it carries.
#[derive(Clone)]
struct Target {
    /// The request URL, without user info.
    url: Url,
    /// The URL as shown in output and errors.
    name: String,
    /// Basic auth taken from the URL's `user:pass@`.
    url_basic: Option<(String, Option<String>)>,
    profile: ProfileKind,
    debug: u8,
}

impl Target {
    fn new(spec: &str, s: &FetchSettings) -> crate::Result<Target> {
        let shown = redact_spec(spec);
        let mut url = Url::parse(spec).map_err(|e| Error::Usage(format!("{shown}: not a valid URL ({e})")))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
            return Err(Error::Usage(format!("{shown}: want http://HOST[:PORT][/PATH] or https://…")));
        }
        let url_basic = (!url.username().is_empty() || url.password().is_some())
            .then(|| (percent_decode(url.username()), url.password().map(percent_decode)));
        let _ = url.set_username("");
        let _ = url.set_password(None);
        let shown = display(&url);
        if url_basic.is_some() {
            let other = if s.user.is_some() {
                Some("--user")
            } else if s.bearer_token_file.is_some() {
                Some("--bearer-token-file")
            } else if s
                .headers
                .iter()
                .any(|h| h.split_once(':').is_some_and(|(k, _)| k.trim().eq_ignore_ascii_case("authorization")))
            {
                Some("-H Authorization")
            } else {
                None
            };
            if let Some(other) = other {
                return Err(Error::Usage(format!(
                    "{shown}: the URL carries user:pass@ and {other} gives credentials too; keep one"
                )));
            }
        }

        // Complete a base URL with the profile's path; check a full one against --profile.
        let path = url.path().trim_end_matches('/').to_string();
        let profile = if path.is_empty() || path.ends_with("/debug/pprof") {
            let p = s.profile.unwrap_or(ProfileKind::Goroutine);
            let base = if path.is_empty() { "/debug/pprof" } else { &path };
            url.set_path(&format!("{base}/{}", p.name()));
            p
        } else {
            let named = match path.rsplit('/').next() {
                Some("goroutine") => Some(ProfileKind::Goroutine),
                Some("goroutineleak") => Some(ProfileKind::Goroutineleak),
                _ => None,
            };
            match (named, s.profile) {
                (Some(n), Some(p)) if n != p => {
                    return Err(Error::Usage(format!(
                        "{shown}: the URL names the {} profile but --profile asks for {}; drop one",
                        n.name(),
                        p.name()
                    )))
                }
                (None, Some(_)) => {
                    return Err(Error::Usage(format!(
                        "{shown}: --profile completes a base URL (http://host:port or …/debug/pprof/), and this one names its own path; drop --profile or the path"
                    )))
                }
                (n, p) => n.or(p).unwrap_or(ProfileKind::Goroutine),
            }
        };

        let in_url = url.query_pairs().find(|(k, _)| k == "debug").map(|(_, v)| v.into_owned());
        let debug = match (in_url, s.debug) {
            (Some(v), Some(d)) if v.trim() != d.to_string() => {
                return Err(Error::Usage(format!("{shown}: the URL asks for debug={v} but --debug says {d}; drop one")))
            }
            // Go reads the parameter with Atoi and treats garbage as 0.
            (Some(v), _) => v.trim().parse().unwrap_or(0),
            (None, Some(d)) => {
                if d > 0 {
                    url.query_pairs_mut().append_pair("debug", &d.to_string());
                }
                d
            }
            (None, None) => 0,
        };
        Ok(Target { name: display(&url), url, url_basic, profile, debug })
    }
}

/// What every fetch of one run shares: the client, headers, auth, limits.
struct Ctx {
    client: reqwest::Client,
    headers: HeaderMap,
    /// Names of the `-H` headers (values never shown).
    header_names: Vec<String>,
    bearer: Option<HeaderValue>,
    user: Option<(String, Option<String>)>,
    timeout: Duration,
    unix_socket: Option<PathBuf>,
    max_input: u64,
    check: bool,
    progress: Option<MultiProgress>,
}

impl Ctx {
    fn new(s: &FetchSettings, limits: &Limits, check: bool) -> crate::Result<Ctx> {
        let usage = |m: String| Error::Usage(m);
        let mut headers = HeaderMap::new();
        let mut header_names = Vec::new();
        for h in &s.headers {
            // Never quote the argument: it may be a credential typed without its name.
            let (k, v) =
                h.split_once(':').ok_or_else(|| usage("-H wants \"Name: value\"; one of them has no colon".into()))?;
            let name = HeaderName::from_bytes(k.trim().as_bytes())
                .map_err(|_| usage(format!("-H: {:?} is not a valid header name", k.trim())))?;
            let mut value = HeaderValue::from_str(v.trim())
                .map_err(|_| usage(format!("-H {name}: the value holds characters a header cannot carry")))?;
            value.set_sensitive(true);
            header_names.push(name.to_string());
            headers.append(name, value);
        }
        let bearer = match &s.bearer_token_file {
            None => None,
            Some(p) => {
                let shown = p.display();
                let text = std::fs::read_to_string(p)
                    .map_err(|e| usage(format!("--bearer-token-file {shown}: cannot read it ({e})")))?;
                let token = text.trim();
                if token.is_empty() {
                    return Err(usage(format!("--bearer-token-file {shown}: the file is empty")));
                }
                let mut v = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
                    usage(format!("--bearer-token-file {shown}: the token holds characters a header cannot carry"))
                })?;
                v.set_sensitive(true);
                Some(v)
            }
        };
        let user = s.user.as_deref().map(|u| match u.split_once(':') {
            Some((name, pass)) => (name.to_string(), Some(pass.to_string())),
            None => (u.to_string(), None),
        });
        let basic_too = user.is_some();
        if bearer.is_some() && basic_too {
            return Err(usage("--bearer-token-file and --user both give credentials; keep one".into()));
        }
        if headers.contains_key(AUTHORIZATION) && (bearer.is_some() || basic_too) {
            return Err(usage(
                "-H Authorization and --bearer-token-file/--user both give credentials; keep one".into(),
            ));
        }

        let timeout = s.timeout();
        let mut b = reqwest::Client::builder()
            .connect_timeout(timeout)
            .redirect(same_origin_redirects())
            .user_agent(concat!("goroscope/", env!("CARGO_PKG_VERSION")));
        if let Some(p) = &s.cacert {
            let shown = p.display();
            let pem = std::fs::read(p).map_err(|e| usage(format!("--cacert {shown}: cannot read it ({e})")))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|_| usage(format!("--cacert {shown}: not a PEM certificate bundle")))?;
            if certs.is_empty() {
                return Err(usage(format!("--cacert {shown}: no PEM certificate in it")));
            }
            for c in certs {
                b = b.add_root_certificate(c);
            }
        }
        match (&s.cert, &s.key) {
            (None, Some(_)) => return Err(usage("--key needs --cert (the client certificate it belongs to)".into())),
            (Some(cert), key) => {
                let mut pem = std::fs::read(cert)
                    .map_err(|e| usage(format!("--cert {}: cannot read it ({e})", cert.display())))?;
                if let Some(key) = key {
                    let k = std::fs::read(key)
                        .map_err(|e| usage(format!("--key {}: cannot read it ({e})", key.display())))?;
                    pem.push(b'\n');
                    pem.extend_from_slice(&k);
                }
                let id = reqwest::Identity::from_pem(&pem).map_err(|_| {
                    usage(format!(
                        "--cert {}: want a PEM certificate and its private key (PKCS#8, PKCS#1 or SEC1), the key in --key or in the same file",
                        cert.display()
                    ))
                })?;
                b = b.identity(id);
            }
            (None, None) => {}
        }
        if s.insecure {
            eprintln!("goroscope: WARNING: --insecure: the server's TLS certificate is NOT checked; anyone on the path can read what is sent (credentials included) and forge the profile");
            b = b.danger_accept_invalid_certs(true);
        }
        #[cfg(unix)]
        if let Some(p) = &s.unix_socket {
            b = b.unix_socket(p.as_path());
        }
        #[cfg(not(unix))]
        if s.unix_socket.is_some() {
            return Err(usage("--unix-socket works on Unix systems only".into()));
        }
        let client = b.build().map_err(|e| usage(format!("cannot set up the HTTP client: {}", causes(&e))))?;
        let progress = s.progress.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        Ok(Ctx {
            client,
            headers,
            header_names,
            bearer,
            user,
            timeout,
            unix_socket: s.unix_socket.clone(),
            max_input: limits.max_input,
            check,
            progress,
        })
    }

    /// Which credentials a request for `t` carries, by kind, for a 401/403 message.
    fn sent(&self, t: &Target) -> String {
        let mut parts = Vec::new();
        if self.bearer.is_some() {
            parts.push("a bearer token (--bearer-token-file)".to_string());
        }
        if t.url_basic.is_some() {
            parts.push("basic auth (user:pass@ in the URL)".to_string());
        }
        if self.user.is_some() {
            parts.push("basic auth (--user)".to_string());
        }
        if !self.header_names.is_empty() {
            parts.push(format!("header {} (-H)", self.header_names.join(", ")));
        }
        if parts.is_empty() {
            "no credentials were sent (use --bearer-token-file, --user, or -H)".into()
        } else {
            format!("sent {}", parts.join(" and "))
        }
    }
}

/// Follows redirects only within the origin named (as Go's `/debug/pprof` → `/debug/pprof/`
/// does), so credentials and `-H` headers never reach another host.
fn same_origin_redirects() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let first = &attempt.previous()[0];
        let same = attempt.url().scheme() == first.scheme()
            && attempt.url().host_str() == first.host_str()
            && attempt.url().port_or_known_default() == first.port_or_known_default();
        if attempt.previous().len() > 5 {
            attempt.error("more than 5 redirects")
        } else if same {
            attempt.follow()
        } else {
            attempt.stop()
        }
    })
}

async fn fetch_one(ctx: &Ctx, t: &Target, sink: &mut Sink) -> crate::Result<Done> {
    let fail = |message: String| Error::Fetch { source_name: t.name.clone(), message };
    let started = Instant::now();
    let deadline = started + ctx.timeout;
    let mut req = ctx.client.get(t.url.clone()).headers(ctx.headers.clone());
    if let Some(b) = &ctx.bearer {
        req = req.header(AUTHORIZATION, b.clone());
    }
    if let Some((user, pass)) = t.url_basic.as_ref().or(ctx.user.as_ref()) {
        req = req.basic_auth(user, pass.as_ref());
    }
    let mut resp = match tokio::time::timeout_at(deadline, req.send()).await {
        Err(_) => return Err(fail(format!("no response within {} (raise --timeout)", human(ctx.timeout)))),
        Ok(Err(e)) => return Err(fail(send_error(ctx, &e))),
        Ok(Ok(r)) => r,
    };
    let time_nanos = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as i64);
    let status = resp.status();
    let content_type = resp.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    if !status.is_success() {
        let location = resp.headers().get(LOCATION).and_then(|v| v.to_str().ok()).map(str::to_string);
        let asks = resp
            .headers()
            .get(WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(' ').next().unwrap_or("").to_string());
        let mut body = Vec::new();
        while body.len() < ERROR_BODY {
            match tokio::time::timeout_at(deadline, resp.chunk()).await {
                Ok(Ok(Some(c))) => body.extend_from_slice(&c),
                _ => break,
            }
        }
        return Err(fail(status_message(ctx, t, status, &body, location.as_deref(), asks.as_deref())));
    }
    if let Some(len) = resp.content_length() {
        if len > ctx.max_input {
            return Err(too_large(t, ctx.max_input));
        }
    }
    let bar = Bar::new(ctx, t, resp.content_length());
    let mut bytes: u64 = 0;
    loop {
        bar.tick(started, bytes);
        let chunk = match tokio::time::timeout_at(deadline, resp.chunk()).await {
            Err(_) => {
                return Err(fail(format!(
                    "timed out after {} with {bytes} bytes of the body received (raise --timeout)",
                    human(ctx.timeout)
                )))
            }
            Ok(Err(e)) => {
                return Err(fail(format!("the connection broke after {bytes} bytes of the body: {}", causes(&e))))
            }
            Ok(Ok(None)) => break,
            Ok(Ok(Some(c))) => c,
        };
        bytes += chunk.len() as u64;
        if bytes > ctx.max_input {
            return Err(too_large(t, ctx.max_input));
        }
        sink.write(&chunk).map_err(|e| fail(format!("cannot write what came back: {e}")))?;
    }
    bar.finish();
    if ctx.check {
        check_profile(t, &content_type, sink.head(), bytes)?;
    }
    Ok(Done { bytes, time_nanos })
}

fn too_large(t: &Target, limit: u64) -> Error {
    Error::TooLarge { source_name: t.name.clone(), what: "the response body", limit, flag: "--max-input" }
}

/// Says what came back when it is plainly not a goroutine profile or dump.
fn check_profile(t: &Target, content_type: &str, head: &[u8], bytes: u64) -> crate::Result<()> {
    let ct =
        if content_type.is_empty() { "no Content-Type".to_string() } else { format!("Content-Type {content_type}") };
    let fail = |message: String| Err(Error::Fetch { source_name: t.name.clone(), message });
    if bytes == 0 {
        return fail(format!("the service sent an empty body ({ct}), not a {} profile", t.profile.name()));
    }
    let trimmed = &head[head.iter().take_while(|b| b.is_ascii_whitespace()).count()..];
    let html = content_type.starts_with("text/html") || trimmed.first() == Some(&b'<');
    if html {
        return fail(format!(
            "got an HTML page ({ct}, {bytes} bytes) instead of a profile, starting {}; is a login page or proxy in the way, or is this another service's port?",
            quote(trimmed)
        ));
    }
    if head.starts_with(&[0x1f, 0x8b]) {
        return Ok(()); // gzip: a debug=0 profile; the parser checks inside.
    }
    if crate::format::detect(&t.name, head).is_err() {
        return fail(format!(
            "got something that is not a goroutine profile ({ct}, {bytes} bytes), starting {}",
            quote(trimmed)
        ));
    }
    Ok(())
}

fn status_message(
    ctx: &Ctx,
    t: &Target,
    status: StatusCode,
    body: &[u8],
    location: Option<&str>,
    asks: Option<&str>,
) -> String {
    let code = format!("{} {}", status.as_u16(), status.canonical_reason().unwrap_or(""));
    let code = code.trim_end();
    match status.as_u16() {
        404 if String::from_utf8_lossy(body).contains("Unknown profile") => format!(
            "{code}: the service's Go runtime has no {:?} profile (goroutineleak needs a Go recent enough to have it); try --profile goroutine",
            t.profile.name()
        ),
        404 => format!("{code}: is net/http/pprof imported and served on this port? (its profiles live under /debug/pprof/)"),
        401 | 403 => {
            let asks = asks.filter(|a| !a.is_empty()).map(|a| format!("; the server asks for {a} auth")).unwrap_or_default();
            let verdict = if status.as_u16() == 401 { "not accepted" } else { "refused access" };
            format!("{code}: {}{}", ctx.sent(t), if ctx.sent(t).starts_with("sent") { format!(", {verdict}{asks}") } else { asks })
        }
        300..=399 => {
            let to = location.map(|l| t.url.join(l).map(|u| display(&u)).unwrap_or_else(|_| redact_spec(l))).unwrap_or_else(|| "nowhere".into());
            format!("{code}: redirects to another origin ({to}); not followed, so credentials stay with the one you named; fetch that URL directly if you trust it")
        }
        _ => {
            let first = String::from_utf8_lossy(body);
            let first = first.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("");
            if first.is_empty() {
                format!("{code} (empty body)")
            } else {
                format!("{code}: {}", quote(first.as_bytes()))
            }
        }
    }
}

/// One line saying why a request got no response: refused, timed out, TLS, DNS, …
fn send_error(ctx: &Ctx, e: &reqwest::Error) -> String {
    let chain = causes(e);
    let lower = chain.to_ascii_lowercase();
    let io_kind = io_kind(e);
    if e.is_timeout() {
        return format!("no connection within {} (raise --timeout)", human(ctx.timeout));
    }
    if let Some(sock) = &ctx.unix_socket {
        return match io_kind {
            Some(std::io::ErrorKind::NotFound) => {
                format!("no Unix socket at {} (is the service listening there?)", sock.display())
            }
            Some(std::io::ErrorKind::ConnectionRefused) => {
                format!("connection refused on the Unix socket {} (is the service still running?)", sock.display())
            }
            _ => format!("cannot connect through the Unix socket {}: {chain}", sock.display()),
        };
    }
    if io_kind == Some(std::io::ErrorKind::ConnectionRefused) {
        return "connection refused (is the service running and listening on this port?)".into();
    }
    if lower.contains("dns error") || lower.contains("failed to lookup address") {
        return format!("cannot resolve the host name: {chain}");
    }
    if lower.contains("certificate")
        || lower.contains("tls")
        || lower.contains("handshake")
        || lower.contains("invalid peer")
        || lower.contains("corrupt message")
    {
        let hint = if lower.contains("unknownissuer") || lower.contains("unknown issuer") {
            "; pass the CA that signed the service's certificate with --cacert FILE (or skip the check with --insecure)"
        } else if lower.contains("certificaterequired") || lower.contains("certificate required") {
            "; the service wants a client certificate: pass --cert FILE and --key FILE"
        } else if lower.contains("corrupt message") || lower.contains("invalidcontenttype") {
            "; does the service speak plain http:// on this port?"
        } else {
            ""
        };
        return format!("TLS failed: {chain}{hint}");
    }
    format!("cannot fetch: {chain}")
}

/// The error chain as one line, without reqwest's URL-bearing top level and without
/// repeats ("client error (Connect): tcp connect error: Connection refused").
fn causes(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        // reqwest's own Display holds the URL, so it is skipped; hyper's "client error
        // (Connect)" says nothing the causes under it do not.
        let msg = if err.is::<reqwest::Error>() { String::new() } else { err.to_string() };
        let msg = if msg.starts_with("client error (") { String::new() } else { msg };
        if !msg.is_empty() && !parts.iter().any(|p| p.contains(&msg)) {
            parts.push(msg);
        }
        cur = err.source();
    }
    if parts.is_empty() {
        "unknown error".into()
    } else {
        parts.join(": ")
    }
}

fn io_kind(e: &(dyn std::error::Error + 'static)) -> Option<std::io::ErrorKind> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    let mut kind = None;
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            kind = Some(io.kind());
        }
        cur = err.source();
    }
    kind
}

/// A progress bar that appears only when the fetch turns out slow or large.
struct Bar<'a> {
    ctx: &'a Ctx,
    name: &'a str,
    len: Option<u64>,
    bar: std::cell::OnceCell<ProgressBar>,
}

impl<'a> Bar<'a> {
    fn new(ctx: &'a Ctx, t: &'a Target, len: Option<u64>) -> Self {
        Bar { ctx, name: &t.name, len, bar: std::cell::OnceCell::new() }
    }
    fn tick(&self, started: Instant, bytes: u64) {
        let Some(multi) = &self.ctx.progress else {
            return;
        };
        let due = started.elapsed() >= PROGRESS_AFTER || self.len.is_some_and(|l| l >= PROGRESS_SIZE);
        if !due {
            return;
        }
        let bar = self.bar.get_or_init(|| {
            let (bar, template) = match self.len {
                Some(l) => (ProgressBar::new(l), "{spinner} {prefix} {bytes}/{total_bytes} {bytes_per_sec} {wide_bar}"),
                None => (ProgressBar::new_spinner(), "{spinner} {prefix} {bytes} {bytes_per_sec}"),
            };
            let style = ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar());
            let bar = multi.add(bar.with_style(style).with_prefix(self.name.to_string()));
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        bar.set_position(bytes);
    }
    fn finish(&self) {
        if let Some(bar) = self.bar.get() {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Bar<'_> {
    fn drop(&mut self) {
        self.finish();
    }
}

/// A temporary file beside the destination, removed unless persisted (also how
/// `export` and `--html` write their files).
pub(crate) struct TempFile {
    path: PathBuf,
    done: bool,
}

impl TempFile {
    pub(crate) fn create(dest: &Path) -> crate::Result<TempFile> {
        static N: AtomicU64 = AtomicU64::new(0);
        let dir = dest.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let base = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "profile".into());
        let shown = dest.display().to_string();
        for _ in 0..100 {
            let n = N.fetch_add(1, Ordering::Relaxed);
            let path = dir.join(format!(".{base}.{}.{n}.part", std::process::id()));
            match std::fs::File::options().write(true).create_new(true).open(&path) {
                Ok(_) => return Ok(TempFile { path, done: false }),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(Error::io(&shown, e)),
            }
        }
        Err(Error::Usage(format!("{shown}: cannot create a temporary file beside it")))
    }

    /// Moves the file to `dest`: a rename with `force`; without it a hard link, which fails
    /// rather than replace a file that appeared meanwhile.
    pub(crate) fn persist(mut self, dest: &Path, force: bool) -> crate::Result<()> {
        let shown = dest.display().to_string();
        if force {
            std::fs::rename(&self.path, dest).map_err(|e| Error::io(&shown, e))?;
        } else {
            match std::fs::hard_link(&self.path, dest) {
                Ok(()) => {
                    let _ = std::fs::remove_file(&self.path);
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    return Err(Error::Usage(format!("{shown}: already exists; pass --force to overwrite it")))
                }
                // Filesystems without hard links: check, then rename.
                Err(_) if dest.symlink_metadata().is_err() => {
                    std::fs::rename(&self.path, dest).map_err(|e| Error::io(&shown, e))?
                }
                Err(e) => return Err(Error::io(&shown, e)),
            }
        }
        self.done = true;
        Ok(())
    }
}

impl TempFile {
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// The URL as shown: no user info (the caller removed it), secret-looking query values
/// masked.
fn display(url: &Url) -> String {
    let secret = |k: &str| {
        let k = k.to_ascii_lowercase();
        ["token", "key", "secret", "pass", "auth", "sig", "credential", "session"].iter().any(|s| k.contains(s))
    };
    if !url.query_pairs().any(|(k, _)| secret(&k)) {
        return url.to_string();
    }
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            let v = if secret(&k) { "REDACTED".to_string() } else { v.into_owned() };
            (k.into_owned(), v)
        })
        .collect();
    let mut u = url.clone();
    u.query_pairs_mut().clear().extend_pairs(pairs);
    u.to_string()
}

/// A URL that may not parse, with any `user:pass@` cut out.
fn redact_spec(spec: &str) -> String {
    let Some(scheme_end) = spec.find("://") else {
        return spec.to_string();
    };
    let rest = &spec[scheme_end + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{}{}", &spec[..scheme_end + 3], &rest[at + 1..]),
        None => spec.to_string(),
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The first bytes of a body, quoted and escaped, at most 60 characters.
fn quote(bytes: &[u8]) -> String {
    let s = String::from_utf8_lossy(&bytes[..bytes.len().min(120)]);
    let s: String = s.chars().take(60).collect();
    let more = if bytes.len() > s.len() { "…" } else { "" };
    format!("{s:?}{more}")
}

fn human(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else if d < Duration::from_secs(1) {
        format!("{}ms", d.as_millis())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(spec: &str, s: &FetchSettings) -> crate::Result<Target> {
        Target::new(spec, s)
    }

    #[test]
    fn base_urls_get_the_profile_path() {
        let d = FetchSettings::default();
        assert_eq!(target("http://h:6060", &d).unwrap().name, "http://h:6060/debug/pprof/goroutine");
        assert_eq!(target("http://h:6060/", &d).unwrap().name, "http://h:6060/debug/pprof/goroutine");
        assert_eq!(target("http://h/x/debug/pprof/", &d).unwrap().name, "http://h/x/debug/pprof/goroutine");
        let leak = FetchSettings { profile: Some(ProfileKind::Goroutineleak), debug: Some(2), ..d.clone() };
        let t = target("https://h:1/", &leak).unwrap();
        assert_eq!(t.name, "https://h:1/debug/pprof/goroutineleak?debug=2");
        assert_eq!((t.profile, t.debug), (ProfileKind::Goroutineleak, 2));
        assert_eq!(target("http://h/debug/pprof/goroutine?debug=1", &d).unwrap().debug, 1);
        assert_eq!(target("http://h/custom/path", &d).unwrap().name, "http://h/custom/path");
    }

    #[test]
    fn conflicting_flags_are_usage_errors() {
        let leak = FetchSettings { profile: Some(ProfileKind::Goroutineleak), ..Default::default() };
        assert!(target("http://h/debug/pprof/goroutine", &leak).is_err());
        assert!(target("http://h/custom", &leak).is_err());
        let d2 = FetchSettings { debug: Some(2), ..Default::default() };
        assert!(target("http://h/debug/pprof/goroutine?debug=1", &d2).is_err());
        assert!(target("http://h/debug/pprof/goroutine?debug=2", &d2).is_ok());
        assert!(target("ftp://h/", &d2).is_err());
    }

    #[test]
    fn credentials_never_show() {
        let d = FetchSettings::default();
        let t = target("http://al%40ice:s3cr%3At@h:6060/debug/pprof/goroutine?token=abc&debug=1", &d).unwrap();
        assert_eq!(t.name, "http://h:6060/debug/pprof/goroutine?token=REDACTED&debug=1");
        assert_eq!(t.url_basic, Some(("al@ice".to_string(), Some("s3cr:t".to_string()))));
        assert!(!t.url.as_str().contains("s3cr"));
        assert_eq!(redact_spec("http://u:p@h:1/x@y"), "http://h:1/x@y");
        let err = target("http://u:hunter2@[bad/", &d).err().unwrap().to_string();
        assert!(!err.contains("hunter2"), "{err}");
        let s = FetchSettings { user: Some("bob:hunter2".into()), headers: vec!["X-Key: hunter2".into()], ..d };
        let dbg = format!("{s:?}");
        assert!(!dbg.contains("hunter2"), "{dbg}");
        let e = target("http://u:hunter2@h/", &s).err().unwrap().to_string();
        assert!(!e.contains("hunter2"), "{e}");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        assert!(parse_duration("0").is_err());
        assert!(parse_duration("fast").is_err());
        assert!(parse_duration("3d").is_err());
        assert_eq!(human(Duration::from_millis(1500)), "1.5s");
        assert_eq!(human(Duration::from_millis(300)), "300ms");
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%20b%"), "a b%");
        assert_eq!(percent_decode("%zz%41"), "%zzA");
    }
}
