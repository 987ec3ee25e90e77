package live

import (
	"sync/atomic"

	"github.com/eosim/eosim/engine"
	"github.com/eosim/eosim/faults"
)

// slot is one instance name, its current incarnation, and what the
// schedule is doing to it.
type slot struct {
	name        string
	in          *engine.Instance
	incarnation int
	// spare names an instance that only a join starts.
	spare bool
	// downUntil is the step at which a down instance restarts; -1 when it
	// waits for the liveness phase (or, with waitExpiry, for the group to
	// expire its session).
	downUntil  int
	waitExpiry bool
	// armed is a crash, expire or pause fault waiting for its crash point.
	// The driver arms it between steps; the step's goroutine reads it in
	// the crash hook, also while the driver goes on past a paused step.
	armed atomic.Pointer[armedFault]
	// drop is an armed connection drop not yet seen to fire.
	drop *armedFault
	// paused hears from the crash hook that it holds the step's unit; the
	// held step's outcome then arrives on pending.
	paused  chan *armedFault
	pending chan stepOutcome
}

// armedFault is a fault of the schedule armed on an instance.
type armedFault struct {
	index int // in the schedule
	fault faults.Fault
	// hit: the crash hook struck at the fault's point.
	hit atomic.Bool
}

// stepOutcome is what one Step returned.
type stepOutcome struct {
	res engine.StepResult
	err error
}

func (s *slot) running() bool { return s.in != nil && s.pending == nil }
