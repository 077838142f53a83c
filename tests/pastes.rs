//! Issue 11: a real dump as people paste and log it reads to the same groups as the dump
//! itself. Each test takes real captures from `testdata/` (go1.21, go1.24, go1.27 debug=2,
//! SIGQUIT and panic output) and writes them the way one tool or person does — a log
//! prefix per family, frames indented with spaces, a Markdown quote, annotations, a header
//! glued to the line before, `^\` — then checks the groups, the goroutine total and the
//! snapshot count against the clean reading. The wild corpus (`tests/wild.rs`) has the
//! same shapes as found in public threads; these tests pin each one down on whole dumps.

mod support;

use goroscope::format;
use goroscope::group::{group, GroupSettings};
use goroscope::limits::Limits;
use goroscope::model::{Format, Snapshot};
use std::path::Path;
use support::group_keys;

const DUMPS: &[&str] = &[
    "go1.21/snapshot-3.debug2.txt",
    "go1.24/snapshot-2.debug2.txt",
    "go1.27/snapshot-3.debug2.txt",
    "go1.27/sigquit.txt",
    "go1.24/panic.txt",
];

fn read(rel: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata").join(rel)).unwrap()
}

fn parse(text: &str) -> Vec<Snapshot> {
    format::parse("paste", text.as_bytes(), None, &Limits::default()).unwrap_or_else(|e| panic!("{e}\n{text:.600}"))
}

/// Parses `pasted` and checks it gives the clean dump's one snapshot: same total, same
/// groups. Returns the snapshot for further checks.
fn same_as_clean(name: &str, clean: &str, pasted: &str) -> Snapshot {
    let mut want = parse(clean);
    assert_eq!(want.len(), 1, "{name}: the clean dump is one snapshot");
    let want_report = group(&mut want[0], &GroupSettings::default());
    let mut got = parse(pasted);
    assert_eq!(got.len(), 1, "{name}: {} snapshots", got.len());
    let report = group(&mut got[0], &GroupSettings::default());
    assert_eq!(report.total, want_report.total, "{name}: goroutines");
    assert_eq!(group_keys(&report), group_keys(&want_report), "{name}: groups differ");
    got.remove(0)
}

/// Every line behind `prefix(line number)`; blank lines get the prefix without its
/// trailing blanks when `trim_blank` (what many loggers write).
fn prefixed(text: &str, trim_blank: bool, prefix: impl Fn(usize) -> String) -> String {
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        let p = prefix(i);
        if line.is_empty() && trim_blank {
            out += p.trim_end();
        } else {
            out += &p;
            out += line;
        }
        out.push('\n');
    }
    out
}

#[test]
fn docker_compose_prefix() {
    for d in DUMPS {
        let clean = read(d);
        let pasted = prefixed(&clean, true, |_| "headscale-1  | ".into());
        let s = same_as_clean(d, &clean, &pasted);
        assert_eq!(s.format, Format::Log, "{d}");
        // Another service's lines in the middle are skipped and counted.
        let mut mixed = String::new();
        for (i, line) in pasted.lines().enumerate() {
            mixed += line;
            mixed.push('\n');
            if i % 37 == 5 {
                mixed += "postgres-1   | LOG:  checkpoint starting: time\n";
            }
        }
        let s = same_as_clean(d, &clean, &mixed);
        assert!(s.notes.iter().any(|n| n.contains("not part of it skipped")), "{d}: {:?}", s.notes);
    }
}

#[test]
fn hashicorp_plugin_log_prefix_with_an_offset_without_colon() {
    for d in DUMPS {
        let clean = read(d);
        let pasted = prefixed(&clean, false, |i| {
            format!(
                "2021-05-27T10:46:{:02}.{:03}+0300 [DEBUG] plugin.terraform-provider-vsphere_v1.11.0_x4: ",
                33 + i / 1000 % 20,
                i % 1000
            )
        });
        let s = same_as_clean(d, &clean, &pasted);
        // 10:46:33+03:00 is 07:46:33 UTC.
        let t = s.time_nanos.expect("capture time from the prefix");
        assert_eq!(
            t.div_euclid(1_000_000_000) % 86400,
            7 * 3600 + 46 * 60 + 33 + (s.time_nanos.unwrap() / 1_000_000_000 % 60 - 33),
            "{d}"
        );
    }
}

#[test]
fn syslog_and_journald_prefixes() {
    for d in DUMPS {
        let clean = read(d);
        // rsyslog writes a tab as #011; journalctl keeps it.
        let rsyslog = prefixed(&clean.replace("\n\t", "\n#011"), false, |i| {
            format!("Nov  {} 18:33:{:02} host app[123]: ", 8 + i / 400 % 2, i % 60)
        });
        let s = same_as_clean(d, &clean, &rsyslog);
        assert!(s.time_in_year.is_some(), "{d}: a syslog time has no year");
        let journald = prefixed(&clean, true, |_| "Nov 28 18:33:53 host dockerd[87266]: ".into());
        same_as_clean(d, &clean, &journald);
    }
}

#[test]
fn markdown_quote_and_indented_paste() {
    for d in DUMPS {
        let clean = read(d);
        let quoted = prefixed(&clean, true, |_| "> ".into());
        same_as_clean(d, &clean, &quoted);
        // Every line indented by four spaces (a Markdown code block), tabs expanded.
        let indented = prefixed(&clean.replace('\t', "        "), true, |_| "    ".into());
        same_as_clean(d, &clean, &indented);
    }
}

#[test]
fn frames_indented_with_spaces_instead_of_a_tab() {
    for d in DUMPS {
        let clean = read(d);
        for spaces in ["        ", "    ", "  ", " \t"] {
            let pasted = clean.replace("\n\t", &format!("\n{spaces}"));
            same_as_clean(&format!("{d} indent {spaces:?}"), &clean, &pasted);
        }
    }
}

#[test]
fn annotations_stray_lines_and_extra_blank_lines() {
    for d in DUMPS {
        let clean = read(d);
        let mut pasted = String::new();
        let mut n = 0;
        for line in clean.lines() {
            if line.starts_with("goroutine ") {
                n += 1;
                match n % 4 {
                    0 => pasted += "## mainSrv.wait()\n",
                    1 => pasted += "\n\n",
                    2 => pasted += "2021/05/27 10:46:33 [INFO] request served in 3ms\n",
                    _ => {}
                }
            }
            pasted += line;
            pasted.push('\n');
            if n % 5 == 3 && line.starts_with('\t') {
                // An annotation between frames.
                pasted += "<-- blocked here\n";
            }
        }
        let s = same_as_clean(d, &clean, &pasted);
        assert!(s.notes.iter().any(|n| n.contains("not part of it skipped")), "{d}: {:?}", s.notes);
        // A blank line after every line (a web page's paragraphs).
        let double: String = clean.lines().map(|l| format!("{l}\n\n")).collect();
        same_as_clean(&format!("{d} double-spaced"), &clean, &double);
    }
}

#[test]
fn a_header_glued_to_the_line_before() {
    for d in DUMPS.iter().filter(|d| d.contains("debug2")) {
        // runtime.Stack printed after a message without a newline.
        let clean = read(d);
        let glued = format!("=== received SIGQUIT, dumping all stacks{clean}");
        same_as_clean(d, &clean, &glued);
    }
    // Two dumps concatenated where the first lacks its last newline (runtime.Stack's
    // buffer written as is): the second dump's header is glued to a frame line. Two
    // snapshots, the first frame line kept.
    let a = read("go1.24/snapshot-1.debug2.txt");
    let b = read("go1.24/snapshot-2.debug2.txt");
    let snaps = parse(&format!("{}{b}", a.trim_end()));
    let (want_a, want_b) = (parse(&a)[0].total(), parse(&b)[0].total());
    assert_eq!(snaps.iter().map(Snapshot::total).collect::<Vec<_>>(), vec![want_a, want_b]);
    let mut clean_a = parse(&a);
    let mut glued_a = snaps;
    assert_eq!(
        group_keys(&group(&mut glued_a[0], &GroupSettings::default())),
        group_keys(&group(&mut clean_a[0], &GroupSettings::default()))
    );
}

#[test]
fn ctrl_backslash_sigquit_and_crlf() {
    let clean = read("go1.27/sigquit.txt");
    assert!(clean.starts_with("SIGQUIT: quit"));
    let pasted = format!("/ # ^\\{clean}");
    let s = same_as_clean("^\\SIGQUIT", &clean, &pasted);
    assert_eq!(s.format, Format::Sigquit);
    assert_eq!(s.preamble.as_deref(), Some("SIGQUIT: quit"));
    for d in DUMPS {
        let clean = read(d);
        same_as_clean(&format!("{d} CRLF"), &clean, &clean.replace('\n', "\r\n"));
    }
}

#[test]
fn dumps_inside_json_records_and_logfmt() {
    for d in DUMPS {
        let clean = read(d);
        // Docker's json-file driver: one record per line.
        let json: String = clean
            .lines()
            .map(|l| {
                format!(
                    "{{\"log\":{},\"stream\":\"stderr\",\"time\":\"2026-11-28T10:00:00.5Z\"}}\n",
                    serde_json::to_string(&format!("{l}\n")).unwrap()
                )
            })
            .collect();
        let s = same_as_clean(&format!("{d} json-file"), &clean, &json);
        assert!(s.time_nanos.is_some());
        // zap/slog: the whole dump in one field of one record, among other records.
        let zap = format!(
            "{{\"level\":\"info\",\"msg\":\"started\"}}\n{{\"level\":\"error\",\"ts\":1764324000.25,\"msg\":\"dump\",\"stack\":{}}}\n",
            serde_json::to_string(&clean).unwrap()
        );
        same_as_clean(&format!("{d} zap"), &clean, &zap);
        // logfmt: a quoted value.
        let logfmt =
            format!("time=2026-11-28T10:00:00Z level=error stack={} msg=x\n", serde_json::to_string(&clean).unwrap());
        same_as_clean(&format!("{d} logfmt"), &clean, &logfmt);
    }
}

/// Two dumps of a process in one log (two SIGQUITs, periodic `runtime.Stack` dumps with
/// log lines between) stay two snapshots; log lines inside one dump do not split it.
#[test]
fn a_new_dump_starts_at_a_preamble_or_a_goroutine_seen_again() {
    let a = read("go1.24/snapshot-1.debug2.txt");
    let b = read("go1.24/snapshot-2.debug2.txt");
    let text =
        format!("*** goroutine dump\n{a}\n*** end\n2026/11/28 10:00:01 serving\n*** goroutine dump\n{b}\n*** end\n");
    let snaps = parse(&text);
    assert_eq!(snaps.iter().map(Snapshot::total).collect::<Vec<_>>(), vec![parse(&a)[0].total(), parse(&b)[0].total()]);
    let sig = read("go1.27/sigquit.txt");
    let twice = format!("{sig}\nrestarting\n{sig}");
    assert_eq!(parse(&twice).len(), 2);
}
