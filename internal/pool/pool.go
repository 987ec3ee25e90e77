// Package pool owns running a batch of independent jobs a bounded number at
// a time, as simrun's sweeps and the scoreboard do with their seeds: how
// many run at once, that they are started in index order, and that none is
// started once the caller's context has ended. What a job produces, and in
// what order it is reported, stays with the caller, who keeps results by
// index; so the output never depends on how many workers there were or
// which job ended first.
package pool

import (
	"context"
	"runtime"
	"sync"
)

// Size is the number of workers that workers asks for: workers itself, or
// one per CPU the Go scheduler uses (GOMAXPROCS) for 0 or less.
func Size(workers int) int {
	if workers > 0 {
		return workers
	}
	return runtime.GOMAXPROCS(0)
}

// Run calls job(i) for every i from 0 to n-1, at most workers (Size) at a
// time, starting them in increasing order of i, and returns once every job
// it started has returned. Once ctx ends it starts no more jobs; a job that
// is running is not stopped, it is up to the job to watch ctx.
func Run(ctx context.Context, workers, n int, job func(i int)) {
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(Size(workers), n) {
		wg.Go(func() {
			for i := range next {
				job(i)
			}
		})
	}
	defer wg.Wait()
	defer close(next)
	for i := range n {
		// Checked first: a select with a free worker and an ended ctx picks
		// either at random.
		if ctx.Err() != nil {
			return
		}
		select {
		case next <- i:
		case <-ctx.Done():
			return
		}
	}
}
