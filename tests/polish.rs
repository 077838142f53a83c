//! What a new user meets in the first hour (issue 16), through the built binary: folders
//! with files that are not dumps, tables at 80 and 100 columns, piped and on a real
//! terminal, refused and warned-about flags, sizes, help, wording, human-readable times
//! (issue 13), and the README's examples, run and compared with what they print today.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;
use support::goroscope;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn testdata(rel: &str) -> String {
    root().join("testdata").join(rel).to_string_lossy().into_owned()
}

/// Runs goroscope with the scrubbed environment plus `env`, in the repository root.
fn run_env(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_goroscope"));
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(env.iter().copied())
        .current_dir(root());
    let out = support::output_within(cmd, Duration::from_secs(60));
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn widest(text: &str) -> usize {
    text.lines().map(|l| l.chars().count()).max().unwrap_or(0)
}

// ---- 16.1 folders ------------------------------------------------------------------

#[test]
fn a_folder_skips_files_that_are_not_dumps_and_says_how_many() {
    // testdata/go1.24 holds real dumps and five *.stats.json ground-truth files.
    let dir = testdata("go1.24");
    let r = goroscope(&["show", &dir]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stderr.trim_end(),
        format!("goroscope: {dir}: skipped 5 files that are not goroutine dumps (-v names them)")
    );
    assert!(r.stdout.contains("snapshot-3.pb.gz: debug0"), "{}", r.stdout);
    let r = goroscope(&["show", "-v", &dir]);
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(lines.len(), 6, "{}", r.stderr);
    assert!(lines[1..]
        .iter()
        .all(|l| l.starts_with("goroscope: skipped ") && l.contains(".stats.json: not a goroutine dump (")));
    // trend reads a folder the same way (the corpus folder holds a manifest.json).
    let r = goroscope(&["trend", &testdata("corpus/go1.24")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("skipped 1 file that is not a goroutine dump (-v names it)"), "{}", r.stderr);
    assert!(r.stdout.contains(" snapshots over "), "{}", r.stdout);
    // A file named itself is still an error.
    let file = testdata("go1.24/panic.stats.json");
    let r = goroscope(&["show", &file]);
    assert_eq!(r.code, 2);
    assert!(r.error_line().starts_with(&format!("goroscope: {file}: not a goroutine dump or profile")));
}

#[test]
fn a_folder_with_no_dump_at_all_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("manifest.json"), "{}").unwrap();
    std::fs::write(dir.path().join("README.md"), "# dumps go here\n").unwrap();
    let d = dir.path().to_str().unwrap();
    let r = goroscope(&["show", d]);
    assert_eq!(r.code, 2);
    assert_eq!(
        r.error_line(),
        format!(
            "goroscope: {d}: no goroutine dump or profile in it (2 files skipped: not dumps); name a folder of dumps"
        )
    );
}

// ---- 16.3 tables ---------------------------------------------------------------------

#[test]
fn tables_fit_80_and_100_columns_and_a_pipe() {
    // Paths relative to the checkout (run_env runs there): the header names the file.
    let dump = "testdata/go1.27/snapshot-3.debug2.txt";
    let snaps =
        ["testdata/go1.24/snapshot-1.pb.gz", "testdata/go1.24/snapshot-2.pb.gz", "testdata/go1.24/snapshot-3.pb.gz"];
    for (columns, limit) in [(Some("80"), 80), (Some("100"), 100), (None, 100)] {
        let env: Vec<(&str, &str)> = columns.map(|c| ("COLUMNS", c)).into_iter().chain([("NO_COLOR", "1")]).collect();
        let (code, show, _) = run_env(&["show", dump], &env);
        assert_eq!(code, 0);
        assert!(widest(&show) <= limit, "show at {columns:?}: {} columns\n{show}", widest(&show));
        let mut args = vec!["trend"];
        args.extend(snaps);
        let (_, trend, _) = run_env(&args, &env);
        assert!(widest(&trend) <= limit, "trend at {columns:?}: {} columns\n{trend}", widest(&trend));
        // Reasons and hints have their own lines under the row, never a wrapped cell.
        let hint = trend.lines().find(|l| l.contains("hint: forgotten sender")).expect("a hint line");
        assert!(hint.starts_with("      hint: "), "{hint:?}");
        // Names are elided in the middle, never split mid-word across lines.
        assert!(show.contains("main.slowLookup.func1") || show.contains('…'), "{show}");
        assert!(!show.lines().any(|l| l.trim() == "ookup.func1"), "{show}");
    }
    // Wide enough, the creator and notes stay in their columns.
    let (_, wide, _) = run_env(&["show", dump], &[("COLUMNS", "200"), ("NO_COLOR", "1")]);
    let header = wide.lines().find(|l| l.trim_start().starts_with("#  COUNT")).unwrap();
    assert!(header.contains("CREATED BY") && header.contains("NOTES"), "{header}");
}

/// On a real terminal (a pty from `script`, util-linux): the table fits the terminal's
/// width; colour and bold only without `NO_COLOR`, and with it no escape code at all.
#[test]
fn on_a_terminal_tables_fit_its_width_and_no_color_means_no_escapes() {
    Command::new("script").arg("--version").output().expect("script (util-linux) must be installed");
    let bin = env!("CARGO_BIN_EXE_goroscope");
    let root = root().display();
    let on_tty = |cols: u32, no_color: bool| {
        let nc = if no_color { "NO_COLOR=1 " } else { "" };
        let inner = format!(
            "cd '{root}' && stty cols {cols} rows 200 && {nc}'{bin}' show testdata/go1.27/snapshot-3.debug2.txt"
        );
        let mut cmd = Command::new("script");
        cmd.args(["-qec", &inner, "/dev/null"])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("TERM", "xterm");
        let out = support::output_within(cmd, Duration::from_secs(60));
        String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n")
    };
    let plain = on_tty(80, true);
    assert!(plain.contains("main.slowLookup.func1"), "{plain}");
    assert!(!plain.contains('\x1b'), "NO_COLOR: no escape codes at all:\n{plain:?}");
    assert!(widest(&plain) <= 80, "{} columns on an 80-column terminal:\n{plain}", widest(&plain));
    let coloured = on_tty(100, false);
    assert!(coloured.contains("\x1b[1m #  COUNT"), "a bold header on a terminal:\n{coloured:?}");
    assert!(coloured.contains("\x1b[1;31mchan_send"), "chan send in bold red:\n{coloured:?}");
    let stripped = strip_escapes(&coloured);
    assert!(widest(&stripped) <= 100, "{stripped}");

    // watch redraws its table on a terminal: by clearing the screen, unless NO_COLOR.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let watch = |no_color: bool| {
        let nc = if no_color { "NO_COLOR=1 " } else { "" };
        let inner = format!("stty cols 100 rows 50 && {nc}'{bin}' watch http://127.0.0.1:{port}/ --polls 1 --every 1s");
        let mut cmd = Command::new("script");
        cmd.args(["-qec", &inner, "/dev/null"]).env_clear().env("PATH", std::env::var_os("PATH").unwrap_or_default());
        String::from_utf8_lossy(&support::output_within(cmd, Duration::from_secs(60)).stdout).into_owned()
    };
    let plain = watch(true);
    assert!(plain.contains("goroscope watch: every 1s, last poll 20"), "{plain}");
    assert!(!plain.contains('\x1b'), "NO_COLOR: no escape codes:\n{plain:?}");
    assert!(watch(false).contains("\x1b[2J"), "the screen is cleared on a terminal");
}

fn strip_escapes(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

// ---- 16.6 silent no-ops ---------------------------------------------------------------

#[test]
fn an_unknown_state_is_refused_with_the_valid_ones() {
    let dump = testdata("go1.27/snapshot-3.debug2.txt");
    let r = goroscope(&["show", "--state", "bogus", &dump]);
    assert_eq!(r.code, 2);
    let line = r.error_line();
    assert!(
        line.starts_with(
            "goroscope: --state \"bogus\": not a category or a wait state; use a category (chan_send, chan_receive,"
        ),
        "{line}"
    );
    assert!(line.contains("unknown) or a wait state as the runtime prints it"), "{line}");
    for ok in ["chan_send", "chan send", "IO wait", "sync.Cond.Wait"] {
        let r = goroscope(&["show", "--state", ok, &dump]);
        assert_eq!(r.code, 0, "{ok}: {}", r.stderr);
    }
    let r = goroscope(&["show", "--state", "chan send", &dump]);
    assert!(r.stdout.contains("59 goroutines in 1 group\n  15 goroutines match the filters"), "{}", r.stdout);
}

#[test]
fn a_label_key_no_goroutine_has_is_warned_about() {
    let dump = testdata("go1.27/snapshot-3.debug2.txt");
    let r = goroscope(&["show", "--group-by", "label:nonexistent", &dump]);
    assert_eq!(r.code, 0);
    assert_eq!(
        r.stderr.trim_end(),
        "goroscope: warning: --group-by label:nonexistent: no goroutine has this label (keys seen: endpoint, tenant)"
    );
    let r = goroscope(&["show", "--group-by", "label:tenant", &dump]);
    assert!(r.stderr.is_empty(), "{}", r.stderr);
}

// ---- 16.7 sizes, help ----------------------------------------------------------------

#[test]
fn byte_flags_take_units_and_help_shows_them() {
    let dump = testdata("go1.27/snapshot-1.debug2.txt");
    let r = goroscope(&["show", "--max-input", "1KiB", &dump]);
    assert_eq!(r.code, 2);
    assert!(r.error_line().contains("over the limit of 1024 bytes; raise it with --max-input"), "{}", r.stderr);
    assert_eq!(goroscope(&["show", "--max-input", "512MiB", "--max-line", "64k", &dump]).code, 0);
    let r = goroscope(&["show", "--max-input", "12 parsecs", &dump]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("unknown unit \"parsecs\""), "{}", r.stderr);
    let help = goroscope(&["show", "--help"]).stdout;
    assert!(
        help.contains("[default: 16GiB]") && help.contains("[default: 4GiB]") && help.contains("[default: 1MiB]"),
        "{help}"
    );
    let flat = help.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains("[possible values: debug2, debug1, debug0, panic, sigquit, log]"), "{help}");
    // One line a flag (no flag's long help turns every --help into the spaced long form);
    // show's also explains --module after the flags.
    // (diff and trend: +3 for --html, --pprof and --force, issue 13.)
    for (cmd, most) in [("diff", 63), ("trend", 63), ("show", 70)] {
        let help = goroscope(&[cmd, "--help"]).stdout;
        assert!(help.contains("\nInput and limits:\n") && help.contains("\nFetching from a URL:\n"), "{help}");
        assert!(help.lines().count() <= most, "{cmd} --help is {} lines", help.lines().count());
    }
    assert!(goroscope(&["fetch", "--help"]).stdout.contains("--debug N: ask the service for ?debug=N"));
}

// ---- 16.8 wording ----------------------------------------------------------------------

#[test]
fn wording_counts_and_plain_sentences() {
    let dir = tempfile::tempdir().unwrap();
    let one = dir.path().join("one.txt");
    std::fs::write(&one, "goroutine 1 [select]:\nmain.f()\n\t/a/main.go:3 +0x1\n\n").unwrap();
    let one = one.to_str().unwrap();
    let r = goroscope(&["show", one]);
    assert!(r.stdout.starts_with(&format!("{one}: debug2, 1 goroutine in 1 group\n")), "{}", r.stdout);
    let r = goroscope(&["trend", "--in-order", one, one, one]);
    assert!(r.stdout.contains("\n1 site, 0 leak suspects\n"), "{}", r.stdout);
    let r = goroscope(&["diff", one, one]);
    assert!(r.stdout.starts_with(&format!("{one} (1 goroutine) → {one} (1 goroutine)\n")), "{}", r.stdout);

    let dump = testdata("go1.27/snapshot-3.debug2.txt");
    let r = goroscope(&["show", "--min-count", "3", &dump]);
    assert!(
        r.stdout.contains("  note: 4 groups of fewer than 3 goroutines (4 in all) not shown (--min-count)\n"),
        "{}",
        r.stdout
    );

    let mut cmd = Command::new(env!("CARGO_BIN_EXE_goroscope"));
    cmd.args(["show", "-"]).env_clear().stdin(std::process::Stdio::null());
    let out = support::output_within(cmd, Duration::from_secs(60));
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim_end(),
        "goroscope: -: stdin is empty: nothing was piped in (e.g. curl -s URL | goroscope show -)"
    );

    let h = dir.path().join("history");
    std::fs::create_dir(&h).unwrap();
    let r = goroscope(&["check", "http://127.0.0.1:9/", "--history", h.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(r.error_line().contains("is a folder; --history names the history file itself (SQLite"), "{}", r.stderr);
    assert_eq!(std::fs::read_dir(&h).unwrap().count(), 0, "nothing written into the folder");
}

// ---- 13 timestamps ----------------------------------------------------------------------

#[test]
fn show_prints_capture_times_for_people_and_json_keeps_rfc3339() {
    let pb = testdata("go1.24/snapshot-1.pb.gz");
    let r = goroscope(&["show", &pb]);
    let header = r.stdout.lines().next().unwrap();
    let doc = goroscope(&["show", "--json", &pb]).json();
    let time = doc["snapshots"][0]["time"].as_str().unwrap();
    assert!(time.ends_with('Z') && time.contains('T'), "JSON keeps RFC 3339: {time}");
    // 2026-11-27T18:52:49.123Z → "captured 2026-11-27 18:52:49Z (… ago)"
    let people = format!("captured {} {}Z (", &time[..10], &time[11..19]);
    assert!(header.contains(&people), "{header} lacks {people}");
    assert!(header.ends_with(" ago)"), "{header}");
}

// ---- 16.9 README -----------------------------------------------------------------------

/// Every ```text block of README.md that starts with `$ goroscope …` is run (in a copy of
/// the checkout's testdata, with `notes.txt` made for the bad-input example) and must match
/// what it prints: line for line, `…` standing for lines left out, the "(N s ago)" of a
/// capture time being the one thing normalised.
#[test]
fn readme_examples_print_what_the_readme_says() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(root().join("testdata"), dir.path().join("testdata")).unwrap();
    std::fs::write(dir.path().join("notes.txt"), "hello world\n").unwrap();
    let bin_dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_goroscope"), bin_dir.path().join("goroscope")).unwrap();
    let path = format!("{}:{}", bin_dir.path().display(), std::env::var("PATH").unwrap_or_default());
    let mut examples = 0;
    for block in readme.split("```text\n").skip(1) {
        let block = block.split("```").next().unwrap();
        let Some(command) = block.lines().next().and_then(|l| l.strip_prefix("$ ")) else { continue };
        if !command.starts_with("goroscope ") {
            continue;
        }
        examples += 1;
        let want: Vec<&str> = block.lines().skip(1).collect();
        let mut cmd = Command::new("sh");
        cmd.args(["-c", &format!("{command} 2>&1")])
            .env_clear()
            .env("PATH", &path)
            .env("NO_COLOR", "1")
            .current_dir(dir.path());
        let out = support::output_within(cmd, Duration::from_secs(60));
        let got = normalise(&String::from_utf8_lossy(&out.stdout));
        let want: Vec<String> = want.iter().map(|l| normalise(l)).collect();
        let got: Vec<&str> = got.lines().collect();
        if let Err(e) = matches_with_gaps(&want, &got) {
            panic!(
                "README example `{command}` no longer matches ({e}).\nREADME:\n{}\n\nprinted:\n{}",
                want.join("\n"),
                got.join("\n")
            );
        }
    }
    assert!(examples >= 3, "only {examples} examples found in README.md");
}

/// "(12 s ago)" → "(… ago)": the one part of an example that must vary.
fn normalise(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find(" ago)") {
        let open = rest[..i].rfind('(').unwrap_or(i);
        out.push_str(&rest[..open]);
        out.push_str("(… ago)");
        rest = &rest[i + 5..];
    }
    out.push_str(rest);
    out
}

/// `want` matches `got` line for line, a line `…` matching any run of lines (none too).
fn matches_with_gaps(want: &[String], got: &[&str]) -> Result<(), String> {
    let same =
        |seg: &[String], at: usize| got.len() >= at + seg.len() && seg.iter().zip(&got[at..]).all(|(w, g)| w == g);
    let segments: Vec<&[String]> = want.split(|l| l == "…").collect();
    if segments.len() == 1 {
        return if want.len() == got.len() && same(want, 0) { Ok(()) } else { Err("the output differs".into()) };
    }
    let (first, last) = (segments[0], segments[segments.len() - 1]);
    if !same(first, 0) {
        return Err("the first lines differ".into());
    }
    let end = got.len().checked_sub(last.len()).filter(|&e| e >= first.len() && same(last, e));
    let Some(end) = end else { return Err("the last lines differ".into()) };
    let mut at = first.len();
    for seg in &segments[1..segments.len() - 1] {
        match (at..=end.saturating_sub(seg.len())).find(|&i| same(seg, i)) {
            Some(i) => at = i + seg.len(),
            None => return Err(format!("the lines from {:?} are not there, in order", seg.first())),
        }
    }
    Ok(())
}
