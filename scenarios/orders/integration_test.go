//go:build synctests

package orders_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/eosim/eosim/engine"
	"github.com/eosim/eosim/history"
	"github.com/eosim/eosim/invariants"
	"github.com/eosim/eosim/scenarios/orders"
	"github.com/eosim/eosim/sim"
)

const (
	appID      = "orders-app"
	partitions = 4
	numOrders  = 1000
)

// pipelineRun is what one run of the pipeline left behind.
type pipelineRun struct {
	report  invariants.Report
	history history.History
	snap    history.Snapshot
}

// runWithAbruptClose runs the orders pipeline on kfake with two instances,
// closes instance "a" abruptly in the middle of a transaction (its outputs
// produced, nothing committed), starts a replacement "c", runs to the end
// and judges the result.
func runWithAbruptClose(t *testing.T, g engine.Guarantee) pipelineRun {
	t.Helper()
	ctx := context.Background()
	spec := orders.Spec(appID, orders.TopicsWithPrefix(""), orders.DefaultWorkload().InitialStock)
	cluster, err := sim.NewCluster(1, map[string]int32{
		spec.InputTopic: partitions, spec.OutputTopic: partitions, spec.ChangelogTopic: partitions,
	})
	require.NoError(t, err)
	t.Cleanup(cluster.Close)

	log := history.NewLog(time.Now)
	w := orders.DefaultWorkload()
	w.Orders = numOrders
	os, err := orders.Generate(1, w)
	require.NoError(t, err)
	require.NoError(t, orders.Produce(ctx, cluster.ClientOpts(), orders.OrdersTopic, os, partitions, 10, log))

	units := 0
	start := func(name string, hook engine.CrashHook) *engine.Instance {
		in, err := engine.New(engine.Config{
			AppID: appID, Name: name, Brokers: cluster.Brokers(), Dial: cluster.Net.DialContext,
			Guarantee: g, Topology: orders.Topology(orders.TopicsWithPrefix(""), w.InitialStock), StateDir: t.TempDir(),
			Recorder: log, CrashHook: hook,
		})
		require.NoError(t, err)
		require.NoError(t, in.Start(ctx))
		// A failing assertion must still release the instance's clients,
		// or the bubble ends with goroutines blocked.
		t.Cleanup(func() { _ = in.Close() })
		return in
	}
	crashed := false
	crashA := func(at engine.CrashSite) bool {
		if at.Point == engine.AfterProduce && !crashed && units >= 20 {
			crashed = true
			return true
		}
		return false
	}
	live := []*engine.Instance{start("a", crashA), start("b", nil)}

	committed := make(map[string]bool)
	for round := 0; len(committed) < numOrders; round++ {
		require.Less(t, round, 20000, "the run did not finish: %d of %d orders committed", len(committed), numOrders)
		for i, in := range live {
			res, err := in.Step(ctx, 10)
			switch {
			case errors.Is(err, engine.ErrCrashed), errors.Is(err, engine.ErrFailed):
				require.NoError(t, in.Close())
				live[i] = start("c", nil)
				continue
			case err != nil:
				require.NoError(t, err)
			}
			if res.Records > 0 {
				units++
			}
		}
		for _, u := range log.History().Units() {
			if u.Outcome == history.Committed {
				for _, r := range u.Consumed {
					committed[r.Value] = true
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	require.True(t, crashed, "the abrupt close never happened")
	for _, in := range live {
		require.NoError(t, in.Close())
	}
	// Let the crashed instance's transaction time out, as a reader would.
	time.Sleep(time.Minute)

	snap, err := cluster.Snapshot(ctx, appID, spec.InputTopic, spec.OutputTopic, spec.ChangelogTopic)
	require.NoError(t, err)
	h := log.History()
	report := invariants.Check(spec, invariants.Run{History: h, Snapshot: snap, Complete: true}, invariants.All()...)
	outcomes := map[history.Outcome]int{}
	for _, u := range h.Units() {
		outcomes[u.Outcome]++
	}
	t.Logf("%s: verdict %s, kinds %v, units %v, aborted records %d, virtual %v", g, report.Verdict, report.Kinds(), outcomes, abortedRecords(snap), h.Events[len(h.Events)-1].T)
	for _, a := range report.Anomalies[:min(3, len(report.Anomalies))] {
		t.Logf("  %s: %s", a.Kind, a.Summary)
	}
	return pipelineRun{report: report, history: h, snap: snap}
}

func abortedRecords(s history.Snapshot) int {
	n := 0
	for t, all := range s.Uncommitted {
		n += len(all) - len(s.Committed[t])
	}
	return n
}

func TestExactlyOnceSurvivesAbruptClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		run := runWithAbruptClose(t, engine.ExactlyOnceV2)
		require.Equal(t, invariants.Pass, run.report.Verdict, "anomalies: %+v", run.report.Anomalies)
		require.Positive(t, abortedRecords(run.snap), "no transaction was aborted: the case was vacuous")
		require.Len(t, run.snap.Committed[orders.NotificationsTopic], numOrders)
	})
}

func TestAtLeastOnceDuplicatesAfterAbruptClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		run := runWithAbruptClose(t, engine.AtLeastOnce)
		require.Equal(t, invariants.Fail, run.report.Verdict)
		require.Subset(t, run.report.Kinds(), []string{invariants.DuplicateOutput, invariants.InventoryFold})
	})
}

func TestPeekSideEffectDuplicatesAfterAbruptClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		run := runWithAbruptClose(t, engine.PeekSideEffect)
		require.Equal(t, invariants.Fail, run.report.Verdict)
		require.Contains(t, run.report.Kinds(), invariants.DuplicateOutput)
	})
}
