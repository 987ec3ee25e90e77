package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/eosim/eosim/history"
	"github.com/eosim/eosim/internal/kfakeproc"
)

// liveSimrun runs simrun's command line in-process, as main does but
// without a bubble: a run against a real cluster needs none.
func liveSimrun(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	o, code, ok := setup(args, &out, &errOut)
	if !ok {
		return code, out.String(), errOut.String()
	}
	code = run(context.Background(), o, func(func()) { t.Fatal("a live run entered a bubble") }, &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestLiveRunAgainstTheKfakeProcess: -bootstrap runs the orders pipeline
// against cmd/kfakebroker over loopback TCP, with three crashes; it passes
// under exactly_once_v2, says it cannot be replayed from its seed, writes
// its History, and its topics are gone afterwards.
func TestLiveRunAgainstTheKfakeProcess(t *testing.T) {
	addrs := kfakeproc.Start(t)
	dir := t.TempDir()
	plan := filepath.Join(dir, "crashes.json")
	require.NoError(t, os.WriteFile(plan, []byte(`{"faults": [
		{"step": 1, "kind": "crash", "instance": "a", "point": "after-produce", "restart_after": 2},
		{"step": 2, "kind": "crash", "instance": "b", "point": "during-commit", "restart_after": 2},
		{"step": 4, "kind": "crash", "instance": "a", "point": "after-commit", "restart_after": 1}]}`), 0o644))
	hist, page := filepath.Join(dir, "h.jsonl"), filepath.Join(dir, "r.html")
	code, out, errOut := liveSimrun(t, "-bootstrap", strings.Join(addrs, ","), "-orders", "200", "-schedule", plan, "-history", hist, "-report", page)
	require.Equal(t, exitPass, code, out+errOut)
	require.Contains(t, out, "  verdict       PASS: every checker passed\n")
	require.Contains(t, out, "  schedule      3 crash (3 fired, 0 no effect, 0 not reached)\n")
	require.Contains(t, out, "of wall time in")
	require.Contains(t, out, "cannot be replayed from its seed")
	require.Contains(t, out, "-bootstrap "+strings.Join(addrs, ","))
	f, err := os.Open(hist)
	require.NoError(t, err)
	defer f.Close()
	h, err := history.ReadJSONL(f)
	require.NoError(t, err)
	require.Len(t, h.Inputs(), 200)
	html, err := os.ReadFile(page)
	require.NoError(t, err)
	require.Contains(t, string(html), "cannot be replayed from its seed")
}

// TestLiveBadClusterIsOneLineAndExitTwo: an address nobody answers on, or
// no address at all, fails within the connect timeout with one line and
// exit code 2.
func TestLiveBadClusterIsOneLineAndExitTwo(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:1", "nohost"} {
		code, out, errOut := liveSimrun(t, "-bootstrap", addr, "-connect-timeout", "2s")
		require.Equal(t, exitUsage, code, out+errOut)
		require.Empty(t, out)
		require.Equal(t, 1, strings.Count(errOut, "\n"), errOut)
		require.True(t, strings.HasPrefix(errOut, "simrun: cluster unreachable"), errOut)
	}
	// What only the simulator can do is refused before anything runs.
	code, _, errOut := liveSimrun(t, "-bootstrap", "127.0.0.1:1", "-broker-rate", "0.1")
	require.Equal(t, exitUsage, code)
	require.Contains(t, errOut, "not supported against a real cluster: -broker-rate")
}
