package sim

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/eosim/eosim/engine"
	"github.com/eosim/eosim/faults"
)

// apply fires or arms fault i of the schedule. A fault that cannot act
// (its instance is down or paused, or already has a fault armed) has no
// effect; one that acts at once (a shutdown, a leave, a join, a cluster
// fault) fires; the others are armed, and fire when what they wait for
// comes (checkFired, afterStep) or are not reached (endFaults).
func (w *world) apply(ctx context.Context, i int, f faults.Fault) error {
	if f.Kind.IsCluster() {
		return w.applyCluster(i, f)
	}
	s := w.slot(f.Instance)
	switch {
	case s == nil:
		w.noEffect(i, "no such instance")
		return nil
	case f.Kind == faults.Join && (s.in != nil || s.pending != nil):
		w.noEffect(i, "already running")
		return nil
	case f.Kind != faults.Join && s.in == nil:
		w.noEffect(i, "instance down")
		return nil
	case f.Kind != faults.Join && s.pending != nil:
		w.noEffect(i, "instance paused")
		return nil
	case s.armed != nil || (f.Kind == faults.Drop && s.drop != nil) || (f.Kind.IsDatabase() && s.db.Load() != nil):
		w.noEffect(i, "a fault is already armed on it")
		return nil
	}
	switch f.Kind {
	case faults.Crash, faults.Expire, faults.Pause:
		w.armedLine(i)
		s.armed = &armedFault{index: i, fault: f}
	case faults.Shutdown:
		w.fired(i, f.String())
		// A close error means the checkpoint could not be written: the
		// restart then restores from the changelog, as after a crash.
		if err := w.closeInstance(s.in); errors.Is(err, ErrStuck) {
			return err
		} else if err != nil {
			w.note(fmt.Sprintf("%s: clean shutdown: %s", s.name, engine.Reason(err)))
		}
		s.in, s.downUntil = nil, w.steps+f.RestartAfter
	case faults.Leave:
		w.fired(i, f.String())
		if err := w.closeInstance(s.in); errors.Is(err, ErrStuck) {
			return err
		} else if err != nil {
			w.note(fmt.Sprintf("%s: clean shutdown: %s", s.name, engine.Reason(err)))
		}
		s.in, s.downUntil = nil, -1
		// A static member's close keeps its place; the operator's
		// LeaveGroup by instance id gives its partitions away now.
		if _, err := w.adm.LeaveGroup(ctx, kadm.LeaveGroup(w.cfg.AppID()).InstanceIDs(s.name)); err != nil {
			w.note(fmt.Sprintf("%s: leave group: %s", s.name, engine.Reason(err)))
		}
		w.settle()
	case faults.Join:
		w.fired(i, f.String())
		if err := w.startInstance(ctx, s); err != nil {
			return err
		}
	case faults.BrokerError:
		w.armedLine(i)
		return w.armBrokerError(i, f, s)
	case faults.Drop:
		key, ok := apiKey(f.Request)
		if !ok {
			return fmt.Errorf("fault %s: unknown request", f)
		}
		w.armedLine(i)
		s.in.DropConnectionsAfter(key)
		s.drop = &armedFault{index: i, fault: f}
	case faults.Delay:
		hold := time.Duration(f.DelayMs) * time.Millisecond
		if f.Band != "" {
			var err error
			if hold, err = f.Band.Hold(s.in.Timeouts(), f.Request); err != nil {
				w.noEffect(i, err.Error())
				return nil
			}
		}
		w.armedLine(i)
		return w.armDelay(i, f, s, hold)
	case faults.Rewrite:
		if f.Rewrite == faults.LateMarkers {
			w.armedLine(i)
			w.late.arm(i, f)
			return nil
		}
		key, ok := apiKey(f.Request)
		if !ok {
			return fmt.Errorf("fault %s: unknown request", f)
		}
		w.armedLine(i)
		w.rewriter.arm(rewriteOf(i, f, key))
	case faults.DBBusy, faults.DBLost, faults.DBSlow:
		w.armedLine(i)
		s.db.Store(&armedDBFault{index: i, fault: f})
	}
	return nil
}

// armedFault is a fault of the schedule armed on an instance.
type armedFault struct {
	index int // in the schedule
	fault faults.Fault
	// hit: the crash hook struck at the fault's point in the step under
	// way (a point inside the commit then cuts the wire when its request
	// goes, if it goes). Set on the unit's goroutine; the driver reads it
	// even when the step never returns (stuck).
	hit atomic.Bool
}

// armedDelay is a delay fault installed as a kfake control.
type armedDelay struct {
	index int // in the schedule
	fault faults.Fault
	hold  time.Duration
	// fired: the control held a request; done: the control is to let the
	// next request go and leave (fired, or disarmed).
	fired, done *atomic.Bool
}

// armDelay installs a control that holds the instance's next matching
// request for the fault's delay, in virtual time; kfake serves other
// connections meanwhile (SleepControl), so later requests overtake it.
func (w *world) armDelay(i int, f faults.Fault, s *slot, hold time.Duration) error {
	key, ok := apiKey(f.Request)
	if !ok {
		return fmt.Errorf("fault %s: unknown request", f)
	}
	fired, done := new(atomic.Bool), new(atomic.Bool)
	c := w.cluster.Fake
	c.ControlKey(key, func(req kmsg.Request) (kmsg.Response, error, bool) {
		if done.Load() {
			return nil, nil, false // let the control go
		}
		c.KeepControl()
		if !ownedBy(req, s.transactionalID(), f.Instance, c.CurrentClientID()) {
			return nil, nil, false
		}
		fired.Store(true)
		done.Store(true)
		// Off the millisecond grid, and apart per instance: a held request
		// must not wake at the same virtual instant as another sleeper or
		// a client timer, or Go would order them.
		d := hold + 137*time.Microsecond + time.Duration(f.Instance[0]-'a')*time.Millisecond
		held := w.holds.addApart(time.Now().Add(d))
		d = time.Until(held.until)
		c.SleepControl(func() {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-held.release:
				t.Stop()
			}
			// The requests queued behind the held one on its connection
			// (heartbeats among them) are answered at this instant too,
			// and wake as many of the client's goroutines at once: what
			// they write next the driver delivers in order (settle).
			w.holds.remove(held)
		})
		return nil, nil, false
	})
	w.delays = append(w.delays, armedDelay{index: i, fault: f, hold: hold, fired: fired, done: done})
	return nil
}

// awaitHeldRequests waits until every held request has gone, before the
// world is torn down: its sleeper must not outlive the bubble.
func (w *world) awaitHeldRequests() {
	if wait := time.Until(w.holds.latest()); wait > 0 {
		w.sleep(wait)
	}
	w.settle()
}

// letHeldRequestsGo lets every held request go now, the one due first
// first, the world settling between: the brokers answer them before a
// restart stops them. (kfake closed with two requests asleep in controls
// wedges on its control mutex, which no virtual time undoes.)
func (w *world) letHeldRequestsGo() (n int) {
	for r := w.holds.earliest(); r != nil; r = w.holds.earliest() {
		close(r.release)
		w.settle()
		n++
	}
	return n
}

// applyCluster moves a partition's leaders or the coordinators, or
// restarts the brokers, and records where things went. A move needs two
// brokers (Config.Validate refuses a schedule that moves with one).
func (w *world) applyCluster(i int, f faults.Fault) error {
	switch f.Kind {
	case faults.LeaderMove:
		if w.cfg.Brokers < 2 {
			w.noEffect(i, "one broker: nowhere to move the leader")
			break
		}
		node, err := w.cluster.MoveLeader(f.Partition)
		if err != nil {
			return err
		}
		if node < 0 {
			w.noEffect(i, fmt.Sprintf("no topic has partition %d", f.Partition))
			break
		}
		w.fired(i, fmt.Sprintf("partition %d now led by broker %d", f.Partition, node))
	case faults.BrokerRestart:
		if n := w.letHeldRequestsGo(); n > 0 {
			w.note(fmt.Sprintf("%d held requests let go before the brokers restart", n))
		}
		w.writeDueMarkers(true, " before the brokers restart")
		// The cut connections wake every client's goroutines at once, and
		// kfake closes them one by one: whether a client's next write lands
		// on a connection not yet closed (an EOF, a retry after backoff) or
		// on a closed one (a dial at once) would be Go's pick. What the
		// instances write and dial across the restart is held, as every
		// write is, and delivered in order after.
		w.restarts++
		kfakeRand.Lock()
		seedKfake(w.cfg.Seed, fmt.Sprintf("kfake-restart-%d", w.restarts))
		err := w.cluster.Restart()
		kfakeRand.Unlock()
		w.settle()
		if err != nil {
			return err
		}
		w.fired(i, "the brokers restarted")
	case faults.CoordinatorMove:
		// The group's coordinator moves to another broker, and so do the
		// running instances' transaction coordinators whenever a hash
		// generation moves them all (kfake MoveCoordinators).
		nodes, moved := w.cluster.Fake.MoveCoordinators(w.coordinatorKeys()...)
		if !moved {
			w.noEffect(i, "one broker: nowhere to move the coordinators")
			break
		}
		w.fired(i, fmt.Sprintf("group coordinator now broker %d", nodes[0]))
	}
	w.settle()
	return nil
}

// coordinatorKeys are the ids whose coordinators a coordinator move must
// move: the group's, then the transactional ids of the running instances
// (under a transactional guarantee), in name order.
func (w *world) coordinatorKeys() []string {
	keys := []string{w.cfg.AppID()}
	if !w.cfg.Guarantee.Transactional() {
		return keys
	}
	for _, s := range w.slots {
		if s.in != nil {
			keys = append(keys, s.transactionalID())
		}
	}
	return keys
}

func (w *world) slot(name string) *slot {
	for _, s := range w.slots {
		if s.name == name {
			return s
		}
	}
	return nil
}

// crashHere is the crash hook of slot s: it fires the armed crash, expire
// or pause fault when the unit reaches its point. A pause tells the driver,
// which freezes the instance's traffic, and blocks the unit until the driver
// resumes it. A unit that reaches after-poll otherwise waits there for the
// world to settle (settleAround).
func (w *world) crashHere(s *slot, at engine.CrashSite) bool {
	a := s.armed
	hit := a != nil && a.fault.Point == at.Point &&
		(at.Point != engine.AfterProcess || at.Index == min(a.fault.Index, at.Records-1))
	if hit && a.fault.Kind == faults.Pause && s.held {
		hit = false // held once in this step already: a later unit's turn
	}
	switch {
	case hit && a.fault.Kind != faults.Pause:
		a.hit.Store(true)
		return true
	case hit:
		s.armed = nil
		s.hold(a, time.Duration(a.fault.PauseMs)*time.Millisecond)
	case at.Point == engine.AfterPoll:
		w.settleAround()
	}
	return false
}

// settleAround holds a step's goroutine until the driver has let the world
// settle. A step calls it twice around its poll:
//   - before: what the poll takes is what was buffered once every fetch
//     in flight had landed, not what a fetch answer racing the poll had
//     buffered so far;
//   - after: the poll wakes the client's fetch loops, and their next
//     fetches race the unit's first transactional request into kgo's queue
//     for a broker, which sends one request at a time: which is written
//     first, and so whether a fault on the one cuts the other, would be
//     the scheduler's pick (the race detector's scheduler picks both ways).
func (w *world) settleAround() {
	settled := make(chan struct{})
	w.polled <- settled
	<-settled
}

// armedBrokerFault is an installed broker error not yet seen to fire.
type armedBrokerFault struct {
	index  int // in the schedule
	fault  faults.Fault
	handle *kfake.FaultHandle
}

// armBrokerError installs a kfake fault that answers the instance's next
// matching request with the error.
func (w *world) armBrokerError(i int, f faults.Fault, s *slot) error {
	key, ok := apiKey(f.Request)
	if !ok {
		return fmt.Errorf("fault %s: unknown request", f)
	}
	kerrErr, ok := kafkaError(f.Error)
	if !ok {
		return fmt.Errorf("fault %s: unknown error", f)
	}
	if f.Applied {
		// The broker does the work; its answer is then rewritten.
		w.rewriter.arm(rewriteOf(i, f, key))
		return nil
	}
	fake := w.cluster.Fake
	h := fake.Fault(kfake.Fault{
		Keys:  []kmsg.Key{kmsg.Key(key)},
		Err:   kerrErr,
		Count: 1,
		When: func(req kmsg.Request) bool {
			return ownedBy(req, s.transactionalID(), f.Instance, fake.CurrentClientID())
		},
	})
	w.brokerFaults = append(w.brokerFaults, armedBrokerFault{index: i, fault: f, handle: h})
	return nil
}

// checkFired records the armed faults that have fired since the last
// check: the broker's errors (kfake's hit counts), the held requests, and
// the instances' dropped connections.
func (w *world) checkFired() {
	w.brokerFaults = slices.DeleteFunc(w.brokerFaults, func(b armedBrokerFault) bool {
		if b.handle.Hits() == 0 {
			return false
		}
		w.fired(b.index, b.fault.String())
		return true
	})
	w.delays = slices.DeleteFunc(w.delays, func(d armedDelay) bool {
		if !d.fired.Load() {
			return false
		}
		did := d.fault.String()
		if d.fault.Band != "" {
			did = fmt.Sprintf("held %v", d.hold)
		}
		w.fired(d.index, did)
		return true
	})
	for _, r := range w.rewriter.takeFired() {
		w.fired(r.index, r.did)
	}
	for _, l := range w.late.takeFired() {
		w.fired(l.index, l.did)
	}
	for _, s := range w.slots {
		w.checkDropFired(s, s.in)
		w.checkDBFired(s)
	}
}

// checkDropFired records s's armed drop as fired if in, its current or
// just failed incarnation, cut a connection for it.
func (w *world) checkDropFired(s *slot, in *engine.Instance) {
	if s.drop != nil && in != nil && in.DropFired() {
		w.fired(s.drop.index, s.drop.fault.String())
		s.drop = nil
	}
}

// endFaults ends the fault phase, or the run: what fired is recorded, every
// armed fault is taken off, and every fault still without an outcome is not
// reached, armed ones with why, those whose step never came with notYet.
func (w *world) endFaults(why, notYet string) {
	w.checkFired()
	w.removeBrokerFaults()
	for _, s := range w.slots {
		if s.drop != nil && s.in != nil {
			// -1 is no request: the dialer drops nothing more.
			s.in.DropConnectionsAfter(-1)
		}
		s.armed, s.drop = nil, nil
		s.db.Store(nil)
	}
	w.unreached(why, notYet)
}

// removeBrokerFaults takes the broker errors and delays that never fired
// off the brokers.
func (w *world) removeBrokerFaults() {
	for _, b := range w.brokerFaults {
		b.handle.Remove()
	}
	w.brokerFaults = nil
	for _, d := range w.delays {
		d.done.Store(true) // its control lets the next request go, then goes
	}
	w.delays = nil
	w.rewriter.disarm()
	w.late.disarm()
}

// ownedBy reports whether req comes from the instance: by the
// transactional id its current incarnation uses (txnID, see
// slot.transactionalID), its group instance id, or its member id. A
// request of those kinds carrying none (a produce without a transaction)
// belongs to whichever instance sends it first; one of any other kind (a
// fetch, a metadata request, which carry no id of their own) by its client
// id, the instance's name (clientID).
func ownedBy(req kmsg.Request, txnID, instance, clientID string) bool {
	deref := func(s *string) string {
		if s == nil {
			return ""
		}
		return *s
	}
	var txn, inst string
	switch r := req.(type) {
	case *kmsg.InitProducerIDRequest:
		txn = deref(r.TransactionalID)
	case *kmsg.AddPartitionsToTxnRequest:
		txn = r.TransactionalID
		if len(r.Transactions) > 0 {
			txn = r.Transactions[0].TransactionalID
		}
	case *kmsg.AddOffsetsToTxnRequest:
		txn = r.TransactionalID
	case *kmsg.EndTxnRequest:
		txn = r.TransactionalID
	case *kmsg.TxnOffsetCommitRequest:
		txn = r.TransactionalID
	case *kmsg.ProduceRequest:
		txn = deref(r.TransactionID)
	case *kmsg.HeartbeatRequest:
		inst = deref(r.InstanceID)
	case *kmsg.OffsetCommitRequest:
		inst = deref(r.InstanceID)
	case *kmsg.OffsetFetchRequest:
		// A member's fetch names its member id, which kfake makes of the
		// client id (the instance's name) and a random suffix; the
		// simulator's own fetches name none.
		for _, g := range r.Groups {
			if g.MemberID != nil && strings.HasPrefix(*g.MemberID, instance+"-") {
				return true
			}
		}
		return false
	default:
		return clientID == instance
	}
	if txn == "" && inst == "" {
		return true
	}
	return txn == txnID || inst == instance
}

// apiKey returns the Kafka API key named name (kmsg's names, e.g. "EndTxn").
func apiKey(name string) (int16, bool) { return faults.RequestKey(name) }

// kafkaError returns the Kafka error named name, e.g. "TRANSACTION_ABORTABLE".
func kafkaError(name string) (*kerr.Error, bool) {
	for code := int16(-1); code < 200; code++ {
		if e, ok := kerr.ErrorForCode(code).(*kerr.Error); ok && e.Message == name {
			return e, true
		}
	}
	return nil, false
}
