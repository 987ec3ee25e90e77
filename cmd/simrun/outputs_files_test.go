//go:build synctests

package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestProfilesAreWritten: -cpuprofile and -memprofile write pprof files
// (gzipped protocol buffers) for a run and for a sweep.
func TestProfilesAreWritten(t *testing.T) {
	for _, args := range [][]string{
		{"-seed", "2", "-orders", "100"},
		{"-seeds", "1-3", "-orders", "100"},
	} {
		dir := t.TempDir()
		cpu, mem := filepath.Join(dir, "cpu.out"), filepath.Join(dir, "mem.out")
		code, out, errOut := simrunWith(t, context.Background(), inBubble(t), append(args, "-cpuprofile", cpu, "-memprofile", mem)...)
		require.Equal(t, exitPass, code, out+errOut)
		for _, f := range []string{cpu, mem} {
			b, err := os.ReadFile(f)
			require.NoError(t, err)
			require.Greater(t, len(b), 2, "%s is empty", f)
			require.Equal(t, []byte{0x1f, 0x8b}, b[:2], "%s is not a pprof profile", f)
		}
	}
}

// TestProfileThatCannotBeWrittenIsRefusedFirst: a profile path that cannot
// be created is one line and exit 2, before anything runs.
func TestProfileThatCannotBeWrittenIsRefusedFirst(t *testing.T) {
	for _, flag := range []string{"-cpuprofile", "-memprofile"} {
		saved := filepath.Join(t.TempDir(), "s.json")
		code, out, errOut := simrunWith(t, context.Background(), inBubble(t),
			"-seed", "2", "-orders", "100", "-save-schedule", saved, flag, filepath.Join(t.TempDir(), "missing", "p.out"))
		require.Equal(t, exitUsage, code)
		require.Empty(t, out)
		require.Equal(t, 1, strings.Count(errOut, "\n"), errOut)
		require.Contains(t, errOut, "simrun: "+flag+": ")
		require.NoFileExists(t, saved, "the run went ahead")
	}
}

// TestWireLogIsTheBrokersViewAndChangesNothing: -wire writes a line per
// request read and answer written, and recording it leaves the run as it
// was (same trace hash).
func TestWireLogIsTheBrokersViewAndChangesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "wire.txt")
	code, out, errOut := simrunWith(t, context.Background(), inBubble(t), "-seed", "3", "-orders", "200", "-wire", path)
	require.Equal(t, exitPass, code, out+errOut)
	withWire := hashLine.FindStringSubmatch(out)[1]
	code, out, errOut = simrunWith(t, context.Background(), inBubble(t), "-seed", "3", "-orders", "200")
	require.Equal(t, exitPass, code, out+errOut)
	require.Equal(t, hashLine.FindStringSubmatch(out)[1], withWire, "recording the wire changed the run")
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	require.Greater(t, len(lines), 100)
	require.Regexp(t, `^0s broker 0 conn 1 \S+ ApiVersions #0 request$`, lines[0])
	require.Contains(t, string(b), " a EndTxn #", "no EndTxn of instance a on the wire")
	require.Contains(t, string(b), " answer\n")
}
