//go:build synctests

package sim

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/eosim/eosim/engine"
	"github.com/eosim/eosim/faults"
)

// TestEveryRequestSentIsInTheProtocolTable: every request type a run's
// clients send (the engine's, under both transaction protocols, with and
// without transactions, with a database; and the simulator's own) has its
// errors in faults' protocol table, generated from Kafka's protocol docs.
// A client that starts sending a request the table does not cover fails
// it: a fault space as wide as the protocol must know what to answer.
func TestEveryRequestSentIsInTheProtocolTable(t *testing.T) {
	sent := map[string]bool{}
	for _, tc := range []struct {
		scenario string
		g        engine.Guarantee
		v1       bool
	}{
		{"orders", engine.ExactlyOnceV2, false},
		{"orders", engine.ExactlyOnceV2, true},
		{"orders", engine.AtLeastOnce, false},
		{"orders", engine.NoGroupMetadata, false},
		{"orders-db", engine.DBIdempotent, false},
	} {
		cfg := DefaultConfig()
		cfg.Seed, cfg.Inputs, cfg.Scenario, cfg.Guarantee, cfg.TransactionsV1 = 3, 200, tc.scenario, tc.g, tc.v1
		cfg.Rates = faults.Rates{Crash: 0.2, Shutdown: 0.1, Membership: 0.1}
		cfg.RecordWire = true
		res := runInBubble(t, cfg)
		for _, ev := range res.Wire {
			if ev.What == WireRequest {
				sent[kmsg.NameForKey(ev.Key)] = true
			}
		}
	}
	require.Contains(t, sent, "EndTxn")
	require.Contains(t, sent, "AddPartitionsToTxn", "the v1 protocol's requests were sent")
	documented := faults.DocumentedRequests()
	for name := range sent {
		require.True(t, slices.Contains(documented, name), "clients send %s, which the protocol table does not cover", name)
	}
}
