package sim

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/eosim/eosim/faults"
)

// TestMovesOnOneBrokerAreRefused: a leader or coordinator move on one
// broker can never have an effect, so neither a cluster rate nor a
// schedule or plan with such a move runs there; a broker restart, or a
// move on two brokers, does.
func TestMovesOnOneBrokerAreRefused(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Rates.Cluster = 0.1
	require.ErrorContains(t, cfg.Validate(), "cluster rate 0.1 needs at least 2 brokers, got 1")
	cfg.Brokers = 2
	require.NoError(t, cfg.Validate())

	for _, kind := range []faults.Kind{faults.CoordinatorMove, faults.LeaderMove} {
		plan, err := ParsePlan([]byte(`{"faults": [{"step": 2, "kind": "` + string(kind) + `", "restart_after": 0}]}`))
		require.NoError(t, err)
		_, err = plan.Apply(DefaultConfig(), nil)
		require.ErrorIs(t, err, faults.ErrInvalid)
		require.ErrorContains(t, err, "fault 0 ("+string(kind)+") needs at least 2 brokers, got 1")

		plan.Brokers = 3
		_, err = plan.Apply(DefaultConfig(), nil)
		require.NoError(t, err)
	}

	restart := DefaultConfig()
	restart.Schedule = &faults.Schedule{Faults: []faults.Fault{{Step: 2, Kind: faults.BrokerRestart}}}
	require.NoError(t, restart.Validate(), "a restart acts on one broker too")

	swarm := DefaultConfig()
	swarm.Swarm, swarm.Rates.Cluster = true, 0.1
	require.NoError(t, swarm.Validate(), "swarm ignores the rates, and gives cluster faults three brokers")
}
