// Command loadgen drives a service through a scripted load profile for goroscope's
// detection tests (tests/load_profile.rs). It uses the standard library only (Go 1.24+,
// for HTTP/2 without TLS), so it builds offline.
//
// It reads commands on stdin, one a line, applies each and answers "ok" (or "error: …")
// on stdout once it is applied:
//
//	clients N   keep N clients busy: each holds its own keep-alive connection and sends
//	            requests in a loop (kind-specific, see request), 5-15 ms apart at random
//	            (clients that started together and waited alike would stay in step, every
//	            request at the same stage at once: real clients do not)
//	pace MS     clients wait MS/2 to 3MS/2 ms between requests from now on (default 10)
//	hold N      keep N more connections open and idle (one request each, then nothing)
//	release     close the held connections
//	watches N   etcd only: open N more watch streams over one HTTP/2 connection (gRPC,
//	            h2c) and never close them: the leak of a client that forgets its watches
//	requests    print the number of requests answered so far
//
// Every request targets -url (loopback only); every loop stops when stdin closes.
package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

var (
	base     string
	kind     string
	answered atomic.Int64
	pace     atomic.Int64 // mean wait between a client's requests, µs
)

// request sends one request of the service's usual traffic.
func request(c *http.Client, i int) {
	var resp *http.Response
	var err error
	switch kind {
	case "etcd":
		key := base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("load/%d", i%50)))
		if i%2 == 0 {
			body := fmt.Sprintf(`{"key":%q,"value":%q}`, key, base64.StdEncoding.EncodeToString([]byte(strconv.Itoa(i))))
			resp, err = c.Post(base+"/v3/kv/put", "application/json", strings.NewReader(body))
		} else {
			resp, err = c.Post(base+"/v3/kv/range", "application/json", strings.NewReader(fmt.Sprintf(`{"key":%q}`, key)))
		}
	case "prometheus":
		paths := []string{"/api/v1/query?query=up", "/api/v1/status/buildinfo", "/api/v1/label/__name__/values", "/-/ready"}
		resp, err = c.Get(base + paths[i%len(paths)])
	case "alertmanager":
		paths := []string{"/api/v2/status", "/api/v2/alerts", "/api/v2/silences", "/-/ready"}
		resp, err = c.Get(base + paths[i%len(paths)])
	default:
		resp, err = c.Get(base + "/search?q=" + strconv.Itoa(i))
	}
	if err != nil {
		time.Sleep(20 * time.Millisecond)
		return
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	answered.Add(1)
}

func newClient() *http.Client {
	return &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 1, MaxConnsPerHost: 1, IdleConnTimeout: time.Minute},
	}
}

type busy struct {
	stop chan struct{}
	done chan struct{}
}

var (
	mu      sync.Mutex
	running []busy
	held    []*http.Client
	h2      *http.Client
)

func setClients(n int) {
	mu.Lock()
	defer mu.Unlock()
	for len(running) < n {
		b := busy{make(chan struct{}), make(chan struct{})}
		running = append(running, b)
		go func(id int) {
			defer close(b.done)
			c := newClient()
			defer c.CloseIdleConnections()
			time.Sleep(time.Duration(rand.IntN(20000)) * time.Microsecond)
			for i := id * 1000003; ; i++ {
				select {
				case <-b.stop:
					return
				default:
				}
				request(c, i)
				p := pace.Load()
				time.Sleep(time.Duration(p/2+rand.Int64N(p)) * time.Microsecond)
			}
		}(len(running))
	}
	for len(running) > n {
		b := running[len(running)-1]
		running = running[:len(running)-1]
		close(b.stop)
		<-b.done
	}
}

func hold(n int) {
	for i := 0; i < n; i++ {
		c := newClient()
		request(c, i)
		held = append(held, c)
	}
}

func release() {
	for _, c := range held {
		c.CloseIdleConnections()
	}
	held = nil
}

// grpcFrame is one length-prefixed gRPC message.
func grpcFrame(msg []byte) []byte {
	var b bytes.Buffer
	b.WriteByte(0)
	binary.Write(&b, binary.BigEndian, uint32(len(msg)))
	b.Write(msg)
	return b.Bytes()
}

// watchRequest is etcdserverpb.WatchRequest{create_request: {key: key}}, encoded by hand.
func watchRequest(key string) []byte {
	create := append([]byte{0x0a, byte(len(key))}, key...)
	return append([]byte{0x0a, byte(len(create))}, create...)
}

// watch opens one Watch stream and never closes it.
func watch(i int) error {
	if h2 == nil {
		var p http.Protocols
		p.SetUnencryptedHTTP2(true)
		h2 = &http.Client{Transport: &http.Transport{Protocols: &p}}
	}
	r, w := io.Pipe()
	req, _ := http.NewRequest("POST", base+"/etcdserverpb.Watch/Watch", r)
	req.Header.Set("Content-Type", "application/grpc")
	req.Header.Set("TE", "trailers")
	go w.Write(grpcFrame(watchRequest(fmt.Sprintf("watched/%d", i))))
	resp, err := h2.Do(req)
	if err != nil {
		return err
	}
	if resp.StatusCode != 200 {
		return fmt.Errorf("watch: HTTP %d", resp.StatusCode)
	}
	// Read the created event, then leave the stream open and unread: the forgotten watch.
	go io.Copy(io.Discard, resp.Body)
	return nil
}

var watched int

func main() {
	for i := 1; i < len(os.Args); i++ {
		switch os.Args[i] {
		case "-url":
			i++
			base = os.Args[i]
		case "-kind":
			i++
			kind = os.Args[i]
		}
	}
	if !strings.HasPrefix(base, "http://127.0.0.1:") {
		fmt.Fprintln(os.Stderr, "loadgen: -url must be http://127.0.0.1:PORT (loopback only)")
		os.Exit(2)
	}
	pace.Store(10000)
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		f := strings.Fields(in.Text())
		if len(f) == 0 {
			continue
		}
		n := 0
		if len(f) > 1 {
			n, _ = strconv.Atoi(f[1])
		}
		var err error
		switch f[0] {
		case "clients":
			setClients(n)
		case "hold":
			hold(n)
		case "release":
			release()
		case "pace":
			if n < 1 {
				err = fmt.Errorf("pace wants a number of ms")
			} else {
				pace.Store(int64(n) * 1000)
			}
		case "watches":
			for i := 0; i < n && err == nil; i++ {
				err = watch(watched)
				watched++
			}
		case "requests":
			fmt.Println(answered.Load())
			continue
		default:
			err = fmt.Errorf("unknown command %q", f[0])
		}
		if err != nil {
			fmt.Println("error:", err)
		} else {
			fmt.Println("ok")
		}
	}
	setClients(0)
}
