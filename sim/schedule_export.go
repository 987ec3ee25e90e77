package sim

import (
	"fmt"

	"github.com/eosim/eosim/faults"
)

// Resolve returns the config as Run runs it (under Swarm, with the fault
// rates, transaction protocol and cluster size the seed picks) and the
// fault schedule Run follows, without running anything: what a caller
// writes down before a run that may never end. Its errors are Run's for
// the same config.
func (c Config) Resolve() (Config, faults.Schedule, error) {
	if err := c.Validate(); err != nil {
		return c, faults.Schedule{}, fmt.Errorf("invalid config: %w", err)
	}
	c = c.resolveSwarm()
	sched, err := c.schedule()
	return c, sched, err
}
