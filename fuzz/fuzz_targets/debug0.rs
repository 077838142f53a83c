//! `format::pprof::parse`: the `?debug=0` protobuf as it is after gunzip.
#![no_main]
mod common;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(snap) = goroscope::format::pprof::parse("fuzz", data, &common::limits()) {
        common::check(&mut [snap]);
    }
});
