//go:build synctests

package xsync

import (
	"sync"
	"sync/atomic"
)

// Mutex is a channel-based mutex for use with synctest.
// A goroutine blocked on a sync.Mutex is not "durably
// blocked" from synctest's perspective, which prevents time
// from advancing. Channel-based blocking is durably blocked.
//
// eosim: an uncontended Lock and Unlock are one atomic add each; only a
// goroutine that must wait touches the channel (upstream took and put a
// token on it every time: 5% of a simulated run's CPU). n counts the holder
// and the waiters; Unlock with waiters hands the lock to the first of them
// through the channel, as upstream's token did, so waiters still get it in
// the order they came.
type Mutex struct {
	n    atomic.Int32
	once sync.Once
	ch   chan struct{}
}

func (m *Mutex) init() {
	m.once.Do(func() { m.ch = make(chan struct{}, 1) })
}

func (m *Mutex) Lock() {
	if m.n.Add(1) == 1 {
		return
	}
	m.init()
	<-m.ch // handed over by Unlock
}

func (m *Mutex) TryLock() bool {
	return m.n.CompareAndSwap(0, 1)
}

func (m *Mutex) Unlock() {
	switch n := m.n.Add(-1); {
	case n == 0:
	case n < 0:
		panic("sync: unlock of unlocked mutex")
	default:
		// A waiter is counted: it owns the lock now. At most one token
		// is ever in flight (the next Unlock comes after its receiver
		// took it), so the send never blocks.
		m.init()
		m.ch <- struct{}{}
	}
}

// RWMutex is a channel-based readers-writer mutex with
// writer priority.
//
// The design uses a "gate token" pattern: a buffered-1
// channel holds a single token. Readers take the token and
// immediately return it (passing through the gate). Writers
// take the token and hold it, which blocks all new readers
// until the writer unlocks. This provides writer priority
// naturally: the moment a writer calls Lock, new RLock
// calls block on the gate.
//
// A separate writerSignal channel (buffered 1) is used by
// the last active reader to wake a waiting writer. A stale
// signal can accumulate if readers drain while no writer is
// waiting; Lock drains any stale signal before checking the
// reader count.
type RWMutex struct {
	once         sync.Once
	mu           Mutex
	gate         chan struct{}
	readerCount  int
	writerSignal chan struct{}
}

func (rw *RWMutex) init() {
	rw.once.Do(func() {
		rw.gate = make(chan struct{}, 1)
		rw.gate <- struct{}{}
		rw.writerSignal = make(chan struct{}, 1)
		rw.mu.init()
	})
}

func (rw *RWMutex) RLock() {
	rw.init()
	<-rw.gate
	rw.mu.Lock()
	rw.readerCount++
	rw.mu.Unlock()
	rw.gate <- struct{}{}
}

func (rw *RWMutex) TryRLock() bool {
	rw.init()
	select {
	case <-rw.gate:
	default:
		return false
	}
	rw.mu.Lock()
	rw.readerCount++
	rw.mu.Unlock()
	rw.gate <- struct{}{}
	return true
}

func (rw *RWMutex) RUnlock() {
	rw.mu.Lock()
	rw.readerCount--
	if rw.readerCount < 0 {
		rw.mu.Unlock()
		panic("sync: RUnlock of unlocked RWMutex")
	}
	if rw.readerCount == 0 {
		select {
		case rw.writerSignal <- struct{}{}:
		default:
		}
	}
	rw.mu.Unlock()
}

func (rw *RWMutex) Lock() {
	rw.init()
	<-rw.gate
	select {
	case <-rw.writerSignal:
	default:
	}
	rw.mu.Lock()
	if rw.readerCount > 0 {
		rw.mu.Unlock()
		<-rw.writerSignal
	} else {
		rw.mu.Unlock()
	}
}

func (rw *RWMutex) TryLock() bool {
	rw.init()
	select {
	case <-rw.gate:
	default:
		return false
	}
	select {
	case <-rw.writerSignal:
	default:
	}
	rw.mu.Lock()
	if rw.readerCount > 0 {
		rw.mu.Unlock()
		rw.gate <- struct{}{}
		return false
	}
	rw.mu.Unlock()
	return true
}

func (rw *RWMutex) Unlock() {
	select {
	case rw.gate <- struct{}{}:
	default:
		panic("sync: Unlock of unlocked RWMutex")
	}
}

func (rw *RWMutex) RLocker() sync.Locker { return (*rlocker)(rw) }

type rlocker RWMutex

func (r *rlocker) Lock()   { (*RWMutex)(r).RLock() }
func (r *rlocker) Unlock() { (*RWMutex)(r).RUnlock() }
