// gendump writes large synthetic Go goroutine dumps / goroutine profiles
// (Go 1.27 formats) for benchmarking goroscope, plus a ground-truth file.
//
//	gendump -n 1000000 -format debug2|debug1|debug0|sigquit [-shape service|wide] [-unique-labels] [-seed 1] -o FILE [-truth FILE.json]
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

type Lab struct {
	scheme int8 // 0 none, 1 http, 2 grpc, 3 worker
	a      int16
	uniq   int64 // -1: none
}

type G struct {
	sh      *Shape
	id      uint64
	parent  uint64
	minutes int
	lab     Lab
	seed    uint64
}

type gen struct {
	m        *Model
	r        rng
	n        int
	format   string
	unique   bool
	head     []*Shape
	headIDs  []uint64
	i        int
	ids      []uint64
	idPos    int
	nextID   uint64
	pLab     float64
	heapBase uint64
}

func newGen(m *Model, seed uint64, n int, format string, unique bool, labeled float64) *gen {
	g := &gen{m: m, r: rng{s: seed ^ 0x5deece66d}, n: n, format: format, unique: unique, nextID: 64}
	g.heapBase = 0x1e0000000000 + (seed%0x7f)<<32 + 0x56b8000000&0xffffffff
	switch format {
	case "sigquit":
		g.head = append(g.head, m.sp.main)
		g.headIDs = append(g.headIDs, 1)
		g.head = append(g.head, m.sp.sys...)
		g.headIDs = append(g.headIDs, m.sp.sysIDs...)
	case "debug2":
		g.head = []*Shape{m.sp.prof2, m.sp.main}
		g.headIDs = []uint64{58, 1}
	default:
		g.head = []*Shape{m.sp.prof01, m.sp.main}
		g.headIDs = []uint64{58, 1}
	}
	var lw, tw float64
	for _, sh := range m.Shapes {
		tw += sh.Weight
		if labScheme(sh) != 0 {
			lw += sh.Weight
		}
	}
	g.pLab = labeled * tw / lw
	if g.pLab > 1 {
		g.pLab = 1
	}
	return g
}

func labScheme(sh *Shape) int8 {
	switch {
	case sh.Ctx == ctxHTTP:
		return 1
	case sh.Ctx == ctxGRPC:
		return 2
	case sh.Component != "":
		return 3
	}
	return 0
}

func (g *gen) allocID() uint64 {
	if g.idPos == len(g.ids) {
		g.ids = g.ids[:0]
		for k := 0; k < 64; k++ {
			g.nextID += 1 + uint64(g.r.intn(3))
			if g.r.intn(24) == 0 {
				g.nextID += uint64(g.r.rangeIn(8, 40))
			}
			g.ids = append(g.ids, g.nextID)
		}
		for k := len(g.ids) - 1; k > 0; k-- {
			j := g.r.intn(k + 1)
			g.ids[k], g.ids[j] = g.ids[j], g.ids[k]
		}
		g.idPos = 0
	}
	id := g.ids[g.idPos]
	g.idPos++
	return id
}

// next fills in the i-th goroutine. Returns false when done.
func (g *gen) next(out *G) bool {
	if g.i >= g.n {
		return false
	}
	i := g.i
	g.i++
	*out = G{lab: Lab{uniq: -1}}
	if i < len(g.head) {
		out.sh = g.head[i]
		out.id = g.headIDs[i]
		out.seed = g.r.next()
		switch {
		case out.sh.Ctx == ctxSystem:
			out.parent = 1
			if out.sh.State == "GC worker (idle)" {
				out.parent = 33
			}
		case out.sh.Ctx == ctxStdConn:
			out.parent = g.m.ids.debugServe
		}
		return true
	}
	sh := g.m.pickShape(&g.r)
	out.sh = sh
	out.id = g.allocID()
	out.seed = g.r.next()
	if sh.Created != nil {
		switch {
		case sh.Created.Fn.Name == "net/http.(*Server).Serve":
			out.parent = g.m.ids.httpServe
		case sh.Ctx == ctxWorker || sh.Ctx == ctxBackground:
			out.parent = 1
		case sh.Ctx == ctxGRPC:
			out.parent = 100 + uint64(g.r.intn(16))*3
		default:
			d := uint64(1 + g.r.intn(60))
			if d >= out.id {
				d = out.id - 1
			}
			out.parent = out.id - d
		}
	}
	if sh.MinProb > 0 && g.r.float() < sh.MinProb {
		out.minutes = sh.MinBase + g.r.intn(4)
	}
	if s := labScheme(sh); s != 0 {
		lab := g.r.float() < g.pLab
		a := g.r.intn(len(tenants))
		if lab {
			out.lab.scheme = s
			out.lab.a = int16(a)
			if g.unique {
				out.lab.uniq = int64(i)
			}
		}
	}
	return true
}

// ---------------------------------------------------------------------------
// label text

func labelPairs(sh *Shape, l Lab) (kv [][2]string) {
	switch l.scheme {
	case 1, 2:
		k := "endpoint"
		if l.scheme == 2 {
			k = "method"
		}
		kv = append(kv, [2]string{k, sh.Endpoint})
		if l.uniq >= 0 {
			kv = append(kv, [2]string{"request_id", "req " + strconv.FormatInt(l.uniq, 10)})
		}
		kv = append(kv, [2]string{"tenant", tenants[l.a]})
	case 3:
		kv = append(kv, [2]string{"component", sh.Component})
		if l.uniq >= 0 {
			kv = append(kv, [2]string{"job_id", "job " + strconv.FormatInt(l.uniq, 36)})
		}
		kv = append(kv, [2]string{"shard", strconv.Itoa(int(l.a) + 1)})
	}
	return kv
}

func needsQuote(s string) bool {
	if s == "" {
		return true
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '/' || c == '_') {
			return true
		}
	}
	return false
}

func appendTBQuoted(b []byte, s string) []byte {
	if !needsQuote(s) {
		return append(b, s...)
	}
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '"' || c == '\\' {
			b = append(b, '\\')
		}
		b = append(b, c)
	}
	return append(b, '"')
}

// traceback (1.27) form: ` {k: v, k2: "v 2"}`
func appendTBLabels(b []byte, kv [][2]string) []byte {
	b = append(b, " {"...)
	for i, p := range kv {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = appendTBQuoted(b, p[0])
		b = append(b, ": "...)
		b = appendTBQuoted(b, p[1])
	}
	return append(b, '}')
}

// debug=1 form: {"k":"v", "k2":"v2"}
func d1Labels(kv [][2]string) string {
	parts := make([]string, len(kv))
	for i, p := range kv {
		parts[i] = strconv.Quote(p[0]) + ":" + strconv.Quote(p[1])
	}
	sort.Strings(parts)
	return "{" + strings.Join(parts, ", ") + "}"
}

// ---------------------------------------------------------------------------
// debug=2 and SIGQUIT text

func appendHex(b []byte, v uint64) []byte {
	b = append(b, '0', 'x')
	return strconv.AppendUint(b, v, 16)
}

func (w *textWriter) appendArgs(b []byte, fr *Frame, ar *rng) []byte {
	b = append(b, fr.head...)
	for _, p := range fr.argParts {
		b = append(b, p.pre...)
		switch p.kind {
		case 'p':
			b = appendHex(b, w.heapBase+(ar.next()&0x3ffffff)&^7)
		case 'i':
			b = appendHex(b, ar.next()&0x3f)
		}
	}
	return append(b, fr.argTail...)
}

type textWriter struct {
	w        *bufio.Writer
	buf      []byte
	level2   bool
	heapBase uint64
	count    int
	goexit   *Frame
}

func (w *textWriter) write(g *G) {
	b := w.buf[:0]
	if w.count > 0 {
		b = append(b, '\n')
	}
	w.count++
	sh := g.sh
	ar := rng{s: g.seed}
	b = append(b, "goroutine "...)
	b = strconv.AppendUint(b, g.id, 10)
	if w.level2 {
		b = append(b, " gp="...)
		b = appendHex(b, w.heapBase+(ar.next()&0x3ffffff)/0x1e0*0x1e0)
		if sh.State == "syscall" || sh.State == "running" {
			b = append(b, " m="...)
			b = strconv.AppendUint(b, 1+ar.next()%11, 10)
			b = append(b, " mp="...)
			b = appendHex(b, w.heapBase+(ar.next()&0x3ffffff)&^0xfff|0x8)
		} else {
			b = append(b, " m=nil"...)
		}
	}
	b = append(b, " ["...)
	b = append(b, sh.State...)
	if g.minutes > 0 {
		b = append(b, ", "...)
		b = strconv.AppendInt(b, int64(g.minutes), 10)
		b = append(b, " minutes"...)
	}
	if sh.Locked {
		b = append(b, ", locked to thread"...)
	}
	b = append(b, ']')
	if g.lab.scheme != 0 {
		b = appendTBLabels(b, labelPairs(sh, g.lab))
	}
	b = append(b, ":\n"...)
	if !w.level2 {
		for _, fr := range sh.Frames {
			if fr.Fn.Hidden || fr.Fn.Wrapper {
				continue
			}
			b = w.appendArgs(b, fr, &ar)
			b = append(b, fr.fileTxt...)
			b = append(b, '\n')
		}
	} else {
		size := uint64(0x800)
		for size < sh.stackSize+0x40 {
			size <<= 1
		}
		lo := (w.heapBase + ar.next()&0x3ffffff) &^ (size - 1)
		top := lo + size - 0x18
		sp := top - sh.stackSize
		frames := sh.Frames
		for k := 0; k <= len(frames); k++ {
			var fr *Frame
			if k == len(frames) {
				fr = w.goexit
			} else {
				fr = frames[k]
			}
			b = w.appendArgs(b, fr, &ar)
			b = append(b, fr.fileTxt...)
			if !fr.Inlined {
				fp := sp + fr.Fn.FrameSize
				b = append(b, " fp="...)
				b = appendHex(b, fp)
				b = append(b, " sp="...)
				b = appendHex(b, sp)
				b = append(b, " pc="...)
				b = appendHex(b, fr.RealPC)
				sp = fp
			}
			b = append(b, '\n')
		}
	}
	if sh.Created != nil {
		b = append(b, "created by "...)
		b = append(b, sh.Created.Fn.Print...)
		if g.parent != 0 {
			b = append(b, " in goroutine "...)
			b = strconv.AppendUint(b, g.parent, 10)
		}
		b = append(b, sh.Created.fileTxt...)
		b = append(b, '\n')
	}
	w.buf = b
	w.w.Write(b)
}

// goexit is shared
func (w *textWriter) init(m *Model) { w.goexit = m.goexit }

// ---------------------------------------------------------------------------
// truth

type truthKey struct {
	fr    *Frame
	state string
}

type truthRow struct {
	Function string `json:"function"`
	File     string `json:"file"`
	Line     int    `json:"line"`
	State    string `json:"state"`
	Count    int    `json:"count"`
}

func main() {
	n := flag.Int("n", 10000, "number of goroutines")
	format := flag.String("format", "debug2", "debug2|debug1|debug0|sigquit")
	unique := flag.Bool("unique-labels", false, "give labeled goroutines a unique request_id/job_id label")
	seed := flag.Uint64("seed", 1, "random seed")
	shape := flag.String("shape", "service", "service (~390 call sites, 5-33 frames, labels on a third) | wide (long paths, generics, long argument lists, stacks up to 50+ frames, few labels, ~18,000 stack variants over ~20,000 call sites)")
	outPath := flag.String("o", "", "output file (default stdout)")
	truthPath := flag.String("truth", "", "write ground-truth site counts (JSON) to this file")
	stats := flag.Bool("stats", false, "print model statistics to stderr")
	flag.Parse()
	switch *format {
	case "debug2", "debug1", "debug0", "sigquit":
	default:
		fmt.Fprintln(os.Stderr, "gendump: unknown -format", *format)
		os.Exit(2)
	}
	if *shape != "service" && *shape != "wide" {
		fmt.Fprintln(os.Stderr, "gendump: unknown -shape", *shape)
		os.Exit(2)
	}
	t0 := time.Now()
	m := newModel(*seed, *shape == "wide")
	labeled := 0.34
	if *shape == "wide" {
		labeled = 0.05
	}
	g := newGen(m, *seed, *n, *format, *unique, labeled)
	if *n < len(g.head) {
		fmt.Fprintf(os.Stderr, "gendump: -n must be at least %d\n", len(g.head))
		os.Exit(2)
	}
	if *stats {
		m.printStats(os.Stderr)
		if os.Getenv("GENDUMP_SHAPES") != "" {
			m.dumpShapes(os.Stderr)
		}
	}
	var out io.Writer = os.Stdout
	var f *os.File
	if *outPath != "" {
		var err error
		f, err = os.Create(*outPath)
		if err != nil {
			fmt.Fprintln(os.Stderr, "gendump:", err)
			os.Exit(1)
		}
		out = f
	}
	bw := bufio.NewWriterSize(out, 1<<20)
	truth := map[truthKey]int{}
	var gr G
	switch *format {
	case "debug2", "sigquit":
		tw := &textWriter{w: bw, level2: *format == "sigquit", heapBase: g.heapBase, buf: make([]byte, 0, 16<<10)}
		tw.init(m)
		if tw.level2 {
			bw.WriteString(sigquitPreamble)
			tw.count = 1
		}
		for g.next(&gr) {
			truth[truthKey{gr.sh.Site, gr.sh.State}]++
			tw.write(&gr)
		}
		if tw.level2 {
			bw.WriteString(sigquitRegs)
		}
	case "debug1", "debug0":
		recs := aggregate(g, truth)
		if *format == "debug1" {
			writeDebug1(bw, m, recs, *n)
		} else {
			writeDebug0(bw, m, recs, *seed)
		}
	}
	if err := bw.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "gendump:", err)
		os.Exit(1)
	}
	if f != nil {
		if err := f.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "gendump:", err)
			os.Exit(1)
		}
	}
	if *truthPath != "" {
		writeTruth(*truthPath, truth)
	}
	if *stats {
		fmt.Fprintf(os.Stderr, "generated %d goroutines (%s) in %v\n", *n, *format, time.Since(t0).Round(time.Millisecond))
	}
}

func writeTruth(path string, truth map[truthKey]int) {
	rows := make([]truthRow, 0, len(truth))
	for k, c := range truth {
		rows = append(rows, truthRow{Function: k.fr.Fn.Print, File: k.fr.Fn.File, Line: k.fr.Line, State: k.state, Count: c})
	}
	sort.Slice(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		if a.Function != b.Function {
			return a.Function < b.Function
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.State < b.State
	})
	data, _ := json.MarshalIndent(rows, "", "  ")
	data = append(data, '\n')
	if err := os.WriteFile(path, data, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "gendump:", err)
		os.Exit(1)
	}
}

func (m *Model) printStats(w io.Writer) {
	distinct := map[string]bool{}
	sites := map[truthKey]bool{}
	kinds := map[string]bool{}
	var fsum, wsum float64
	minF, maxF := 1000, 0
	for _, sh := range append(append([]*Shape{}, m.Shapes...), m.special...) {
		vis := 0
		for _, fr := range sh.Frames {
			if fr.Fn.Hidden || fr.Fn.Wrapper {
				continue
			}
			vis++
			distinct[fr.Fn.Print+" "+fr.Fn.File+":"+strconv.Itoa(fr.Line)] = true
		}
		if sh.Created != nil {
			distinct[sh.Created.Fn.Print+" "+sh.Created.Fn.File+":"+strconv.Itoa(sh.Created.Line)] = true
		}
		sites[truthKey{sh.Site, sh.State}] = true
		k := sh.State
		if len(sh.Frames) > 0 {
			for _, fr := range sh.Frames {
				if fr.Fn.Stdlib && !fr.Fn.Wrapper {
					k += "|" + fr.Fn.Name
				} else {
					break
				}
			}
		}
		kinds[k] = true
		if sh.Weight > 0 {
			fsum += float64(vis) * sh.Weight
			wsum += sh.Weight
			if vis < minF {
				minF = vis
			}
			if vis > maxF {
				maxF = vis
			}
		}
	}
	fmt.Fprintf(w, "shapes=%d special=%d funcs=%d distinct-call-sites(visible+created)=%d truth-sites=%d blocking-kinds=%d visible-frames min=%d max=%d weighted-avg=%.1f\n",
		len(m.Shapes), len(m.special), len(m.funcs), len(distinct), len(sites), len(kinds), minF, maxF, fsum/wsum)
}

func (m *Model) dumpShapes(w io.Writer) {
	for _, sh := range m.Shapes {
		vis := 0
		for _, fr := range sh.Frames {
			if !fr.Fn.Hidden && !fr.Fn.Wrapper {
				vis++
			}
		}
		fmt.Fprintf(w, "%3d w=%.4f vis=%2d ctx=%d %-22s site=%s:%d\n", sh.Idx, sh.Weight, vis, sh.Ctx, sh.State, sh.Site.Fn.Print, sh.Site.Line)
	}
}
