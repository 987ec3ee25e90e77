//go:build synctests

package main

import (
	"bytes"
	"path/filepath"
	"regexp"
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
	code := run(o, func(f func()) { synctest.Test(t, func(*testing.T) { f() }) }, &stdout, &stderr)
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
	require.Less(t, m[1], m[2], "shrinking removed no fault")
	require.Contains(t, out, "keeping an anomaly of kind inventory-fold")
	shrunk := hashLine.FindStringSubmatch(out)[1]

	code, out = simrun(t, "-schedule", path)
	require.Equal(t, exitAnomaly, code, out)
	require.Contains(t, out, "inventory-fold")
	require.Equal(t, shrunk, hashLine.FindStringSubmatch(out)[1], "the saved plan does not replay to the shrunk run")
}
