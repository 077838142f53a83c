//! The `goroscope` command line: parses arguments into the library's plain settings,
//! runs a command, and maps the outcome to an exit code (0 fine, 1 a finding the user
//! asked to fail on, 2 an error; a closed pipe is fine).

use clap::{Args, CommandFactory, Parser, Subcommand};

use goroscope::alert::{HttpPoster, NotifySettings};
use goroscope::app::{self, LoadSettings, ShowSettings};
use goroscope::clock::{Clock, ManualClock, SystemClock};
use goroscope::fetch::FetchSettings;
use goroscope::group::{GroupBy, GroupSettings};
use goroscope::limits::{ByteSize, Limits};
use goroscope::model::{Format, ProfileKind};
use goroscope::report::Style;
use goroscope::rules::Rules;
use goroscope::watch::{CheckSettings, Target, WatchSettings};
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

/// What `--debug N` costs and gives (in `fetch --help`; the short help of every command
/// stays one line).
macro_rules! DEBUG_HELP {
    () => {
        "ask the service for ?debug=N (0, 1 or 2) instead of the default 0.

0: a gzipped protobuf. Since Go 1.19 it costs the service one short pause of fixed length whatever its size. It has stacks and labels, but no wait states, no wait times and no goroutine ids: states are inferred from the stacks.
1: the same counted stacks as text; still no wait states.
2: every goroutine's own traceback, as a crash prints it: its wait state and for how many minutes it has waited (the surest sign of a leak), its id, and the goroutine that created it. The cost: the runtime stops the world for the whole dump, a pause users notice on a service with many goroutines, and cuts the dump off at 64 MiB."
    };
}

/// What `--module` means (in `show --help`, so that every command's `--help` stays one
/// line a flag).
macro_rules! MODULE_HELP {
    () => {
        "the program's own code, as an import path prefix, e.g. github.com/acme/shop (repeatable: a workspace, or every module of an organisation with github.com/acme).

The blocking site of a goroutine is its first frame in the program's own code, so that a wait inside a dependency (golang.org/x/sync/semaphore, a database driver) is told apart by the callers in the program. Without --module the program's own code is found from the dump: package main and the packages of its repository (from the file paths of package main's frames); packages in the module cache (@vX in their path) or under vendor/ are dependencies."
    };
}

#[derive(Parser)]
#[command(
    name = "goroscope",
    version,
    about = "Find goroutine leaks in Go services.",
    long_about = "Find goroutine leaks in Go services.\n\nReads goroutine dumps and profiles in every format the Go runtime writes (debug=0 protobuf, debug=1 and debug=2 text, panics, SIGQUIT output, dumps inside container logs), groups goroutines by blocking site, and compares snapshots to show which sites grow."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Group goroutines by blocking site and print a table (or JSON).
    #[command(
        after_help = concat!("--module PATH: ", MODULE_HELP!(), "\n\n", "EXAMPLES:\n  goroscope show dump.txt\n  goroscope show --json profile.pb.gz\n  curl -s localhost:6060/debug/pprof/goroutine?debug=2 | goroscope show -\n  goroscope show --state chan_send --stacks dump.txt")
    )]
    Show(ShowArgs),
    /// Save a profile from a running service, byte for byte, to open later.
    #[command(
        after_help = concat!("The file holds exactly what the service sent, so it opens later in goroscope or `go tool pprof`. It is written through a temporary file in the same folder, so a failed fetch leaves nothing behind.\n\n--debug N: ", DEBUG_HELP!(), "\n\nEXAMPLES:\n  goroscope fetch http://localhost:6060 -o goroutine.pb.gz\n  goroscope fetch --debug 2 http://localhost:6060 -o dump.txt\n  goroscope fetch --bearer-token-file token https://svc:6060 -o leak.pb.gz --profile goroutineleak")
    )]
    Fetch(FetchCmdArgs),
    /// Compare two snapshots per blocking site: before, after, delta.
    #[command(
        after_help = "Sites are matched by function, file and line, so snapshots in different formats compare.\n\nEXAMPLES:\n  goroscope diff before.pb.gz after.pb.gz\n  goroscope diff --json old.txt new.txt"
    )]
    Diff(DiffArgs),
    /// Growth per blocking site across three or more snapshots; flags leak suspects.
    #[command(
        after_help = "Order: capture time, else file name (snap-2 before snap-10), else modification time. A site grows when its count outgrew the load (connections, requests in flight) by --min-growth, in most steps, and still rose in the last two; snapshots before a restart are not judged (README: \"The rule\"). Suspects: growing sites (connections with --connections-suspect), sites blocked forever (nil channels, select {}), orphans whose count rose, goroutines marked leaked.\n\nEXAMPLES:\n  goroscope trend snapshots/\n  goroscope trend --json s1.pb.gz s2.pb.gz s3.pb.gz"
    )]
    Trend(TrendArgs),
    /// Poll services once, record per-site counts in a history, alert on leak growth (cron, CI).
    #[command(after_help = CHECK_HELP)]
    Check(CheckArgs),
    /// Poll services on an interval: live table or JSON Lines events, alerts, /metrics.
    #[command(after_help = WATCH_HELP)]
    Watch(WatchArgs),
    /// Write a dump as a pprof profile, folded stacks or a speedscope file, for other tools.
    #[command(after_help = EXPORT_HELP)]
    Export(ExportArgs),
    /// Print a shell completion script: bash, zsh, fish, elvish or powershell.
    #[command(
        after_help = "EXAMPLES:\n  goroscope completions bash > /etc/bash_completion.d/goroscope\n  goroscope completions zsh > \"${fpath[1]}/_goroscope\"\n  goroscope completions fish > ~/.config/fish/completions/goroscope.fish"
    )]
    Completions {
        #[arg(value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
    /// Print a manual page (roff), generated from this help: goroscope's, or a command's.
    #[command(
        after_help = "EXAMPLES:\n  goroscope man > /usr/local/share/man/man1/goroscope.1\n  goroscope man trend > /usr/local/share/man/man1/goroscope-trend.1\n  goroscope man | man -l -"
    )]
    Man {
        /// The command whose page to print (goroscope-COMMAND(1)); none for goroscope(1).
        #[arg(value_name = "COMMAND")]
        command: Option<String>,
    },
}

/// The manual page of goroscope, or of one of its commands as `goroscope-NAME`.
fn man_page(name: Option<&str>, out: &mut impl Write) -> goroscope::Result<()> {
    let cli = Cli::command();
    let cmd = match name {
        None => cli,
        Some(n) => {
            let sub = cli.find_subcommand(n).cloned().ok_or_else(|| {
                let names: Vec<&str> = cli.get_subcommands().map(|c| c.get_name()).collect();
                goroscope::Error::Usage(format!("no command {n:?}; choose one of: {}", names.join(", ")))
            })?;
            // The page is named after the command as man knows it (a process prints one page).
            let title: &'static str = Box::leak(format!("goroscope-{n}").into_boxed_str());
            sub.name(title)
        }
    };
    clap_mangen::Man::new(cmd).render(out).map_err(|e| goroscope::Error::io("stdout", e))
}

const EXPORT_HELP: &str = "Any input goroscope reads (debug=2 text, panic, SIGQUIT, logs, debug=1, debug=0) becomes one sample per distinct stack and labels, its goroutine count as the value, with labels for what the text knows and pprof does not: state, category, blocking_site, wait_minutes (numeric, tracebacks only), orphaned, leaked, created_by, plus the goroutine's own pprof labels. Files are written through a temporary file and never replace an existing one without --force.\n\n--pprof: gzipped profile.proto, for go tool pprof (-top, -traces, -tagfocus category=chan_send, -http).\n--folded: one `root;...;leaf;[wait state] count` line per stack, for inferno-flamegraph or flamegraph.pl.\n--speedscope: speedscope's JSON file format.\n\ndiff and trend write the growth instead (the same flags, plus --html).\n\nEXAMPLES:\n  goroscope export --pprof dump.pb.gz sigquit.txt && go tool pprof -tagfocus category=chan_send -top dump.pb.gz\n  goroscope export --folded dump.folded dump.txt && inferno-flamegraph dump.folded > flame.svg\n  goroscope export --speedscope dump.speedscope.json http://localhost:6060";

#[derive(Args)]
struct ExportArgs {
    /// A file, `-` for stdin, or an http(s) URL.
    #[arg(value_name = "SOURCE")]
    source: String,
    #[command(flatten)]
    formats: ExportFormats,
    /// Overwrite files that exist.
    #[arg(long)]
    force: bool,
    /// Which dump of a source holding several (a log), from 1.
    #[arg(long, value_name = "N")]
    snapshot: Option<usize>,
    /// The program's own code, as an import path prefix (repeatable); found from the dump when absent (see `show --help`).
    #[arg(long = "module", value_name = "PATH", value_parser = parse_module)]
    modules: Vec<String>,
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    fetch: FetchArgs,
}

/// The export formats, each to its own file.
#[derive(Args)]
struct ExportFormats {
    /// Write a gzipped pprof profile (profile.proto) to FILE.
    #[arg(long, value_name = "FILE")]
    pprof: Option<std::path::PathBuf>,
    /// Write folded stacks (`root;...;leaf;[state] count`) to FILE.
    #[arg(long, value_name = "FILE")]
    folded: Option<std::path::PathBuf>,
    /// Write a speedscope file (JSON) to FILE.
    #[arg(long, value_name = "FILE")]
    speedscope: Option<std::path::PathBuf>,
}

impl ExportFormats {
    fn list(self) -> Vec<(goroscope::export::ExportFormat, std::path::PathBuf)> {
        use goroscope::export::ExportFormat as F;
        [(F::Pprof, self.pprof), (F::Folded, self.folded), (F::Speedscope, self.speedscope)]
            .into_iter()
            .filter_map(|(f, p)| p.map(|p| (f, p)))
            .collect()
    }
}

const CHECK_HELP: &str = concat!(
    "Fetches each target once, records the snapshot in the history (an SQLite file; create it by naming it), judges the target's recent history and prints the findings. Run it from cron, a Kubernetes CronJob or CI, on a schedule.\n\nExit status: 0 no alert, 1 an alert fires, 2 a target could not be checked (or another error).\n\n",
    "RULES (defaults):\n  The last 6 snapshots of a target since its last restart are looked at (--window). A site alerts when, over its last K snapshots, its count outgrew the load (connections and requests in flight) by at least --min-growth goroutines and --min-relative of what the load explains, rising in most steps faster than the connections, never falling back to where it started, and it still grew within the last --resolve-after snapshots (README: \"The rule\").\n  default:                                  K >= 4 snapshots, +10 goroutines, +50%\n  chan_send, nil_chan_send, orphaned sites: K >= 3 snapshots, +3 goroutines, +20% (they alert earlier)\n  sleep:                                    one snapshot more than the default (sleepers wake by themselves)\n  An alert resolves once the site has not grown for 2 snapshots (--resolve-after); until then it keeps firing, even where the load now explains the growth. A steady count (fixed pools, idle connections, tickers, accept loops) never alerts; growing connections alert only with [role.connections] alert = true in the rules file. The --min-* flags set the default thresholds; --rules FILE (TOML) sets per-category ones and an allowlist (see the README).\n\n",
    "EXAMPLES:\n  goroscope check http://localhost:6060 --history leaks.db\n  goroscope check --targets fleet.txt --history /var/lib/goroscope/history.db --retain 7d --metrics-file /var/lib/node_exporter/goroscope.prom\n  goroscope check http://svc:6060 --history h.db --alertmanager http://alertmanager:9093 --json"
);

const WATCH_HELP: &str = "Polls every target every --every, as `check` does, until SIGINT or SIGTERM (the poll under way finishes and is recorded). On a terminal it redraws a table; otherwise it prints JSON Lines events: {\"type\": \"snapshot\" | \"alert\" | \"resolved\" | \"error\", ...}. A failed poll is reported and counted, and the loop goes on. Without --history the history lives in memory. The rules are those of `goroscope check --help`.\n\nEXAMPLES:\n  goroscope watch http://localhost:6060 --every 30s\n  goroscope watch --targets fleet.txt --listen 127.0.0.1:9187 --history h.db --json";

#[derive(Args)]
struct CheckArgs {
    /// Services: http(s)://HOST:PORT (meaning /debug/pprof/goroutine), a full profile URL, or a profile file (path or file://).
    #[arg(value_name = "TARGET")]
    targets: Vec<String>,
    /// The history file (SQLite; created when missing).
    #[arg(long, value_name = "FILE")]
    history: std::path::PathBuf,
    /// Also write metrics in Prometheus text format to PATH, atomically (node_exporter textfile).
    #[arg(long, value_name = "PATH")]
    metrics_file: Option<std::path::PathBuf>,
    /// Print JSON Lines events instead of text.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    poll: PollArgs,
}

#[derive(Args)]
struct WatchArgs {
    /// Services: http(s)://HOST:PORT (meaning /debug/pprof/goroutine) or a full profile URL.
    #[arg(value_name = "TARGET")]
    targets: Vec<String>,
    /// Time between polls: 30s, 5m, 1h.
    #[arg(long, value_name = "SPAN", default_value = "30s", value_parser = goroscope::clock::parse_span)]
    every: std::time::Duration,
    /// Keep the history in FILE (SQLite) instead of in memory.
    #[arg(long, value_name = "FILE")]
    history: Option<std::path::PathBuf>,
    /// Serve Prometheus metrics at http://ADDR/metrics, e.g. 127.0.0.1:9187.
    #[arg(long, value_name = "ADDR")]
    listen: Option<std::net::SocketAddr>,
    /// Print JSON Lines events even on a terminal.
    #[arg(long)]
    json: bool,
    /// Stop after N polls.
    #[arg(long, value_name = "N", hide = true)]
    polls: Option<u64>,
    #[command(flatten)]
    poll: PollArgs,
}

/// What `check` and `watch` share: targets, history keeping, rules, alert destinations.
#[derive(Args)]
struct PollArgs {
    /// Read targets from FILE: one `URL [NAME]` a line, `#` comments.
    #[arg(long = "targets", value_name = "FILE")]
    targets_file: Option<std::path::PathBuf>,
    /// Also keep every raw profile in DIR (opens in goroscope or `go tool pprof`).
    #[arg(long, value_name = "DIR")]
    keep_raw: Option<std::path::PathBuf>,
    /// Forget snapshots (and kept raw profiles) older than SPAN: 7d, 12h.
    #[arg(long, value_name = "SPAN", value_parser = goroscope::clock::parse_span)]
    retain: Option<std::time::Duration>,
    /// Polls in flight at once.
    #[arg(long, value_name = "N", default_value_t = goroscope::watch::DEFAULT_CONCURRENCY)]
    concurrency: usize,
    /// Rules file (TOML): thresholds per category, allowlist (see --help).
    #[arg(long, value_name = "FILE", help_heading = "Rules")]
    rules: Option<std::path::PathBuf>,
    /// Snapshots of a target looked at [default: 6].
    #[arg(long, value_name = "N", help_heading = "Rules")]
    window: Option<usize>,
    /// Least snapshots growth must be sustained over [default: 4].
    #[arg(long, value_name = "N", help_heading = "Rules")]
    min_snapshots: Option<usize>,
    /// Least growth, in goroutines [default: 10].
    #[arg(long, value_name = "N", help_heading = "Rules")]
    min_growth: Option<u64>,
    /// Least growth relative to the starting count, 0.5 = +50% [default: 0.5].
    #[arg(long, value_name = "FRACTION", help_heading = "Rules")]
    min_relative: Option<f64>,
    /// Snapshots without growth before an alert resolves [default: 2].
    #[arg(long, value_name = "N", help_heading = "Rules")]
    resolve_after: Option<usize>,
    /// Never alert for sites whose function or file matches REGEX (repeatable).
    #[arg(long, value_name = "REGEX", help_heading = "Rules")]
    allow: Vec<regex::Regex>,
    /// POST new and resolved alerts as JSON to URL.
    #[arg(long, value_name = "URL", help_heading = "Alerts")]
    webhook: Option<String>,
    /// Send alerts to Prometheus Alertmanager at URL (its v2 API), e.g. http://alertmanager:9093.
    #[arg(long, value_name = "URL", help_heading = "Alerts")]
    alertmanager: Option<String>,
    /// Timeout of one alert request.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = goroscope::fetch::parse_duration, help_heading = "Alerts")]
    alert_timeout: std::time::Duration,
    /// Retries of a failed alert request (with backoff 1s, 2s, 4s, …).
    #[arg(long, value_name = "N", default_value_t = 3, help_heading = "Alerts")]
    alert_retries: u32,
    /// How long Alertmanager keeps a firing alert not sent again [default: 1h for check, 4 × --every (at least 5m) for watch].
    #[arg(long, value_name = "SPAN", value_parser = goroscope::clock::parse_span, help_heading = "Alerts")]
    alert_ttl: Option<std::time::Duration>,
    #[command(flatten)]
    fetch: FetchArgs,
    #[command(flatten)]
    input: InputArgs,
}

impl PollArgs {
    fn settings(
        self,
        urls: Vec<String>,
        history: Option<std::path::PathBuf>,
        json: bool,
        metrics_file: Option<std::path::PathBuf>,
    ) -> goroscope::Result<CheckSettings> {
        let mut targets: Vec<Target> = urls.iter().map(|u| Target::new(u, None)).collect();
        if let Some(f) = &self.targets_file {
            targets.extend(goroscope::watch::read_targets(f)?);
        }
        if targets.is_empty() {
            return Err(goroscope::Error::Usage("no targets: name a URL or pass --targets FILE".into()));
        }
        if let Some(h) = history.as_ref().filter(|h| h.is_dir()) {
            return Err(goroscope::Error::Usage(format!(
                "--history {}: is a folder; --history names the history file itself (SQLite, created when missing), e.g. {}",
                h.display(),
                h.join("history.db").display()
            )));
        }
        let mut rules = match &self.rules {
            Some(p) => {
                let name = p.display().to_string();
                let text = std::fs::read_to_string(p).map_err(|e| goroscope::Error::io(&name, e))?;
                Rules::from_toml(&name, &text)?
            }
            None => Rules::default(),
        };
        if let Some(w) = self.window {
            rules.window = w.max(2);
        }
        if let Some(q) = self.resolve_after {
            rules.resolve_after = q.max(1);
        }
        rules.default.min_snapshots = self.min_snapshots.unwrap_or(rules.default.min_snapshots);
        rules.default.min_growth = self.min_growth.unwrap_or(rules.default.min_growth);
        rules.default.min_relative = self.min_relative.unwrap_or(rules.default.min_relative);
        rules.allow.extend(self.allow.into_iter().map(|pattern| goroscope::rules::Allow {
            pattern,
            expires: None,
            reason: None,
        }));
        let mut fetch = self.fetch.settings();
        fetch.progress = false;
        Ok(CheckSettings {
            targets,
            history,
            load: LoadSettings { fetch, ..self.input.settings() },
            rules,
            keep_raw: self.keep_raw,
            retain: self.retain,
            concurrency: self.concurrency.max(1),
            json,
            notify: NotifySettings {
                webhook: self.webhook,
                alertmanager: self.alertmanager,
                timeout: self.alert_timeout,
                retries: self.alert_retries,
                ttl: self.alert_ttl.unwrap_or(goroscope::alert::DEFAULT_TTL),
                ..NotifySettings::default()
            },
            metrics_file,
        })
    }
}

#[derive(Args)]
struct DiffArgs {
    /// The earlier snapshot.
    #[arg(value_name = "OLD")]
    old: String,
    /// The later snapshot.
    #[arg(value_name = "NEW")]
    new: String,
    #[command(flatten)]
    compare: CompareArgs,
}

#[derive(Args)]
struct TrendArgs {
    /// Files, folders, or URLs: at least two snapshots, three or more to judge growth.
    #[arg(required = true, value_name = "SOURCE")]
    sources: Vec<String>,
    /// Keep the order given instead of sorting by capture time.
    #[arg(long)]
    in_order: bool,
    #[command(flatten)]
    compare: CompareArgs,
}

#[derive(Args)]
struct CompareArgs {
    /// Print one JSON document instead of a table.
    #[arg(long)]
    json: bool,
    /// Show every site, not only suspects and the 20 largest others.
    #[arg(long)]
    all: bool,
    /// Least growth beyond the load that counts (less is noise)
    #[arg(long, default_value_t = goroscope::compare::DEFAULT_TREND_MIN_GROWTH, value_name = "N")]
    min_growth: u64,
    /// Rates from file modification times too (not only capture times)
    #[arg(long)]
    file_times: bool,
    /// Count growing connections (HTTP/gRPC, client pools) as suspects.
    #[arg(long)]
    connections_suspect: bool,
    /// Exit 1 when there is a leak suspect (for CI).
    #[arg(long)]
    fail_on_suspect: bool,
    /// Keep only goroutines with a frame (function or file) matching REGEX.
    #[arg(long, value_name = "REGEX")]
    focus: Option<regex::Regex>,
    /// Drop goroutines with a frame (function or file) matching REGEX.
    #[arg(long, value_name = "REGEX")]
    ignore: Option<regex::Regex>,
    /// Also write a self-contained HTML report to FILE.
    #[arg(long, value_name = "FILE")]
    html: Option<std::path::PathBuf>,
    #[command(flatten)]
    growth: GrowthFormats,
    /// Overwrite the --html or --pprof file if it exists.
    #[arg(long)]
    force: bool,
    /// The program's own code, as an import path prefix (repeatable); found from the dump when absent (see `show --help`).
    #[arg(long = "module", value_name = "PATH", value_parser = parse_module)]
    modules: Vec<String>,
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    fetch: FetchArgs,
}

/// The growth exports of `diff` and `trend`. `--folded` and `--speedscope` are left out
/// of `--help`, which keeps to one screen; the README and `export --help` name them.
#[derive(Args)]
struct GrowthFormats {
    /// Also write each site's growth (last - first) to FILE as a pprof profile.
    #[arg(long, value_name = "FILE")]
    pprof: Option<std::path::PathBuf>,
    /// Write the sites that grew, by their growth, as folded stacks to FILE.
    #[arg(long, value_name = "FILE", hide = true)]
    folded: Option<std::path::PathBuf>,
    /// Write the sites that grew, by their growth, as a speedscope file to FILE.
    #[arg(long, value_name = "FILE", hide = true)]
    speedscope: Option<std::path::PathBuf>,
}

/// Checks a `--module` value: an import path prefix.
fn parse_module(s: &str) -> Result<String, String> {
    let p = s.trim_end_matches('/');
    let bad = p.is_empty()
        || p.starts_with('/')
        || p.contains("//")
        || p.split('/').any(|e| e == "." || e == "..")
        || p.chars().any(|c| c.is_whitespace() || c == '@' || c == '\\');
    if bad {
        Err(format!("{s:?} is not an import path prefix; give one like github.com/acme/shop"))
    } else {
        Ok(p.to_string())
    }
}

impl CompareArgs {
    fn settings(
        self,
        sources: Vec<String>,
        view: goroscope::report::CompareView,
        in_order: bool,
    ) -> (app::CompareSettings, bool) {
        let s = app::CompareSettings {
            sources,
            load: LoadSettings { fetch: self.fetch.settings(), ..self.input.settings() },
            group: GroupSettings {
                focus: self.focus,
                ignore: self.ignore,
                modules: self.modules,
                ..GroupSettings::default()
            },
            trend: goroscope::compare::TrendSettings {
                min_growth: self.min_growth,
                file_times: self.file_times,
                connections_suspect: self.connections_suspect,
                ..Default::default()
            },
            order: if in_order { app::Order::AsGiven } else { app::Order::Auto },
            json: self.json,
            style: style(),
            view,
            limit: if self.all { 0 } else { 20 },
            outputs: app::Outputs {
                html: self.html,
                exports: ExportFormats {
                    pprof: self.growth.pprof,
                    folded: self.growth.folded,
                    speedscope: self.growth.speedscope,
                }
                .list(),
                force: self.force,
            },
        };
        (s, self.fail_on_suspect)
    }
}

#[derive(Args)]
struct ShowArgs {
    /// Files, folders, `-` for stdin, or http(s) URLs.
    #[arg(required = true, value_name = "SOURCE")]
    sources: Vec<String>,
    /// Print one JSON document instead of tables.
    #[arg(long)]
    json: bool,
    /// Print an example stack for every group.
    #[arg(long)]
    stacks: bool,
    /// Also write a self-contained HTML report to FILE (groups, stacks, labels, wait times).
    #[arg(long, value_name = "FILE")]
    html: Option<std::path::PathBuf>,
    /// Overwrite the --html file if it exists.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    group: GroupArgs,
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    fetch: FetchArgs,
}

#[derive(Args)]
struct FetchCmdArgs {
    /// The service: http(s)://HOST:PORT (meaning /debug/pprof/goroutine) or a full profile URL.
    #[arg(value_name = "URL")]
    url: String,
    /// The file to write.
    #[arg(short, long, value_name = "FILE")]
    output: std::path::PathBuf,
    /// Overwrite FILE if it exists.
    #[arg(long)]
    force: bool,
    /// Largest response: 512MiB, 16GiB, or bytes.
    #[arg(long, value_name = "SIZE", default_value_t = ByteSize(Limits::default().max_input))]
    max_input: ByteSize,
    #[command(flatten)]
    fetch: FetchArgs,
}

/// How URLs are fetched.
#[derive(Args)]
#[command(next_help_heading = "Fetching from a URL")]
struct FetchArgs {
    /// The profile a base URL means: goroutine, or goroutineleak (only leaked goroutines; recent Go).
    #[arg(long, value_name = "NAME", value_parser = parse_profile)]
    profile: Option<ProfileKind>,
    /// Ask for ?debug=1 or 2 instead of 0: wait states, minutes, ids, creators, at a cost (see `fetch --help`).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(0..=2))]
    debug: Option<u8>,
    /// Send a request header, 'Name: value' (repeatable).
    #[arg(short = 'H', long = "header", value_name = "'NAME: VALUE'")]
    headers: Vec<String>,
    /// Send Authorization: Bearer with the token in FILE.
    #[arg(long, value_name = "FILE")]
    bearer_token_file: Option<std::path::PathBuf>,
    /// Basic auth (or put user:pass@ in the URL).
    #[arg(long, value_name = "USER:PASS")]
    user: Option<String>,
    /// Also trust the CA certificates (PEM) in FILE.
    #[arg(long, value_name = "FILE")]
    cacert: Option<std::path::PathBuf>,
    /// Client certificate (PEM) for mutual TLS; it may hold the key too.
    #[arg(long, value_name = "FILE")]
    cert: Option<std::path::PathBuf>,
    /// Private key (PEM) of --cert.
    #[arg(long, value_name = "FILE")]
    key: Option<std::path::PathBuf>,
    /// Do not check the server's certificate (dangerous: anyone on the path sees your credentials).
    #[arg(long)]
    insecure: bool,
    /// Give up on a fetch after this long, connecting included: 30s, 500ms, 2m [default: 60s].
    #[arg(long, value_name = "DURATION", value_parser = goroscope::fetch::parse_duration)]
    timeout: Option<std::time::Duration>,
    /// Connect through this Unix socket (the URL then only names the path, e.g. http://localhost).
    #[arg(long, value_name = "PATH")]
    unix_socket: Option<std::path::PathBuf>,
}

/// The clock of `check` and `watch`: the system's, or for tests (`GOROSCOPE_TEST_CLOCK` =
/// Unix seconds, not a user setting) one that starts there and whose waits take no time,
/// so an hour of `watch` polls runs in seconds.
fn clock() -> goroscope::Result<Box<dyn Clock>> {
    match std::env::var("GOROSCOPE_TEST_CLOCK") {
        Err(_) => Ok(Box::new(SystemClock)),
        Ok(v) => {
            v.trim().parse::<i64>().map(|s| Box::new(ManualClock::at(s * 1_000_000_000)) as Box<dyn Clock>).map_err(
                |_| goroscope::Error::Usage(format!("GOROSCOPE_TEST_CLOCK={v:?}: want Unix seconds (it is for tests)")),
            )
        }
    }
}

fn parse_profile(s: &str) -> Result<ProfileKind, String> {
    [ProfileKind::Goroutine, ProfileKind::Goroutineleak]
        .into_iter()
        .find(|p| p.name() == s)
        .ok_or_else(|| format!("unknown profile {s:?}; choose goroutine or goroutineleak"))
}

impl FetchArgs {
    fn settings(self) -> FetchSettings {
        FetchSettings {
            profile: self.profile,
            debug: self.debug,
            headers: self.headers,
            bearer_token_file: self.bearer_token_file,
            user: self.user,
            cacert: self.cacert,
            cert: self.cert,
            key: self.key,
            insecure: self.insecure,
            timeout: self.timeout,
            unix_socket: self.unix_socket,
            progress: std::io::stderr().is_terminal() && !goroscope::report::no_color(),
        }
    }
}

#[derive(Args)]
struct GroupArgs {
    /// Group by: site (wait state + blocking site), stack, creator, or label:KEY.
    #[arg(long, default_value = "site", value_name = "HOW")]
    group_by: GroupBy,
    /// Keep only goroutines with a frame (function or file) matching REGEX.
    #[arg(long, value_name = "REGEX")]
    focus: Option<regex::Regex>,
    /// Drop goroutines with a frame (function or file) matching REGEX.
    #[arg(long, value_name = "REGEX")]
    ignore: Option<regex::Regex>,
    /// Keep only these categories or wait states, e.g. chan_send or "IO wait" (repeatable).
    #[arg(long = "state", value_name = "STATE")]
    states: Vec<String>,
    /// Hide groups with fewer goroutines than this.
    #[arg(long, default_value_t = 1, value_name = "N")]
    min_count: u64,
    /// The program's own code, as an import path prefix (repeatable); found from the dump when absent (see `show --help`).
    #[arg(long = "module", value_name = "PATH", value_parser = parse_module)]
    modules: Vec<String>,
}

#[derive(Args)]
#[command(next_help_heading = "Input and limits")]
struct InputArgs {
    /// Force the input format instead of detecting it.
    #[arg(long, value_name = "FORMAT", value_parser = clap::builder::TypedValueParser::map(clap::builder::PossibleValuesParser::new(Format::ALL.map(Format::name)), |s: String| Format::from_name(&s).expect("a listed format")))]
    format: Option<Format>,
    /// Name each file skipped in a folder because it is not a dump.
    #[arg(short, long)]
    verbose: bool,
    /// Largest input read: 512MiB, 16GiB, or bytes.
    #[arg(long, value_name = "SIZE", default_value_t = ByteSize(Limits::default().max_input))]
    max_input: ByteSize,
    /// Largest size after gunzip (stops gzip bombs).
    #[arg(long, value_name = "SIZE", default_value_t = ByteSize(Limits::default().max_decompressed))]
    max_decompressed: ByteSize,
    /// Longest text line.
    #[arg(long, value_name = "SIZE", default_value_t = ByteSize(Limits::default().max_line))]
    max_line: ByteSize,
    /// Most frames in one goroutine.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_frames)]
    max_frames: u64,
    /// Most labels on one goroutine.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_labels)]
    max_labels: u64,
    /// Most goroutines (or samples) in one snapshot.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_goroutines)]
    max_goroutines: u64,
    /// Most snapshots in one run.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_snapshots)]
    max_snapshots: u64,
}

impl InputArgs {
    fn settings(&self) -> LoadSettings {
        LoadSettings {
            format: self.format,
            limits: Limits {
                max_input: self.max_input.0,
                max_decompressed: self.max_decompressed.0,
                max_line: self.max_line.0,
                max_frames: self.max_frames,
                max_labels: self.max_labels,
                max_goroutines: self.max_goroutines,
                max_snapshots: self.max_snapshots,
            },
            fetch: FetchSettings::default(),
            verbose: self.verbose,
        }
    }
}

impl GroupArgs {
    fn settings(&self) -> GroupSettings {
        GroupSettings {
            by: self.group_by.clone(),
            focus: self.focus.clone(),
            ignore: self.ignore.clone(),
            states: self.states.clone(),
            min_count: self.min_count,
            modules: self.modules.clone(),
            ..GroupSettings::default()
        }
    }
}

fn style() -> Style {
    Style::for_stdout()
}

fn run_compare(s: &app::CompareSettings, fail_on_suspect: bool, out: &mut impl Write) -> goroscope::Result<ExitCode> {
    let trend = app::compare(s, out)?;
    Ok(if fail_on_suspect && trend.suspects().next().is_some() { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// glibc's malloc raises its mmap threshold each time a large block is freed, after which
/// blocks up to 32 MiB come from the heap, and freed ones stay in RSS. A dump of distinct
/// values (issue 15) grows and frees tables of that size, and its peak held the dead ones
/// too (2.6x the input beyond it, 1.9x with this). Fixed thresholds keep large blocks
/// mapped (grown by mremap, given back when freed).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn tune_malloc() {
    // SAFETY: mallopt only sets allocator parameters, here before any other thread runs.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 << 10);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 128 << 10);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tune_malloc() {}

fn main() -> ExitCode {
    tune_malloc();
    let cli = Cli::parse();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let result = match cli.command {
        Command::Show(a) => {
            let s = ShowSettings {
                sources: a.sources,
                load: LoadSettings { fetch: a.fetch.settings(), ..a.input.settings() },
                group: a.group.settings(),
                json: a.json,
                stacks: a.stacks,
                style: style(),
                html: a.html,
                force: a.force,
            };
            let shown = app::show(&s, &mut out);
            if shown.is_ok() {
                if let Some(note) = goroscope::fetch::debug0_note(&s.sources, &s.load.fetch) {
                    let _ = out.flush();
                    eprintln!("goroscope: {}", goroscope::layout::escape(note));
                }
            }
            shown.map(|_| ExitCode::SUCCESS)
        }
        Command::Fetch(a) => {
            let s = app::FetchCommandSettings {
                url: a.url,
                output: a.output,
                force: a.force,
                fetch: a.fetch.settings(),
                limits: Limits { max_input: a.max_input.0, ..Limits::default() },
            };
            app::fetch(&s, &mut out).map(|_| ExitCode::SUCCESS)
        }
        Command::Export(a) => {
            let s = app::ExportSettings {
                source: a.source,
                load: LoadSettings { fetch: a.fetch.settings(), ..a.input.settings() },
                outputs: a.formats.list(),
                force: a.force,
                snapshot: a.snapshot,
                modules: a.modules,
            };
            app::export(&s, &mut out).map(|_| ExitCode::SUCCESS)
        }
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "goroscope", &mut out);
            Ok(ExitCode::SUCCESS)
        }
        Command::Man { command } => man_page(command.as_deref(), &mut out).map(|_| ExitCode::SUCCESS),
        Command::Diff(a) => {
            let (s, fail) = a.compare.settings(vec![a.old, a.new], goroscope::report::CompareView::Diff, true);
            run_compare(&s, fail, &mut out)
        }
        Command::Trend(a) => {
            let (s, fail) = a.compare.settings(a.sources, goroscope::report::CompareView::Trend, a.in_order);
            run_compare(&s, fail, &mut out)
        }
        Command::Check(a) => a.poll.settings(a.targets, Some(a.history), a.json, a.metrics_file).and_then(|s| {
            let poster = HttpPoster::new(s.notify.timeout)?;
            let clock = clock()?;
            let outcome = goroscope::watch::check(&s, clock.as_ref(), &poster, &mut out, &mut std::io::stderr())?;
            Ok(ExitCode::from(outcome.exit_code()))
        }),
        Command::Watch(a) => {
            let table = !a.json && std::io::stdout().is_terminal();
            let (every, listen, polls) = (a.every, a.listen, a.polls);
            let ttl = a.poll.alert_ttl.unwrap_or((every * 4).max(std::time::Duration::from_secs(300)));
            a.poll.settings(a.targets, a.history, true, None).and_then(|mut check| {
                check.notify.ttl = ttl;
                let poster = HttpPoster::new(check.notify.timeout)?;
                let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
                for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
                    signal_hook::flag::register(sig, stop.clone())
                        .map_err(|e| goroscope::Error::Usage(format!("cannot handle signals: {e}")))?;
                }
                let s = WatchSettings { check, every, listen, table, polls };
                let clock = clock()?;
                goroscope::watch::watch(&s, clock.as_ref(), &poster, &stop, &mut out, &mut std::io::stderr())?;
                Ok(ExitCode::SUCCESS)
            })
        }
    };
    let flushed = out.flush();
    match result {
        Ok(code) => {
            if let Err(e) = flushed {
                if e.kind() != std::io::ErrorKind::BrokenPipe {
                    eprintln!("goroscope: stdout: {e}");
                    return ExitCode::from(2);
                }
            }
            code
        }
        Err(goroscope::Error::Io { source_name, err })
            if source_name == "stdout" && err.kind() == std::io::ErrorKind::BrokenPipe =>
        {
            ExitCode::SUCCESS
        }
        Err(e) => {
            // Names, paths and server replies in the message come from outside: escaped.
            let msg = e.to_string();
            let lines: Vec<_> = msg.split('\n').map(goroscope::layout::escape).collect();
            eprintln!("goroscope: {}", lines.join("\n"));
            ExitCode::from(2)
        }
    }
}
