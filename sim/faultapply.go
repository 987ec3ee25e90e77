package sim

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/eosim/eosim/engine"
	"github.com/eosim/eosim/faults"
	"github.com/eosim/eosim/history"
)

// apply fires or arms one fault. A fault that cannot apply (its instance is
// down, or already has a fault pending) is recorded as skipped.
func (w *world) apply(ctx context.Context, f faults.Fault) error {
	if f.Kind.IsCluster() {
		return w.applyCluster(ctx, f)
	}
	s := w.slot(f.Instance)
	skip := func(why string) error {
		w.log.Record(history.Event{Kind: history.KindFault, Instance: f.Instance, Fault: string(f.Kind),
			Detail: fmt.Sprintf("skipped (%s): %s", why, f)})
		return nil
	}
	if s == nil {
		return skip("no such instance")
	}
	if f.Kind == faults.Join {
		if s.in != nil || s.pending != nil {
			return skip("already running")
		}
	} else if s.in == nil || s.pending != nil {
		return skip("instance down or paused")
	}
	if s.armed != nil || (f.Kind == faults.Drop && s.drop != nil) {
		return skip("a fault is already armed on it")
	}
	w.log.Record(history.Event{Kind: history.KindFault, Instance: f.Instance, Fault: string(f.Kind), Detail: f.String()})
	switch f.Kind {
	case faults.Crash, faults.Expire, faults.Pause:
		s.armed = &f
	case faults.Shutdown:
		// A close error means the checkpoint could not be written: the
		// restart then restores from the changelog, as after a crash.
		if err := w.closeInstance(s.in); errors.Is(err, ErrStuck) {
			return err
		} else if err != nil {
			w.note(fmt.Sprintf("%s: clean shutdown: %s", s.name, engine.Reason(err)))
		}
		s.in, s.downUntil = nil, w.steps+f.RestartAfter
	case faults.Leave:
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
		if err := w.startInstance(ctx, s); err != nil {
			return err
		}
	case faults.BrokerError:
		return w.armBrokerError(f)
	case faults.Drop:
		key, ok := apiKey(f.Request)
		if !ok {
			return fmt.Errorf("fault %s: unknown request", f)
		}
		s.in.DropConnectionsAfter(key, nil)
		s.drop = &f
	case faults.Delay:
		return w.armDelay(f)
	}
	return nil
}

// armedDelay is a delay fault installed as a kfake control.
type armedDelay struct {
	fault faults.Fault
	fired *atomic.Bool
}

// armDelay installs a control that holds the instance's next matching
// request for the fault's delay, in virtual time; kfake serves other
// connections meanwhile (SleepControl), so later requests overtake it.
func (w *world) armDelay(f faults.Fault) error {
	key, ok := apiKey(f.Request)
	if !ok {
		return fmt.Errorf("fault %s: unknown request", f)
	}
	txnID := w.cfg.AppID() + "-" + f.Instance
	fired := new(atomic.Bool)
	c := w.cluster.Fake
	c.ControlKey(key, func(req kmsg.Request) (kmsg.Response, error, bool) {
		if fired.Load() {
			return nil, nil, false // done: let the control go
		}
		c.KeepControl()
		if !ownedBy(req, txnID, f.Instance) {
			return nil, nil, false
		}
		fired.Store(true)
		// Off the millisecond grid, and apart per instance: a held request
		// must not wake at the same virtual instant as another sleeper or
		// a client timer, or Go would order them.
		d := time.Duration(f.DelayMs)*time.Millisecond + 137*time.Microsecond +
			time.Duration(f.Instance[0]-'a')*time.Millisecond
		held := &heldRequest{until: time.Now().Add(d), release: make(chan struct{})}
		w.holds.add(held)
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
	w.delays = append(w.delays, armedDelay{fault: f, fired: fired})
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

// applyCluster moves leaders or coordinators, and records where they went.
func (w *world) applyCluster(_ context.Context, f faults.Fault) error {
	w.log.Record(history.Event{Kind: history.KindFault, Fault: string(f.Kind), Detail: f.String()})
	switch f.Kind {
	case faults.LeaderMove:
		node, err := w.cluster.MoveLeader(f.Partition)
		if err != nil {
			return err
		}
		detail := fmt.Sprintf("fired: partition %d now led by broker %d", f.Partition, node)
		if node < 0 {
			detail = fmt.Sprintf("skipped: no topic has partition %d", f.Partition)
		}
		w.log.Record(history.Event{Kind: history.KindFault, Fault: string(f.Kind), Detail: detail})
	case faults.BrokerRestart:
		if n := w.letHeldRequestsGo(); n > 0 {
			w.note(fmt.Sprintf("%d held requests let go before the brokers restart", n))
		}
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
		w.log.Record(history.Event{Kind: history.KindFault, Fault: string(f.Kind), Detail: "fired: the brokers restarted"})
	case faults.CoordinatorMove:
		w.cluster.Fake.RehashCoordinators()
		w.log.Record(history.Event{Kind: history.KindFault, Fault: string(f.Kind), Detail: fmt.Sprintf(
			"fired: group coordinator now broker %d", w.cluster.Fake.CoordinatorFor(w.cfg.AppID()))})
	}
	w.settle()
	return nil
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
// world to settle (settleAfterPoll).
func (w *world) crashHere(s *slot, at engine.CrashSite) bool {
	f := s.armed
	hit := f != nil && f.Point == at.Point &&
		(at.Point != engine.AfterProcess || at.Index == min(f.Index, at.Records-1))
	switch {
	case hit && f.Kind != faults.Pause:
		return true
	case hit:
		s.armed = nil
		s.resumeAt = time.Now().Add(time.Duration(f.PauseMs) * time.Millisecond)
		close(s.paused)
		<-s.resume
	case at.Point == engine.AfterPoll:
		w.settleAfterPoll()
	}
	return false
}

// settleAfterPoll holds a unit that has just polled until the driver has
// let the world settle. The poll wakes the client's fetch loops, and their
// next fetches race the unit's first transactional request into kgo's
// queue for a broker, which sends one request at a time: which is written
// first, and so whether a fault on the one cuts the other, would be the
// scheduler's pick (the race detector's scheduler picks both ways).
func (w *world) settleAfterPoll() {
	settled := make(chan struct{})
	w.polled <- settled
	<-settled
}

// armedBrokerFault is an installed broker error not yet seen to fire.
type armedBrokerFault struct {
	fault  faults.Fault
	handle *kfake.FaultHandle
}

// armBrokerError installs a kfake fault that answers the instance's next
// matching request with the error.
func (w *world) armBrokerError(f faults.Fault) error {
	key, ok := apiKey(f.Request)
	if !ok {
		return fmt.Errorf("fault %s: unknown request", f)
	}
	kerrErr, ok := kafkaError(f.Error)
	if !ok {
		return fmt.Errorf("fault %s: unknown error", f)
	}
	txnID := w.cfg.AppID() + "-" + f.Instance
	h := w.cluster.Fake.Fault(kfake.Fault{
		Keys:  []kmsg.Key{kmsg.Key(key)},
		Err:   kerrErr,
		Count: 1,
		When:  func(req kmsg.Request) bool { return ownedBy(req, txnID, f.Instance) },
	})
	w.brokerFaults = append(w.brokerFaults, armedBrokerFault{fault: f, handle: h})
	return nil
}

// checkFired records the faults that have fired since the last check: the
// broker's errors, and s's dropped connections.
func (w *world) checkFired(s *slot) {
	kept := w.brokerFaults[:0]
	for _, b := range w.brokerFaults {
		if b.handle.Hits() > 0 {
			w.recordFired(b.fault.Instance, b.fault)
			continue
		}
		kept = append(kept, b)
	}
	w.brokerFaults = kept
	keptDelays := w.delays[:0]
	for _, d := range w.delays {
		if d.fired.Load() {
			w.recordFired(d.fault.Instance, d.fault)
			continue
		}
		keptDelays = append(keptDelays, d)
	}
	w.delays = keptDelays
	if s != nil && s.drop != nil && s.in != nil && s.in.DropFired() {
		w.recordFired(s.name, *s.drop)
		s.drop = nil
	}
}

func (w *world) recordFired(instance string, f faults.Fault) {
	w.log.Record(history.Event{Kind: history.KindFault, Instance: instance, Fault: string(f.Kind), Detail: "fired: " + f.String()})
}

// disarmBrokerFaults removes the broker errors and delays that never
// fired.
func (w *world) disarmBrokerFaults() {
	for _, b := range w.brokerFaults {
		b.handle.Remove()
		w.note("never fired: " + b.fault.String())
	}
	w.brokerFaults = nil
	for _, d := range w.delays {
		d.fired.Store(true) // its control lets the next request go, then goes
		w.note("never fired: " + d.fault.String())
	}
	w.delays = nil
}

// ownedBy reports whether req comes from the instance: by its transactional
// id, its group instance id, or its member id. A request carrying none (a
// produce without a transaction) belongs to whichever instance sends it
// first.
func ownedBy(req kmsg.Request, txnID, instance string) bool {
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
	}
	if txn == "" && inst == "" {
		return true
	}
	return txn == txnID || inst == instance
}

// apiKey returns the Kafka API key named name (kmsg's names, e.g. "EndTxn").
func apiKey(name string) (int16, bool) {
	for k := int16(0); k < 200; k++ {
		if kmsg.NameForKey(k) == name {
			return k, true
		}
	}
	return 0, false
}

// kafkaError returns the Kafka error named name, e.g. "TRANSACTION_ABORTABLE".
func kafkaError(name string) (*kerr.Error, bool) {
	for code := int16(-1); code < 200; code++ {
		if e, ok := kerr.ErrorForCode(code).(*kerr.Error); ok && e.Message == name {
			return e, true
		}
	}
	return nil, false
}
