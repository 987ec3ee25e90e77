package live

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/goleak"

	"github.com/eosim/eosim/engine"
	"github.com/eosim/eosim/faults"
	"github.com/eosim/eosim/internal/kfakeproc"
	"github.com/eosim/eosim/invariants"
	"github.com/eosim/eosim/sim"
)

func TestMain(m *testing.M) {
	code := kfakeproc.Main(m)
	if code == 0 {
		if err := goleak.Find(); err != nil {
			os.Stderr.WriteString("live: goroutines left behind: " + err.Error() + "\n")
			code = 1
		}
	}
	os.Exit(code)
}

// threeCrashesAndAPause is the schedule of the acceptance run: three
// crashes at points across a unit, one of them inside the commit, and a
// pause past the transaction timeout, whose zombie must be fenced.
func threeCrashesAndAPause() *faults.Schedule {
	return &faults.Schedule{Faults: []faults.Fault{
		{Step: 1, Kind: faults.Crash, Instance: "a", Point: engine.AfterProduce, RestartAfter: 2},
		{Step: 2, Kind: faults.Pause, Instance: "b", Point: engine.AfterSendOffsets, PauseMs: 12000},
		{Step: 5, Kind: faults.Crash, Instance: "a", Point: engine.DuringCommit, RestartAfter: 2},
		{Step: 9, Kind: faults.Crash, Instance: "a", Point: engine.AfterCommit, RestartAfter: 1},
	}}
}

func liveConfig(addrs []string, g engine.Guarantee, sched *faults.Schedule) Config {
	run := sim.DefaultConfig()
	run.Inputs, run.Guarantee, run.Schedule = 200, g, sched
	// Long enough that a crash armed late still meets its point: in real
	// time a restarted instance may spend a few steps restoring.
	run.FaultSteps = 14
	return Config{Run: run, Bootstrap: addrs}
}

// runTopics lists the topics of the cluster whose names start with the
// run's id.
func runTopics(t *testing.T, addrs []string, runID string) []string {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...))
	require.NoError(t, err)
	defer cl.Close()
	td, err := kadm.NewClient(cl).ListTopics(context.Background())
	require.NoError(t, err)
	var names []string
	for _, n := range td.Names() {
		if strings.HasPrefix(n, runID) {
			names = append(names, n)
		}
	}
	return names
}

func firedKinds(res sim.Result) map[faults.Kind]int {
	n := make(map[faults.Kind]int)
	for _, o := range res.Faults {
		if o.Outcome == sim.Fired {
			n[o.Fault.Kind]++
		}
	}
	return n
}

func TestExactlyOncePassesUnderCrashesAndAPause(t *testing.T) {
	addrs := kfakeproc.Start(t)
	cfg := liveConfig(addrs, engine.ExactlyOnceV2, threeCrashesAndAPause())
	cfg.RunID = "eosim-live-eos"
	res, err := Run(context.Background(), cfg)
	require.NoError(t, err)
	require.Equal(t, invariants.Pass, res.Verdict(), "%v", res.Report.Anomalies)
	require.True(t, res.Complete)
	require.Equal(t, 200, res.Stats.Inputs)
	fired := firedKinds(res)
	require.Equal(t, 3, fired[faults.Crash], "%+v", res.Faults)
	require.Equal(t, 1, fired[faults.Pause], "%+v", res.Faults)
	require.Equal(t, 3, res.Stats.Crashes)
	require.Empty(t, runTopics(t, addrs, cfg.RunID), "the run's topics are removed")
}

func TestAtLeastOnceIsCaughtWithinThreeRuns(t *testing.T) {
	addrs := kfakeproc.Start(t)
	caught := 0
	for i := range 3 {
		cfg := liveConfig(addrs, engine.AtLeastOnce, threeCrashesAndAPause())
		cfg.RunID = "eosim-live-alos-" + string(rune('a'+i))
		res, err := Run(context.Background(), cfg)
		require.NoError(t, err)
		if res.Verdict() == invariants.Fail {
			caught++
			require.NotEmpty(t, res.Report.Anomalies[0].Records, "an anomaly names its records")
			break
		}
	}
	require.Positive(t, caught, "at_least_once was not caught in three runs with three crashes each")
}

func TestKeepLeavesTheTopics(t *testing.T) {
	addrs := kfakeproc.Start(t)
	cfg := liveConfig(addrs, engine.ExactlyOnceV2, &faults.Schedule{})
	cfg.Run.Inputs, cfg.Run.FaultSteps = 40, 0
	cfg.RunID, cfg.Keep = "eosim-live-keep", true
	res, err := Run(context.Background(), cfg)
	require.NoError(t, err)
	require.Equal(t, invariants.Pass, res.Verdict())
	require.ElementsMatch(t, []string{
		"eosim-live-keep-orders", "eosim-live-keep-notifications", "eosim-live-keep-inventory-changelog",
	}, runTopics(t, addrs, cfg.RunID))
}

func TestInterruptedRunRemovesItsTopicsAndKeepsItsHistory(t *testing.T) {
	addrs := kfakeproc.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := liveConfig(addrs, engine.ExactlyOnceV2, &faults.Schedule{Faults: []faults.Fault{
		{Step: 1, Kind: faults.Pause, Instance: "a", Point: engine.AfterPoll, PauseMs: 60000},
	}})
	cfg.RunID = "eosim-live-interrupted"
	cfg.Run.Progress = func(p sim.Progress) {
		if p.Step == 4 {
			cancel() // Ctrl-C, while a is paused
		}
	}
	res, err := Run(ctx, cfg)
	require.ErrorIs(t, err, sim.ErrInterrupted)
	require.Positive(t, res.Stats.Inputs, "what was recorded is kept")
	require.Len(t, res.Faults, 1)
	require.Empty(t, runTopics(t, addrs, cfg.RunID), "the run's topics are removed")
}

// TestOldClusterIsNamedWithWhatItLacks: a broker that answers as Kafka
// 0.10.2 (no transactions, no record headers) is refused before anything is
// made on it, naming what it lacks.
func TestOldClusterIsNamedWithWhatItLacks(t *testing.T) {
	addrs := kfakeproc.Start(t, "-as-version", "0.10.2")
	for _, g := range []engine.Guarantee{engine.ExactlyOnceV2, engine.AtLeastOnce} {
		cfg := liveConfig(addrs, g, nil)
		cfg.RunID = "eosim-live-old"
		_, err := Run(context.Background(), cfg)
		require.ErrorIs(t, err, ErrUnsupported, g)
		require.Contains(t, err.Error(), "Produce v3 (it has v2)", g)
		if g == engine.ExactlyOnceV2 {
			require.Contains(t, err.Error(), "InitProducerID, AddPartitionsToTxn, AddOffsetsToTxn, EndTxn, TxnOffsetCommit")
		}
		require.Empty(t, runTopics(t, addrs, cfg.RunID), "nothing is made on a cluster that is refused")
	}
}

func TestUnreachableOrWrongAddressIsOneError(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:1", "not-an-address", "localhost:notaport"} {
		cfg := liveConfig([]string{addr}, engine.ExactlyOnceV2, nil)
		cfg.ConnectTimeout = 2e9
		_, err := Run(context.Background(), cfg)
		require.ErrorIs(t, err, ErrUnreachable, addr)
		require.NotContains(t, err.Error(), "\n", addr)
	}
}

func TestResolveKeepsToWhatAClientCanDo(t *testing.T) {
	base := liveConfig([]string{"127.0.0.1:9092"}, engine.ExactlyOnceV2, nil)

	broker := base
	broker.Run.Rates.Broker = 0.1
	_, _, err := Resolve(broker)
	require.ErrorIs(t, err, ErrUnsupported)
	require.Contains(t, err.Error(), "-broker-rate")

	held := base
	held.Run.Schedule = &faults.Schedule{Faults: []faults.Fault{{Step: 1, Kind: faults.Delay, Instance: "a", Request: "EndTxn", DelayMs: 500}}}
	_, _, err = Resolve(held)
	require.ErrorIs(t, err, ErrUnsupported)

	db := base
	db.Run.Scenario, db.Run.Guarantee = "orders-db", engine.DBPositionsFenced
	_, _, err = Resolve(db)
	require.ErrorIs(t, err, ErrUnsupported)

	cells := base
	cells.Run.Swarm, cells.Run.SwarmStyle = true, faults.SwarmOfCells
	_, _, err = Resolve(cells)
	require.ErrorIs(t, err, ErrUnsupported)
	require.Contains(t, err.Error(), "cells style")

	reactions := base
	reactions.Run.Swarm, reactions.Run.SwarmStyle = true, faults.SwarmOfReactions
	_, _, err = Resolve(reactions)
	require.ErrorIs(t, err, ErrUnsupported)
	require.Contains(t, err.Error(), "reactions style")

	none := base
	none.Bootstrap = nil
	_, _, err = Resolve(none)
	require.ErrorIs(t, err, ErrUnreachable)

	// Swarm leaves out what needs the simulator, for every seed.
	for seed := uint64(1); seed <= 200; seed++ {
		sw := base
		sw.Run.Swarm, sw.Run.Seed = true, seed
		run, sched, err := Resolve(sw)
		require.NoError(t, err, "seed %d", seed)
		require.Zero(t, run.Rates.Broker+run.Rates.Cluster+run.Rates.Database, "seed %d", seed)
		for _, f := range sched.Faults {
			require.False(t, simulatorOnly(f.Kind), "seed %d: %s", seed, f)
		}
	}
}

func TestMissingAPIs(t *testing.T) {
	all := func(int16) (int16, bool) { return 10, true }
	noTxn := func(k int16) (int16, bool) { return 10, k < 22 }
	for _, tc := range []struct {
		name string
		has  func(int16) (int16, bool)
		g    engine.Guarantee
		want []string
	}{
		{"a full broker", all, engine.ExactlyOnceV2, nil},
		{"no transactions, exactly-once", noTxn, engine.ExactlyOnceV2,
			[]string{"InitProducerID", "AddPartitionsToTxn", "AddOffsetsToTxn", "EndTxn", "TxnOffsetCommit"}},
		{"no transactions, at-least-once", noTxn, engine.AtLeastOnce, nil},
		{"no record headers", func(k int16) (int16, bool) { return 2, true }, engine.AtLeastOnce,
			[]string{"Produce v3 (it has v2)", "Fetch v4 (it has v2)"}},
		{"nothing", func(int16) (int16, bool) { return 0, false }, engine.AtLeastOnce,
			[]string{"Produce", "Fetch", "ListOffsets", "Metadata", "OffsetCommit", "OffsetFetch", "FindCoordinator",
				"JoinGroup", "Heartbeat", "LeaveGroup", "SyncGroup", "DescribeGroups", "CreateTopics", "DeleteTopics"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, missingAPIs(tc.has, tc.g))
		})
	}
}
