//! The `goroscope` command line: parses arguments into the library's plain settings,
//! runs a command, and maps the outcome to an exit code (0 fine, 1 a finding the user
//! asked to fail on, 2 an error; a closed pipe is fine).

use clap::{Args, Parser, Subcommand};
use goroscope::app::{self, LoadSettings, ShowSettings};
use goroscope::group::{GroupBy, GroupSettings};
use goroscope::limits::Limits;
use goroscope::model::Format;
use goroscope::report::Style;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "goroscope", version, about = "Find goroutine leaks in Go services.", long_about = "Find goroutine leaks in Go services.\n\nReads goroutine dumps and profiles in every format the Go runtime writes (debug=0 protobuf, debug=1 and debug=2 text, panics, SIGQUIT output, dumps inside container logs), groups goroutines by blocking site, and compares snapshots to show which sites grow.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Group goroutines by blocking site and print a table (or JSON).
    #[command(after_help = "EXAMPLES:\n  goroscope show dump.txt\n  goroscope show --json profile.pb.gz\n  curl -s localhost:6060/debug/pprof/goroutine?debug=2 | goroscope show -\n  goroscope show --state chan_send --stacks dump.txt")]
    Show(ShowArgs),
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
    #[command(flatten)]
    group: GroupArgs,
    #[command(flatten)]
    input: InputArgs,
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
}

#[derive(Args)]
struct InputArgs {
    /// Force the input format instead of detecting it.
    #[arg(long, value_name = "FORMAT", value_parser = parse_format)]
    format: Option<Format>,
    /// Largest input read, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().max_input, hide_short_help = true)]
    max_input: u64,
    /// Largest size after gunzip, in bytes (stops gzip bombs).
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().max_decompressed, hide_short_help = true)]
    max_decompressed: u64,
    /// Longest text line, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().max_line, hide_short_help = true)]
    max_line: u64,
    /// Most frames in one goroutine.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_frames, hide_short_help = true)]
    max_frames: u64,
    /// Most labels on one goroutine.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_labels, hide_short_help = true)]
    max_labels: u64,
    /// Most goroutines (or samples) in one snapshot.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_goroutines, hide_short_help = true)]
    max_goroutines: u64,
    /// Most snapshots in one run.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_snapshots, hide_short_help = true)]
    max_snapshots: u64,
}

fn parse_format(s: &str) -> Result<Format, String> {
    Format::ALL
        .into_iter()
        .find(|f| f.name() == s)
        .ok_or_else(|| format!("unknown format {s:?}; choose debug0, debug1, debug2, panic, sigquit or log"))
}

impl InputArgs {
    fn settings(&self) -> LoadSettings {
        LoadSettings {
            format: self.format,
            limits: Limits {
                max_input: self.max_input,
                max_decompressed: self.max_decompressed,
                max_line: self.max_line,
                max_frames: self.max_frames,
                max_labels: self.max_labels,
                max_goroutines: self.max_goroutines,
                max_snapshots: self.max_snapshots,
            },
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
            ..GroupSettings::default()
        }
    }
}

fn style() -> Style {
    let terminal = std::io::stdout().is_terminal();
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    Style { color: terminal && !no_color, terminal }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let result = match cli.command {
        Command::Show(a) => {
            let s = ShowSettings {
                sources: a.sources,
                load: a.input.settings(),
                group: a.group.settings(),
                json: a.json,
                stacks: a.stacks,
                style: style(),
            };
            app::show(&s, &mut out).map(|_| ExitCode::SUCCESS)
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
        Err(goroscope::Error::Io { source_name, err }) if source_name == "stdout" && err.kind() == std::io::ErrorKind::BrokenPipe => {
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("goroscope: {e}");
            ExitCode::from(2)
        }
    }
}
