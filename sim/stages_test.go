//go:build synctests

package sim

import (
	"fmt"
	"strings"
	"sync"
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
	return multiStageConfig(scenarios.WordCountName, g, seed)
}

// multiStageConfig is a swarm run of 400 inputs of a multi-stage scenario.
func multiStageConfig(scenario string, g engine.Guarantee, seed uint64) Config {
	cfg := DefaultConfig()
	cfg.Scenario, cfg.Guarantee, cfg.Seed, cfg.Swarm, cfg.Inputs = scenario, g, seed, true, 400
	return cfg
}

// multiStageScenarios are the built-in scenarios of several stages.
var multiStageScenarios = []string{scenarios.WordCountName, scenarios.EOSTestName, scenarios.JoinName}

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

// TestRecordCacheCoalesces: word count's counts store has a record cache,
// so its committed changelog holds fewer records than the counts the
// second stage forwarded (one per word), and each word's last changelog
// value is its last count; the oracle, judging the changelog as cached,
// passes the run.
func TestRecordCacheCoalesces(t *testing.T) {
	defer goleak.VerifyNone(t)
	cfg := wordCountConfig(engine.ExactlyOnceV2, 1)
	res := runInBubble(t, cfg)
	requirePass(t, res)
	changelog := res.Snapshot.Committed[engine.ChangelogTopic(cfg.AppID(), scenarios.CountsStore)]
	counts := res.Snapshot.Committed[scenarios.WordCountsTopic]
	require.NotEmpty(t, changelog)
	require.Less(t, len(changelog), len(counts), "the cache coalesced changelog writes")
	last := func(rs []history.Record) map[string]string {
		m := make(map[string]string)
		for _, r := range rs {
			m[r.Key] = r.Value
		}
		return m
	}
	require.Equal(t, last(counts), last(changelog))
}

// keyedEchoName is a test app whose one stage writes its sink by key: each
// line goes to the partition of its first word.
const keyedEchoName = "test-keyed-echo"

var registerKeyedEcho = sync.OnceValue(func() error {
	return scenarios.RegisterApp(scenarios.App{
		Name: keyedEchoName,
		Topology: func(prefix string) *engine.Topology {
			return &engine.Topology{Stages: []engine.Stage{{
				Name: "echo", Sources: []string{prefix + "lines"}, Sinks: []string{prefix + "by-word"}, KeyedSinks: []string{prefix + "by-word"},
				Process: func(ctx *engine.ProcessContext, rec history.Record) error {
					ctx.ForwardByKey(prefix+"by-word", strings.Fields(rec.Value)[0], rec.Key)
					return nil
				},
			}}}
		},
		Input: scenarios.WordCount().Input,
	})
})

// TestKeyedSinkRuns: a sink written by key (Stage.KeyedSinks) holds each
// record in the partition its key hashes to (a line's first word: rarely
// the partition of the line's own key, which is hashed otherwise), and the
// oracle passes the run under exactly_once_v2 and catches at_least_once.
func TestKeyedSinkRuns(t *testing.T) {
	require.NoError(t, registerKeyedEcho())
	res := runInBubble(t, multiStageConfig(keyedEchoName, engine.ExactlyOnceV2, 1))
	requirePass(t, res)
	out := res.Snapshot.Committed["by-word"]
	require.NotEmpty(t, out)
	linePartition := make(map[string]int32) // a line's key → the partition it was read from
	for _, in := range res.History.Inputs() {
		linePartition[in.Key] = in.Partition
	}
	moved := 0
	for _, r := range out {
		require.Equal(t, engine.KeyPartition(r.Key, DefaultConfig().Partitions), r.Partition, "record %v", r)
		p, ok := linePartition[r.Value]
		require.True(t, ok, "record %v echoes no input line", r)
		if p != r.Partition {
			moved++
		}
	}
	// Not vacuous: were the sink written in the input's partition, no
	// record would have moved.
	require.Greater(t, moved, len(out)/2, "records that left their line's partition")

	caught := false
	for seed := uint64(1); seed <= 5 && !caught; seed++ {
		caught = runInBubble(t, multiStageConfig(keyedEchoName, engine.AtLeastOnce, seed)).Verdict() == invariants.Fail
	}
	require.True(t, caught, "at_least_once passed seeds 1-5")
}

// TestJoinPassesEitherSideFirst: under exactly_once_v2 and swarm faults
// the join passes the oracle, and the run took both ways to a joined
// purchase: units that forwarded a purchase as it came, its customer
// already known, and units that forwarded purchases as their customer
// came after them. The serial reference takes only the first way (a
// task's customers before its repartitioned purchases), so the pass shows
// that the second writes the same.
func TestJoinPassesEitherSideFirst(t *testing.T) {
	cfg := multiStageConfig(scenarios.JoinName, engine.ExactlyOnceV2, 1)
	res := runInBubble(t, cfg)
	requirePass(t, res)
	enriched := scenarios.EnrichedTopic // the simulator prefixes no topic
	repartition := engine.RepartitionTopic(cfg.AppID(), scenarios.RekeyedPurchases)
	byPurchase, byCustomer := 0, 0
	for _, e := range res.History.Events {
		if e.Kind != history.KindUnit || e.Unit.Outcome != history.Committed {
			continue
		}
		consumed := make(map[string]bool) // purchases the unit took from the repartition topic
		for _, r := range e.Unit.Consumed {
			if r.Topic == repartition {
				purchase, _, _ := strings.Cut(r.Value, " ")
				consumed[purchase] = true
			}
		}
		for _, r := range e.Unit.Produced {
			switch {
			case r.Topic != enriched:
			case consumed[r.Key]:
				byPurchase++
			default:
				byCustomer++
			}
		}
	}
	require.Positive(t, byPurchase, "purchases joined as they came")
	require.Positive(t, byCustomer, "purchases joined as their customer came")
	t.Logf("joined as the purchase came: %d, as the customer came: %d", byPurchase, byCustomer)
}

// TestMultiStageMistakesCaught: the oracle catches at_least_once and the
// multi-stage mistakes, purging repartition records before the unit that
// consumed them commits (the unit then aborts, and what it purged is never
// processed) and reading repartition topics read_uncommitted (records of
// aborted upstream transactions are processed), in every multi-stage
// scenario; the correct engine passes the same seed.
func TestMultiStageMistakesCaught(t *testing.T) {
	for _, scenario := range multiStageScenarios {
		// A record processed twice writes a count or an aggregate that
		// should not be (unexpected), but a join's enriched purchase again
		// as it was (duplicate): each of its records is unique.
		again := invariants.OracleUnexpected
		if scenario == scenarios.JoinName {
			again = invariants.OracleDuplicate
		}
		for _, tc := range []struct {
			g    engine.Guarantee
			kind string
		}{
			{engine.AtLeastOnce, again},
			{engine.PurgeUncommitted, invariants.OracleLost},
			{engine.RepartitionReadUncommitted, again},
		} {
			t.Run(scenario+"/"+string(tc.g), func(t *testing.T) {
				res := runInBubble(t, multiStageConfig(scenario, tc.g, 1))
				require.Equal(t, invariants.Fail, res.Verdict())
				require.Contains(t, res.Report.Kinds(), tc.kind)
			})
		}
		t.Run(scenario+"/"+string(engine.ExactlyOnceV2), func(t *testing.T) {
			requirePass(t, runInBubble(t, multiStageConfig(scenario, engine.ExactlyOnceV2, 1)))
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

// TestMultiStageReplays runs seeds of every multi-stage scenario twice
// each, on one processor and on two, and requires one History. Before its
// fetches had an order of their own, kgo's map-made order decided which
// repartition partition a unit found records in, and most word count seeds
// parted within a few runs.
func TestMultiStageReplays(t *testing.T) {
	defer goleak.VerifyNone(t)
	seeds := uint64(4)
	if testing.Short() {
		seeds = 1
	}
	for _, scenario := range multiStageScenarios {
		for seed := uint64(1); seed <= seeds; seed++ {
			cfg := multiStageConfig(scenario, engine.ExactlyOnceV2, seed)
			first, second := runOnOneAndTwo(t, cfg)
			requireReplays(t, fmt.Sprintf("%s swarm seed %d", scenario, seed), first, second)
			requirePass(t, first)
		}
	}
}
