//go:build synctests

// eosim: tests of the synctests Mutex as eosim changed it (upstream's are
// not copied). Run with
// (cd third_party/franz-go && go test -tags synctests ./pkg/kgo/internal/xsync/);
// .ci/run does.

package xsync

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
)

// TestMutexExcludes: goroutines contending for the lock never hold it at
// once, and every critical section runs.
func TestMutexExcludes(t *testing.T) {
	var (
		m       Mutex
		inside  atomic.Int32
		counter int
		wg      sync.WaitGroup
	)
	const goroutines, rounds = 8, 2000
	for range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				m.Lock()
				if inside.Add(1) != 1 {
					t.Error("two goroutines hold the lock")
				}
				counter++
				runtime.Gosched()
				inside.Add(-1)
				m.Unlock()
			}
		}()
	}
	wg.Wait()
	if counter != goroutines*rounds {
		t.Fatalf("counter = %d, want %d", counter, goroutines*rounds)
	}
}

// TestMutexTryLock: TryLock takes a free lock and only a free one.
func TestMutexTryLock(t *testing.T) {
	var m Mutex
	if !m.TryLock() {
		t.Fatal("TryLock of a free mutex failed")
	}
	if m.TryLock() {
		t.Fatal("TryLock of a held mutex succeeded")
	}
	m.Unlock()
	if !m.TryLock() {
		t.Fatal("TryLock after Unlock failed")
	}
	m.Unlock()
}

// TestMutexUnlockOfUnlockedPanics, as sync.Mutex's does.
func TestMutexUnlockOfUnlockedPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("Unlock of an unlocked mutex did not panic")
		}
	}()
	var m Mutex
	m.Unlock()
}

// TestMutexWaitersAreDurablyBlockedAndServedInOrder: a goroutine waiting
// for the lock is durably blocked (synctest.Wait returns while it waits,
// which a sync.Mutex would not allow), and the lock goes to the waiters in
// the order they came.
func TestMutexWaitersAreDurablyBlockedAndServedInOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var m Mutex
		m.Lock()
		var order []int
		done := make(chan struct{}, 3)
		for i := range 3 {
			go func() {
				m.Lock()
				order = append(order, i)
				m.Unlock()
				done <- struct{}{}
			}()
			synctest.Wait() // waiter i is blocked before the next comes
		}
		if len(order) != 0 {
			t.Fatalf("a waiter got the held lock: %v", order)
		}
		m.Unlock()
		for range 3 {
			<-done
		}
		if want := []int{0, 1, 2}; len(order) != 3 || order[0] != 0 || order[1] != 1 || order[2] != 2 {
			t.Fatalf("waiters got the lock in order %v, want %v", order, want)
		}
	})
}
