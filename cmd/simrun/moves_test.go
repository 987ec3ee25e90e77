package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestMovesWithBrokersAreAccepted: moves refused on one broker (see
// TestBadInputIsOneLineAndExitTwo) are accepted with two or more, and swarm,
// which gives a seed that picks the cluster family three brokers, is never
// refused.
func TestMovesWithBrokersAreAccepted(t *testing.T) {
	coordinator := filepath.Join(t.TempDir(), "coordinator.json")
	require.NoError(t, os.WriteFile(coordinator, []byte(`{"faults": [{"step": 2, "kind": "coordinator-move", "restart_after": 0}]}`), 0o644))
	for _, args := range [][]string{
		{"-cluster-rate", "0.1", "-brokers", "3"},
		{"-seeds", "1-5", "-swarm"},
		{"-schedule", coordinator, "-brokers", "2"},
	} {
		_, err := parseOptions(args, &bytes.Buffer{})
		require.NoError(t, err, "%v refused", args)
	}
}
