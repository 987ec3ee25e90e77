package faults

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/eosim/eosim/engine"
)

// TestCellsParseBack: every fault a generator draws names a cell that
// parses back into a fault naming the same cell.
func TestCellsParseBack(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		seed := rapid.Uint64().Draw(t, "seed")
		points := append(engine.CrashPoints(), engine.DBCrashPoints()...)
		s, err := GenerateAt(seed, Swarm(seed), points, []string{"a", "b"}, 20, "c")
		require.NoError(t, err)
		for _, f := range s.Faults {
			g, err := ParseCell(f.Cell())
			require.NoError(t, err, f.Cell())
			require.Equal(t, f.Cell(), g.Cell())
			require.Equal(t, f.Kind, g.Kind)
		}
	})
}

func TestParseCellRefuses(t *testing.T) {
	for _, bad := range []string{
		"", "crash", "crash at", "crash at nowhere", "crash after after-poll",
		"pause 1000ms at after-poll", "pause 3000 at after-poll",
		"broker-error EndTxn NOT_AN_ERROR", "broker-error Fetch TRANSACTION_ABORTABLE",
		"broker-error Metadata REQUEST_TIMED_OUT applied", "broker-error Produce REQUEST_TIMED_OUT applied",
		"broker-error EndTxn NOT_COORDINATOR sideways", "broker-error DescribeAcls UNKNOWN_SERVER_ERROR",
		"drop after Fetch", "drop EndTxn", "delay Produce 7ms", "delay Heartbeat 500ms",
		"db-slow 5ms", "join now", "explode",
	} {
		_, err := ParseCell(bad)
		require.ErrorIs(t, err, ErrCell, "%q", bad)
	}
}

func TestFocus(t *testing.T) {
	cells := []string{"drop after EndTxn", "pause 30000ms at after-produce", "join", "leader-move", "crash at after-process"}
	instances, spares := []string{"a", "b"}, []string{"c", "d"}
	s, err := Focus(1, cells, instances, 100, spares...)
	require.NoError(t, err)
	again, err := Focus(1, cells, instances, 100, spares...)
	require.NoError(t, err)
	require.Equal(t, s, again, "a seed gives one schedule")
	require.NoError(t, s.Validate(append(instances, spares...)))
	seen := map[string]bool{}
	for _, f := range s.Faults {
		require.Contains(t, cells, f.Cell())
		seen[f.Cell()] = true
		switch {
		case f.Kind == Join:
			require.Contains(t, spares, f.Instance)
		case f.Kind.IsCluster():
			require.Empty(t, f.Instance)
		default:
			require.Contains(t, instances, f.Instance)
		}
		if f.Kind == Crash {
			require.Positive(t, f.RestartAfter)
		}
	}
	require.Len(t, seen, len(cells), "100 steps at FocusRate draw every cell")
	// As Generate: no instance gets a fault while another keeps it busy
	// (but for overlapping pauses, and a companion beside its fault).
	companions := 0
	for i, f := range s.Faults {
		if i > 0 && f.Instance != "" && s.Faults[i-1].Instance == f.Instance && s.Faults[i-1].Step == f.Step {
			companions++
			continue
		}
		for _, g := range s.Faults[:i] {
			if f.Instance != "" && f.Instance == g.Instance && f.Kind != Pause && g.Kind != Pause {
				require.False(t, overlaps(f, g), "%s and %s", f, g)
			}
		}
	}
	require.Positive(t, companions, "at CoincideRate some faults come two at a step")

	_, err = Focus(1, []string{"crash at nowhere"}, instances, 10)
	require.ErrorIs(t, err, ErrCell)
	_, err = Focus(1, []string{"join"}, instances, 10)
	require.ErrorContains(t, err, "no spare")
	_, err = Focus(1, nil, instances, 10)
	require.Error(t, err)
	require.True(t, slices.IsSortedFunc(s.Faults, func(a, b Fault) int { return a.Step - b.Step }))
}
