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

// A run under RecoveryContinue writes its recovery style down, and its plan
// replays under it, even under swarm (which would otherwise draw one); a
// restart, the default, leaves the field out, so older plans read the same.
func TestPlanKeepsTheRecoveryStyle(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Recovery = engine.RecoveryContinue
	plan := PlanOf(cfg, faults.Schedule{}, nil)
	require.Contains(t, string(plan.MarshalIndent()), `"recovery": "continue"`)
	back, err := ParsePlan(plan.MarshalIndent())
	require.NoError(t, err)
	require.Equal(t, plan, back)
	def := DefaultConfig()
	def.Swarm = true
	got, err := back.Apply(def, nil)
	require.NoError(t, err)
	require.Equal(t, engine.RecoveryContinue, got.Recovery)
	for seed := range uint64(20) {
		got.Seed = seed
		require.Equal(t, engine.RecoveryContinue, got.resolveSwarm().Recovery, "seed %d", seed)
	}
	_, err = back.Apply(DefaultConfig(), map[string]bool{"recovery": true})
	require.ErrorIs(t, err, ErrPlanConflict)
	require.ErrorContains(t, err, "-recovery restart conflicts with the plan (continue)")

	restart := PlanOf(DefaultConfig(), faults.Schedule{}, nil)
	require.NotContains(t, string(restart.MarshalIndent()), "recovery")
	got, err = restart.Apply(DefaultConfig(), nil)
	require.NoError(t, err)
	require.Equal(t, engine.RecoveryRestart, got.Recovery)
}

// Swarm draws the recovery style from a stream of its own: both styles
// come up, and every other draw of a seed is what it was without it.
func TestSwarmDrawsTheRecoveryStyleApart(t *testing.T) {
	seen := map[engine.Recovery]int{}
	for seed := range uint64(40) {
		cfg := DefaultConfig()
		cfg.Seed, cfg.Swarm = seed, true
		drawn := cfg.resolveSwarm()
		seen[drawn.Recovery]++
		fixed := cfg
		fixed.FixedRecovery = true
		kept := fixed.resolveSwarm()
		require.Equal(t, engine.RecoveryRestart, kept.Recovery, "seed %d: FixedRecovery keeps the given style", seed)
		kept.Recovery, kept.FixedRecovery = drawn.Recovery, false
		require.Equal(t, drawn, kept, "seed %d: the draw moved another parameter", seed)
	}
	require.Positive(t, seen[engine.RecoveryRestart])
	require.Positive(t, seen[engine.RecoveryContinue])
}

// Swarm picks the transaction protocol per seed unless FixedProtocol
// keeps the one given; nothing else of the seed's draw moves.
func TestSwarmKeepsAFixedProtocol(t *testing.T) {
	seen := map[bool]int{}
	for seed := range uint64(40) {
		cfg := DefaultConfig()
		cfg.Seed, cfg.Swarm = seed, true
		drawn := cfg.resolveSwarm()
		seen[drawn.TransactionsV1]++
		for _, v1 := range []bool{false, true} {
			fixed := cfg
			fixed.FixedProtocol, fixed.TransactionsV1 = true, v1
			kept := fixed.resolveSwarm()
			require.Equal(t, v1, kept.TransactionsV1, "seed %d: FixedProtocol keeps the given protocol", seed)
			kept.TransactionsV1, kept.FixedProtocol = drawn.TransactionsV1, false
			require.Equal(t, drawn, kept, "seed %d: fixing the protocol moved another parameter", seed)
		}
	}
	require.Positive(t, seen[false])
	require.Positive(t, seen[true])
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
		"bad recovery":    {`{"recovery": "pray", "faults": []}`, `unknown recovery "pray"`},
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
	one, none := 1, 0
	fired := fail
	fired.Faults = []FaultOutcome{{Outcome: Fired}, {Outcome: NotReached}}
	require.NoError(t, Expectation{Verdict: invariants.Fail, Fired: &one}.Check(fired))
	require.ErrorContains(t, Expectation{Verdict: invariants.Fail, Fired: &none}.Check(fired), "1 faults fired, expected 0")
	_, err := ParsePlan([]byte(`{"expect": {"verdict": "pass", "fired": 1}, "faults": []}`))
	require.ErrorContains(t, err, "expected 1 faults fired, of 0")
}
