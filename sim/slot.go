package sim

import (
	"time"

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
	// waits for the liveness phase (or, with waitExpiry, for the group
	// coordinator to expire its session).
	downUntil  int
	waitExpiry bool
	// armed is a crash, expire or pause fault waiting for its crash point.
	armed *faults.Fault
	// A paused unit: the hook closes paused when the unit freezes and waits
	// for resume; its step's outcome arrives on pending.
	paused, resume chan struct{}
	resumeAt       time.Time
	pending        chan stepOutcome
	// drop is an armed connection drop not yet seen to fire.
	drop *faults.Fault
}

// stepOutcome is what one Step returned.
type stepOutcome struct {
	res engine.StepResult
	err error
}

func (s *slot) running() bool { return s.in != nil && s.pending == nil }
