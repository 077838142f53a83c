//! Compiles `proto/profile.proto` into Rust types with prost. The .proto is parsed by
//! `protox` (pure Rust), so a fresh machine needs no system `protoc`.
fn main() {
    println!("cargo:rerun-if-changed=proto/profile.proto");
    let fds = protox::compile(["proto/profile.proto"], ["proto"]).expect("proto/profile.proto compiles");
    prost_build::Config::new().compile_fds(fds).expect("prost generates the profile types");
}
