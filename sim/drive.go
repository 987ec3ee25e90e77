package sim

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"testing/synctest"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/eosim/eosim/engine"
	"github.com/eosim/eosim/faults"
	"github.com/eosim/eosim/history"
	"github.com/eosim/eosim/internal/topicread"
)

// drive runs steps until the input is processed or the liveness phase
// times out.
func (w *world) drive(ctx context.Context) error {
	faultSteps := w.cfg.FaultPhase()
	if n := len(w.sched.Faults); n > 0 {
		faultSteps = max(faultSteps, w.sched.Faults[n-1].Step+1)
	}
	tick := w.cfg.Tick
	var livenessStart time.Time
	for step := 0; ; step++ {
		w.steps = step
		if w.cfg.Progress != nil {
			w.cfg.Progress(Progress{Step: step, FaultSteps: faultSteps, Virtual: time.Since(w.start)})
		}
		if err := w.interrupted(fmt.Sprintf("at step %d", step)); err != nil {
			return err
		}
		w.writeDueMarkers(false, "")
		if step == faultSteps {
			livenessStart = time.Now()
			w.heal(step)
		}
		if step >= faultSteps && time.Since(livenessStart) > w.cfg.LivenessTimeout {
			w.note(fmt.Sprintf("liveness timeout: input not processed within %v", w.cfg.LivenessTimeout))
			return nil
		}
		// The schedule is sorted by step (faults.Schedule.Validate).
		for fs := w.sched.Faults; step < faultSteps && w.applied < len(fs) && fs[w.applied].Step <= step; {
			i := w.applied
			w.applied++
			if err := w.apply(ctx, i, fs[i]); err != nil {
				return err
			}
		}
		if err := w.restartDue(ctx, step); err != nil {
			return err
		}
		progressed, err := w.resumePaused(ctx, step)
		if err != nil {
			return err
		}
		if w.groupStable() {
			p, err := w.stepInstances(ctx, step)
			if err != nil {
				return err
			}
			progressed = progressed || p
		}
		if !progressed {
			done, err := w.inputDone(ctx)
			if err != nil {
				return err
			}
			if done && !w.anyPaused() && w.late.held() == 0 {
				w.complete = true
				w.note("input processed")
				return nil
			}
			tick = min(2*tick, time.Second)
		} else {
			tick = w.cfg.Tick
		}
		w.sleep(tick)
		w.settle()
	}
}

// sleep lets d of virtual time pass, delivering held writes as they come.
func (w *world) sleep(d time.Duration) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case <-timer.C:
			return
		case <-w.held:
			w.settle()
		}
	}
}

// heal starts the liveness phase: no new fault fires (what is still armed
// is taken off, not reached), and every instance that should run is
// brought back. A pause runs its course (at most two minutes): cutting it
// short would hide the zombie it was meant to make.
func (w *world) heal(step int) {
	w.note("liveness phase: faults off, every instance back")
	w.endFaults("still armed when the liveness phase started", "the liveness phase started")
	for _, s := range w.slots {
		// One that waits for its session to expire goes on waiting: the
		// coordinator expires it within the session timeout.
		if s.in == nil && !s.spare && !s.waitExpiry {
			s.downUntil = step
		}
	}
}

// restartDue starts the instances whose downtime is over.
func (w *world) restartDue(ctx context.Context, step int) error {
	for _, s := range w.slots {
		if s.in != nil || s.spare {
			continue
		}
		due := s.downUntil >= 0 && step >= s.downUntil
		if s.waitExpiry && !slices.Contains(w.members, s.name) {
			w.log.Record(history.Event{Kind: history.KindNote, Instance: s.name,
				Detail: "the coordinator expired its session; restarting"})
			due = true
		}
		// A fresh incarnation's InitProducerID would wait, answered
		// CONCURRENT_TRANSACTIONS, until its predecessor's markers land,
		// and the driver with it; the others go on meanwhile, as they
		// would beside a process retrying on its own.
		if due && w.late.heldFor(s.name) {
			continue
		}
		if due {
			if err := w.startInstance(ctx, s); err != nil {
				return err
			}
		}
	}
	return nil
}

func (w *world) anyPaused() bool {
	return slices.ContainsFunc(w.slots, func(s *slot) bool { return s.pending != nil })
}

// resumePaused wakes the paused units whose pause is over and lets each run
// to its end: a zombie that must find itself fenced.
func (w *world) resumePaused(ctx context.Context, step int) (progressed bool, err error) {
	w.evictSlow(ctx)
	for _, s := range w.slots {
		if s.pending == nil || time.Now().Before(s.resumeAt) {
			continue
		}
		kind := faults.Pause
		if s.slowDB {
			kind, s.slowDB, s.evictAt = faults.DBSlow, false, time.Time{}
		}
		w.log.Record(history.Event{Kind: history.KindFault, Instance: s.name, Fault: string(kind), Detail: "resumed"})
		// The client's held traffic goes first (heartbeats learn the
		// member is gone), then the unit carries on: which of the two a
		// woken process runs first is up to its scheduler, and the
		// simulator must not leave it to Go's.
		delete(w.asleep, s.in)
		w.settle()
		close(s.resume)
		s.resume = nil
		out, err := await(w, s.name, "its resumed unit", s.pending)
		if err != nil {
			return false, err
		}
		s.pending = nil
		w.settle()
		p, err := w.afterStep(ctx, s, step, out)
		if err != nil {
			return false, err
		}
		progressed = progressed || p
	}
	return progressed, nil
}

// stepInstances lets each running instance do one unit of work, in name
// order, settling the world after each. The driver calls it only while the
// group is stable: a commit overlapping a rebalance is a coin toss inside
// kgo.
func (w *world) stepInstances(ctx context.Context, step int) (progressed bool, err error) {
	for _, s := range w.slots {
		// An instance whose last transaction's markers are held could not
		// begin its next one (CONCURRENT_TRANSACTIONS until they land):
		// its unit would hold the driver, and the world, that long. It
		// waits out of step, as a process retrying on its own thread
		// would, while the others go on.
		if !s.running() || w.late.heldFor(s.name) {
			continue
		}
		out, paused := w.stepOne(ctx, s)
		if errors.Is(out.err, ErrStuck) || errors.Is(out.err, ErrInterrupted) {
			return false, out.err
		}
		w.settle()
		if paused {
			w.fired(s.pausing.index, s.pausing.fault.String())
			what := "paused"
			if s.slowDB {
				what = "database transaction held"
				s.db.Store(nil)
			}
			w.log.Record(history.Event{Kind: history.KindFault, Instance: s.name, Fault: string(s.pausing.fault.Kind),
				Detail: fmt.Sprintf("%s until %v", what, s.resumeAt.Sub(w.start).Round(time.Millisecond))})
			s.pausing = nil
			continue
		}
		p, err := w.afterStep(ctx, s, step, out)
		if err != nil {
			return false, err
		}
		progressed = progressed || p
	}
	return progressed, nil
}

// stepOne runs one Step on its own goroutine, so that a pause fault can
// freeze it at a crash point while the rest of the world goes on.
func (w *world) stepOne(ctx context.Context, s *slot) (stepOutcome, bool) {
	done := make(chan stepOutcome, 1)
	s.paused, s.resume, s.held = make(chan struct{}), make(chan struct{}), false
	// The step begins with nothing held: what woke while the driver asked
	// the broker about the group (a fetch, a heartbeat) is delivered and
	// answered before the step writes anything. (The poll is guarded on
	// its own, by BeforePoll; this fixes where a step starts in the order
	// of writes, and so every trace hash since.)
	w.settle()
	go func() {
		growStack()
		res, err := s.in.Step(ctx, 0)
		done <- stepOutcome{res, err}
	}()
	w.settle()
	for w.letPolledUnitGo() {
		w.settle()
	}
	stuck := time.NewTimer(StuckAfter)
	defer stuck.Stop()
	look := time.NewTicker(time.Second) // see await
	defer look.Stop()
	for {
		select {
		case <-look.C:
			if err := w.interrupted("waiting for the step of instance " + s.name); err != nil {
				return stepOutcome{err: err}, false
			}
			w.writeMarkersWhileWaiting()
		case <-stuck.C:
			return stepOutcome{err: stuckIn(s.name, "its step")}, false
		case out := <-done:
			return out, false
		case <-s.paused:
			// The fetches the unit's poll set off are on the wire at this
			// instant: let them land, then hold everything the instance
			// writes until it wakes.
			w.settle()
			if !s.slowDB {
				w.asleep[s.in] = true
			}
			s.pending = done
			return stepOutcome{}, true
		case <-w.held:
			w.settle()
		case settled := <-w.polled:
			w.letGoOnceStill(settled)
		}
	}
}

// closeAllowance is the virtual time the driver gives a close in the middle
// of a run. kgo's close takes no time, a millisecond or ten, by what its
// goroutines were doing as it began (a fetch session still to close, a
// metadata request in flight), and what the driver does next must not move
// with it.
const closeAllowance = 50 * time.Millisecond

// closeInstance closes in and lets the rest of closeAllowance pass; it
// returns with the world settled.
func (w *world) closeInstance(in *engine.Instance) error {
	until := time.Now().Add(closeAllowance)
	err := w.untilDone(in.Name(), "its close", in.Close)
	if errors.Is(err, ErrStuck) {
		return err
	}
	w.settle()
	if d := time.Until(until); d > 0 {
		w.sleep(d)
		w.settle()
	}
	return err
}

// letGoOnceStill lets a unit that polled while nothing was frozen (after a
// wait, or a resumed zombie's retried unit) go on once the world is still.
func (w *world) letGoOnceStill(settled chan struct{}) {
	w.settle()
	close(settled)
}

// letPolledUnitGo lets a step waiting in settleAround go on, if one
// waits, and reports whether one did.
func (w *world) letPolledUnitGo() bool {
	select {
	case settled := <-w.polled:
		close(settled)
		return true
	default:
		return false
	}
}

// settle lets the world come to rest: it lets go, one at a time, the writes
// the instances hold (all but the asleep ones), oldest first across all of
// them (ties broken by what the write is: its destination and bytes), the
// world settling between, until no goroutine of the run can move and no
// write waits. Every write of an instance goes through here: goroutines
// woken at one virtual instant (a heartbeat, a fetch, a join, a unit's
// request) never race on the wire, since the order they reach the brokers
// in is this one, not Go's.
func (w *world) settle() {
	for {
		synctest.Wait()
		var next *engine.Instance
		var nextAt time.Time
		var nextWhat string
		for _, in := range w.live {
			if w.asleep[in] {
				continue
			}
			at, what, ok := in.NextHeld()
			if ok && (next == nil || at.Before(nextAt) || at.Equal(nextAt) && what < nextWhat) {
				next, nextAt, nextWhat = in, at, what
			}
		}
		if next == nil {
			break
		}
		next.ReleaseHeld()
	}
	// Every write now waiting was announced on w.held and is either let
	// go or asleep: the announcements are spent.
	for {
		select {
		case <-w.held:
		default:
			return
		}
	}
}

// sequence makes the driver deliver every write of in, from its first.
func (w *world) sequence(in *engine.Instance) {
	in.OnHeld(func() {
		select {
		case w.held <- struct{}{}:
		default:
		}
	})
	in.Freeze()
	w.live = slices.DeleteFunc(w.live, func(l *engine.Instance) bool { return l.Released() })
	w.live = append(w.live, in)
}

// untilDone runs fn (a call into instance name) on its own goroutine and
// waits for it (see await).
func (w *world) untilDone(name, what string, fn func() error) error {
	done := make(chan error, 1)
	go func() {
		growStack() // fn is a start, a restore or a close: as deep as a step
		done <- fn()
	}()
	err, stuck := await(w, name, what, done)
	if stuck != nil {
		return stuck
	}
	return err
}

// await waits for what a call into instance name sends on done, letting go,
// in order, the instances frozen meanwhile; a call that has not returned
// within StuckAfter, or by the run's wall-time limit, ends in ErrStuck.
func await[T any](w *world, name, what string, done <-chan T) (T, error) {
	stuck := time.NewTimer(StuckAfter)
	defer stuck.Stop()
	// The run's context is looked at once a virtual second: waiting on it
	// would stop virtual time (see Run).
	look := time.NewTicker(time.Second)
	defer look.Stop()
	for {
		select {
		case <-look.C:
			if err := w.interrupted(fmt.Sprintf("waiting for %s of instance %s", what, name)); err != nil {
				var zero T
				return zero, err
			}
			w.writeMarkersWhileWaiting()
		case v := <-done:
			return v, nil
		case <-w.held:
			w.settle()
		case settled := <-w.polled:
			w.letGoOnceStill(settled) // a resumed zombie's retried unit
		case <-stuck.C:
			var zero T
			return zero, stuckIn(name, what)
		}
	}
}

// stuckIn is the ErrStuck of a call into instance name that did not return.
func stuckIn(name, what string) error {
	return fmt.Errorf("%w: %s of instance %s has not returned after %v of virtual time", ErrStuck, what, name, StuckAfter)
}

// afterStep records what a step's outcome means for its slot: a crash
// takes the instance down, a failure restarts it.
func (w *world) afterStep(_ context.Context, s *slot, step int, out stepOutcome) (progressed bool, err error) {
	w.checkFired()
	switch {
	case out.err == nil:
		if s.armed != nil {
			s.armed.hit.Store(false) // a point inside the commit whose request never went
		}
		return out.res.Records > 0, nil
	case errors.Is(out.err, engine.ErrCrashed):
		s.downUntil = step + 1
		if a := s.armed; a != nil && a.hit.Load() {
			// Only the crash hook crashes an instance mid-step.
			w.fired(a.index, a.fault.String())
			s.downUntil = step + a.fault.RestartAfter
			if a.fault.Kind == faults.Expire {
				s.downUntil, s.waitExpiry = -1, true
			}
		} else if a != nil {
			w.noEffect(a.index, "its instance crashed before the point")
		}
		if err := w.untilDone(s.name, "its close", s.in.Close); errors.Is(err, ErrStuck) {
			return false, err
		}
		s.in, s.armed = nil, nil
	case errors.Is(out.err, engine.ErrFailed):
		w.note(fmt.Sprintf("%s restarts after a failure: %s", s.name, engine.Reason(out.err)))
		if a := s.armed; a != nil {
			w.noEffect(a.index, "its instance failed before the point, and restarts")
		}
		if err := w.closeInstance(s.in); errors.Is(err, ErrStuck) {
			return false, err
		}
		s.in, s.armed, s.downUntil = nil, nil, step+1
	default:
		return false, fmt.Errorf("step %d, instance %s: %w", step, s.name, out.err)
	}
	w.settle()
	return out.res.Records > 0, nil
}

// groupStable reports whether the group is Stable and remembers its
// static members. It asks the coordinator's state directly (kfake's
// GroupState, what a DescribeGroups answer would say): this is the
// driver's own look between steps, not evidence the judge weighs, and a
// request per step was a tenth of a run's requests.
func (w *world) groupStable() bool {
	state, members := w.cluster.Fake.GroupState(w.cfg.AppID())
	w.members = members
	return state == "Stable"
}

// inputDone reports whether the group has committed offsets at the end of
// every input partition.
func (w *world) inputDone(ctx context.Context) (bool, error) {
	spec := w.scenario.Spec(w.params)
	if w.db != nil {
		done, err := w.dbInputDone(ctx, spec.InputTopic)
		if err != nil {
			if kerr.IsRetriable(err) {
				return false, nil
			}
			return false, fmt.Errorf("checking whether the input is processed: %w", err)
		}
		return done, nil
	}
	// Read on the broker's run loop, not asked over the wire: an idle step
	// cost three admin requests, and each sharded one leaked 32 bytes for
	// good (Go 1.26's synctest WaitGroup leak, see topicread.Admin).
	committed := w.cluster.Fake.CommittedOffsets(w.cfg.AppID())
	for topic, ends := range w.cluster.Fake.HighWatermarks(spec.InputTopics()...) {
		for p, end := range ends {
			// An empty partition has nothing to commit.
			if c, ok := committed[topic][p]; end > 0 && (!ok || c < end) {
				return false, nil
			}
		}
	}
	return w.repartitionsDone(ctx, committed)
}

// repartitionsDone reports whether the group has processed every committed
// record of a multi-stage topology's repartition topics, and no transaction
// is open on them. Their ends are no help: transaction markers follow the
// last record, and a consumer's committed offset stops after the record.
// So each partition is read from its committed offset (or its log start,
// should the engine have purged past it).
func (w *world) repartitionsDone(ctx context.Context, committed map[string]map[int32]int64) (bool, error) {
	opts := append(w.cluster.ClientOpts(), deterministicOpts(0)...)
	for _, topic := range w.scenario.Topology(w.params).RepartitionTopics(w.cfg.AppID()) {
		starts, err := w.adm.ListStartOffsets(ctx, topic)
		if err == nil {
			err = starts.Error()
		}
		if err != nil {
			if kerr.IsRetriable(err) {
				return false, nil
			}
			return false, fmt.Errorf("checking whether %s is processed: %w", topic, err)
		}
		parts := make([]topicread.Part, w.params.Partitions)
		for p := range int32(w.params.Partitions) {
			from := int64(0)
			if at, ok := committed[topic][p]; ok {
				from = at
			}
			if s, ok := starts.Lookup(topic, p); ok {
				from = max(from, s.Offset)
			}
			parts[p] = topicread.Part{Topic: topic, Partition: p, From: from}
		}
		reads, err := topicread.ReadTails(ctx, w.adm, opts, topicread.TailWhenStable, parts...)
		switch {
		case err != nil && kerr.IsRetriable(err):
			return false, nil
		case err != nil:
			return false, fmt.Errorf("checking whether %s is processed: %w", topic, err)
		}
		for _, r := range reads {
			if r.Open || len(r.Records) > 0 {
				return false, nil
			}
		}
	}
	return true, nil
}

func (w *world) note(s string) {
	w.log.Record(history.Event{Kind: history.KindNote, Detail: s})
}

// growStack grows the calling goroutine's stack to what a step needs while
// it holds one frame. A step runs the engine, kgo and the store code
// several calls deep; started at Go's 2 KiB (or the runtime's average), its
// goroutine grew by doubling, each time copying every frame on it, and the
// copies were 1.5% of a run (kgo does the same for its request loops).
//
//go:noinline
func growStack() {
	var b [16 << 10]byte
	b[0] = 1
	runtime.KeepAlive(&b)
}
