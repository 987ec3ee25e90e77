//go:build synctests

package sim

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/eosim/eosim/engine"
	"github.com/eosim/eosim/invariants"
	"github.com/eosim/eosim/scenarios"
)

// BenchmarkJudge measures the checkers alone over the History and final
// topics of the default run of seed 1 (a pure function of them).
func BenchmarkJudge(b *testing.B) {
	var res Result
	testing.RunTests(func(string, string) (bool, error) { return true, nil }, []testing.InternalTest{{
		Name: "run",
		F:    func(t *testing.T) { res = runInBubble(t, DefaultConfig()) },
	}})
	if res.Hash == "" {
		b.Fatal("the run failed")
	}
	sc, err := scenarios.Lookup(res.Config.Scenario)
	if err != nil {
		b.Fatal(err)
	}
	spec := sc.Spec(scenarios.Params{AppID: res.Config.AppID()})
	run := invariants.Run{History: res.History, Snapshot: res.Snapshot, Complete: res.Complete}
	b.ReportAllocs()
	for b.Loop() {
		if rep := invariants.Check(spec, run); rep.Verdict != invariants.Pass {
			b.Fatalf("verdict %s", rep.Verdict)
		}
	}
}

// TestCheckSharesIndexesWithoutChangingAReport: Check computes the indexes
// several checkers use once; each checker run alone, computing its own,
// must find exactly what it found inside Check, in runs full of anomalies.
func TestCheckSharesIndexesWithoutChangingAReport(t *testing.T) {
	for _, g := range []engine.Guarantee{engine.AtLeastOnce, engine.PeekSideEffect, engine.OffsetsAfterCommit, engine.ReadUncommitted} {
		cfg := DefaultConfig()
		cfg.Guarantee, cfg.Inputs, cfg.Swarm = g, 400, true
		res := runInBubble(t, cfg)
		sc, err := scenarios.Lookup(cfg.Scenario)
		require.NoError(t, err)
		spec := sc.Spec(scenarios.Params{AppID: cfg.AppID()})
		run := invariants.Run{History: res.History, Snapshot: res.Snapshot, Complete: res.Complete}
		var alone []invariants.Anomaly
		for _, c := range invariants.All() {
			alone = append(alone, c.Check(spec, run).Anomalies...)
		}
		require.NotEmpty(t, alone, "%s: nothing to compare", g)
		require.Equal(t, alone, invariants.Check(spec, run).Anomalies, "%s", g)
	}
}
