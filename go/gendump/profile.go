package main

import (
	"bufio"
	"compress/gzip"
	"sort"
	"strconv"
	"strings"
)

// ---------------------------------------------------------------------------
// Aggregation for the count profiles (debug=1 / debug=0): identical stack and
// identical label set => one record.

type recKey struct {
	sh  int32
	lab Lab
}

type record struct {
	count int
	sh    *Shape
	lab   Lab
	key   string // "@ 0x..." [+ "\n# labels: {...}"] (runtime/pprof sort key)
	lbl   string // debug=1 labels text
	kv    [][2]string
}

func aggregate(g *gen, truth map[truthKey]int) []*record {
	idx := map[recKey]*record{}
	var recs []*record
	var gr G
	for g.next(&gr) {
		truth[truthKey{gr.sh.Site, gr.sh.State}]++
		k := recKey{int32(gr.sh.Idx), gr.lab}
		r := idx[k]
		if r == nil {
			r = &record{sh: gr.sh, lab: gr.lab}
			idx[k] = r
			recs = append(recs, r)
		}
		r.count++
	}
	for _, r := range recs {
		r.key = r.sh.pcKey
		if r.lab.scheme != 0 {
			r.kv = labelPairs(r.sh, r.lab)
			r.lbl = d1Labels(r.kv)
			r.key += "\n# labels: " + r.lbl
		}
	}
	sort.Slice(recs, func(i, j int) bool {
		if recs[i].count != recs[j].count {
			return recs[i].count > recs[j].count
		}
		return recs[i].key < recs[j].key
	})
	return recs
}

// ---------------------------------------------------------------------------
// debug=1

// profFrames returns the frames present in profile stacks (no wrappers;
// goexit is implicit).
func profFrames(sh *Shape) []*Frame {
	out := make([]*Frame, 0, len(sh.Frames))
	for _, fr := range sh.Frames {
		if !fr.Fn.Wrapper {
			out = append(out, fr)
		}
	}
	return out
}

// d1Block renders the "#" lines of a shape with text/tabwriter semantics
// (minwidth 1, tabwidth 8, padding 1, padchar '\t').
func d1Block(sh *Shape) string {
	frames := profFrames(sh)
	// hide leading runtime frames
	start := 0
	for start < len(frames) {
		n := frames[start].Fn.Name
		if strings.HasPrefix(n, "runtime.") || strings.HasPrefix(n, "internal/runtime/") {
			start++
			continue
		}
		break
	}
	if start == len(frames) {
		start = 0
	}
	type row struct{ pc, fn, loc string }
	var rows []row
	for _, fr := range frames[start:] {
		pc := fr.PC - 1
		rows = append(rows, row{
			pc:  "0x" + strconv.FormatUint(pc, 16),
			fn:  fr.Fn.Print + "+0x" + strconv.FormatUint(pc-fr.Phys.Entry, 16),
			loc: fr.Fn.File + ":" + strconv.Itoa(fr.Line),
		})
	}
	colw := func(get func(row) string) int {
		w := 1
		for _, r := range rows {
			if l := len(get(r)) + 1; l > w {
				w = l
			}
		}
		return (w + 7) / 8 * 8
	}
	c0 := colw(func(r row) string { return "#" })
	c1 := colw(func(r row) string { return r.pc })
	c2 := colw(func(r row) string { return r.fn })
	pad := func(b *strings.Builder, text string, cw int) {
		b.WriteString(text)
		n := (cw - len(text) + 7) / 8
		for i := 0; i < n; i++ {
			b.WriteByte('\t')
		}
	}
	var b strings.Builder
	for _, r := range rows {
		pad(&b, "#", c0)
		pad(&b, r.pc, c1)
		pad(&b, r.fn, c2)
		b.WriteString(r.loc)
		b.WriteByte('\n')
	}
	return b.String()
}

func writeDebug1(w *bufio.Writer, m *Model, recs []*record, total int) {
	w.WriteString("goroutine profile: total ")
	w.WriteString(strconv.Itoa(total))
	w.WriteByte('\n')
	blocks := map[*Shape]string{}
	for _, r := range recs {
		blk, ok := blocks[r.sh]
		if !ok {
			blk = d1Block(r.sh)
			blocks[r.sh] = blk
		}
		w.WriteString(strconv.Itoa(r.count))
		w.WriteByte(' ')
		w.WriteString(r.key)
		w.WriteByte('\n')
		w.WriteString(blk)
		w.WriteByte('\n')
	}
}

// ---------------------------------------------------------------------------
// debug=0: gzip(profile.proto), encoded like runtime/pprof's profileBuilder.

type pbuf struct{ b []byte }

func (p *pbuf) varint(x uint64) {
	for x >= 0x80 {
		p.b = append(p.b, byte(x)|0x80)
		x >>= 7
	}
	p.b = append(p.b, byte(x))
}
func (p *pbuf) tag(field, wire int) { p.varint(uint64(field)<<3 | uint64(wire)) }
func (p *pbuf) uint64Opt(field int, x uint64) {
	if x == 0 {
		return
	}
	p.tag(field, 0)
	p.varint(x)
}
func (p *pbuf) int64Opt(field int, x int64) { p.uint64Opt(field, uint64(x)) }
func (p *pbuf) boolOpt(field int, x bool) {
	if x {
		p.tag(field, 0)
		p.varint(1)
	}
}
func (p *pbuf) uint64s(field int, xs []uint64) {
	if len(xs) > 2 {
		p.tag(field, 2)
		n := 0
		for _, x := range xs {
			n += varintLen(x)
		}
		p.varint(uint64(n))
		for _, x := range xs {
			p.varint(x)
		}
		return
	}
	for _, x := range xs {
		p.tag(field, 0)
		p.varint(x)
	}
}
func (p *pbuf) bytesField(field int, data []byte) {
	p.tag(field, 2)
	p.varint(uint64(len(data)))
	p.b = append(p.b, data...)
}
func (p *pbuf) str(field int, s string) {
	p.tag(field, 2)
	p.varint(uint64(len(s)))
	p.b = append(p.b, s...)
}

func varintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

type pbWriter struct {
	zw      *gzip.Writer
	strings []string
	strIdx  map[string]int64
	locID   map[*Frame]uint64
	funcID  map[*Func]uint64
	msg     pbuf
	sub     pbuf
	top     pbuf
}

func (p *pbWriter) s(x string) int64 {
	if i, ok := p.strIdx[x]; ok {
		return i
	}
	i := int64(len(p.strings))
	p.strings = append(p.strings, x)
	p.strIdx[x] = i
	return i
}

// emit writes a top-level field (length-delimited) holding p.msg.
func (p *pbWriter) emit(field int) {
	p.top.b = p.top.b[:0]
	p.top.tag(field, 2)
	p.top.varint(uint64(len(p.msg.b)))
	p.zw.Write(p.top.b)
	p.zw.Write(p.msg.b)
	p.msg.b = p.msg.b[:0]
}

func (p *pbWriter) valueType(field int, typ, unit string) {
	p.msg.int64Opt(1, p.s(typ))
	p.msg.int64Opt(2, p.s(unit))
	p.emit(field)
}

// locations for a shape: one per physical frame group, leaf first.
func (p *pbWriter) locs(sh *Shape, m *Model, out []uint64) []uint64 {
	frames := profFrames(sh)
	i := 0
	for i < len(frames) {
		j := i
		for frames[j].Inlined {
			j++
		}
		last := frames[j]
		id, ok := p.locID[last]
		if !ok {
			id = uint64(len(p.locID)) + 1
			p.locID[last] = id
			var newFuncs []*Func
			p.msg.uint64Opt(1, id)
			p.msg.uint64Opt(3, frames[i].PC-1)
			for k := i; k <= j; k++ {
				fn := frames[k].Fn
				fid, ok := p.funcID[fn]
				if !ok {
					fid = uint64(len(p.funcID)) + 1
					p.funcID[fn] = fid
					newFuncs = append(newFuncs, fn)
				}
				p.sub.b = p.sub.b[:0]
				p.sub.uint64Opt(1, fid)
				p.sub.int64Opt(2, int64(frames[k].Line))
				p.msg.bytesField(4, p.sub.b)
			}
			p.msg.uint64Opt(2, 1) // mapping_id
			p.emit(4)
			for _, fn := range newFuncs {
				p.msg.uint64Opt(1, p.funcID[fn])
				p.msg.int64Opt(2, p.s(fn.Name))
				p.msg.int64Opt(3, p.s(fn.Name))
				p.msg.int64Opt(4, p.s(fn.File))
				p.msg.int64Opt(5, int64(fn.StartLine))
				p.emit(5)
			}
		}
		out = append(out, id)
		i = j + 1
	}
	return out
}

func writeDebug0(w *bufio.Writer, m *Model, recs []*record, seed uint64) {
	zw, _ := gzip.NewWriterLevel(w, gzip.BestSpeed)
	p := &pbWriter{zw: zw, strIdx: map[string]int64{}, locID: map[*Frame]uint64{}, funcID: map[*Func]uint64{}}
	p.s("")
	p.valueType(11, "goroutine", "count")
	p.top.b = p.top.b[:0]
	p.top.int64Opt(12, 1)
	zw.Write(p.top.b)
	p.valueType(1, "goroutine", "count")
	var locs []uint64
	for _, r := range recs {
		locs = p.locs(r.sh, m, locs[:0])
		// sample: value, location_id, labels
		p.msg.uint64s(2, []uint64{uint64(r.count)})
		p.msg.uint64s(1, locs)
		for _, kv := range r.kv {
			p.sub.b = p.sub.b[:0]
			p.sub.int64Opt(1, p.s(kv[0]))
			p.sub.int64Opt(2, p.s(kv[1]))
			p.msg.bytesField(3, p.sub.b)
		}
		p.emit(2)
	}
	p.top.b = p.top.b[:0]
	p.top.int64Opt(9, 1795802913961962551+int64(seed)*1000003)
	zw.Write(p.top.b)
	// mappings: main binary + vdso + vsyscall, like a Linux process
	end := (m.maxPC + 0xfff) &^ 0xfff
	var bid strings.Builder
	r := rng{s: seed * 31}
	for bid.Len() < 40 {
		bid.WriteString(strconv.FormatUint(r.next()%16, 16))
	}
	p.msg.uint64Opt(1, 1)
	p.msg.uint64Opt(2, 0x400000)
	p.msg.uint64Opt(3, end+0x1000)
	p.msg.int64Opt(5, p.s("/usr/local/bin/shop-api"))
	p.msg.int64Opt(6, p.s(bid.String()))
	p.msg.boolOpt(7, true)
	p.emit(3)
	p.msg.uint64Opt(1, 2)
	p.msg.uint64Opt(2, 0x7ff42f0a2000)
	p.msg.uint64Opt(3, 0x7ff42f0a4000)
	p.msg.int64Opt(5, p.s("[vdso]"))
	p.emit(3)
	p.msg.uint64Opt(1, 3)
	p.msg.uint64Opt(2, 0xffffffffff600000)
	p.msg.uint64Opt(3, 0xffffffffff601000)
	p.msg.int64Opt(5, p.s("[vsyscall]"))
	p.emit(3)
	for _, s := range p.strings {
		p.msg.b = append(p.msg.b[:0], s...)
		p.emit(6)
	}
	zw.Close()
}
