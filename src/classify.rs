//! Classification: what a goroutine waits on (its [`Category`] and state) and where in the
//! program's own code it waits (its blocking site).
//!
//! Pure functions of a snapshot's interned tables. The header's wait reason decides where
//! the format prints one (tracebacks); frames refine it (a `semacquire` under
//! `sync.(*WaitGroup).Wait` is a WaitGroup) and decide alone in debug=0/1. Results are
//! cached per stack, since a million goroutines share a few hundred stacks.

use crate::model::{FrameId, Snapshot, StackId, Tables};
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
            Category::Unknown => "",
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
        "" => Category::Unknown,
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

/// Infers the category from frames alone (leaf first), as debug=0/1 require. `None` when
/// the frames show no known blocking primitive.
pub fn category_of_frames(t: &Tables, stack: &[FrameId], std: &mut StdFunctions) -> Option<Category> {
    let has = |name: &str| stack.iter().any(|&f| t.function(f) == name);
    for &f in stack {
        if !std.is_std(t, f) {
            // The wait happens below the program's own code, never above it.
            break;
        }
        let name = t.function(f);
        let c = match name {
            "runtime.chansend1" | "runtime.chansend" | "reflect.chansend0" => Category::ChanSend,
            "runtime.chanrecv1" | "runtime.chanrecv2" | "runtime.chanrecv" | "reflect.chanrecv" => {
                Category::ChanReceive
            }
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
        return Some(c);
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
    std: &mut StdFunctions,
) -> (Category, Option<&'static str>) {
    let from_frames = category_of_frames(t, stack, std);
    if state.is_empty() {
        return match from_frames {
            Some(c) => (c, Some(c.implied_state())),
            // debug=0 shows every frame: no park frame means it was running.
            None if frames_complete && !stack.is_empty() && t.function(stack[0]).starts_with("runtime.gopark") => {
                (Category::Runtime, Some("runtime"))
            }
            None if frames_complete && !stack.is_empty() => (Category::Running, Some("running")),
            None => (Category::Unknown, None),
        };
    }
    let c = category_of_state(state);
    let c = match (c, from_frames) {
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
    if function == "?" || !function.contains('.') {
        return true;
    }
    let pkg = package_of(function);
    let root = pkg.split('/').next().unwrap_or(pkg);
    is_std_root(root)
}

/// Standard-library frames that implement a wait rather than decide it: skipped when no
/// frame of the program's own is found.
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

/// The blocking site: the first frame from the leaf in the program's own code; where every
/// frame is standard library, the first one that is not blocking machinery; else the
/// outermost frame (a runtime system goroutine's start function).
pub fn blocking_site(t: &Tables, stack: &[FrameId], std: &mut StdFunctions) -> Option<FrameId> {
    stack
        .iter()
        .copied()
        .find(|&f| !std.is_std(t, f))
        .or_else(|| stack.iter().copied().find(|&f| !is_blocking_machinery(t.function(f))))
        .or_else(|| stack.last().copied())
}

/// [`is_std`] per function name of one snapshot: stacks are many where sites are many
/// (a `trend` of 1,000 sites), but they share a few runtime frames.
#[derive(Default)]
pub struct StdFunctions {
    /// By function [`crate::model::Sym`]: 0 not yet known, 1 standard library, 2 not.
    known: Vec<u8>,
}

impl StdFunctions {
    pub fn is_std(&mut self, t: &Tables, f: FrameId) -> bool {
        let sym = t.frame(f).function as usize;
        if sym >= self.known.len() {
            self.known.resize(t.strings.len().max(sym + 1), 0);
        }
        match self.known[sym] {
            1 => true,
            2 => false,
            _ => {
                let std = is_std(t.function(f));
                self.known[sym] = if std { 1 } else { 2 };
                std
            }
        }
    }
}

/// Per-snapshot cache of classification results, indexed by stack and state.
pub struct Classifier {
    sites: Vec<Option<Option<FrameId>>>,
    cats: FxHashMap<(u32, StackId, bool), (Category, u32)>,
    std: StdFunctions,
}

impl Classifier {
    pub fn new(snap: &Snapshot) -> Self {
        Classifier {
            sites: vec![None; snap.tables.stacks.len()],
            cats: FxHashMap::default(),
            std: StdFunctions::default(),
        }
    }

    pub fn site(&mut self, snap: &Snapshot, stack: StackId) -> Option<FrameId> {
        let slot = &mut self.sites[stack as usize];
        if let Some(s) = *slot {
            return s;
        }
        let s = blocking_site(&snap.tables, snap.tables.stacks.get(stack), &mut self.std);
        *slot = Some(s);
        s
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
        let (c, implied) = classify(t, t.str(state), t.stacks.get(stack), frames_complete, &mut self.std);
        let shown = match implied {
            Some(s) => snap.tables.strings.intern_str(s),
            None => state,
        };
        self.cats.insert((state, stack, frames_complete), (c, shown));
        (c, shown)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
