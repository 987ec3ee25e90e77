//go:build synctests

package sim

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/eosim/eosim/faults"
	"github.com/eosim/eosim/history"
	"github.com/eosim/eosim/invariants"
)

// TestSameSeedSameHistory runs seeds twice each, once on one processor and
// once on two, and requires identical trace hashes: determinism is measured,
// not assumed.
func TestSameSeedSameHistory(t *testing.T) {
	defer goleak.VerifyNone(t)
	seeds := 20
	if testing.Short() {
		seeds = 5
	}
	for seed := 1; seed <= seeds; seed++ {
		cfg := DefaultConfig()
		cfg.Seed = uint64(seed)
		prev := runtime.GOMAXPROCS(1)
		first := runInBubble(t, cfg)
		runtime.GOMAXPROCS(2)
		second := runInBubble(t, cfg)
		runtime.GOMAXPROCS(prev)
		if first.Hash != second.Hash {
			dumpHistories(t, first.History, second.History)
			i, a, b := history.FirstDifference(first.History, second.History)
			t.Fatalf("seed %d gave two histories; first difference at event %d:\n%s\n%s", seed, i, a, b)
		}
		require.Equal(t, invariants.Pass, first.Verdict(), "seed %d: %v", seed, first.Report.Anomalies)
	}
}

// TestSwarmSeedsThatDivergedRepeat replays swarm seeds that once gave two
// histories, each for a race since removed. Each diverged in a few runs of
// a hundred to half of its runs:
//   - 215: the requests queued behind a delayed one, answered at one
//     instant, woke the client's goroutines together;
//   - 290: a delay aimed at "the next Produce" when three went out together;
//     later, fenced epochs met on several brokers at once after a restart;
//   - 473: two members whose sessions expired at one instant;
//   - 387: a pause frozen on the unit's goroutine while the fetches its poll
//     set off were going out, and kfake's answer to epoch validation after a
//     leader move, which kgo took for lost records;
//   - 150: a zombie's restart after NOT_COORDINATOR, gone with the pause fix;
//   - 432: the connections a broker restart cuts, closed one by one while
//     the clients wrote again;
//   - 287: a heartbeat due at the instant of a commit;
//   - 565: a dropped connection noticed by several goroutines at once; and,
//     under the race detector, the fetches a poll woke racing the unit's
//     first transactional request into kgo's queue for one broker;
//   - 867: an epoch a restart took back;
//   - 186: a revoke GroupTransactSession swallowed.
func TestSwarmSeedsThatDivergedRepeat(t *testing.T) {
	defer goleak.VerifyNone(t)
	seeds := []uint64{215, 290, 473, 387, 150, 432, 287, 565, 867, 186}
	if raceEnabled {
		// The race detector's scheduler picks at random among goroutines
		// woken together. 287 then parts ways in a run of six: a forced
		// heartbeat inside GroupTransactSession.End answers
		// REBALANCE_IN_PROGRESS, and End's check of the session and the
		// revoke that heartbeat sets off race for one mutex inside kgo,
		// with no request between them for the simulator to order (see
		// faults/doc.go). The plain test step replays it.
		seeds = slices.DeleteFunc(seeds, func(s uint64) bool { return s == 287 })
		t.Log("under -race: every seed but 287; the test run without -race replays all")
	}
	for _, seed := range seeds {
		cfg := DefaultConfig()
		cfg.Seed, cfg.Swarm = seed, true
		first := runInBubble(t, cfg)
		for run := 2; run <= 4; run++ {
			prev := runtime.GOMAXPROCS(1 + run%2)
			again := runInBubble(t, cfg)
			runtime.GOMAXPROCS(prev)
			if again.Hash != first.Hash {
				dumpHistories(t, first.History, again.History)
				i, a, b := history.FirstDifference(first.History, again.History)
				t.Fatalf("swarm seed %d, run %d: first difference at event %d:\n%s\n%s", seed, run, i, a, b)
			}
		}
		require.Equal(t, invariants.Pass, first.Verdict(), "swarm seed %d: %v", seed, first.Report.Anomalies)
	}
}

// dumpHistories writes both histories to $EOSIM_DUMP_DIR, if set, to diff.
func dumpHistories(t *testing.T, hs ...history.History) {
	dir := os.Getenv("EOSIM_DUMP_DIR")
	if dir == "" {
		return
	}
	for i, h := range hs {
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("history-%d.jsonl", i+1)))
		require.NoError(t, err)
		require.NoError(t, h.WriteJSONL(f))
		require.NoError(t, f.Close())
	}
}

// TestReplayedScheduleReproducesTheRun replays a generated schedule as a
// saved one (through its JSON) and requires the same History.
func TestReplayedScheduleReproducesTheRun(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Seed, cfg.Rates.Crash = 11, 0.3
	original := runInBubble(t, cfg)
	require.NotEmpty(t, original.Schedule.Faults)
	saved, err := faults.Parse(original.Schedule.MarshalIndent())
	require.NoError(t, err)
	cfg.Schedule, cfg.Rates = &saved, faults.Rates{}
	replayed := runInBubble(t, cfg)
	require.Equal(t, original.Hash, replayed.Hash)
}

// TestSwarmIsDeterministic repeats the determinism check with every fault
// family in play, each seed picking its own mix.
func TestSwarmIsDeterministic(t *testing.T) {
	for seed := uint64(1); seed <= 10; seed++ {
		cfg := DefaultConfig()
		cfg.Seed, cfg.Swarm = seed, true
		first, second := runInBubble(t, cfg), runInBubble(t, cfg)
		if first.Hash != second.Hash {
			dumpHistories(t, first.History, second.History)
			i, a, b := history.FirstDifference(first.History, second.History)
			t.Fatalf("swarm seed %d gave two histories; first difference at event %d:\n%s\n%s", seed, i, a, b)
		}
		require.Equal(t, invariants.Pass, first.Verdict(), "swarm seed %d (%s): %v", seed, first.Config.Rates, first.Report.Anomalies)
	}
}
