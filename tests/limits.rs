//! Resource limits and bad input, through the built binary: every limit is crossed by an
//! input made for it and must end in one line on stderr naming the input and the flag
//! that raises it, exit status 2, no panic. Bad inputs (empty, binary garbage, truncated
//! gzip, broken protobuf, a wrong format forced) must fail the same clean way.
//!
//! The memory test (`a_dump_over_1_gb_parses_under_a_memory_cap`) writes a ~1.1 GB dump to
//! a temporary file and runs the binary under `prlimit --as`; it runs in the normal suite
//! and takes well under a minute.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const DEADLINE: Duration = Duration::from_secs(60);

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    /// Asserts a clean failure (exit 2, one line on stderr, no panic) and returns the line.
    fn error_line(&self) -> &str {
        assert_eq!(self.code, 2, "want exit 2, got {}; stderr:\n{}", self.code, self.stderr);
        assert!(!self.stderr.contains("panicked"), "panic:\n{}", self.stderr);
        let lines: Vec<&str> = self.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "want one line on stderr, got:\n{}", self.stderr);
        lines[0]
    }
}

/// Runs the built goroscope with a scrubbed environment, killed after [`DEADLINE`].
fn run_cmd(mut cmd: Command) -> Run {
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn");
    let started = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if started.elapsed() > DEADLINE {
            let _ = child.kill();
            panic!("goroscope did not finish within {DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn goroscope(args: &[&str]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_goroscope"));
    cmd.args(args);
    run_cmd(cmd)
}

fn testdata(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata").join(rel)
}

fn write(dir: &Path, name: &str, data: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, data).unwrap();
    p.to_string_lossy().into_owned()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// One goroutine with `frames` frames.
fn goroutine(id: u64, frames: usize) -> String {
    let mut s = format!("goroutine {id} [chan send, 3 minutes]:\n");
    for i in 0..frames {
        s.push_str(&format!("main.f{i}(0x1)\n\t/app/main.go:{} +0x1f\n", i + 1));
    }
    s.push_str("created by main.main in goroutine 1\n\t/app/main.go:9 +0x2a\n\n");
    s
}

fn assert_limit(line: &str, input: &str, flag: &str) {
    assert!(line.starts_with(&format!("goroscope: {input}: ")), "names the input {input}: {line}");
    assert!(
        line.contains(&format!("raise it with {flag}")) || line.contains(&format!("raise the limit with {flag}")),
        "names {flag}: {line}"
    );
}

// ---- limits -------------------------------------------------------------------------

#[test]
fn max_input_refuses_a_larger_file() {
    let src = testdata("go1.27/snapshot-1.debug2.txt");
    let src = src.to_str().unwrap();
    let r = goroscope(&["show", "--max-input", "1000", src]);
    let line = r.error_line();
    assert_limit(line, src, "--max-input");
    assert!(line.contains("the file is over the limit of 1000 bytes"), "{line}");
    // At the limit it reads.
    let len = std::fs::metadata(src).unwrap().len().to_string();
    assert_eq!(goroscope(&["show", "--max-input", &len, src]).code, 0);
}

#[test]
fn max_input_refuses_a_larger_stdin() {
    let src = testdata("go1.27/snapshot-1.debug2.txt");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_goroscope"));
    cmd.args(["show", "--max-input", "1000", "-"]);
    cmd.stdin(std::fs::File::open(src).unwrap());
    // run_cmd would replace stdin; do it by hand.
    let out = cmd
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.trim_end(), "goroscope: -: stdin is over the limit of 1000 bytes; raise it with --max-input");
}

/// A real gzip bomb: 1 GiB of zeros in about 1 MB, made of 1024 gzip members of 1 MiB of
/// zeros each (a multi-member file `gzip -d` expands to 1 GiB), and read as a stream.
#[test]
fn max_decompressed_stops_a_gzip_bomb() {
    let dir = tempfile::tempdir().unwrap();
    let member = gzip(&vec![0u8; 1 << 20]);
    let mut bomb = Vec::with_capacity(member.len() * 1024);
    for _ in 0..1024 {
        bomb.extend_from_slice(&member);
    }
    assert!(bomb.len() < 2 << 20, "the bomb is small: {} bytes", bomb.len());
    let path = write(dir.path(), "bomb.pb.gz", &bomb);
    let r = goroscope(&["show", "--max-decompressed", "67108864", &path]);
    let line = r.error_line();
    assert_limit(line, &path, "--max-decompressed");
    assert!(line.contains("the decompressed data is over the limit of 67108864 bytes"), "{line}");
}

#[test]
fn max_decompressed_applies_to_a_gzipped_dump_just_over_it() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read(testdata("go1.27/snapshot-1.debug2.txt")).unwrap();
    let path = write(dir.path(), "dump.txt.gz", &gzip(&text));
    let limit = (text.len() - 1).to_string();
    assert_limit(goroscope(&["show", "--max-decompressed", &limit, &path]).error_line(), &path, "--max-decompressed");
    let limit = text.len().to_string();
    assert_eq!(goroscope(&["show", "--max-decompressed", &limit, &path]).code, 0);
}

#[test]
fn max_line_refuses_a_long_line_in_debug2() {
    let dir = tempfile::tempdir().unwrap();
    let long = format!("goroutine 1 [select]:\nmain.{}(0x1)\n\t/app/main.go:3 +0x1\n", "x".repeat(5000));
    let path = write(dir.path(), "long.txt", long.as_bytes());
    let line = goroscope(&["show", "--max-line", "4096", &path]).error_line().to_string();
    assert_limit(&line, &path, "--max-line");
    assert!(line.contains("line 2 is 5010 bytes, over the line-length limit of 4096"), "{line}");
    assert_eq!(goroscope(&["show", "--max-line", "8192", &path]).code, 0);
}

#[test]
fn max_line_refuses_a_long_line_in_debug1() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!("goroutine profile: total 1\n1 @ 0x1\n#\t0x1\tmain.{}+0x1\t/app/main.go:3\n", "y".repeat(5000));
    let path = write(dir.path(), "long.debug1.txt", text.as_bytes());
    let line = goroscope(&["show", "--max-line", "4096", &path]).error_line().to_string();
    assert_limit(&line, &path, "--max-line");
    assert!(line.contains("line 3 "), "names the line: {line}");
}

#[test]
fn max_frames_refuses_a_deep_goroutine() {
    let dir = tempfile::tempdir().unwrap();
    let text = goroutine(1, 5) + &goroutine(42, 50);
    let path = write(dir.path(), "deep.txt", text.as_bytes());
    let line = goroscope(&["show", "--max-frames", "20", &path]).error_line().to_string();
    assert_limit(&line, &path, "--max-frames");
    assert!(line.contains("goroutine 42 has more than 20 frames"), "{line}");
    assert_eq!(goroscope(&["show", "--max-frames", "50", &path]).code, 0);
}

#[test]
fn max_frames_refuses_a_deep_debug1_record() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("goroutine profile: total 3\n3 @ 0x1\n");
    for i in 0..30 {
        text.push_str(&format!("#\t0x{i:x}\tmain.f{i}+0x1\t/app/main.go:{i}\n"));
    }
    let path = write(dir.path(), "deep.debug1.txt", text.as_bytes());
    let line = goroscope(&["show", "--max-frames", "20", &path]).error_line().to_string();
    assert_limit(&line, &path, "--max-frames");
}

#[test]
fn max_frames_refuses_a_deep_pprof_sample() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "deep.pb.gz", &std::fs::read(testdata("go1.27/snapshot-1.pb.gz")).unwrap());
    let line = goroscope(&["show", "--max-frames", "3", &path]).error_line().to_string();
    assert_limit(&line, &path, "--max-frames");
    assert!(line.contains("a sample has more than 3 frames"), "{line}");
}

#[test]
fn max_labels_refuses_a_goroutine_with_many_labels() {
    let dir = tempfile::tempdir().unwrap();
    let labels: Vec<String> = (0..40).map(|i| format!("k{i}: v{i}")).collect();
    let text = format!("goroutine 7 [select] {{{}}}:\nmain.f()\n\t/app/main.go:3 +0x1\n", labels.join(", "));
    let path = write(dir.path(), "labels.txt", text.as_bytes());
    let line = goroscope(&["show", "--max-labels", "10", &path]).error_line().to_string();
    assert_limit(&line, &path, "--max-labels");
    assert!(line.contains("goroutine 7 has more than 10 labels"), "{line}");
    assert_eq!(goroscope(&["show", "--max-labels", "40", &path]).code, 0);
}

#[test]
fn max_labels_refuses_a_debug1_record_with_many_labels() {
    let dir = tempfile::tempdir().unwrap();
    let labels: Vec<String> = (0..40).map(|i| format!("\"k{i}\":\"v{i}\"")).collect();
    let text = format!(
        "goroutine profile: total 1\n1 @ 0x1\n# labels: {{{}}}\n#\t0x1\tmain.f+0x1\t/app/main.go:3\n",
        labels.join(", ")
    );
    let path = write(dir.path(), "labels.debug1.txt", text.as_bytes());
    let line = goroscope(&["show", "--max-labels", "10", &path]).error_line().to_string();
    assert_limit(&line, &path, "--max-labels");
}

#[test]
fn max_labels_refuses_the_real_go127_labels() {
    // The Go 1.27 capture carries up to 3 labels per goroutine.
    let src = testdata("go1.27/snapshot-3.goroutineleak.debug2.txt");
    let src = src.to_str().unwrap();
    assert_limit(goroscope(&["show", "--max-labels", "1", src]).error_line(), src, "--max-labels");
    let src = testdata("go1.27/snapshot-3.goroutineleak.pb.gz");
    let src = src.to_str().unwrap();
    assert_limit(goroscope(&["show", "--max-labels", "1", src]).error_line(), src, "--max-labels");
}

#[test]
fn max_goroutines_refuses_a_larger_dump() {
    let dir = tempfile::tempdir().unwrap();
    let text: String = (1..=20).map(|i| goroutine(i, 2)).collect();
    let path = write(dir.path(), "many.txt", text.as_bytes());
    let line = goroscope(&["show", "--max-goroutines", "10", &path]).error_line().to_string();
    assert_limit(&line, &path, "--max-goroutines");
    assert!(line.contains("more than 10 goroutines"), "{line}");
    assert_eq!(goroscope(&["show", "--max-goroutines", "20", &path]).code, 0);
}

#[test]
fn max_snapshots_refuses_too_many_files() {
    let src = testdata("go1.27/snapshot-1.debug2.txt");
    let src = src.to_str().unwrap();
    let r = goroscope(&["trend", "--max-snapshots", "2", src, src, src]);
    let line = r.error_line();
    assert_limit(line, src, "--max-snapshots");
    assert!(line.contains("more than 2 snapshots"), "{line}");
    assert_eq!(goroscope(&["trend", "--max-snapshots", "3", src, src, src]).code, 0);
}

#[test]
fn max_snapshots_refuses_too_many_dumps_in_one_log() {
    let dir = tempfile::tempdir().unwrap();
    // Three SIGQUIT dumps in one log, each ended by ordinary text.
    let one = format!("SIGQUIT: quit\nPC=0x1 m=0 sigcode=0\n\n{}log line\n", goroutine(1, 2));
    let path = write(dir.path(), "three.log", one.repeat(3).as_bytes());
    let line = goroscope(&["show", "--max-snapshots", "2", &path]).error_line().to_string();
    assert_limit(&line, &path, "--max-snapshots");
    assert_eq!(goroscope(&["show", "--max-snapshots", "3", &path]).code, 0);
}

// ---- bad input ----------------------------------------------------------------------

fn bad(name: &str, data: &[u8], extra: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), name, data);
    let mut args = vec!["show"];
    args.extend_from_slice(extra);
    args.push(&path);
    let r = goroscope(&args);
    assert!(r.stdout.is_empty(), "nothing on stdout: {}", r.stdout);
    r.error_line().replace(&path, name)
}

#[test]
fn empty_file() {
    assert_eq!(
        bad("empty.txt", b"", &[]),
        "goroscope: empty.txt: not a goroutine dump or profile (the input is empty); use --format to force one of: debug0, debug1, debug2, panic, sigquit, log"
    );
}

#[test]
fn binary_garbage() {
    // A fixed pseudo-random buffer (xorshift), not valid anything.
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let data: Vec<u8> = (0..4096)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    let line = bad("garbage.bin", &data, &[]);
    assert!(line.starts_with("goroscope: garbage.bin: not a goroutine dump or profile ("), "{line}");
}

#[test]
fn elf_binary_by_mistake() {
    let line = bad("goroscope", &std::fs::read(env!("CARGO_BIN_EXE_goroscope")).unwrap()[..65536], &[]);
    assert_eq!(
        line,
        "goroscope: goroscope: not a goroutine dump or profile (binary data that is neither gzip nor a pprof protobuf); use --format to force one of: debug0, debug1, debug2, panic, sigquit, log"
    );
}

#[test]
fn truncated_gzip() {
    let gz = std::fs::read(testdata("go1.27/snapshot-1.pb.gz")).unwrap();
    assert_eq!(bad("cut.pb.gz", &gz[..gz.len() / 2], &[]), "goroscope: cut.pb.gz: truncated gzip data");
}

#[test]
fn gzip_with_a_corrupt_body() {
    let mut gz = std::fs::read(testdata("go1.27/snapshot-1.pb.gz")).unwrap();
    for b in &mut gz[20..60] {
        *b ^= 0x55;
    }
    let line = bad("corrupt.pb.gz", &gz, &[]);
    assert!(
        line.starts_with("goroscope: corrupt.pb.gz: bad gzip data (")
            || line == "goroscope: corrupt.pb.gz: truncated gzip data",
        "{line}"
    );
}

#[test]
fn protobuf_that_does_not_decode() {
    // Field 1 (sample_type), length-delimited, claims 100 bytes; 3 follow.
    let line = bad("broken.pb.gz", &gzip(&[0x0a, 100, 1, 2, 3]), &[]);
    assert!(line.starts_with("goroscope: broken.pb.gz: debug0: not a valid pprof protobuf ("), "{line}");
}

#[test]
fn protobuf_of_another_profile() {
    // sample_type {type: "alloc_space"}: a heap profile, not goroutines.
    let pb = [
        0x0a, 0x02, 0x08, 0x01, 0x32, 0x00, 0x32, 0x0b, b'a', b'l', b'l', b'o', b'c', b'_', b's', b'p', b'a', b'c',
        b'e',
    ];
    assert_eq!(
        bad("heap.pb.gz", &gzip(&pb), &[]),
        "goroscope: heap.pb.gz: debug0: a pprof profile of \"alloc_space\", not goroutines (fetch /debug/pprof/goroutine)"
    );
}

#[test]
fn text_that_is_not_a_dump() {
    assert_eq!(
        bad("notes.txt", b"hello\nworld\n", &[]),
        "goroscope: notes.txt: not a goroutine dump or profile (no \"goroutine N [state]:\" header or profile header; it starts with \"hello\"); use --format to force one of: debug0, debug1, debug2, panic, sigquit, log"
    );
}

#[test]
fn debug2_forced_as_debug1() {
    let text = std::fs::read(testdata("go1.27/snapshot-1.debug2.txt")).unwrap();
    let line = bad("dump.txt", &text, &["--format", "debug1"]);
    assert!(
        line.starts_with(
            "goroscope: dump.txt: debug1:1: expected \"goroutine profile: total N\", got \"goroutine 58 [running]:\""
        ),
        "{line}"
    );
}

#[test]
fn debug2_forced_as_debug0() {
    let text = std::fs::read(testdata("go1.27/snapshot-1.debug2.txt")).unwrap();
    let line = bad("dump.txt", &text, &["--format", "debug0"]);
    assert!(line.starts_with("goroscope: dump.txt: debug0: not a valid pprof protobuf ("), "{line}");
}

#[test]
fn protobuf_forced_as_debug2() {
    let gz = std::fs::read(testdata("go1.27/snapshot-1.pb.gz")).unwrap();
    let line = bad("p.pb.gz", &gz, &["--format", "debug2"]);
    assert_eq!(
        line,
        "goroscope: p.pb.gz: no goroutine found in the input (no \"goroutine N [state]:\" header); \
         it does not read as debug2: leave out --format to detect the format"
    );
}

#[test]
fn debug1_forced_as_debug2() {
    let text = std::fs::read(testdata("go1.27/snapshot-1.debug1.txt")).unwrap();
    let line = bad("p.debug1.txt", &text, &["--format", "debug2"]);
    assert!(line.starts_with("goroscope: p.debug1.txt: no goroutine found in the input"), "{line}");
    assert!(line.ends_with("it does not read as debug2: leave out --format to detect the format"), "{line}");
}

#[test]
fn a_folder_with_no_files() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().to_str().unwrap();
    assert_eq!(goroscope(&["show", p]).error_line(), format!("goroscope: {p}: the folder holds no files"));
}

#[test]
fn a_missing_file() {
    let r = goroscope(&["show", "/nonexistent/dump.txt"]);
    assert_eq!(r.error_line(), "goroscope: /nonexistent/dump.txt: No such file or directory (os error 2)");
}

// ---- memory -------------------------------------------------------------------------

/// The blocks of a real debug=2 dump, to repeat.
fn blocks() -> Vec<String> {
    let text = std::fs::read_to_string(testdata("go1.27/snapshot-3.debug2.txt")).unwrap();
    text.split("\n\n")
        .filter(|b| b.starts_with("goroutine "))
        .map(|b| b.split_once('\n').unwrap().1.to_string())
        .collect()
}

/// A dump of ≥ 1 GB (real goroutine blocks repeated with rising ids) parsed under an
/// address-space cap: 2 GiB for a 1.1 GB file. The file is memory-mapped, so the cap
/// counts the map too, which leaves the parser under 1 GiB for its tables.
///
/// It runs in the suite's usual `cargo test --release` (about 12 s: 3 s to write, 9 s to
/// parse); an unoptimized build parses 1.1 GB in minutes, so debug runs skip it.
#[test]
#[cfg_attr(debug_assertions, ignore = "needs an optimized build: run with cargo test --release")]
fn a_dump_over_1_gb_parses_under_a_memory_cap() {
    // prlimit is util-linux, on every Debian system; a missing one fails the test.
    Command::new("prlimit").arg("--version").output().expect("prlimit (util-linux) must be installed");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.debug2.txt");
    let started = Instant::now();
    let bodies = blocks();
    let mut f = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&path).unwrap());
    let mut written = 0u64;
    let mut id = 1u64;
    let target = 1_100_000_000u64;
    while written < target {
        for b in &bodies {
            let header = format!("goroutine {id} [chan send, 12 minutes]:\n");
            f.write_all(header.as_bytes()).unwrap();
            f.write_all(b.as_bytes()).unwrap();
            f.write_all(b"\n\n").unwrap();
            written += (header.len() + b.len() + 2) as u64;
            id += 1;
        }
    }
    f.flush().unwrap();
    drop(f);
    let wrote = started.elapsed();
    let cap = 2u64 << 30;
    let mut cmd = Command::new("prlimit");
    cmd.arg(format!("--as={cap}")).arg("--").arg(env!("CARGO_BIN_EXE_goroscope")).args([
        "show",
        "--json",
        path.to_str().unwrap(),
    ]);
    let run = run_cmd(cmd);
    let parsed = started.elapsed() - wrote;
    std::fs::remove_file(&path).unwrap();
    assert_eq!(run.code, 0, "stderr:\n{}", run.stderr);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["snapshots"][0]["total"], id - 1, "every goroutine counted");
    assert_eq!(json["snapshots"][0]["truncated"], false);
    eprintln!(
        "memory: wrote {written} bytes ({} goroutines) in {wrote:?}, parsed under --as={cap} in {parsed:?}",
        id - 1
    );
}
