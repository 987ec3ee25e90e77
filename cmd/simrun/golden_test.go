//go:build synctests

package main

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// goldenArgs is the fixed run whose text history is the golden file: small
// enough to review as a diff, failing so it shows crashes and duplicates.
var goldenArgs = []string{"-seed", "5", "-orders", "60", "-crash-rate", "0.2", "-guarantee", "at_least_once"}

const goldenPath = "testdata/seed-5-at-least-once.history.txt"

func textHistory(t *testing.T, args ...string) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "history.txt")
	simrun(t, append(args, "-history-text", path)...)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}

// TestTextHistoryGolden pins the History of a fixed seed: any change to
// what a run does or records shows up as a diff of this file, reviewed and
// rewritten with -update.
func TestTextHistoryGolden(t *testing.T) {
	got := textHistory(t, goldenArgs...)
	if *update {
		require.NoError(t, os.WriteFile(goldenPath, got, 0o644))
	}
	want, err := os.ReadFile(goldenPath)
	require.NoError(t, err, "run with -update to create it")
	require.Equal(t, string(want), string(got), "the History of %v changed; review and rewrite with -update", goldenArgs)

	// The comparison is not vacuous: another run's History differs.
	other := textHistory(t, "-seed", "6", "-orders", "60", "-crash-rate", "0.2", "-guarantee", "at_least_once")
	require.NotEqual(t, string(want), string(other))
}

// TestReportOfAFailingSeed checks the HTML report of a failing seed for what
// it must contain: the verdict, the replay command, a timeline with a lane
// per instance, and anomalies linked to the units of work involved.
func TestReportOfAFailingSeed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.html")
	code, _ := simrun(t, append(goldenArgs, "-report", path)...)
	require.Equal(t, exitAnomaly, code)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	page := string(b)
	for _, want := range []string{
		`<svg id="timeline"`,
		`class="verdict v-fail"`,
		`data-instance="a"`, `data-instance="b"`,
		"go run -tags synctests ./cmd/simrun -seed 5 -orders 60 -guarantee at_least_once -crash-rate 0.2",
		`<span class="kind">duplicate-output</span>`,
		`<h2 id="coverage">Fault space</h2>`, "cells reached",
	} {
		require.True(t, strings.Contains(page, want), "the report lacks %s", want)
	}
	require.False(t, regexp.MustCompile(`https?://`).MatchString(page), "the report must be self-contained")
	links := regexp.MustCompile(`href="#(unit-[^"]+)"`).FindAllStringSubmatch(page, -1)
	require.NotEmpty(t, links, "no anomaly links to a unit")
	for _, l := range links {
		require.True(t, strings.Contains(page, `id="`+l[1]+`"`), "link to %s, which has no bar", l[1])
	}
}
