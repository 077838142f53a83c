//! Shell completions and manual pages generated from the clap definitions: bash accepts
//! the completion script and completes with it; man (man-db) and groff render the pages
//! without a warning.

mod support;

use std::process::Command;
use std::time::Duration;
use support::{goroscope, output_within};

fn run_with_stdin(program: &str, args: &[&str], stdin: &str) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("stdin");
    std::fs::write(&file, stdin).unwrap();
    let mut cmd = Command::new(program);
    cmd.args(args).stdin(std::fs::File::open(&file).unwrap());
    output_within(cmd, Duration::from_secs(60))
}

/// bash parses the script (`bash -n`), and once sourced it completes commands and flags.
#[test]
fn bash_completion_parses_and_completes() {
    let script = goroscope(&["completions", "bash"]);
    assert_eq!(script.code, 0, "{}", script.stderr);
    let syntax = run_with_stdin("bash", &["-n"], &script.stdout);
    assert!(syntax.status.success(), "bash -n: {}", String::from_utf8_lossy(&syntax.stderr));

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("goroscope.bash");
    std::fs::write(&path, &script.stdout).unwrap();
    let complete = |words: &str| -> String {
        let probe = format!(
            "source {}\nCOMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); COMP_LINE=\"{words}\"; COMP_POINT=${{#COMP_LINE}}\n_goroscope goroscope \"${{COMP_WORDS[-1]}}\" \"${{COMP_WORDS[-2]}}\"\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"",
            path.display()
        );
        let out = run_with_stdin("bash", &[], &probe);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let commands = complete("goroscope ex");
    assert_eq!(commands.trim(), "export", "{commands}");
    let flags = complete("goroscope export --sp");
    assert_eq!(flags.trim(), "--speedscope", "{flags}");
    let shells = complete("goroscope completions f");
    assert_eq!(shells.trim(), "fish", "{shells}");

    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let s = goroscope(&["completions", shell]);
        assert_eq!(s.code, 0);
        assert!(s.stdout.contains("export") && s.stdout.contains("speedscope"), "{shell}");
    }
    let bad = goroscope(&["completions", "tcsh"]);
    assert_eq!(bad.code, 2);
}

/// The pages render in man-db and in groff with warnings on, name every command, and a
/// command's page holds its options.
#[test]
fn man_pages_render() {
    let main = goroscope(&["man"]);
    assert_eq!(main.code, 0, "{}", main.stderr);
    assert!(main.stdout.starts_with(".ie") || main.stdout.contains(".TH goroscope 1"), "{}", &main.stdout[..200]);
    let mut cmd = Command::new("man");
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("goroscope.1");
    std::fs::write(&page, &main.stdout).unwrap();
    cmd.args(["-l", page.to_str().unwrap()]).env("MANWIDTH", "100").env("MANPAGER", "cat").env("PAGER", "cat");
    let out = output_within(cmd, Duration::from_secs(60));
    assert!(out.status.success(), "man -l: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    for want in ["NAME", "goroscope - Find goroutine leaks", "SUBCOMMANDS", "export", "completions", "trend"] {
        assert!(text.contains(want), "{want} missing from\n{text}");
    }
    for name in ["show", "trend", "export", "watch"] {
        let sub = goroscope(&["man", name]);
        assert_eq!(sub.code, 0, "{}", sub.stderr);
        let groff = run_with_stdin("groff", &["-k", "-man", "-Tutf8", "-ww", "-z"], &sub.stdout);
        assert!(
            groff.status.success() && groff.stderr.is_empty(),
            "groff on {name}: {}",
            String::from_utf8_lossy(&groff.stderr)
        );
        // Plain text: no overstruck bold or underline.
        let rendered = run_with_stdin("groff", &["-k", "-man", "-Tutf8", "-P-cbou"], &sub.stdout);
        let text = String::from_utf8_lossy(&rendered.stdout);
        assert!(text.contains(&format!("goroscope-{name}")), "{text}");
        assert!(text.contains("--html") || name == "export" || name == "watch", "{name}: {text}");
    }
    let bad = goroscope(&["man", "nope"]);
    assert_eq!(bad.code, 2);
    assert!(bad.error_line().contains("choose one of"), "{}", bad.stderr);
}
