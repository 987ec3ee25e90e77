package sim

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/eosim/eosim/engine"
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
	// txnID is the transactional id of the current incarnation (see
	// transactionalID); kfake's goroutines read it to match faults.
	txnID atomic.Pointer[string]
	// armed is a crash, expire or pause fault waiting for its crash point;
	// pausing the pause that froze the unit, until the driver records it.
	armed, pausing *armedFault
	// A paused unit: the hook closes paused when the unit freezes and waits
	// for resume; its step's outcome arrives on pending. held says the
	// step's unit has been held once already (a pause, a slow database):
	// a step is held at most once, so a second hold waits for a later unit.
	paused, resume chan struct{}
	held           bool
	resumeAt       time.Time
	pending        chan stepOutcome
	// drop is an armed connection drop not yet seen to fire.
	drop *armedFault
	// db is an armed database fault not yet seen to fire; slowDB says the
	// paused unit is held at a slow database commit, its traffic going on.
	db     atomic.Pointer[armedDBFault]
	slowDB bool
	// evictAt is when a unit held at a slow database has gone past its
	// poll interval and the member leaves the group (see maxPollInterval);
	// zero when it never will.
	evictAt time.Time
}

// setIncarnation counts a new start of the slot's name and notes the
// transactional id it will use.
func (s *slot) setIncarnation(cfg Config) {
	s.incarnation++
	id := transactionalID(cfg, s.name, s.incarnation)
	s.txnID.Store(&id)
}

// transactionalID returns the transactional id the slot's current
// incarnation uses, what a broker fault or a delay aimed at it must match.
func (s *slot) transactionalID() string {
	if id := s.txnID.Load(); id != nil {
		return *id
	}
	return ""
}

// transactionalID is the transactional id of incarnation n of instance
// name, by the rule of engine.Instance.Start (engine/instance.go), which the
// engine does not export: <app>-<name>, and <app>-<name>-<n> under
// fresh_txn_id. Matching faults by it, rather than by a name prefix, aims
// them at the incarnation that runs, under every guarantee, and nothing
// else; TestBrokerErrorUnderFreshTxnIDFires fails if the rules part.
func transactionalID(cfg Config, name string, n int) string {
	id := cfg.AppID() + "-" + name
	if cfg.Guarantee == engine.FreshTransactionalID {
		id = fmt.Sprintf("%s-%d", id, n)
	}
	return id
}

// stepOutcome is what one Step returned.
type stepOutcome struct {
	res engine.StepResult
	err error
}

func (s *slot) running() bool { return s.in != nil && s.pending == nil }

// hold holds the step's unit, on its own goroutine, for d: it tells the
// driver (paused), which records fault a as the hold's and goes on, and
// waits until the driver resumes it.
func (s *slot) hold(a *armedFault, d time.Duration) {
	s.pausing = a
	s.resumeAt = time.Now().Add(d)
	s.held = true
	close(s.paused)
	<-s.resume
}
