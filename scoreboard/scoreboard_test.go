package scoreboard

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"pgregory.net/rapid"
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
