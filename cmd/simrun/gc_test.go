package main

import (
	"io"
	"math"
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestTuneGCSetsNoMemoryLimit: simrun raises GOGC for ordinary runs and
// leaves the memory limit alone, since a soft limit below what a long sweep
// keeps mapped made the collector run ever more often (main.go says how
// much); a run above tunedInputsMax keeps Go's defaults.
func TestTuneGCSetsNoMemoryLimit(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(math.MaxInt64))

	tuneGC(1000)
	require.Equal(t, gcPercent, debug.SetGCPercent(100), "GOGC for a run of 1000 inputs")
	require.Equal(t, int64(math.MaxInt64), debug.SetMemoryLimit(-1), "memory limit")

	tuneGC(tunedInputsMax + 1)
	require.Equal(t, 100, debug.SetGCPercent(100), "GOGC for a run above tunedInputsMax")

	t.Setenv("GOGC", "50")
	tuneGC(1000)
	require.Equal(t, 100, debug.SetGCPercent(100), "GOGC set in the environment")
}

// TestTuneProcs: a single run and a shrink go on one processor; sweeps, the
// scoreboard, -explore, a run above tunedInputsMax and GOMAXPROCS set in
// the environment keep theirs.
func TestTuneProcs(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, tc := range []struct {
		args []string
		env  string
		want int
	}{
		{[]string{"-seed", "1"}, "", 1},
		{[]string{"-seed", "1", "-shrink"}, "", 1},
		{[]string{"-seeds", "1-2"}, "", 3},
		{[]string{"-seed", "1", "-check-determinism"}, "", 3},
		{[]string{"-scoreboard"}, "", 3},
		{[]string{"-seeds", "1-2", "-explore"}, "", 3},
		{[]string{"-seed", "1"}, "3", 3},
		{[]string{"-seed", "1", "-orders", "20000"}, "", 3},
	} {
		t.Setenv("GOMAXPROCS", tc.env)
		o, err := parseOptions(tc.args, io.Discard)
		require.NoError(t, err, "%v", tc.args)
		runtime.GOMAXPROCS(3)
		tuneProcs(o)
		require.Equal(t, tc.want, runtime.GOMAXPROCS(0), "%v, GOMAXPROCS=%q", tc.args, tc.env)
	}
}
