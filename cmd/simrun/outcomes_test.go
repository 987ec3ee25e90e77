//go:build synctests

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/eosim/eosim/sim"
)

// TestRunPrintsWhatBecameOfEachFault: the parameter block counts the
// schedule's faults by outcome, and each fault's line says its own.
func TestRunPrintsWhatBecameOfEachFault(t *testing.T) {
	path := filepath.Join(t.TempDir(), "plan.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"orders": 200, "instances": 3, "partitions": 2, "brokers": 3, "faults": [
		{"step": 1, "kind": "crash", "instance": "a", "point": "after-produce", "restart_after": 1},
		{"step": 1, "kind": "shutdown", "instance": "b", "restart_after": 4},
		{"step": 2, "kind": "crash", "instance": "b", "point": "after-poll", "restart_after": 1},
		{"step": 2, "kind": "coordinator-move", "restart_after": 0},
		{"step": 3, "kind": "broker-error", "instance": "a", "request": "AddOffsetsToTxn", "error": "COORDINATOR_NOT_AVAILABLE", "restart_after": 0}
	]}`), 0o644))
	code, out := simrun(t, "-schedule", path)
	require.Equal(t, exitPass, code, out)
	require.Contains(t, out, "  schedule      2 crash, 1 shutdown, 1 broker-error, 1 coordinator-move (3 fired, 1 no effect, 1 not reached)\n")
	require.Contains(t, out, "    step 1: crash a at after-produce, restart after 1 → fired\n")
	require.Contains(t, out, "    step 2: crash b at after-poll, restart after 1 → no effect (instance down)\n")
	require.Regexp(t, `    step 2: group and transaction coordinators move → fired: group coordinator now broker \d\n`, out)
	require.Regexp(t, `    step 3: a's next AddOffsetsToTxn rejected with COORDINATOR_NOT_AVAILABLE → not reached \(still armed when the (liveness phase started|input was processed)\)\n`, out)
}

// TestSweepJSONCountsFaultOutcomes: every seed line of -json carries its
// faults by outcome, and the summary adds them up.
func TestSweepJSONCountsFaultOutcomes(t *testing.T) {
	code, out := simrun(t, "-seeds", "1-3", "-json", "-orders", "100", "-crash-rate", "0.3", "-network-rate", "0.2")
	require.Equal(t, exitPass, code, out)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 4, out)
	var total sim.FaultCounts
	for _, l := range lines[:3] {
		var s struct {
			Faults *sim.FaultCounts `json:"faults"`
		}
		require.NoError(t, json.Unmarshal([]byte(l), &s), l)
		require.NotNil(t, s.Faults, "no fault counts in %s", l)
		total.Add(*s.Faults)
	}
	require.Positive(t, total.Fired)
	var last struct{ Summary sweepSummary }
	require.NoError(t, json.Unmarshal([]byte(lines[3]), &last))
	require.Equal(t, total, last.Summary.Faults)

	code, out = simrun(t, "-seeds", "1-3", "-orders", "100", "-crash-rate", "0.3", "-network-rate", "0.2")
	require.Equal(t, exitPass, code, out)
	require.Contains(t, out, "\nfaults: "+total.String()+"\n")
}
