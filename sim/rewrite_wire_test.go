//go:build synctests

package sim

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/eosim/eosim/engine"
	"github.com/eosim/eosim/faults"
)

// TestClaimThrottleHoldsTheClientsNextWrite: "throttle: the broker asks the
// client to send nothing more on that connection meanwhile; kgo waits it
// out before its next write". After the throttled answer to a's EndTxn,
// the broker read nothing more of a on that connection for ThrottleMs.
func TestClaimThrottleHoldsTheClientsNextWrite(t *testing.T) {
	res := runSchedule(t, engine.ExactlyOnceV2,
		faults.Fault{Step: 2, Kind: faults.Rewrite, Instance: "a", Request: "EndTxn", Rewrite: faults.Throttle})
	requirePass(t, res)
	require.Equal(t, "fired: throttled 5000ms", faultEvents(res.History, "a")[1])
	armed := faultAt(t, res, "a", "armed")
	ends := exchanges(res, "a", int16(kmsg.EndTxn))
	i := slices.IndexFunc(ends, func(x exchange) bool { return x.req.T >= armed && x.answered() })
	require.GreaterOrEqual(t, i, 0, "no EndTxn of a was answered after the rewrite was armed")
	throttled := ends[i]
	next := slices.IndexFunc(exchanges(res, "a", -1), func(x exchange) bool {
		return x.req.Broker == throttled.req.Broker && x.req.Conn == throttled.req.Conn && x.req.T > throttled.answer.T
	})
	require.GreaterOrEqual(t, next, 0, "a wrote nothing more on the throttled connection")
	after := exchanges(res, "a", -1)[next].req.T - throttled.answer.T
	require.GreaterOrEqual(t, after, faults.ThrottleMs*time.Millisecond, "a wrote again %v after a throttled answer", after)
}
