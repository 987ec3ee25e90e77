package sim

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/eosim/eosim/engine"
	"github.com/eosim/eosim/faults"
	"github.com/eosim/eosim/invariants"
)

// TestShrinkDropsFaultsThatDidNotFire: Shrink ends by dropping, all at
// once, the faults that did not fire. Here the run fails only with both of
// them or neither, so no single drop keeps it failing; only that last one.
func TestShrinkDropsFaultsThatDidNotFire(t *testing.T) {
	guilty := crash(9, "b", engine.AfterProduce)
	idle := []faults.Fault{
		{Step: 2, Kind: faults.BrokerError, Instance: "a", Request: "AddOffsetsToTxn", Error: "COORDINATOR_NOT_AVAILABLE"},
		{Step: 3, Kind: faults.Drop, Instance: "b", Request: "EndTxn"},
	}
	cfg := DefaultConfig()
	cfg.Schedule = &faults.Schedule{Faults: []faults.Fault{idle[0], idle[1], guilty}}
	run := func(c Config) (Result, error) {
		res := Result{Config: c, Schedule: *c.Schedule, Complete: true, Report: invariants.Report{Verdict: invariants.Pass}}
		idles, hasGuilty := 0, false
		for _, f := range c.Schedule.Faults {
			o := FaultOutcome{Fault: f, Outcome: NotReached, Detail: "still armed when the liveness phase started"}
			if f.Point == engine.AfterProduce {
				o.Outcome, o.Detail, hasGuilty = Fired, f.String(), true
			} else {
				idles++
			}
			res.Faults = append(res.Faults, o)
		}
		if hasGuilty && idles != 1 {
			res.Report = invariants.Report{Verdict: invariants.Fail, Anomalies: []invariants.Anomaly{{Kind: invariants.DuplicateOutput}}}
		}
		return res, nil
	}
	got, res, _, err := Shrink(cfg, invariants.DuplicateOutput, run, 1000)
	require.NoError(t, err)
	require.Len(t, got.Schedule.Faults, 1, "%v", got.Schedule)
	require.Equal(t, engine.AfterProduce, got.Schedule.Faults[0].Point)
	require.Equal(t, FaultCounts{Fired: 1}, res.FaultCounts())

	// A result that does not say what fired counts every fault as fired.
	_, ok := withoutIdleFaults(cfg, Result{})
	require.False(t, ok)
}

// TestSmallerCountsFiredFaultsFirst: a run with fewer fired faults is
// smaller, whatever its plan lists.
func TestSmallerCountsFiredFaultsFirst(t *testing.T) {
	f := crash(1, "a", engine.AfterPoll)
	two := DefaultConfig()
	two.Schedule = &faults.Schedule{Faults: []faults.Fault{f, f}}
	one := DefaultConfig()
	one.Schedule = &faults.Schedule{Faults: []faults.Fault{f}}
	twoRes := Result{Faults: []FaultOutcome{{Fault: f, Outcome: Fired}, {Fault: f, Outcome: NotReached}}}
	oneRes := Result{Faults: []FaultOutcome{{Fault: f, Outcome: Fired}}}
	require.True(t, smaller(one, oneRes, two, twoRes), "one fired, one fault")
	twoRes.Faults[1].Outcome = Fired
	oneRes.Faults[0].Outcome = NoEffect
	require.True(t, smaller(two, Result{Faults: []FaultOutcome{{Outcome: NoEffect}, {Outcome: NotReached}}}, one, Result{Faults: []FaultOutcome{{Outcome: Fired}}}),
		"no fired fault beats one, though the plan is longer")
	require.False(t, smaller(two, twoRes, one, oneRes))
}
