//! Rules: when a blocking site's recent history is a leak worth an alert. A pure function
//! of site-grouped snapshots (oldest first), the thresholds and the time; no I/O beyond
//! reading a rules file in [`Rules::from_toml`].
//!
//! The defaults (also in `goroscope check --help` and the README):
//! - look at the last [`DEFAULT_WINDOW`] snapshots of a target;
//! - a site alerts when, over its last K snapshots (K at least the category's
//!   `min_snapshots`), its count grew in a sustained way (see [`compare::is_growing`]:
//!   rose in most steps, never fell back to where it started) by at least `min_growth`
//!   goroutines and by at least `min_relative` of its starting count, and it still grew
//!   within the last `resolve_after` snapshots;
//! - default: 4 snapshots, +10 goroutines, +50 %; `chan_send`, `nil_chan_send` and sites
//!   with orphaned goroutines (their creator has exited) alert earlier: 3 snapshots,
//!   +3 goroutines, +20 %;
//! - an alert resolves once the site has not grown for `resolve_after` (2) snapshots;
//! - a steady count (fixed pools, idle connections, tickers, accept loops) never alerts;
//! - allowlisted sites (a regex on function or file, optionally until a date) never alert.

use crate::classify::Category;
use crate::compare::{self, TrendSettings};
use crate::group::{Site, SnapshotReport};
use regex::Regex;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Snapshots of a target the rules look at.
pub const DEFAULT_WINDOW: usize = 6;
/// Snapshots without growth after which an alert resolves.
pub const DEFAULT_RESOLVE_AFTER: usize = 2;

/// When one kind of site alerts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    /// Least snapshots the growth must be sustained over.
    pub min_snapshots: usize,
    /// Least growth, in goroutines.
    pub min_growth: u64,
    /// Least growth relative to the starting count (0.5 = +50 %); a site from zero passes.
    pub min_relative: f64,
}

impl Thresholds {
    pub const DEFAULT: Thresholds = Thresholds { min_snapshots: 4, min_growth: 10, min_relative: 0.5 };
    /// For the forgotten-sender shape and orphans: they are leaks far more often.
    pub const EARLY: Thresholds = Thresholds { min_snapshots: 3, min_growth: 3, min_relative: 0.2 };

    /// The laxer of two: each threshold at its lower value.
    fn laxer(self, o: Thresholds) -> Thresholds {
        Thresholds {
            min_snapshots: self.min_snapshots.min(o.min_snapshots),
            min_growth: self.min_growth.min(o.min_growth),
            min_relative: self.min_relative.min(o.min_relative),
        }
    }
}

/// A known long-lived site that must not alert.
#[derive(Debug, Clone)]
pub struct Allow {
    /// Matched against the site's function and its file.
    pub pattern: Regex,
    /// Last day (days since the epoch) the entry holds; it lapses after.
    pub expires: Option<i64>,
    pub reason: Option<String>,
}

/// All the rules.
#[derive(Debug, Clone)]
pub struct Rules {
    pub window: usize,
    pub resolve_after: usize,
    pub default: Thresholds,
    /// Per category, replacing `default`.
    pub categories: BTreeMap<Category, Thresholds>,
    /// For sites with orphaned goroutines: the laxer of these and the category's apply.
    pub orphaned: Thresholds,
    pub allow: Vec<Allow>,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            window: DEFAULT_WINDOW,
            resolve_after: DEFAULT_RESOLVE_AFTER,
            default: Thresholds::DEFAULT,
            categories: [(Category::ChanSend, Thresholds::EARLY), (Category::NilChanSend, Thresholds::EARLY)].into(),
            orphaned: Thresholds::EARLY,
            allow: Vec::new(),
        }
    }
}

/// A site whose growth fires an alert.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub target: String,
    pub category: Category,
    pub state: String,
    pub site: Site,
    /// Counts over the snapshots the growth was judged on, oldest first.
    pub counts: Vec<u64>,
    pub delta: i64,
    /// Growth per minute over those snapshots, where capture times are known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_per_min: Option<f64>,
    pub orphaned: u64,
    pub reasons: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

/// What the rules concluded for one target.
#[derive(Debug, Clone, Default)]
pub struct Evaluation {
    /// Sites that alert now, sorted by site.
    pub firing: Vec<Finding>,
    /// Notes for the log, e.g. an allowlist entry that lapsed.
    pub notes: Vec<String>,
}

/// Judges the recent history of `target` (snapshots oldest first; only the last
/// `rules.window` are used) at time `now_nanos`.
pub fn evaluate(target: &str, reports: &[SnapshotReport], rules: &Rules, now_nanos: i64) -> Evaluation {
    let mut ev = Evaluation::default();
    let today = now_nanos.div_euclid(86_400_000_000_000);
    for a in &rules.allow {
        if let Some(day) = a.expires.filter(|&d| d < today) {
            ev.notes.push(format!(
                "allowlist entry {:?} expired on {}; its sites alert again",
                a.pattern.as_str(),
                &crate::report::rfc3339(day * 86_400_000_000_000)[..10]
            ));
        }
    }
    let recent = &reports[reports.len().saturating_sub(rules.window.max(2))..];
    if recent.len() < 2 {
        return ev;
    }
    let trend = compare::compare(recent, &TrendSettings { min_growth: 1, ..TrendSettings::default() });
    for s in &trend.sites {
        let allowed = rules.allow.iter().any(|a| {
            !matches!(a.expires, Some(d) if d < today)
                && (a.pattern.is_match(&s.site.function) || a.pattern.is_match(&s.site.file))
        });
        if allowed {
            continue;
        }
        let mut t = rules.categories.get(&s.category).copied().unwrap_or(rules.default);
        if s.orphaned > 0 {
            t = t.laxer(rules.orphaned);
        }
        let Some(k) = sustained(&s.counts, t, rules.resolve_after) else {
            continue;
        };
        let counts = s.counts[s.counts.len() - k..].to_vec();
        let (first, last) = (counts[0], counts[k - 1]);
        let minutes = match (
            trend.snapshots[trend.snapshots.len() - k].time_nanos,
            trend.snapshots.last().and_then(|p| p.time_nanos),
        ) {
            (Some(a), Some(b)) if b - a >= 1_000_000_000 => Some((b - a) as f64 / 60e9),
            _ => None,
        };
        let delta = last as i64 - first as i64;
        let rate_per_min = minutes.map(|m| delta as f64 / m);
        let mut reasons = vec![format!(
            "sustained growth: {first} → {last} over {k} snapshots{}",
            rate_per_min.map(|r| format!(", {r:.1}/min")).unwrap_or_default()
        )];
        if s.orphaned > 0 {
            reasons.push(format!("{} orphaned: the goroutine that created them has exited", s.orphaned));
        }
        if s.leaked > 0 {
            reasons.push(format!("{} marked leaked by the Go runtime's leak detector", s.leaked));
        }
        let hint = s.hint.clone().or_else(|| {
            (s.category == Category::ChanSend && !crate::classify::may_be_nil_chan(&s.state)).then(|| {
                "forgotten sender: the receiver gave up and nobody reads the channel; \
                 make it buffered (cap 1) or send in a select with <-ctx.Done()"
                    .to_string()
            })
        });
        ev.firing.push(Finding {
            target: target.to_string(),
            category: s.category,
            state: s.state.clone(),
            site: s.site.location.clone(),
            counts,
            delta,
            rate_per_min,
            orphaned: s.orphaned,
            reasons,
            hint,
        });
    }
    ev.firing.sort_by(|a, b| a.site.cmp(&b.site).then(a.category.cmp(&b.category)));
    ev
}

/// The longest trailing run of `counts` (at least `t.min_snapshots` long) that grew in a
/// sustained way past both thresholds, provided the site still grew within the last
/// `resolve_after` snapshots. `None`: no alert.
fn sustained(counts: &[u64], t: Thresholds, resolve_after: usize) -> Option<usize> {
    let n = counts.len();
    let need = t.min_snapshots.max(2);
    if n < need {
        return None;
    }
    let quiet_from = counts[n - 1 - resolve_after.clamp(1, n - 1)];
    if counts[n - 1] <= quiet_from {
        return None;
    }
    (need..=n).rev().find(|&k| {
        let run = &counts[n - k..];
        let (first, last) = (run[0], run[k - 1]);
        let relative_ok = first == 0 || (last - first) as f64 >= t.min_relative * first as f64;
        compare::is_growing(run, t.min_growth.max(1)) && relative_ok
    })
}

/// The rules file (`--rules FILE`), TOML:
///
/// ```toml
/// window = 6            # snapshots looked at
/// resolve_after = 2     # snapshots without growth before an alert resolves
/// [default]             # any of the three keys; the rest keep their defaults
/// min_snapshots = 4
/// min_growth = 10
/// min_relative = 0.5
/// [category.chan_send]  # per category (names as in `show --json`)
/// min_snapshots = 3
/// [orphaned]
/// min_growth = 3
/// [[allow]]
/// pattern = "^main\\.keepalive"   # regex on function or file
/// expires = 2027-01-31            # optional: the entry lapses after this day
/// reason = "one per connection"
/// ```
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    window: Option<usize>,
    resolve_after: Option<usize>,
    default: Option<PartialThresholds>,
    #[serde(default)]
    category: BTreeMap<String, PartialThresholds>,
    orphaned: Option<PartialThresholds>,
    #[serde(default)]
    allow: Vec<AllowEntry>,
}

#[derive(Debug, Default, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
struct PartialThresholds {
    min_snapshots: Option<usize>,
    min_growth: Option<u64>,
    min_relative: Option<f64>,
}

impl PartialThresholds {
    fn over(self, base: Thresholds) -> Thresholds {
        Thresholds {
            min_snapshots: self.min_snapshots.unwrap_or(base.min_snapshots),
            min_growth: self.min_growth.unwrap_or(base.min_growth),
            min_relative: self.min_relative.unwrap_or(base.min_relative),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AllowEntry {
    pattern: String,
    expires: Option<toml::Value>,
    reason: Option<String>,
}

impl Rules {
    /// Rules from a TOML rules file's text, over the defaults. `name` names the file in errors.
    pub fn from_toml(name: &str, text: &str) -> crate::Result<Rules> {
        let bad = |m: String| crate::Error::Usage(format!("{name}: {m}"));
        let f: RulesFile = toml::from_str(text).map_err(|e| bad(e.to_string().trim_end().replace('\n', " ")))?;
        let mut r = Rules::default();
        if let Some(w) = f.window {
            r.window = w.max(2);
        }
        if let Some(q) = f.resolve_after {
            r.resolve_after = q.max(1);
        }
        if let Some(d) = f.default {
            r.default = d.over(r.default);
        }
        if let Some(o) = f.orphaned {
            r.orphaned = o.over(r.orphaned);
        }
        for (k, v) in f.category {
            let c = Category::from_name(&k).ok_or_else(|| {
                bad(format!(
                    "unknown category [category.{k}]; choose one of: {}",
                    Category::ALL.map(|c| c.name()).join(", ")
                ))
            })?;
            let base = r.categories.get(&c).copied().unwrap_or(r.default);
            r.categories.insert(c, v.over(base));
        }
        for a in f.allow {
            let pattern = Regex::new(&a.pattern).map_err(|e| bad(format!("allow pattern {:?}: {e}", a.pattern)))?;
            let expires =
                match a.expires {
                    None => None,
                    Some(v) => {
                        let s = match &v {
                            toml::Value::String(s) => s.clone(),
                            toml::Value::Datetime(d) => d.to_string(),
                            other => other.to_string(),
                        };
                        Some(crate::clock::parse_date(&s).ok_or_else(|| {
                            bad(format!("allow {:?}: expires = {s}: want a date, YYYY-MM-DD", a.pattern))
                        })?)
                    }
                };
            r.allow.push(Allow { pattern, expires, reason: a.reason });
        }
        Ok(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::group::Group;
    use crate::model::Format;

    fn series(f: &str, cat: Category, counts: &[u64]) -> Vec<SnapshotReport> {
        counts
            .iter()
            .map(|&n| {
                let site = Site { function: f.into(), file: "/srv/main.go".into(), line: 7 };
                SnapshotReport::bare("s", Format::Debug2, vec![Group::bare(n, cat, cat.implied_state().into(), site)])
            })
            .collect()
    }

    fn fires(cat: Category, counts: &[u64], rules: &Rules) -> bool {
        !evaluate("t", &series("main.f", cat, counts), rules, 0).firing.is_empty()
    }

    #[test]
    fn steady_state_never_alerts() {
        let r = Rules::default();
        for c in [Category::ChanReceive, Category::IoWait, Category::ChanSend, Category::Select] {
            assert!(!fires(c, &[4, 4, 4, 4, 4, 4], &r));
            assert!(!fires(c, &[3, 5, 3, 4, 5, 3], &r), "idle connections come and go");
            assert!(!fires(c, &[0, 1, 1, 2, 2, 2], &r));
        }
    }

    #[test]
    fn growth_alerts_by_category_and_resolves_when_it_stops() {
        let r = Rules::default();
        assert!(fires(Category::ChanSend, &[0, 4, 8], &r), "chan_send alerts after 3");
        assert!(!fires(Category::ChanReceive, &[0, 8, 16], &r), "others need 4");
        assert!(fires(Category::ChanReceive, &[0, 8, 16, 24], &r));
        assert!(!fires(Category::ChanReceive, &[100, 102, 104, 106, 108], &r), "below +10");
        assert!(!fires(Category::ChanReceive, &[100, 104, 108, 112, 116], &r), "+16 is below +50 %");
        assert!(fires(Category::ChanSend, &[0, 4, 8, 12, 12], &r), "one flat poll keeps it");
        assert!(!fires(Category::ChanSend, &[0, 4, 8, 12, 12, 12], &r), "two resolve it");
        assert!(fires(Category::ChanSend, &[5, 5, 5, 9, 13, 17], &r), "a leak that starts late");
    }

    #[test]
    fn rules_file_overrides_and_allowlist_expires() {
        let text = r#"
window = 8
[default]
min_growth = 2
[category.chan_receive]
min_snapshots = 3
[[allow]]
pattern = "^main\\.pool"
expires = 1970-01-10
reason = "fixed pool"
"#;
        let r = Rules::from_toml("rules.toml", text).unwrap();
        assert_eq!(r.window, 8);
        assert_eq!(
            r.categories[&Category::ChanReceive],
            Thresholds { min_snapshots: 3, min_growth: 2, min_relative: 0.5 }
        );
        let s = series("main.pool", Category::ChanReceive, &[0, 3, 6]);
        let day = 86_400_000_000_000;
        assert!(evaluate("t", &s, &r, 5 * day).firing.is_empty(), "allowlisted");
        let later = evaluate("t", &s, &r, 20 * day);
        assert_eq!(later.firing.len(), 1, "the entry lapsed");
        assert!(later.notes[0].contains("expired on 1970-01-10"), "{:?}", later.notes);

        let e = Rules::from_toml("r.toml", "[category.chan_sned]\nmin_growth = 1").unwrap_err().to_string();
        assert!(e.contains("unknown category [category.chan_sned]") && e.contains("chan_send"), "{e}");
        assert!(Rules::from_toml("r.toml", "windw = 3").unwrap_err().to_string().starts_with("r.toml: "));
    }
}
