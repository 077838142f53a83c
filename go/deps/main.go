// Command deps is a service with a real third-party dependency (golang.org/x/sync) and
// idle standard-library connections, to produce real dumps for goroscope's tests of the
// blocking site: the program's own frames against its dependencies', and the role of a
// goroutine that runs library code only.
//
// Four callers in the program wait for one golang.org/x/sync/semaphore that is never
// released; each registers itself (internal/track) right before it blocks, so /stats
// holds the ground truth: function, file, line, wait reason, count. At start it also
// opens idle connections whose goroutines run library code only: net/rpc clients,
// HTTP/1.1 keep-alive client connections and an HTTP/2 client connection, all to
// servers of its own on 127.0.0.1; /stats counts them.
//
// On start it prints one line to stdout, "listening on http://127.0.0.1:PORT".
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof/* on http.DefaultServeMux
	"net/rpc"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"example.com/deps/internal/track"
	"example.com/deps/internal/work"
	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/semaphore"
)

var (
	userSite    = track.New("sem_user", "select", true)
	orderSite   = track.New("sem_order", "select", true)
	mailSite    = track.New("sem_mail", "select", true)
	groupSite   = track.New("errgroup_worker", "chan receive", true)
	waiterSite  = track.New("errgroup_wait", "semacquire", true)
	acceptSite  = track.New("accept_loop", "IO wait", false)
	sem         = semaphore.NewWeighted(1)
	connections = map[string]int{}
	// The idle clients, kept reachable so their connections stay open.
	clients []any
)

func init() {
	// Go 1.24 names the WaitGroup wait; 1.21-1.23 print semacquire.
	for _, old := range []string{"go1.21", "go1.22", "go1.23"} {
		if strings.HasPrefix(runtime.Version(), old) {
			return
		}
	}
	waiterSite.State = "sync.WaitGroup.Wait"
}

// Four callers of one semaphore: one wait inside golang.org/x/sync, four places in the
// program that are leaking.
func fetchUser(ready *sync.WaitGroup) {
	_ = sem.Acquire(track.At(userSite, ready, context.Background()), 1)
}

func fetchOrder(ready *sync.WaitGroup) {
	_ = sem.Acquire(track.At(orderSite, ready, context.Background()), 1)
}

type mailer struct{}

func (mailer) send(ready *sync.WaitGroup) {
	_ = sem.Acquire(track.At(mailSite, ready, context.Background()), 1)
}

// fanOut runs one worker through errgroup that never returns, and waits for it: the
// worker is started by the library (errgroup.(*Group).Go.func1) and the waiter waits
// inside it (errgroup.(*Group).Wait), but both block in the program's code.
func fanOut(ready *sync.WaitGroup) {
	var g errgroup.Group
	never := make(chan struct{})
	g.Go(func() error {
		<-track.At(groupSite, ready, never)
		return nil
	})
	_ = track.At(waiterSite, ready, &g).Wait()
}

// leakSem starts n goroutines at the first caller, 2n at the second, 3n at the third
// and 4n at the fourth, so each caller's group has a count of its own.
func leakSem(n int, ready *sync.WaitGroup) {
	ready.Add(10 * n)
	for i := 0; i < n; i++ {
		go fetchUser(ready)
	}
	for i := 0; i < 2*n; i++ {
		go fetchOrder(ready)
	}
	for i := 0; i < 3*n; i++ {
		go mailer{}.send(ready)
	}
	for i := 0; i < 4*n; i++ {
		go work.Resize(sem, ready)
	}
}

func leakErrgroup(n int, ready *sync.WaitGroup) {
	ready.Add(2 * n)
	for i := 0; i < n; i++ {
		go fanOut(ready)
	}
}

func leakHandler(leak func(int, *sync.WaitGroup)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(r.URL.Query().Get("n"))
		if err != nil || n < 1 {
			n = 1
		}
		var ready sync.WaitGroup
		leak(min(n, 100), &ready)
		ready.Wait()
		time.Sleep(20 * time.Millisecond) // from registered to parked
		fmt.Fprintln(w, "ok")
	}
}

// Arith is the net/rpc service.
type Arith struct{}

func (Arith) Add(args [2]int, sum *int) error {
	*sum = args[0] + args[1]
	return nil
}

// openRPC serves net/rpc on a listener of its own and keeps n idle clients.
func openRPC(n int) []*rpc.Client {
	srv := rpc.NewServer()
	if err := srv.Register(Arith{}); err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go srv.Accept(ln)
	var clients []*rpc.Client
	for i := 0; i < n; i++ {
		c, err := rpc.Dial("tcp", ln.Addr().String())
		if err != nil {
			log.Fatal(err)
		}
		var sum int
		if err := c.Call("Arith.Add", [2]int{i, 1}, &sum); err != nil {
			log.Fatal(err)
		}
		clients = append(clients, c)
	}
	return clients
}

// openHTTP1 leaves n idle keep-alive connections to the service itself.
func openHTTP1(base string, n int) *http.Client {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n, IdleConnTimeout: time.Hour}}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() { // concurrent, so that each request gets its own connection
			defer wg.Done()
			<-start
			resp, err := client.Get(base + "/slow")
			if err != nil {
				log.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}()
	}
	close(start)
	wg.Wait()
	return client
}

// openHTTP2 serves HTTPS with HTTP/2 (a throwaway self-signed certificate) and keeps one
// idle HTTP/2 client connection to it.
func openHTTP2() *http.Client {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		log.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, r.Proto)
	})}
	cfg := &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	srv.TLSConfig = cfg
	go srv.ServeTLS(ln, "", "")
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	client := &http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true, IdleConnTimeout: time.Hour,
	}}
	resp, err := client.Get("https://" + ln.Addr().String() + "/")
	if err != nil {
		log.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "HTTP/2.0\n" {
		log.Fatalf("HTTP/2 expected, got %q", body)
	}
	return client
}

func handleStats(w http.ResponseWriter, r *http.Request) {
	st := struct {
		GoVersion    string                `json:"go_version"`
		NumGoroutine int                   `json:"num_goroutine"`
		Sites        map[string]track.Site `json:"sites"`
		Connections  map[string]int        `json:"connections"`
	}{runtime.Version(), runtime.NumGoroutine(), track.Snapshot(), connections}
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(st)
}

func main() {
	// The semaphore's one slot is taken for good: every later Acquire waits.
	if err := sem.Acquire(context.Background(), 1); err != nil {
		log.Fatal(err)
	}
	http.Handle("/leak/sem", leakHandler(leakSem))
	http.Handle("/leak/errgroup", leakHandler(leakErrgroup))
	http.HandleFunc("/stats", handleStats)
	http.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(50 * time.Millisecond) // the requests overlap, so each has a connection
		fmt.Fprintln(w, "ok")
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{}
	go func() {
		err := track.At(acceptSite, nil, srv).Serve(ln) // parks in Accept here
		if !errors.Is(err, http.ErrServerClosed) {
			log.Fatal(err)
		}
	}()
	base := "http://" + ln.Addr().String()
	clients = []any{openRPC(2), openHTTP1(base, 3), openHTTP2()}
	connections["rpc_client"] = 2
	connections["http1_client"] = 3
	connections["http2_client"] = 1
	fmt.Println("listening on " + base)
	select {} // main waits for ever; the connections stay open
}
