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

	"github.com/eosim/eosim/engine"
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
		first, second := runOnOneAndTwo(t, cfg)
		requireReplays(t, fmt.Sprintf("seed %d", seed), first, second)
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
//   - 186: a revoke GroupTransactSession swallowed;
//   - 1672: kgo's End racing the revoke its forced heartbeat set off, and
//     kfake's choice of a group leader by map iteration.
func TestSwarmSeedsThatDivergedRepeat(t *testing.T) {
	defer goleak.VerifyNone(t)
	seeds := []uint64{215, 290, 473, 387, 150, 432, 287, 565, 867, 186, 1672}
	for _, seed := range seeds {
		cfg := DefaultConfig()
		cfg.Seed, cfg.Swarm = seed, true
		first := runInBubble(t, cfg)
		for run := 2; run <= 4; run++ {
			prev := runtime.GOMAXPROCS(1 + run%2)
			again := runInBubble(t, cfg)
			runtime.GOMAXPROCS(prev)
			if !requireReplays(t, fmt.Sprintf("swarm seed %d, run %d", seed, run), first, again) {
				break
			}
		}
		require.Equal(t, invariants.Pass, first.Verdict(), "swarm seed %d: %v", seed, first.Report.Anomalies)
	}
}

// TestRequestsRetriedTogetherReplay replays the runs in which one client
// retried two requests at one virtual instant, both having failed with the
// connection they were queued on; their goroutines raced to write to the
// new connection, and about half of all processes gave each History:
//   - orders-db 405: a heartbeat and an OffsetFetch a fault holds for 25s,
//     behind which the heartbeat is late and the member's session expires;
//   - orders 190 under offsets_after_commit: a heartbeat and an EndTxn.
//
// The retry backoff now differs by the call path that retries.
func TestRequestsRetriedTogetherReplay(t *testing.T) {
	defer goleak.VerifyNone(t)
	for _, c := range []struct {
		scenario  string
		guarantee engine.Guarantee
		seed      uint64
	}{
		{"orders-db", "db_positions_fenced", 405},
		{"orders", "offsets_after_commit", 190},
	} {
		cfg := DefaultConfig()
		cfg.Scenario, cfg.Guarantee, cfg.Seed, cfg.Swarm = c.scenario, c.guarantee, c.seed, true
		first := runInBubble(t, cfg)
		for run := 2; run <= 6; run++ {
			prev := runtime.GOMAXPROCS(1 + run%2)
			again := runInBubble(t, cfg)
			runtime.GOMAXPROCS(prev)
			if !requireReplays(t, fmt.Sprintf("%s swarm seed %d, run %d", c.scenario, c.seed, run), first, again) {
				break
			}
		}
	}
}

// TestCellSeedsThatDivergedRepeat replays the seeds of swarm's cells style
// (KIP-890 transactions) that once gave two histories, about one run in
// three each:
//   - 16: two delays armed on an instance's next OffsetForLeaderEpoch held
//     its two requests to two brokers for the same band, so both woke at
//     one instant, and which a third armed delay caught next was Go's pick;
//   - 1548 and 2376: a JoinGroup answered to a connection its client had
//     closed; kfake started the member's session clock only if Go's select
//     counted the answer as sent, and otherwise kept the member for ever.
func TestCellSeedsThatDivergedRepeat(t *testing.T) {
	defer goleak.VerifyNone(t)
	for _, c := range []struct {
		seed     uint64
		recovery engine.Recovery
		held     string // the request whose holds set the race off
	}{
		{16, engine.RecoveryRestart, "OffsetForLeaderEpoch"},
		{1548, engine.RecoveryRestart, "JoinGroup"},
		{2376, engine.RecoveryContinue, "JoinGroup"},
	} {
		cfg := DefaultConfig()
		cfg.Seed, cfg.Swarm, cfg.SwarmStyle = c.seed, true, faults.SwarmOfCells
		cfg.Recovery, cfg.FixedRecovery, cfg.FixedProtocol = c.recovery, true, true
		first := runInBubble(t, cfg)
		// The seed still sets its race off: its holds fired.
		require.True(t, slices.ContainsFunc(first.Faults, func(o FaultOutcome) bool {
			return o.Outcome == Fired && o.Fault.Kind == faults.Delay && o.Fault.Request == c.held
		}), "cells seed %d: no hold of %s fired", c.seed, c.held)
		for run := 2; run <= 6; run++ {
			prev := runtime.GOMAXPROCS(1 + run%2)
			again := runInBubble(t, cfg)
			runtime.GOMAXPROCS(prev)
			if !requireReplays(t, fmt.Sprintf("cells seed %d, run %d", c.seed, run), first, again) {
				break
			}
		}
		require.Equal(t, invariants.Pass, first.Verdict(), "cells seed %d: %v", c.seed, first.Report.Anomalies)
	}
}

// runOnOneAndTwo runs cfg twice, on one processor and then on two: the
// pair a replay test compares.
func runOnOneAndTwo(t *testing.T, cfg Config) (first, second Result) {
	t.Helper()
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	first = runInBubble(t, cfg)
	runtime.GOMAXPROCS(2)
	return first, runInBubble(t, cfg)
}

// requireReplays fails t unless two runs of one seed gave one History,
// under the race detector too, and reports whether they did. The failure
// names the seed's first difference and the command that replays it.
func requireReplays(t *testing.T, label string, first, again Result) bool {
	t.Helper()
	if first.Hash == again.Hash {
		return true
	}
	i, a, b := history.FirstDifference(first.History, again.History)
	dumpHistories(t, first.History, again.History)
	flags := fmt.Sprintf("-seed %d", first.Config.Seed)
	if first.Config.Scenario != DefaultConfig().Scenario {
		flags += " -scenario " + first.Config.Scenario
	}
	if first.Config.Guarantee != DefaultConfig().Guarantee {
		flags += " -guarantee " + string(first.Config.Guarantee)
	}
	if first.Config.Inputs != DefaultConfig().Inputs {
		flags += fmt.Sprintf(" -inputs %d", first.Config.Inputs)
	}
	if first.Config.Swarm {
		flags += " -swarm"
		if first.Config.SwarmStyle == faults.SwarmOfCells {
			flags += "=cells"
		}
	}
	if first.Config.FixedRecovery {
		flags += fmt.Sprintf(" -recovery %s", first.Config.Recovery)
	}
	if first.Config.FixedProtocol {
		flags += fmt.Sprintf(" -txn-v1=%t", first.Config.TransactionsV1)
	}
	t.Fatalf("%s gave two histories; first difference at event %d:\n%s\n%s\nreplay: go run -tags synctests ./cmd/simrun %s -check-determinism -repeat 6",
		label, i, a, b, flags)
	return false
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
		requireReplays(t, fmt.Sprintf("swarm seed %d", seed), first, second)
		require.Equal(t, invariants.Pass, first.Verdict(), "swarm seed %d (%s): %v", seed, first.Config.Rates, first.Report.Anomalies)
	}
}

// TestSwarmStylesThatFocusSeedsReplay: under swarm's cells and reactions
// styles a seed focuses on its own cells (no rates), the same on every
// resolve (under reactions, the cells of the reactions it kept); its run
// replays on one processor and on two. Every guarantee of a database
// scenario gets a reactions seed's draw less the points its units never
// reach.
func TestSwarmStylesThatFocusSeedsReplay(t *testing.T) {
	defer goleak.VerifyNone(t)
	for _, style := range []faults.SwarmStyle{faults.SwarmOfCells, faults.SwarmOfReactions} {
		for seed := uint64(1); seed <= 4; seed++ {
			cfg := DefaultConfig()
			cfg.Seed, cfg.Inputs, cfg.Swarm, cfg.SwarmStyle = seed, 300, true, style
			resolved, sched, err := cfg.Resolve()
			require.NoError(t, err)
			require.Equal(t, faults.Rates{}, resolved.Rates)
			require.NotEmpty(t, resolved.Focus)
			require.Equal(t, resolved.Focus, cfg.resolveSwarm().Focus)
			require.Equal(t, style == faults.SwarmOfReactions, len(resolved.PickedReactions()) > 0, "%s seed %d", style, seed)
			require.NotEmpty(t, sched.Faults, "%s seed %d", style, seed)
			for _, f := range sched.Faults {
				require.Contains(t, resolved.Focus, f.Cell(), "%s seed %d", style, seed)
				if style == faults.SwarmOfReactions {
					require.Contains(t, resolved.PickedReactions(), faults.ReactionOf(f.Cell()), "seed %d", seed)
				}
			}
			first, second := runOnOneAndTwo(t, cfg)
			require.Positive(t, first.FaultCounts().Fired, "%s seed %d: no fault fired", style, seed)
			requireReplays(t, fmt.Sprintf("%s seed %d", style, seed), first, second)
			require.Equal(t, invariants.Pass, first.Verdict(), "%s seed %d: %v", style, seed, first.Report.Anomalies)
		}
	}
	db := DefaultConfig()
	db.Scenario, db.Swarm, db.SwarmStyle = "orders-db", true, faults.SwarmOfReactions
	for seed := uint64(1); seed <= 20; seed++ {
		db.Seed = seed
		var byGuarantee [][]faults.Reaction
		for _, g := range []engine.Guarantee{"db_positions_fenced", "db_auto_commit"} {
			db.Guarantee = g
			resolved := db.resolveSwarm()
			for _, cell := range resolved.Focus {
				f, err := faults.ParseCell(cell)
				require.NoError(t, err)
				if f.Kind.HasPoint() {
					require.Contains(t, g.CrashPoints(), f.Point, "seed %d under %s", seed, g)
				}
			}
			byGuarantee = append(byGuarantee, resolved.PickedReactions())
		}
		require.Subset(t, byGuarantee[0], byGuarantee[1], "seed %d", seed)
	}
}
