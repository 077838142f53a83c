package main

import (
	"math"
	"sort"
	"strconv"
	"strings"
)

type siteT struct {
	prim    string
	lib     string // third-party / stdlib layer between primitive and app code
	ctx     int
	weight  float64
	minutes bool
	locked  bool
}

func newModel(seed uint64, wide bool) *Model {
	m := &Model{
		r:        &rng{s: seed*0x2545f4914f6cdd1d + 0x1234567},
		byName:   map[string]*Func{},
		frames:   map[string]*Frame{},
		groups:   map[*Frame][]*Frame{},
		appLines: map[*Func][]int{},
	}
	m.ids.httpServe = 41
	m.ids.debugServe = 39
	m.wide = wide
	if wide {
		m.buildWide()
	} else {
		m.build()
	}
	m.buildSpecial()
	m.finalize()
	return m
}

func (m *Model) libSpecs(lib string) []fs {
	switch lib {
	case "pgx":
		return []fs{
			m.rt("io.ReadAtLeast", "io/io.go", 335, 0x90, "{t,p},{p,i,i},k"),
			third(m, "github.com/jackc/pgx/v5/pgproto3.(*chunkReader).Next", "github.com/jackc/pgx/v5@v5.7.4/pgproto3/chunkreader.go", 90, "p,k"),
			third(m, "github.com/jackc/pgx/v5/pgproto3.(*Frontend).Receive", "github.com/jackc/pgx/v5@v5.7.4/pgproto3/frontend.go", 306, "p"),
			third(m, "github.com/jackc/pgx/v5/pgconn.(*PgConn).peekMessage", "github.com/jackc/pgx/v5@v5.7.4/pgconn/pgconn.go", 519, "p"),
			third(m, "github.com/jackc/pgx/v5/pgconn.(*PgConn).receiveMessage", "github.com/jackc/pgx/v5@v5.7.4/pgconn/pgconn.go", 564, "p"),
			third(m, "github.com/jackc/pgx/v5/pgconn.(*ResultReader).receiveMessage", "github.com/jackc/pgx/v5@v5.7.4/pgconn/pgconn.go", 1636, "p"),
			third(m, "github.com/jackc/pgx/v5/pgconn.(*ResultReader).NextRow", "github.com/jackc/pgx/v5@v5.7.4/pgconn/pgconn.go", 1522, "p"),
			third(m, "github.com/jackc/pgx/v5.(*baseRows).Next", "github.com/jackc/pgx/v5@v5.7.4/rows.go", 180, "p"),
		}
	case "pgxpool":
		return []fs{
			third(m, "github.com/jackc/puddle/v2.(*Pool[...]).acquire", "github.com/jackc/puddle/v2@v2.2.2/pool.go", 436, "p,{t,p}"),
			third(m, "github.com/jackc/puddle/v2.(*Pool[...]).Acquire", "github.com/jackc/puddle/v2@v2.2.2/pool.go", 373, "p,{t,p}"),
			third(m, "github.com/jackc/pgx/v5/pgxpool.(*Pool).Acquire", "github.com/jackc/pgx/v5@v5.7.4/pgxpool/pool.go", 572, "p,{t,p}"),
			third(m, "github.com/jackc/pgx/v5/pgxpool.(*Pool).Query", "github.com/jackc/pgx/v5@v5.7.4/pgxpool/pool.go", 748, "p,{t,p},{p,i},{p,i,i}"),
		}
	case "redis":
		return []fs{
			m.rt("bufio.(*Reader).fill", "bufio/bufio.go", 113, 0x103, "p"),
			m.rt("bufio.(*Reader).ReadSlice", "bufio/bufio.go", 380, 0x29, "p,k"),
			third(m, "github.com/redis/go-redis/v9/internal/proto.(*Reader).readLine", "github.com/redis/go-redis/v9@v9.7.3/internal/proto/reader.go", 141, "p"),
			third(m, "github.com/redis/go-redis/v9/internal/proto.(*Reader).ReadReply", "github.com/redis/go-redis/v9@v9.7.3/internal/proto/reader.go", 160, "p"),
			third(m, "github.com/redis/go-redis/v9.(*Cmd).readReply", "github.com/redis/go-redis/v9@v9.7.3/command.go", 414, "p,p"),
			third(m, "github.com/redis/go-redis/v9.(*baseClient)._process.func1", "github.com/redis/go-redis/v9@v9.7.3/redis.go", 417, "p"),
			third(m, "github.com/redis/go-redis/v9/internal/pool.(*Conn).WithReader", "github.com/redis/go-redis/v9@v9.7.3/internal/pool/conn.go", 80, "p,{t,p},i,p"),
			third(m, "github.com/redis/go-redis/v9.(*baseClient)._process", "github.com/redis/go-redis/v9@v9.7.3/redis.go", 416, "p,{t,p},{t,p},k"),
			third(m, "github.com/redis/go-redis/v9.(*baseClient).process", "github.com/redis/go-redis/v9@v9.7.3/redis.go", 360, "p,{t,p},{t,p}"),
			third(m, "github.com/redis/go-redis/v9.(*Client).Process", "github.com/redis/go-redis/v9@v9.7.3/redis.go", 718, "p,{t,p},{t,p}"),
		}
	case "kafka":
		return []fs{
			third(m, "github.com/segmentio/kafka-go.(*Reader).FetchMessage", "github.com/segmentio/kafka-go@v0.4.47/reader.go", 868, "p,{t,p}"),
		}
	case "httpclient":
		return []fs{
			m.rt("net/http.(*Transport).roundTrip", "net/http/transport.go", 747, 0x93b, "p,p"),
			m.rt("net/http.(*Transport).RoundTrip", "net/http/roundtrip.go", 33, 0x18, "p,p"),
			m.rt("net/http.send", "net/http/client.go", 259, 0x5d8, "p,{t,p},{k,k,k}"),
			m.rt("net/http.(*Client).send", "net/http/client.go", 180, 0x98, "p,p,{k,k,k}"),
			m.rt("net/http.(*Client).do", "net/http/client.go", 728, 0x8cf, "p,p"),
			m.rti("net/http.(*Client).Do", "net/http/client.go", 587),
		}
	}
	return nil
}

func (m *Model) ctxRoot(ctx int, leaf *Func) (specs []fs, created fs, hasCreated bool) {
	hf := func() fs {
		return m.rt("net/http.HandlerFunc.ServeHTTP", "net/http/server.go", 2358, 0x29, "t,{t,p},p")
	}
	switch ctx {
	case ctxHTTP:
		chi := "github.com/go-chi/chi/v5@v5.2.1/"
		specs = append(specs, hf(),
			third(m, "github.com/go-chi/chi/v5.(*Mux).routeHTTP", chi+"mux.go", 459, "p,{t,p},p"), hf())
		if m.r.intn(2) == 0 {
			specs = append(specs, m.app(m.byName[appMod+"internal/httpapi.(*Server).withTenant.func1"]), hf())
		}
		if m.r.intn(3) != 0 {
			specs = append(specs,
				third(m, "go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp.(*middleware).serveHTTP", "go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp@v0.60.0/handler.go", 179, "p,{t,p},p,{t,p}"),
				third(m, "go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp.NewMiddleware.func1.1", "go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp@v0.60.0/handler.go", 67, "{t,p},p"),
				hf())
		}
		if m.r.intn(2) == 0 {
			specs = append(specs, third(m, "github.com/go-chi/chi/v5/middleware.RequestID.func1", chi+"middleware/request_id.go", 76, "{t,p},p"), hf())
		}
		specs = append(specs,
			third(m, "github.com/go-chi/chi/v5/middleware.Recoverer.func1", chi+"middleware/recoverer.go", 45, "{t,p},p"), hf(),
			third(m, "github.com/go-chi/chi/v5.(*Mux).ServeHTTP", chi+"mux.go", 90, "p,{t,p},p"),
			m.rt("net/http.serverHandler.ServeHTTP", "net/http/server.go", 3436, 0x8e, "{p},{t,p},p"),
			m.rt("net/http.(*conn).serve", "net/http/server.go", 2157, 0x6dc, "p,{t,p}"))
		created = m.rt("net/http.(*Server).Serve", "net/http/server.go", 3604, 0x4fd, "")
		return specs, created, true
	case ctxGRPC:
		g := "google.golang.org/grpc@v1.71.1/"
		svc := m.r.pick([]string{"OrderService", "Inventory", "Pricing", "Payments"})
		meth := m.r.pick(verbs) + m.r.pick(nouns)
		pb := appMod + "gen/shop/v1"
		pbFile := appRoot + "gen/shop/v1/" + strings.ToLower(svc) + "_grpc.pb.go"
		h := m.fn(pb+"._"+svc+"_"+meth+"_Handler", pbFile, "{t,p},{t,p},p,{t,p}")
		if h.StartLine == 0 {
			h.StartLine = m.r.rangeIn(200, 500)
		}
		hf1 := m.fn(h.Name+".func1", pbFile, "{t,p},{t,p}")
		hf1.StartLine = h.StartLine + 8
		log := m.fn(appMod+"internal/grpcapi.loggingInterceptor", appRoot+"internal/grpcapi/interceptors.go", "{t,p},{t,p},p,p")
		log.StartLine = 31
		auth := m.fn(appMod+"internal/grpcapi.(*Auth).Unary", appRoot+"internal/grpcapi/auth.go", "p,{t,p},{t,p},p,p")
		auth.StartLine = 57
		specs = append(specs, fs{f: hf1, line: hf1.StartLine + 2},
			m.app(log),
			third(m, "google.golang.org/grpc.getChainUnaryHandler.func1", g+"server.go", 1226, "{t,p},{t,p}"),
			m.app(auth),
			third(m, "google.golang.org/grpc.chainUnaryInterceptors.func1", g+"server.go", 1217, "{t,p},{t,p},p,p"),
			fs{f: h, line: h.StartLine + 12},
			third(m, "google.golang.org/grpc.(*Server).processUnaryRPC", g+"server.go", 1405, "p,{t,p},{t,p},p,p,p"),
			third(m, "google.golang.org/grpc.(*Server).handleStream", g+"server.go", 1782, "p,{t,p},p"),
			third(m, "google.golang.org/grpc.(*Server).serveStreams.func2.1", g+"server.go", 1046, ""))
		created = third(m, "google.golang.org/grpc.(*Server).serveStreams.func2", g+"server.go", 1057, "")
		return specs, created, true
	case ctxSpawn:
		creator := m.appPool[m.r.intn(len(m.appPool))]
		cl := m.callLine(creator)
		if m.r.intn(2) == 0 {
			// go func() { ... }()
			n := creator.Name + ".func" + strconv.Itoa(m.r.rangeIn(1, 4))
			c := m.fn(n, creator.File, m.randArgs())
			if c.StartLine == 0 {
				c.StartLine = cl
			}
			specs = append(specs, fs{f: c, line: c.StartLine + m.r.rangeIn(1, 9)})
		} else {
			w := m.fn(creator.Name+".gowrap"+strconv.Itoa(m.r.rangeIn(1, 3)), creator.File, "")
			specs = append(specs, fs{f: w, line: cl, off: 0})
		}
		return specs, fs{f: creator, line: cl}, true
	case ctxWorker:
		wp := appMod + "internal/worker"
		wf := appRoot + "internal/worker/pool.go"
		safe := m.fn(wp+".(*Pool).safeRun", wf, "p,{t,p}")
		safe.StartLine = 112
		run := m.fn(wp+".(*Pool).run.func1", wf, "")
		run.StartLine = 86
		start := m.fn(wp+".(*Pool).Start", wf, "p,{t,p}")
		start.StartLine = 64
		specs = append(specs, fs{f: safe, line: 121}, fs{f: run, line: 94})
		return specs, fs{f: start, line: 86}, true
	case ctxBackground:
		mr := m.fn("main.run", appRoot+"cmd/shop-api/main.go", "{t,p},p")
		mr.StartLine = 74
		if m.r.intn(2) == 0 {
			w := m.fn("main.run.gowrap"+strconv.Itoa(m.r.rangeIn(1, 9)), mr.File, "")
			specs = append(specs, fs{f: w, line: mr.StartLine + m.r.rangeIn(10, 90)})
			return specs, fs{f: mr, line: specs[0].line}, true
		}
		return specs, fs{f: mr, line: mr.StartLine + m.r.rangeIn(10, 90)}, true
	}
	return nil, fs{}, false
}

// addApp draws n frames from the app pool and appends those not in used (marking them):
// the middle of a stack, in both shapes.
func (m *Model) addApp(specs []fs, n int, used map[*Func]bool) []fs {
	for k := 0; k < n; k++ {
		f := m.appPool[m.r.intn(len(m.appPool))]
		if used[f] {
			continue
		}
		used[f] = true
		specs = append(specs, m.app(f))
	}
	return specs
}

func (m *Model) build() {
	prims := map[string]prim{}
	for _, p := range m.primitives() {
		prims[p.name] = p
	}
	// app function pool
	for i := 0; i < 40; i++ {
		f := m.appFunc(m.r.intn(len(appPkgs)), m.r.intn(3) != 0, m.r.intn(6) == 0)
		m.appPool = append(m.appPool, f)
	}
	wt := m.fn(appMod+"internal/httpapi.(*Server).withTenant.func1", appRoot+"internal/httpapi/middleware.go", "{t,p},p")
	wt.StartLine = 52

	sites := []siteT{
		// the leaks
		{prim: "chansend", ctx: ctxSpawn, weight: 0.30, minutes: true},
		{prim: "chanrecv1", ctx: ctxHTTP, weight: 0.13, minutes: true},
		{prim: "mutex", ctx: ctxHTTP, weight: 0.09},
		{prim: "select", ctx: ctxSpawn, weight: 0.06, minutes: true},
		{prim: "waitgroup", ctx: ctxGRPC, weight: 0.035},
	}
	// remaining sites, most common first (Zipf weights by position)
	rest := []siteT{
		{prim: "netread", lib: "pgx", ctx: ctxHTTP}, {prim: "select", ctx: ctxSpawn}, {prim: "std-httpconn"},
		{prim: "chanrecv1", ctx: ctxWorker}, {prim: "select", ctx: ctxHTTP}, {prim: "std-readloop"}, {prim: "std-writeloop"},
		{prim: "chansend", ctx: ctxWorker}, {prim: "netread", lib: "redis", ctx: ctxHTTP}, {prim: "mutex", ctx: ctxGRPC},
		{prim: "select", ctx: ctxGRPC}, {prim: "chanrecv1", ctx: ctxSpawn}, {prim: "sleep", ctx: ctxBackground},
		{prim: "netread", lib: "pgx", ctx: ctxGRPC}, {prim: "rlock", ctx: ctxHTTP}, {prim: "waitgroup", ctx: ctxHTTP},
		{prim: "chansend", ctx: ctxHTTP}, {prim: "select", lib: "pgxpool", ctx: ctxHTTP}, {prim: "cond", ctx: ctxWorker},
		{prim: "chanrecv2", ctx: ctxWorker}, {prim: "lib-grpcreader"}, {prim: "lib-grpcloopy"}, {prim: "select", ctx: ctxWorker},
		{prim: "std-bgread"}, {prim: "netread-bufio", ctx: ctxSpawn}, {prim: "chansend-nil", ctx: ctxSpawn},
		{prim: "mutex", ctx: ctxWorker}, {prim: "netwrite", ctx: ctxHTTP}, {prim: "select", ctx: ctxBackground},
		{prim: "chansend", ctx: ctxGRPC}, {prim: "netread", lib: "redis", ctx: ctxWorker}, {prim: "recursive", ctx: ctxWorker},
		{prim: "sleep", ctx: ctxWorker}, {prim: "chanrecv-nil", ctx: ctxSpawn}, {prim: "rlock", ctx: ctxGRPC},
		{prim: "netread", lib: "httpclient", ctx: ctxWorker}, {prim: "pipe", ctx: ctxSpawn}, {prim: "mutex", ctx: ctxSpawn},
		{prim: "select", lib: "kafka", ctx: ctxBackground}, {prim: "waitgroup", ctx: ctxWorker}, {prim: "fdlock", ctx: ctxHTTP},
		{prim: "chanrecv2", ctx: ctxBackground}, {prim: "preempt", ctx: ctxHTTP}, {prim: "wlock", ctx: ctxBackground},
		{prim: "sleep", ctx: ctxHTTP}, {prim: "syscall-wait", ctx: ctxWorker}, {prim: "select-nocases", ctx: ctxBackground},
		{prim: "runnable", ctx: ctxGRPC}, {prim: "cond", ctx: ctxBackground}, {prim: "fileread", ctx: ctxBackground},
		{prim: "std-sqlopener"}, {prim: "std-signal"}, {prim: "accept", ctx: ctxBackground}, {prim: "syscall-read", ctx: ctxBackground},
		{prim: "chanrecv1", ctx: ctxBackground, locked: true}, {prim: "preempt", ctx: ctxWorker}, {prim: "runnable", ctx: ctxSpawn},
		{prim: "gcwait", ctx: ctxBackground},
	}
	var lead float64
	for _, s := range sites {
		lead += s.weight
	}
	var z float64
	for i := range rest {
		z += 1 / math.Pow(float64(i+1), 1.1)
	}
	for i := range rest {
		rest[i].weight = (1 - lead) / z / math.Pow(float64(i+1), 1.1)
	}
	sites = append(sites, rest...)

	for _, st := range sites {
		nv := 1 + m.r.intn(3)
		if st.weight > 0.05 {
			nv = 3
		}
		if st.lib == "" && (strings.HasPrefix(st.prim, "std-") || strings.HasPrefix(st.prim, "lib-")) {
			nv = 1
		}
		vw := []float64{1}
		switch nv {
		case 2:
			vw = []float64{0.7, 0.3}
		case 3:
			vw = []float64{0.6, 0.3, 0.1}
		}
		var leaf *Func
		leafLine := 0
		for v := 0; v < nv; v++ {
			sh := m.buildShape(st, prims, &leaf, &leafLine)
			if sh == nil {
				break
			}
			sh.Weight = st.weight * vw[v]
			m.Shapes = append(m.Shapes, sh)
		}
	}
}

// buildShape makes one stack variant of a site. leaf/leafLine are shared
// between variants so they block at the same site.
func (m *Model) buildShape(st siteT, prims map[string]prim, leaf **Func, leafLine *int) *Shape {
	sh := &Shape{Ctx: st.ctx, Locked: st.locked}
	var specs []fs
	var created fs
	hasCreated := false
	pollRead := func() []fs { return prims["netread"].specs(m) }
	switch st.prim {
	case "std-httpconn":
		sh.State = "IO wait"
		specs = append(pollRead(),
			m.rt("net/http.(*connReader).Read", "net/http/server.go", 809, 0x159, "p,{p,i,i}"),
			m.rt("bufio.(*Reader).fill", "bufio/bufio.go", 113, 0x103, "p"),
			m.rt("bufio.(*Reader).Peek", "bufio/bufio.go", 152, 0x53, "p,k"),
			m.rt("net/http.(*conn).serve", "net/http/server.go", 2113, 0x6a5, "p,{t,p}"))
		created, hasCreated = m.rt("net/http.(*Server).Serve", "net/http/server.go", 3604, 0x4fd, ""), true
		sh.Ctx = ctxStdConn
	case "std-bgread":
		sh.State = "IO wait"
		specs = append(pollRead(), m.rt("net/http.(*connReader).backgroundRead", "net/http/server.go", 702, 0x33, "p"),
			m.fn("net/http.(*connReader).startBackgroundRead.gowrap2", goroot+"net/http/server.go", "").spec(698))
		created, hasCreated = m.rt("net/http.(*connReader).startBackgroundRead", "net/http/server.go", 698, 0xb6, ""), true
		sh.Ctx = ctxStdConn
	case "std-readloop":
		sh.State = "IO wait"
		specs = append(pollRead(),
			m.rt("net/http.(*persistConn).Read", "net/http/transport.go", 2138, 0x47, "p,{p,i,i}"),
			m.rt("bufio.(*Reader).fill", "bufio/bufio.go", 113, 0x103, "p"),
			m.rt("bufio.(*Reader).Peek", "bufio/bufio.go", 152, 0x53, "p,k"),
			m.rt("net/http.(*persistConn).readLoop", "net/http/transport.go", 2305, 0x2b9, "p"),
			m.fn("net/http.(*Transport).dialConn.gowrap2", goroot+"net/http/transport.go", "").spec(1947))
		created, hasCreated = m.rt("net/http.(*Transport).dialConn", "net/http/transport.go", 1947, 0x174c, ""), true
		sh.Ctx = ctxStdClient
	case "std-writeloop":
		sh.State = "select"
		specs = append(prims["select"].specs(m),
			m.rt("net/http.(*persistConn).writeLoop", "net/http/transport.go", 2600, 0x9d, "p"),
			m.fn("net/http.(*Transport).dialConn.gowrap3", goroot+"net/http/transport.go", "").spec(1948))
		created, hasCreated = m.rt("net/http.(*Transport).dialConn", "net/http/transport.go", 1948, 0x17a5, ""), true
		sh.Ctx = ctxStdClient
	case "std-sqlopener":
		sh.State = "select"
		specs = append(prims["select"].specs(m),
			m.rt("database/sql.(*DB).connectionOpener", "database/sql/sql.go", 1261, 0x87, "p,{t,p}"),
			m.fn("database/sql.OpenDB.gowrap1", goroot+"database/sql/sql.go", "").spec(841))
		created, hasCreated = m.rt("database/sql.OpenDB", "database/sql/sql.go", 841, 0x130, ""), true
		sh.Ctx = ctxBackground
	case "std-signal":
		sh.State = "syscall"
		specs = []fs{m.rt("os/signal.signal_recv", "runtime/sigqueue.go", 152, 0x29, ""),
			m.rt("os/signal.loop", "os/signal/signal_unix.go", 23, 0x13, "")}
		created, hasCreated = m.rt("os/signal.Notify.func1.1", "os/signal/signal.go", 151, 0x1f, ""), true
		sh.Ctx = ctxBackground
	case "lib-grpcreader":
		sh.State = "IO wait"
		g := "google.golang.org/grpc@v1.71.1/internal/transport/"
		specs = prims["tlsread"].specs(m)
		specs = append(specs,
			third(m, "golang.org/x/net/http2.readFrameHeader", "golang.org/x/net@v0.38.0/http2/frame.go", 237, "{p,k,k},{t,p}"),
			third(m, "golang.org/x/net/http2.(*Framer).ReadFrame", "golang.org/x/net@v0.38.0/http2/frame.go", 501, "p"),
			third(m, "google.golang.org/grpc/internal/transport.(*http2Client).reader", g+"http2_client.go", 1633, "p,p"),
			m.fn("google.golang.org/grpc/internal/transport.NewHTTP2Client.gowrap4", modRoot+g+"http2_client.go", "").spec(409))
		created, hasCreated = third(m, "google.golang.org/grpc/internal/transport.NewHTTP2Client", g+"http2_client.go", 409, ""), true
		sh.Ctx = ctxBackground
	case "lib-grpcloopy":
		sh.State = "select"
		g := "google.golang.org/grpc@v1.71.1/internal/transport/"
		specs = append(prims["select"].specs(m),
			third(m, "google.golang.org/grpc/internal/transport.(*controlBuffer).get", g+"controlbuf.go", 418, "p,k"),
			third(m, "google.golang.org/grpc/internal/transport.(*loopyWriter).run", g+"controlbuf.go", 552, "p"),
			third(m, "google.golang.org/grpc/internal/transport.NewHTTP2Client.func6", g+"http2_client.go", 467, ""))
		created, hasCreated = third(m, "google.golang.org/grpc/internal/transport.NewHTTP2Client", g+"http2_client.go", 465, ""), true
		sh.Ctx = ctxBackground
	default:
		pname := st.prim
		if pname == "recursive" {
			pname = "chanrecv1"
		}
		p, ok := prims[pname]
		if !ok {
			panic("unknown prim " + st.prim)
		}
		sh.State = p.state
		specs = p.specs(m)
		specs = append(specs, m.libSpecs(st.lib)...)
		if *leaf == nil {
			pi := m.r.intn(len(appPkgs))
			*leaf = m.appFunc(pi, m.r.intn(2) == 0, m.r.intn(5) == 0)
			*leafLine = (*leaf).StartLine + m.r.rangeIn(3, 80)
			if m.appLines[*leaf] == nil {
				m.appLines[*leaf] = []int{*leafLine}
			}
		}
		specs = append(specs, fs{f: *leaf, line: *leafLine})
		leafIdx := len(specs) - 1
		if st.prim == "recursive" {
			walk := m.fn(appMod+"internal/catalog.(*Tree).walk", appRoot+"internal/catalog/tree.go", "p,p,k")
			walk.StartLine = 131
			n := m.r.rangeIn(4, 18)
			specs = append(specs, fs{f: walk, line: 140})
			for k := 0; k < n; k++ {
				specs = append(specs, fs{f: walk, line: 147})
			}
		}
		// middle app frames
		nmid := m.r.intn(4)
		if m.r.intn(5) == 0 {
			nmid += m.r.rangeIn(3, 8)
		}
		used := map[*Func]bool{*leaf: true}
		specs = m.addApp(specs, nmid, used)
		if st.ctx == ctxHTTP {
			h := m.fn(appMod+"internal/httpapi.(*Server).handle"+m.r.pick(nouns), appRoot+"internal/httpapi/handlers.go", "p,{t,p},p")
			if h.StartLine == 0 {
				h.StartLine = m.r.rangeIn(30, 900)
			}
			specs = append(specs, m.app(h))
			sh.Endpoint = m.r.pick(endpoints)
		}
		if st.ctx == ctxGRPC {
			sh.Endpoint = m.r.pick(grpcMethods)
		}
		if st.ctx == ctxWorker || st.ctx == ctxBackground || st.ctx == ctxSpawn {
			sh.Component = m.r.pick(components)
		}
		var rs []fs
		rs, created, hasCreated = m.ctxRoot(st.ctx, *leaf)
		// visible frame count limits: 5..33
		vis := 0
		for _, s := range specs {
			if !s.f.Hidden && !s.f.Wrapper {
				vis++
			}
		}
		for _, s := range rs {
			if !s.f.Hidden && !s.f.Wrapper {
				vis++
			}
		}
		for vis > 33 && len(specs) > leafIdx+1 {
			// drop a middle frame (just before root)
			specs = specs[:len(specs)-1]
			vis--
		}
		for vis < 5 {
			f := m.appPool[m.r.intn(len(m.appPool))]
			if used[f] {
				continue
			}
			used[f] = true
			specs = append(specs, m.app(f))
			vis++
		}
		specs = append(specs, rs...)
		if p.minutes || st.minutes {
			sh.MinProb = 0.15
			if st.minutes {
				sh.MinProb = 0.6
			}
			sh.MinBase = m.r.rangeIn(1, 240)
		}
	}
	if hasCreated {
		if created.off == 0 && created.f.Cat == catApp {
			// allocate later in resolve
		}
		cr := m.resolve([]fs{created})
		sh.Created = cr[0]
	}
	sh.Frames = m.resolve(specs)
	return sh
}

func (f *Func) spec(line int) fs { return fs{f: f, line: line} }

// finalize assigns entry addresses and precomputes text.
func (m *Model) finalize() {
	m.goexit = m.resolve([]fs{m.rt("runtime.goexit", "runtime/asm_amd64.s", 1264, 0x1, "e")})[0]
	m.goexit.Fn.FrameSize = 8
	fns := append([]*Func(nil), m.funcs...)
	sort.SliceStable(fns, func(i, j int) bool {
		if fns[i].Cat != fns[j].Cat {
			return fns[i].Cat < fns[j].Cat
		}
		return fns[i].order < fns[j].order
	})
	bases := []uint64{0x401000, 0x4a2000, 0x5d0000, 0x6e8000}
	cur := uint64(0)
	lastCat := -1
	for _, f := range fns {
		if f.Cat != lastCat {
			if bases[f.Cat] > cur {
				cur = bases[f.Cat]
			}
			lastCat = f.Cat
		}
		f.Entry = cur
		size := f.nextOff + uint64(m.r.rangeIn(0x10, 0x300))
		size = (size + 0x1f) &^ 0x1f
		cur += size
		if f.StartLine == 0 {
			f.StartLine = 1
		}
	}
	m.maxPC = cur
	for _, grp := range m.groups {
		for _, fr := range grp {
			fr.PC = fr.Phys.Entry + fr.pcOff
			fr.RealPC = fr.Phys.Entry + fr.realOff
			fr.head = fr.Fn.Print
			t := "\n\t" + fr.Fn.File + ":" + strconv.Itoa(fr.Line)
			if !fr.Inlined {
				t += " +0x" + strconv.FormatUint(fr.realOff, 16)
			}
			fr.fileTxt = t
		}
	}
	for i, sh := range m.Shapes {
		m.finishShape(i, sh)
	}
	for i, sh := range m.special {
		m.finishShape(len(m.Shapes)+i, sh)
	}
	var tot float64
	m.cum = make([]float64, len(m.Shapes))
	for i, sh := range m.Shapes {
		tot += sh.Weight
		m.cum[i] = tot
	}
	for i := range m.cum {
		m.cum[i] /= tot
	}
}

func (m *Model) finishShape(i int, sh *Shape) {
	sh.Idx = i
	var sz uint64 = 8
	var b strings.Builder
	b.WriteString("@")
	for _, fr := range sh.Frames {
		if !fr.Inlined {
			sz += fr.Fn.FrameSize
		}
		if fr.Fn.Wrapper {
			continue
		}
		b.WriteString(" 0x")
		b.WriteString(strconv.FormatUint(fr.PC, 16))
	}
	b.WriteString(" 0x" + strconv.FormatUint(m.goexit.PC, 16))
	sh.pcKey = b.String()
	sh.stackSize = sz
	for _, fr := range sh.Frames {
		if fr.Fn.Hidden || fr.Fn.Wrapper {
			continue
		}
		if !fr.Fn.Stdlib {
			sh.Site = fr
			break
		}
	}
	if sh.Site == nil {
		// no non-stdlib frame: use the goroutine's entry (outermost visible) frame
		for _, fr := range sh.Frames {
			if !fr.Fn.Wrapper {
				sh.Site = fr
			}
		}
	}
}

func (m *Model) pickShape(r *rng) *Shape {
	x := r.float()
	i := sort.SearchFloat64s(m.cum, x)
	if i >= len(m.Shapes) {
		i = len(m.Shapes) - 1
	}
	return m.Shapes[i]
}
