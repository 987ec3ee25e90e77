package scoreboard

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestWriteMarkdownNamesItsSourceAndEveryRow(t *testing.T) {
	tbl := Table{First: 1, Last: 20, Swarm: true, WallMs: 61_000, Rows: []Row{
		{Mode: "exactly_once_v2", Control: true, ExactlyOnce: true, Seeds: 20, MinimalFaults: -1},
		{Mode: "at_least_once", Seeds: 20, Detected: 5, Rate: 0.25, FirstSeed: 3, MedianSeedsToDetection: 2,
			WallToFirstMs: 412, MinimalFaults: 2, Kinds: map[string]int{"duplicate-output": 7}, Stuck: 1},
	}}
	var b strings.Builder
	require.NoError(t, WriteMarkdown(&b, tbl, Provenance{
		Command: "simrun -scoreboard -markdown", When: time.Date(2026, 12, 1, 23, 0, 0, 0, time.UTC), Machine: "linux/amd64, 2 CPUs",
	}))
	got := b.String()
	require.Contains(t, got, "Written by `simrun -scoreboard -markdown` on 2026-12-01 (linux/amd64, 2 CPUs): seeds 1-20, swarm faults")
	require.Contains(t, got, "1m1s wall")
	require.Contains(t, got, "| `exactly_once_v2` (control) | 0/20 | 0.0% | - | - | - | - | - |")
	require.Contains(t, got, "| `at_least_once` | 5/20 | 25.0% | 2 | 3 | 412ms | 2 | duplicate-output 7 |")
	require.Contains(t, got, "Not judged: `at_least_once`: 0 unknown, 1 stuck, 0 errors.")
}

// Each swarm style names itself at the head of the table, in Markdown and
// in text.
func TestTablesNameTheirSwarmStyle(t *testing.T) {
	for style, want := range map[string]string{
		"":          "each seed picks its fault families and rates",
		"cells":     "each seed focuses on a few cells of the wide fault space",
		"reactions": "each seed keeps about half the reactions and focuses on their cells",
	} {
		tbl := Table{First: 1, Last: 2, Swarm: true, SwarmStyle: style}
		var md, text strings.Builder
		require.NoError(t, WriteMarkdown(&md, tbl, Provenance{Command: "simrun -scoreboard -markdown"}))
		require.NoError(t, WriteText(&text, tbl))
		require.Contains(t, md.String(), want, style)
		require.Contains(t, text.String(), want, style)
	}
}
