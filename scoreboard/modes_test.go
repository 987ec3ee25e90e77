package scoreboard

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/eosim/eosim/engine"
	"github.com/eosim/eosim/invariants"
	"github.com/eosim/eosim/sim"
)

func TestModesForIsTheScenariosGuarantees(t *testing.T) {
	modes, err := ModesFor("orders")
	require.NoError(t, err)
	require.Equal(t, engine.Guarantees(), modes)
	require.Equal(t, engine.ExactlyOnceV2, modes[0])

	modes, err = ModesFor("orders-db")
	require.NoError(t, err)
	require.Equal(t, engine.DatabaseGuarantees(), modes)
	require.Equal(t, engine.DBPositionsFenced, modes[0], "the control")
	var safe []engine.Guarantee
	for _, g := range modes {
		if g.KeepsExactlyOnce() {
			safe = append(safe, g)
		}
	}
	require.Equal(t, []engine.Guarantee{engine.DBPositionsFenced, engine.DBIdempotent}, safe)

	_, err = ModesFor("nope")
	require.ErrorContains(t, err, `unknown scenario "nope"`)
}

func TestDefaultConfigScoresTheDefaultScenario(t *testing.T) {
	cfg := DefaultConfig()
	modes, err := ModesFor(cfg.Base.Scenario)
	require.NoError(t, err)
	require.Equal(t, modes, cfg.Modes)
	require.Equal(t, cfg.Base.Guarantee, cfg.Modes[0], "Base validates as it is")
	require.NoError(t, cfg.Base.Validate())
}

func TestPickModesKeepsTheControlFirst(t *testing.T) {
	modes, err := PickModes("orders-db", []string{"db_then_kafka", "db_idempotent", "db_then_kafka"})
	require.NoError(t, err)
	require.Equal(t, []engine.Guarantee{engine.DBPositionsFenced, engine.DBThenKafka, engine.DBIdempotent}, modes)

	modes, err = PickModes("orders", nil)
	require.NoError(t, err)
	require.Equal(t, []engine.Guarantee{engine.ExactlyOnceV2}, modes)

	_, err = PickModes("orders-db", []string{"at_least_once"})
	require.ErrorContains(t, err, "scenario orders-db does not run under guarantee at_least_once (want one of db_positions_fenced, db_idempotent,")
	_, err = PickModes("orders", []string{"db_then_kafka"})
	require.ErrorContains(t, err, "scenario orders does not run under guarantee db_then_kafka")
	_, err = PickModes("orders", []string{"nope"})
	require.ErrorContains(t, err, `unknown guarantee "nope"`)
}

// fakeRuns is a runner that judges without running: seeds in fail fail
// under every mode in caught, and everything else passes.
func fakeRuns(caught map[engine.Guarantee][]uint64) (sim.Runner, func() []engine.Guarantee) {
	var mu sync.Mutex
	var ran []engine.Guarantee
	run := func(c sim.Config) (sim.Result, error) {
		mu.Lock()
		ran = append(ran, c.Guarantee)
		mu.Unlock()
		res := sim.Result{Config: c, Complete: true, Report: invariants.Report{Verdict: invariants.Pass}}
		for _, s := range caught[c.Guarantee] {
			if s == c.Seed {
				res.Report = invariants.Report{Verdict: invariants.Fail, Anomalies: []invariants.Anomaly{{Kind: invariants.DBDuplicateEffect}}}
			}
		}
		return res, nil
	}
	return run, func() []engine.Guarantee {
		mu.Lock()
		defer mu.Unlock()
		return ran
	}
}

// TestDatabaseScoreboard: with no Modes, a database scenario's scoreboard
// scores its guarantees, db_positions_fenced the control and db_idempotent
// a second mode that keeps exactly-once, whose detection is a false alarm,
// as fresh_txn_id's is for orders.
func TestDatabaseScoreboard(t *testing.T) {
	cfg := Config{Base: sim.DefaultConfig(), First: 1, Last: 4}
	cfg.Base.Scenario = "orders-db"
	run, ran := fakeRuns(map[engine.Guarantee][]uint64{engine.DBThenKafka: {2, 3}, engine.DBIdempotent: {4}})
	tbl, err := Run(context.Background(), cfg, run, nil)
	require.NoError(t, err)
	require.Len(t, ran(), 4*len(engine.DatabaseGuarantees()))
	require.Equal(t, "orders-db", tbl.Scenario)
	require.Len(t, tbl.Rows, len(engine.DatabaseGuarantees()))
	rows := map[string]Row{}
	for _, r := range tbl.Rows {
		rows[r.Mode] = r
	}
	require.Equal(t, string(engine.DBPositionsFenced), tbl.Rows[0].Mode)
	require.True(t, tbl.Rows[0].Control)
	require.True(t, tbl.Rows[0].ExactlyOnce)
	idem := rows[string(engine.DBIdempotent)]
	require.False(t, idem.Control)
	require.True(t, idem.ExactlyOnce)
	require.Equal(t, 1, idem.FalseAlarms())
	thenKafka := rows[string(engine.DBThenKafka)]
	require.False(t, thenKafka.ExactlyOnce)
	require.Equal(t, 2, thenKafka.Detected)
	require.Zero(t, thenKafka.FalseAlarms(), "a mistake's detections are catches")
	require.Equal(t, uint64(2), thenKafka.FirstSeed)

	var text strings.Builder
	require.NoError(t, WriteText(&text, tbl))
	got := text.String()
	require.Contains(t, got, "scoreboard: seeds 1-4, faults as each seed draws them; scenario orders-db\n")
	require.Regexp(t, `\ndb_positions_fenced \(control\)\s+0/4 `, got)
	require.Regexp(t, `\ndb_idempotent \(keeps exactly-once\)\s+1/4 `, got)
	require.Regexp(t, `\ndb_then_kafka\s+2/4 `, got)
	require.Contains(t, got, "false alarm: db_idempotent keeps exactly-once, yet 1 of 4 seeds failed (first seed 4): a checker or the simulator is wrong\n")
	require.NotContains(t, got, "false alarm: db_then_kafka")

	var md strings.Builder
	require.NoError(t, WriteMarkdown(&md, tbl, Provenance{Command: "simrun -scoreboard -markdown -scenario orders-db", When: time.Unix(0, 0), Machine: "m"}))
	got = md.String()
	require.Contains(t, got, "(m): scenario `orders-db`, seeds 1-4, ")
	require.Contains(t, got, "| `db_positions_fenced` (control) | 0/4 |")
	require.Contains(t, got, "| `db_idempotent` (keeps exactly-once) | 1/4 |")
	require.Contains(t, got, "\n**False alarms** (modes that keep exactly-once, caught: a checker or the simulator is wrong): `db_idempotent` failed 1 of 4 seeds (first seed 4).\n")

	var js strings.Builder
	require.NoError(t, WriteJSON(&js, tbl))
	var back struct {
		Scenario string `json:"scenario"`
		Rows     []struct {
			Mode        string `json:"mode"`
			Control     bool   `json:"control"`
			ExactlyOnce bool   `json:"exactly_once"`
		} `json:"rows"`
	}
	require.NoError(t, json.Unmarshal([]byte(js.String()), &back))
	require.Equal(t, "orders-db", back.Scenario)
	var safe []string
	for _, r := range back.Rows {
		if r.ExactlyOnce {
			safe = append(safe, r.Mode)
		}
	}
	require.Equal(t, []string{"db_positions_fenced", "db_idempotent"}, safe)
	require.True(t, back.Rows[0].Control)
}

// TestFreshTxnIDKeepsItsNote: orders' second control keeps the note the
// README's table has always shown.
func TestFreshTxnIDKeepsItsNote(t *testing.T) {
	r := Row{Mode: string(engine.FreshTransactionalID), ExactlyOnce: true, Seeds: 3, MinimalFaults: -1}
	require.Equal(t, "fresh_txn_id (safe: KIP-447)", cells(r, r.Mode)[0])
	r = Row{Mode: string(engine.AtLeastOnce), Seeds: 3, Detected: 2, MinimalFaults: -1}
	require.Equal(t, "at_least_once", cells(r, r.Mode)[0])
	require.Zero(t, r.FalseAlarms())
}

func TestRunRefusesAModeTheScenarioDoesNotRun(t *testing.T) {
	cfg := Config{Base: sim.DefaultConfig(), First: 1, Last: 2, Modes: []engine.Guarantee{engine.DBPositionsFenced, engine.AtLeastOnce}}
	cfg.Base.Scenario = "orders-db"
	run, ran := fakeRuns(nil)
	_, err := Run(context.Background(), cfg, run, nil)
	require.ErrorContains(t, err, "scenario orders-db does not run under guarantee at_least_once")
	require.Empty(t, ran(), "nothing ran")
}
