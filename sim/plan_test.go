package sim

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/eosim/eosim/engine"
	"github.com/eosim/eosim/faults"
	"github.com/eosim/eosim/invariants"
)

func TestPlanRoundTrip(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Inputs, cfg.Guarantee = 50, engine.AtLeastOnce
	sched := faults.Schedule{Faults: []faults.Fault{{Step: 1, Kind: faults.Crash, Instance: "b", Point: engine.AfterProduce, RestartAfter: 1}}}
	res := Result{Complete: true, Report: invariants.Report{Verdict: invariants.Fail,
		Anomalies: []invariants.Anomaly{{Kind: invariants.DuplicateOutput}}}}
	plan := PlanOf(cfg, sched, &res)
	back, err := ParsePlan(plan.MarshalIndent())
	require.NoError(t, err)
	require.Equal(t, plan, back)
	got, err := back.Apply(DefaultConfig(), nil)
	require.NoError(t, err)
	require.Equal(t, 50, got.Inputs)
	require.Equal(t, engine.AtLeastOnce, got.Guarantee)
	require.Equal(t, sched, *got.Schedule)
	require.NoError(t, back.Expect.Check(res))
}

func TestPlainScheduleIsAPlan(t *testing.T) {
	plan, err := ParsePlan([]byte(`{"faults": [{"step": 2, "kind": "shutdown", "instance": "a", "restart_after": 1}]}`))
	require.NoError(t, err)
	cfg, err := plan.Apply(DefaultConfig(), map[string]bool{"orders": true})
	require.NoError(t, err)
	require.Equal(t, DefaultConfig().Inputs, cfg.Inputs, "parameters the plan lacks keep their values")
	require.Len(t, cfg.Schedule.Faults, 1)
}

func TestParsePlanRejects(t *testing.T) {
	for name, tc := range map[string]struct{ json, want string }{
		"typo":            {`{"ordrs": 5, "faults": []}`, `unknown field "ordrs"`},
		"bad guarantee":   {`{"guarantee": "exactly_twice", "faults": []}`, `unknown guarantee "exactly_twice"`},
		"bad verdict":     {`{"expect": {"verdict": "maybe"}, "faults": []}`, `"maybe" is not pass, fail or unknown`},
		"bad fault":       {`{"faults": [{"step": 0, "kind": "crash", "instance": "a", "point": "nowhere"}]}`, `unknown crash point "nowhere"`},
		"trailing":        {`{"faults": []} x`, "trailing data"},
		"not even json":   {`[`, "unexpected EOF"},
		"negative orders": {`{"orders": -5, "faults": []}`, ""},
	} {
		t.Run(name, func(t *testing.T) {
			plan, err := ParsePlan([]byte(tc.json))
			if tc.want == "" {
				// Parses, but the config it makes is invalid.
				require.NoError(t, err)
				_, err = plan.Apply(DefaultConfig(), nil)
				require.ErrorContains(t, err, "inputs: need at least 1")
				return
			}
			require.ErrorIs(t, err, faults.ErrInvalid)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestPlanConflictsWithExplicitFlags(t *testing.T) {
	plan, err := ParsePlan([]byte(`{"orders": 10, "guarantee": "at_least_once", "faults": []}`))
	require.NoError(t, err)
	_, err = plan.Apply(DefaultConfig(), map[string]bool{"orders": true, "guarantee": true})
	require.True(t, errors.Is(err, ErrPlanConflict), "got %v", err)
	require.ErrorContains(t, err, "-orders 1000 conflicts with the plan (10)")
	require.ErrorContains(t, err, "-guarantee exactly_once_v2 conflicts with the plan (at_least_once)")
}

func TestExpectationCheck(t *testing.T) {
	fail := Result{Complete: true, Report: invariants.Report{Verdict: invariants.Fail,
		Anomalies: []invariants.Anomaly{{Kind: invariants.InventoryFold}}}}
	require.ErrorContains(t, Expectation{Verdict: invariants.Pass}.Check(fail), "verdict fail, expected pass")
	require.ErrorContains(t, Expectation{Verdict: invariants.Fail, Kinds: []string{invariants.DuplicateOutput}}.Check(fail),
		"no duplicate-output anomaly (found: inventory-fold)")
	require.NoError(t, Expectation{Verdict: invariants.Fail, Kinds: []string{invariants.InventoryFold}}.Check(fail))
}
