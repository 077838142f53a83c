package main

import (
	"strconv"
	"strings"
)

// ---------------------------------------------------------------------------
// Deterministic RNG (splitmix64).

type rng struct{ s uint64 }

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}
func (r *rng) intn(n int) int       { return int(r.next() % uint64(n)) }
func (r *rng) rangeIn(a, b int) int { return a + r.intn(b-a+1) }
func (r *rng) float() float64       { return float64(r.next()>>11) / (1 << 53) }
func (r *rng) pick(s []string) string {
	return s[r.intn(len(s))]
}

// ---------------------------------------------------------------------------
// Program model: functions, frames (call sites with PCs), shapes (stacks).

const (
	catRuntime = iota
	catStd
	catThird
	catApp
)

type Func struct {
	Name      string // raw symbol name (debug0)
	Print     string // name as printed in tracebacks / debug=1
	File      string
	Cat       int
	Hidden    bool // unexported runtime.*: hidden at traceback level 1
	Wrapper   bool // gowrap: only visible at level 2, never in profile PCs
	Stdlib    bool
	Args      string // arg template
	StartLine int
	Entry     uint64
	nextOff   uint64
	FrameSize uint64
	order     int
}

// Frame is one logical frame of a stack: a function at a line, with the PC
// that appears in the profile's "@" list.
type Frame struct {
	Fn       *Func
	Line     int
	Inlined  bool  // inlined into the next (caller) frame: "(...)", no offset
	Phys     *Func // physical function holding this PC (== Fn unless inlined)
	pcOff    uint64
	realOff  uint64 // for physical frames: offset of the group's real return PC
	PC       uint64 // "@" PC
	RealPC   uint64 // physical frames: real return pc (debug2 +0x, sigquit pc=)
	argParts []argPart
	argTail  string
	// precomputed text
	head    string // "name("
	fileTxt string // "\n\t/file.go:123 +0x45" (debug2 suffix, no newline after)
}

type argPart struct {
	pre  string
	kind byte // 'p' heap pointer, 'i' small int, 0 = none (tail only)
}

type Shape struct {
	Idx       int
	State     string
	Frames    []*Frame // leaf first, includes hidden runtime frames & wrappers, excludes goexit
	Created   *Frame   // nil: no created-by line
	Ctx       int
	Weight    float64
	Site      *Frame // ground-truth blocking site
	MinProb   float64
	MinBase   int
	Locked    bool
	System    bool
	Endpoint  string // label value for HTTP/gRPC ctx
	Component string
	stackSize uint64
	pcKey     string // "@ 0x... 0x..." for debug1
}

const (
	ctxNone = iota
	ctxHTTP
	ctxGRPC
	ctxSpawn
	ctxWorker
	ctxBackground
	ctxStdConn   // net/http server conn goroutine (stdlib only)
	ctxStdClient // net/http client goroutine (stdlib only)
	ctxMain
	ctxSystem
)

type Model struct {
	r       *rng
	funcs   []*Func
	byName  map[string]*Func
	frames  map[string]*Frame
	groups  map[*Frame][]*Frame
	Shapes  []*Shape
	special []*Shape
	sp      struct {
		prof2, prof01, main *Shape
		sys                 []*Shape
		sysIDs              []uint64
	}
	cum      []float64
	goexit   *Frame
	ids      struct{ httpServe, grpcConns, debugServe uint64 }
	appPool  []*Func
	appLines map[*Func][]int
	maxPC    uint64
	wide     bool // -shape wide
}

const goroot = "/usr/local/go/src/"
const appRoot = "/app/"
const modRoot = "/go/pkg/mod/"
const appMod = "github.com/acme/shop/"

func printName(name string) string {
	i := strings.IndexByte(name, '[')
	j := strings.LastIndexByte(name, ']')
	if i < 0 || j < i {
		return name
	}
	return name[:i] + "[...]" + name[j+1:]
}

func isStdlibName(name string) bool {
	// package path is everything up to the first '.' after the last '/'
	slash := strings.LastIndexByte(name, '/')
	dot := strings.IndexByte(name[slash+1:], '.')
	pkg := name
	if dot >= 0 {
		pkg = name[:slash+1+dot]
	}
	if pkg == "main" {
		return false
	}
	first := pkg
	if k := strings.IndexByte(pkg, '/'); k >= 0 {
		first = pkg[:k]
	}
	return !strings.Contains(first, ".")
}

func (m *Model) fn(name, file, args string) *Func {
	if f, ok := m.byName[name]; ok {
		return f
	}
	f := &Func{Name: name, Print: printName(name), File: file, Args: args, order: len(m.funcs)}
	f.Stdlib = isStdlibName(name)
	switch {
	case strings.HasPrefix(name, "runtime.") || strings.HasPrefix(name, "internal/runtime/"):
		f.Cat = catRuntime
	case f.Stdlib:
		f.Cat = catStd
	case strings.HasPrefix(name, appMod) || strings.HasPrefix(name, "main."):
		f.Cat = catApp
	default:
		f.Cat = catThird
	}
	if strings.HasPrefix(name, "runtime.") {
		rest := name[len("runtime."):]
		exported := rest != "" && rest[0] >= 'A' && rest[0] <= 'Z'
		f.Hidden = !exported
	}
	f.Wrapper = strings.Contains(name, ".gowrap")
	f.FrameSize = uint64(m.r.rangeIn(3, 52)) * 8
	if f.Wrapper {
		f.FrameSize = 0x18
	}
	f.nextOff = 0x10
	m.funcs = append(m.funcs, f)
	m.byName[name] = f
	return f
}

// fs is a frame spec used while building shapes (leaf first).
type fs struct {
	f    *Func
	line int
	off  uint64 // explicit offset of the return pc (physical frames), 0 = allocate
	inl  bool
}

func (m *Model) allocOff(f *Func) uint64 {
	f.nextOff += uint64(m.r.rangeIn(2, 24)) * 4
	if m.r.intn(3) == 0 {
		f.nextOff++
	}
	return f.nextOff
}

// resolve turns specs into interned frames, computing inline groups.
func (m *Model) resolve(specs []fs) []*Frame {
	out := make([]*Frame, 0, len(specs))
	i := 0
	for i < len(specs) {
		j := i
		for j < len(specs) && specs[j].inl {
			j++
		}
		if j == len(specs) {
			panic("inlined frame without physical caller: " + specs[i].f.Name)
		}
		phys := specs[j]
		var sig strings.Builder
		sig.WriteString(phys.f.Name)
		sig.WriteByte(':')
		sig.WriteString(strconv.Itoa(phys.line))
		for k := i; k < j; k++ {
			sig.WriteString("|" + specs[k].f.Name + ":" + strconv.Itoa(specs[k].line))
		}
		key := sig.String()
		if fr, ok := m.frames[key]; ok {
			// group already known: collect its frames
			out = append(out, m.groupFrames(fr)...)
			i = j + 1
			continue
		}
		realOff := phys.off
		if realOff == 0 {
			realOff = m.allocOff(phys.f)
		} else if realOff > phys.f.nextOff {
			phys.f.nextOff = realOff
		}
		group := make([]*Frame, 0, j-i+1)
		for k := i; k <= j; k++ {
			s := specs[k]
			fr := &Frame{Fn: s.f, Line: s.line, Inlined: s.inl, Phys: phys.f, realOff: realOff}
			if k == i {
				fr.pcOff = realOff // leaf-most frame of the group carries the real return PC
			} else {
				fr.pcOff = m.allocOff(phys.f)
			}
			m.makeArgs(fr)
			group = append(group, fr)
		}
		m.frames[key] = group[len(group)-1]
		m.groups[group[len(group)-1]] = group
		out = append(out, group...)
		i = j + 1
	}
	return out
}

func (m *Model) groupFrames(last *Frame) []*Frame { return m.groups[last] }

// makeArgs builds the argument template of a frame from its function's
// template, choosing which words are printed with '?'.
func (m *Model) makeArgs(fr *Frame) {
	if fr.Inlined {
		fr.argTail = "(...)"
		return
	}
	t := fr.Fn.Args
	var parts []argPart
	var pre strings.Builder
	pre.WriteByte('(')
	first := true
	for k := 0; k < len(t); k++ {
		c := t[k]
		switch c {
		case '{':
			if !first {
				pre.WriteString(", ")
			}
			pre.WriteByte('{')
			first = true
			continue
		case '}':
			pre.WriteByte('}')
			first = false
			continue
		case ',', ' ':
			continue
		}
		if !first {
			pre.WriteString(", ")
		}
		first = false
		q := m.r.intn(5) < 2
		switch c {
		case 'p', 'i':
			parts = append(parts, argPart{pre: pre.String(), kind: c})
			pre.Reset()
		case 't':
			pre.WriteString("0x" + strconv.FormatUint(uint64(0x6a0000+m.r.intn(0xb0000)), 16))
		case 'm':
			pre.WriteString("0x7f" + strconv.FormatUint(uint64(0x100000000+m.r.next()%0xf00000000)<<4, 16)[:10])
		case 'z':
			pre.WriteString("0x0")
		case 'k':
			pre.WriteString("0x" + strconv.FormatUint(uint64(m.r.rangeIn(1, 0x80)), 16))
		case 'e':
			pre.WriteString("{}")
			q = false
		case 'x':
			pre.WriteString("0x72")
			q = false
		case '.':
			pre.WriteString("...")
			q = false
		}
		if q {
			pre.WriteByte('?')
		}
	}
	pre.WriteByte(')')
	fr.argParts = parts
	fr.argTail = pre.String()
}

// ---------------------------------------------------------------------------
// Building the catalog.

type prim struct {
	name    string
	state   string
	specs   func(m *Model) []fs // leaf-first frames below the user frame
	inlUser bool                // last spec frames are inlined into the user frame (mutex)
	minutes bool
}

func (m *Model) rt(name, file string, line int, off uint64, args string) fs {
	f := m.fn(name, goroot+file, args)
	if f.StartLine == 0 {
		f.StartLine = line - m.r.rangeIn(4, 40)
		if f.StartLine < 1 {
			f.StartLine = 1
		}
	}
	return fs{f: f, line: line, off: off}
}
func (m *Model) rti(name, file string, line int) fs {
	return fs{f: m.fn(name, goroot+file, ""), line: line, inl: true}
}

func (m *Model) primitives() []prim {
	gopark := func() fs { return m.rt("runtime.gopark", "runtime/proc.go", 474, 0xca, "p,p,k,k,p") }
	parkunlock := func() fs { return m.rti("runtime.goparkunlock", "runtime/proc.go", 480) }
	sema := func() fs { return m.rt("runtime.semacquire1", "runtime/sema.go", 192, 0x232, "p,z,k,z,k") }
	pollWait := func() []fs {
		return []fs{gopark(),
			m.rt("runtime.netpollblock", "runtime/netpoll.go", 575, 0xf7, "p,t,z"),
			m.rt("internal/poll.runtime_pollWait", "runtime/netpoll.go", 351, 0x85, "m,x"),
			m.rt("internal/poll.(*pollDesc).wait", "internal/poll/fd_poll_runtime.go", 84, 0x27, "p,k,z")}
	}
	netRead := func() []fs {
		return append(pollWait(),
			m.rti("internal/poll.(*pollDesc).waitRead", "internal/poll/fd_poll_runtime.go", 89),
			m.rt("internal/poll.(*FD).Read", "internal/poll/fd_unix.go", 170, 0x2a8, "p,{p,i,i}"),
			m.rt("net.(*netFD).Read", "net/fd_posix.go", 68, 0x25, "p,{p,i,i}"),
			m.rt("net.(*conn).Read", "net/net.go", 196, 0x45, "p,{p,i,i}"))
	}
	bufFill := func() []fs {
		return []fs{m.rt("bufio.(*Reader).fill", "bufio/bufio.go", 113, 0x103, "p"),
			m.rt("bufio.(*Reader).Peek", "bufio/bufio.go", 152, 0x53, "p,k")}
	}
	ps := []prim{
		{name: "chansend", state: "chan send", minutes: true, specs: func(m *Model) []fs {
			return []fs{gopark(), m.rt("runtime.chansend", "runtime/chan.go", 283, 0x3fc, "p,p,k,t"), m.rt("runtime.chansend1", "runtime/chan.go", 161, 0x17, "t,k")}
		}},
		{name: "chansend-nil", state: "chan send (nil chan)", minutes: true, specs: func(m *Model) []fs {
			return []fs{gopark(), m.rt("runtime.chansend", "runtime/chan.go", 181, 0x10c, "k,p,k,p"), m.rt("runtime.chansend1", "runtime/chan.go", 161, 0x17, "t,k")}
		}},
		{name: "chanrecv1", state: "chan receive", minutes: true, specs: func(m *Model) []fs {
			return []fs{gopark(), m.rt("runtime.chanrecv", "runtime/chan.go", 667, 0x4ae, "p,z,k"), m.rt("runtime.chanrecv1", "runtime/chan.go", 509, 0x12, "t,k")}
		}},
		{name: "chanrecv2", state: "chan receive", minutes: true, specs: func(m *Model) []fs {
			return []fs{gopark(), m.rt("runtime.chanrecv", "runtime/chan.go", 667, 0x4ae, "p,z,k"), m.rt("runtime.chanrecv2", "runtime/chan.go", 514, 0x12, "t,k")}
		}},
		{name: "chanrecv-nil", state: "chan receive (nil chan)", minutes: true, specs: func(m *Model) []fs {
			return []fs{gopark(), m.rt("runtime.chanrecv", "runtime/chan.go", 536, 0x1d9, "z,z,k"), m.rt("runtime.chanrecv1", "runtime/chan.go", 509, 0x12, "t,k")}
		}},
		{name: "select", state: "select", minutes: true, specs: func(m *Model) []fs {
			return []fs{gopark(), m.rt("runtime.selectgo", "runtime/select.go", 351, 0xa97, "p,p,k,z,k,k")}
		}},
		{name: "select-nocases", state: "select (no cases)", minutes: true, specs: func(m *Model) []fs {
			return []fs{gopark(), m.rt("runtime.block", "runtime/select.go", 104, 0x26, "")}
		}},
		{name: "mutex", state: "sync.Mutex.Lock", minutes: true, inlUser: true, specs: func(m *Model) []fs {
			return []fs{gopark(), parkunlock(), sema(),
				m.rt("internal/sync.runtime_SemacquireMutex", "runtime/sema.go", 95, 0x25, "t,k,p"),
				m.rt("internal/sync.(*Mutex).lockSlow", "internal/sync/mutex.go", 149, 0x15a, "p"),
				m.rti("internal/sync.(*Mutex).Lock", "internal/sync/mutex.go", 70),
				m.rti("sync.(*Mutex).Lock", "sync/mutex.go", 46)}
		}},
		{name: "rlock", state: "sync.RWMutex.RLock", minutes: true, inlUser: true, specs: func(m *Model) []fs {
			return []fs{gopark(), parkunlock(), sema(),
				m.rt("sync.runtime_SemacquireRWMutexR", "runtime/sema.go", 100, 0x25, "t,k,k"),
				m.rti("sync.(*RWMutex).RLock", "sync/rwmutex.go", 74)}
		}},
		{name: "wlock", state: "sync.RWMutex.Lock", minutes: true, specs: func(m *Model) []fs {
			return []fs{gopark(), parkunlock(), sema(),
				m.rt("sync.runtime_SemacquireRWMutex", "runtime/sema.go", 105, 0x25, "k,k,k"),
				m.rt("sync.(*RWMutex).Lock", "sync/rwmutex.go", 155, 0x65, "p")}
		}},
		{name: "waitgroup", state: "sync.WaitGroup.Wait", minutes: true, specs: func(m *Model) []fs {
			return []fs{gopark(), parkunlock(), sema(),
				m.rt("sync.runtime_SemacquireWaitGroup", "runtime/sema.go", 114, 0x2e, "t,k"),
				m.rt("sync.(*WaitGroup).Wait", "sync/waitgroup.go", 206, 0x85, "p")}
		}},
		{name: "cond", state: "sync.Cond.Wait", minutes: true, specs: func(m *Model) []fs {
			return []fs{gopark(), parkunlock(),
				m.rt("sync.runtime_notifyListWait", "runtime/sema.go", 617, 0x1b3, "p,k"),
				m.rt("sync.(*Cond).Wait", "sync/cond.go", 71, 0x73, "p")}
		}},
		{name: "netread", state: "IO wait", minutes: true, specs: func(m *Model) []fs { return netRead() }},
		{name: "netread-bufio", state: "IO wait", minutes: true, specs: func(m *Model) []fs {
			return append(netRead(), m.rt("bufio.(*Reader).Read", "bufio/bufio.go", 245, 0x1b4, "p,{p,i,i}"),
				m.rt("io.ReadAtLeast", "io/io.go", 335, 0x90, "{t,p},{p,i,i},k"),
				m.rti("io.ReadFull", "io/io.go", 354))
		}},
		{name: "netwrite", state: "IO wait", minutes: true, specs: func(m *Model) []fs {
			return append(pollWait(),
				m.rti("internal/poll.(*pollDesc).waitWrite", "internal/poll/fd_poll_runtime.go", 94),
				m.rt("internal/poll.(*FD).Write", "internal/poll/fd_unix.go", 402, 0x3e5, "p,{p,i,i}"),
				m.rt("net.(*netFD).Write", "net/fd_posix.go", 96, 0x25, "p,{p,i,i}"),
				m.rt("net.(*conn).Write", "net/net.go", 210, 0x45, "p,{p,i,i}"))
		}},
		{name: "accept", state: "IO wait", minutes: true, specs: func(m *Model) []fs {
			return append(pollWait(),
				m.rti("internal/poll.(*pollDesc).waitRead", "internal/poll/fd_poll_runtime.go", 89),
				m.rt("internal/poll.(*FD).Accept", "internal/poll/fd_unix.go", 618, 0x27d, "p"),
				m.rt("net.(*netFD).accept", "net/fd_unix.go", 149, 0x29, "p"),
				m.rt("net.(*TCPListener).accept", "net/tcpsock_posix.go", 159, 0x1b, "p"),
				m.rt("net.(*TCPListener).Accept", "net/tcpsock.go", 387, 0x30, "p"))
		}},
		{name: "tlsread", state: "IO wait", minutes: true, specs: func(m *Model) []fs {
			return append(netRead(),
				m.rt("crypto/tls.(*atLeastReader).Read", "crypto/tls/conn.go", 817, 0x3b, "p,{p,i,i}"),
				m.rt("bytes.(*Buffer).ReadFrom", "bytes/buffer.go", 217, 0x9c, "p,{t,p}"),
				m.rt("crypto/tls.(*Conn).readFromUntil", "crypto/tls/conn.go", 839, 0xde, "p,{t,p},k"),
				m.rt("crypto/tls.(*Conn).readRecordOrCCS", "crypto/tls/conn.go", 629, 0x3cf, "p,z"),
				m.rti("crypto/tls.(*Conn).readRecord", "crypto/tls/conn.go", 591),
				m.rt("crypto/tls.(*Conn).Read", "crypto/tls/conn.go", 1400, 0x145, "p,{p,i,i}"),
				m.rt("bufio.(*Reader).Read", "bufio/bufio.go", 245, 0x1b4, "p,{p,i,i}"),
				m.rt("io.ReadAtLeast", "io/io.go", 335, 0x90, "{t,p},{p,i,i},k"),
				m.rti("io.ReadFull", "io/io.go", 354))
		}},
		{name: "fileread", state: "IO wait", minutes: true, specs: func(m *Model) []fs {
			return append(pollWait(),
				m.rti("internal/poll.(*pollDesc).waitRead", "internal/poll/fd_poll_runtime.go", 89),
				m.rt("internal/poll.(*FD).Read", "internal/poll/fd_unix.go", 170, 0x2a8, "p,{p,i,i}"),
				m.rt("os.(*File).read", "os/file_posix.go", 29, 0x25, "p,{p,i,i}"),
				m.rt("os.(*File).Read", "os/file.go", 144, 0x4f, "p,{p,i,i}"),
				m.rt("bufio.(*Scanner).Scan", "bufio/scan.go", 219, 0x81e, "p"))
		}},
		{name: "fdlock", state: "semacquire", minutes: true, specs: func(m *Model) []fs {
			return []fs{gopark(), parkunlock(), sema(),
				m.rt("internal/poll.runtime_Semacquire", "runtime/sema.go", 76, 0x25, "t"),
				m.rt("internal/poll.(*fdMutex).rwlock", "internal/poll/fd_mutex.go", 154, 0xd3, "p,z"),
				m.rti("internal/poll.(*FD).writeLock", "internal/poll/fd_mutex.go", 239),
				m.rt("internal/poll.(*FD).Write", "internal/poll/fd_unix.go", 367, 0x6c, "p,{p,i,i}"),
				m.rt("os.(*File).write", "os/file_posix.go", 46, 0x25, "p,{p,i,i}"),
				m.rt("os.(*File).Write", "os/file.go", 195, 0x4e, "p,{p,i,i}")}
		}},
		{name: "pipe", state: "select", minutes: true, specs: func(m *Model) []fs {
			return []fs{gopark(), m.rt("runtime.selectgo", "runtime/select.go", 351, 0xa97, "p,p,k,z,k,k"),
				m.rt("io.(*pipe).read", "io/pipe.go", 57, 0xa5, "p,{p,i,i}"),
				m.rt("io.(*PipeReader).Read", "io/pipe.go", 134, 0x1a, "p,{p,i,i}")}
		}},
		{name: "sleep", state: "sleep", minutes: true, specs: func(m *Model) []fs {
			return []fs{gopark(), m.rt("time.Sleep", "runtime/time.go", 368, 0x165, "i")}
		}},
		{name: "syscall-read", state: "syscall", minutes: true, specs: func(m *Model) []fs {
			return []fs{m.rt("syscall.Syscall", "syscall/syscall_linux.go", 74, 0x25, "z,k,p,k"),
				m.rt("syscall.read", "syscall/zsyscall_linux_amd64.go", 736, 0x38, "t,{p,i,i}"),
				m.rti("syscall.Read", "syscall/syscall_unix.go", 183),
				m.rti("internal/poll.ignoringEINTRIO", "internal/poll/fd_unix.go", 745),
				m.rt("internal/poll.(*FD).Read", "internal/poll/fd_unix.go", 165, 0x1c5, "p,{p,i,i}"),
				m.rt("os.(*File).read", "os/file_posix.go", 29, 0x25, "p,{p,i,i}"),
				m.rt("os.(*File).Read", "os/file.go", 144, 0x4f, "p,{p,i,i}")}
		}},
		{name: "syscall-wait", state: "syscall", minutes: true, specs: func(m *Model) []fs {
			return []fs{m.rt("syscall.Syscall6", "syscall/syscall_linux.go", 96, 0x25, "k,k,p,k,z,z,z"),
				m.rt("os.blockUntilWaitable", "os/wait_waitid.go", 32, 0x5e, "p"),
				m.rt("os.(*Process).pidWait", "os/exec_unix.go", 55, 0x85, "p"),
				m.rti("os.(*Process).wait", "os/exec_unix.go", 26),
				m.rti("os.(*Process).Wait", "os/exec.go", 358),
				m.rt("os/exec.(*Cmd).Wait", "os/exec/exec.go", 922, 0x45, "p"),
				m.rt("os/exec.(*Cmd).Run", "os/exec/exec.go", 626, 0x39, "p")}
		}},
		{name: "preempt", state: "runnable", specs: func(m *Model) []fs {
			return []fs{m.rt("runtime.asyncPreempt2", "runtime/preempt.go", 320, 0x14, ""),
				m.rt("runtime.asyncPreempt", "runtime/preempt_amd64.s", 124, 0x28b, "")}
		}},
		{name: "runnable", state: "runnable", specs: func(m *Model) []fs { return nil }},
		{name: "gcwait", state: "wait for GC cycle", specs: func(m *Model) []fs {
			return []fs{gopark(), parkunlock(),
				m.rt("runtime.gcWaitOnMark", "runtime/mgc.go", 620, 0x7d, "k"),
				m.rt("runtime.GC", "runtime/mgc.go", 558, 0x3b, "")}
		}},
	}
	_ = bufFill
	return ps
}

// ---------------------------------------------------------------------------
// App model generation.

var appPkgs = []struct{ pkg, typ, file string }{
	{"orders", "Service", "service.go"}, {"payments", "Processor", "processor.go"}, {"inventory", "Reservations", "reserve.go"},
	{"cart", "Store", "store.go"}, {"search", "Indexer", "indexer.go"}, {"notify", "Dispatcher", "dispatch.go"},
	{"auth", "TokenCache", "tokens.go"}, {"session", "Manager", "manager.go"}, {"cache", "LRU", "lru.go"},
	{"storage/postgres", "Repo", "repo.go"}, {"queue", "Consumer", "consumer.go"}, {"pricing", "Engine", "engine.go"},
	{"shipping", "Client", "client.go"}, {"events", "Bus", "bus.go"}, {"audit", "Logger", "logger.go"},
	{"fraud", "Scorer", "scorer.go"}, {"catalog", "Tree", "tree.go"}, {"export", "CSVWriter", "csv.go"},
	{"mail", "Sender", "sender.go"}, {"webhook", "Deliverer", "deliver.go"}, {"ratelimit", "Limiter", "limiter.go"},
	{"metrics", "Exporter", "exporter.go"}, {"recommend", "Ranker", "ranker.go"}, {"tenant", "Registry", "registry.go"},
}

var verbs = []string{"Get", "Load", "Fetch", "Process", "Apply", "Sync", "Flush", "Publish", "Resolve", "Handle", "Compute",
	"Refresh", "Reserve", "Release", "Validate", "Wait", "Dispatch", "Collect", "Merge", "Lookup", "Store", "Encode", "Score", "Notify"}
var nouns = []string{"Order", "Orders", "Batch", "Item", "Items", "Cart", "Token", "Session", "Price", "Quote", "Shipment",
	"Event", "Events", "Invoice", "Refund", "Stock", "Index", "Page", "Result", "Results", "Tenant", "Payload", "Report", "Snapshot"}

var tenants = []string{"acme", "globex", "initech", "umbrella", "stark-industries", "wayne_ent", "hooli", "soylent"}
var endpoints = []string{"/api/v1/orders", "/api/v1/orders/{id}", "/api/v1/cart", "/api/v1/checkout", "/api/v1/search",
	"/api/v1/inventory", "/api/v1/payments", "/api/v1/session", "/api/v1/export", "/api/v1/tenants", "/api/v1/price-quote",
	"/api/v1/recommendations", "/healthz", "/api/v1/webhooks"}
var grpcMethods = []string{"/shop.orders.v1.OrderService/GetOrder", "/shop.orders.v1.OrderService/PlaceOrder",
	"/shop.inventory.v1.Inventory/Reserve", "/shop.pricing.v1.Pricing/Quote", "/shop.search.v1.Search/Query",
	"/shop.payments.v1.Payments/Capture"}
var components = []string{"billing-exporter", "order_sync", "stock.reconciler", "mail-sender", "webhook-deliverer", "index_builder", "audit-shipper"}

func lowerFirst(s string) string { return strings.ToLower(s[:1]) + s[1:] }

// appFunc creates a new app function in a random package.
func (m *Model) appFunc(pi int, exported bool, closure bool) *Func {
	p := appPkgs[pi]
	base := appMod + "internal/" + p.pkg
	pkgName := p.pkg
	if k := strings.LastIndexByte(pkgName, '/'); k >= 0 {
		pkgName = pkgName[k+1:]
	}
	_ = pkgName
	for tries := 0; ; tries++ {
		name := m.r.pick(verbs) + m.r.pick(nouns)
		if !exported {
			name = lowerFirst(name)
		}
		var full string
		switch m.r.intn(4) {
		case 0:
			full = base + "." + name
		default:
			full = base + ".(*" + p.typ + ")." + name
		}
		if closure {
			full += ".func" + strconv.Itoa(m.r.rangeIn(1, 3))
		}
		if _, ok := m.byName[full]; ok && tries < 50 {
			continue
		}
		file := appRoot + "internal/" + p.pkg + "/" + p.file
		if m.r.intn(3) == 0 {
			file = appRoot + "internal/" + p.pkg + "/" + lowerFirst(m.r.pick(nouns)) + ".go"
			file = strings.ToLower(file)
		}
		args := m.randArgs()
		f := m.fn(full, file, args)
		f.StartLine = m.r.rangeIn(20, 600)
		return f
	}
}

func (m *Model) randArgs() string {
	n := m.r.intn(5)
	var b []string
	for i := 0; i < n; i++ {
		switch m.r.intn(11) {
		case 0, 1, 2, 9, 10:
			b = append(b, "p")
		case 3:
			b = append(b, "i")
		case 4:
			b = append(b, "{p,i}")
		case 5:
			b = append(b, "{t,p}")
		case 6:
			b = append(b, "{p,i,i}")
		case 7:
			b = append(b, "t")
		case 8:
			b = append(b, "k")
		}
	}
	return strings.Join(b, ",")
}

func (m *Model) callLine(f *Func) int {
	ls := m.appLines[f]
	if len(ls) == 0 || (len(ls) < 3 && m.r.intn(3) == 0) {
		l := f.StartLine + m.r.rangeIn(2, 60)
		m.appLines[f] = append(ls, l)
		return l
	}
	return ls[m.r.intn(len(ls))]
}

func (m *Model) app(f *Func) fs { return fs{f: f, line: m.callLine(f)} }

func third(m *Model, name, file string, line int, args string) fs {
	f := m.fn(name, modRoot+file, args)
	if f.StartLine == 0 {
		f.StartLine = line - m.r.rangeIn(3, 40)
	}
	return fs{f: f, line: line}
}
