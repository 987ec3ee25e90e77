package scoreboard

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/eosim/eosim/engine"
	"github.com/eosim/eosim/faults"
	"github.com/eosim/eosim/invariants"
	"github.com/eosim/eosim/sim"
)

// TestMinimalFaultsCountsFiredFaults: the "minimal faults" of a row are the
// faults that fired in the shrunk run, not those its plan lists. The fake
// run fails only while b's crash (which fires) and d's join (which never
// does) are both scheduled, so the shrunk plan keeps two faults, one fired;
// a's crash, which never fires either, goes.
func TestMinimalFaultsCountsFiredFaults(t *testing.T) {
	crashB := faults.Fault{Step: 3, Kind: faults.Crash, Instance: "b", Point: engine.AfterProduce, RestartAfter: 1}
	joinD := faults.Fault{Step: 1, Kind: faults.Join, Instance: "d"}
	crashA := faults.Fault{Step: 5, Kind: faults.Crash, Instance: "a", Point: engine.AfterPoll, RestartAfter: 1}
	run := func(c sim.Config) (sim.Result, error) {
		res := sim.Result{Config: c, Schedule: *c.Schedule, Complete: true, Report: invariants.Report{Verdict: invariants.Pass}}
		for _, f := range c.Schedule.Faults {
			o := sim.FaultOutcome{Fault: f, Outcome: sim.NotReached, Detail: "still armed when the liveness phase started"}
			if f == crashB {
				o.Outcome, o.Detail = sim.Fired, f.String()
			}
			res.Faults = append(res.Faults, o)
		}
		if slices.Contains(c.Schedule.Faults, crashB) && slices.Contains(c.Schedule.Faults, joinD) {
			res.Report = invariants.Report{Verdict: invariants.Fail, Anomalies: []invariants.Anomaly{{Kind: invariants.DuplicateOutput}}}
		}
		return res, nil
	}
	cfg := sim.DefaultConfig()
	cfg.Schedule = &faults.Schedule{Faults: []faults.Fault{joinD, crashB, crashA}}
	r := Row{Mode: string(engine.AtLeastOnce), FirstSeed: 1}
	require.NoError(t, shrinkFirst(&r, outcome{cfg: cfg, kinds: []string{invariants.DuplicateOutput}}, 100, run))
	require.Equal(t, 1, r.MinimalFaults, "one fault fired")
	require.Equal(t, 2, r.MinimalPlanFaults)
	require.Len(t, r.MinimalPlan.Faults, 2)
	require.Equal(t, faults.Join, r.MinimalPlan.Faults[0].Kind)
	require.Equal(t, faults.Crash, r.MinimalPlan.Faults[1].Kind)
	require.Equal(t, "b", r.MinimalPlan.Faults[1].Instance)
}
