//go:build synctests

package sim

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/eosim/eosim/engine"
	"github.com/eosim/eosim/faults"
	"github.com/eosim/eosim/history"
	"github.com/eosim/eosim/invariants"
)

// runDB runs 400 orders of the orders-db scenario under g and fs.
func runDB(t *testing.T, g engine.Guarantee, fs ...faults.Fault) Result {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Scenario, cfg.Inputs, cfg.Guarantee = "orders-db", 400, g
	cfg.Schedule = &faults.Schedule{Faults: fs}
	return runInBubble(t, cfg)
}

// dbTxns returns the database transactions the History records.
func dbTxns(h history.History, instance string) []*history.DBTxn {
	var txns []*history.DBTxn
	for _, ev := range events(h, history.KindDB, instance) {
		txns = append(txns, ev.DB)
	}
	return txns
}

// slowCommitThenJoin holds a's next database commit for 15 s, during which
// c joins and the group hands some of a's partitions to c.
var slowCommitThenJoin = []faults.Fault{
	{Step: 2, Kind: faults.DBSlow, Instance: "a", DelayMs: 15_000},
	{Step: 3, Kind: faults.Join, Instance: "c"},
}

// TestDatabaseMistakesAreCaught: each database mistake mode, under a fault
// that sets it off (or none), is caught with the anomaly it should cause;
// both correct modes pass the same schedule.
func TestDatabaseMistakesAreCaught(t *testing.T) {
	defer goleak.VerifyNone(t)
	for _, tc := range []struct {
		g      engine.Guarantee
		faults []faults.Fault
		kind   string
	}{
		{engine.DBThenKafka, []faults.Fault{{Step: 2, Kind: faults.Crash, Instance: "a", Point: engine.AfterDBCommit, RestartAfter: 1}},
			invariants.DBDuplicateEffect},
		{engine.KafkaThenDB, []faults.Fault{{Step: 2, Kind: faults.Crash, Instance: "a", Point: engine.BeforeDBCommit, RestartAfter: 1}},
			invariants.DBLostEffect},
		{engine.KafkaThenDB, []faults.Fault{{Step: 2, Kind: faults.DBBusy, Instance: "a"}},
			invariants.DBLostEffect},
		{engine.DBPositionsUnfenced, []faults.Fault{{Step: 2, Kind: faults.Pause, Instance: "a", Point: engine.AfterPoll, PauseMs: 30_000}},
			invariants.DBDuplicateEffect},
		{engine.DBPositionsUnfenced, slowCommitThenJoin, invariants.DBDuplicateEffect},
		{engine.DBPositionsUnfenced, []faults.Fault{{Step: 2, Kind: faults.DBSlow, Instance: "a", DelayMs: 30_000}},
			invariants.DBDuplicateEffect},
		{engine.DBInsideKafkaTxn, []faults.Fault{{Step: 2, Kind: faults.Crash, Instance: "a", Point: engine.BeforeCommit, RestartAfter: 1}},
			invariants.DBDuplicateEffect},
		{engine.DBContiguousDedup, nil, invariants.DBLostEffect},
		{engine.DBAutoCommit, []faults.Fault{{Step: 2, Kind: faults.Crash, Instance: "a", Point: engine.AfterDBCommit, RestartAfter: 1}},
			invariants.DBDuplicateEffect},
		{engine.DBReadUncommitted, nil, invariants.DBPhantomEffect},
	} {
		name := string(tc.g)
		if len(tc.faults) > 0 {
			name += "/" + string(tc.faults[0].Kind) + "-" + string(tc.faults[0].Point)
		}
		t.Run(name, func(t *testing.T) {
			res := runDB(t, tc.g, tc.faults...)
			require.Equal(t, invariants.Fail, res.Verdict(), "the mistake went unnoticed")
			require.Contains(t, res.Report.Kinds(), tc.kind)
			for _, o := range res.Faults {
				require.Equal(t, Fired, o.Outcome, "fault %s: %s", o.Fault, o.Detail)
			}
			for _, g := range []engine.Guarantee{engine.DBPositionsFenced, engine.DBIdempotent} {
				requirePass(t, runDB(t, g, tc.faults...))
			}
		})
	}
}

// TestDatabaseFaultsTakeEffect checks what each database fault did, from
// the database's side where it can: a busy database refused the BEGIN, a
// lost answer hid a commit that happened, a slow transaction let the group move
// the partitions and the zombie's write was refused by its owner epoch.
func TestDatabaseFaultsTakeEffect(t *testing.T) {
	defer goleak.VerifyNone(t)
	t.Run("busy", func(t *testing.T) {
		res := runDB(t, engine.DBPositionsFenced, faults.Fault{Step: 2, Kind: faults.DBBusy, Instance: "a"})
		requirePass(t, res)
		require.Equal(t, Fired, res.Faults[0].Outcome, res.Faults[0].Detail)
		i := slices.IndexFunc(dbTxns(res.History, "a"), func(x *history.DBTxn) bool { return x.Outcome == history.DBRolledBack })
		require.GreaterOrEqual(t, i, 0, "no transaction of a was rolled back")
		require.Contains(t, dbTxns(res.History, "a")[i].Reason, "SQLITE_BUSY")
	})
	t.Run("lost", func(t *testing.T) {
		res := runDB(t, engine.DBPositionsFenced, faults.Fault{Step: 2, Kind: faults.DBLost, Instance: "a"})
		requirePass(t, res)
		require.Equal(t, Fired, res.Faults[0].Outcome, res.Faults[0].Detail)
		txns := dbTxns(res.History, "a")
		i := slices.IndexFunc(txns, func(x *history.DBTxn) bool { return x.Outcome == history.DBUnknown })
		require.GreaterOrEqual(t, i, 0, "no commit of a had its answer lost")
		require.NotEmpty(t, txns[i].Applied)
		// The database holds the unit's rows: the commit happened.
		written := make(map[string]string)
		for _, r := range res.Snapshot.Tables["ledger"] {
			written[r.Values["order_id"]] = r.Values["written_by"]
		}
		for _, id := range txns[i].Applied {
			require.Equal(t, txns[i].Unit, written[id], "order %s: the lost commit's row is not in the ledger", id)
		}
	})
	t.Run("slow", func(t *testing.T) {
		res := runDB(t, engine.DBPositionsFenced, slowCommitThenJoin...)
		requirePass(t, res)
		require.Equal(t, Fired, res.Faults[0].Outcome, res.Faults[0].Detail)
		require.Contains(t, faultEvents(res.History, "a"), "resumed")
		refused := slices.ContainsFunc(dbTxns(res.History, "a"), func(x *history.DBTxn) bool { return x.Outcome == history.DBRefused })
		require.True(t, refused, "a's held commit was not refused after c claimed its partitions")
	})
	// Held past the poll interval, a leaves the group on its own: b takes
	// its partitions and claims them, and a's write is refused when it
	// wakes. Held within it, a stays in the group and its write goes in.
	t.Run("slow-past-poll-interval", func(t *testing.T) {
		res := runDB(t, engine.DBPositionsFenced, faults.Fault{Step: 2, Kind: faults.DBSlow, Instance: "a", DelayMs: 30_000})
		requirePass(t, res)
		require.Contains(t, faultEvents(res.History, "a"), fmt.Sprintf("left the group: its unit held past the poll interval (%v)", maxPollInterval))
		refused := slices.ContainsFunc(dbTxns(res.History, "a"), func(x *history.DBTxn) bool { return x.Outcome == history.DBRefused })
		require.True(t, refused, "a's write was not refused after b claimed its partitions")
		bTook := slices.ContainsFunc(events(res.History, history.KindAssign, "b"), func(ev history.Event) bool { return len(ev.Partitions) == 4 })
		require.True(t, bTook, "b never took a's partitions")
	})
	t.Run("slow-within-poll-interval", func(t *testing.T) {
		res := runDB(t, engine.DBPositionsFenced, faults.Fault{Step: 2, Kind: faults.DBSlow, Instance: "a", DelayMs: 5_000})
		requirePass(t, res)
		require.Equal(t, Fired, res.Faults[0].Outcome, res.Faults[0].Detail)
		require.Contains(t, faultEvents(res.History, "a"), "resumed")
		require.NotContains(t, strings.Join(faultEvents(res.History, "a"), "\n"), "left the group")
		refused := slices.ContainsFunc(dbTxns(res.History, "a"), func(x *history.DBTxn) bool { return x.Outcome == history.DBRefused })
		require.False(t, refused, "a was fenced though it never left the group")
	})
}

// TestDatabaseFileKeptAndRefused: -db keeps the run's database where asked
// and replaces a previous run's, but never overwrites a file that is not a
// SQLite database.
func TestDatabaseFileKeptAndRefused(t *testing.T) {
	dir := t.TempDir()
	cfg := DefaultConfig()
	cfg.Scenario, cfg.Inputs, cfg.Guarantee = "orders-db", 100, engine.DBPositionsFenced
	cfg.DatabaseFile = filepath.Join(dir, "run.db")
	requirePass(t, runInBubble(t, cfg))
	require.FileExists(t, cfg.DatabaseFile)
	requirePass(t, runInBubble(t, cfg)) // a previous run's database is replaced

	cfg.DatabaseFile = filepath.Join(dir, "notes.txt")
	require.NoError(t, writeFile(cfg.DatabaseFile, "not a database, and not eosim's to overwrite"))
	err := runErr(t, cfg)
	require.ErrorIs(t, err, ErrDatabaseFile)
	require.True(t, strings.Contains(err.Error(), "not overwritten"), err.Error())
}

func writeFile(path, s string) error { return os.WriteFile(path, []byte(s), 0o644) }

// runErr runs cfg in a bubble and returns Run's error.
func runErr(t *testing.T, cfg Config) error {
	t.Helper()
	var err error
	synctest.Test(t, func(t *testing.T) {
		_, err = Run(context.Background(), cfg)
	})
	return err
}

// TestDatabaseRunsReplay: a swarm run of the database scenario, under each
// of its correct guarantees and one mistake, gives one History on one
// processor and on two, and leaves no goroutine of SQLite's behind.
func TestDatabaseRunsReplay(t *testing.T) {
	defer goleak.VerifyNone(t)
	for _, g := range []engine.Guarantee{engine.DBPositionsFenced, engine.DBIdempotent, engine.DBThenKafka} {
		for _, seed := range []uint64{3, 7} {
			cfg := DefaultConfig()
			cfg.Scenario, cfg.Guarantee, cfg.Inputs, cfg.Seed, cfg.Swarm = "orders-db", g, 400, seed, true
			first, second := runOnOneAndTwo(t, cfg)
			requireReplays(t, fmt.Sprintf("%s seed %d", g, seed), first, second)
			require.NotEmpty(t, events(first.History, history.KindDB, "a"), "no database transaction recorded")
		}
	}
}

// TestOneHoldPerStep: a slow database and a pause armed on one instance
// for the same unit. The unit is held once (the slow transaction); the
// pause waits for a later unit instead of holding the same step twice (it
// once closed the step's pause channel a second time).
func TestOneHoldPerStep(t *testing.T) {
	res := runDB(t, engine.DBIdempotent,
		faults.Fault{Step: 2, Kind: faults.DBSlow, Instance: "a", DelayMs: 500},
		faults.Fault{Step: 2, Kind: faults.Pause, Instance: "a", Point: engine.BeforeCommit, PauseMs: 3_000})
	requirePass(t, res)
	for _, o := range res.Faults {
		require.Equal(t, Fired, o.Outcome, "fault %s: %s", o.Fault, o.Detail)
	}
	require.Len(t, slices.DeleteFunc(faultEvents(res.History, "a"), func(d string) bool { return d != "resumed" }), 2,
		"the unit must be held twice, in two steps")
}
