package main

import (
	"math"
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
