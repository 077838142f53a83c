//! `--folded`: a [`Profile`] as folded stacks, the input of flame graph tools (inferno,
//! flamegraph.pl, speedscope): one line per distinct stack, `root;…;leaf;[wait state] N`,
//! so the flame graph's tips say where goroutines wait (`[chan send]`).
//!
//! Frames are function names (flame graphs merge by name). Lines are sorted, as
//! flamegraph.pl expects. A growth profile keeps the sites that grew, by how much: a
//! flame graph has no negative widths.

use super::Profile;
use std::collections::BTreeMap;
use std::io::Write;

pub fn write(profile: &Profile, out: &mut impl Write) -> std::io::Result<()> {
    let mut lines: BTreeMap<String, i64> = BTreeMap::new();
    let mut line = String::new();
    for s in &profile.samples {
        if s.value() <= 0 {
            continue;
        }
        line.clear();
        for &f in s.stack.iter().rev() {
            let name = &profile.frames[f as usize].function;
            push_frame(&mut line, if name.is_empty() { "?" } else { name });
            line.push(';');
        }
        line.push('[');
        push_frame(&mut line, if s.state.is_empty() { "unknown" } else { &s.state });
        line.push(']');
        *lines.entry(line.clone()).or_default() += s.value();
    }
    for (stack, n) in lines {
        writeln!(out, "{stack} {n}")?;
    }
    Ok(())
}

/// Appends a frame name with the format's separators made harmless: `;` splits frames and
/// a line break ends the record (names come from an untrusted dump).
fn push_frame(line: &mut String, name: &str) {
    line.extend(name.chars().map(|c| match c {
        ';' => ':',
        '\n' | '\r' => ' ',
        c => c,
    }));
}

#[cfg(test)]
mod tests {
    use super::super::{Measure, Profile, Sample};
    use crate::group::Site;

    fn site(f: &str) -> Site {
        Site { function: f.into(), file: "/a.go".into(), line: 1 }
    }

    #[test]
    fn root_first_state_as_leaf_merged_and_sorted() {
        let sample = |stack: Vec<u32>, state: &str, n| Sample {
            stack,
            state: state.into(),
            values: vec![n],
            labels: vec![],
            numbers: vec![],
        };
        let p = Profile {
            name: "t".into(),
            time_nanos: None,
            duration_nanos: None,
            measure: Measure::Goroutines,
            frames: vec![site("runtime.gopark"), site("main.send;x\ny"), site("main.main")],
            samples: vec![
                sample(vec![0, 1, 2], "chan send", 3),
                sample(vec![0, 2], "select", 1),
                sample(vec![0, 1, 2], "chan send", 2),
                sample(vec![2], "running", 0),
            ],
        };
        let mut out = Vec::new();
        super::write(&p, &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "main.main;main.send:x y;runtime.gopark;[chan send] 5\nmain.main;runtime.gopark;[select] 1\n"
        );
    }
}
