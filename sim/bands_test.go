//go:build synctests

package sim

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/eosim/eosim/engine"
	"github.com/eosim/eosim/faults"
)

// TestClaimBandsHoldForTheClientsOwnTimeouts: "a band holds a request for
// the middle of its interval, measured against the holding client's own
// timeouts". Within the request timeout, the broker answered a's request a
// band's length after reading it, and a took the answer. Past it, a gave up
// first: no answer reached it, and the broker read a's next request of the
// same kind (its retry, or a later transaction's) before the held one
// landed.
func TestClaimBandsHoldForTheClientsOwnTimeouts(t *testing.T) {
	// a's timeouts, as simrun gives them: kgo waits 10s (a produce 20s),
	// the session lasts 10s and a transaction 23.456s.
	holds := map[string]map[faults.Band]time.Duration{
		"EndTxn":  {faults.WithinRequest: 5 * time.Second, faults.PastSession: 16728 * time.Millisecond, faults.PastTxn: 28456 * time.Millisecond},
		"Produce": {faults.WithinRequest: 10 * time.Second, faults.PastSession: 21728 * time.Millisecond, faults.PastTxn: 33456 * time.Millisecond},
	}
	for _, req := range []string{"EndTxn", "Produce"} {
		for _, b := range []faults.Band{faults.WithinRequest, faults.PastSession, faults.PastTxn} {
			t.Run(fmt.Sprintf("%s/%s", req, b), func(t *testing.T) {
				res := runSchedule(t, engine.ExactlyOnceV2,
					faults.Fault{Step: 2, Kind: faults.Delay, Instance: "a", Request: req, Band: b})
				requirePass(t, res)
				hold := holds[req][b]
				require.Equal(t, "fired: held "+hold.String(), faultEvents(res.History, "a")[1])
				key, _ := apiKey(req)
				armed := faultAt(t, res, "a", "armed")
				xs := exchanges(res, "a", key)
				i := slices.IndexFunc(xs, func(x exchange) bool {
					return x.req.T >= armed && (x.answer == nil || x.answer.T-x.req.T >= hold)
				})
				require.GreaterOrEqual(t, i, 0, "no %s of a was held %v at the broker", req, hold)
				h := xs[i]
				if b == faults.WithinRequest {
					require.True(t, h.answered(), "a gave up on its %s held %v, within its request timeout", req, hold)
					return
				}
				// A produce's answer, written to a connection the client
				// closed, is not even tried: kfake drops it unwritten.
				require.False(t, h.answered(), "a took the answer to its %s held %v, past its request timeout", req, hold)
				landed := h.req.T + hold
				overtaken := slices.ContainsFunc(xs[i+1:], func(x exchange) bool { return x.req.T < landed })
				require.True(t, overtaken, "no later %s of a reached the broker before the held one (%v) landed", req, h.req)
			})
		}
	}
}
