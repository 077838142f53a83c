//! `--pprof`: a [`Profile`] as a gzipped `profile.proto`, what `/debug/pprof/goroutine`
//! serves, so `go tool pprof` (and Pyroscope, Parca, speedscope…) open a text dump.
//!
//! Encoded with the prost types generated from `proto/profile.proto`. Sample type
//! `goroutine/count` (or `delta/count`, `first/count`, `last/count` for growth); one
//! location per distinct frame, one function per distinct (name, file). Text dumps carry no
//! addresses: locations have address 0 in one mapping marked fully symbolized (named after
//! the input), and their lines name the functions, so pprof has nothing to look up. String labels as the sample says;
//! `wait_minutes` is numeric (unit `minutes`), so `-tagfocus wait_minutes=10:` works.

use super::Profile;
use crate::pb;
use prost::Message;
use rustc_hash::FxHashMap;
use std::io::Write;

/// Encodes `profile` as a gzipped profile.proto.
pub fn write(profile: &Profile, out: &mut impl Write) -> std::io::Result<()> {
    let bytes = encode(profile).encode_to_vec();
    let mut gz = flate2::write::GzEncoder::new(out, flate2::Compression::default());
    gz.write_all(&bytes)?;
    gz.finish()?;
    Ok(())
}

/// The profile as prost's `Profile` message.
pub fn encode(profile: &Profile) -> pb::Profile {
    let mut strings = Strings::default();
    let sample_type = profile
        .measure
        .sample_types()
        .iter()
        .map(|(t, u)| pb::ValueType { r#type: strings.id(t), unit: strings.id(u) })
        .collect();
    // pprof shows the last sample type unless told: the first (goroutines, or growth) is
    // the one to show.
    let default_sample_type = profile.measure.sample_types().first().map_or(0, |(t, _)| strings.id(t));
    let period_type = Some(pb::ValueType { r#type: strings.id("goroutine"), unit: strings.id("count") });

    let mut functions: Vec<pb::Function> = Vec::new();
    let mut function_ids: FxHashMap<(&str, &str), u64> = FxHashMap::default();
    let location = profile
        .frames
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let next = functions.len() as u64 + 1;
            let id = *function_ids.entry((&f.function, &f.file)).or_insert_with(|| {
                let name = strings.id(&f.function);
                functions.push(pb::Function {
                    id: next,
                    name,
                    system_name: name,
                    filename: strings.id(&f.file),
                    start_line: 0,
                });
                next
            });
            pb::Location {
                id: i as u64 + 1,
                mapping_id: 1,
                address: 0,
                line: vec![pb::Line { function_id: id, line: f.line as i64, column: 0 }],
                is_folded: false,
            }
        })
        .collect();

    let sample = profile
        .samples
        .iter()
        .map(|s| {
            let mut label: Vec<pb::Label> = s
                .labels
                .iter()
                .map(|(k, v)| pb::Label { key: strings.id(k), str: strings.id(v), num: 0, num_unit: 0 })
                .collect();
            label.extend(s.numbers.iter().map(|(k, n, unit)| pb::Label {
                key: strings.id(k),
                str: 0,
                num: *n,
                num_unit: strings.id(unit),
            }));
            pb::Sample { location_id: s.stack.iter().map(|&f| f as u64 + 1).collect(), value: s.values.clone(), label }
        })
        .collect();
    let comment = vec![strings.id(&format!("goroscope export of {}", profile.name))];
    // One mapping, fully symbolized, named after the input: pprof prints it as the
    // profile's `File:` and has nothing to look up.
    let base = profile.name.rsplit(['/', '\\']).next().unwrap_or(&profile.name);
    let mapping = vec![pb::Mapping {
        id: 1,
        memory_start: 0,
        memory_limit: 0,
        file_offset: 0,
        filename: strings.id(base),
        build_id: 0,
        has_functions: true,
        has_filenames: true,
        has_line_numbers: true,
        has_inline_frames: true,
    }];

    pb::Profile {
        sample_type,
        sample,
        mapping,
        location,
        function: functions,
        string_table: strings.list,
        drop_frames: 0,
        keep_frames: 0,
        time_nanos: profile.time_nanos.unwrap_or(0),
        duration_nanos: profile.duration_nanos.unwrap_or(0),
        period_type,
        period: 1,
        comment,
        default_sample_type,
    }
}

/// The string table: index 0 is `""`, as profile.proto requires.
struct Strings {
    index: FxHashMap<String, i64>,
    list: Vec<String>,
}

impl Default for Strings {
    fn default() -> Self {
        let mut s = Strings { index: FxHashMap::default(), list: Vec::new() };
        s.id("");
        s
    }
}

impl Strings {
    fn id(&mut self, s: &str) -> i64 {
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        let i = self.list.len() as i64;
        self.list.push(s.to_string());
        self.index.insert(s.to_string(), i);
        i
    }
}
