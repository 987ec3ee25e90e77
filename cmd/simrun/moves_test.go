package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestMovesOnOneBrokerAreRefused: a cluster rate, or a plan with a leader
// or coordinator move, on the default single broker can never have an
// effect; simrun refuses it in one line with exit code 2. Swarm, which
// gives a seed that picks the cluster family three brokers, is not
// refused.
func TestMovesOnOneBrokerAreRefused(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
		return p
	}
	coordinator := write("coordinator.json", `{"faults": [{"step": 2, "kind": "coordinator-move", "restart_after": 0}]}`)
	leader := write("leader.json", `{"brokers": 1, "faults": [{"step": 2, "kind": "leader-move", "partition": 1, "restart_after": 0}]}`)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-cluster-rate", "0.1"}, "cluster rate 0.1 needs at least 2 brokers, got 1"},
		{[]string{"-seeds", "1-5", "-cluster-rate", "0.1", "-brokers", "1"}, "cluster rate 0.1 needs at least 2 brokers, got 1"},
		{[]string{"-scoreboard", "-cluster-rate", "0.1"}, "cluster rate 0.1 needs at least 2 brokers, got 1"},
		{[]string{"-schedule", coordinator}, "fault 0 (coordinator-move) needs at least 2 brokers, got 1"},
		{[]string{"-schedule", leader}, "fault 0 (leader-move) needs at least 2 brokers, got 1"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			_, code, ok := setup(tc.args, &stdout, &stderr)
			require.False(t, ok)
			require.Equal(t, exitUsage, code)
			require.Empty(t, stdout.String())
			msg := stderr.String()
			require.Equal(t, 1, strings.Count(msg, "\n"), "error is not one line: %q", msg)
			require.True(t, strings.HasPrefix(msg, "simrun: "), msg)
			require.Contains(t, msg, tc.want)
		})
	}
	for _, args := range [][]string{
		{"-cluster-rate", "0.1", "-brokers", "3"},
		{"-seeds", "1-5", "-swarm"},
		{"-schedule", coordinator, "-brokers", "2"},
	} {
		_, err := parseOptions(args, &bytes.Buffer{})
		require.NoError(t, err, "%v refused", args)
	}
}
