//! Classification: what a goroutine waits on (its [`Category`] and state) and where in the
//! program's own code it waits (its blocking site, with the [`Origin`] of that code).
//!
//! Pure functions of a snapshot's interned tables. The header's wait reason decides where
//! the format prints one (tracebacks); frames refine it (a `semacquire` under
//! `sync.(*WaitGroup).Wait` is a WaitGroup) and decide alone in debug=0/1. Results are
//! cached per stack, since a million goroutines share a few hundred stacks; which code is
//! the program's own ([`MainModule`]) is found once per snapshot and cached per function.
//!
//! **The blocking site** is the first frame from the leaf in the main module (package
//! `main` and the packages of its repository, or the `--module` prefixes). A stack with no
//! such frame (an idle HTTP/2 client, a gRPC transport, a runtime goroutine) is named by
//! its role: its outermost meaningful frame ([`role_frame`]), since the frames near the
//! leaf are the shared I/O layer (`bufio.(*Reader).Read`) that would lump unrelated
//! goroutines together.

use crate::model::{FrameId, Snapshot, StackId, Tables, NONE};
use rustc_hash::FxHashMap;
use serde::Serialize;

/// What a goroutine waits on. A closed set: the JSON contract names exactly these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    ChanSend,
    ChanReceive,
    NilChanSend,
    NilChanReceive,
    Select,
    SelectNoCases,
    Mutex,
    RwmutexRead,
    RwmutexWrite,
    Waitgroup,
    Cond,
    Semaphore,
    IoWait,
    Sleep,
    Syscall,
    Running,
    Runnable,
    Runtime,
    Other,
    Unknown,
}

impl Category {
    pub const ALL: [Category; 20] = [
        Category::ChanSend,
        Category::ChanReceive,
        Category::NilChanSend,
        Category::NilChanReceive,
        Category::Select,
        Category::SelectNoCases,
        Category::Mutex,
        Category::RwmutexRead,
        Category::RwmutexWrite,
        Category::Waitgroup,
        Category::Cond,
        Category::Semaphore,
        Category::IoWait,
        Category::Sleep,
        Category::Syscall,
        Category::Running,
        Category::Runnable,
        Category::Runtime,
        Category::Other,
        Category::Unknown,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Category::ChanSend => "chan_send",
            Category::ChanReceive => "chan_receive",
            Category::NilChanSend => "nil_chan_send",
            Category::NilChanReceive => "nil_chan_receive",
            Category::Select => "select",
            Category::SelectNoCases => "select_no_cases",
            Category::Mutex => "mutex",
            Category::RwmutexRead => "rwmutex_read",
            Category::RwmutexWrite => "rwmutex_write",
            Category::Waitgroup => "waitgroup",
            Category::Cond => "cond",
            Category::Semaphore => "semaphore",
            Category::IoWait => "io_wait",
            Category::Sleep => "sleep",
            Category::Syscall => "syscall",
            Category::Running => "running",
            Category::Runnable => "runnable",
            Category::Runtime => "runtime",
            Category::Other => "other",
            Category::Unknown => "unknown",
        }
    }

    pub fn from_name(s: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.name() == s)
    }

    /// The wait reason the runtime would print for this category, for formats that
    /// print none.
    pub fn implied_state(self) -> &'static str {
        match self {
            Category::ChanSend => "chan send",
            Category::ChanReceive => "chan receive",
            Category::NilChanSend => "chan send (nil chan)",
            Category::NilChanReceive => "chan receive (nil chan)",
            Category::Select => "select",
            Category::SelectNoCases => "select (no cases)",
            Category::Mutex => "sync.Mutex.Lock",
            Category::RwmutexRead => "sync.RWMutex.RLock",
            Category::RwmutexWrite => "sync.RWMutex.Lock",
            Category::Waitgroup => "sync.WaitGroup.Wait",
            Category::Cond => "sync.Cond.Wait",
            Category::Semaphore => "semacquire",
            Category::IoWait => "IO wait",
            Category::Sleep => "sleep",
            Category::Syscall => "syscall",
            Category::Running => "running",
            Category::Runnable => "runnable",
            Category::Runtime => "runtime",
            Category::Other => "other",
            // Said, not left blank: debug=1 hides the frames that would tell.
            Category::Unknown => "unknown",
        }
    }

    /// Waits that can never end by construction.
    pub fn blocked_forever(self) -> bool {
        matches!(self, Category::NilChanSend | Category::NilChanReceive | Category::SelectNoCases)
    }
}

/// Maps a printed wait reason or status (annotations already removed) to a category.
pub fn category_of_state(state: &str) -> Category {
    let base = state.strip_suffix(" (synctest)").unwrap_or(state);
    match base {
        "chan send" => Category::ChanSend,
        "chan receive" => Category::ChanReceive,
        "chan send (nil chan)" => Category::NilChanSend,
        "chan receive (nil chan)" => Category::NilChanReceive,
        "select" => Category::Select,
        "select (no cases)" => Category::SelectNoCases,
        "sync.Mutex.Lock" => Category::Mutex,
        "sync.RWMutex.RLock" => Category::RwmutexRead,
        "sync.RWMutex.Lock" => Category::RwmutexWrite,
        "sync.WaitGroup.Wait" => Category::Waitgroup,
        "sync.Cond.Wait" => Category::Cond,
        "semacquire" => Category::Semaphore,
        "IO wait" => Category::IoWait,
        "sleep" => Category::Sleep,
        "syscall" => Category::Syscall,
        "running" => Category::Running,
        "runnable" | "preempted" | "copystack" => Category::Runnable,
        "" | "unknown" => Category::Unknown,
        CHAN_SEND_MAYBE_NIL => Category::ChanSend,
        s if s.starts_with("GC ")
            || s.starts_with("garbage collection")
            || s.starts_with("trace ")
            || s.starts_with("GOMAXPROCS updater")
            || matches!(
                s,
                "finalizer wait"
                    | "force gc (idle)"
                    | "cleanup wait"
                    | "dumping heap"
                    | "wait for GC cycle"
                    | "stopping the world"
                    | "flushing proc caches"
                    | "page trace flush"
                    | "debug call"
                    | "idle"
            ) =>
        {
            Category::Runtime
        }
        _ => Category::Other,
    }
}

/// The state implied for a channel send whose frames cannot tell a nil channel from a
/// live one (a `runtime.chansend` line of a Go version not in [`CHANSEND_LINES`]). Not a
/// wait reason the runtime prints: it says that the forgotten-sender advice (make the
/// channel buffered) may be wrong, since a nil channel blocks forever whatever its size.
pub const CHAN_SEND_MAYBE_NIL: &str = "chan send (maybe nil chan)";

/// True when a `chan send` state leaves open that the channel is nil (see
/// [`CHAN_SEND_MAYBE_NIL`]): advice for a live channel must not be given then.
pub fn may_be_nil_chan(state: &str) -> bool {
    state == CHAN_SEND_MAYBE_NIL
}

/// Lines of `runtime/chan.go` at which `runtime.chansend` calls `gopark`, per Go version:
/// (nil channel, live channel). In debug=0 (and level-2 tracebacks) the `runtime.chansend`
/// frame's line is that call, which is the only thing the frames say about nil channels.
/// Read from each release's `src/runtime/chan.go` (go1.21.13, go1.22.10, go1.23.9,
/// go1.24.11, go1.25.5, go1.26.6, go1.27.3; `scripts/chan-lines.sh` prints them again).
pub const CHANSEND_LINES: [(&str, u32, u32); 7] = [
    ("1.21", 165, 259),
    ("1.22", 165, 259),
    ("1.23", 176, 270),
    ("1.24", 181, 283),
    ("1.25", 181, 283),
    ("1.26", 181, 283),
    ("1.27", 181, 283),
];

/// The same for `runtime.chanrecv` (nil channel, live channel).
pub const CHANRECV_LINES: [(&str, u32, u32); 7] = [
    ("1.21", 469, 583),
    ("1.22", 469, 583),
    ("1.23", 516, 639),
    ("1.24", 533, 664),
    ("1.25", 536, 667),
    ("1.26", 536, 667),
    ("1.27", 536, 667),
];

/// What a `gopark` line of `runtime.chansend`/`chanrecv` says: `Some(true)` a nil channel,
/// `Some(false)` a live one, `None` when no version's line settles it (a line that is the
/// nil branch in one version and the live one in another, or a version not in the table).
fn nil_chan_by_line(table: &[(&str, u32, u32)], line: u32) -> Option<bool> {
    let nil = table.iter().any(|&(_, n, _)| n == line);
    let live = table.iter().any(|&(_, _, l)| l == line);
    match (nil, live) {
        (true, false) => Some(true),
        (false, true) => Some(false),
        _ => None,
    }
}

/// Infers the category from frames alone (leaf first), as debug=0/1 require. `None` when
/// the frames show no known blocking primitive.
pub fn category_of_frames(t: &Tables, stack: &[FrameId], std: &mut Origins) -> Option<Category> {
    wait_of_frames(t, stack, std).map(|(c, _)| c)
}

/// [`category_of_frames`] with the state to show for it.
fn wait_of_frames(t: &Tables, stack: &[FrameId], std: &mut Origins) -> Option<(Category, &'static str)> {
    let has = |name: &str| stack.iter().any(|&f| t.function(f) == name);
    for &f in stack {
        if !std.is_std(t, f) {
            // The wait happens below the program's own code, never above it.
            break;
        }
        let name = t.function(f);
        let c = match name {
            "runtime.chansend" => match nil_chan_by_line(&CHANSEND_LINES, t.frame(f).line) {
                Some(true) => Category::NilChanSend,
                Some(false) => Category::ChanSend,
                None => return Some((Category::ChanSend, CHAN_SEND_MAYBE_NIL)),
            },
            "runtime.chanrecv" => match nil_chan_by_line(&CHANRECV_LINES, t.frame(f).line) {
                Some(true) => Category::NilChanReceive,
                // A receive gets no advice that a nil channel would make wrong.
                _ => Category::ChanReceive,
            },
            // The callers of `runtime.chansend`, met first when its frame is hidden (debug=1
            // hides leading runtime frames): nothing tells a nil channel then.
            "runtime.chansend1" | "reflect.chansend0" => return Some((Category::ChanSend, CHAN_SEND_MAYBE_NIL)),
            "runtime.chanrecv1" | "runtime.chanrecv2" | "reflect.chanrecv" => Category::ChanReceive,
            "runtime.selectgo" | "reflect.rselect" => Category::Select,
            "runtime.block" => Category::SelectNoCases,
            "sync.runtime_SemacquireMutex" | "internal/sync.runtime_SemacquireMutex" => {
                if has("sync.(*RWMutex).Lock") {
                    Category::RwmutexWrite
                } else {
                    Category::Mutex
                }
            }
            "sync.runtime_SemacquireRWMutexR" => Category::RwmutexRead,
            "sync.runtime_SemacquireRWMutex" => Category::RwmutexWrite,
            "sync.runtime_SemacquireWaitGroup" => Category::Waitgroup,
            "sync.runtime_Semacquire" => {
                if has("sync.(*WaitGroup).Wait") {
                    Category::Waitgroup
                } else {
                    Category::Semaphore
                }
            }
            "internal/poll.runtime_Semacquire" => Category::Semaphore,
            "sync.runtime_notifyListWait" => Category::Cond,
            "internal/poll.runtime_pollWait" | "runtime.netpollblock" => Category::IoWait,
            "time.Sleep" => Category::Sleep,
            "runtime.cgocall" | "os/signal.signal_recv" => Category::Syscall,
            "runtime.asyncPreempt" | "runtime.asyncPreempt2" => Category::Runnable,
            "runtime.goroutineProfileWithLabels"
            | "runtime.pprof_goroutineProfileWithLabels"
            | "runtime/pprof.runtime_goroutineProfileWithLabels"
            | "runtime/pprof.writeRuntimeProfile"
            | "runtime/pprof.writeGoroutineStacks" => Category::Running,
            _ if name.starts_with("syscall.Syscall")
                || name.starts_with("syscall.RawSyscall")
                || name.starts_with("internal/runtime/syscall.Syscall")
                || name.starts_with("syscall.syscall") =>
            {
                Category::Syscall
            }
            _ => continue,
        };
        return Some((c, c.implied_state()));
    }
    None
}

/// Category and state of a goroutine: the printed state refined by frames, or the frames
/// alone where no state is printed.
pub fn classify(
    t: &Tables,
    state: &str,
    stack: &[FrameId],
    frames_complete: bool,
    std: &mut Origins,
) -> (Category, Option<&'static str>) {
    let from_frames = wait_of_frames(t, stack, std);
    if state.is_empty() {
        return match from_frames {
            Some((c, implied)) => (c, Some(implied)),
            // debug=0 shows every frame: no park frame means it was running.
            None if frames_complete && !stack.is_empty() && t.function(stack[0]).starts_with("runtime.gopark") => {
                (Category::Runtime, Some("runtime"))
            }
            None if frames_complete && !stack.is_empty() => (Category::Running, Some("running")),
            // debug=1 hides the runtime frames of channel waits and selects.
            None => (Category::Unknown, Some(Category::Unknown.implied_state())),
        };
    }
    let c = category_of_state(state);
    let c = match (c, from_frames.map(|(c, _)| c)) {
        (Category::Semaphore, Some(Category::Waitgroup)) => Category::Waitgroup,
        (Category::Mutex, Some(Category::RwmutexWrite)) => Category::RwmutexWrite,
        (c, _) => c,
    };
    (c, None)
}

/// True for a standard-library top-level import path element (Go 1.21–1.27). A package
/// whose path starts with one of these (and has no dot in its first element) is the
/// standard library. A `match`, not a list scan: it runs for every frame of every stack.
fn is_std_root(root: &str) -> bool {
    matches!(
        root,
        "archive"
            | "arena"
            | "bufio"
            | "builtin"
            | "bytes"
            | "cmp"
            | "compress"
            | "container"
            | "context"
            | "crypto"
            | "database"
            | "debug"
            | "embed"
            | "encoding"
            | "errors"
            | "expvar"
            | "flag"
            | "fmt"
            | "go"
            | "hash"
            | "html"
            | "image"
            | "index"
            | "internal"
            | "io"
            | "iter"
            | "log"
            | "maps"
            | "math"
            | "mime"
            | "net"
            | "os"
            | "path"
            | "plugin"
            | "reflect"
            | "regexp"
            | "runtime"
            | "slices"
            | "sort"
            | "strconv"
            | "strings"
            | "structs"
            | "sync"
            | "syscall"
            | "testing"
            | "text"
            | "time"
            | "unicode"
            | "unique"
            | "unsafe"
            | "vendor"
            | "weak"
    )
}

/// The import path of a function's package: split at the last `/`, then at the first `.`.
pub fn package_of(function: &str) -> &str {
    let slash = function.rfind('/').map_or(0, |i| i + 1);
    match function[slash..].find('.') {
        Some(dot) => &function[..slash + dot],
        None => function,
    }
}

/// True if the function belongs to the standard library (by import path, so `-trimpath`
/// builds are read correctly).
pub fn is_std(function: &str) -> bool {
    let b = function.as_bytes();
    let Some(dot) = memchr::memchr(b'.', b).filter(|_| function != "?") else {
        return true;
    };
    // The first element of `package_of(function)`: up to the first `/` when there is one
    // (the package ends after the last), else up to the first `.`. Found without cutting
    // out the package: long generic names made that 770 instructions a frame (issue 14).
    is_std_root(&function[..memchr::memchr(b'/', b).unwrap_or(dot)])
}

/// Standard-library frames that implement a wait rather than decide it: a goroutine's role
/// is never named by one of these unless nothing else is on its stack.
fn is_blocking_machinery(function: &str) -> bool {
    let pkg = package_of(function);
    pkg == "runtime"
        || pkg.starts_with("internal/")
        || pkg == "sync"
        || pkg == "sync/atomic"
        || pkg == "syscall"
        || pkg == "os/signal"
        || function == "time.Sleep"
        || function.starts_with("net.(*netFD)")
        || function.starts_with("net.(*conn)")
        || function.starts_with("net.(*TCPListener)")
        || function.starts_with("net.(*UnixListener)")
        || function.starts_with("os.(*File)")
        || function == "?"
}

/// Whose code a frame is: the program's own (its main module), a dependency's, or the
/// standard library's. Derived from the function and its file, never part of a site's
/// identity across snapshots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    MainModule,
    Dependency,
    Std,
}

impl Origin {
    pub fn name(self) -> &'static str {
        match self {
            Origin::MainModule => "main_module",
            Origin::Dependency => "dependency",
            Origin::Std => "std",
        }
    }
}

/// The path elements of `s` (split at `/`), without empty ones.
fn elements(s: &str) -> impl DoubleEndedIterator<Item = &str> + Clone {
    s.split('/').filter(|e| !e.is_empty())
}

/// The directory part of a file path (`""` for a bare name).
fn dir_of(file: &str) -> &str {
    file.rfind('/').map_or("", |i| &file[..i])
}

/// True for a path Go printed from the machine that built the program (`/src/x.go`,
/// `C:/src/x.go`) rather than a `-trimpath` one (`example.com/app/x.go`).
fn is_absolute(path: &str) -> bool {
    let b = path.as_bytes();
    b.first() == Some(&b'/')
        || (b.len() > 2 && b[0].is_ascii_alphabetic() && b[1] == b':' && matches!(b[2], b'/' | b'\\'))
}

/// True if the import path `pkg` is `prefix` or below it (on a path element boundary).
fn within(pkg: &str, prefix: &str) -> bool {
    let prefix = prefix.trim_end_matches('/');
    pkg == prefix || (pkg.starts_with(prefix) && pkg.as_bytes().get(prefix.len()) == Some(&b'/'))
}

/// A file's directory up to and including its module cache element (`…/pkg/mod/github.com/
/// x/y@v1.2.3`, or `github.com/x/y@v1.2.3` with `-trimpath`): the mark of a module fetched
/// at a version, i.e. not the one being built (unless the program itself was run from the
/// module cache, `go install pkg@version`).
fn versioned_root(dir: &str) -> Option<&str> {
    let at = dir.find('@')?;
    let end = dir[at..].find('/').map_or(dir.len(), |i| at + i);
    Some(&dir[..end])
}

/// The module path of a [`versioned_root`]: the elements after `pkg/mod/` (or all of
/// them, with `-trimpath`), version dropped.
fn versioned_module(root: &str) -> String {
    let rest = root.rfind("/pkg/mod/").map_or(root, |i| &root[i + "/pkg/mod/".len()..]);
    let rest = rest.trim_start_matches('/');
    let path = rest.rfind('@').map_or(rest, |i| &rest[..i]);
    // The module cache escapes capitals as `!x`.
    let mut out = String::with_capacity(path.len());
    let mut bang = false;
    for c in path.chars() {
        match c {
            '!' => bang = true,
            c if bang => {
                out.extend(c.to_uppercase());
                bang = false
            }
            c => out.push(c),
        }
    }
    out
}

/// True if the directory has a `vendor` element: `go mod vendor` copies.
fn is_vendored(dir: &str) -> bool {
    elements(dir).any(|e| e == "vendor")
}

/// How many leading elements of an import path name its repository, i.e. the code its
/// owner would call theirs: `github.com/owner/repo` (and the other hosts whose paths
/// have an owner), `golang.org/x/repo`; two for other domains (`go.etcd.io/etcd`,
/// `k8s.io/kubernetes`, `gopkg.in/yaml.v3`); one for a path without a domain (`shop`).
fn repository_depth(pkg: &str) -> usize {
    let first = elements(pkg).next().unwrap_or("");
    let depth = if !first.contains('.') {
        1
    } else if matches!(
        first,
        "github.com" | "gitlab.com" | "bitbucket.org" | "golang.org" | "gitee.com" | "codeberg.org" | "git.sr.ht"
    ) {
        3
    } else {
        2
    };
    depth.min(elements(pkg).count())
}

/// Which code is the program's own, for one snapshot: from `--module`, else from where
/// package `main` lies. Found once per snapshot ([`MainModule::detect`]).
///
/// Package `main`'s frames carry no import path (`main.main`), but their file does: with
/// `-trimpath` it *is* the import path (`github.com/acme/shop/cmd/shop/main.go`); without,
/// an absolute directory that another frame ties to an import path
/// (`github.com/acme/shop/internal/db.Query` in `/src/internal/db/q.go` puts
/// `github.com/acme/shop` at `/src`). A package is the program's own when it shares the
/// main package's repository ([`repository_depth`]); one in the module cache (`@vX` in
/// its path) or under `vendor/` never is. With no frame of package `main` in the snapshot
/// (a panic that printed one goroutine), only the module cache and `vendor/` tell
/// dependencies: every other package counts as the program's own.
#[derive(Debug, Clone, Default)]
pub struct MainModule {
    /// `--module` prefixes: when given, they alone decide.
    given: Vec<String>,
    /// The import path of package `main`, where the paths tell it.
    main_pkg: Option<String>,
    /// Leading elements of `main_pkg` a package must share to be the program's own.
    depth: usize,
    /// Package `main` was seen (its directory is known).
    main_seen: bool,
    /// Package `main`'s module cache root, for a program run from the module cache.
    main_versioned: Option<String>,
}

impl MainModule {
    /// Finds the main module of one snapshot from its frames (creators included), unless
    /// `given` names it.
    pub fn detect(t: &Tables, given: &[String]) -> MainModule {
        let mut m = MainModule { given: given.to_vec(), ..MainModule::default() };
        if !given.is_empty() {
            return m;
        }
        let frames = (0..t.frames.len() as FrameId).map(|f| (t.function(f), t.str(t.frame(f).file)));
        // A test binary's `main.main` lies in a generated file in a temporary folder.
        let Some(main_dir) = frames
            .clone()
            .find(|(function, file)| {
                package_of(function) == "main" && file.contains('/') && !file.ends_with("/_testmain.go")
            })
            .map(|(_, file)| dir_of(file))
        else {
            return m;
        };
        m.main_seen = true;
        m.main_pkg = if let Some(root) = versioned_root(main_dir) {
            m.main_versioned = Some(root.to_string());
            let module = versioned_module(root);
            Some(format!("{module}{}", &main_dir[root.len()..]))
        } else if !is_absolute(main_dir) {
            Some(main_dir.to_string())
        } else {
            frames
                .filter(|(function, _)| !is_std(function) && package_of(function) != "main")
                .find_map(|(function, file)| tie(package_of(function), dir_of(file), main_dir))
        };
        m.depth = m.main_pkg.as_deref().map_or(0, repository_depth);
        m
    }

    /// The main module as `--module` values would say it, where it was found (for notes).
    pub fn describe(&self) -> Option<String> {
        if !self.given.is_empty() {
            return Some(self.given.join(", "));
        }
        let pkg = self.main_pkg.as_deref()?;
        Some(elements(pkg).take(self.depth).collect::<Vec<_>>().join("/"))
    }

    /// Whose code `function` (in `file`) is.
    pub fn origin(&self, function: &str, file: &str) -> Origin {
        if is_std(function) {
            return Origin::Std;
        }
        let pkg = package_of(function);
        if pkg == "main" {
            return Origin::MainModule;
        }
        let own = if !self.given.is_empty() {
            self.given.iter().any(|m| within(pkg, m))
        } else {
            let dir = dir_of(file);
            if let Some(root) = versioned_root(dir) {
                self.main_versioned.as_deref() == Some(root)
            } else if is_vendored(dir) {
                false
            } else if let Some(main) = &self.main_pkg {
                let shared = elements(pkg).zip(elements(main)).take_while(|(a, b)| a == b).count();
                shared >= self.depth
            } else {
                // Package main's folder is known but ties to no import path: this package,
                // which did not tie to it either, lies elsewhere (a `replace`d or GOPATH
                // dependency). With no package main at all, nothing says it is not ours.
                !self.main_seen
            }
        };
        if own {
            Origin::MainModule
        } else {
            Origin::Dependency
        }
    }
}

/// The import path of the directory `main_dir` (absolute), if the package `pkg` in `dir`
/// ties the two path spaces together: its directory ends with its import path (a GOPATH
/// layout: `/go/src/github.com/a/b/db` for `github.com/a/b/db`), or they share a tail
/// below a module root (`/src/internal/db` for `github.com/a/b/internal/db`: the module
/// `github.com/a/b` is at `/src`), or its directory holds `main_dir`.
fn tie(pkg: &str, dir: &str, main_dir: &str) -> Option<String> {
    let shared = elements(pkg).rev().zip(elements(dir).rev()).take_while(|(a, b)| a == b).count();
    let pkg_n = elements(pkg).count();
    let dir_n = elements(dir).count();
    // The module's (or GOPATH's) import path and folder.
    let (module, root): (Vec<&str>, Vec<&str>) = if shared > 0 {
        (elements(pkg).take(pkg_n - shared).collect(), elements(dir).take(dir_n - shared).collect())
    } else {
        (elements(pkg).collect(), elements(dir).collect())
    };
    let main: Vec<&str> = elements(main_dir).collect();
    if root.is_empty() || !main.starts_with(&root) {
        return None;
    }
    let path: Vec<&str> = module.into_iter().chain(main[root.len()..].iter().copied()).collect();
    (!path.is_empty()).then(|| path.join("/"))
}

/// The compiler's wrappers of `go f(x)` and `defer f(x)` (`main.main.gowrap1`): printed
/// only at traceback level 2 (SIGQUIT, `GOTRACEBACK=system`), so never a site, or a
/// goroutine started with `go srv.Serve(ln)` from `main` would have one site in a SIGQUIT
/// dump and another in debug=2.
fn is_go_wrapper(function: &str) -> bool {
    let tail = function.rsplit('.').next().unwrap_or("");
    let wrapper =
        |p: &str| tail.strip_prefix(p).is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    wrapper("gowrap") || wrapper("deferwrap")
}

/// Goroutine entry functions that only pass control on: the compiler's wrappers of
/// `go f(x)` ([`is_go_wrapper`]), and the launchers of libraries that run a function
/// given to them.
fn is_launcher(function: &str) -> bool {
    if is_go_wrapper(function) {
        return true;
    }
    let base = strip_closure(function);
    matches!(
        base,
        "time.goFunc"
            | "sync.(*WaitGroup).Go"
            | "golang.org/x/sync/errgroup.(*Group).Go"
            | "golang.org/x/sync/errgroup.(*Group).TryGo"
            | "github.com/oklog/run.(*Group).Run"
            | "k8s.io/apimachinery/pkg/util/wait.(*Group).Start"
            | "k8s.io/apimachinery/pkg/util/wait.(*Group).StartWithChannel"
            | "k8s.io/apimachinery/pkg/util/wait.(*Group).StartWithContext"
    )
}

/// A function name without its closure suffixes (`.func1`, `.1`, `.func2.3`, `-range1`):
/// the function that the closure was written in.
fn strip_closure(function: &str) -> &str {
    let mut f = function;
    loop {
        let (head, tail) = match f.rfind(['.', '-']) {
            Some(i) if i > f.rfind('/').map_or(0, |s| s + 1) => (&f[..i], &f[i + 1..]),
            _ => return f,
        };
        let n = tail.trim_start_matches("func").trim_start_matches("range");
        if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
            return f;
        }
        f = head;
    }
}

/// True for a closure (`pkg.f.func1`, `pkg.f.func1.2`, `pkg.f-range1`).
fn is_closure(function: &str) -> bool {
    strip_closure(function).len() != function.len()
}

/// The frame that names a goroutine with no frame of the program's own: its outermost
/// meaningful frame, the function the goroutine was started to run
/// (`net/http.(*persistConn).readLoop`, `net/rpc.(*Client).input`,
/// `google.golang.org/grpc/internal/transport.(*http2Client).reader`).
///
/// Meaningful: not `runtime.goexit` or an unknown (`?`) frame at the bottom; not a `go`
/// statement's wrapper (`.gowrapN`, level-2 tracebacks only); not a launcher
/// ([`is_launcher`]: `time.AfterFunc`, errgroup, oklog/run…) nor a closure that only
/// calls on into its own package (`(*T).start.func1` → `(*T).loop` names the goroutine
/// by `loop`), unless what they call is blocking machinery (a closure that waits in
/// `select` is named by the closure). The `created by` frame is not on the stack: it
/// names who started the goroutine, not what it does.
pub fn role_frame(t: &Tables, stack: &[FrameId]) -> Option<FrameId> {
    let mut frames = stack;
    while let [inner @ .., last] = frames {
        let f = t.function(*last);
        if !inner.is_empty() && (f == "runtime.goexit" || f == "?") {
            frames = inner;
        } else {
            break;
        }
    }
    let mut i = frames.len().checked_sub(1)?;
    while i > 0 {
        let (outer, inner) = (t.function(frames[i]), t.function(frames[i - 1]));
        // A `go` wrapper is never what a goroutine does, whatever it calls (the runtime's
        // own `runtime.gcenable.gowrap1` calls `runtime.bgsweep`).
        let passes_on = is_go_wrapper(outer)
            || (!is_blocking_machinery(inner)
                && (is_launcher(outer)
                    || (is_closure(outer) && package_of(inner) == package_of(outer) && !is_closure(inner))));
        if !passes_on {
            break;
        }
        i -= 1;
    }
    Some(frames[i])
}

/// The blocking site: the first frame from the leaf in the program's own code (not a
/// `go` statement's wrapper, [`is_go_wrapper`]); where there is none, the goroutine's role
/// ([`role_frame`]). `None` for an empty stack.
pub fn blocking_site(t: &Tables, stack: &[FrameId], origins: &mut Origins) -> Option<FrameId> {
    stack
        .iter()
        .copied()
        .find(|&f| origins.of(t, f) == Origin::MainModule && !is_go_wrapper(t.function(f)))
        .or_else(|| role_frame(t, stack))
}

/// [`Origin`] per function name of one snapshot: stacks are many where sites are many
/// (a `trend` of 1,000 sites), but they share a few runtime frames. A function lies in
/// one file, so its name decides.
#[derive(Default)]
pub struct Origins {
    /// By function [`crate::model::Sym`]: 0 not yet known, else 1 + the [`Origin`].
    known: Vec<u8>,
    main: MainModule,
}

impl Origins {
    pub fn new(main: MainModule) -> Origins {
        Origins { known: Vec::new(), main }
    }

    pub fn main_module(&self) -> &MainModule {
        &self.main
    }

    pub fn of(&mut self, t: &Tables, f: FrameId) -> Origin {
        let frame = t.frame(f);
        let sym = frame.function as usize;
        if sym >= self.known.len() {
            self.known.resize(t.strings.len().max(sym + 1), 0);
        }
        match self.known[sym] {
            1 => Origin::MainModule,
            2 => Origin::Dependency,
            3 => Origin::Std,
            _ => {
                let o = self.main.origin(t.str(frame.function), t.str(frame.file));
                self.known[sym] = 1 + o as u8;
                o
            }
        }
    }

    pub fn is_std(&mut self, t: &Tables, f: FrameId) -> bool {
        self.of(t, f) == Origin::Std
    }
}

/// A stack whose site is not worked out yet (frame ids stop short of it: [`NONE`] is the
/// last id, this the one before).
const UNKNOWN_SITE: FrameId = NONE - 1;

/// (state, stack) pairs [`Classifier::category`] remembers at most: a real dump has one
/// per distinct stack and wait (18,000 in the wide bench dump).
const MAX_CACHED_CATEGORIES: usize = 1 << 16;

/// Per-snapshot cache of classification results, indexed by stack and state.
pub struct Classifier {
    /// Per stack, its site: [`UNKNOWN_SITE`] until worked out, [`NONE`] for none (4 bytes a
    /// stack, not 8: issue 15's dump of a stack per goroutine).
    sites: Vec<FrameId>,
    cats: FxHashMap<(u32, StackId, bool), (Category, u32)>,
    origins: Origins,
}

impl Classifier {
    /// A classifier for `snap`, whose main module is `modules` (the `--module` prefixes),
    /// or found from its frames when that is empty.
    pub fn new(snap: &Snapshot, modules: &[String]) -> Self {
        Classifier {
            sites: vec![UNKNOWN_SITE; snap.tables.stacks.len()],
            cats: FxHashMap::default(),
            origins: Origins::new(MainModule::detect(&snap.tables, modules)),
        }
    }

    pub fn site(&mut self, snap: &Snapshot, stack: StackId) -> Option<FrameId> {
        let slot = &mut self.sites[stack as usize];
        match *slot {
            UNKNOWN_SITE => {}
            NONE => return None,
            f => return Some(f),
        }
        let s = blocking_site(&snap.tables, snap.tables.stacks.get(stack), &mut self.origins);
        *slot = s.unwrap_or(NONE);
        s
    }

    /// Whose code a frame (a site) is.
    pub fn origin(&mut self, t: &Tables, f: FrameId) -> Origin {
        self.origins.of(t, f)
    }

    pub fn main_module(&self) -> &MainModule {
        self.origins.main_module()
    }

    /// Category and the state symbol to show (the printed one, or the implied one interned
    /// into `strings`).
    pub fn category(
        &mut self,
        snap: &mut Snapshot,
        state: u32,
        stack: StackId,
        frames_complete: bool,
    ) -> (Category, u32) {
        if let Some(&r) = self.cats.get(&(state, stack, frames_complete)) {
            return r;
        }
        let t = &snap.tables;
        let (c, implied) = classify(t, t.str(state), t.stacks.get(stack), frames_complete, &mut self.origins);
        let shown = Self::shown_state(snap, state, implied);
        // Bounded: a dump of a distinct state per goroutine (issue 15) would otherwise hold
        // an entry per goroutine; past this, a pair is classified again when met again.
        if self.cats.len() < MAX_CACHED_CATEGORIES {
            self.cats.insert((state, stack, frames_complete), (c, shown));
        }
        (c, shown)
    }

    /// [`Classifier::category`] without remembering the pair, for a caller with a memo of
    /// its own (grouping remembers each stack's last state: a cache entry per pair met once
    /// is ~28 bytes a goroutine in a dump of distinct stacks, issue 15).
    pub fn category_once(
        &mut self,
        snap: &mut Snapshot,
        g: &crate::model::Goroutine,
        frames_complete: bool,
    ) -> (Category, u32) {
        let t = &snap.tables;
        let (c, implied) = classify(t, t.str(g.state), t.stacks.get(g.stack), frames_complete, &mut self.origins);
        (c, Self::shown_state(snap, g.state, implied))
    }

    /// The state to show: the printed one, or the one the frames imply, interned.
    fn shown_state(snap: &mut Snapshot, state: u32, implied: Option<&str>) -> u32 {
        match implied {
            Some(s) => snap.tables.strings.intern_str(s),
            None => state,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `is_std` finds the package's first element in place; the same answers as cutting the
    /// package out first, on names of every shape.
    #[test]
    fn is_std_as_by_package_of() {
        let by_package = |f: &str| {
            if f == "?" || !f.contains('.') {
                return true;
            }
            let pkg = package_of(f);
            is_std_root(pkg.split('/').next().unwrap_or(pkg))
        };
        for f in [
            "?",
            "main.main",
            "main",
            "runtime.gopark",
            "sync.(*Mutex).Lock",
            "net/http.(*conn).serve",
            "github.com/x/y.(*T).m",
            "gopkg.in/yaml.v3.(*decoder).unmarshal",
            "main.F[net/http.Header]",
            "sync.OnceValue[go.shape.*net/http.Client]",
            "internal/poll.runtime_pollWait",
            "a/b/c",
            "example.com/m.f.func1",
            "crypto/tls.(*Conn).Read",
            ".x",
            "/.",
        ] {
            assert_eq!(is_std(f), by_package(f), "{f}");
        }
    }

    #[test]
    fn std_by_import_path() {
        assert!(is_std("net/http.(*conn).serve"));
        assert!(is_std("internal/poll.runtime_pollWait"));
        assert!(is_std("runtime.gopark"));
        assert!(!is_std("main.(*server).handleSearch.func1"));
        assert!(!is_std("github.com/acme/shop/cart.(*Cart).Add"));
        assert!(!is_std("golang.org/x/net/http2.(*serverConn).serve"));
        assert!(!is_std("shop/internal/db.Query"));
        assert_eq!(package_of("github.com/a/b.v2/c.(*T).M"), "github.com/a/b.v2/c");
    }

    /// A snapshot whose frames are these (function, file) pairs, one stack each.
    fn tables(frames: &[(&str, &str)]) -> (Tables, Vec<FrameId>) {
        let mut t = Tables::new();
        let ids = frames
            .iter()
            .enumerate()
            .map(|(i, (f, file))| {
                let (function, file) = (t.strings.intern_str(f), t.strings.intern_str(file));
                t.frames.intern(crate::model::Frame { function, file, line: i as u32 + 1 })
            })
            .collect();
        (t, ids)
    }

    fn origins(frames: &[(&str, &str)], given: &[&str]) -> Vec<Origin> {
        let (t, ids) = tables(frames);
        let given: Vec<String> = given.iter().map(|s| s.to_string()).collect();
        let mut o = Origins::new(MainModule::detect(&t, &given));
        ids.iter().map(|&f| o.of(&t, f)).collect()
    }

    use Origin::{Dependency as D, MainModule as M, Std as S};

    #[test]
    fn trimpath_main_names_the_repository() {
        let f = [
            ("main.main", "github.com/acme/shop/cmd/shop/main.go"),
            ("github.com/acme/shop/internal/db.Query", "github.com/acme/shop/internal/db/q.go"),
            ("github.com/acme/lib.F", "github.com/acme/lib/f.go"),
            ("golang.org/x/sync/semaphore.(*Weighted).Acquire", "golang.org/x/sync@v0.1.0/semaphore/semaphore.go"),
            ("net/http.(*conn).serve", "net/http/server.go"),
        ];
        assert_eq!(origins(&f, &[]), [M, M, D, D, S]);
        assert_eq!(origins(&f, &["github.com/acme"]), [M, M, M, D, S]);
        assert_eq!(origins(&f, &["golang.org/x/sync"]), [M, D, D, M, S]);
    }

    #[test]
    fn absolute_paths_tie_import_paths_to_folders() {
        let f = [
            ("main.main", "/src/cmd/shop/main.go"),
            ("github.com/acme/shop/internal/db.Query", "/src/internal/db/q.go"),
            ("github.com/x/y.F", "/root/go/pkg/mod/github.com/x/y@v1.2.3/f.go"),
            ("github.com/v/w.F", "/src/vendor/github.com/v/w/f.go"),
            ("golang.org/x/sync/semaphore.F", "/usr/share/gocode/src/golang.org/x/sync/semaphore/s.go"),
        ];
        assert_eq!(origins(&f, &[]), [M, M, D, D, D]);
        // Package main alone: what does not tie to it is a dependency.
        assert_eq!(origins(&[f[0], f[4]], &[]), [M, D]);
        // GOPATH: every package's folder ends with its import path.
        let g = [
            ("main.main", "/go/src/github.com/acme/shop/cmd/shop/main.go"),
            ("github.com/acme/shop/db.Q", "/go/src/github.com/acme/shop/db/q.go"),
            ("github.com/other/lib.F", "/go/src/github.com/other/lib/f.go"),
        ];
        assert_eq!(origins(&g, &[]), [M, M, D]);
    }

    #[test]
    fn no_package_main_falls_back_to_the_module_cache() {
        let f = [
            ("github.com/acme/shop/db.Q", "/src/db/q.go"),
            ("github.com/x/y.F", "/root/go/pkg/mod/github.com/x/y@v1.2.3/f.go"),
            ("github.com/v/w.F", "vendor/github.com/v/w/f.go"),
        ];
        assert_eq!(origins(&f, &[]), [M, D, D]);
        // A program run from the module cache is its own there.
        let g = [
            ("main.main", "/root/go/pkg/mod/github.com/!acme/tool@v1.0.0/cmd/tool/main.go"),
            ("github.com/Acme/tool/x.F", "/root/go/pkg/mod/github.com/!acme/tool@v1.0.0/x/f.go"),
            ("github.com/x/y.F", "/root/go/pkg/mod/github.com/x/y@v1.2.3/f.go"),
        ];
        assert_eq!(origins(&g, &[]), [M, M, D]);
    }

    #[test]
    fn names_and_paths() {
        assert!(within("github.com/a/b/c", "github.com/a/b"));
        assert!(within("github.com/a/b", "github.com/a/b/"));
        assert!(!within("github.com/a/bc", "github.com/a/b"));
        assert_eq!(repository_depth("github.com/a/b/cmd/x"), 3);
        assert_eq!(repository_depth("go.etcd.io/etcd/server/v3"), 2);
        assert_eq!(repository_depth("shop/cmd/x"), 1);
        assert_eq!(repository_depth("github.com/a"), 2);
        assert_eq!(versioned_module("/r/go/pkg/mod/github.com/!burnt!sushi/toml@v1.0.0"), "github.com/BurntSushi/toml");
        assert_eq!(strip_closure("pkg.(*T).start.func1.2"), "pkg.(*T).start");
        assert_eq!(strip_closure("main.f-range1"), "main.f");
        assert_eq!(strip_closure("main.main"), "main.main");
        assert_eq!(strip_closure("gopkg.in/yaml.v3.F"), "gopkg.in/yaml.v3.F");
        assert!(is_go_wrapper("main.main.gowrap12") && !is_go_wrapper("main.gowrapper"));
    }

    #[test]
    fn roles_skip_wrappers_and_trampolines_but_not_into_machinery() {
        let role = |frames: &[(&str, &str)]| {
            let (t, ids) = tables(frames);
            t.function(role_frame(&t, &ids).unwrap()).to_string()
        };
        let io = [
            ("internal/poll.runtime_pollWait", "x.go"),
            ("bufio.(*Reader).Read", "x.go"),
            ("net/rpc.(*Client).input", "x.go"),
            ("runtime.goexit", "x.go"),
        ];
        assert_eq!(role(&io), "net/rpc.(*Client).input");
        let wrapped = [
            ("runtime.gopark", "x.go"),
            ("runtime.bgsweep", "x.go"),
            ("runtime.gcenable.gowrap1", "x.go"),
            ("runtime.goexit", "x.go"),
        ];
        assert_eq!(role(&wrapped), "runtime.bgsweep");
        let closure_loop = [("runtime.selectgo", "x.go"), ("pkg.(*T).loop", "x.go"), ("pkg.(*T).start.func1", "x.go")];
        assert_eq!(role(&closure_loop), "pkg.(*T).loop");
        let closure_waits = [("runtime.selectgo", "x.go"), ("pkg.(*T).start.func1", "x.go")];
        assert_eq!(role(&closure_waits), "pkg.(*T).start.func1");
        let closure_copies = [("io.Copy", "x.go"), ("pkg.f.func1", "x.go")];
        assert_eq!(role(&closure_copies), "pkg.f.func1");
        let errgroup = [
            ("runtime.selectgo", "x.go"),
            ("github.com/p/d.(*M).sender", "x.go"),
            ("golang.org/x/sync/errgroup.(*Group).Go.func1", "x.go"),
        ];
        assert_eq!(role(&errgroup), "github.com/p/d.(*M).sender");
    }

    #[test]
    fn chan_lines_decide_only_where_every_version_agrees() {
        for table in [&CHANSEND_LINES[..], &CHANRECV_LINES[..]] {
            for &(v, nil, live) in table {
                assert_eq!(nil_chan_by_line(table, nil), Some(true), "{v}");
                assert_eq!(nil_chan_by_line(table, live), Some(false), "{v}");
            }
        }
        assert_eq!(nil_chan_by_line(&CHANSEND_LINES, 160), None);
        assert_eq!(nil_chan_by_line(&[("a", 10, 20), ("b", 20, 30)], 20), None, "nil in one, live in another");
        // A debug=0 stack of a send at an unknown line: a chan send that may be nil.
        let (t, ids) = tables(&[("runtime.gopark", "runtime/proc.go"), ("runtime.chansend", "runtime/chan.go")]);
        let mut o = Origins::default();
        assert_eq!(wait_of_frames(&t, &ids, &mut o), Some((Category::ChanSend, CHAN_SEND_MAYBE_NIL)));
        assert!(may_be_nil_chan(CHAN_SEND_MAYBE_NIL) && !may_be_nil_chan("chan send"));
    }

    #[test]
    fn states_map_to_categories() {
        assert_eq!(category_of_state("chan send"), Category::ChanSend);
        assert_eq!(category_of_state("chan receive (nil chan)"), Category::NilChanReceive);
        assert_eq!(category_of_state("select (no cases)"), Category::SelectNoCases);
        assert_eq!(category_of_state("GC worker (idle)"), Category::Runtime);
        assert_eq!(category_of_state("coroutine"), Category::Other);
        assert_eq!(category_of_state("chan send (synctest)"), Category::ChanSend);
    }
}
