//go:build synctests

package sim

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/eosim/eosim/engine"
	"github.com/eosim/eosim/faults"
	"github.com/eosim/eosim/history"
	"github.com/eosim/eosim/invariants"
)

// TestOracleAloneCatchesBrokenModes: judged by the generic oracle alone
// (the topology run serially over the committed input, compared with what
// read_committed shows), broken engine modes fail with each of its
// anomalies, and exactly_once_v2 passes the same seeds.
func TestOracleAloneCatchesBrokenModes(t *testing.T) {
	for _, tc := range []struct {
		g     engine.Guarantee
		seed  uint64
		kinds []string
	}{
		{engine.AtLeastOnce, 1, []string{invariants.OracleDuplicate, invariants.OracleLost, invariants.OracleUnexpected}},
		{engine.PeekSideEffect, 1, []string{invariants.OracleDuplicate}},
		{engine.KeepDirtyState, 2, []string{invariants.OracleLost, invariants.OracleUnexpected}},
	} {
		t.Run(string(tc.g), func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Seed, cfg.Inputs, cfg.Swarm, cfg.Checkers = tc.seed, 400, true, CheckOracle
			cfg.Guarantee = tc.g
			res := runInBubble(t, cfg)
			require.Equal(t, invariants.Fail, res.Verdict())
			require.ElementsMatch(t, tc.kinds, res.Report.Kinds())
			require.Equal(t, []string{invariants.OracleDuplicate, invariants.OracleLost, invariants.OracleUnexpected}, res.Report.Checked)

			cfg.Guarantee = engine.ExactlyOnceV2
			requirePass(t, runInBubble(t, cfg))
		})
	}
}

// TestOracleAloneCatchesDatabaseMistakes: judged by the oracle alone (the
// topology applied serially to a fresh database over the committed input,
// its tables compared with the run's, autoincrement ids and writers left
// out), the database mistakes fail with each of its anomalies, and the
// correct guarantees pass the same seeds.
func TestOracleAloneCatchesDatabaseMistakes(t *testing.T) {
	for _, tc := range []struct {
		g    engine.Guarantee
		seed uint64
		kind string
	}{
		{engine.DBContiguousDedup, 1, invariants.OracleLost},
		{engine.DBReadUncommitted, 1, invariants.OracleUnexpected},
		{engine.DBThenKafka, 0, invariants.OracleDuplicate},
	} {
		t.Run(string(tc.g), func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Scenario, cfg.Inputs, cfg.Checkers, cfg.Guarantee = "orders-db", 200, CheckOracle, tc.g
			cfg.Seed, cfg.Swarm = tc.seed, true
			if tc.seed == 0 {
				// A crash between the database commit and Kafka's replays
				// the input into the database.
				cfg.Seed, cfg.Swarm = 1, false
				cfg.Schedule = &faults.Schedule{Faults: []faults.Fault{{Step: 1, Kind: faults.Crash, Instance: "a", Point: engine.AfterDBCommit, RestartAfter: 1}}}
			}
			res := runInBubble(t, cfg)
			require.Equal(t, invariants.Fail, res.Verdict())
			require.Contains(t, res.Report.Kinds(), tc.kind)
			require.NotEmpty(t, res.Report.Anomalies[0].Rows, "the evidence is rows")

			cfg.Guarantee = engine.DBPositionsFenced
			requirePass(t, runInBubble(t, cfg))
		})
	}
}

func TestCheckersChoice(t *testing.T) {
	cfg := DefaultConfig()
	require.NoError(t, cfg.Validate())
	cfg.Checkers = "nope"
	require.ErrorContains(t, cfg.Validate(), `checkers "nope"`)
	cfg.Checkers, cfg.Scenario, cfg.Guarantee = CheckOracle, "orders-db", engine.DBPositionsFenced
	require.NoError(t, cfg.Validate(), "the oracle judges a database too")

	spec := invariants.Spec{}
	all := DefaultConfig()
	all.Checkers = CheckAll
	require.Len(t, all.JudgedBy(spec).Checkers, len(invariants.All())+len(invariants.OracleCheckers()))
	require.Empty(t, DefaultConfig().JudgedBy(spec).Checkers, "the scenario's own (All when it names none)")
}

// TestFocusFiresItsCells: a focused run draws every fault from its cells,
// fires them, and catches the mode that one of them exposes at once;
// exactly_once_v2 passes the same schedule.
func TestFocusFiresItsCells(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Seed, cfg.Inputs, cfg.Guarantee = 1, 400, engine.CommitAfterFailedProduce
	cfg.Focus = []string{"broker-error Produce TRANSACTION_ABORTABLE"}
	res := runInBubble(t, cfg)
	require.NotEmpty(t, res.Faults)
	fired := 0
	for _, o := range res.Faults {
		require.Equal(t, "broker-error Produce TRANSACTION_ABORTABLE", o.Fault.Cell())
		if o.Outcome == Fired {
			fired++
		}
	}
	require.Positive(t, fired)
	require.Equal(t, invariants.Fail, res.Verdict())

	cfg.Guarantee = engine.ExactlyOnceV2
	requirePass(t, runInBubble(t, cfg))
}

// TestOffsetsAfterCommitCrashAfterTheCommitIsCommitted: under
// offsets_after_commit the offsets go after EndTxn, so a crash as they are
// sent comes after a commit: the engine records the unit committed, and no
// checker takes its visible records for an aborted transaction's (the
// oracle's comparison found the engine's account said "crashed" there).
func TestOffsetsAfterCommitCrashAfterTheCommitIsCommitted(t *testing.T) {
	res := runSchedule(t, engine.OffsetsAfterCommit,
		faults.Fault{Step: 2, Kind: faults.Crash, Instance: "a", Point: engine.AfterSendOffsets, RestartAfter: 1})
	requireFired(t, res, "a")
	found := false
	for _, ev := range events(res.History, history.KindUnit, "a") {
		if strings.Contains(ev.Unit.Reason, string(engine.AfterSendOffsets)) {
			found = true
			require.Equal(t, history.Committed, ev.Unit.Outcome, "unit %s", ev.Unit.ID)
		}
	}
	require.True(t, found, "no unit crashed at after-send-offsets")
	require.NotContains(t, res.Report.Kinds(), invariants.AbortedRead)
}
