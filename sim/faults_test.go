//go:build synctests

package sim

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/eosim/eosim/engine"
	"github.com/eosim/eosim/faults"
	"github.com/eosim/eosim/history"
	"github.com/eosim/eosim/invariants"
)

func events(h history.History, kind history.Kind, instance string) []history.Event {
	var evs []history.Event
	for _, ev := range h.Events {
		if ev.Kind == kind && ev.Instance == instance {
			evs = append(evs, ev)
		}
	}
	return evs
}

// TestEveryCrashPointFiresAndExactlyOnceHolds crashes instance a once at each
// crash point, asserts the crash really happened there, and requires every
// checker to pass.
func TestEveryCrashPointFiresAndExactlyOnceHolds(t *testing.T) {
	for _, p := range engine.CrashPoints() {
		t.Run(string(p), func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Schedule = &faults.Schedule{Faults: []faults.Fault{
				{Step: 3, Kind: faults.Crash, Instance: "a", Point: p, Index: 4, RestartAfter: 2},
			}}
			res := runInBubble(t, cfg)
			crashes := events(res.History, history.KindCrash, "a")
			require.Len(t, crashes, 1, "the crash did not fire")
			require.Equal(t, string(p), crashes[0].Detail)
			require.Len(t, events(res.History, history.KindStart, "a"), 2, "a did not restart")
			require.True(t, res.Complete)
			require.Equal(t, invariants.Pass, res.Verdict(), "%v", res.Report.Anomalies)
		})
	}
}

func TestShutdownAndRejoin(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Schedule = &faults.Schedule{Faults: []faults.Fault{
		{Step: 2, Kind: faults.Shutdown, Instance: "b", RestartAfter: 3},
	}}
	res := runInBubble(t, cfg)
	require.Len(t, events(res.History, history.KindStop, "b"), 2, "b stopped neither mid-run nor at the end")
	starts := events(res.History, history.KindStart, "b")
	require.Len(t, starts, 2, "b did not rejoin")
	require.Contains(t, starts[1].Detail, "incarnation 2")
	require.Equal(t, invariants.Pass, res.Verdict(), "%v", res.Report.Anomalies)
}

// The same schedule breaks at_least_once: a crash after the outputs and
// before the offsets replays input.
func TestCrashAfterProduceBreaksAtLeastOnce(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Guarantee = engine.AtLeastOnce
	cfg.Schedule = &faults.Schedule{Faults: []faults.Fault{
		{Step: 3, Kind: faults.Crash, Instance: "a", Point: engine.AfterProduce, RestartAfter: 2},
	}}
	res := runInBubble(t, cfg)
	require.Equal(t, invariants.Fail, res.Verdict())
	require.Subset(t, res.Report.Kinds(), []string{invariants.DuplicateOutput, invariants.InventoryFold})
}
