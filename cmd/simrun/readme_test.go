//go:build synctests

package main

import (
	"bufio"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// readmeExample is a command the README shows with its output: a ```sh
// block of one `go run -tags synctests ./cmd/simrun …` line, then the
// block of what it printed.
type readmeExample struct {
	line int // of the command, in README.md
	args []string
	want []string
}

const readmeCommand = "go run -tags synctests ./cmd/simrun "

// readmeExamples finds the README's commands that are followed by their
// output.
func readmeExamples(t *testing.T) []readmeExample {
	t.Helper()
	f, err := os.Open("../../README.md")
	require.NoError(t, err)
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	require.NoError(t, sc.Err())
	var out []readmeExample
	for i := 0; i+4 < len(lines); i++ {
		if lines[i] != "```sh" || !strings.HasPrefix(lines[i+1], readmeCommand) || lines[i+2] != "```" {
			continue
		}
		j := i + 3
		for j < len(lines) && lines[j] == "" {
			j++
		}
		if j >= len(lines) || lines[j] != "```" {
			continue // a command shown without its output
		}
		ex := readmeExample{line: i + 2, args: strings.Fields(strings.TrimPrefix(lines[i+1], readmeCommand))}
		for j++; j < len(lines) && lines[j] != "```"; j++ {
			ex.want = append(ex.want, lines[j])
		}
		out = append(out, ex)
	}
	return out
}

// wallTime is the one figure of a run's output that differs from machine
// to machine.
var wallTime = regexp.MustCompile(`^(\s*wall time\s+).*$`)

// TestReadmeOutputIsWhatTheCommandPrints runs every command the README shows
// with its output and requires each shown line, in order, in what the
// command prints now (a "…" line stands for lines left out; wall time is
// compared by its label only). The README's figures (verdict, counts, trace
// hash) are then what the code gives, not what it once gave.
func TestReadmeOutputIsWhatTheCommandPrints(t *testing.T) {
	examples := readmeExamples(t)
	require.GreaterOrEqual(t, len(examples), 2, "the README's shown commands were not found: is the test still reading them?")
	for _, ex := range examples {
		t.Run(strings.Join(ex.args, " "), func(t *testing.T) {
			_, got := simrun(t, ex.args...)
			gotLines := strings.Split(got, "\n")
			k := 0
			for _, w := range ex.want {
				if strings.TrimSpace(w) == "…" {
					continue
				}
				w = strings.TrimRight(w, " ")
				pattern := w
				if m := wallTime.FindStringSubmatch(w); m != nil {
					pattern = m[1]
				}
				found := false
				for ; k < len(gotLines); k++ {
					g := strings.TrimRight(gotLines[k], " ")
					if g == w || (pattern != w && strings.HasPrefix(g, pattern)) {
						found, k = true, k+1
						break
					}
				}
				require.True(t, found, "README.md:%d shows a line %q that %v no longer prints (in that order); the command prints:\n%s",
					ex.line, w, ex.args, got)
			}
		})
	}
}
