//go:build synctests

//go:debug randseednop=0

package sim

import (
	"context"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/eosim/eosim/engine"
	"github.com/eosim/eosim/faults"
	"github.com/eosim/eosim/history"
	"github.com/eosim/eosim/invariants"
)

func runInBubble(t *testing.T, cfg Config) Result {
	t.Helper()
	var res Result
	synctest.Test(t, func(t *testing.T) {
		var err error
		res, err = Run(context.Background(), cfg)
		require.NoError(t, err)
	})
	return res
}

func TestDefaultRunPasses(t *testing.T) {
	defer goleak.VerifyNone(t)
	res := runInBubble(t, DefaultConfig())
	t.Logf("stats %+v hash %s faults %d", res.Stats, res.Hash, len(res.Schedule.Faults))
	for _, a := range res.Report.Anomalies[:min(5, len(res.Report.Anomalies))] {
		t.Logf("%s: %s", a.Kind, a.Summary)
	}
	require.True(t, res.Complete)
	require.Equal(t, invariants.Pass, res.Verdict())
	require.Positive(t, res.Stats.Crashes)
}

func TestAtLeastOnceIsCaught(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Guarantee = engine.AtLeastOnce
	res := runInBubble(t, cfg)
	t.Logf("stats %+v kinds %v", res.Stats, res.Report.Kinds())
	require.Equal(t, invariants.Fail, res.Verdict())
}

// TestRunStopsEveryInstanceAtOneInstant: a run ends by stopping every
// instance at one virtual instant, before any client closes. Closing a kgo
// client takes a millisecond or none (whether it still has a fetch session
// to close depends on its goroutines), so an instance stopped after another
// closed would record its stop at a scheduling-dependent time.
func TestRunStopsEveryInstanceAtOneInstant(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Rates = faults.Rates{}
	cfg.Instances = 3
	res := runInBubble(t, cfg)
	events := res.History.Events
	var stops []history.Event
	for i := len(events) - 1; i >= 0 && events[i].Kind == history.KindStop; i-- {
		stops = append(stops, events[i])
	}
	require.Len(t, stops, cfg.Instances, "the History does not end with a stop per instance")
	for _, ev := range stops {
		require.Equal(t, stops[0].T, ev.T, "%s stopped at %v, %s at %v", ev.Instance, ev.T, stops[0].Instance, stops[0].T)
	}
}

// TestProgressIsReportedAndChangesNothing: a run with Config.Progress set
// reports every step in order, with virtual time never going back, and
// gives the trace hash it gives without.
func TestProgressIsReportedAndChangesNothing(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Inputs = 200
	plain := runInBubble(t, cfg)
	var seen []Progress
	cfg.Progress = func(p Progress) { seen = append(seen, p) }
	watched := runInBubble(t, cfg)
	require.Equal(t, plain.Hash, watched.Hash, "watching the run changed it")
	require.Len(t, seen, watched.Stats.Steps+1)
	for i, p := range seen {
		require.Equal(t, i, p.Step)
		require.Equal(t, seen[0].FaultSteps, p.FaultSteps)
		if i > 0 {
			require.GreaterOrEqual(t, p.Virtual, seen[i-1].Virtual)
		}
	}
}
