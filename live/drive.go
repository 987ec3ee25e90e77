package live

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/eosim/eosim/engine"
	"github.com/eosim/eosim/faults"
	"github.com/eosim/eosim/history"
	"github.com/eosim/eosim/sim"
)

// stuckError is a call into an instance that did not return within
// Config.StuckAfter: the run ends with the verdict stuck.
type stuckError struct{ what string }

func (e stuckError) Error() string { return e.what }

// drive runs steps until the input is processed or the liveness phase
// times out. A step lets every running instance do one unit of work, all at
// once, and waits for them (a paused one is left to finish later), then
// waits Tick.
func (r *run) drive(ctx context.Context) error {
	faultSteps := r.run.FaultPhase()
	if n := len(r.sched.Faults); n > 0 {
		faultSteps = max(faultSteps, r.sched.Faults[n-1].Step+1)
	}
	var livenessStart time.Time
	for step := 0; ; step++ {
		r.steps = step
		if r.run.Progress != nil {
			r.run.Progress(sim.Progress{Step: step, FaultSteps: faultSteps, Virtual: time.Since(r.start)})
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if step == faultSteps {
			livenessStart = time.Now()
			r.heal(step)
		}
		if step >= faultSteps && time.Since(livenessStart) > r.cfg.LivenessTimeout {
			r.note(fmt.Sprintf("liveness timeout: input not processed within %v", r.cfg.LivenessTimeout))
			return nil
		}
		for fs := r.sched.Faults; step < faultSteps && r.applied < len(fs) && fs[r.applied].Step <= step; {
			i := r.applied
			r.applied++
			if err := r.apply(ctx, i, fs[i]); err != nil {
				return err
			}
		}
		progressed, err := r.collectPaused(ctx, step, false)
		if err != nil {
			return err
		}
		if err := r.restartDue(ctx, step); err != nil {
			return err
		}
		p, err := r.stepInstances(ctx, step)
		if err != nil {
			return err
		}
		if !progressed && !p {
			done, err := r.inputDone(ctx)
			if err != nil {
				return err
			}
			if done && !slices.ContainsFunc(r.slots, func(s *slot) bool { return s.pending != nil }) {
				r.complete = true
				r.note("input processed")
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(r.cfg.Tick):
		}
	}
}

// heal starts the liveness phase: no new fault fires, and every instance
// that should run is brought back (an expired one once the group let it
// go). A pause runs its course.
//
// Unlike the simulator, a crash, expire or pause armed at a crash point
// stays armed until its point comes (or the input is processed): in real
// time, how many steps an instance takes to reach a point (a restart, a
// restore, an empty poll) is the network's doing, not the schedule's.
func (r *run) heal(step int) {
	r.note("liveness phase: no new faults, every instance back")
	r.endFaults(false, "still armed when the liveness phase started", "the liveness phase started")
	for _, s := range r.slots {
		if s.in == nil && !s.spare && !s.waitExpiry {
			s.downUntil = step
		}
	}
}

// stepInstances starts a step of every running instance and waits for
// each: its outcome, or its pause.
func (r *run) stepInstances(ctx context.Context, step int) (progressed bool, err error) {
	type started struct {
		s    *slot
		done chan stepOutcome
	}
	var all []started
	for _, s := range r.slots {
		if !s.running() {
			continue
		}
		done := make(chan stepOutcome, 1)
		s.paused = make(chan *armedFault, 1)
		in := s.in
		go func() {
			res, err := in.Step(ctx, 0)
			done <- stepOutcome{res, err}
		}()
		all = append(all, started{s, done})
	}
	stuck := time.NewTimer(r.cfg.StuckAfter)
	defer stuck.Stop()
	for _, st := range all {
		select {
		case out := <-st.done:
			p, err := r.afterStep(ctx, st.s, step, out)
			if err != nil {
				return false, err
			}
			progressed = progressed || p
		case a := <-st.s.paused:
			r.books.Fired(a.index, a.fault.String())
			st.s.pending = st.done
		case <-stuck.C:
			return false, stuckError{fmt.Sprintf("the step of instance %s has not returned after %v", st.s.name, r.cfg.StuckAfter)}
		}
	}
	return progressed, nil
}

// collectPaused takes the outcome of every held step that has ended; with
// wait, it waits for each (the run is ending, and its pauses were woken),
// at most StuckAfter.
func (r *run) collectPaused(ctx context.Context, step int, wait bool) (progressed bool, err error) {
	for _, s := range r.slots {
		if s.pending == nil {
			continue
		}
		var out stepOutcome
		if wait {
			select {
			case out = <-s.pending:
			case <-time.After(r.cfg.StuckAfter):
				return false, stuckError{fmt.Sprintf("the paused unit of instance %s has not ended after %v", s.name, r.cfg.StuckAfter)}
			}
		} else {
			select {
			case out = <-s.pending:
			default:
				continue
			}
		}
		s.pending = nil
		p, err := r.afterStep(ctx, s, step, out)
		if err != nil {
			return false, err
		}
		progressed = progressed || p
	}
	return progressed, nil
}

// afterStep records what a step's outcome means for its slot: a crash
// takes the instance down, a failure (or any error a real cluster may
// give) restarts it.
func (r *run) afterStep(_ context.Context, s *slot, step int, out stepOutcome) (progressed bool, err error) {
	r.checkDropFired(s, s.in)
	a := s.armed.Load()
	switch {
	case out.err == nil:
		if a != nil {
			a.hit.Store(false) // a point inside the commit whose request never went
		}
		return out.res.Records > 0, nil
	case errors.Is(out.err, engine.ErrCrashed):
		s.downUntil = step + 1
		if a != nil && a.hit.Load() {
			r.books.Fired(a.index, a.fault.String())
			s.downUntil = step + a.fault.RestartAfter
			if a.fault.Kind == faults.Expire {
				s.downUntil, s.waitExpiry = -1, true
			}
		} else if a != nil {
			r.books.NoEffect(a.index, "its instance crashed before the point")
		}
	default:
		r.note(fmt.Sprintf("%s restarts after a failure: %s", s.name, engine.Reason(out.err)))
		if a != nil {
			r.books.NoEffect(a.index, "its instance failed before the point, and restarts")
		}
		s.downUntil = step + 1
	}
	if err := r.within(s.name, "its close", s.in.Close); errors.As(err, new(stuckError)) {
		return false, err
	}
	s.in = nil
	s.armed.Store(nil)
	return out.res.Records > 0, nil
}

// restartDue starts the instances whose downtime is over, and those whose
// session the group has expired.
func (r *run) restartDue(ctx context.Context, step int) error {
	if slices.ContainsFunc(r.slots, func(s *slot) bool { return s.waitExpiry }) {
		if err := r.describeGroup(ctx); err != nil {
			return err
		}
	}
	for _, s := range r.slots {
		if s.in != nil || s.pending != nil || s.spare {
			continue
		}
		due := s.downUntil >= 0 && step >= s.downUntil
		if s.waitExpiry && !slices.Contains(r.members, s.name) {
			r.log.Record(history.Event{Kind: history.KindNote, Instance: s.name,
				Detail: "the coordinator expired its session; restarting"})
			due = true
		}
		if due {
			if err := r.startInstance(ctx, s); err != nil {
				return err
			}
		}
	}
	return nil
}

// describeGroup remembers the group's static members.
func (r *run) describeGroup(ctx context.Context) error {
	gs, err := r.adm.DescribeGroups(ctx, r.cfg.RunID)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return nil // ask again next step
	}
	r.members = r.members[:0]
	if g, ok := gs[r.cfg.RunID]; ok {
		for _, m := range g.Members {
			if m.InstanceID != nil {
				r.members = append(r.members, *m.InstanceID)
			}
		}
	}
	return nil
}

// inputDone reports whether the group has committed offsets at the end of
// every input partition.
func (r *run) inputDone(ctx context.Context) (bool, error) {
	spec := r.scenario.Spec(r.params)
	ends, err := r.adm.ListEndOffsets(ctx, spec.InputTopics()...)
	if err == nil {
		err = ends.Error()
	}
	offs, err2 := r.adm.FetchOffsets(ctx, r.cfg.RunID)
	if err2 == nil {
		err2 = offs.Error()
	}
	if errors.Join(err, err2) != nil {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		return false, nil // a leader or coordinator that moved: ask again next step
	}
	done := true
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset == 0 {
			return
		}
		c, ok := offs.Lookup(o.Topic, o.Partition)
		done = done && ok && c.At >= o.Offset
	})
	return done, nil
}

// within runs fn (a call into instance name) and waits for it at most
// Config.StuckAfter.
func (r *run) within(name, what string, fn func() error) error {
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		return err
	case <-time.After(r.cfg.StuckAfter):
		return stuckError{fmt.Sprintf("%s of instance %s has not returned after %v", what, name, r.cfg.StuckAfter)}
	}
}
