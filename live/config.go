package live

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/eosim/eosim/faults"
	"github.com/eosim/eosim/scenarios"
	"github.com/eosim/eosim/sim"
)

// Errors a caller of Run branches on.
var (
	// ErrUnreachable: the cluster did not answer within the connect
	// timeout, or the address is not one.
	ErrUnreachable = errors.New("cluster unreachable")
	// ErrUnsupported: the cluster lacks an API the run needs (transactions,
	// say), or the run asks for something only the simulator can do.
	ErrUnsupported = errors.New("not supported against a real cluster")
)

// Config is a live run: the simulator's run config (scenario, size,
// guarantee, seed, fault rates or schedule, protocol) and where the cluster
// is. Run.Brokers and Run.Tick are not used: the cluster is the cluster,
// and Tick is wall time here.
type Config struct {
	Run sim.Config
	// Bootstrap lists host:port seed addresses of the cluster.
	Bootstrap []string
	// Keep leaves the run's topics and group on the cluster.
	Keep bool
	// ConnectTimeout bounds the first contact with the cluster (default
	// 10s): an address nobody answers on fails within it.
	ConnectTimeout time.Duration
	// RunID is the run's application id: its group, the prefix of its
	// topics and of its transactional ids. Empty picks
	// "eosim-<scenario>-<seed>-<unix milliseconds>".
	RunID string
	// Tick is the wall time between two driver steps (default 50ms).
	Tick time.Duration
	// LivenessTimeout bounds the liveness phase in wall time (default two
	// minutes).
	LivenessTimeout time.Duration
	// StuckAfter bounds one call into an instance (a step, a start, a
	// close) in wall time (default two minutes).
	StuckAfter time.Duration
}

// Timeouts of the instances: the smallest session timeout Kafka allows by
// default (group.min.session.timeout.ms), so that a dead member is noticed
// soon, and a transaction timeout above it (see engine.Config).
const (
	sessionTimeout     = 6 * time.Second
	transactionTimeout = 10 * time.Second
	heartbeatInterval  = time.Second
	// endTimeout bounds a unit's commit. A zombie whose TxnOffsetCommit
	// is answered UNKNOWN_MEMBER_ID waits in kgo's End for a forced
	// heartbeat that no loop serves (its group loop waits for the unit to
	// let the rebalance go) until this passes; Java's minute would make
	// every such zombie cost a minute of wall time.
	endTimeout = 15 * time.Second
)

func (c Config) withDefaults() Config {
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = 10 * time.Second
	}
	if c.Tick <= 0 {
		c.Tick = 50 * time.Millisecond
	}
	if c.LivenessTimeout <= 0 {
		c.LivenessTimeout = 2 * time.Minute
	}
	if c.StuckAfter <= 0 {
		c.StuckAfter = 2 * time.Minute
	}
	if c.RunID == "" {
		c.RunID = fmt.Sprintf("eosim-%s-%d-%d", c.Run.Scenario, c.Run.Seed, time.Now().UnixMilli())
	}
	return c
}

// simulatorOnly are the fault kinds a client cannot make.
func simulatorOnly(k faults.Kind) bool {
	return k == faults.BrokerError || k == faults.Delay || k == faults.Rewrite || k.IsCluster() || k.IsDatabase()
}

// Resolve returns the run config as Run runs it and the schedule it
// follows: under swarm, the families only the simulator can make are left
// out, and so are the held requests the network family draws beside its
// dropped connections; asked for explicitly (a rate, a fault of the
// schedule), they are refused with ErrUnsupported, as is a scenario with a
// database.
func Resolve(c Config) (sim.Config, faults.Schedule, error) {
	if len(c.Bootstrap) == 0 || slices.Contains(c.Bootstrap, "") {
		return c.Run, faults.Schedule{}, fmt.Errorf("%w: no bootstrap address", ErrUnreachable)
	}
	if err := c.Run.Validate(); err != nil {
		return c.Run, faults.Schedule{}, fmt.Errorf("invalid config: %w", err)
	}
	sc, err := scenarios.Lookup(c.Run.Scenario)
	if err != nil {
		return c.Run, faults.Schedule{}, err
	}
	if sc.Topology(scenarios.Params{}).Database != nil {
		return c.Run, faults.Schedule{}, fmt.Errorf("%w: scenario %s writes a database; a live run takes a scenario without one (orders)", ErrUnsupported, c.Run.Scenario)
	}
	if c.Run.Swarm && c.Run.SwarmStyle.PicksFocus() {
		return c.Run, faults.Schedule{}, fmt.Errorf("%w: swarm's %s style answers for the broker (errors, rewrites); a live run takes -swarm (families)", ErrUnsupported, c.Run.SwarmStyle)
	}
	run, _, err := c.Run.Resolve()
	if err != nil {
		return run, faults.Schedule{}, err
	}
	if run.Swarm {
		run.Swarm = false
		run.Rates.Broker, run.Rates.Cluster, run.Rates.Database = 0, 0, 0
	}
	var refused []string
	for _, f := range []struct {
		name string
		v    float64
	}{{"broker", run.Rates.Broker}, {"cluster", run.Rates.Cluster}, {"database", run.Rates.Database}} {
		if f.v > 0 {
			refused = append(refused, "-"+f.name+"-rate")
		}
	}
	if len(refused) > 0 {
		return run, faults.Schedule{}, fmt.Errorf("%w: %s: those faults need the simulator's hands on the broker", ErrUnsupported, strings.Join(refused, ", "))
	}
	if run.Schedule != nil {
		for i, f := range run.Schedule.Faults {
			if simulatorOnly(f.Kind) {
				return run, faults.Schedule{}, fmt.Errorf("%w: fault %d of the schedule (%s) needs the simulator", ErrUnsupported, i, f)
			}
		}
	}
	explicit := run.Schedule != nil
	run, sched, err := run.Resolve()
	if err != nil {
		return run, faults.Schedule{}, err
	}
	if !explicit {
		// The network family draws held requests beside dropped
		// connections: a generated schedule keeps the drops.
		sched.Faults = slices.DeleteFunc(sched.Faults, func(f faults.Fault) bool { return simulatorOnly(f.Kind) })
	}
	run.Brokers = 0 // the cluster's; Run sets what it found
	return run, sched, nil
}
