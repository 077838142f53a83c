// Package track is the ground truth of the deps service: each goroutine that blocks at a
// known place registers itself right before it blocks, from inside the blocking
// statement, with the function, file and line the runtime reports for its caller.
package track

import (
	"runtime"
	"sync"
)

// Site is one place where goroutines block, and the ground truth about it.
type Site struct {
	Leak     bool   `json:"leak"`
	State    string `json:"state"`    // wait reason the runtime prints
	Function string `json:"function"` // the blocking frame of the program's own code
	File     string `json:"file"`
	Line     int    `json:"line"`
	Count    int    `json:"count"`
}

var (
	mu    sync.Mutex
	sites = map[string]*Site{}
)

// New declares a site under the name used as key in /stats.
func New(name, state string, leak bool) *Site {
	s := &Site{State: state, Leak: leak}
	sites[name] = s
	return s
}

// At registers the calling goroutine at s, tells ready (if any) and returns v unchanged:
// `sem.Acquire(track.At(s, ready, ctx), 1)`. The function, file and line are the
// caller's, from the runtime.
func At[T any](s *Site, ready *sync.WaitGroup, v T) T {
	var pcs [1]uintptr
	runtime.Callers(2, pcs[:]) // skip runtime.Callers and At
	f, _ := runtime.CallersFrames(pcs[:]).Next()
	mu.Lock()
	s.Function, s.File, s.Line = f.Function, f.File, f.Line
	s.Count++
	mu.Unlock()
	if ready != nil {
		ready.Done()
	}
	return v
}

// Snapshot copies the sites that have goroutines.
func Snapshot() map[string]Site {
	mu.Lock()
	defer mu.Unlock()
	out := map[string]Site{}
	for name, s := range sites {
		if s.Count > 0 {
			out[name] = *s
		}
	}
	return out
}
