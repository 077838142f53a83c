//! Sources: where snapshot bytes come from — a file (memory-mapped), stdin (`-`), a folder
//! of dumps, or an `http(s)://` URL (handed to [`crate::fetch`]). This module and `fetch`
//! are the only ingestion code that does I/O; parsing starts from the bytes they return.

use crate::limits::Limits;
use crate::model::Snapshot;
use crate::Error;
use std::io::Read;
use std::path::Path;

/// Bytes of one input, borrowed from a memory map or owned.
pub enum Bytes {
    Mapped(memmap2::Mmap),
    Owned(Vec<u8>),
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Mapped(m) => m,
            Bytes::Owned(v) => v,
        }
    }
}

/// One input read whole: its display name, bytes, and modification time (Unix ns).
pub struct Input {
    pub name: String,
    pub bytes: Bytes,
    pub mtime_nanos: Option<i64>,
}

/// True if `spec` names a URL rather than a path.
pub fn is_url(spec: &str) -> bool {
    spec.starts_with("http://") || spec.starts_with("https://")
}

/// A source to read: a path, `-` or a URL, and the folder it was found in, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    pub name: String,
    /// The folder named on the command line that held it: a file found there that is
    /// clearly not a dump is skipped, where a file named itself is an error.
    pub folder: Option<String>,
}

/// Expands folders into the files they hold (sorted by name; hidden files skipped). Other
/// specs pass through.
pub fn expand(specs: &[String]) -> crate::Result<Vec<Spec>> {
    let mut out = Vec::new();
    for s in specs {
        if s != "-" && !is_url(s) && Path::new(s).is_dir() {
            let rd = std::fs::read_dir(s).map_err(|e| Error::io(s, e))?;
            let mut files: Vec<String> = rd
                .filter_map(|e| e.ok())
                .filter(|e| e.file_type().map(|t| t.is_file()).unwrap_or(false))
                .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
                .map(|e| e.path().to_string_lossy().into_owned())
                .collect();
            files.sort();
            if files.is_empty() {
                return Err(Error::Usage(format!("{s}: the folder holds no files")));
            }
            out.extend(files.into_iter().map(|name| Spec { name, folder: Some(s.clone()) }));
        } else {
            out.push(Spec { name: s.clone(), folder: None });
        }
    }
    Ok(out)
}

/// True for an error that says the input is clearly not a goroutine dump (no header, no
/// profile, binary, empty): in a folder such a file is skipped.
pub fn is_not_a_dump(e: &Error) -> bool {
    matches!(e, Error::UnknownFormat { .. })
}

/// Reads a file or stdin, refusing more than `limits.max_input` bytes.
pub fn read_local(spec: &str, limits: &Limits) -> crate::Result<Input> {
    if spec == "-" {
        let mut buf = Vec::new();
        std::io::stdin().lock().take(limits.max_input + 1).read_to_end(&mut buf).map_err(|e| Error::io("-", e))?;
        if buf.len() as u64 > limits.max_input {
            return Err(Error::TooLarge {
                source_name: "-".into(),
                what: "stdin",
                limit: limits.max_input,
                flag: "--max-input",
            });
        }
        if buf.is_empty() {
            return Err(Error::Usage(
                "-: stdin is empty: nothing was piped in (e.g. curl -s URL | goroscope show -)".into(),
            ));
        }
        return Ok(Input { name: "-".into(), bytes: Bytes::Owned(buf), mtime_nanos: None });
    }
    let file = std::fs::File::open(spec).map_err(|e| Error::io(spec, e))?;
    let meta = file.metadata().map_err(|e| Error::io(spec, e))?;
    if meta.is_dir() {
        return Err(Error::Usage(format!(
            "{spec}: is a folder; name the files in it, or use `trend` which reads folders"
        )));
    }
    if meta.len() > limits.max_input {
        return Err(Error::TooLarge {
            source_name: spec.into(),
            what: "the file",
            limit: limits.max_input,
            flag: "--max-input",
        });
    }
    let mtime_nanos =
        meta.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).map(|d| d.as_nanos() as i64);
    let bytes = if meta.is_file() && meta.len() > 0 {
        // SAFETY: the map is read-only and lives as long as `Input`; a file truncated by
        // another process while we read it is the one hazard, accepted as every mmap
        // reader (ripgrep among them) does for regular files.
        match unsafe { memmap2::Mmap::map(&file) } {
            Ok(m) => Bytes::Mapped(m),
            Err(_) => Bytes::Owned(read_all(spec, file, limits)?),
        }
    } else {
        // Pipes, character devices, process substitution: read them.
        Bytes::Owned(read_all(spec, file, limits)?)
    };
    Ok(Input { name: spec.to_string(), bytes, mtime_nanos })
}

fn read_all(spec: &str, file: std::fs::File, limits: &Limits) -> crate::Result<Vec<u8>> {
    let mut buf = Vec::new();
    file.take(limits.max_input + 1).read_to_end(&mut buf).map_err(|e| Error::io(spec, e))?;
    if buf.len() as u64 > limits.max_input {
        return Err(Error::TooLarge {
            source_name: spec.into(),
            what: "the input",
            limit: limits.max_input,
            flag: "--max-input",
        });
    }
    Ok(buf)
}

/// Parses one input into snapshots.
pub fn parse_input(
    input: &Input,
    forced: Option<crate::model::Format>,
    limits: &Limits,
) -> crate::Result<Vec<Snapshot>> {
    crate::format::parse(&input.name, &input.bytes, forced, limits)
}
