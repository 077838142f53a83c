//! `--speedscope`: a [`Profile`] in speedscope's file format
//! (`https://www.speedscope.app/file-format-schema.json`): one `sampled` profile whose
//! samples are the stacks, root first, with the wait state as a leaf frame
//! (`[chan send]`), weighted by goroutines (unit `none`). A growth profile keeps the
//! sites that grew, weighted by their growth (weights cannot be negative).

use super::Profile;
use rustc_hash::FxHashMap;
use serde::Serialize;
use std::io::Write;

#[derive(Serialize)]
struct File<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    name: &'a str,
    exporter: String,
    #[serde(rename = "activeProfileIndex")]
    active_profile_index: u32,
    shared: Shared<'a>,
    profiles: [Sampled; 1],
}

#[derive(Serialize)]
struct Shared<'a> {
    frames: Vec<Frame<'a>>,
}

#[derive(Serialize)]
struct Frame<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<u32>,
}

#[derive(Serialize)]
struct Sampled {
    #[serde(rename = "type")]
    kind: &'static str,
    name: String,
    unit: &'static str,
    #[serde(rename = "startValue")]
    start_value: i64,
    #[serde(rename = "endValue")]
    end_value: i64,
    samples: Vec<Vec<u32>>,
    weights: Vec<i64>,
}

pub fn write(profile: &Profile, out: &mut impl Write) -> std::io::Result<()> {
    let mut frames: Vec<Frame> = profile
        .frames
        .iter()
        .map(|f| Frame {
            name: if f.function.is_empty() { "?" } else { &f.function },
            file: (!f.file.is_empty()).then_some(f.file.as_str()),
            line: (f.line > 0).then_some(f.line),
        })
        .collect();
    // The wait states, as frames of their own after the code's.
    let mut states: FxHashMap<&str, u32> = FxHashMap::default();
    let names: Vec<String> = profile.samples.iter().map(|s| format!("[{}]", state_name(&s.state))).collect();
    let (mut samples, mut weights) = (Vec::new(), Vec::new());
    for (s, leaf) in profile.samples.iter().zip(&names) {
        if s.value() <= 0 {
            continue;
        }
        let state = *states.entry(leaf.as_str()).or_insert_with(|| {
            frames.push(Frame { name: leaf, file: None, line: None });
            frames.len() as u32 - 1
        });
        let mut stack: Vec<u32> = s.stack.iter().rev().copied().collect();
        stack.push(state);
        samples.push(stack);
        weights.push(s.value());
    }
    let total: i64 = weights.iter().sum();
    let what = match profile.measure {
        super::Measure::Goroutines => "goroutines",
        super::Measure::Growth => "goroutine growth",
    };
    let file = File {
        schema: "https://www.speedscope.app/file-format-schema.json",
        name: &profile.name,
        exporter: format!("goroscope {}", env!("CARGO_PKG_VERSION")),
        active_profile_index: 0,
        shared: Shared { frames },
        profiles: [Sampled {
            kind: "sampled",
            name: format!("{} ({what})", profile.name),
            unit: "none",
            start_value: 0,
            end_value: total,
            samples,
            weights,
        }],
    };
    serde_json::to_writer(&mut *out, &file)?;
    writeln!(out)
}

fn state_name(s: &str) -> &str {
    if s.is_empty() {
        "unknown"
    } else {
        s
    }
}
