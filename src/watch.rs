//! The watcher: `check` (poll every target once, record, judge, tell) and `watch` (the
//! same on an interval until stopped). It owns the loop and its I/O — fetching through
//! [`crate::fetch`], the [`History`], keeping raw profiles, metrics files, alert delivery
//! and the output — and leaves the judging to [`crate::rules`] and the growth maths to
//! [`crate::compare`]. Time comes from an injected [`Clock`].
//!
//! Output with `--json` (and from `watch` when stdout is not a terminal) is JSON Lines,
//! one [`Event`] per line, each `{"type": "snapshot" | "alert" | "resolved" | "error",
//! "v": 1, "time": RFC 3339, "target": …, …}`:
//! - `snapshot`: `goroutines`, `sites`, the load: `connections` (goroutines holding one)
//!   and `requests` (goroutines serving a request in flight), `firing` (alerts firing for the target now); `restart: true` when the service
//!   restarted since the last check (a new baseline), `unchanged: true` when the profile
//!   is byte for byte the one recorded last (it is not recorded again);
//! - `alert`: `category`, `state`, `site` {`function`, `file`, `line`}, `counts` (oldest
//!   first), `delta`, `rate_per_min`, `orphaned`, `reasons`, `hint`, `role`, `since`,
//!   `new` (`check` lists every firing alert, `watch` only new ones);
//! - `resolved`: `category`, `site`, `count`, `since`, `reason`;
//! - `error`: `message`, `fetch_errors` (failed polls of the target so far).

use crate::alert::{Firing, NotifySettings, Poster, Resolved};
use crate::app::LoadSettings;
use crate::classify::Category;
use crate::clock::Clock;
use crate::compare::site_key;
use crate::group::{GroupBy, GroupSettings, Site, SnapshotReport};
use crate::history::{ActiveAlert, History, Recorded};
use crate::layout::clean;
use crate::metrics::TargetMetrics;
use crate::rules::Rules;
use crate::Error;
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Polls in flight at once, unless `--concurrency` says otherwise.
pub const DEFAULT_CONCURRENCY: usize = 8;

/// One service to poll: an `http(s)://` URL, or a profile file (a path or `file://`),
/// read again at every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// How findings, history and metrics name it.
    pub name: String,
    pub url: String,
}

/// The path a `file://` URL names, else `spec` itself.
fn file_path(spec: &str) -> &str {
    spec.strip_prefix("file://").unwrap_or(spec)
}

/// Checks that every target can be read at all (a URL that parses, a file that is
/// there), before anything touches the history.
pub fn validate_targets(targets: &[Target]) -> crate::Result<()> {
    for t in targets {
        if crate::source::is_url(&t.url) {
            reqwest::Url::parse(&t.url)
                .map_err(|e| Error::Usage(format!("{}: not a valid URL ({e}); write http(s)://HOST:PORT", t.name)))?;
            continue;
        }
        let path = file_path(&t.url);
        match std::fs::metadata(path) {
            Ok(m) if m.is_file() => {}
            Ok(_) => {
                return Err(Error::Usage(format!(
                    "{path}: not a file; check takes http(s):// URLs, file:// URLs or profile files"
                )))
            }
            Err(e) => {
                return Err(Error::Usage(format!(
                    "{path}: cannot read it ({e}); check takes http(s):// URLs, file:// URLs or profile files"
                )))
            }
        }
    }
    Ok(())
}

impl Target {
    /// A target named `name`, or by its URL without `user:pass@`.
    pub fn new(url: &str, name: Option<&str>) -> Target {
        let shown = || match reqwest::Url::parse(url) {
            Ok(mut u) if !u.username().is_empty() || u.password().is_some() => {
                let _ = u.set_username("");
                let _ = u.set_password(None);
                u.to_string()
            }
            _ => url.to_string(),
        };
        Target { name: name.map_or_else(shown, str::to_string), url: url.to_string() }
    }
}

/// Reads a `--targets` file: one `URL [NAME]` a line; blank lines and `#` comments skipped.
pub fn read_targets(path: &Path) -> crate::Result<Vec<Target>> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(&name, e))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let mut words = line.split_whitespace();
        let url = words.next().unwrap_or("");
        let label = words.next();
        if words.next().is_some() {
            return Err(Error::Usage(format!("{name}:{}: expected \"URL [NAME]\", got {line:?}", i + 1)));
        }
        out.push(Target::new(url, label));
    }
    if out.is_empty() {
        return Err(Error::Usage(format!("{name}: no targets in it; write one URL [NAME] a line")));
    }
    Ok(out)
}

/// Settings of `check` (and of each poll of `watch`).
#[derive(Debug, Clone)]
pub struct CheckSettings {
    pub targets: Vec<Target>,
    /// The history file; `None` keeps it in memory (`watch` only).
    pub history: Option<PathBuf>,
    pub load: LoadSettings,
    pub rules: Rules,
    /// Also keep each raw profile here.
    pub keep_raw: Option<PathBuf>,
    /// Forget snapshots older than this.
    pub retain: Option<Duration>,
    pub concurrency: usize,
    pub json: bool,
    pub notify: NotifySettings,
    pub metrics_file: Option<PathBuf>,
}

/// Settings of `watch`.
#[derive(Debug, Clone)]
pub struct WatchSettings {
    pub check: CheckSettings,
    pub every: Duration,
    /// Serve `/metrics` here.
    pub listen: Option<std::net::SocketAddr>,
    /// Redraw a table instead of printing JSON Lines (stdout is a terminal).
    pub table: bool,
    /// Stop after this many polls (tests).
    pub polls: Option<u64>,
}

/// One line of JSON output; see the module docs for the wire format.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Event {
    Snapshot {
        v: u32,
        time: String,
        target: String,
        goroutines: u64,
        sites: usize,
        connections: u64,
        requests: u64,
        firing: usize,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        restart: bool,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        unchanged: bool,
    },
    Alert {
        v: u32,
        time: String,
        #[serde(flatten)]
        alert: Firing,
    },
    Resolved {
        v: u32,
        time: String,
        #[serde(flatten)]
        resolved: Resolved,
    },
    Error {
        v: u32,
        time: String,
        target: String,
        message: String,
        fetch_errors: u64,
    },
}

/// What one poll of every target found.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub events: Vec<Event>,
    /// Alerts firing now, over all targets.
    pub firing: usize,
    /// Targets that could not be checked.
    pub errors: usize,
    pub metrics: Vec<TargetMetrics>,
    /// Example stacks per site of each target polled, for the live HTML report.
    pub examples: Vec<(String, crate::export::Examples)>,
}

impl Outcome {
    /// `check`'s exit status: 2 when a target could not be checked, else 1 when an
    /// alert fires, else 0.
    pub fn exit_code(&self) -> u8 {
        if self.errors > 0 {
            2
        } else if self.firing > 0 {
            1
        } else {
            0
        }
    }
}

/// Polls, records and judges; holds the history between polls.
pub struct Checker<'a> {
    settings: CheckSettings,
    /// Snapshots per target a history in memory keeps (`watch` without `--history`).
    memory_snapshots: usize,
    /// Keep example stacks for the live report (`watch --listen`).
    collect_examples: bool,
    history: History,
    clock: &'a dyn Clock,
    poster: &'a dyn Poster,
}

impl<'a> Checker<'a> {
    pub fn new(settings: CheckSettings, clock: &'a dyn Clock, poster: &'a dyn Poster) -> crate::Result<Checker<'a>> {
        validate_targets(&settings.targets)?;
        let history = match &settings.history {
            Some(p) => History::open(p)?,
            None => History::in_memory()?,
        };
        if let Some(dir) = &settings.keep_raw {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(&dir.display().to_string(), e))?;
        }
        let memory_snapshots = settings.rules.window.max(2);
        Ok(Checker { settings, history, clock, poster, memory_snapshots, collect_examples: false })
    }

    /// Polls every target once; `log` gets notes and alert-delivery failures. Targets are
    /// fetched and parsed by `concurrency` pollers while this thread records and judges
    /// each as it arrives, so only the profiles in flight are held, never the fleet's.
    pub fn run_once(&mut self, log: &mut dyn Write) -> crate::Result<Outcome> {
        let (load, concurrency, clock) = (self.settings.load.clone(), self.settings.concurrency, self.clock);
        std::thread::scope(|s| {
            let pollers = Pollers::start(s, concurrency, &load, clock);
            self.run_on(&pollers, log)
        })
    }

    /// [`Checker::run_once`] on pollers that outlive the poll (`watch` keeps its own).
    fn run_on(&mut self, pollers: &Pollers, log: &mut dyn Write) -> crate::Result<Outcome> {
        let now = self.clock.now_nanos();
        let time = crate::report::rfc3339(now);
        let targets = self.settings.targets.clone();
        let mut done: Vec<Option<Taken>> = targets.iter().map(|_| None).collect();
        pollers.poll(&targets, |i, polled| {
            done[i] = Some(self.take(&targets[i], polled, now, &time, log)?);
            Ok(())
        })?;
        let mut out = Outcome::default();
        let (mut all_firing, mut all_resolved) = (Vec::new(), Vec::new());
        for taken in done.into_iter().flatten() {
            out.errors += usize::from(taken.failed);
            out.firing += taken.firing.len();
            out.events.extend(taken.events);
            out.metrics.push(taken.metrics);
            out.examples.extend(taken.examples);
            all_firing.extend(taken.firing);
            all_resolved.extend(taken.resolved);
        }
        if let Some(keep) = self.settings.retain {
            for raw in self.history.prune(now - keep.as_nanos() as i64)? {
                let _ = std::fs::remove_file(raw);
            }
        }
        crate::alert::notify(&self.settings.notify, self.poster, self.clock, &all_firing, &all_resolved, log);
        if let Some(path) = &self.settings.metrics_file {
            let mut page = Vec::new();
            crate::metrics::render(&out.metrics, &mut page).map_err(|e| Error::io("metrics", e))?;
            crate::metrics::write_atomic(path, &page)?;
        }
        Ok(out)
    }

    /// Records and judges what one poll of `t` gave.
    fn take(&mut self, t: &Target, polled: Polled, now: i64, time: &str, log: &mut dyn Write) -> crate::Result<Taken> {
        let mut out = Taken::default();
        let (raw_bytes, report, captured) = match polled {
            Ok(p) => p,
            Err(e) => {
                self.history.record_failure(&t.name)?;
                let status = self.history.status(&t.name)?;
                out.failed = true;
                out.events.push(Event::Error {
                    v: 1,
                    time: time.to_string(),
                    target: t.name.clone(),
                    message: e.to_string(),
                    fetch_errors: status.fetch_errors,
                });
                let firing = self.history.active_alerts(&t.name)?.len() as u64;
                out.metrics = TargetMetrics {
                    target: t.name.clone(),
                    suspects: firing,
                    fetch_errors: status.fetch_errors,
                    last_success_nanos: status.last_success_nanos,
                    ..TargetMetrics::default()
                };
                return Ok(out);
            }
        };
        let captured = captured.unwrap_or(now);
        let digest = digest(&raw_bytes.bytes);
        let last = self.history.last(&t.name)?;
        let unchanged = last.as_ref().is_some_and(|l| l.digest.as_deref() == Some(digest.as_str()));
        let restart = !unchanged
            && last.as_ref().is_some_and(|l| match (l.max_goroutine_id, report.max_goroutine_id) {
                (Some(a), Some(b)) => crate::compare::ids_restarted(a, b),
                _ => crate::compare::restart_by_totals(l.total, report.total, l.least_total),
            });
        if !unchanged {
            let raw_path = match &self.settings.keep_raw {
                Some(dir) => Some(keep_raw(dir, &t.name, captured, &report, &raw_bytes.bytes)?),
                None => None,
            };
            let extra = Recorded { restart, digest: Some(digest) };
            self.history.record_with(&t.name, captured, &report, raw_path.as_deref(), &extra)?;
            if self.settings.history.is_none() {
                // A history in memory keeps what the rules and the live report look at.
                self.history.keep_newest(&t.name, self.memory_snapshots)?;
            }
        }
        drop(raw_bytes);
        if self.collect_examples {
            let mut examples = crate::export::Examples::default();
            crate::export::collect_examples(&report, &mut examples);
            out.examples.push((t.name.clone(), examples));
        }
        let window = self.settings.rules.window;
        let recent = self.history.recent(&t.name, window)?;
        let after_restart = self.history.recent_starts_at_restart(&t.name, window.max(2))?;
        let active = self.history.active_alerts(&t.name)?;
        let was_firing: Vec<(Site, Category)> = active.iter().map(|a| (a.site.clone(), a.category)).collect();
        let ev = crate::rules::evaluate_since(&t.name, &recent, after_restart, &was_firing, &self.settings.rules, now);
        drop(recent);
        for n in &ev.notes {
            let _ = writeln!(log, "goroscope: {}: {}", clean(&t.name), clean(n));
        }
        let mut firing = Vec::new();
        for f in ev.firing {
            let before = active.iter().find(|a| site_key(&a.site) == site_key(&f.site));
            firing.push(Firing {
                since: crate::report::rfc3339(before.map_or(now, |a| a.since_nanos)),
                new: before.is_none(),
                finding: f,
            });
        }
        let resolved: Vec<Resolved> = active
            .iter()
            .filter(|a| !firing.iter().any(|f| site_key(&f.finding.site) == site_key(&a.site)))
            .map(|a| {
                let count =
                    report.groups.iter().filter(|g| site_key(&g.site) == site_key(&a.site)).map(|g| g.count).sum();
                Resolved {
                    target: t.name.clone(),
                    category: a.category,
                    site: a.site.clone(),
                    count,
                    since: crate::report::rfc3339(a.since_nanos),
                    reason: if restart {
                        format!("the service restarted: a new baseline (now {count})")
                    } else {
                        format!("no longer growing (now {count})")
                    },
                }
            })
            .collect();
        let remembered: Vec<ActiveAlert> = firing
            .iter()
            .map(|f| ActiveAlert {
                site: f.finding.site.clone(),
                category: f.finding.category,
                since_nanos: active
                    .iter()
                    .find(|a| site_key(&a.site) == site_key(&f.finding.site))
                    .map_or(now, |a| a.since_nanos),
            })
            .collect();
        // Most targets of a fleet have nothing firing, before or now: no write.
        if !(remembered.is_empty() && active.is_empty()) {
            self.history.set_alerts(&t.name, &remembered)?;
        }
        let status = self.history.status(&t.name)?;
        out.metrics = TargetMetrics {
            target: t.name.clone(),
            sites: report.groups.iter().map(|g| (g.category, g.site.location.clone(), g.count)).collect(),
            total: Some(report.total),
            suspects: firing.len() as u64,
            fetch_errors: status.fetch_errors,
            last_success_nanos: status.last_success_nanos,
        };
        out.events.push(Event::Snapshot {
            v: 1,
            time: time.to_string(),
            target: t.name.clone(),
            goroutines: report.total,
            sites: report.groups.len(),
            connections: report.connections,
            requests: report.requests,
            firing: firing.len(),
            restart,
            unchanged,
        });
        for f in &firing {
            out.events.push(Event::Alert { v: 1, time: time.to_string(), alert: f.clone() });
        }
        for r in &resolved {
            out.events.push(Event::Resolved { v: 1, time: time.to_string(), resolved: r.clone() });
        }
        out.firing = firing;
        out.resolved = resolved;
        Ok(out)
    }

    /// Each target's recent history (up to `n` snapshots) compared, for the live report.
    pub fn trends(&self, n: usize) -> crate::Result<Vec<(String, crate::compare::Trend)>> {
        let mut out = Vec::new();
        for t in &self.settings.targets {
            let recent = self.history.recent(&t.name, n)?;
            if !recent.is_empty() {
                out.push((t.name.clone(), crate::compare::compare(&recent, &crate::compare::TrendSettings::default())));
            }
        }
        Ok(out)
    }
}

type Polled = crate::Result<(crate::source::Input, SnapshotReport, Option<i64>)>;

/// What one target's poll left for the outcome, kept in the targets' order.
#[derive(Default)]
struct Taken {
    failed: bool,
    events: Vec<Event>,
    metrics: TargetMetrics,
    examples: Vec<(String, crate::export::Examples)>,
    firing: Vec<Firing>,
    resolved: Vec<Resolved>,
}

/// One target to poll, and where its result goes.
struct Job {
    index: usize,
    target: Target,
    reply: std::sync::mpsc::SyncSender<(usize, Polled)>,
    cancel: Arc<AtomicBool>,
}

/// The pollers: `concurrency` threads that fetch, parse and group targets, each holding
/// one [`crate::fetch::Fetcher`] (its connections kept alive between polls). They live as
/// long as `check`, or the whole of `watch`: threads made anew every round leave the
/// allocator's per-thread arenas fragmented, and memory crept up by ~25 KB a round.
struct Pollers {
    jobs: Mutex<Option<std::sync::mpsc::Sender<Job>>>,
    count: usize,
}

impl Pollers {
    fn start<'scope>(
        s: &'scope std::thread::Scope<'scope, '_>,
        concurrency: usize,
        load: &'scope LoadSettings,
        clock: &'scope dyn Clock,
    ) -> Pollers {
        let (send, receive) = std::sync::mpsc::channel::<Job>();
        let receive = Arc::new(Mutex::new(receive));
        let count = concurrency.max(1);
        for _ in 0..count {
            let receive = receive.clone();
            s.spawn(move || {
                let mut fetcher: Option<Result<crate::fetch::Fetcher, String>> = None;
                loop {
                    let job = receive.lock().unwrap_or_else(|p| p.into_inner()).recv();
                    let Ok(job) = job else { break };
                    if job.cancel.load(Ordering::SeqCst) {
                        continue;
                    }
                    let r = poll_one(&job.target, load, clock, &mut fetcher);
                    let _ = job.reply.send((job.index, r));
                }
            });
        }
        Pollers { jobs: Mutex::new(Some(send)), count }
    }

    /// Polls every target, handing each result to `each` on this thread as it arrives
    /// (with its index); at most `count` results wait for it. When `each` fails, the
    /// targets not yet taken are skipped and the error is returned.
    fn poll(&self, targets: &[Target], mut each: impl FnMut(usize, Polled) -> crate::Result<()>) -> crate::Result<()> {
        let (reply, results) = std::sync::mpsc::sync_channel(self.count);
        let cancel = Arc::new(AtomicBool::new(false));
        {
            let jobs = self.jobs.lock().unwrap_or_else(|p| p.into_inner());
            let jobs = jobs.as_ref().expect("pollers run until dropped");
            for (index, target) in targets.iter().enumerate() {
                let job = Job { index, target: target.clone(), reply: reply.clone(), cancel: cancel.clone() };
                jobs.send(job).expect("pollers run until dropped");
            }
        }
        drop(reply);
        let mut result = Ok(());
        for (i, polled) in results.iter() {
            if result.is_ok() {
                if let Err(e) = each(i, polled) {
                    cancel.store(true, Ordering::SeqCst);
                    result = Err(e);
                }
            }
        }
        result
    }
}

impl Drop for Pollers {
    /// Closing the queue ends the threads (the scope then joins them).
    fn drop(&mut self) {
        self.jobs.lock().unwrap_or_else(|p| p.into_inner()).take();
    }
}

/// A stable digest of a raw profile (FxHash has no random seed), to tell an unchanged one.
fn digest(bytes: &[u8]) -> String {
    use std::hash::Hasher;
    let mut h = rustc_hash::FxHasher::default();
    h.write(bytes);
    format!("{:016x}-{}", h.finish(), bytes.len())
}

fn poll_one(
    t: &Target,
    load: &LoadSettings,
    clock: &dyn Clock,
    fetcher: &mut Option<Result<crate::fetch::Fetcher, String>>,
) -> Polled {
    let input = if crate::source::is_url(&t.url) {
        let f = fetcher.get_or_insert_with(|| {
            crate::fetch::Fetcher::new(&load.fetch, &load.limits, load.format.is_none()).map_err(|e| e.to_string())
        });
        // The client could not be made (a bad --cacert, say): every URL target says why.
        let f = f.as_ref().map_err(|e| Error::Usage(e.clone()))?;
        let mut input = f.fetch(&t.url, &load.fetch)?;
        // The capture time of a fetched profile is when it came, on the checker's clock.
        input.mtime_nanos = Some(clock.now_nanos());
        input
    } else {
        crate::source::read_local(file_path(&t.url), &load.limits)?
    };
    let mut snapshots = crate::source::parse_input(&input, load.format, &load.limits)?;
    let mut snapshot = snapshots.pop().ok_or_else(|| Error::Parse {
        source_name: t.name.clone(),
        message: "no goroutine dump in the response".into(),
    })?;
    let captured = snapshot.time_nanos.or(input.mtime_nanos);
    let report = crate::group::group(&mut snapshot, &GroupSettings { by: GroupBy::Site, ..GroupSettings::default() });
    Ok((input, report, captured))
}

/// Writes a raw profile as `DIR/NAME-TIME.EXT` (`.pb.gz` for debug=0, else `.txt`).
fn keep_raw(dir: &Path, target: &str, nanos: i64, report: &SnapshotReport, raw: &[u8]) -> crate::Result<String> {
    let slug: String =
        target.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '.' { c } else { '_' }).collect();
    let ext = if report.format == crate::model::Format::Debug0 { "pb.gz" } else { "txt" };
    let path = dir.join(format!("{slug}-{nanos}.{ext}"));
    crate::metrics::write_atomic(&path, raw)?;
    Ok(path.display().to_string())
}

/// `goroscope check`: one poll, printed (a line per finding, or JSON Lines).
pub fn check(
    settings: &CheckSettings,
    clock: &dyn Clock,
    poster: &dyn Poster,
    out: &mut dyn Write,
    log: &mut dyn Write,
) -> crate::Result<Outcome> {
    let mut c = Checker::new(settings.clone(), clock, poster)?;
    let outcome = c.run_once(log)?;
    let r = if settings.json { write_json(out, &outcome.events, true) } else { write_text(out, &outcome.events) };
    r.map_err(|e| Error::io("stdout", e))?;
    Ok(outcome)
}

/// `goroscope watch`: polls every `every` until `stop` is set (SIGINT/SIGTERM) or
/// `polls` are done, printing each poll; serves `/metrics` with `listen`.
pub fn watch(
    s: &WatchSettings,
    clock: &dyn Clock,
    poster: &dyn Poster,
    stop: &Arc<AtomicBool>,
    out: &mut dyn Write,
    log: &mut dyn Write,
) -> crate::Result<()> {
    let mut c = Checker::new(s.check.clone(), clock, poster)?;
    if s.listen.is_some() {
        c.collect_examples = true;
        c.memory_snapshots = c.memory_snapshots.max(LIVE_SNAPSHOTS);
    }
    let page = Arc::new(Mutex::new(String::new()));
    let report = Arc::new(Mutex::new(live_report(&[], &[], s.every)));
    let mut examples: Vec<(String, crate::export::Examples)> = Vec::new();
    let server_stop = Arc::new(AtomicBool::new(false));
    let server = match s.listen {
        Some(addr) => {
            let l = std::net::TcpListener::bind(addr).map_err(|e| Error::Usage(format!("--listen {addr}: {e}")))?;
            let at = l.local_addr().unwrap_or(addr);
            let _ =
                writeln!(log, "goroscope: serving metrics at http://{at}/metrics and a live report at http://{at}/");
            Some(crate::metrics::serve(l, page.clone(), report.clone(), server_stop.clone()))
        }
        None => None,
    };
    let mut polls = 0u64;
    let load = s.check.load.clone();
    let result = std::thread::scope(|scope| {
        let pollers = Pollers::start(scope, s.check.concurrency, &load, clock);
        while !stop.load(Ordering::SeqCst) {
            let started = clock.now_nanos();
            let outcome = c.run_on(&pollers, log)?;
            let mut text = Vec::new();
            crate::metrics::render(&outcome.metrics, &mut text).map_err(|e| Error::io("metrics", e))?;
            *page.lock().unwrap_or_else(|p| p.into_inner()) = String::from_utf8_lossy(&text).into_owned();
            if s.listen.is_some() {
                for (target, found) in &outcome.examples {
                    match examples.iter_mut().find(|(t, _)| t == target) {
                        Some((_, e)) => e.extend(found.clone()),
                        None => examples.push((target.clone(), found.clone())),
                    }
                }
                let html = live_report(&c.trends(LIVE_SNAPSHOTS)?, &examples, s.every);
                *report.lock().unwrap_or_else(|p| p.into_inner()) = html;
            }
            let r = if s.table {
                write_table(out, &outcome, s.every, started)
            } else {
                write_json(out, &outcome.events, false)
            };
            r.and_then(|_| out.flush()).map_err(|e| Error::io("stdout", e))?;
            polls += 1;
            if s.polls.is_some_and(|p| polls >= p) {
                break;
            }
            let until = started + s.every.as_nanos() as i64;
            while !stop.load(Ordering::SeqCst) {
                let left = until - clock.now_nanos();
                if left <= 0 {
                    break;
                }
                clock.sleep(Duration::from_nanos(left as u64).min(Duration::from_millis(200)));
            }
        }
        Ok(())
    });
    server_stop.store(true, Ordering::SeqCst);
    if let Some(h) = server {
        let _ = h.join();
    }
    result
}

/// Snapshots per target the live report (`--listen`, at `/`) compares.
const LIVE_SNAPSHOTS: usize = 100;

/// The live HTML report: each target's recent growth, reloading every poll.
fn live_report(
    trends: &[(String, crate::compare::Trend)],
    examples: &[(String, crate::export::Examples)],
    every: Duration,
) -> String {
    let none = crate::export::Examples::default();
    let sections: Vec<crate::html::TrendSection> = trends
        .iter()
        .map(|(target, trend)| crate::html::TrendSection {
            title: Some(target),
            trend,
            examples: examples.iter().find(|(t, _)| t == target).map_or(&none, |(_, e)| e),
        })
        .collect();
    let mut out = Vec::new();
    let refresh = every.as_secs().max(5);
    let _ = crate::html::trend(&mut out, &sections, crate::report::CompareView::Trend, Some(refresh));
    String::from_utf8_lossy(&out).into_owned()
}

fn write_json(out: &mut dyn Write, events: &[Event], every_alert: bool) -> std::io::Result<()> {
    for e in events {
        if !every_alert && matches!(e, Event::Alert { alert, .. } if !alert.new) {
            continue;
        }
        serde_json::to_writer(&mut *out, e)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

fn write_text(out: &mut dyn Write, events: &[Event]) -> std::io::Result<()> {
    for e in events {
        match e {
            Event::Snapshot { target, goroutines, sites, firing, restart, unchanged, .. } => {
                let verdict = match firing {
                    0 => "no leak growth".to_string(),
                    1 => "1 site leaking".to_string(),
                    n => format!("{n} sites leaking"),
                };
                let sites = if *sites == 1 { "1 site".to_string() } else { format!("{sites} sites") };
                let target = clean(target);
                writeln!(out, "{target}: {goroutines} goroutines at {sites}; {verdict}")?;
                if *restart {
                    writeln!(
                        out,
                        "RESTART {target}: the service restarted since the last check; growth is judged from here"
                    )?;
                }
                if *unchanged {
                    writeln!(out, "{target}: the profile is unchanged since the last check; not recorded again")?;
                }
            }
            Event::Alert { alert, time, .. } => {
                let f = &alert.finding;
                let since = crate::compare::time_of_text(&alert.since)
                    .map(|t| format!(" since {}", crate::report::human_time(t, crate::compare::time_of_text(time))))
                    .unwrap_or_default();
                writeln!(
                    out,
                    "ALERT {} {} {} ({}:{}){}{since}: {}",
                    clean(&f.target),
                    f.category.name(),
                    clean(&f.site.function),
                    clean(&f.site.file),
                    f.site.line,
                    if alert.new { " [new]" } else { "" },
                    clean(&f.reasons.join("; "))
                )?;
                if let Some(h) = &f.hint {
                    writeln!(out, "  hint: {}", clean(h))?;
                }
            }
            Event::Resolved { resolved: r, .. } => {
                writeln!(
                    out,
                    "RESOLVED {} {} {} ({}:{}): {}",
                    clean(&r.target),
                    r.category.name(),
                    clean(&r.site.function),
                    clean(&r.site.file),
                    r.site.line,
                    clean(&r.reason)
                )?;
            }
            Event::Error { target, message, fetch_errors, .. } => {
                writeln!(out, "ERROR {}: {} ({fetch_errors} failed polls so far)", clean(target), clean(message))?;
            }
        }
    }
    Ok(())
}

fn write_table(out: &mut dyn Write, o: &Outcome, every: Duration, started: i64) -> std::io::Result<()> {
    let mut t = comfy_table::Table::new();
    t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    t.set_header(["target", "goroutines", "alerts", "fetch errors", "last success"]);
    let mut ms: Vec<&TargetMetrics> = o.metrics.iter().collect();
    ms.sort_by(|a, b| a.target.cmp(&b.target));
    for m in ms {
        t.add_row([
            clean(&m.target).into_owned(),
            m.total.map_or("-".into(), |n| n.to_string()),
            m.suspects.to_string(),
            m.fetch_errors.to_string(),
            m.last_success_nanos.map_or("never".into(), |t| crate::report::human_time(t, Some(started))),
        ]);
    }
    // Clear the screen and draw from the top: a live table (NO_COLOR: no escape codes at
    // all, so a blank line between polls instead).
    if crate::report::no_color() {
        writeln!(out)?;
    } else {
        write!(out, "\x1b[2J\x1b[H")?;
    }
    writeln!(
        out,
        "goroscope watch: every {}s, last poll {} (Ctrl-C stops)",
        every.as_secs_f64(),
        crate::report::human_time(started, None)
    )?;
    writeln!(out, "{t}")?;
    write_text(out, &o.events.iter().filter(|e| !matches!(e, Event::Snapshot { .. })).cloned().collect::<Vec<_>>())
}

#[cfg(test)]
mod tests {
    use super::*;

    struct NoPost;
    impl Poster for NoPost {
        fn post(&self, _: &str, _: &[u8]) -> Result<(), String> {
            Ok(())
        }
    }

    /// The loop waits on the injected clock: three polls 30s apart take no real time, a
    /// failed poll is reported and counted, and the loop goes on.
    #[test]
    fn watch_polls_on_the_clock_and_survives_failed_polls() {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let check = CheckSettings {
            targets: vec![Target::new(&format!("http://127.0.0.1:{port}"), Some("dead"))],
            history: None,
            load: LoadSettings::default(),
            rules: Rules::default(),
            keep_raw: None,
            retain: None,
            concurrency: 2,
            json: true,
            notify: NotifySettings::default(),
            metrics_file: None,
        };
        let s = WatchSettings { check, every: Duration::from_secs(30), listen: None, table: false, polls: Some(3) };
        let clock = crate::clock::ManualClock::at(1_000_000_000_000_000_000);
        let (mut out, mut log) = (Vec::new(), Vec::new());
        let started = std::time::Instant::now();
        watch(&s, &clock, &NoPost, &Arc::new(AtomicBool::new(false)), &mut out, &mut log).unwrap();
        assert!(started.elapsed() < Duration::from_secs(20), "waited for real");
        assert_eq!(clock.now_nanos(), 1_000_000_000_000_000_000 + 60_000_000_000, "two waits of 30s");
        let events: Vec<serde_json::Value> =
            String::from_utf8(out).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(events.len(), 3);
        for (i, e) in events.iter().enumerate() {
            assert_eq!((e["type"].as_str(), e["target"].as_str()), (Some("error"), Some("dead")));
            assert_eq!(e["fetch_errors"], i + 1);
        }
    }

    #[test]
    fn a_stop_request_ends_the_loop_before_the_next_poll() {
        let stop = Arc::new(AtomicBool::new(true));
        let check = CheckSettings {
            targets: vec![Target::new("http://127.0.0.1:9", None)],
            history: None,
            load: LoadSettings::default(),
            rules: Rules::default(),
            keep_raw: None,
            retain: None,
            concurrency: 1,
            json: true,
            notify: NotifySettings::default(),
            metrics_file: None,
        };
        let s = WatchSettings { check, every: Duration::from_secs(30), listen: None, table: false, polls: None };
        let clock = crate::clock::ManualClock::at(0);
        let mut out = Vec::new();
        watch(&s, &clock, &NoPost, &stop, &mut out, &mut Vec::new()).unwrap();
        assert!(out.is_empty());
    }

    #[test]
    fn targets_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t");
        std::fs::write(&p, "# fleet\nhttp://a:1 api\n\nhttp://u:pw@b:2/debug/pprof/ # no name\n").unwrap();
        let t = read_targets(&p).unwrap();
        assert_eq!(t[0], Target { name: "api".into(), url: "http://a:1".into() });
        assert_eq!(t[1].name, "http://b:2/debug/pprof/");
        std::fs::write(&p, "a b c\n").unwrap();
        assert!(read_targets(&p).unwrap_err().to_string().ends_with(":1: expected \"URL [NAME]\", got \"a b c\""));
    }
}
