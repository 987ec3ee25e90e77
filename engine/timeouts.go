package engine

import (
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Timeouts are how long an instance's clients wait, as kgo was configured
// for them: for an answer to each request, for its group session, for its
// transactions. A fault that holds a request is measured against them
// (faults.Band): whether the client retries, gives up or is evicted while
// the request is held depends on them, not on a fixed length.
type Timeouts struct {
	// Overhead is kgo's RequestTimeoutOverhead: a request waits this long
	// for its answer, beyond the timeout the request itself carries.
	Overhead time.Duration
	// Produce is kgo's ProduceRequestTimeout, FetchMaxWait how long a
	// broker may hold a fetch, Rebalance the group's rebalance timeout.
	Produce, FetchMaxWait, Rebalance time.Duration
	// Session and Transaction are the group session and transaction
	// timeouts.
	Session, Transaction time.Duration
}

// Request is how long a client with these timeouts waits for the answer
// to the request named name (kmsg's names) before it cuts the connection
// and retries or gives up, as kgo (v1.22.3) sets its read deadline: the
// overhead, plus the timeout the request carries (a produce's, a fetch's
// longest wait, a join's rebalance timeout); a sync waits as long as the
// join before it could.
func (t Timeouts) Request(name string) time.Duration {
	switch name {
	case "Produce":
		return t.Overhead + t.Produce
	case "Fetch":
		return t.Overhead + t.FetchMaxWait
	case "JoinGroup":
		return t.Overhead + t.Rebalance
	case "SyncGroup":
		return t.Rebalance
	}
	return t.Overhead
}

// timeoutsOf reads what cl was configured with.
func timeoutsOf(cl *kgo.Client, cfg Config) Timeouts {
	d := func(opt any) time.Duration {
		v, _ := cl.OptValue(opt).(time.Duration)
		return v
	}
	return Timeouts{
		Overhead:     d(kgo.RequestTimeoutOverhead),
		Produce:      d(kgo.ProduceRequestTimeout),
		FetchMaxWait: d(kgo.FetchMaxWait),
		Rebalance:    d(kgo.RebalanceTimeout),
		Session:      cfg.SessionTimeout,
		Transaction:  cfg.TransactionTimeout,
	}
}

// Timeouts returns the timeouts of the instance's group member, read from
// the client itself once it exists (zero before its first start).
func (in *Instance) Timeouts() Timeouts {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.timeouts
}
