//! Format sniffing and the whole `format::parse`: gunzip, detect, dispatch.
#![no_main]
mod common;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = goroscope::format::detect("fuzz", data);
    let _ = goroscope::format::debug1::sniff(data);
    let _ = goroscope::format::pprof::sniff(data);
    if let Ok(mut snaps) = goroscope::format::parse("fuzz", data, None, &common::limits()) {
        common::check(&mut snaps);
    }
});
