package scenarios

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eosim/eosim/engine"
	"github.com/eosim/eosim/history"
)

// joinRecords are inputs as the simulator writes them: each to its topic
// (the first source when unnamed), in the partition its key hashes to, at
// the next offset there.
func joinRecords(ins []Input, parts int) []history.Record {
	type place struct {
		topic string
		p     int32
	}
	next := make(map[place]int64)
	var out []history.Record
	for _, in := range ins {
		at := place{in.Topic, engine.KeyPartition(in.Key, parts)}
		out = append(out, history.Record{Topic: in.Topic, Partition: at.p, Offset: next[at], Key: in.Key, Value: in.Value})
		next[at]++
	}
	return out
}

// TestJoinEnrichesEachPurchaseOnce: a serial run forwards every purchase
// whose customer is written, once, enriched with that customer's profile,
// in the customer's partition; a purchase of a customer never written is
// kept but not forwarded. The customers store holds each profile, the
// waiting-purchases store each purchase under customer/purchase.
func TestJoinEnrichesEachPurchaseOnce(t *testing.T) {
	const parts = 3
	ins := JoinInput(7, 600)
	profiles := make(map[string]string)
	purchases := make(map[string][2]string) // purchase → customer, amount
	for _, in := range ins {
		switch in.Topic {
		case CustomersTopic:
			require.NotContains(t, profiles, in.Key, "a customer is written once")
			profiles[in.Key] = in.Value
		case PurchasesTopic:
			customer, amount, err := parsePurchase(in.Value)
			require.NoError(t, err)
			purchases[in.Key] = [2]string{customer, amount}
		default:
			t.Fatalf("input to topic %q", in.Topic)
		}
	}
	got, err := engine.RunSerial(joinTopology(""), "app", parts, joinRecords(ins, parts))
	require.NoError(t, err)

	forwarded := make(map[string]history.Record)
	stores := map[string]map[string]string{CustomersStore: {}, WaitingPurchases: {}}
	for _, r := range got {
		switch r.Topic {
		case EnrichedTopic:
			require.NotContains(t, forwarded, r.Key, "purchase %s forwarded twice", r.Key)
			forwarded[r.Key] = r
		case engine.ChangelogTopic("app", CustomersStore), engine.ChangelogTopic("app", WaitingPurchases):
			store := strings.TrimSuffix(strings.TrimPrefix(r.Topic, "app-"), "-changelog")
			require.NotContains(t, stores[store], r.Key, "each store key is written once")
			require.Equal(t, engine.KeyPartition(strings.Split(r.Key, "/")[0], parts), r.Partition, "in its customer's partition")
			stores[store][r.Key] = r.Value
		default:
			t.Fatalf("a record of topic %q", r.Topic)
		}
	}
	unknown := 0
	for id, pc := range purchases {
		customer, amount := pc[0], pc[1]
		profile, known := profiles[customer]
		if !known {
			unknown++
			require.NotContains(t, forwarded, id, "purchase %s of unknown customer %s", id, customer)
		} else if assert.Contains(t, forwarded, id) {
			r := forwarded[id]
			require.Equal(t, "customer="+customer+" "+amount+" "+profile, r.Value)
			require.Equal(t, engine.KeyPartition(customer, parts), r.Partition)
		}
		require.Equal(t, amount, stores[WaitingPurchases][customer+"/"+id])
	}
	require.Equal(t, profiles, stores[CustomersStore])
	require.Len(t, stores[WaitingPurchases], len(purchases))
	require.Len(t, forwarded, len(purchases)-unknown)
	assert.Positive(t, unknown, "some purchases name a customer never written")
	assert.Less(t, unknown, len(purchases)/10, "nearly every purchase is joined")
}

// TestJoinWritesTheSameInAnyOrder: whatever order a task takes the
// customers and the repartitioned purchases in (a run decides it by what
// each fetch returned), the join writes the same records, as multisets per
// topic and partition, which is what the oracle compares. The serial run
// always takes a task's customers first, so here both sides go through one
// topic, tagged, and are shuffled within each partition.
func TestJoinWritesTheSameInAnyOrder(t *testing.T) {
	const parts = 2
	mixed := func(rng *rand.Rand) []history.Record {
		var byPart [parts][]history.Record
		for _, in := range JoinInput(11, 300) {
			r := history.Record{Topic: "mixed", Key: in.Key, Value: "C " + in.Value}
			if in.Topic == PurchasesTopic {
				customer, amount, err := parsePurchase(in.Value)
				require.NoError(t, err)
				r.Key, r.Value = customer, "P "+in.Key+" "+amount // as the rekey stage writes it
			}
			r.Partition = engine.KeyPartition(r.Key, parts)
			byPart[r.Partition] = append(byPart[r.Partition], r)
		}
		var out []history.Record
		for p := range byPart {
			rng.Shuffle(len(byPart[p]), func(i, j int) { byPart[p][i], byPart[p][j] = byPart[p][j], byPart[p][i] })
			for i := range byPart[p] {
				byPart[p][i].Offset = int64(i)
			}
			out = append(out, byPart[p]...)
		}
		return out
	}
	topology := &engine.Topology{
		Source: "mixed", Stores: []string{CustomersStore, WaitingPurchases}, Sinks: []string{EnrichedTopic},
		Process: func(ctx *engine.ProcessContext, rec history.Record) error {
			if v, ok := strings.CutPrefix(rec.Value, "C "); ok {
				joinCustomer(ctx, "", rec.Key, v)
				return nil
			}
			purchase, amount, _ := strings.Cut(strings.TrimPrefix(rec.Value, "P "), " ")
			joinPurchase(ctx, "", rec.Key, purchase, amount)
			return nil
		},
	}
	multiset := func(rs []history.Record) map[string]int {
		m := make(map[string]int)
		for _, r := range rs {
			m[fmt.Sprintf("%s[%d] %s=%s", r.Topic, r.Partition, r.Key, r.Value)]++
		}
		return m
	}
	rng := rand.New(rand.NewPCG(1, 2))
	first, err := engine.RunSerial(topology, "app", parts, mixed(rng))
	require.NoError(t, err)
	want := multiset(first)
	for i := range 20 {
		got, err := engine.RunSerial(topology, "app", parts, mixed(rng))
		require.NoError(t, err)
		require.Equal(t, want, multiset(got), "order %d", i)
	}
}

func TestJoinInput(t *testing.T) {
	in := JoinInput(3, 500)
	require.Len(t, in, 500)
	assert.Equal(t, in, JoinInput(3, 500), "a function of the seed")
	assert.NotEqual(t, in, JoinInput(4, 500))
	customers, before := make(map[string]bool), 0
	for _, r := range in {
		if r.Topic == CustomersTopic {
			customers[r.Key] = true
			continue
		}
		customer, _, err := parsePurchase(r.Value)
		require.NoError(t, err)
		if !customers[customer] {
			before++
		}
	}
	assert.Len(t, customers, 333)
	assert.Greater(t, before, 30, "many purchases come before their customer in the input")
}
