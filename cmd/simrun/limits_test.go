//go:build synctests

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/eosim/eosim/invariants"
)

// simrunWith runs the command's body with enter and ctx and returns its
// exit code, stdout and stderr.
func simrunWith(t *testing.T, ctx context.Context, enter func(func()), args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	o, _, ok := setup(args, &stdout, &stderr)
	require.True(t, ok, "setup refused %v: %s", args, stderr.String())
	code := run(ctx, o, enter, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// inBubble is the enter of the tests: a bubble of t.
func inBubble(t *testing.T) func(func()) {
	return func(f func()) { synctest.Test(t, func(*testing.T) { f() }) }
}

// hanging is an enter whose runs never return, as a run whose goroutines
// spin without virtual time passing: it never looks at its context. They
// are let go when the test ends.
func hanging(t *testing.T) func(func()) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	return func(func()) { <-release }
}

// shortGrace makes an abandoned run cost the test little time.
func shortGrace(t *testing.T) {
	old := wallGrace
	wallGrace = 50 * time.Millisecond
	t.Cleanup(func() { wallGrace = old })
}

func TestWallLimitMakesARunStuck(t *testing.T) {
	code, out := simrun(t, "-seed", "1", "-orders", "40", "-wall-limit", "1ns")
	require.Equal(t, exitStuck, code, out)
	require.Regexp(t, `(?m)^  verdict +STUCK: the wall-time limit passed while `, out)
	require.Contains(t, out, "replay\n  go run -tags synctests ./cmd/simrun -seed 1 -orders 40\n")
}

func TestStuckSeedsOfASweep(t *testing.T) {
	code, out := simrun(t, "-seeds", "1-2", "-orders", "40", "-wall-limit", "1ns")
	require.Equal(t, exitStuck, code, out)
	require.Regexp(t, `(?m)^seed 1: stuck, .* — STUCK: the wall-time limit passed while `, out)
	require.Regexp(t, `(?m)^seed 2: stuck, `, out)
	require.Contains(t, out, "2 seeds (1-2), exactly_once_v2: 0 pass, 0 anomalies, 0 unknown, 2 stuck, 0 errors")
	require.Contains(t, out, "replay: go run -tags synctests ./cmd/simrun -seed 2 -orders 40\n")

	code, out = simrun(t, "-seeds", "1-2", "-orders", "40", "-wall-limit", "1ns", "-json")
	require.Equal(t, exitStuck, code, out)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 3, out)
	for _, l := range lines[:2] {
		var s seedLine
		require.NoError(t, json.Unmarshal([]byte(l), &s), l)
		require.Equal(t, string(invariants.Stuck), s.Verdict)
		require.Contains(t, s.Stuck, "the wall-time limit passed")
		require.NotEmpty(t, s.Replay)
	}
	var last struct{ Summary sweepSummary }
	require.NoError(t, json.Unmarshal([]byte(lines[2]), &last))
	require.Equal(t, 2, last.Summary.Stuck)
	require.Equal(t, []uint64{1, 2}, last.Summary.Failing)
	require.Equal(t, exitStuck, last.Summary.ExitCode)
}

// TestAbandonedRun: a run that never returns is given up on past the limit
// and the grace, reported stuck, and its schedule was saved before it.
func TestAbandonedRun(t *testing.T) {
	shortGrace(t)
	path := filepath.Join(t.TempDir(), "s.json")
	code, out, errOut := simrunWith(t, context.Background(), hanging(t),
		"-seed", "4", "-crash-rate", "0.3", "-wall-limit", "10ms", "-save-schedule", path)
	require.Equal(t, exitStuck, code, out+errOut)
	require.Empty(t, errOut)
	require.Contains(t, out, "  verdict       STUCK: wall-time limit passed; run abandoned\n")
	require.Regexp(t, `(?m)^    step \d+: crash `, out, "the parameters name the schedule")
	require.Contains(t, out, "replay\n  go run -tags synctests ./cmd/simrun -seed 4 -crash-rate 0.3\n")
	saved, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Contains(t, string(saved), `"kind": "crash"`)

	// A sweep goes on past an abandoned seed.
	code, out, errOut = simrunWith(t, context.Background(), hanging(t),
		"-seeds", "1-3", "-orders", "40", "-wall-limit", "10ms", "-workers", "1")
	require.Equal(t, exitStuck, code, out+errOut)
	require.Len(t, regexp.MustCompile(`(?m)^seed \d: stuck, .*STUCK: wall-time limit passed; run abandoned$`).FindAllString(out, -1), 3, out)
	require.Contains(t, out, "3 seeds (1-3), exactly_once_v2: 0 pass, 0 anomalies, 0 unknown, 3 stuck, 0 errors")
}

// TestScheduleIsSavedBeforeTheRun: the file is there when the run begins,
// and replaying it gives the run's trace hash.
func TestScheduleIsSavedBeforeTheRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.json")
	bubble := inBubble(t)
	enter := func(f func()) {
		require.FileExists(t, path, "the schedule is not there when the run begins")
		bubble(f)
	}
	code, out, errOut := simrunWith(t, context.Background(), enter, "-seed", "5", "-crash-rate", "0.2", "-orders", "200", "-save-schedule", path)
	require.Equal(t, exitPass, code, out+errOut)
	recorded := hashLine.FindStringSubmatch(out)[1]

	code, out = simrun(t, "-seed", "5", "-orders", "200", "-schedule", path)
	require.Equal(t, exitPass, code, out)
	require.Equal(t, recorded, hashLine.FindStringSubmatch(out)[1], "the saved schedule does not replay the run")
}

// TestInterruptEndsASweepPromptly cancels a sweep once its first seed
// finished while the other runs in flight never return: the sweep stops
// waiting for them and reports what finished. The bound only detects a
// hang.
func TestInterruptEndsASweepPromptly(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	bubble, hang := inBubble(t), hanging(t)
	var mu sync.Mutex
	calls := 0
	enter := func(f func()) {
		mu.Lock()
		calls++
		first := calls == 1
		mu.Unlock()
		if !first {
			hang(f)
			return
		}
		bubble(f)
		cancel()
	}
	start := time.Now()
	code, out, errOut := simrunWith(t, ctx, enter, "-seeds", "1-20", "-orders", "40", "-workers", "2")
	require.Less(t, time.Since(start), 10*time.Second, "the sweep waited for runs that never return")
	require.Equal(t, exitInterrupted, code, out+errOut)
	require.Contains(t, out, "interrupted: the totals cover the 1 seeds that finished")
	require.Contains(t, out, "1 seeds (1-20), exactly_once_v2: 1 pass, 0 anomalies, 0 unknown, 0 stuck, 0 errors")
	// With two workers, whichever seed entered first is the one that finished.
	require.Regexp(t, `(?m)^seed [12]: pass`, out)

	// -check-determinism too.
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	mu.Lock()
	calls = 0
	mu.Unlock()
	start = time.Now()
	code, out, errOut = simrunWith(t, ctx, enter, "-seeds", "1-20", "-orders", "40", "-check-determinism", "-workers", "1")
	require.Less(t, time.Since(start), 10*time.Second, "the sweep waited for runs that never return")
	require.Equal(t, exitInterrupted, code, out+errOut)
	require.Contains(t, out, "interrupted: the totals cover the 0 seeds that finished")
}

// TestRepeatRunsEachSeedUnderTwoGOMAXPROCS: -repeat 4 runs each seed 4
// times, round by round, with two GOMAXPROCS values, and the JSON lines
// carry every hash.
func TestRepeatRunsEachSeedUnderTwoGOMAXPROCS(t *testing.T) {
	def := runtime.GOMAXPROCS(0)
	bubble := inBubble(t)
	var mu sync.Mutex
	procs := map[int]int{}
	enter := func(f func()) {
		mu.Lock()
		procs[runtime.GOMAXPROCS(0)]++
		mu.Unlock()
		bubble(f)
	}
	code, out, errOut := simrunWith(t, context.Background(), enter, "-seeds", "1-2", "-orders", "40", "-check-determinism", "-repeat", "4", "-json")
	require.Equal(t, exitPass, code, out+errOut)
	require.Len(t, procs, 2, "runs by GOMAXPROCS: %v", procs)
	require.Equal(t, 4, procs[def], "runs by GOMAXPROCS: %v", procs)
	require.Equal(t, def, runtime.GOMAXPROCS(0), "GOMAXPROCS not restored")

	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 3, out)
	for _, l := range lines[:2] {
		var s seedLine
		require.NoError(t, json.Unmarshal([]byte(l), &s), l)
		require.Len(t, s.Hashes, 4)
		for _, h := range s.Hashes {
			require.Equal(t, s.Hash, h)
		}
		require.Len(t, s.GOMAXPROCS, 4)
		require.NotEqual(t, s.GOMAXPROCS[0], s.GOMAXPROCS[1])
		require.True(t, *s.Identical)
	}
	var last struct{ Summary sweepSummary }
	require.NoError(t, json.Unmarshal([]byte(lines[2]), &last))
	require.Equal(t, 4, last.Summary.Repeat)
	require.Equal(t, 2, *last.Summary.Identical)
}

// TestDivergentRepeatsAreReported: runs of a seed that part ways give both
// hashes, where they part, and the command that checks it again.
func TestDivergentRepeatsAreReported(t *testing.T) {
	o, _, ok := setup([]string{"-seeds", "1-2", "-orders", "40", "-check-determinism"}, &bytes.Buffer{}, &bytes.Buffer{})
	require.True(t, ok)
	enter := inBubble(t)
	a := runSeed(context.Background(), o, 1, enter)
	b := runSeed(context.Background(), o, 2, enter) // stands for a run of seed 1 that diverged
	// What the sweep keeps of each round (forJudging): no round keeps its
	// final topics; a later round keeps its History only where its hash
	// is not the first's.
	outs := []outcome{forJudging(a, 0, a), forJudging(a, 1, a), forJudging(b, 2, a)}
	for k, out := range outs {
		require.Empty(t, out.res.Snapshot.Committed, "round %d kept the final topics", k)
	}
	require.NotEmpty(t, outs[0].res.History.Events)
	require.Empty(t, outs[1].res.History.Events, "a round with the first's hash kept its History")
	require.NotEmpty(t, outs[2].res.History.Events, "a divergent round lost its History")
	line, _, interrupted := judgeSeed(o, 1, outs, []int{2, 1, 2})
	require.False(t, interrupted)
	require.False(t, *line.Identical)
	require.Equal(t, []string{a.res.Hash, a.res.Hash, b.res.Hash}, line.Hashes)
	require.Contains(t, line.Difference, "run 1 (GOMAXPROCS 2) hash "+a.res.Hash)
	require.Contains(t, line.Difference, "run 3 (GOMAXPROCS 2) hash "+b.res.Hash)
	require.Regexp(t, `histories differ at event \d+:\n    .+\n    .+`, line.Difference)
	require.Equal(t, "go run -tags synctests ./cmd/simrun -seed 1 -orders 40 -check-determinism -repeat 3", line.Replay)

	var buf bytes.Buffer
	printSeedLine(&buf, o, line)
	require.Contains(t, buf.String(), "NONDETERMINISTIC: run 1 (GOMAXPROCS 2)")
	require.Contains(t, buf.String(), "replay: "+line.Replay)
	sum := sweepSummary{Seeds: 1, Pass: 1, Nondeterministic: 1}
	require.Equal(t, exitAnomaly, sweepExitCode(sum))
}

// TestScoreboardCountsStuckSeeds: a stuck seed is neither a catch nor a
// pass of the control; it shows in the table and fails the control row.
func TestScoreboardCountsStuckSeeds(t *testing.T) {
	code, out, errOut := simrunWith(t, context.Background(), inBubble(t),
		"-scoreboard", "-seeds", "1-1", "-modes", "at_least_once", "-shrink-runs", "0", "-orders", "40", "-wall-limit", "1ns")
	require.Equal(t, exitAnomaly, code, out+errOut)
	require.Regexp(t, `exactly_once_v2 \(control\) +0/1 `, out)
	require.Regexp(t, `at_least_once +0/1 `, out)
	require.Contains(t, out, "exactly_once_v2: 0 seeds unknown (the run did not finish its input), 1 stuck")
	require.Contains(t, errOut, "exactly_once_v2 keeps exactly-once but had 0 failing, 0 unknown, 1 stuck and 0 erroring seeds")
	require.Contains(t, errOut, "at_least_once was never caught")
}

func TestSingleRunInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	code, out, errOut := simrunWith(t, ctx, inBubble(t), "-seed", "1", "-orders", "40")
	require.Equal(t, exitInterrupted, code, out+errOut)
	require.Contains(t, errOut, "run interrupted")
}

// TestExploredSeedsSayTheirReplay: a passing seed of a plain sweep says no
// replay command (its seed and the sweep's flags say it all), but an
// explored seed's focus was picked by the sweep, so its line carries the
// command, focus included, in text and in JSON.
func TestExploredSeedsSayTheirReplay(t *testing.T) {
	o, _, ok := setup([]string{"-seeds", "1-2", "-orders", "40"}, &bytes.Buffer{}, &bytes.Buffer{})
	require.True(t, ok)
	enter := inBubble(t)
	plain, _, _ := judgeSeed(o, 1, []outcome{runSeed(context.Background(), o, 1, enter)}, nil)
	require.Equal(t, "pass", plain.Verdict)
	require.Empty(t, plain.Replay)

	x, _, ok := setup([]string{"-seeds", "1-2", "-orders", "40", "-explore", "-swarm=cells"}, &bytes.Buffer{}, &bytes.Buffer{})
	require.True(t, ok)
	x.cfg.Focus = []string{"drop after EndTxn"}
	explored, _, _ := judgeSeed(x, 1, []outcome{runSeed(context.Background(), x, 1, enter)}, nil)
	require.Equal(t, "pass", explored.Verdict)
	require.Contains(t, explored.Replay, "-seed 1 ")
	require.Contains(t, explored.Replay, "-focus 'drop after EndTxn'")
	var buf bytes.Buffer
	printSeedLine(&buf, x, explored)
	require.Contains(t, buf.String(), "\n    replay: "+explored.Replay)
}
