package sim

import (
	"slices"
	"sync"
	"time"
)

// heldRequest is a request a delay holds at the broker: let go when its
// time comes or when release is closed.
type heldRequest struct {
	until   time.Time
	release chan struct{}
}

// holds are the requests held at the broker now.
type holds struct {
	mu  sync.Mutex
	all []*heldRequest
}

// addApart adds a hold due at until, or a microsecond later for every hold
// already due then. Two of an instance's requests held for the same band
// (two delays armed on its next OffsetForLeaderEpoch, sent to two brokers
// at once) would otherwise wake at one instant, and which woke first (and
// so which one a third armed delay caught next) would be Go's pick.
func (h *holds) addApart(until time.Time) *heldRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	for slices.ContainsFunc(h.all, func(x *heldRequest) bool { return x.until.Equal(until) }) {
		until = until.Add(time.Microsecond)
	}
	r := &heldRequest{until: until, release: make(chan struct{})}
	h.all = append(h.all, r)
	return r
}

func (h *holds) remove(r *heldRequest) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.all = slices.DeleteFunc(h.all, func(x *heldRequest) bool { return x == r })
}

// earliest removes and returns the hold due first, or nil.
func (h *holds) earliest() *heldRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.all) == 0 {
		return nil
	}
	r := slices.MinFunc(h.all, func(a, b *heldRequest) int { return a.until.Compare(b.until) })
	h.all = slices.DeleteFunc(h.all, func(x *heldRequest) bool { return x == r })
	return r
}

// latest is when the last hold is due (zero without one).
func (h *holds) latest() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	var t time.Time
	for _, r := range h.all {
		if r.until.After(t) {
			t = r.until
		}
	}
	return t
}
