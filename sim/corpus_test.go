//go:build synctests

package sim

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eosim/eosim/engine"
	"github.com/eosim/eosim/faults"
	"github.com/eosim/eosim/invariants"
)

// TestRegressionPlans replays every plan under testdata/schedules and
// requires the verdict recorded in it.
func TestRegressionPlans(t *testing.T) {
	eachPlan(t, "*.json", func(t *testing.T, file string, plan Plan) {
		require.NotNil(t, plan.Expect, "a regression plan must record the verdict it expects")
		cfg, err := plan.Apply(DefaultConfig(), nil)
		require.NoError(t, err)
		res := runInBubble(t, cfg)
		// Both commands run from the repository root.
		replay := "go run -tags synctests ./cmd/simrun -schedule " + fromRepoRoot(t, file)
		require.NoError(t, plan.Expect.Check(res), "\nreplay with: %s\nshrink with: %s -shrink -o min.json", replay, replay)
		if plan.Schedule().Counts()[faults.Crash] > 0 {
			require.Positive(t, res.Stats.Crashes, "none of the plan's crashes fired: the replay proves nothing\nreplay with: %s", replay)
		}
	})
}

// eachPlan runs check, as a subtest, on every plan under testdata/schedules
// whose file name matches pattern.
func eachPlan(t *testing.T, pattern string, check func(t *testing.T, file string, plan Plan)) {
	files, err := filepath.Glob(filepath.Join("..", "testdata", "schedules", pattern))
	require.NoError(t, err)
	require.NotEmpty(t, files, "no plans match testdata/schedules/%s", pattern)
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			require.NoError(t, err)
			plan, err := ParsePlan(data)
			require.NoError(t, err)
			check(t, file, plan)
		})
	}
}

// fromRepoRoot turns the path of a plan, which eachPlan finds relative to
// sim/, into the path a command run from the repository root takes.
func fromRepoRoot(t *testing.T, file string) string {
	rel, err := filepath.Rel("..", file)
	require.NoError(t, err)
	return filepath.ToSlash(rel)
}

// TestTxnV1SequenceReuse replays the plan in which kgo v1.22.3, under the
// transaction protocol before KIP-890, reuses the sequence numbers of a
// batch that was written (its answer lost) and then failed
// TRANSACTION_ABORTABLE, under both recovery styles: with the engine's
// defence off (the client kept, as kgo documents), a committed
// transaction loses its records; with it (a new client, a new epoch), and
// under KIP-890 (a new epoch every transaction), the run passes.
func TestTxnV1SequenceReuse(t *testing.T) {
	eachPlan(t, "eos-txn-v1-produce-answer-lost-then-abortable.json", func(t *testing.T, _ string, plan Plan) {
		require.True(t, plan.TransactionsV1)
		for _, recovery := range engine.Recoveries() {
			p := plan
			p.Recovery, p.Expect = recovery.String(), nil
			cfg, err := p.Apply(DefaultConfig(), nil)
			require.NoError(t, err)
			bug := cfg
			bug.KeepClientAfterFailedProduce = true
			res := runInBubble(t, bug)
			require.Equal(t, invariants.Fail, res.Verdict(), "recovery %s: kgo's way passed", recovery)
			require.Subset(t, res.Report.Kinds(), []string{"lost-output", "torn-transaction"}, "recovery %s", recovery)
			require.Zero(t, res.Stats.Restarts, "recovery %s: kgo's way keeps the client", recovery)

			res = runInBubble(t, cfg)
			require.Equal(t, invariants.Pass, res.Verdict(), "recovery %s: the engine's defence: %v", recovery, res.Report.Anomalies)
			require.Equal(t, len(plan.Faults), res.FaultCounts().Fired, "recovery %s: a fault did not fire: the pass proves nothing", recovery)
			require.Positive(t, res.Stats.Restarts, "recovery %s: the defence never gave up the client", recovery)

			p.TransactionsV1 = false
			cfg, err = p.Apply(DefaultConfig(), nil)
			require.NoError(t, err)
			res = runInBubble(t, cfg)
			require.Equal(t, invariants.Pass, res.Verdict(), "recovery %s: the same faults break KIP-890 transactions: %v", recovery, res.Report.Anomalies)
			require.Equal(t, len(plan.Faults), res.FaultCounts().Fired, "recovery %s: under KIP-890 a fault did not fire", recovery)
		}
	})
}

// TestMistakePlansPassUnderExactlyOnce replays every mistake plan with the
// correct engine: the faults alone must not break exactly-once, or the plan
// would blame the mistake for what the harness (or the fake) did. It also
// requires a plan for every mode that breaks exactly-once.
func TestMistakePlansPassUnderExactlyOnce(t *testing.T) {
	covered := map[engine.Guarantee]bool{}
	eachPlan(t, "mistake-*.json", func(t *testing.T, _ string, plan Plan) {
		mode := engine.Guarantee(plan.Guarantee)
		require.Contains(t, engine.Mistakes(), mode, "a mistake plan must run a mistake mode")
		require.Equal(t, invariants.Fail, plan.Expect.Verdict, "a mistake plan must expect the mistake caught")
		covered[mode] = true
		fired := plan.Expect.Fired
		plan.Guarantee, plan.Expect = string(engine.ExactlyOnceV2), nil
		cfg, err := plan.Apply(DefaultConfig(), nil)
		require.NoError(t, err)
		res := runInBubble(t, cfg)
		require.Equal(t, invariants.Pass, res.Verdict(), "the same faults break exactly_once_v2: %v", res.Report.Anomalies)
		if fired != nil {
			require.Equal(t, *fired, res.FaultCounts().Fired, "exactly_once_v2 passed without the plan's faults firing as they did for the mistake")
		}
	})
	for _, mode := range engine.Mistakes() {
		if !mode.KeepsExactlyOnce() {
			assert.True(t, covered[mode], "no testdata/schedules/mistake-*.json plan shows %s caught", mode)
		}
	}
}

// TestUnconfirmedCommitIsNotAnAbort replays the plan in which the broker
// commits a transaction and answers its EndTxn UNKNOWN_SERVER_ERROR, under
// both protocols and both recovery styles. kgo v1.22.3's End reports it
// aborted, without an error: taken at its word (the engine's defence
// off), the unit's records are processed and committed again; taken for
// an unknown outcome, the run passes.
func TestUnconfirmedCommitIsNotAnAbort(t *testing.T) {
	eachPlan(t, "eos-endtxn-committed-then-unknown-server-error.json", func(t *testing.T, _ string, plan Plan) {
		for _, v1 := range []bool{false, true} {
			for _, recovery := range engine.Recoveries() {
				p := plan
				p.Recovery, p.TransactionsV1, p.Expect = recovery.String(), v1, nil
				cfg, err := p.Apply(DefaultConfig(), nil)
				require.NoError(t, err)
				bug := cfg
				bug.TrustAbortAfterUnknownCommitError = true
				res := runInBubble(t, bug)
				require.Equal(t, invariants.Fail, res.Verdict(), "v1 %v, recovery %s: kgo's word passed", v1, recovery)
				require.Subset(t, res.Report.Kinds(), []string{"duplicate-output", "inventory-fold"}, "v1 %v, recovery %s", v1, recovery)

				res = runInBubble(t, cfg)
				require.Equal(t, invariants.Pass, res.Verdict(), "v1 %v, recovery %s: the engine's defence: %v", v1, recovery, res.Report.Anomalies)
				require.Equal(t, len(plan.Faults), res.FaultCounts().Fired, "v1 %v, recovery %s: the fault did not fire: the pass proves nothing", v1, recovery)
				require.Equal(t, 1, res.Stats.Unknown, "v1 %v, recovery %s: the commit's outcome was not taken for unknown", v1, recovery)
			}
		}
	})
}
