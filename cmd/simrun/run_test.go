//go:build synctests

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/require"
)

// simrun runs the command's body in this test's bubbles and returns its
// exit code and output.
func simrun(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	o, _, ok := setup(args, &stdout, &stderr)
	require.True(t, ok, "setup refused %v: %s", args, stderr.String())
	code := run(context.Background(), o, func(f func()) { synctest.Test(t, func(*testing.T) { f() }) }, &stdout, &stderr)
	require.Empty(t, stderr.String())
	return code, stdout.String()
}

var hashLine = regexp.MustCompile(`trace hash +([0-9a-f]{64})`)

func TestMainCommandPassesWithCrashes(t *testing.T) {
	code, out := simrun(t, "-seed", "1", "-crash-rate", "0.1")
	require.Equal(t, exitPass, code, out)
	require.Regexp(t, `crashes +[1-9]`, out)
	require.Regexp(t, hashLine, out)
	require.Contains(t, out, "go run -tags synctests ./cmd/simrun -seed 1 -crash-rate 0.1")
}

func TestSavedScheduleReplaysToTheSameHash(t *testing.T) {
	path := filepath.Join(t.TempDir(), "schedule.json")
	code, out := simrun(t, "-seed", "5", "-crash-rate", "0.2", "-save-schedule", path)
	require.Equal(t, exitPass, code, out)
	recorded := hashLine.FindStringSubmatch(out)[1]

	code, out = simrun(t, "-seed", "5", "-schedule", path)
	require.Equal(t, exitPass, code, out)
	require.Equal(t, recorded, hashLine.FindStringSubmatch(out)[1], "the replay did not reproduce the run")
	require.Contains(t, out, "-schedule "+path)
}

// A swarm seed's saved schedule is a plan with what the seed picked (3
// brokers, the protocol before KIP-890, recovery continue for seed 2):
// -schedule replays it alone.
func TestSavedSwarmScheduleReplaysAlone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "plan.json")
	code, out := simrun(t, "-seed", "2", "-swarm", "-orders", "100", "-save-schedule", path)
	require.Equal(t, exitPass, code, out)
	recorded := hashLine.FindStringSubmatch(out)[1]
	saved, err := os.ReadFile(path)
	require.NoError(t, err)
	for _, field := range []string{`"brokers": 3`, `"transactions_v1": true`, `"recovery": "continue"`, `"orders": 100`} {
		require.Contains(t, string(saved), field)
	}

	code, out = simrun(t, "-schedule", path)
	require.Equal(t, exitPass, code, out)
	require.Equal(t, recorded, hashLine.FindStringSubmatch(out)[1], "the saved plan did not replay the run")
	require.Contains(t, out, "protocol      transactions v1")
}

func TestSweepReportsAnomaliesWithExitOne(t *testing.T) {
	code, out := simrun(t, "-seeds", "1-3", "-guarantee", "at_least_once", "-crash-rate", "0.3")
	require.Equal(t, exitAnomaly, code, out)
	require.Contains(t, out, "3 seeds (1-3), at_least_once")
	require.Contains(t, out, "replay: go run -tags synctests ./cmd/simrun -seed")
}

func TestCheckDeterminism(t *testing.T) {
	code, out := simrun(t, "-seeds", "1-3", "-check-determinism")
	require.Equal(t, exitPass, code, out)
	require.Contains(t, out, "determinism: 3/3 identical")
}

func TestShardRunsOnlyItsSeeds(t *testing.T) {
	code, out := simrun(t, "-seeds", "1-8", "-shard", "2/4", "-orders", "40")
	require.Equal(t, exitPass, code, out)
	require.Regexp(t, `(?m)^seed 2: `, out)
	require.Regexp(t, `(?m)^seed 6: `, out)
	require.Len(t, regexp.MustCompile(`(?m)^seed \d+: `).FindAllString(out, -1), 2)
	require.Contains(t, out, "2 seeds (1-8, shard 2/4)")
}

func TestShrinkFindsAMinimalPlanThatReplays(t *testing.T) {
	path := filepath.Join(t.TempDir(), "min.json")
	code, out := simrun(t, "-seed", "1", "-guarantee", "at_least_once", "-shrink", "-o", path)
	require.Equal(t, exitAnomaly, code, out)
	m := regexp.MustCompile(`minimal plan: (\d+) faults \(was (\d+)\)`).FindStringSubmatch(out)
	require.NotNil(t, m, out)
	kept, was := mustAtoi(t, m[1]), mustAtoi(t, m[2])
	require.Less(t, kept, was, "shrinking removed no fault")
	require.Contains(t, out, "keeping an anomaly of kind inventory-fold")
	shrunk := hashLine.FindStringSubmatch(out)[1]

	code, out = simrun(t, "-schedule", path)
	require.Equal(t, exitAnomaly, code, out)
	require.Contains(t, out, "inventory-fold")
	require.Equal(t, shrunk, hashLine.FindStringSubmatch(out)[1], "the saved plan does not replay to the shrunk run")
}

func TestSweepJSON(t *testing.T) {
	code, out := simrun(t, "-seeds", "1-3", "-json", "-guarantee", "at_least_once", "-crash-rate", "0.3")
	require.Equal(t, exitAnomaly, code)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 4, out)
	for _, l := range lines[:3] {
		var s seedLine
		require.NoError(t, json.Unmarshal([]byte(l), &s), l)
		require.NotEmpty(t, s.Hash)
	}
	var last struct{ Summary sweepSummary }
	require.NoError(t, json.Unmarshal([]byte(lines[3]), &last))
	require.Equal(t, 3, last.Summary.Seeds)
	require.Equal(t, 3, last.Summary.Pass+last.Summary.Fail)
	require.Equal(t, exitAnomaly, last.Summary.ExitCode)
}

// TestInterruptKeepsFinishedResults sends a real SIGINT during a sweep: the
// sweep stops between two runs, prints the totals of what finished and
// exits 130.
func TestInterruptKeepsFinishedResults(t *testing.T) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var stdout, stderr bytes.Buffer
	// One run at a time, so that "no run after the interrupt" is exact.
	o, _, ok := setup([]string{"-seeds", "1-50", "-orders", "40", "-workers", "1"}, &stdout, &stderr)
	require.True(t, ok)
	runs := 0
	enter := func(f func()) {
		synctest.Test(t, func(*testing.T) { f() })
		if runs++; runs == 2 {
			require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGINT))
			<-ctx.Done() // delivered: the sweep must see it before a third run
		}
	}
	code := run(ctx, o, enter, &stdout, &stderr)
	require.Equal(t, exitInterrupted, code, stdout.String())
	require.Equal(t, 2, runs, "the sweep went on after the interrupt")
	require.Contains(t, stdout.String(), "interrupted: the totals cover the 2 seeds that finished")
	require.Contains(t, stdout.String(), "2 seeds (1-50), exactly_once_v2: 2 pass")
}

func TestScoreboardTableAndJSON(t *testing.T) {
	path := filepath.Join(t.TempDir(), "scoreboard.json")
	code, out := simrun(t, "-scoreboard", "-seeds", "1-2", "-modes", "changelog_outside_txn", "-shrink-runs", "15", "-o", path)
	require.Equal(t, exitPass, code, out)
	require.Contains(t, out, "scoreboard: seeds 1-2, faults swarm")
	require.Regexp(t, `exactly_once_v2 \(control\) +0/2 +0\.0%`, out)
	require.Regexp(t, `exactly_once_v2 \(control, recovery continue\) +0/2 +0\.0%`, out)
	require.Regexp(t, `changelog_outside_txn +[12]/2 `, out)
	require.Contains(t, out, "changelog_outside_txn, seed 1 shrunk to")

	var table struct {
		Rows []struct {
			Mode          string `json:"mode"`
			Recovery      string `json:"recovery"`
			Detected      int    `json:"detected"`
			MinimalFaults int    `json:"minimal_faults"`
		} `json:"rows"`
	}
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &table))
	require.Len(t, table.Rows, 3)
	require.Equal(t, "exactly_once_v2", table.Rows[0].Mode)
	require.Zero(t, table.Rows[0].Detected)
	// The control again, under the other recovery style.
	require.Equal(t, "exactly_once_v2", table.Rows[1].Mode)
	require.Equal(t, "continue", table.Rows[1].Recovery)
	require.Zero(t, table.Rows[1].Detected)
	require.Equal(t, "changelog_outside_txn", table.Rows[2].Mode)
	require.Positive(t, table.Rows[2].Detected)
	require.GreaterOrEqual(t, table.Rows[2].MinimalFaults, 0)
}

// TestParallelSweepPrintsInSeedOrder: with runs overlapping, the lines and
// totals are those of a one-at-a-time sweep.
func TestParallelSweepPrintsInSeedOrder(t *testing.T) {
	seedLines := regexp.MustCompile(`(?m)^seed \d+: .*?hash [0-9a-f]+`)
	_, one := simrun(t, "-seeds", "1-6", "-orders", "60", "-crash-rate", "0.2", "-workers", "1")
	_, four := simrun(t, "-seeds", "1-6", "-orders", "60", "-crash-rate", "0.2", "-workers", "4")
	require.Equal(t, seedLines.FindAllString(one, -1), seedLines.FindAllString(four, -1))
	require.Len(t, seedLines.FindAllString(four, -1), 6)
	require.Contains(t, four, "6 seeds (1-6), exactly_once_v2: 6 pass")
	require.Contains(t, four, "4 at once")
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	require.NoError(t, err)
	return n
}
