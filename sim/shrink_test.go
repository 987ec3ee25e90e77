package sim

import (
	"errors"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/eosim/eosim/engine"
	"github.com/eosim/eosim/faults"
	"github.com/eosim/eosim/invariants"
)

func crash(step int, instance string, p engine.CrashPoint) faults.Fault {
	return faults.Fault{Step: step, Kind: faults.Crash, Instance: instance, Point: p, Index: 7, RestartAfter: 4}
}

// fakeRun stands in for the simulator: a run fails with duplicate-output
// whenever its schedule still crashes instance b after producing.
func fakeRun(calls *int) Runner {
	return func(cfg Config) (Result, error) {
		*calls++
		res := Result{Config: cfg, Complete: true, Report: invariants.Report{Verdict: invariants.Pass}}
		if cfg.Schedule != nil {
			res.Schedule = *cfg.Schedule
		}
		if slices.ContainsFunc(res.Schedule.Faults, func(f faults.Fault) bool {
			return f.Instance == "b" && f.Point == engine.AfterProduce
		}) {
			res.Report = invariants.Report{Verdict: invariants.Fail, Anomalies: []invariants.Anomaly{{Kind: invariants.DuplicateOutput}}}
		}
		return res, nil
	}
}

func TestShrinkKeepsOnlyWhatFails(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Instances = 3
	cfg.Schedule = &faults.Schedule{Faults: []faults.Fault{
		crash(2, "a", engine.AfterPoll),
		crash(9, "b", engine.AfterProduce),
		crash(12, "c", engine.DuringCommit),
	}}
	calls := 0
	got, res, st, err := Shrink(cfg, invariants.DuplicateOutput, fakeRun(&calls), 1000)
	require.NoError(t, err)
	require.Equal(t, invariants.Fail, res.Verdict())
	require.Equal(t, []faults.Fault{{Step: 0, Kind: faults.Crash, Instance: "b", Point: engine.AfterProduce, RestartAfter: 1}}, got.Schedule.Faults)
	require.Equal(t, 1, got.Inputs)
	require.Equal(t, 2, got.Instances, "b must stay; c goes")
	require.Equal(t, 1, got.Partitions)
	require.Equal(t, calls, st.Runs)
	require.Positive(t, st.Kept)
}

func TestShrinkRespectsItsBudget(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Schedule = &faults.Schedule{Faults: []faults.Fault{crash(9, "b", engine.AfterProduce)}}
	calls := 0
	_, _, st, err := Shrink(cfg, invariants.DuplicateOutput, fakeRun(&calls), 3)
	require.NoError(t, err)
	require.Equal(t, 3, st.Runs)
	require.Equal(t, 3, calls)
}

func TestShrinkPassesRunErrorsOn(t *testing.T) {
	boom := errors.New("boom")
	_, _, _, err := Shrink(DefaultConfig(), invariants.DuplicateOutput, func(Config) (Result, error) { return Result{}, boom }, 10)
	require.ErrorIs(t, err, boom)
}

// TestShrinkSkipsReductionsThatStrandAFault: with a join of the spare d in
// the schedule, dropping an instance renames the spares; the shrinker must
// skip that reduction rather than run (and fail on) an invalid config.
func TestShrinkSkipsReductionsThatStrandAFault(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Schedule = &faults.Schedule{Faults: []faults.Fault{
		{Step: 1, Kind: faults.Join, Instance: "d"},
		crash(9, "a", engine.AfterProduce),
	}}
	require.NoError(t, cfg.Validate())
	run := func(c Config) (Result, error) {
		if err := c.Validate(); err != nil {
			t.Fatalf("the shrinker ran an invalid config: %v", err)
		}
		res := Result{Config: c, Complete: true, Schedule: *c.Schedule, Report: invariants.Report{Verdict: invariants.Pass}}
		if slices.ContainsFunc(res.Schedule.Faults, func(f faults.Fault) bool { return f.Kind == faults.Join }) {
			res.Report = invariants.Report{Verdict: invariants.Fail, Anomalies: []invariants.Anomaly{{Kind: invariants.DuplicateOutput}}}
		}
		return res, nil
	}
	got, res, _, err := Shrink(cfg, invariants.DuplicateOutput, run, 1000)
	require.NoError(t, err)
	require.Equal(t, invariants.Fail, res.Verdict())
	require.Equal(t, []faults.Fault{{Step: 0, Kind: faults.Join, Instance: "d"}}, got.Schedule.Faults)
	require.Equal(t, 2, got.Instances, "one instance fewer would leave no spare named d")
}
