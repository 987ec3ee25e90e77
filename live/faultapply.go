package live

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/eosim/eosim/engine"
	"github.com/eosim/eosim/faults"
	"github.com/eosim/eosim/history"
)

// apply fires or arms fault i of the schedule, as the simulator does (see
// sim's apply): a fault that cannot act has no effect, one that acts at
// once fires, the others wait armed for what they aim at.
func (r *run) apply(ctx context.Context, i int, f faults.Fault) error {
	s := r.slot(f.Instance)
	switch {
	case s == nil:
		r.books.NoEffect(i, "no such instance")
		return nil
	case f.Kind == faults.Join && (s.in != nil || s.pending != nil):
		r.books.NoEffect(i, "already running")
		return nil
	case f.Kind != faults.Join && s.in == nil:
		r.books.NoEffect(i, "instance down")
		return nil
	case f.Kind != faults.Join && s.pending != nil:
		r.books.NoEffect(i, "instance paused")
		return nil
	case s.armed.Load() != nil || (f.Kind == faults.Drop && s.drop != nil):
		r.books.NoEffect(i, "a fault is already armed on it")
		return nil
	}
	switch f.Kind {
	case faults.Crash, faults.Expire, faults.Pause:
		r.books.Armed(i)
		s.armed.Store(&armedFault{index: i, fault: f})
	case faults.Shutdown, faults.Leave:
		r.books.Fired(i, f.String())
		if err := r.within(s.name, "its close", s.in.Close); errors.As(err, new(stuckError)) {
			return err
		} else if err != nil {
			r.note(fmt.Sprintf("%s: clean shutdown: %s", s.name, engine.Reason(err)))
		}
		s.in, s.downUntil = nil, r.steps+f.RestartAfter
		if f.Kind == faults.Leave {
			s.downUntil = -1
			// A static member's close keeps its place; the operator's
			// LeaveGroup by instance id gives its partitions away now.
			if _, err := r.adm.LeaveGroup(ctx, kadm.LeaveGroup(r.cfg.RunID).InstanceIDs(s.name)); err != nil {
				r.note(fmt.Sprintf("%s: leave group: %s", s.name, engine.Reason(err)))
			}
		}
	case faults.Join:
		r.books.Fired(i, f.String())
		return r.startInstance(ctx, s)
	case faults.Drop:
		key, ok := faults.RequestKey(f.Request)
		if !ok {
			return fmt.Errorf("fault %s: unknown request", f)
		}
		r.books.Armed(i)
		s.in.DropConnectionsAfter(key)
		s.drop = &armedFault{index: i, fault: f}
	default:
		// Resolve refuses these; a schedule is not changed under a run.
		return fmt.Errorf("%w: fault %s", ErrUnsupported, f)
	}
	return nil
}

// crashHere is the crash hook of in, the current incarnation of slot s: it
// fires the armed crash or expire when the unit reaches its point, and a
// pause holds the unit there with every write of the instance waiting,
// for the pause's length of wall time (or until the run ends).
func (r *run) crashHere(s *slot, in *engine.Instance, at engine.CrashSite) bool {
	a := s.armed.Load()
	if a == nil || a.fault.Point != at.Point ||
		(at.Point == engine.AfterProcess && at.Index != min(a.fault.Index, at.Records-1)) {
		return false
	}
	if a.fault.Kind != faults.Pause {
		a.hit.Store(true)
		return true
	}
	s.armed.Store(nil)
	in.Freeze()
	s.paused <- a
	d := time.Duration(a.fault.PauseMs) * time.Millisecond
	r.log.Record(history.Event{Kind: history.KindFault, Instance: s.name, Fault: string(faults.Pause),
		Detail: fmt.Sprintf("paused for %v", d)})
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.wake:
	}
	in.Thaw()
	r.log.Record(history.Event{Kind: history.KindFault, Instance: s.name, Fault: string(faults.Pause), Detail: "resumed"})
	return false
}

// checkDropFired records s's armed drop as fired if in, its current or
// just failed incarnation, cut a connection for it.
func (r *run) checkDropFired(s *slot, in *engine.Instance) {
	if s.drop != nil && in != nil && in.DropFired() {
		r.books.Fired(s.drop.index, s.drop.fault.String())
		s.drop = nil
	}
}

// endFaults ends the fault phase, or the run: what fired is recorded, the
// armed faults are taken off (those armed at a crash point only when the
// run ends, atPoints), and every fault still without an outcome and not
// left armed is not reached.
func (r *run) endFaults(atPoints bool, why, notYet string) {
	var armed []int
	for _, s := range r.slots {
		r.checkDropFired(s, s.in)
		if s.drop != nil && s.in != nil {
			s.in.DropConnectionsAfter(-1)
		}
		s.drop = nil
		if atPoints {
			s.armed.Store(nil)
		} else if a := s.armed.Load(); a != nil {
			armed = append(armed, a.index)
		}
	}
	r.books.Unreached(r.applied, why, notYet, armed...)
}

func (r *run) slot(name string) *slot {
	for _, s := range r.slots {
		if s.name == name {
			return s
		}
	}
	return nil
}
