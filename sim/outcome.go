package sim

import (
	"fmt"
	"slices"

	"github.com/eosim/eosim/faults"
	"github.com/eosim/eosim/history"
)

// This file owns what became of each scheduled fault: every fault of a
// run's schedule ends as exactly one Outcome, recorded once in the History
// and in Result.Faults. An outcome is taken from what was observed (the
// crash hook struck and the instance crashed, kfake's FaultHandle.Hits, a
// delay's control held a request, the instance's dialer cut a connection,
// a leader or coordinator is now elsewhere), never from what was scheduled.

// Outcome is what became of one scheduled fault.
type Outcome string

// The outcomes of a fault.
const (
	// Fired: the fault struck (a crash at its point, an error answered, a
	// request held, a connection cut, a leader or coordinator moved).
	Fired Outcome = "fired"
	// NoEffect: the fault's step came, but it could not act: its instance
	// was down or paused, another fault was already armed on it, the
	// cluster had nowhere to move a leader or coordinator to, its instance
	// failed before reaching the point.
	NoEffect Outcome = "no-effect"
	// NotReached: the run healed or ended first: the fault was still
	// armed when the liveness phase started or the input was processed,
	// or its step never came.
	NotReached Outcome = "not-reached"
)

// FaultOutcome is what became of one fault of the schedule.
type FaultOutcome struct {
	Fault   faults.Fault `json:"fault"`
	Outcome Outcome      `json:"outcome"`
	// Detail says what the fault did (fired), why it could not (no
	// effect), or what came first (not reached); it is the History line
	// without its prefix.
	Detail string `json:"detail"`
}

// FaultCounts adds up a run's fault outcomes.
type FaultCounts struct {
	Fired      int `json:"fired"`
	NoEffect   int `json:"no_effect"`
	NotReached int `json:"not_reached"`
}

// Add adds o's counts to c.
func (c *FaultCounts) Add(o FaultCounts) {
	c.Fired += o.Fired
	c.NoEffect += o.NoEffect
	c.NotReached += o.NotReached
}

// String reads "3 fired, 1 no effect, 0 not reached".
func (c FaultCounts) String() string {
	return fmt.Sprintf("%d fired, %d no effect, %d not reached", c.Fired, c.NoEffect, c.NotReached)
}

// FaultCounts counts the run's fault outcomes.
func (r Result) FaultCounts() FaultCounts {
	var c FaultCounts
	for _, o := range r.Faults {
		switch o.Outcome {
		case Fired:
			c.Fired++
		case NoEffect:
			c.NoEffect++
		case NotReached:
			c.NotReached++
		}
	}
	return c
}

// Outcomes gives each fault of a schedule its one outcome, and records it
// once in a History: the simulator's driver and a run against a real
// cluster (package live) keep their books with it alike.
type Outcomes struct {
	list []FaultOutcome
	rec  history.Recorder
}

// NewOutcomes tracks the faults of s, recording their lines in rec.
func NewOutcomes(s faults.Schedule, rec history.Recorder) *Outcomes {
	o := &Outcomes{list: make([]FaultOutcome, len(s.Faults)), rec: rec}
	for i, f := range s.Faults {
		o.list[i].Fault = f
	}
	return o
}

// Settled reports whether fault i has its outcome.
func (o *Outcomes) Settled(i int) bool { return o.list[i].Outcome != "" }

// Fired records that fault i struck, and what it did.
func (o *Outcomes) Fired(i int, did string) {
	o.conclude(i, Fired, did, "fired: "+did)
}

// NoEffect records that fault i could not act, and why.
func (o *Outcomes) NoEffect(i int, why string) {
	o.conclude(i, NoEffect, why, fmt.Sprintf("no effect (%s): %s", why, o.list[i].Fault))
}

// NotReached records that the run healed or ended before fault i struck.
func (o *Outcomes) NotReached(i int, why string) {
	o.conclude(i, NotReached, why, fmt.Sprintf("not reached (%s): %s", why, o.list[i].Fault))
}

// conclude gives fault i its one outcome, and its one History line.
func (o *Outcomes) conclude(i int, out Outcome, detail, line string) {
	if o.Settled(i) {
		panic(fmt.Sprintf("sim: fault %d (%s) already %s, now %s", i, o.list[i].Fault, o.list[i].Outcome, out))
	}
	o.list[i].Outcome, o.list[i].Detail = out, detail
	f := o.list[i].Fault
	o.rec.Record(history.Event{Kind: history.KindFault, Instance: f.Instance, Fault: string(f.Kind), Detail: line})
}

// Armed records that fault i is armed and waits for what it aims at.
func (o *Outcomes) Armed(i int) {
	f := o.list[i].Fault
	o.rec.Record(history.Event{Kind: history.KindFault, Instance: f.Instance, Fault: string(f.Kind), Detail: "armed: " + f.String()})
}

// Unreached settles every fault still without an outcome, but those of
// except (still armed), as not reached: the first applied (armed, or come
// and gone) with why, those whose step never came with notYet.
func (o *Outcomes) Unreached(applied int, why, notYet string, except ...int) {
	for i := range o.list {
		if o.Settled(i) || slices.Contains(except, i) {
			continue
		}
		if i < applied {
			o.NotReached(i, why)
		} else {
			o.NotReached(i, fmt.Sprintf("%s before step %d", notYet, o.list[i].Fault.Step))
		}
	}
}

// List returns the outcomes, one per fault of the schedule.
func (o *Outcomes) List() []FaultOutcome { return append([]FaultOutcome(nil), o.list...) }

func (w *world) fired(i int, did string)       { w.outcomes.Fired(i, did) }
func (w *world) noEffect(i int, why string)    { w.outcomes.NoEffect(i, why) }
func (w *world) armedLine(i int)               { w.outcomes.Armed(i) }
func (w *world) unreached(why, notYet string)  { w.outcomes.Unreached(w.applied, why, notYet) }
func (w *world) faultOutcomes() []FaultOutcome { return w.outcomes.List() }
