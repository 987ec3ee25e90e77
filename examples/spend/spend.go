// Package spend is a worked example of testing an application of one's own
// with eosim (package eosimtest): spend per customer. Payments, keyed by
// customer, add to the customer's total in a state store; each payment
// forwards the new total. Its test runs it under eosim's faults and the
// generic oracle; BrokenApp is the same application with a classic mistake,
// which the oracle catches.
package spend

import (
	"fmt"
	"math/rand/v2"
	"strconv"

	"github.com/eosim/eosim/engine"
	"github.com/eosim/eosim/history"
	"github.com/eosim/eosim/invariants"
	"github.com/eosim/eosim/scenarios"
)

// Names of the application's topics and store.
const (
	PaymentsTopic = "payments"
	TotalsTopic   = "totals"
	TotalsStore   = "totals"
)

// App is the application: its topology, its input, and an invariant of its
// own beside the oracle's.
func App() scenarios.App {
	return scenarios.App{Name: "spend", Topology: topology, Input: payments, Invariants: invariantsOf()}
}

// invariantsOf are the app's own invariants. TotalsGrow: payments are
// positive, so a customer's totals, in the order read_committed shows them,
// only grow. It reads the broker's view of the totals topic, nothing the
// application says of itself.
func invariantsOf() []invariants.Checker {
	return []invariants.Checker{{Name: "totals-grow", Check: totalsGrow}}
}

func totalsGrow(spec invariants.Spec, run invariants.Run) invariants.Result {
	last := make(map[string]history.Record)
	var res invariants.Result
	for _, r := range run.Snapshot.Committed[spec.OutputTopic] {
		prev, seen := last[r.Key]
		last[r.Key] = r
		if !seen {
			continue
		}
		a, errA := strconv.ParseInt(prev.Value, 10, 64)
		b, errB := strconv.ParseInt(r.Value, 10, 64)
		if errA != nil || errB != nil {
			return invariants.Result{Unknown: fmt.Sprintf("a total that is not a number: %q, %q", prev.Value, r.Value)}
		}
		if b <= a {
			res.Anomalies = append(res.Anomalies, invariants.Anomaly{
				Kind:    "totals-grow",
				Summary: fmt.Sprintf("the total of %s goes from %d down to %d", r.Key, a, b),
				Records: []history.Record{prev, r},
			})
		}
	}
	return res
}

func topology(prefix string) *engine.Topology {
	totals := prefix + TotalsTopic
	return &engine.Topology{
		Source: prefix + PaymentsTopic,
		Stores: []string{TotalsStore},
		Sinks:  []string{totals},
		Process: func(ctx *engine.ProcessContext, rec history.Record) error {
			amount, err := strconv.ParseInt(rec.Value, 10, 64)
			if err != nil {
				return fmt.Errorf("payment %q: %w", rec.Value, err)
			}
			var total int64
			if v, ok := ctx.Get(TotalsStore, rec.Key); ok {
				if total, err = strconv.ParseInt(v, 10, 64); err != nil {
					return fmt.Errorf("total of %s: %w", rec.Key, err)
				}
			}
			total += amount
			ctx.Put(TotalsStore, rec.Key, strconv.FormatInt(total, 10))
			ctx.Forward(totals, rec.Key, strconv.FormatInt(total, 10))
			return nil
		},
	}
}

// payments draws n payments of 1 to 100 from seed, among 30 customers.
func payments(seed uint64, n int) []scenarios.Input {
	rng := rand.New(rand.NewPCG(seed, 0x5e4d))
	in := make([]scenarios.Input, n)
	for i := range in {
		in[i] = scenarios.Input{
			Key:   fmt.Sprintf("customer-%02d", rng.IntN(30)),
			Value: strconv.Itoa(1 + rng.IntN(100)),
		}
	}
	return in
}

// BrokenApp is App with a mistake seen in real code: the running totals are
// kept in a map of the processor's own, a cache in front of the store that
// is never restored. Fault-free it computes what App computes; after a
// crash or a rebalance the instance that takes a customer's partition
// starts from an empty cache, and totals restart from zero.
func BrokenApp() scenarios.App {
	return scenarios.App{Name: "spend-broken", Topology: brokenTopology, Input: payments, Invariants: invariantsOf()}
}

func brokenTopology(prefix string) *engine.Topology {
	t := topology(prefix)
	cache := make(map[string]int64)
	totals := prefix + TotalsTopic
	t.Process = func(ctx *engine.ProcessContext, rec history.Record) error {
		amount, err := strconv.ParseInt(rec.Value, 10, 64)
		if err != nil {
			return fmt.Errorf("payment %q: %w", rec.Value, err)
		}
		cache[rec.Key] += amount
		total := strconv.FormatInt(cache[rec.Key], 10)
		ctx.Put(TotalsStore, rec.Key, total)
		ctx.Forward(totals, rec.Key, total)
		return nil
	}
	return t
}
