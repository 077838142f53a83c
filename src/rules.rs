//! Rules: when a blocking site's recent history is a leak worth an alert. A pure function
//! of site-grouped snapshots (oldest first), the thresholds and the time; no I/O beyond
//! reading a rules file in [`Rules::from_toml`].
//!
//! The defaults (also in `goroscope check --help` and the README):
//! - look at the last [`DEFAULT_WINDOW`] snapshots of a target;
//! - snapshots before the last restart of the service are not looked at;
//! - a site alerts when [`compare::growth`] finds a run of its last K snapshots (K at
//!   least the category's `min_snapshots`) over which its count outgrew the load
//!   (connections and requests in flight) by at least `min_growth` goroutines and
//!   `min_relative` of what the load explains, rising in most steps faster than the
//!   connections, never falling back to where it started, and still rising within the
//!   last `resolve_after` snapshots;
//! - default: 4 snapshots, +10 goroutines, +50 %; `chan_send`, `nil_chan_send` and sites
//!   with orphaned goroutines (their creator has exited) alert earlier: 3 snapshots,
//!   +3 goroutines, +20 %; sleepers (`sleep`) later: one snapshot more than the default
//!   ([`Rules::thresholds`]);
//! - an alert resolves once the site has not grown for `resolve_after` (2) snapshots;
//! - a steady count (fixed pools, idle connections, tickers, accept loops) never alerts,
//!   nor do goroutines serving requests in flight (handlers: the load itself);
//! - connections ([`Role::is_connection`]) are judged on their own count, and alert only
//!   where the rules say so (`[role.connections] alert = true`): by default a traffic
//!   ramp pages nobody;
//! - allowlisted sites (a regex on function or file, optionally until a date) never alert.

use crate::classify::Category;
pub use crate::compare::Thresholds;
use crate::compare::{self, TrendSettings};
use crate::group::{Site, SnapshotReport};
use crate::role::Role;
use regex::Regex;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Snapshots of a target the rules look at.
pub const DEFAULT_WINDOW: usize = 6;
/// Snapshots without growth after which an alert resolves.
pub const DEFAULT_RESOLVE_AFTER: usize = 2;

/// Whether and when a kind of connection alerts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RoleRule {
    pub alert: bool,
    pub thresholds: Thresholds,
}

impl RoleRule {
    /// Connections: not alerting by default (a traffic ramp must page nobody).
    pub const CONNECTIONS: RoleRule = RoleRule { alert: false, thresholds: Thresholds::DEFAULT };
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
    /// Every connection role (`[role.connections]`).
    pub connections: RoleRule,
    /// Per role, replacing `connections` (`[role.http_server_conn]`, …).
    pub roles: BTreeMap<Role, RoleRule>,
    pub allow: Vec<Allow>,
}

impl Rules {
    /// The thresholds of a category: its own where set, else the default; sleepers
    /// ([`Category::Sleep`]) need one snapshot more than the default. A goroutine in
    /// `time.Sleep` wakes by itself, so a line of sleepers holds for good only goroutines
    /// that sleep in a loop nobody stops; most are per-request work caught at one instant
    /// (a backoff, a shard's latency), as noisy as the requests in flight. Recorded in
    /// fresh-clone CI (2 runs in about 10): `go/leaky`'s shard workers, 3 per search,
    /// alerted at the fourth check of a ramp (20 clients, 14 requests in flight). The Go
    /// runtime's own `goroutineleak` profile never reports sleepers.
    pub fn thresholds(&self, c: Category) -> Thresholds {
        match self.categories.get(&c) {
            Some(&t) => t,
            None if c == Category::Sleep => {
                let min_snapshots = (self.default.min_snapshots + 1).min(self.window.max(self.default.min_snapshots));
                Thresholds { min_snapshots, ..self.default }
            }
            None => self.default,
        }
    }

    /// The rule of a connection role.
    pub fn role(&self, r: Role) -> RoleRule {
        self.roles.get(&r).copied().unwrap_or(self.connections)
    }
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            window: DEFAULT_WINDOW,
            resolve_after: DEFAULT_RESOLVE_AFTER,
            default: Thresholds::DEFAULT,
            categories: [(Category::ChanSend, Thresholds::EARLY), (Category::NilChanSend, Thresholds::EARLY)].into(),
            orphaned: Thresholds::EARLY,
            connections: RoleRule::CONNECTIONS,
            roles: BTreeMap::new(),
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
    /// For connections: what they are.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
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
    evaluate_since(target, reports, false, &[], rules, now_nanos)
}

/// [`evaluate`] of a history that starts at a restart when `after_restart`: the first
/// snapshot is the new process's first, and its warm-up is judged as one
/// ([`compare::judged_from`]). A history read since the last restart
/// ([`crate::history::History::recent`]) holds no snapshot before it, so the restart is
/// not seen in the snapshots themselves (ids starting again need the one before).
///
/// `firing`: the sites (and categories) alerting before this evaluation. One keeps
/// firing while its count still rose within the last `resolve_after` snapshots
/// ([`compare::still_growing`]), even where the load now explains its growth: an alert resolves once its site stops
/// growing, not when a noisy sample of the load catches up with it (recorded in
/// `tests/load_profile.rs`: the forgotten sender of a ramp, 54 → 87 while requests in
/// flight went 12 → 24, was told resolved, then alerted again). A restart still resolves
/// it: growth is judged from the restart on, and at the restart's own check that is one
/// snapshot, which is no growth.
pub fn evaluate_since(
    target: &str,
    reports: &[SnapshotReport],
    after_restart: bool,
    firing: &[(Site, Category)],
    rules: &Rules,
    now_nanos: i64,
) -> Evaluation {
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
    let cut = reports.len().saturating_sub(rules.window.max(2));
    let recent = &reports[cut..];
    if recent.len() < 2 {
        return ev;
    }
    let mut trend = compare::compare(recent, &TrendSettings { min_growth: 1, ..TrendSettings::default() });
    if after_restart && cut == 0 {
        trend.snapshots[0].restart = true;
    }
    // A new baseline from the last restart on.
    let from = compare::judged_from(&trend.snapshots);
    let series = compare::Series { points: &trend.snapshots[from..], from, file_times: false };
    let loads = series.loads();
    for s in &trend.sites {
        let allowed = rules.allow.iter().any(|a| {
            !matches!(a.expires, Some(d) if d < today)
                && (a.pattern.is_match(&s.site.function) || a.pattern.is_match(&s.site.file))
        });
        // Requests in flight are the load: no alert by their count.
        if allowed || s.role == Some(Role::ProfileRequest) || s.site.function.is_empty() || s.in_flight {
            continue;
        }
        let connection = s.role.filter(|r| r.is_connection());
        let (t, loads) = match connection {
            Some(r) => {
                let rule = rules.role(r);
                if !rule.alert {
                    continue;
                }
                (rule.thresholds, vec![compare::Load::NONE; loads.len()])
            }
            None => {
                let mut t = rules.thresholds(s.category);
                if s.orphaned > 0 {
                    t = t.laxer(rules.orphaned);
                }
                (t, loads.clone())
            }
        };
        let counts = &s.counts[from..];
        let was_firing = || {
            firing.iter().any(|(f, c)| *c == s.category && compare::site_key(f) == compare::site_key(&s.site.location))
        };
        let Some(g) = compare::growth(counts, &loads, t, rules.resolve_after)
            .or_else(|| compare::still_growing(counts, rules.resolve_after).filter(|_| was_firing()))
        else {
            continue;
        };
        let counts = s.counts[s.counts.len() - g.len..].to_vec();
        let delta = g.last as i64 - g.first as i64;
        let rate_per_min = series.minutes(g.len).map(|m| delta as f64 / m);
        let mut reasons = vec![match connection {
            Some(r) => compare::connections_reason(r, &g),
            None => compare::growth_reason(&g, rate_per_min, (loads[loads.len() - g.len], loads[loads.len() - 1])),
        }];
        if s.orphaned > 0 {
            reasons.push(compare::orphan_reason(s.orphaned));
        }
        if s.leaked > 0 {
            reasons.push(compare::leaked_reason(s.leaked));
        }
        let hint = match connection {
            Some(r) => Some(r.hint().to_string()),
            None => s.hint.clone().or_else(|| {
                (s.category == Category::ChanSend && !crate::classify::may_be_nil_chan(&s.state))
                    .then(|| compare::FORGOTTEN_SENDER_HINT.to_string())
            }),
        };
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
            role: s.role,
        });
    }
    ev.firing.sort_by(|a, b| a.site.cmp(&b.site).then(a.category.cmp(&b.category)));
    ev
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
/// [role.connections]    # every connection role; or one: [role.http_server_conn]
/// alert = true          # default false: growing connections are reported, not alerted
/// min_growth = 200      # and the three thresholds, as above
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
    role: BTreeMap<String, PartialRoleRule>,
    #[serde(default)]
    allow: Vec<AllowEntry>,
}

#[derive(Debug, Default, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
struct PartialRoleRule {
    alert: Option<bool>,
    min_snapshots: Option<usize>,
    min_growth: Option<u64>,
    min_relative: Option<f64>,
}

impl PartialRoleRule {
    fn over(self, base: RoleRule) -> RoleRule {
        let t = PartialThresholds {
            min_snapshots: self.min_snapshots,
            min_growth: self.min_growth,
            min_relative: self.min_relative,
        };
        RoleRule { alert: self.alert.unwrap_or(base.alert), thresholds: t.over(base.thresholds) }
    }
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
            let base = r.thresholds(c);
            r.categories.insert(c, v.over(base));
        }
        if let Some(c) = f.role.get("connections") {
            r.connections = c.over(r.connections);
        }
        for (k, v) in &f.role {
            if k == "connections" {
                continue;
            }
            let role = Role::from_name(k).filter(|r| r.is_connection()).ok_or_else(|| {
                let names: Vec<&str> = Role::ALL.iter().filter(|r| r.is_connection()).map(|r| r.name()).collect();
                bad(format!("unknown role [role.{k}]; choose connections or one of: {}", names.join(", ")))
            })?;
            r.roles.insert(role, v.over(r.connections));
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

    /// A history read since a restart starts with the new process: its warm-up (workers
    /// filling up while the clients come back, connections rising) pages nobody, while the
    /// same counts without the restart do (recorded: `go/leaky`'s shard workers after a
    /// restart, in `tests/load_profile.rs`).
    #[test]
    fn warm_up_of_a_history_read_since_a_restart_pages_nobody() {
        let mut s = series("main.fetchShard", Category::Sleep, &[0, 4, 14, 27]);
        for (r, c) in s.iter_mut().zip([0, 4, 8, 12]) {
            r.connections = c;
        }
        // Judged as any category (sleepers need one snapshot more since).
        let r = Rules { categories: [(Category::Sleep, Thresholds::DEFAULT)].into(), ..Rules::default() };
        assert!(!evaluate("t", &s, &r, 0).firing.is_empty(), "without the restart it reads as growth");
        assert!(evaluate_since("t", &s, true, &[], &r, 0).firing.is_empty(), "the warm-up of a restart");
        // Past the warm-up, growth with the connections flat is judged as ever.
        for n in [40, 55, 70] {
            let mut more = series("main.fetchShard", Category::Sleep, &[n]);
            more[0].connections = 12;
            s.extend(more);
        }
        assert!(!evaluate_since("t", &s, true, &[], &r, 0).firing.is_empty(), "growth after the warm-up");
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

    /// An alert resolves once its site stops growing, not when the load catches up: a leak
    /// caught on flat traffic (+10 a check) keeps growing as a morning ramp starts (clients
    /// ×1.5 a check), which alone explains its last steps. Firing, it keeps firing until two
    /// checks without growth; a restart still resolves it.
    #[test]
    fn a_firing_alert_lasts_while_its_site_grows() {
        let counts = [60, 70, 80, 90, 100, 110, 120, 130, 140, 140, 140];
        let mut s = series("main.lookupSuggestion.func1", Category::ChanSend, &counts);
        let conns = [20, 20, 20, 20, 20, 20, 30, 45, 67, 67, 67];
        for (r, c) in s.iter_mut().zip(conns) {
            (r.connections, r.requests) = (c, c / 2);
        }
        let r = Rules::default();
        let site = [(s[0].groups[0].site.location.clone(), Category::ChanSend)];
        let other = [(s[0].groups[0].site.location.clone(), Category::Select)];
        let fires = |n: usize, firing: &[(Site, Category)]| {
            !evaluate_since("t", &s[..n], false, firing, &r, 0).firing.is_empty()
        };
        assert!(!fires(2, &[]) && fires(3, &[]), "caught at the third check");
        assert!(!fires(9, &[]), "the ninth alone reads as the load");
        assert!(!fires(9, &other), "another state's alert at the line");
        for n in 3..=10 {
            assert!(fires(n, &site), "still growing at check {n}");
        }
        assert!(!fires(11, &site), "resolved after two checks without growth");
        assert_eq!(compare::still_growing(&[5, 9, 8], 2), None, "a count that fell");
        assert_eq!(compare::still_growing(&[5, 9, 9, 12], 2).map(|g| (g.len, g.first)), Some((4, 5)));
        // A restart starts a new baseline: the warm-up's rise keeps no alert firing.
        let mut warm = series("main.lookupSuggestion.func1", Category::ChanSend, &[0, 5, 12]);
        for (r, c) in warm.iter_mut().zip([0, 4, 8]) {
            r.connections = c;
        }
        assert!(evaluate_since("t", &warm, true, &site, &r, 0).firing.is_empty(), "the warm-up of a restart");
    }

    /// Sleepers wake by themselves: a line of them needs one snapshot more than the default,
    /// and follows the default set by the flags; a rules file may still set their own.
    #[test]
    fn sleepers_need_one_snapshot_more() {
        let r = Rules::default();
        assert!(fires(Category::ChanReceive, &[0, 8, 16, 24], &r));
        assert!(!fires(Category::Sleep, &[0, 8, 16, 24], &r), "4 snapshots are not enough");
        assert!(fires(Category::Sleep, &[0, 8, 16, 24, 32], &r), "5 are");
        let flags = Rules { default: Thresholds { min_snapshots: 2, ..Thresholds::DEFAULT }, ..Rules::default() };
        assert_eq!(flags.thresholds(Category::Sleep).min_snapshots, 3);
        let narrow = Rules { window: 4, ..Rules::default() };
        assert!(fires(Category::Sleep, &[0, 8, 16, 24], &narrow), "never more than the window");
        let file = Rules::from_toml("r.toml", "[category.sleep]\nmin_snapshots = 3\n").unwrap();
        assert!(fires(Category::Sleep, &[0, 8, 16], &file));
        let file = Rules::from_toml("r.toml", "[category.sleep]\nmin_growth = 30\n").unwrap();
        assert_eq!(
            file.thresholds(Category::Sleep),
            Thresholds { min_snapshots: 5, min_growth: 30, min_relative: 0.5 }
        );
    }

    /// `trend` and `check` judge one series alike: the issue's baseline-then-growth.
    #[test]
    fn check_and_trend_agree_on_baseline_then_growth() {
        let counts = [1, 1, 51, 101, 151, 201];
        let r = Rules { window: 8, ..Rules::default() };
        for c in [Category::ChanReceive, Category::IoWait, Category::ChanSend] {
            let ev = evaluate("t", &series("main.f", c, &counts), &r, 0);
            assert_eq!(ev.firing.len(), 1, "{c:?}");
            assert_eq!(ev.firing[0].counts, [1, 51, 101, 151, 201]);
            assert_eq!(ev.firing[0].reasons[0], "sustained growth: 1 → 201 over 5 snapshots");
            let trend = compare::compare(&series("main.f", c, &counts), &TrendSettings::default());
            assert!(trend.sites[0].growing && trend.sites[0].suspect);
        }
    }

    #[test]
    fn requests_in_flight_never_alert_by_their_count() {
        let mut handlers = series("main.handle", Category::Sleep, &[2, 8, 16, 24, 32, 40]);
        for r in &mut handlers {
            r.groups[0].requests = r.groups[0].count;
        }
        assert!(evaluate("t", &handlers, &Rules::default(), 0).firing.is_empty(), "slower requests page nobody");
        assert!(fires(Category::Sleep, &[2, 8, 16, 24, 32, 40], &Rules::default()), "the same, not serving requests");
    }

    #[test]
    fn connections_alert_only_when_the_rules_say_so() {
        let conns = |counts: &[u64]| -> Vec<SnapshotReport> {
            let mut s = series("net/http.(*conn).serve", Category::IoWait, counts);
            for r in &mut s {
                r.groups[0].role = Some(Role::HttpServerConn);
                r.groups[0].connections = r.groups[0].count;
                r.connections = r.groups[0].count;
            }
            s
        };
        let ramp = conns(&[2, 8, 14, 20, 26, 32]);
        assert!(evaluate("t", &ramp, &Rules::default(), 0).firing.is_empty(), "a traffic ramp pages nobody");
        let r = Rules::from_toml("r.toml", "[role.connections]\nalert = true\n").unwrap();
        let f = evaluate("t", &ramp, &r, 0).firing;
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].reasons[0], "open client connections growing: 2 → 32 connections");
        assert_eq!(f[0].role, Some(Role::HttpServerConn));
        let r = Rules::from_toml("r.toml", "[role.http_server_conn]\nalert = true\nmin_growth = 100\n").unwrap();
        assert!(evaluate("t", &ramp, &r, 0).firing.is_empty(), "below its own threshold");
        let e = Rules::from_toml("r.toml", "[role.http_conn]\nalert = true").unwrap_err().to_string();
        assert!(e.contains("unknown role [role.http_conn]") && e.contains("http_server_conn"), "{e}");
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
