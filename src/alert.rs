//! Alerts: delivering what the rules concluded to a webhook (`--webhook URL`) and to
//! Prometheus Alertmanager (`--alertmanager URL`, its v2 API). Each POST has a timeout
//! and is retried with exponential backoff (waiting on the injected [`Clock`]); when it
//! gives up, one line goes to the log and the check goes on. This module sends; it does
//! not decide what fires (that is [`crate::rules`]) nor what is printed.

use crate::clock::Clock;
use crate::layout::clean;
use crate::rules::Finding;
use serde::Serialize;
use std::io::Write;
use std::time::Duration;

/// Where and how alerts are sent.
#[derive(Debug, Clone)]
pub struct NotifySettings {
    pub webhook: Option<String>,
    /// Alertmanager's base URL, e.g. `http://alertmanager:9093`.
    pub alertmanager: Option<String>,
    /// Per request.
    pub timeout: Duration,
    /// Attempts after the first.
    pub retries: u32,
    /// Wait before the first retry; doubled for each next one.
    pub backoff: Duration,
    /// How long Alertmanager keeps a firing alert it does not hear of again (its
    /// `endsAt`): a goroscope that stops running lets its alerts lapse after this.
    pub ttl: Duration,
}

impl Default for NotifySettings {
    fn default() -> Self {
        NotifySettings {
            webhook: None,
            alertmanager: None,
            timeout: Duration::from_secs(10),
            retries: 3,
            backoff: Duration::from_secs(1),
            ttl: DEFAULT_TTL,
        }
    }
}

/// [`NotifySettings::ttl`] of `check`: longer than any sensible schedule.
pub const DEFAULT_TTL: Duration = Duration::from_secs(3600);

/// A resolved alert: the site stopped growing.
#[derive(Debug, Clone, Serialize)]
pub struct Resolved {
    pub target: String,
    pub category: crate::classify::Category,
    pub site: crate::group::Site,
    /// Its count in the last snapshot.
    pub count: u64,
    /// When it started firing, RFC 3339.
    pub since: String,
    /// Why it resolved: no longer growing, or the service restarted.
    pub reason: String,
}

/// A firing alert with when it started.
#[derive(Debug, Clone, Serialize)]
pub struct Firing {
    #[serde(flatten)]
    pub finding: Finding,
    /// When it started firing, RFC 3339.
    pub since: String,
    /// True on the run that first saw it.
    pub new: bool,
}

/// Something that POSTs a JSON body (the seam tests replace).
pub trait Poster {
    fn post(&self, url: &str, body: &[u8]) -> Result<(), String>;
}

/// POSTs over HTTP(S) with reqwest.
pub struct HttpPoster {
    client: reqwest::blocking::Client,
}

impl HttpPoster {
    pub fn new(timeout: Duration) -> crate::Result<HttpPoster> {
        let client = reqwest::blocking::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .user_agent(concat!("goroscope/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| crate::Error::Usage(format!("cannot start the HTTP client for alerts ({e})")))?;
        Ok(HttpPoster { client })
    }
}

impl Poster for HttpPoster {
    fn post(&self, url: &str, body: &[u8]) -> Result<(), String> {
        let r = self
            .client
            .post(url)
            .header("Content-Type", "application/json")
            .body(body.to_vec())
            .send()
            .map_err(|e| without_url(&e))?;
        if r.status().is_success() {
            Ok(())
        } else {
            let status = r.status();
            let text: String = r.text().unwrap_or_default().chars().take(200).collect();
            Err(format!("HTTP {status}: {}", text.trim()))
        }
    }
}

/// The error without its URL (which may carry credentials): its kind and its causes.
fn without_url(e: &reqwest::Error) -> String {
    let mut s = String::from(if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    });
    let mut src = std::error::Error::source(e);
    while let Some(c) = src {
        s.push_str(&format!(": {c}"));
        src = c.source();
    }
    s
}

/// The webhook's body: `{"version": 1, "alerts": [...], "resolved": [...]}`, with each
/// firing alert as in `check --json` (`target`, `category`, `state`, `site`, `counts`,
/// `delta`, `reasons`, `hint`, `since`, `new`) and each resolved one with `target`,
/// `category`, `site`, `count`, `since`.
#[derive(Serialize)]
struct WebhookBody<'a> {
    version: u32,
    alerts: &'a [Firing],
    resolved: &'a [Resolved],
}

/// Sends the alerts of one run: to the webhook the new and the resolved ones; to
/// Alertmanager every firing one (it forgets alerts that are not repeated) and the
/// resolved ones with `endsAt`. Gives up on a destination after the retries with one
/// line on `log`; returns how many destinations gave up.
pub fn notify(
    s: &NotifySettings,
    poster: &dyn Poster,
    clock: &dyn Clock,
    firing: &[Firing],
    resolved: &[Resolved],
    log: &mut dyn Write,
) -> usize {
    let mut failed = 0;
    let new: Vec<Firing> = firing.iter().filter(|f| f.new).cloned().collect();
    if let Some(url) = &s.webhook {
        if !new.is_empty() || !resolved.is_empty() {
            let body = serde_json::to_vec(&WebhookBody { version: 1, alerts: &new, resolved }).expect("serializable");
            failed += usize::from(!send(s, poster, clock, "webhook", url, &body, log));
        }
    }
    if let Some(base) = &s.alertmanager {
        if !firing.is_empty() || !resolved.is_empty() {
            let body = alertmanager_body(firing, resolved, clock.now_nanos(), s.ttl);
            let url = format!("{}/api/v2/alerts", base.trim_end_matches('/'));
            failed += usize::from(!send(s, poster, clock, "alertmanager", &url, &body, log));
        }
    }
    failed
}

fn send(
    s: &NotifySettings,
    poster: &dyn Poster,
    clock: &dyn Clock,
    what: &str,
    url: &str,
    body: &[u8],
    log: &mut dyn Write,
) -> bool {
    let mut wait = s.backoff;
    let mut last = String::new();
    for attempt in 0..=s.retries {
        if attempt > 0 {
            clock.sleep(wait);
            wait = wait.saturating_mul(2);
        }
        match poster.post(url, body) {
            Ok(()) => return true,
            Err(e) => last = e,
        }
    }
    let (url, last) = (redact(url), clean(&last).into_owned());
    let _ = writeln!(log, "goroscope: {what} {}: giving up after {} attempts: {last}", clean(&url), s.retries + 1);
    false
}

/// A URL without `user:pass@`, for the log.
fn redact(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut u) => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.to_string()
        }
        Err(_) => "(bad URL)".into(),
    }
}

/// The Alertmanager v2 `POST /api/v2/alerts` body: `alertname=GoroutineLeak`, labels
/// `target`, `category`, `site` (function at file:line); annotations `summary`, `counts`,
/// `description`, `hint`; firing alerts end `ttl` from now unless sent again, resolved
/// ones end now.
fn alertmanager_body(firing: &[Firing], resolved: &[Resolved], now_nanos: i64, ttl: Duration) -> Vec<u8> {
    use serde_json::json;
    // Firing and resolved alerts of one site carry the same labels: that is how
    // Alertmanager matches a resolve to its alert.
    let labels = |target: &str, category: crate::classify::Category, s: &crate::group::Site| {
        json!({
            "alertname": "GoroutineLeak",
            "target": target,
            "category": category.name(),
            "site": format!("{} at {}:{}", clean(&s.function), clean(&s.file), s.line),
        })
    };
    let mut alerts = Vec::new();
    for f in firing {
        let d = &f.finding;
        let counts = d.counts.iter().map(u64::to_string).collect::<Vec<_>>().join(" → ");
        let summary = match d.role {
            Some(r) if r.is_connection() => {
                format!("{} at {} on {}", r.growth_text(), clean(&d.site.function), clean(&d.target))
            }
            _ => format!("goroutines leaking at {} on {}", clean(&d.site.function), clean(&d.target)),
        };
        let mut annotations = json!({
            "summary": summary,
            "counts": counts,
            "description": clean(&d.reasons.join("; ")),
        });
        // No empty annotation: Alertmanager shows every key it is given.
        if let Some(h) = d.hint.as_deref().filter(|h| !h.is_empty()) {
            annotations["hint"] = json!(clean(h));
        }
        alerts.push(json!({
            "labels": labels(&d.target, d.category, &d.site),
            "annotations": annotations,
            "startsAt": f.since,
            "endsAt": crate::report::rfc3339(now_nanos.saturating_add(ttl.as_nanos() as i64)),
        }));
    }
    for r in resolved {
        alerts.push(json!({
            "labels": labels(&r.target, r.category, &r.site),
            "annotations": {
                "summary": format!("goroutines at {} on {}: {}", clean(&r.site.function), clean(&r.target), clean(&r.reason)),
                "counts": r.count.to_string(),
            },
            "startsAt": r.since,
            "endsAt": crate::report::rfc3339(now_nanos),
        }));
    }
    serde_json::to_vec(&alerts).expect("serializable")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use std::sync::Mutex;

    struct Flaky {
        fail_first: usize,
        calls: Mutex<Vec<String>>,
    }

    impl Poster for Flaky {
        fn post(&self, url: &str, _body: &[u8]) -> Result<(), String> {
            let mut c = self.calls.lock().unwrap();
            c.push(url.to_string());
            if c.len() <= self.fail_first {
                Err("cannot connect".into())
            } else {
                Ok(())
            }
        }
    }

    fn firing() -> Vec<Firing> {
        vec![Firing {
            finding: Finding {
                target: "svc".into(),
                category: crate::classify::Category::ChanSend,
                state: "chan send".into(),
                site: crate::group::Site { function: "main.f".into(), file: "/m.go".into(), line: 3 },
                counts: vec![0, 4, 8],
                delta: 8,
                rate_per_min: None,
                orphaned: 0,
                reasons: vec!["grew".into()],
                hint: None,
                role: None,
            },
            since: "2026-01-01T00:00:00Z".into(),
            new: true,
        }]
    }

    #[test]
    fn retries_with_backoff_then_gives_up_with_one_line() {
        let clock = ManualClock::at(0);
        let s = NotifySettings { webhook: Some("http://u:p@hook/x".into()), ..NotifySettings::default() };
        let p = Flaky { fail_first: 2, calls: Mutex::new(vec![]) };
        let mut log = Vec::new();
        assert_eq!(notify(&s, &p, &clock, &firing(), &[], &mut log), 0);
        assert_eq!(p.calls.lock().unwrap().len(), 3);
        assert_eq!(clock.now_nanos(), 3_000_000_000, "waited 1s then 2s");
        assert!(log.is_empty());

        let p = Flaky { fail_first: 99, calls: Mutex::new(vec![]) };
        assert_eq!(notify(&s, &p, &clock, &firing(), &[], &mut log), 1);
        assert_eq!(p.calls.lock().unwrap().len(), 4);
        let log = String::from_utf8(log).unwrap();
        assert_eq!(log.lines().count(), 1, "{log}");
        assert!(log.contains("giving up after 4 attempts: cannot connect") && !log.contains("u:p"), "{log}");
    }

    #[test]
    fn alertmanager_payload() {
        let body: serde_json::Value =
            serde_json::from_slice(&alertmanager_body(&firing(), &[], 0, Duration::from_secs(60))).unwrap();
        assert_eq!(body[0]["labels"]["alertname"], "GoroutineLeak");
        assert_eq!(body[0]["labels"]["site"], "main.f at /m.go:3");
        assert_eq!(body[0]["annotations"]["counts"], "0 → 4 → 8");
        assert_eq!(body[0]["endsAt"], "1970-01-01T00:01:00Z");
        assert!(body[0]["annotations"].get("hint").is_none(), "no empty hint: {body:#}");
    }
}
