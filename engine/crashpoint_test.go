package engine

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCrashPointsInPathOrder(t *testing.T) {
	assert.Equal(t, []CrashPoint{
		"after-poll", "after-process", "after-produce", "after-send-offsets",
		"before-commit", "during-commit", "after-commit",
	}, CrashPoints())
}

func TestParseCrashPointAcceptsEveryListedName(t *testing.T) {
	for _, p := range CrashPoints() {
		t.Run(string(p), func(t *testing.T) {
			got, err := ParseCrashPoint(string(p))
			require.NoError(t, err)
			assert.Equal(t, p, got)
		})
	}
}

// ParseCrashPoint's error names the rejected input only; unlike
// ParseGuarantee it does not list the valid names.
func TestParseCrashPointRejectsUnknown(t *testing.T) {
	for _, s := range []string{"", "after_poll", "AFTER-POLL", "commit", "after-poll "} {
		t.Run(s, func(t *testing.T) {
			got, err := ParseCrashPoint(s)
			require.Error(t, err)
			assert.Equal(t, CrashPoint(""), got)
			assert.Contains(t, err.Error(), `unknown crash point "`+s+`"`)
		})
	}
}
