// Command leaky is a deliberately leaky HTTP service. It exists to produce real
// goroutine dumps and profiles, with known ground truth, for goroscope's tests.
// It uses the standard library only, so it builds offline with any Go from 1.21 on.
//
// Every goroutine that blocks at a known place registers itself right before it
// blocks, from inside the blocking statement (see at), and /stats reports those
// registrations: for each site the function, file and line that the runtime reports
// for the goroutine's first frame in package main, how many goroutines are there and
// the wait reason the runtime should print in a dump.
//
// On start it prints exactly one line to stdout, "listening on http://127.0.0.1:PORT"
// (or https://..., or unix:PATH). Everything else goes to stderr.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof/* on http.DefaultServeMux
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// site is one place where goroutines block, and the ground truth about it.
type site struct {
	Endpoint string `json:"endpoint,omitempty"` // the request that makes goroutines block here
	Leak     bool   `json:"leak"`               // false for steady-state goroutines
	State    string `json:"state"`              // wait reason the runtime prints, e.g. "chan send"
	Function string `json:"function"`           // first frame in package main, as the runtime names it
	File     string `json:"file"`
	Line     int    `json:"line"`
	Count    int    `json:"count"` // goroutines that registered here (they never leave)
}

var (
	regMu sync.Mutex
	sites = map[string]*site{}
)

// waitGroupState is the wait reason of a goroutine in sync.WaitGroup.Wait: Go 1.21
// printed the generic "semacquire", later versions name it.
func waitGroupState() string {
	if strings.HasPrefix(runtime.Version(), "go1.21") {
		return "semacquire"
	}
	return "sync.WaitGroup.Wait"
}

// newSite declares a site under the name used as key in /stats.
func newSite(name, endpoint, state string, leak bool) *site {
	s := &site{Endpoint: endpoint, State: state, Leak: leak}
	sites[name] = s
	return s
}

var (
	senderSite     = newSite("forgotten_sender", "/leak/sender", "chan send", true)
	receiverSite   = newSite("forgotten_receiver", "/leak/receiver", "chan receive", true)
	holderSite     = newSite("mutex_holder", "/leak/mutex", "chan receive", true)
	mutexSite      = newSite("mutex_waiter", "/leak/mutex", "sync.Mutex.Lock", true)
	selectSite     = newSite("select_nobody", "/leak/select", "select", true)
	waitGroupSite  = newSite("waitgroup_missing_done", "/leak/waitgroup", waitGroupState(), true)
	nilChanSite    = newSite("nil_chan_send", "/leak/nilchan", "chan send (nil chan)", true)
	labeledSite    = newSite("labeled", "/leak/labeled", "chan receive", true)
	workerPoolSite = newSite("worker_pool", "", "chan receive", false)
	tickerSite     = newSite("ticker_loop", "", "chan receive", false)
	acceptSite     = newSite("accept_loop", "", "IO wait", false)
)

// at registers the calling goroutine at site s, blocking at the statement on the
// caller's line plus off, tells ready (if any), and returns v unchanged. It is meant to
// sit inside the blocking statement itself, so that the line it records is the line
// the runtime shows for the blocked goroutine: `ch <- at(s, 0, ready, v)`.
// The function, file and line come from the runtime, never from constants.
func at[T any](s *site, off int, ready *sync.WaitGroup, v T) T {
	var pcs [1]uintptr
	// Skip runtime.Callers and at itself: pcs[0] is in at's caller (inlining is
	// resolved by CallersFrames).
	runtime.Callers(2, pcs[:])
	f, _ := runtime.CallersFrames(pcs[:]).Next()
	regMu.Lock()
	s.Function, s.File, s.Line = f.Function, f.File, f.Line+off
	s.Count++
	regMu.Unlock()
	if ready != nil {
		ready.Done()
	}
	return v
}

// parked returns once every goroutine registered at a leak site is parked in the wait
// the site declares, as the runtime's own goroutine dump shows it: a goroutine that
// registered is a few instructions away from parking, and on a busy machine those
// instructions can wait long for a CPU. /stats then describes exactly what a profile
// taken afterwards holds. It gives up after 10 s (a test then reports the mismatch).
func parked() {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		if allParked() {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// allParked reads a debug=2 dump of this process: for each leak site, the goroutines
// whose header names the site's wait and whose stack passes through its file:line.
func allParked() bool {
	var buf strings.Builder
	if err := pprof.Lookup("goroutine").WriteTo(&buf, 2); err != nil {
		return false
	}
	regMu.Lock()
	defer regMu.Unlock()
	for _, s := range sites {
		if !s.Leak || s.Count == 0 {
			continue
		}
		// A frame line: "\t/src/main.go:137 +0x3d", or without the offset when inlined.
		at := fmt.Sprintf("\t%s:%d", s.File, s.Line)
		n := 0
		for _, g := range strings.Split(buf.String(), "\n\n") {
			// goroutine 7 [chan send, 2 minutes]:  (the state ends at "," or "]")
			_, rest, ok := strings.Cut(g, "[")
			state, _, _ := strings.Cut(rest, "]")
			state, _, _ = strings.Cut(state, ", ")
			if ok && state == s.State && (strings.Contains(g+"\n", at+" ") || strings.Contains(g+"\n", at+"\n")) {
				n++
			}
		}
		if n < s.Count {
			return false
		}
	}
	return true
}

// count reads ?n=N: how many goroutines to leak in this request (default 1).
func count(r *http.Request) int {
	n, err := strconv.Atoi(r.URL.Query().Get("n"))
	if err != nil || n < 1 {
		return 1
	}
	return min(n, 1000)
}

// leakHandler runs leak(n, ready), which must start n goroutines that each call
// ready.Done() (through at) right before they block, plus extra for helpers; it answers
// only once all of them registered, so /stats is stable as soon as the reply arrives.
func leakHandler(name string, extra int, leak func(r *http.Request, n int, ready *sync.WaitGroup)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		n := count(r)
		var ready sync.WaitGroup
		ready.Add(n + extra)
		leak(r, n, &ready)
		ready.Wait()
		parked()
		fmt.Fprintf(w, "leaked %d at %s\n", n, name)
	}
}

// slowLookup is the forgotten sender: the worker sends its result on an unbuffered
// channel, but the caller stops listening when its timeout fires first. The worker then
// blocks forever on the send, long after the caller returned.
func slowLookup(ctx context.Context, ready *sync.WaitGroup) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	ch := make(chan int)
	go func() {
		time.Sleep(30 * time.Millisecond) // the "slow backend", slower than the timeout
		ch <- at(senderSite, 0, ready, 42)
	}()
	select {
	case v := <-ch:
		return v, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

func leakSender(r *http.Request, n int, ready *sync.WaitGroup) {
	for i := 0; i < n; i++ {
		if _, err := slowLookup(r.Context(), ready); err == nil {
			log.Printf("unexpected: lookup beat its timeout")
		}
	}
}

// startConsumer is the forgotten receiver: it waits for a value that the producer,
// having given up early, never sends.
func startConsumer(ready *sync.WaitGroup) chan<- int {
	ch := make(chan int)
	go func() {
		v := <-at(receiverSite, 0, ready, ch)
		log.Printf("consumed %d", v)
	}()
	return ch
}

func leakReceiver(r *http.Request, n int, ready *sync.WaitGroup) {
	for i := 0; i < n; i++ {
		_ = startConsumer(ready) // bug: returns before producing anything
	}
}

// leakMutex starts one holder that takes a mutex and then waits forever for a reply,
// and n goroutines queued on that mutex behind it.
func leakMutex(r *http.Request, n int, ready *sync.WaitGroup) {
	var mu sync.Mutex
	locked := make(chan struct{})
	go func() {
		mu.Lock()
		close(locked)
		<-at(holderSite, 0, ready, make(chan struct{})) // reply that never comes
		mu.Unlock()
	}()
	<-locked
	for i := 0; i < n; i++ {
		go func() {
			at(mutexSite, 0, ready, &mu).Lock()
			defer mu.Unlock()
		}()
	}
}

// leakSelect: each goroutine selects over channels that nobody else holds.
func leakSelect(r *http.Request, n int, ready *sync.WaitGroup) {
	for i := 0; i < n; i++ {
		go func() {
			results, errs := make(chan int), make(chan error)
			at(selectSite, 1, ready, 0) // the select on the next line blocks
			select {
			case v := <-results:
				log.Printf("result %d", v)
			case err := <-errs:
				log.Printf("error %v", err)
			}
		}()
	}
}

// leakWaitGroup: each goroutine waits for three helpers, one of which returns early
// without calling Done.
func leakWaitGroup(r *http.Request, n int, ready *sync.WaitGroup) {
	for i := 0; i < n; i++ {
		go func() {
			var wg sync.WaitGroup
			for j := 0; j < 3; j++ {
				wg.Add(1)
				go func(j int) {
					if j == 2 {
						return // bug: this path skips wg.Done
					}
					defer wg.Done()
				}(j)
			}
			at(waitGroupSite, 0, ready, &wg).Wait()
		}()
	}
}

// leakNilChan: each goroutine sends on a channel that was never made.
func leakNilChan(r *http.Request, n int, ready *sync.WaitGroup) {
	for i := 0; i < n; i++ {
		go func() {
			var results chan int // bug: never made, so nil
			at(nilChanSite, 0, ready, results) <- 1
		}()
	}
}

// leakLabeled: each goroutine blocks inside pprof.Do with labels tenant (from
// ?tenant=, default acme) and endpoint, so the labels show in profiles and dumps.
func leakLabeled(r *http.Request, n int, ready *sync.WaitGroup) {
	tenant := r.URL.Query().Get("tenant")
	if tenant == "" {
		tenant = "acme"
	}
	for i := 0; i < n; i++ {
		go func() {
			labels := pprof.Labels("tenant", tenant, "endpoint", "/leak/labeled")
			pprof.Do(context.Background(), labels, func(ctx context.Context) {
				<-at(labeledSite, 0, ready, make(chan struct{})) // subscription never fed
			})
		}()
	}
}

// Steady state that must not look like a leak: a fixed pool of workers fed by a
// ticker, started once at startup.
var (
	jobs  = make(chan func())
	ticks atomic.Int64
)

func startSteady(workers int, every time.Duration) {
	var ready sync.WaitGroup
	ready.Add(workers + 1)
	for i := 0; i < workers; i++ {
		go func() {
			for job := range at(workerPoolSite, 0, &ready, jobs) {
				job()
			}
		}()
	}
	go func() {
		t := time.NewTicker(every)
		for range at(tickerSite, 0, &ready, t.C) {
			select {
			case jobs <- func() { ticks.Add(1) }:
			default:
			}
		}
	}()
	ready.Wait()
}

// Traffic that must not look like a leak, for the load tests: /search answers after
// asking three shards at once (each a goroutine that sends its answer on an unbuffered
// channel the handler drains one by one, so some are always caught in "chan send") and
// waiting for them in a select. Goroutines in flight follow the number of clients and
// how long each search takes (/search/wait?ms=N: a slower backend).
// With -leak-every N, one search in N also asks a suggestion backend that answers after
// the caller gave up: the forgotten sender, one leaked goroutine per N searches.
var (
	searches   atomic.Int64
	leakEvery  int64
	searchWait atomic.Int64 // how long rendering takes, ns: /search/wait?ms=N sets it
)

func fetchShard(i int, out chan<- int) {
	time.Sleep(time.Duration(5+5*i) * time.Millisecond) // the shard's latency
	out <- i
}

func lookupSuggestion(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Millisecond)
	defer cancel()
	ch := make(chan string) // bug: unbuffered, and nobody reads it after the timeout
	go func() {
		time.Sleep(20 * time.Millisecond)
		ch <- "suggestion"
	}()
	select {
	case s := <-ch:
		return s
	case <-ctx.Done():
		return ""
	}
}

func handleSearch(w http.ResponseWriter, r *http.Request) {
	n := searches.Add(1)
	results := make(chan int)
	for i := 0; i < 3; i++ {
		go fetchShard(i, results)
	}
	got := 0
	timeout := time.After(time.Second)
	for got < 3 {
		select {
		case <-results:
			got++
			time.Sleep(3 * time.Millisecond) // merging the shard's answer
		case <-timeout:
			http.Error(w, "shards timed out", http.StatusGatewayTimeout)
			return
		}
	}
	if leakEvery > 0 && n%leakEvery == 0 {
		lookupSuggestion(r.Context())
	}
	time.Sleep(time.Duration(searchWait.Load())) // rendering
	fmt.Fprintf(w, "search %d: %d shards\n", n, got)
}

type stats struct {
	GoVersion    string           `json:"go_version"`
	NumGoroutine int              `json:"num_goroutine"`
	Leaked       int              `json:"leaked"` // sum of counts over leak sites
	Sites        map[string]*site `json:"sites"`  // only sites with count > 0
}

func handleStats(w http.ResponseWriter, r *http.Request) {
	regMu.Lock()
	st := stats{GoVersion: runtime.Version(), NumGoroutine: runtime.NumGoroutine(), Sites: map[string]*site{}}
	for name, s := range sites {
		if s.Count > 0 {
			c := *s
			st.Sites[name] = &c
			if s.Leak {
				st.Leaked += s.Count
			}
		}
	}
	regMu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(st) // map keys are sorted by encoding/json
}

// crash panics in a fresh goroutine: an unrecovered panic kills the process and, with
// GOTRACEBACK=all, prints every goroutine.
func crash(why string) {
	go func() {
		panic("leaky: deliberate crash: " + why)
	}()
}

// withAuth checks the bearer token and basic credentials when set (either is enough)
// and logs requests when asked to.
func withAuth(token, basic string, logRequests bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ok := token == "" && basic == ""
		if token != "" && r.Header.Get("Authorization") == "Bearer "+token {
			ok = true
		}
		if user, pass, found := strings.Cut(basic, ":"); basic != "" && found {
			u, p, given := r.BasicAuth()
			ok = ok || given && u == user && p == pass
		}
		if !ok {
			if basic != "" {
				w.Header().Set("WWW-Authenticate", `Basic realm="leaky"`)
			} else {
				w.Header().Set("WWW-Authenticate", "Bearer")
			}
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			if logRequests {
				log.Printf("%s %s 401", r.Method, r.URL.RequestURI())
			}
			return
		}
		start := time.Now()
		next.ServeHTTP(w, r)
		if logRequests {
			log.Printf("%s %s %s", r.Method, r.URL.RequestURI(), time.Since(start).Round(time.Millisecond))
		}
	})
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "TCP address to listen on")
	unixPath := flag.String("unix", "", "listen on this Unix socket instead of TCP")
	useTLS := flag.Bool("tls", false, "serve HTTPS with a certificate generated at startup")
	certOut := flag.String("cert-out", "", "with -tls: write the CA certificate (PEM) that signed the server certificate here")
	clientCA := flag.Bool("client-ca", false, "with -tls: require client certificates signed by a CA generated at startup (mTLS)")
	clientCertOut := flag.String("client-cert-out", "", "with -client-ca: write a client certificate (PEM) here")
	clientKeyOut := flag.String("client-key-out", "", "with -client-ca: write the client's private key (PKCS#8 PEM) here")
	token := flag.String("token", "", "require Authorization: Bearer TOKEN")
	basic := flag.String("basic", "", "require HTTP basic auth USER:PASS (either this or -token is enough)")
	crashAfter := flag.Duration("crash-after", 0, "panic in a goroutine after this long (0: never)")
	workers := flag.Int("workers", 4, "size of the steady worker pool")
	tick := flag.Duration("tick", 2*time.Second, "period of the steady ticker loop")
	logRequests := flag.Bool("log-requests", false, "log each request to stderr")
	flag.Int64Var(&leakEvery, "leak-every", 0, "with N > 0, one /search in N leaks a goroutine (a forgotten sender)")
	flag.Parse()
	if *basic != "" && !strings.Contains(*basic, ":") {
		log.Fatal("-basic wants USER:PASS")
	}
	if *useTLS && *unixPath != "" {
		log.Fatal("-tls and -unix do not go together")
	}
	if *clientCA && !*useTLS {
		log.Fatal("-client-ca needs -tls")
	}

	startSteady(*workers, *tick)
	leaks := map[string]func(*http.Request, int, *sync.WaitGroup){
		"sender": leakSender, "receiver": leakReceiver, "select": leakSelect,
		"waitgroup": leakWaitGroup, "nilchan": leakNilChan, "labeled": leakLabeled,
	}
	names := make([]string, 0, len(leaks))
	for name := range leaks {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		http.Handle("/leak/"+name, leakHandler(name, 0, leaks[name]))
	}
	http.Handle("/leak/mutex", leakHandler("mutex", 1, leakMutex)) // +1: the holder
	http.HandleFunc("/stats", handleStats)
	http.HandleFunc("/search", handleSearch)
	searchWait.Store(int64(30 * time.Millisecond))
	// A slower backend: every search takes longer from now on.
	http.HandleFunc("/search/wait", func(w http.ResponseWriter, r *http.Request) {
		ms, err := strconv.Atoi(r.URL.Query().Get("ms"))
		if err != nil || ms < 0 || ms > 10000 {
			http.Error(w, "want ?ms=N, 0 to 10000", http.StatusBadRequest)
			return
		}
		searchWait.Store(int64(ms) * int64(time.Millisecond))
		fmt.Fprintf(w, "rendering takes %d ms\n", ms)
	})
	http.HandleFunc("/panic", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(100 * time.Millisecond) // let the accept loop park again first
		crash("GET /panic")
		time.Sleep(time.Minute) // the process dies before this returns
	})
	if *crashAfter > 0 {
		time.AfterFunc(*crashAfter, func() { crash("-crash-after " + crashAfter.String()) })
	}

	var ln net.Listener
	var err error
	var url string
	if *unixPath != "" {
		os.Remove(*unixPath) // a stale socket from an earlier run
		ln, err = net.Listen("unix", *unixPath)
		url = "unix:" + *unixPath
	} else {
		ln, err = net.Listen("tcp", *addr)
		url = "http://"
		if *useTLS {
			url = "https://"
		}
		if ln != nil {
			url += ln.Addr().String()
		}
	}
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: withAuth(*token, *basic, *logRequests, http.DefaultServeMux)}
	if *useTLS {
		cfg, err := newTLSConfig(*certOut, *clientCA, *clientCertOut, *clientKeyOut)
		if err != nil {
			log.Fatal(err)
		}
		srv.TLSConfig = cfg
		ln = newTLSListener(ln, cfg)
	}
	if *logRequests {
		log.Printf("leaky %s pid %d: %s", runtime.Version(), os.Getpid(), url)
	}
	fmt.Println("listening on " + url) // os.Stdout is unbuffered: no flush needed

	err = at(acceptSite, 0, nil, srv).Serve(ln) // main parks in Accept here
	if !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}
