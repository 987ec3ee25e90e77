package sim

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Two call sites stand for two of kgo's goroutines retrying at once.
func offsetFromHere(keep func(string) bool) time.Duration  { return callPathOffset(1, keep) }
func offsetFromThere(keep func(string) bool) time.Duration { return callPathOffset(1, keep) }

func TestCallPathOffsetIsApartPerCallPath(t *testing.T) {
	keepSim := func(f string) bool { return strings.HasPrefix(f, "github.com/eosim/eosim/sim.") }
	here, there := offsetFromHere(keepSim), offsetFromThere(keepSim)
	require.Equal(t, here, offsetFromHere(keepSim), "one call path, one offset")
	require.NotEqual(t, here, there, "two call paths retrying together must not come due together")
	for _, d := range []time.Duration{here, there} {
		require.GreaterOrEqual(t, d, time.Duration(0))
		require.Less(t, d, time.Millisecond-37*time.Microsecond, "a client's backoffs stay off the next client's")
	}
	keepNone := func(string) bool { return false }
	require.Equal(t, offsetFromHere(keepNone), offsetFromThere(keepNone),
		"frames not kept (the driver's: simrun's or a test's) do not name the path")
}

func TestOnCallPath(t *testing.T) {
	for f, want := range map[string]bool{
		"github.com/twmb/franz-go/pkg/kgo.(*retryable).RequestWith":   true,
		"github.com/twmb/franz-go/pkg/kgo.(*groupConsumer).heartbeat": true,
		"github.com/eosim/eosim/engine.(*Instance).step":              true,
		"github.com/eosim/eosim/sim.(*world).drive":                   false,
		"main.main":                        false,
		"testing.tRunner":                  false,
		"runtime.goexit":                   false,
		"github.com/eosim/eosim/enginex.f": false,
	} {
		require.Equal(t, want, onCallPath(f), f)
	}
}

func TestRetryBackoffLadder(t *testing.T) {
	for _, c := range []struct {
		slot, tries int
		base        time.Duration
	}{
		{0, 1, 100 * time.Millisecond},
		{0, 5, 500 * time.Millisecond},
		{1, 1, 100*time.Millisecond + 1100*time.Microsecond},
		{2, 30, time.Second + 2200*time.Microsecond},
	} {
		d := retryBackoff(c.slot)(c.tries)
		require.GreaterOrEqual(t, d, c.base+37*time.Microsecond, "slot %d tries %d", c.slot, c.tries)
		require.Less(t, d, c.base+time.Millisecond, "slot %d tries %d", c.slot, c.tries)
	}
}
