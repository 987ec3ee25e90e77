//go:build synctests

package sim

import (
	"fmt"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/require"

	"github.com/eosim/eosim/engine"
	"github.com/eosim/eosim/faults"
	"github.com/eosim/eosim/history"
)

// outcomeLines returns the History's outcome lines (fired, no effect, not
// reached), in order.
func outcomeLines(h history.History) []history.Event {
	var evs []history.Event
	for _, ev := range h.Events {
		if ev.Kind != history.KindFault {
			continue
		}
		if strings.HasPrefix(ev.Detail, "fired: ") || strings.HasPrefix(ev.Detail, "no effect (") ||
			strings.HasPrefix(ev.Detail, "not reached (") {
			evs = append(evs, ev)
		}
	}
	return evs
}

// requireOneOutcomeEach checks that every fault of the schedule has one
// outcome in the Result, in the schedule's order, and one line in the
// History.
func requireOneOutcomeEach(t *testing.T, res Result) {
	t.Helper()
	require.Len(t, res.Faults, len(res.Schedule.Faults))
	for i, o := range res.Faults {
		require.Equal(t, res.Schedule.Faults[i], o.Fault)
		require.Contains(t, []Outcome{Fired, NoEffect, NotReached}, o.Outcome, "fault %d: %s", i, o.Fault)
	}
	require.Len(t, outcomeLines(res.History), len(res.Schedule.Faults), "one outcome line per fault")
	c := res.FaultCounts()
	require.Equal(t, len(res.Faults), c.Fired+c.NoEffect+c.NotReached)
}

// TestEveryOutcomeAppears builds a schedule with a fault of each outcome:
// a crash that fires, a crash of an instance a shutdown took down (no
// effect), and a crash of an instance that owns no partition, so runs no
// unit and never reaches the point before the fault phase ends (not
// reached).
func TestEveryOutcomeAppears(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Inputs, cfg.Instances, cfg.Partitions, cfg.FaultSteps = 200, 3, 2, 6
	cfg.Schedule = &faults.Schedule{Faults: []faults.Fault{
		{Step: 1, Kind: faults.Crash, Instance: "a", Point: engine.AfterProduce, RestartAfter: 1},
		{Step: 1, Kind: faults.Shutdown, Instance: "b", RestartAfter: 4},
		{Step: 2, Kind: faults.Crash, Instance: "b", Point: engine.AfterPoll, RestartAfter: 1},
		{Step: 2, Kind: faults.Crash, Instance: "c", Point: engine.AfterProduce, RestartAfter: 1},
	}}
	res := runInBubble(t, cfg)
	requirePass(t, res)
	requireOneOutcomeEach(t, res)

	want := []struct {
		outcome Outcome
		detail  string
	}{
		{Fired, cfg.Schedule.Faults[0].String()},
		{Fired, cfg.Schedule.Faults[1].String()},
		{NoEffect, "instance down"},
		{NotReached, "still armed when the liveness phase started"},
	}
	for i, w := range want {
		require.Equal(t, w.outcome, res.Faults[i].Outcome, "fault %d: %+v", i, res.Faults[i])
		require.Equal(t, w.detail, res.Faults[i].Detail, "fault %d", i)
	}
	require.Equal(t, FaultCounts{Fired: 2, NoEffect: 1, NotReached: 1}, res.FaultCounts())
	require.Equal(t, 1, res.Stats.Crashes, "only a's crash fired")

	var lines []string // in the order they happened
	for _, ev := range outcomeLines(res.History) {
		lines = append(lines, ev.Instance+" "+ev.Fault+": "+ev.Detail)
	}
	fs := cfg.Schedule.Faults
	require.Equal(t, []string{
		"b shutdown: fired: " + fs[1].String(),
		"a crash: fired: " + fs[0].String(),
		"b crash: no effect (instance down): " + fs[2].String(),
		"c crash: not reached (still armed when the liveness phase started): " + fs[3].String(),
	}, lines)
}

// TestFaultsAfterTheInputAreNotReached: a run that processes its input
// before a fault's step ends with that fault not reached, and with what was
// armed then not reached either.
func TestFaultsAfterTheInputAreNotReached(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Inputs, cfg.Partitions, cfg.FaultSteps = 40, 2, 500
	cfg.Schedule = &faults.Schedule{Faults: []faults.Fault{
		// Never sent under transactions v2: armed until the end.
		{Step: 1, Kind: faults.BrokerError, Instance: "a", Request: "AddOffsetsToTxn", Error: "COORDINATOR_NOT_AVAILABLE"},
		{Step: 400, Kind: faults.Crash, Instance: "a", Point: engine.AfterPoll, RestartAfter: 1},
	}}
	res := runInBubble(t, cfg)
	requirePass(t, res)
	requireOneOutcomeEach(t, res)
	require.Equal(t, NotReached, res.Faults[0].Outcome)
	require.Equal(t, "still armed when the input was processed", res.Faults[0].Detail)
	require.Equal(t, NotReached, res.Faults[1].Outcome)
	require.Equal(t, "the input was processed before step 400", res.Faults[1].Detail)
}

// TestBrokerErrorUnderFreshTxnIDFires: under fresh_txn_id an instance's
// transactional id carries its incarnation; a broker error aimed at its
// EndTxn must fire, before and after a restart.
func TestBrokerErrorUnderFreshTxnIDFires(t *testing.T) {
	for _, tc := range []struct {
		name string
		fs   []faults.Fault
	}{
		{"first incarnation", nil},
		// After a commit: no transaction of the first incarnation stays
		// open to hold the second's restore back past the fault phase.
		{"after a restart", []faults.Fault{{Step: 1, Kind: faults.Crash, Instance: "a", Point: engine.AfterCommit, RestartAfter: 1}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := append(tc.fs, faults.Fault{Step: 4, Kind: faults.BrokerError, Instance: "a", Request: "EndTxn", Error: "TRANSACTION_ABORTABLE"})
			res := runSchedule(t, engine.FreshTransactionalID, fs...)
			requirePass(t, res)
			requireOneOutcomeEach(t, res)
			last := res.Faults[len(res.Faults)-1]
			require.Equal(t, Fired, last.Outcome, "%+v", last)
			for _, o := range res.Faults {
				require.Equal(t, Fired, o.Outcome, "%+v", o)
			}
		})
	}
	require.Equal(t, "eosim-orders-a-3", transactionalID(Config{Scenario: "orders", Guarantee: engine.FreshTransactionalID}, "a", 3))
	require.Equal(t, "eosim-orders-a", transactionalID(Config{Scenario: "orders", Guarantee: engine.ExactlyOnceV2}, "a", 3))
}

// TestCoordinatorMovesAlwaysMove: on three brokers, each coordinator move
// fires and puts the group coordinator on a broker other than the one it
// was on.
func TestCoordinatorMovesAlwaysMove(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Inputs, cfg.Brokers = 400, 3
	var fs []faults.Fault
	for step := 2; step < 8; step++ {
		fs = append(fs, faults.Fault{Step: step, Kind: faults.CoordinatorMove})
	}
	cfg.Schedule = &faults.Schedule{Faults: fs}
	res := runInBubble(t, cfg)
	requirePass(t, res)
	requireOneOutcomeEach(t, res)
	prev := initialCoordinator(t, cfg)
	for i, o := range res.Faults {
		require.Equal(t, Fired, o.Outcome, "move %d: %+v", i, o)
		var now int32
		_, err := fmt.Sscanf(o.Detail, "group coordinator now broker %d", &now)
		require.NoError(t, err, o.Detail)
		require.NotEqual(t, prev, now, "move %d left the group coordinator on broker %d", i, now)
		prev = now
	}
}

// initialCoordinator is the group coordinator of cfg's cluster before any
// move.
func initialCoordinator(t *testing.T, cfg Config) int32 {
	var n int32
	synctest.Test(t, func(t *testing.T) {
		c, err := NewCluster(cfg.Brokers, map[string]int32{"t": 1})
		require.NoError(t, err)
		defer c.Close()
		n = c.Fake.CoordinatorFor(cfg.AppID())
	})
	return n
}

// TestMoveCoordinatorsMovesEveryKey: kfake's MoveCoordinators (eosim's
// addition) moves every key it is given off its broker, move after move,
// and cannot move anything on one broker.
func TestMoveCoordinatorsMovesEveryKey(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, err := NewCluster(3, map[string]int32{"t": 1})
		require.NoError(t, err)
		defer c.Close()
		keys := []string{"eosim-orders", "eosim-orders-a", "eosim-orders-b"}
		for move := range 20 {
			var before []int32
			for _, k := range keys {
				before = append(before, c.Fake.CoordinatorFor(k))
			}
			nodes, moved := c.Fake.MoveCoordinators(keys...)
			require.True(t, moved)
			for i, k := range keys {
				require.Equal(t, nodes[i], c.Fake.CoordinatorFor(k), "move %d: %s", move, k)
				require.NotEqual(t, before[i], nodes[i], "move %d left %s on broker %d", move, k, nodes[i])
			}
		}
	})
	synctest.Test(t, func(t *testing.T) {
		c, err := NewCluster(1, map[string]int32{"t": 1})
		require.NoError(t, err)
		defer c.Close()
		_, moved := c.Fake.MoveCoordinators("eosim-orders")
		require.False(t, moved)
	})
}

// TestSwarmNeverMovesOnOneBroker: a swarm seed that picks the cluster
// family runs on three brokers, whatever the config said, so Validate
// never refuses a swarm run.
func TestSwarmNeverMovesOnOneBroker(t *testing.T) {
	picked := 0
	for seed := uint64(1); seed <= 200; seed++ {
		cfg := DefaultConfig()
		cfg.Seed, cfg.Swarm = seed, true
		require.NoError(t, cfg.Validate())
		got, sched, err := cfg.Resolve()
		require.NoError(t, err)
		if got.Rates.Cluster > 0 {
			picked++
			require.Equal(t, 3, got.Brokers, "seed %d", seed)
		}
		got.Schedule, got.Swarm = &sched, false
		require.NoError(t, got.Validate(), "seed %d: the resolved run is refused", seed)
	}
	require.Positive(t, picked, "no seed picked the cluster family")
}
