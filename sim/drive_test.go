//go:build synctests

package sim

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/eosim/eosim/invariants"
)

// TestUntilDoneReportsAStuckCall: a call into an instance that never
// returns ends in ErrStuck after StuckAfter of virtual time, instead of
// letting virtual time run on forever.
func TestUntilDoneReportsAStuckCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := &world{held: make(chan struct{}, 1)}
		release := make(chan struct{})
		start := time.Now()
		err := w.untilDone("a", "its start", func() error { <-release; return nil })
		require.ErrorIs(t, err, ErrStuck)
		require.ErrorContains(t, err, "its start of instance a has not returned after 10m0s of virtual time")
		require.Equal(t, StuckAfter, time.Since(start))
		close(release)
	})
}

// TestWallTimeLimitEndsARunStuck: Run looks at its context, which may come
// from outside the bubble, without waiting on it; a deadline that has
// passed ends the run with the verdict stuck, its History up to there and a
// note saying what the driver was doing, and every goroutine of the run
// exits. A cancellation ends it with ErrInterrupted.
func TestWallTimeLimitEndsARunStuck(t *testing.T) {
	defer goleak.VerifyNone(t)
	expired, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	var res Result
	synctest.Test(t, func(t *testing.T) {
		var err error
		res, err = Run(expired, DefaultConfig())
		require.NoError(t, err)
	})
	require.Equal(t, invariants.Stuck, res.Verdict())
	require.Contains(t, res.Stuck, "the wall-time limit passed while at step 0")
	require.NotEmpty(t, res.History.Events)
	last := res.History.Events[len(res.History.Events)-1]
	require.Equal(t, "stuck: "+res.Stuck, last.Detail)
	require.Equal(t, res.History.Hash(), res.Hash)

	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	synctest.Test(t, func(t *testing.T) {
		_, err := Run(canceled, DefaultConfig())
		require.ErrorIs(t, err, ErrInterrupted)
		require.ErrorIs(t, err, context.Canceled)
	})
}
