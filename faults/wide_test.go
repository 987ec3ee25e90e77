package faults

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// Every cell of the wide space parses back to a fault that names it, and
// the space holds what the catalogue alone never gives: errors beyond it,
// applied errors, bands, rewrites.
func TestWideSpaceCellsParseBack(t *testing.T) {
	for _, withDB := range []bool{false, true} {
		space := WideSpace(withDB)
		for _, c := range space {
			f, err := ParseCell(c)
			require.NoError(t, err, c)
			require.Equal(t, c, f.Cell())
		}
		for _, want := range []string{
			"broker-error Fetch UNKNOWN_SERVER_ERROR",
			"broker-error EndTxn UNKNOWN_SERVER_ERROR applied",
			"delay EndTxn past-session",
			"rewrite Fetch partial",
			"crash at during-commit",
			"leader-move",
		} {
			require.Contains(t, space, want)
		}
		require.Equal(t, withDB, slices.Contains(space, "db-busy"))
	}
	// Every request an instance sends has its protocol errors in the space.
	space := WideSpace(false)
	for _, r := range ClientRequests() {
		require.True(t, slices.ContainsFunc(space, func(c string) bool {
			f, _ := ParseCell(c)
			return f.Kind == BrokerError && f.Request == r
		}), "no broker error on %s", r)
	}
}

// A seed's cells are the same on every call, one to three of them from
// the wide space (and a companion where one needs it), sorted, no repeats.
func TestSwarmCellsAreASeedsOwn(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		seed := rapid.Uint64().Draw(t, "seed")
		withDB := rapid.Bool().Draw(t, "withDB")
		cells := SwarmCells(seed, withDB)
		require.Equal(t, cells, SwarmCells(seed, withDB))
		require.True(t, slices.IsSorted(cells))
		require.Len(t, slices.Compact(slices.Clone(cells)), len(cells))
		require.NotEmpty(t, cells)
		space := WideSpace(withDB)
		drawn := 0
		for _, c := range cells {
			require.Contains(t, space, c)
			if !slices.ContainsFunc(cells, func(o string) bool { return CompanionOf(o) == c }) {
				drawn++
			}
		}
		require.LessOrEqual(t, drawn, maxSwarmCells)
		for _, c := range cells {
			if comp := CompanionOf(c); comp != "" {
				require.Contains(t, cells, comp, "%s needs %s beside it", c, comp)
			}
		}
	})
}

// The draw is by family first: over many seeds each family gets a share
// near its fair one, however many cells it has (broker errors have
// hundreds, membership two).
func TestSwarmCellsDrawEveryFamilyFairly(t *testing.T) {
	fams := wideFamilies(false)
	counts := map[string]int{}
	const seeds = 3000
	for seed := range uint64(seeds) {
		for _, c := range SwarmCells(seed, false) {
			counts[FamilyOf(c, false)]++
		}
	}
	// About 2 cells a seed, over len(fams) families; the process family
	// also gets the shutdowns other cells bring along.
	fair := 2 * seeds / len(fams)
	for _, f := range fams {
		require.Greater(t, counts[f.name], fair/2, "family %s drawn %d times: %v", f.name, counts[f.name], counts)
		if f.name != "process" && f.name != "cluster" {
			require.Less(t, counts[f.name], 2*fair, "family %s drawn %d times: %v", f.name, counts[f.name], counts)
		}
	}
}

func TestParseSwarmStyle(t *testing.T) {
	for _, s := range []string{"families", "cells", "reactions"} {
		st, err := ParseSwarmStyle(s)
		require.NoError(t, err)
		require.Equal(t, s, string(st))
	}
	_, err := ParseSwarmStyle("cell")
	require.ErrorContains(t, err, `swarm style "cell": want families, cells or reactions`)
}

// A hold in a band may hold any request an instance sends; one in
// milliseconds, the catalogue's lengths, only the catalogue's requests.
func TestAnyRequestCanBeHeldInABand(t *testing.T) {
	for _, r := range ClientRequests() {
		f, err := ParseCell("delay " + r + " past-session")
		require.NoError(t, err, r)
		f.Step, f.Instance = 1, "a"
		require.NoError(t, f.validate([]string{"a"}), r)
	}
	_, err := ParseCell("delay Heartbeat 500ms")
	require.ErrorIs(t, err, ErrCell)
	_, err = ParseCell("delay DescribeGroups past-session")
	require.ErrorIs(t, err, ErrCell)
	f := Fault{Step: 1, Kind: Delay, Instance: "a", Request: "Heartbeat", DelayMs: 500}
	require.Error(t, f.validate([]string{"a"}))
}
