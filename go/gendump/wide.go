package main

// The "wide" shape (-shape wide): a second, differently shaped service, so that a benchmark
// cannot be tuned to one shape (issue 14). Against the default shape it has long package
// paths (a monorepo module, vendored-looking dependency paths with versions), generic
// functions and methods (printed `[...]`), long argument lists (up to Go's 10 words and
// `...`), deep stacks (a third of the goroutines 30+ frames: middleware and interceptor
// chains, SDK handler stacks, recursion), few labels, 15 wait states, and many distinct
// call sites (~18,000 stack variants, ~20,000 call sites over ~2,500 application
// functions, flat weights), ~1.75 KB per goroutine in debug=2 (the independent input of
// issue 14 had 1,665).

import (
	"math"
	"strconv"
	"strings"
)

const wideMod = "github.com/northwind/platform/services/fulfillment/"

// Built with -trimpath: files are named by module path.
const wideRoot = wideMod

// wide packages: path under the module, receiver type (with a type parameter list when
// generic; printed `[...]`), file.
var widePkgs = []struct{ pkg, typ, file string }{
	{"internal/adapters/persistence/postgres/repositories", "ShipmentRepository", "shipment_repository.go"},
	{"internal/adapters/persistence/postgres/repositories", "Repository[go.shape.struct { ID string; Version int64 },go.shape.*uint8]", "generic_repository.go"},
	{"internal/adapters/messaging/kafka/consumers", "OrderEventsConsumer", "order_events_consumer.go"},
	{"internal/adapters/messaging/kafka/producers", "OutboxRelay", "outbox_relay.go"},
	{"internal/adapters/http/handlers/v2/fulfillment", "Handler", "handler.go"},
	{"internal/adapters/grpc/servers/warehouse/v1", "WarehouseServer", "warehouse_server.go"},
	{"internal/application/commands/allocation", "AllocateInventoryHandler", "allocate_inventory.go"},
	{"internal/application/queries/tracking", "TrackingProjection", "tracking_projection.go"},
	{"internal/application/sagas/fulfillment", "Coordinator[go.shape.string]", "coordinator.go"},
	{"internal/domain/shipment/aggregates", "Shipment", "shipment.go"},
	{"internal/domain/inventory/services", "ReservationPolicy", "reservation_policy.go"},
	{"internal/platform/cache/sharded", "ShardedLRU[go.shape.string,go.shape.*uint8]", "sharded_lru.go"},
	{"internal/platform/concurrency/pipeline", "Stage[go.shape.*uint8,go.shape.*uint8]", "stage.go"},
	{"internal/platform/concurrency/workerpool", "Pool[go.shape.*uint8]", "pool.go"},
	{"internal/platform/resilience/circuitbreaker", "Breaker", "breaker.go"},
	{"internal/platform/resilience/retry", "Policy[go.shape.struct {}]", "policy.go"},
	{"internal/platform/observability/tracing", "SpanRecorder", "span_recorder.go"},
	{"internal/platform/ratelimit/tokenbucket", "Limiter", "limiter.go"},
	{"internal/integrations/carriers/dhl/client", "TrackingClient", "tracking_client.go"},
	{"internal/integrations/carriers/ups/client", "RatingClient", "rating_client.go"},
	{"internal/integrations/erp/sap/odata", "BatchWriter", "batch_writer.go"},
	{"pkg/collections/ordered", "Map[go.shape.string,go.shape.int64]", "map.go"},
	{"pkg/eventsourcing/store", "EventStore[go.shape.*uint8]", "event_store.go"},
	{"pkg/featureflags/evaluation", "Evaluator", "evaluator.go"},
}

var wideVerbs = []string{"Allocate", "Reconcile", "Dispatch", "Project", "Replay", "Materialize", "Enqueue", "Acquire",
	"Hydrate", "Persist", "Publish", "Resolve", "Evaluate", "Rebalance", "Settle", "Validate", "Compensate", "Stream",
	"Await", "Drain", "Flush", "Fanout", "Collect", "Load"}
var wideNouns = []string{"Shipment", "ShipmentEvents", "Allocation", "Manifest", "Parcel", "Carrier", "Route", "Wave",
	"PickList", "Reservation", "Snapshot", "Outbox", "Batch", "Projection", "Label", "Consignment", "Pallet", "Dock",
	"Inventory", "Tenant", "Checkpoint", "Partition", "Window", "Quote"}

// randArgsLong is an argument template of 3 to 10 words, sometimes cut with `...` as the
// runtime prints more than 10.
func (m *Model) randArgsLong() string {
	n := m.r.rangeIn(0, 3)
	if m.r.intn(8) == 0 {
		n = 7
	}
	var b []string
	words := 0
	for i := 0; i < n && words < 10; i++ {
		var a string
		var w int
		switch m.r.intn(8) {
		case 0, 1:
			a, w = "p", 1
		case 2:
			a, w = "{t,p}", 2
		case 3:
			a, w = "{p,i,i}", 3
		case 4:
			a, w = "{p,i}", 2
		case 5:
			a, w = "k", 1
		case 6:
			a, w = "{p,k,t,p}", 4
		case 7:
			a, w = "t", 1
		}
		if words+w > 10 {
			break
		}
		b = append(b, a)
		words += w
	}
	if words >= 8 && m.r.intn(2) == 0 {
		b = append(b, ".")
	}
	return strings.Join(b, ",")
}

// wideFunc makes an application function in package pi: a method of its type (generic
// types print `[...]`), a plain or generic function, or a closure inside one.
func (m *Model) wideFunc(pi int) *Func {
	p := widePkgs[pi]
	base := wideMod + p.pkg
	for tries := 0; ; tries++ {
		name := m.r.pick(wideVerbs) + m.r.pick(wideNouns)
		if m.r.intn(3) == 0 {
			name = lowerFirst(name)
		}
		var full string
		switch m.r.intn(5) {
		case 0:
			full = base + "." + name
		case 1:
			full = base + "." + name + "[go.shape.*uint8,go.shape.string]"
		default:
			full = base + ".(*" + p.typ + ")." + name
		}
		switch m.r.intn(6) {
		case 0:
			full += ".func" + strconv.Itoa(m.r.rangeIn(1, 4))
		case 1:
			full += ".func" + strconv.Itoa(m.r.rangeIn(1, 3)) + "." + strconv.Itoa(m.r.rangeIn(1, 3))
		}
		if _, ok := m.byName[full]; ok && tries < 50 {
			continue
		}
		file := wideRoot + p.pkg + "/" + p.file
		if m.r.intn(3) == 0 {
			file = wideRoot + p.pkg + "/" + strings.ToLower(m.r.pick(wideNouns)) + "_" + strings.ToLower(m.r.pick(wideVerbs)) + ".go"
		}
		f := m.fn(full, file, m.randArgsLong())
		f.StartLine = m.r.rangeIn(20, 1400)
		return f
	}
}

// wideLib is a dependency layer between the wait primitive and application code.
func (m *Model) wideLib(k int) []fs {
	aws := "github.com/aws/aws-sdk-go-v2/service/dynamodb@v1.42.1/"
	smithy := "github.com/aws/smithy-go@v1.22.3/middleware/"
	switch k {
	case 0: // AWS SDK: a long chain of middleware handlers
		specs := []fs{
			third(m, "github.com/aws/aws-sdk-go-v2/aws/transport/http.(*BuildableClient).Do", "github.com/aws/aws-sdk-go-v2@v1.36.3/aws/transport/http/client.go", 208, "p,p"),
			third(m, "github.com/aws/smithy-go/transport/http.ClientHandler.Handle", "github.com/aws/smithy-go@v1.22.3/transport/http/client.go", 55, "{t,p},{t,p},{t,p},{t,p}"),
		}
		for _, h := range []struct {
			name string
			line int
		}{{"decoratedDeserializeHandler.HandleDeserialize", 207}, {"DeserializeStep.HandleMiddleware", 120},
			{"decoratedFinalizeHandler.HandleFinalize", 229}, {"FinalizeStep.HandleMiddleware", 114},
			{"decoratedBuildHandler.HandleBuild", 213}, {"BuildStep.HandleMiddleware", 106},
			{"decoratedSerializeHandler.HandleSerialize", 208}, {"SerializeStep.HandleMiddleware", 114},
			{"decoratedInitializeHandler.HandleInitialize", 211}, {"InitializeStep.HandleMiddleware", 116}} {
			specs = append(specs, third(m, "github.com/aws/smithy-go/middleware."+h.name, smithy+"step.go", h.line, "{t,p},{t,p},{t,p},{t,p},{t,p}"))
		}
		return append(specs,
			third(m, "github.com/aws/smithy-go/middleware.(*Stack).HandleMiddleware", smithy+"stack.go", 109, "p,{t,p},{t,p},{t,p},{t,p}"),
			third(m, "github.com/aws/aws-sdk-go-v2/service/dynamodb.(*Client).invokeOperation", aws+"api_client.go", 191, "p,{t,p},{p,k},{t,p},p,{p,i,i},{p,i,i},{p,i,i}"),
			third(m, "github.com/aws/aws-sdk-go-v2/service/dynamodb.(*Client).Query", aws+"api_op_Query.go", 48, "p,{t,p},p,{p,i,i}"))
	case 1: // gRPC client call
		g := "google.golang.org/grpc@v1.71.1/"
		return []fs{
			third(m, "google.golang.org/grpc/internal/transport.(*recvBufferReader).read", g+"internal/transport/transport.go", 184, "p,{p,i,i}"),
			third(m, "google.golang.org/grpc/internal/transport.(*recvBufferReader).Read", g+"internal/transport/transport.go", 169, "p,{p,i,i}"),
			third(m, "google.golang.org/grpc/internal/transport.(*transportReader).Read", g+"internal/transport/transport.go", 513, "p,{p,i,i}"),
			m.rt("io.ReadAtLeast", "io/io.go", 335, 0x90, "{t,p},{p,i,i},k"),
			m.rti("io.ReadFull", "io/io.go", 354),
			third(m, "google.golang.org/grpc.(*parser).recvMsg", g+"rpc_util.go", 662, "p,k"),
			third(m, "google.golang.org/grpc.recvAndDecompress", g+"rpc_util.go", 796, "p,p,{t,p},k,p,{t,p},z"),
			third(m, "google.golang.org/grpc.recv", g+"rpc_util.go", 872, "p,{t,p},p,{p,i},{t,p},k,p,{t,p},z"),
			third(m, "google.golang.org/grpc.(*csAttempt).recvMsg", g+"stream.go", 1150, "p,{t,p},p"),
			third(m, "google.golang.org/grpc.(*clientStream).RecvMsg.func1", g+"stream.go", 985, "p"),
			third(m, "google.golang.org/grpc.(*clientStream).withRetry", g+"stream.go", 793, "p,p,p"),
			third(m, "google.golang.org/grpc.(*clientStream).RecvMsg", g+"stream.go", 984, "p,{t,p}"),
			third(m, "google.golang.org/grpc.invoke", g+"call.go", 75, "{t,p},{p,i},{t,p},{t,p},p,{p,i,i}"),
			third(m, "google.golang.org/grpc.(*ClientConn).Invoke", g+"call.go", 39, "p,{t,p},{p,i},{t,p},{t,p},{p,i,i}"),
		}
	case 2: // Kafka reader
		k := "github.com/segmentio/kafka-go@v0.4.47/"
		return []fs{
			third(m, "github.com/segmentio/kafka-go.(*Reader).FetchMessage", k+"reader.go", 853, "p,{t,p}"),
			third(m, "github.com/segmentio/kafka-go.(*Reader).ReadMessage", k+"reader.go", 813, "p,{t,p}"),
		}
	case 3: // controller-runtime work queue (generics)
		return []fs{
			third(m, "k8s.io/client-go/util/workqueue.(*Typed[...]).Get", "k8s.io/client-go@v0.32.3/util/workqueue/queue.go", 285, "p"),
			third(m, "sigs.k8s.io/controller-runtime/pkg/internal/controller.(*Controller[...]).processNextWorkItem", "sigs.k8s.io/controller-runtime@v0.20.4/pkg/internal/controller/controller.go", 273, "p,{t,p}"),
			third(m, "sigs.k8s.io/controller-runtime/pkg/internal/controller.(*Controller[...]).Start.func2.2", "sigs.k8s.io/controller-runtime@v0.20.4/pkg/internal/controller/controller.go", 232, ""),
		}
	case 4: // pgx pool (generics)
		return m.libSpecs("pgxpool")
	case 5: // redis pool wait
		r := "github.com/redis/go-redis/v9@v9.7.3/"
		return []fs{
			third(m, "github.com/redis/go-redis/v9/internal/pool.(*ConnPool).waitTurn", r+"internal/pool/pool.go", 296, "p,{t,p}"),
			third(m, "github.com/redis/go-redis/v9/internal/pool.(*ConnPool).Get", r+"internal/pool/pool.go", 231, "p,{t,p}"),
			third(m, "github.com/redis/go-redis/v9.(*baseClient)._getConn", r+"redis.go", 233, "p,{t,p}"),
			third(m, "github.com/redis/go-redis/v9.(*baseClient).getConn", r+"redis.go", 221, "p,{t,p}"),
			third(m, "github.com/redis/go-redis/v9.(*baseClient).withConn", r+"redis.go", 356, "p,{t,p},p"),
			third(m, "github.com/redis/go-redis/v9.(*baseClient)._process", r+"redis.go", 400, "p,{t,p},{t,p},k"),
			third(m, "github.com/redis/go-redis/v9.(*baseClient).process", r+"redis.go", 385, "p,{t,p},{t,p}"),
			third(m, "github.com/redis/go-redis/v9.(*hooksMixin).processHook", r+"redis.go", 176, "p,{t,p},{t,p}"),
			third(m, "github.com/redis/go-redis/v9.(*ClusterClient).process", r+"osscluster.go", 989, "p,{t,p},{t,p}"),
		}
	}
	return nil
}

// wideRootSpecs is the outer part of a stack (root first is last), by context, and its
// `created by` frame.
func (m *Model) wideRootSpecs(ctx int) (specs []fs, created fs) {
	switch ctx {
	case ctxHTTP: // a gin-style middleware chain: Next between every middleware
		gin := "github.com/gin-gonic/gin@v1.10.0/"
		next := func() fs { return third(m, "github.com/gin-gonic/gin.(*Context).Next", gin+"context.go", 185, "p") }
		mws := []fs{
			third(m, "github.com/gin-gonic/gin.CustomRecoveryWithWriter.func1", gin+"recovery.go", 102, "p"),
			third(m, "github.com/gin-gonic/gin.LoggerWithConfig.func1", gin+"logger.go", 249, "p"),
			third(m, "go.opentelemetry.io/contrib/instrumentation/github.com/gin-gonic/gin/otelgin.Middleware.func1", "go.opentelemetry.io/contrib/instrumentation/github.com/gin-gonic/gin/otelgin@v0.60.0/gintrace.go", 104, "p"),
			m.app(m.fn(wideMod+"internal/adapters/http/middleware.Authenticate.func1", wideRoot+"internal/adapters/http/middleware/authenticate.go", "p")),
			m.app(m.fn(wideMod+"internal/adapters/http/middleware.TenantScope.func1", wideRoot+"internal/adapters/http/middleware/tenant_scope.go", "p")),
			m.app(m.fn(wideMod+"internal/adapters/http/middleware.RequestBudget.func1", wideRoot+"internal/adapters/http/middleware/request_budget.go", "p")),
		}
		n := 1
		if m.r.intn(8) == 0 {
			n = len(mws)
		}
		for i := n - 1; i >= 0; i-- {
			specs = append(specs, next(), mws[i])
		}
		specs = append(specs,
			third(m, "github.com/gin-gonic/gin.(*Engine).handleHTTPRequest", gin+"gin.go", 633, "p,p"),
			third(m, "github.com/gin-gonic/gin.(*Engine).ServeHTTP", gin+"gin.go", 589, "p,{t,p},p"),
			m.rt("net/http.serverHandler.ServeHTTP", "net/http/server.go", 3436, 0x8e, "{p},{t,p},p"),
			m.rt("net/http.(*conn).serve", "net/http/server.go", 2157, 0x6dc, "p,{t,p}"))
		return specs, m.rt("net/http.(*Server).Serve", "net/http/server.go", 3604, 0x4fd, "")
	case ctxGRPC: // a chain of unary interceptors
		g := "google.golang.org/grpc@v1.71.1/"
		n := m.r.rangeIn(1, 2)
		for i := 0; i < n; i++ {
			specs = append(specs,
				third(m, "google.golang.org/grpc.getChainUnaryHandler.func1", g+"server.go", 1226, "{t,p},{t,p}"),
				third(m, "github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/"+[]string{"logging", "recovery", "auth", "ratelimit", "validator"}[i]+".UnaryServerInterceptor.func1",
					"github.com/grpc-ecosystem/go-grpc-middleware/v2@v2.3.2/interceptors/"+[]string{"logging", "recovery", "auth", "ratelimit", "validator"}[i]+"/interceptors.go", 30+i*7, "{t,p},{t,p},p,p"))
		}
		specs = append(specs,
			third(m, "google.golang.org/grpc.chainUnaryInterceptors.func1", g+"server.go", 1217, "{t,p},{t,p},p,p"),
			third(m, "google.golang.org/grpc.(*Server).processUnaryRPC", g+"server.go", 1405, "p,{t,p},{t,p},p,p,p"),
			third(m, "google.golang.org/grpc.(*Server).handleStream", g+"server.go", 1782, "p,{t,p},p"),
			third(m, "google.golang.org/grpc.(*Server).serveStreams.func2.1", g+"server.go", 1046, ""))
		return specs, third(m, "google.golang.org/grpc.(*Server).serveStreams.func2", g+"server.go", 1057, "")
	case ctxWorker: // the generic worker pool
		p := wideMod + "internal/platform/concurrency/workerpool"
		f := wideRoot + "internal/platform/concurrency/workerpool/pool.go"
		run := m.fn(p+".(*Pool[go.shape.*uint8]).worker", f, "p,{t,p},k")
		run.StartLine = 140
		start := m.fn(p+".(*Pool[go.shape.*uint8]).Start", f, "p,{t,p}")
		start.StartLine = 96
		return []fs{{f: run, line: 171}}, fs{f: start, line: 118}
	default: // spawned by application code
		creator := m.appPool[m.r.intn(len(m.appPool))]
		cl := m.callLine(creator)
		c := m.fn(creator.Name+".func"+strconv.Itoa(m.r.rangeIn(1, 4)), creator.File, m.randArgsLong())
		if c.StartLine == 0 {
			c.StartLine = cl
		}
		return []fs{{f: c, line: c.StartLine + m.r.rangeIn(1, 9)}}, fs{f: creator, line: cl}
	}
}

// buildWide builds the wide service's stack variants.
func (m *Model) buildWide() {
	prims := map[string]prim{}
	for _, p := range m.primitives() {
		prims[p.name] = p
	}
	for i := 0; i < 2500; i++ {
		m.appPool = append(m.appPool, m.wideFunc(m.r.intn(len(widePkgs))))
	}
	// 14 wait states.
	waits := []string{"chansend", "chanrecv1", "chanrecv2", "select", "mutex", "rlock", "wlock", "waitgroup", "cond",
		"netread", "netwrite", "fdlock", "sleep", "syscall-read", "preempt", "select-nocases",
		"chansend", "chanrecv1", "select", "select", "mutex", "waitgroup", "sleep", "chansend", "select"}
	ctxs := []int{ctxHTTP, ctxGRPC, ctxWorker, ctxSpawn, ctxSpawn, ctxSpawn}
	const nsites = 6000
	var z float64
	for i := 0; i < nsites; i++ {
		z += 1 / math.Pow(float64(i+1), 0.6)
	}
	for i := 0; i < nsites; i++ {
		weight := 1 / math.Pow(float64(i+1), 0.6) / z
		prim := prims[waits[m.r.intn(len(waits))]]
		lib := -1
		if m.r.intn(10) == 0 {
			lib = m.r.intn(6)
		}
		ctx := ctxs[m.r.intn(len(ctxs))]
		leaf := m.appPool[m.r.intn(len(m.appPool))]
		leafLine := leaf.StartLine + m.r.rangeIn(3, 200)
		m.appLines[leaf] = append(m.appLines[leaf], leafLine)
		deep := m.r.intn(25) == 0
		nv := m.r.rangeIn(1, 5)
		for v := 0; v < nv; v++ {
			sh := &Shape{Ctx: ctx, State: prim.state}
			specs := prim.specs(m)
			if lib >= 0 {
				specs = append(specs, m.wideLib(lib)...)
			}
			specs = append(specs, fs{f: leaf, line: leafLine})
			used := map[*Func]bool{leaf: true}
			nmid := m.r.intn(3) / 2
			if deep {
				nmid = m.r.rangeIn(12, 26)
				if m.r.intn(4) == 0 {
					// recursion over a tree: the same frame many times
					walk := m.appPool[m.r.intn(len(m.appPool))]
					wl := m.callLine(walk)
					for k := m.r.rangeIn(6, 14); k > 0; k-- {
						specs = append(specs, fs{f: walk, line: wl})
					}
					used[walk] = true
				}
			}
			specs = m.addApp(specs, nmid, used)
			rs, created := m.wideRootSpecs(ctx)
			specs = append(specs, rs...)
			if prim.minutes {
				sh.MinProb = 0.3
				sh.MinBase = m.r.rangeIn(1, 400)
			}
			if ctx == ctxHTTP {
				sh.Endpoint = "/api/v2/" + strings.ToLower(m.r.pick(wideNouns)) + "s/{id}/" + strings.ToLower(m.r.pick(wideVerbs))
			}
			if ctx == ctxGRPC {
				sh.Endpoint = "/northwind.fulfillment.v1.WarehouseService/" + m.r.pick(wideVerbs) + m.r.pick(wideNouns)
			}
			if ctx == ctxWorker {
				sh.Component = strings.ToLower(m.r.pick(wideNouns)) + "-" + strings.ToLower(m.r.pick(wideVerbs)) + "er"
			}
			sh.Created = m.resolve([]fs{created})[0]
			sh.Frames = m.resolve(specs)
			sh.Weight = weight / float64(nv)
			m.Shapes = append(m.Shapes, sh)
		}
	}
}
