//go:build synctests

package sim

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/eosim/eosim/engine"
	"github.com/eosim/eosim/faults"
	"github.com/eosim/eosim/history"
	"github.com/eosim/eosim/invariants"
	"github.com/eosim/eosim/scenarios"
)

// wordCountConfig is a swarm run of the two-stage word count scenario.
func wordCountConfig(g engine.Guarantee, seed uint64) Config {
	cfg := DefaultConfig()
	cfg.Scenario, cfg.Guarantee, cfg.Seed, cfg.Swarm, cfg.Inputs = scenarios.WordCountName, g, seed, true, 400
	return cfg
}

// TestWordCountPassesAndPurges: under exactly_once_v2 and swarm faults,
// the two-stage topology passes the oracle; its second stage consumed the
// repartition topic, and what it committed of it was purged.
func TestWordCountPassesAndPurges(t *testing.T) {
	defer goleak.VerifyNone(t)
	res := runInBubble(t, wordCountConfig(engine.ExactlyOnceV2, 1))
	requirePass(t, res)
	require.Equal(t, []string{invariants.OracleDuplicate, invariants.OracleLost, invariants.OracleUnexpected}, res.Report.Checked)
	repartition := engine.RepartitionTopic(wordCountConfig(engine.ExactlyOnceV2, 1).AppID(), scenarios.WordsRepartition)
	consumed, purged := 0, 0
	for _, e := range res.History.Events {
		if e.Kind == history.KindUnit && e.Unit.Outcome == history.Committed {
			for _, r := range e.Unit.Consumed {
				if r.Topic == repartition {
					consumed++
				}
			}
		}
		if e.Kind == history.KindNote && strings.HasPrefix(e.Detail, "purged "+repartition) {
			purged++
		}
	}
	require.Positive(t, consumed, "the second stage read the repartition topic")
	require.Positive(t, purged, "committed repartition records were purged")
}

// TestWordCountMistakesCaught: the oracle catches at_least_once and the
// multi-stage mistake, purging repartition records before the unit that
// consumed them commits (the unit then aborts, and what it purged is never
// processed).
func TestWordCountMistakesCaught(t *testing.T) {
	for _, tc := range []struct {
		g    engine.Guarantee
		kind string
	}{
		{engine.AtLeastOnce, invariants.OracleUnexpected},
		{engine.PurgeUncommitted, invariants.OracleLost},
	} {
		t.Run(string(tc.g), func(t *testing.T) {
			res := runInBubble(t, wordCountConfig(tc.g, 1))
			require.Equal(t, invariants.Fail, res.Verdict())
			require.Contains(t, res.Report.Kinds(), tc.kind)
		})
	}
}

// TestWordCountContinuesAfterAnAnswerLost: under RecoveryContinue an
// EndTxn whose answer is lost (the transaction committed) is aborted and
// the instance carries on, rewound to what the group committed on every
// topic it reads, the repartition topic too; the oracle passes.
func TestWordCountContinuesAfterAnAnswerLost(t *testing.T) {
	cfg := wordCountConfig(engine.ExactlyOnceV2, 1)
	cfg.Swarm, cfg.Recovery = false, engine.RecoveryContinue
	cfg.Schedule = &faults.Schedule{Faults: []faults.Fault{{Step: 4, Kind: faults.Drop, Instance: "a", Request: "EndTxn"}}}
	res := runInBubble(t, cfg)
	requireFired(t, res, "a")
	requirePass(t, res)
	require.Empty(t, restartNotes(res.History, "a"))
	notes := continuedNotes(res.History, "a")
	require.Len(t, notes, 1, "a did not abort and continue")
	repartition := engine.RepartitionTopic(cfg.AppID(), scenarios.WordsRepartition)
	require.Contains(t, notes[0], repartition+"/", "the rewind covers the repartition topic")
}

// TestWordCountReplays runs word count seeds twice each, on one processor
// and on two, and requires one History. Before its fetches had an order of
// their own, kgo's map-made order decided which repartition partition a
// unit found records in, and most seeds parted within a few runs.
func TestWordCountReplays(t *testing.T) {
	defer goleak.VerifyNone(t)
	seeds := uint64(6)
	if testing.Short() {
		seeds = 2
	}
	for seed := uint64(1); seed <= seeds; seed++ {
		cfg := wordCountConfig(engine.ExactlyOnceV2, seed)
		prev := runtime.GOMAXPROCS(1)
		first := runInBubble(t, cfg)
		runtime.GOMAXPROCS(2)
		second := runInBubble(t, cfg)
		runtime.GOMAXPROCS(prev)
		requireReplays(t, fmt.Sprintf("word count swarm seed %d", seed), first, second)
		requirePass(t, first)
	}
}
