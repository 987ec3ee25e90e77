package scoreboard

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/eosim/eosim/engine"
)

func TestMedianSeedsToDetection(t *testing.T) {
	tests := []struct {
		name     string
		detected string // x: detected
		want     int
	}{
		{"none", "....", 0},
		{"empty", "", 0},
		{"every seed", "xxxx", 1},
		{"first only", "x...", 2}, // starts 1..4 → 1, 4, 3, 2
		{"last only", "...x", 2},  // 4, 3, 2, 1
		{"every other", "x.x.", 1},
		{"one in ten", ".........x", 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := make([]bool, len(tc.detected))
			for i, c := range tc.detected {
				d[i] = c == 'x'
			}
			assert.Equal(t, tc.want, MedianSeedsToDetection(d))
		})
	}
}

// The median is never more than the range and never less than one when
// something was detected, and a detection added never makes it worse.
func TestMedianSeedsToDetectionProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		d := rapid.SliceOfN(rapid.Bool(), 1, 60).Draw(t, "detected")
		m := MedianSeedsToDetection(d)
		any := false
		for _, x := range d {
			any = any || x
		}
		if !any {
			if m != 0 {
				t.Fatalf("nothing detected, median %d", m)
			}
			return
		}
		if m < 1 || m > len(d) {
			t.Fatalf("median %d out of 1..%d", m, len(d))
		}
		i := rapid.IntRange(0, len(d)-1).Draw(t, "add")
		more := append([]bool(nil), d...)
		more[i] = true
		if got := MedianSeedsToDetection(more); got > m {
			t.Fatalf("adding a detection at %d raised the median from %d to %d", i, m, got)
		}
	})
}

// The control runs under both recovery styles: every row under the base's,
// the control's second row under the other. A scenario with a database,
// whose instances always restart, has no second row.
func TestControlRunsUnderBothRecoveryStyles(t *testing.T) {
	for _, base := range []engine.Recovery{engine.RecoveryRestart, engine.RecoveryContinue} {
		cfg := DefaultConfig()
		cfg.Base.Recovery = base
		specs := rowSpecs(cfg)
		require.Len(t, specs, len(cfg.Modes)+1)
		require.Equal(t, rowSpec{mode: engine.ExactlyOnceV2, recovery: base, control: true}, specs[0])
		require.Equal(t, engine.ExactlyOnceV2, specs[1].mode)
		require.True(t, specs[1].control)
		require.NotEqual(t, base, specs[1].recovery)
		for i, s := range specs[2:] {
			require.Equal(t, rowSpec{mode: cfg.Modes[i+1], recovery: base}, s)
		}
	}
	cfg := DefaultConfig()
	cfg.Base.Scenario = "orders-db"
	modes, err := ModesFor("orders-db")
	require.NoError(t, err)
	cfg.Modes = modes
	require.Len(t, rowSpecs(cfg), len(modes))
}
