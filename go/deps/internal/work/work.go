// Package work is a package of the program's own besides main: its frames are the
// program's code too, which the paths of a build without -trimpath must show.
package work

import (
	"context"
	"sync"

	"example.com/deps/internal/track"
	"golang.org/x/sync/semaphore"
)

var resizeSite = track.New("sem_resize", "select", true)

// Resize waits for a slot of the shared semaphore, which is never freed.
func Resize(sem *semaphore.Weighted, ready *sync.WaitGroup) {
	_ = sem.Acquire(track.At(resizeSite, ready, context.Background()), 1)
}
