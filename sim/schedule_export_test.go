//go:build synctests

package sim

import (
	"context"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/require"

	"github.com/eosim/eosim/faults"
)

// TestResolveGivesRunsScheduleAndConfig: what Resolve says, without
// running, is the schedule and config Run then uses: generated, swarm and
// replayed.
func TestResolveGivesRunsScheduleAndConfig(t *testing.T) {
	replayed := faults.Schedule{Faults: []faults.Fault{{Step: 2, Kind: faults.Shutdown, Instance: "a", RestartAfter: 2}}}
	for name, mod := range map[string]func(*Config){
		"generated": func(c *Config) { c.Seed, c.Rates.Crash = 5, 0.3 },
		"swarm":     func(c *Config) { c.Seed, c.Swarm = 11, true },
		"replayed":  func(c *Config) { c.Schedule = &replayed },
	} {
		t.Run(name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Inputs = 60
			mod(&cfg)
			resolved, sched, err := cfg.Resolve()
			require.NoError(t, err)
			var res Result
			synctest.Test(t, func(t *testing.T) {
				res, err = Run(context.Background(), cfg)
				require.NoError(t, err)
			})
			require.Equal(t, res.Schedule, sched)
			require.Equal(t, res.Config, resolved)
			if name != "replayed" {
				require.NotEmpty(t, sched.Faults, "a schedule without faults proves little")
			}
		})
	}
	bad := DefaultConfig()
	bad.Inputs = 0
	_, _, err := bad.Resolve()
	require.ErrorContains(t, err, "invalid config")
}
