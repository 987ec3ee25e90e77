package sim

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/eosim/eosim/faults"
)

// lateMarkers holds the markers of transactions back from their
// partitions, as the LateMarkers rewrites of the schedule say: kfake asks
// it, on its run loop, whether to hold an EndTxn's markers
// (kfake.Cluster.DeferMarkers), and the driver writes them, between
// steps, once they are due (writeDueMarkers). Writing them from the driver,
// once every goroutine has settled, rather than from a timer, keeps the
// instant they land apart from every request a client sends.
type lateMarkers struct {
	mu    sync.Mutex
	armed []*armedRewrite
	// due is each transaction kfake holds, oldest first, as kfake holds
	// them.
	due []heldTxn
}

// heldTxn is a transaction whose markers are held: whose it is, and when
// they are due.
type heldTxn struct {
	instance string
	at       time.Time
}

// arm arms a LateMarkers rewrite: it waits for its instance's next EndTxn
// that ends a transaction with partitions (the answer itself is not
// changed: apply stays nil).
func (l *lateMarkers) arm(i int, f faults.Fault) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.armed = append(l.armed, &armedRewrite{index: i, fault: f})
}

// hold is kfake's hook: the first armed rewrite of the ending client
// holds the transaction's markers for faults.LateMarkersMs, and has fired.
func (l *lateMarkers) hold(clientID string, commit bool) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, a := range l.armed {
		if a.did != "" || a.fault.Instance != clientID {
			continue
		}
		late := time.Duration(faults.LateMarkersMs) * time.Millisecond
		ends := "commit"
		if !commit {
			ends = "abort"
		}
		a.did = fmt.Sprintf("EndTxn (%s) answered before its markers, which land %v later", ends, late)
		l.due = append(l.due, heldTxn{instance: clientID, at: time.Now().Add(late)})
		return true
	}
	return false
}

// takeFired removes and returns the rewrites that fired, in the order armed.
func (l *lateMarkers) takeFired() []*armedRewrite {
	l.mu.Lock()
	defer l.mu.Unlock()
	return takeFiredFrom(&l.armed)
}

// disarm takes every rewrite that has not fired off; markers already
// held stay held until due.
func (l *lateMarkers) disarm() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.armed = slices.DeleteFunc(l.armed, func(a *armedRewrite) bool { return a.did == "" })
}

// takeDue forgets, and counts, the held transactions due by now (all of
// them, with all).
func (l *lateMarkers) takeDue(now time.Time, all bool) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for n < len(l.due) && (all || !l.due[n].at.After(now)) {
		n++
	}
	l.due = slices.Delete(l.due, 0, n)
	return n
}

// held is the number of transactions whose markers are held.
func (l *lateMarkers) held() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.due)
}

// heldFor reports whether a transaction of instance has its markers held.
func (l *lateMarkers) heldFor(instance string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.ContainsFunc(l.due, func(h heldTxn) bool { return h.instance == instance })
}

// writeDueMarkers writes the held markers that are due (all of them, with
// all: before the brokers restart, since a coordinator that comes back
// completes what it had prepared, and before the final topics are read).
func (w *world) writeDueMarkers(all bool, why string) {
	n := w.late.takeDue(time.Now(), all)
	if n == 0 {
		return
	}
	if got := w.cluster.Fake.WriteLateMarkers(n); got != n {
		w.note(fmt.Sprintf("late markers: %d transactions held by the brokers, %d expected", got, n))
	}
	w.note(fmt.Sprintf("late markers of %d transaction(s) written%s", n, why))
	w.settle()
}

// writeMarkersWhileWaiting writes the due markers while the driver waits
// on an instance, once a virtual second: its unit may be waiting for its
// own last transaction's markers (CONCURRENT_TRANSACTIONS until they
// land). What woke at this instant settles first.
func (w *world) writeMarkersWhileWaiting() {
	if w.late.held() > 0 {
		w.settle()
		w.writeDueMarkers(false, "")
	}
}
