//! `format::debug1::parse`: `?debug=1` text.
#![no_main]
mod common;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(snap) = goroscope::format::debug1::parse("fuzz", data, &common::limits()) {
        common::check(&mut [snap]);
    }
});
