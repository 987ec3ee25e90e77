//go:build synctests

package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCoverageOfASweep: -coverage prints the cells a sweep reached, each
// with its outcomes and what the instance did next, then those never
// reached with the reason where one is known; -json puts the map in the
// summary.
func TestCoverageOfASweep(t *testing.T) {
	code, out := simrun(t, "-seeds", "1-12", "-swarm", "-orders", "200", "-coverage")
	require.Equal(t, exitPass, code, out)
	m := regexp.MustCompile(`(?m)^coverage: (\d+) of (\d+) cells reached$`).FindStringSubmatch(out)
	require.NotNil(t, m, out)
	require.NotEqual(t, "0", m[1])
	require.Regexp(t, `(?m)^  crash at \S+ +fired \d+.*; then `, out)
	require.Contains(t, out, "never reached (")
	require.Contains(t, out, "drop after OffsetCommit")
	require.Contains(t, out, "exactly_once_v2 never sends OffsetCommit")

	code, js := simrun(t, "-seeds", "1-3", "-swarm", "-orders", "200", "-coverage", "-json")
	require.Equal(t, exitPass, code, js)
	lines := strings.Split(strings.TrimSpace(js), "\n")
	var last struct {
		Summary struct {
			Coverage *struct {
				Cells   int                       `json:"cells"`
				Reached map[string]map[string]any `json:"reached"`
				Never   []struct {
					Cell string `json:"cell"`
					Why  string `json:"why"`
				} `json:"never_reached"`
			} `json:"coverage"`
		} `json:"summary"`
	}
	require.NoError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &last))
	require.NotNil(t, last.Summary.Coverage)
	require.Equal(t, last.Summary.Coverage.Cells, len(last.Summary.Coverage.Reached)+len(last.Summary.Coverage.Never))
}

// TestCoverageOfOneRun: -coverage on one run prints that run's cells.
func TestCoverageOfOneRun(t *testing.T) {
	code, out := simrun(t, "-seed", "1", "-crash-rate", "0.1", "-coverage")
	require.Equal(t, exitPass, code, out)
	require.Regexp(t, `(?m)^coverage: \d+ of \d+ cells reached$`, out)
	require.Regexp(t, `(?m)^  crash at \S+ +fired \d+`, out)
}

// TestFocusReplays: a focused run says so in its parameters, and its
// replay command, -focus included, gives the same run.
func TestFocusReplays(t *testing.T) {
	code, out := simrun(t, "-seed", "2", "-orders", "200", "-focus", "drop after EndTxn, pause 15000ms at after-poll")
	require.Equal(t, exitPass, code, out)
	require.Contains(t, out, "  faults        focus: drop after EndTxn, pause 15000ms at after-poll\n")
	require.Contains(t, out, "-focus 'drop after EndTxn,pause 15000ms at after-poll'")
	args := replayArgs(t, out)
	// The command line's quotes are the shell's: split as a shell would.
	joined := strings.Join(args, " ")
	i := strings.Index(joined, "'")
	j := strings.LastIndex(joined, "'")
	argv := append(strings.Fields(joined[:i]), joined[i+1:j])
	argv = append(argv, strings.Fields(joined[j+1:])...)
	code, again := simrun(t, argv...)
	require.Equal(t, exitPass, code, again)
	require.Equal(t, hashLine.FindStringSubmatch(out)[1], hashLine.FindStringSubmatch(again)[1])
}

// TestExplore: -explore focuses each seed on cells not yet reached, ends
// with the map, and a failing seed's replay command, its focus included,
// gives the same run.
func TestExplore(t *testing.T) {
	code, out := simrun(t, "-seeds", "1-16", "-orders", "200", "-explore", "-guarantee", "at_least_once")
	require.Equal(t, exitAnomaly, code, out)
	require.Regexp(t, `(?m)^coverage: \d+ of \d+ cells reached$`, out)
	m := regexp.MustCompile(`(?m)^replay: go run -tags synctests \./cmd/simrun (.*) -focus '([^']*)'(.*)$`).FindStringSubmatch(out)
	require.NotNil(t, m, out)
	require.Contains(t, m[1]+m[3], "-swarm")
	argv := append(strings.Fields(m[1]), "-focus", m[2])
	argv = append(argv, strings.Fields(m[3])...)
	code, again := simrun(t, argv...)
	require.Equal(t, exitAnomaly, code, again)
	require.Contains(t, again, "  faults        focus: ")
}
