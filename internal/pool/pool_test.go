package pool

import (
	"context"
	"runtime"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRun(t *testing.T) {
	for _, tc := range []struct {
		name       string
		workers, n int
		// cancelAt, when set, ends the context at that virtual time.
		cancelAt time.Duration
		// Every job takes a second of virtual time, so the time Run takes
		// says how many ran at once.
		wantStarted []int
		wantAtOnce  int
		wantTook    time.Duration
	}{
		{name: "no jobs", workers: 4, n: 0, wantStarted: nil, wantAtOnce: 0, wantTook: 0},
		{name: "one worker runs them one by one", workers: 1, n: 3, wantStarted: []int{0, 1, 2}, wantAtOnce: 1, wantTook: 3 * time.Second},
		{name: "workers at a time", workers: 3, n: 7, wantStarted: []int{0, 1, 2, 3, 4, 5, 6}, wantAtOnce: 3, wantTook: 3 * time.Second},
		{name: "no more workers than jobs", workers: 8, n: 2, wantStarted: []int{0, 1}, wantAtOnce: 2, wantTook: time.Second},
		{name: "ended context starts nothing", workers: 2, n: 5, cancelAt: -1, wantStarted: nil, wantAtOnce: 0, wantTook: 0},
		{name: "context ending mid-way keeps what started", workers: 2, n: 9, cancelAt: 1500 * time.Millisecond,
			wantStarted: []int{0, 1, 2, 3}, wantAtOnce: 2, wantTook: 2 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				switch {
				case tc.cancelAt < 0:
					cancel()
				case tc.cancelAt > 0:
					time.AfterFunc(tc.cancelAt, cancel)
				}
				var mu sync.Mutex
				var started []int
				running, atOnce := 0, 0
				begin := time.Now()
				Run(ctx, tc.workers, tc.n, func(i int) {
					mu.Lock()
					started = append(started, i)
					running++
					atOnce = max(atOnce, running)
					mu.Unlock()
					time.Sleep(time.Second)
					mu.Lock()
					running--
					mu.Unlock()
				})
				took := time.Since(begin)
				require.Zero(t, running, "Run returned before its jobs did")
				slices.Sort(started)
				require.Equal(t, tc.wantStarted, started)
				require.Equal(t, tc.wantAtOnce, atOnce)
				require.Equal(t, tc.wantTook, took)
			})
		})
	}
}

// TestRunStartsInIndexOrder: with one worker the jobs run exactly in index
// order, which is what lets a caller print results as they come.
func TestRunStartsInIndexOrder(t *testing.T) {
	var order []int
	Run(context.Background(), 1, 5, func(i int) { order = append(order, i) })
	require.Equal(t, []int{0, 1, 2, 3, 4}, order)
}

func TestSize(t *testing.T) {
	for _, tc := range []struct{ workers, want int }{
		{3, 3},
		{1, 1},
		{0, runtime.GOMAXPROCS(0)},
		{-2, runtime.GOMAXPROCS(0)},
	} {
		require.Equal(t, tc.want, Size(tc.workers), "Size(%d)", tc.workers)
	}
}
