package kgo

import "sync"

// eosim: countWait is a sync.WaitGroup for the few places kgo makes one per
// call (every sharded request: FindCoordinator, OffsetFetch,
// AddPartitionsToTxn, ListOffsets, …). Go 1.26's runtime loses 32 bytes
// each time a WaitGroup used inside a testing/synctest bubble is waited
// down to zero (synctest_disassociate drops the record that tied it to its
// bubble without freeing it); eosim runs kgo in such bubbles, tens of
// times per run, and a long sweep grew by the lost records. A channel
// made in the bubble blocks it just as durably and loses nothing.
//
// Add, Done and Wait mean what they mean on a WaitGroup, including a count
// that comes back up from zero before Wait is called.
type countWait struct {
	mu   sync.Mutex
	n    int
	zero chan struct{} // closed when n comes down to zero; nil while it is
}

func (w *countWait) Add(delta int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.n == 0 && delta > 0 {
		w.zero = make(chan struct{})
	}
	w.n += delta
	switch {
	case w.n < 0:
		panic("kgo: negative countWait counter")
	case w.n == 0 && delta < 0:
		close(w.zero)
	}
}

func (w *countWait) Done() { w.Add(-1) }

func (w *countWait) Wait() {
	w.mu.Lock()
	zero := w.zero
	n := w.n
	w.mu.Unlock()
	if n > 0 {
		<-zero
	}
}
