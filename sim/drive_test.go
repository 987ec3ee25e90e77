//go:build synctests

package sim

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/eosim/eosim/engine"
)

// TestUntilDoneReportsAStuckCall: a call into an instance that never
// returns ends in ErrStuck after StuckAfter of virtual time, instead of
// letting virtual time run on forever.
func TestUntilDoneReportsAStuckCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := &world{flooded: make(chan *engine.Instance, 1)}
		release := make(chan struct{})
		start := time.Now()
		err := w.untilDone("a", "its start", func() error { <-release; return nil })
		require.ErrorIs(t, err, ErrStuck)
		require.ErrorContains(t, err, "its start of instance a has not returned after 10m0s of virtual time")
		require.Equal(t, StuckAfter, time.Since(start))
		close(release)
	})
}
