//! `format::text::parse` with log_mode=false.
#![no_main]
mod common;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(mut snaps) = goroscope::format::text::parse("fuzz", data, false, &common::limits()) {
        common::check(&mut snaps);
    }
});
