//go:build synctests

package sim

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/eosim/eosim/faults"
)

// TestRegressionPlans replays every plan under testdata/schedules and
// requires the verdict recorded in it.
func TestRegressionPlans(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "testdata", "schedules", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "no regression plans found")
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			require.NoError(t, err)
			plan, err := ParsePlan(data)
			require.NoError(t, err)
			require.NotNil(t, plan.Expect, "a regression plan must record the verdict it expects")
			cfg, err := plan.Apply(DefaultConfig(), nil)
			require.NoError(t, err)
			res := runInBubble(t, cfg)
			require.NoError(t, plan.Expect.Check(res), "replay with: go run -tags synctests ./cmd/simrun -schedule %s", file)
			if plan.Schedule().Counts()[faults.Crash] > 0 {
				require.Positive(t, res.Stats.Crashes, "none of the plan's crashes fired: the replay proves nothing")
			}
		})
	}
}
