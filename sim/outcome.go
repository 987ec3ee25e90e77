package sim

import (
	"fmt"

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

// outcomes tracks the outcome of every fault of a run's schedule, by index.
type outcomes struct {
	list []FaultOutcome
}

func newOutcomes(s faults.Schedule) outcomes {
	o := outcomes{list: make([]FaultOutcome, len(s.Faults))}
	for i, f := range s.Faults {
		o.list[i].Fault = f
	}
	return o
}

// settled reports whether fault i has its outcome.
func (o *outcomes) settled(i int) bool { return o.list[i].Outcome != "" }

// fired records that fault i struck, and what it did.
func (w *world) fired(i int, did string) {
	w.conclude(i, Fired, did, "fired: "+did)
}

// noEffect records that fault i could not act, and why.
func (w *world) noEffect(i int, why string) {
	f := w.outcomes.list[i].Fault
	w.conclude(i, NoEffect, why, fmt.Sprintf("no effect (%s): %s", why, f))
}

// notReached records that the run healed or ended before fault i struck.
func (w *world) notReached(i int, why string) {
	f := w.outcomes.list[i].Fault
	w.conclude(i, NotReached, why, fmt.Sprintf("not reached (%s): %s", why, f))
}

// conclude gives fault i its one outcome, and its one History line.
func (w *world) conclude(i int, o Outcome, detail, line string) {
	if w.outcomes.settled(i) {
		panic(fmt.Sprintf("sim: fault %d (%s) already %s, now %s", i, w.outcomes.list[i].Fault, w.outcomes.list[i].Outcome, o))
	}
	w.outcomes.list[i].Outcome, w.outcomes.list[i].Detail = o, detail
	f := w.outcomes.list[i].Fault
	w.log.Record(history.Event{Kind: history.KindFault, Instance: f.Instance, Fault: string(f.Kind), Detail: line})
}

// armedLine records that fault i is armed and waits for what it aims at.
func (w *world) armedLine(i int) {
	f := w.outcomes.list[i].Fault
	w.log.Record(history.Event{Kind: history.KindFault, Instance: f.Instance, Fault: string(f.Kind), Detail: "armed: " + f.String()})
}

// unreached settles every fault still without an outcome as not reached:
// armed ones with why, those whose step never came with notYet.
func (w *world) unreached(why, notYet string) {
	for i := range w.outcomes.list {
		if w.outcomes.settled(i) {
			continue
		}
		if i < w.applied {
			w.notReached(i, why)
		} else {
			w.notReached(i, fmt.Sprintf("%s before step %d", notYet, w.outcomes.list[i].Fault.Step))
		}
	}
}

// faultOutcomes returns the outcomes, one per fault of the schedule.
func (w *world) faultOutcomes() []FaultOutcome {
	return append([]FaultOutcome(nil), w.outcomes.list...)
}
