package scenarios

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/eosim/eosim/engine"
	"github.com/eosim/eosim/history"
)

// The join, the scenario of two inputs: purchases, keyed by purchase id
// and naming a customer, are joined with customers, a table whose every
// customer is written once. A first stage repartitions each purchase by
// its customer (Kafka Streams' selectKey before a join); a second reads
// the customers and the repartitioned purchases, co-partitioned, and
// forwards each purchase enriched with its customer's profile.
//
// Kafka Streams' stream-table join looks the customer up when the
// purchase comes and drops the purchase if the customer has not come yet;
// which came first is decided by timestamps there, and by what each fetch
// returned here, so such a join would write different records run to run
// and the generic oracle could not judge it. This join is symmetric
// instead: each side waits in a store for the other, and each (purchase,
// customer) pair is forwarded exactly once, by whichever of the two comes
// second, with the same key and value either way. Every store write is
// order-free too: a customer is put once, and each purchase under a key
// of its own (customer/purchase), found by a prefix scan when its customer
// comes; a list of purchases under the customer's key would be written
// in the order the purchases of several input partitions reached the
// second stage, which the run decides.
const (
	JoinName          = "join"
	CustomersTopic    = "customers"
	PurchasesTopic    = "purchases"
	EnrichedTopic     = "enriched-purchases"
	RekeyedPurchases  = "rekeyed-purchases"
	CustomersStore    = "customers"
	WaitingPurchases  = "purchases-by-customer"
	joinKeySeparator  = "/"
	joinUnknownShare  = 20 // one purchase in about this many names a customer never written
	joinCustomerShare = 2  // customers per purchase: most customers buy nothing
)

var (
	joinTiers   = []string{"bronze", "silver", "gold"}
	joinRegions = []string{"eu", "us", "apac"}
)

// Join is the stream-table join application.
func Join() App {
	// Both sides partitioned as repartition records are (murmur2): a
	// customer and its repartitioned purchases meet in one task.
	return App{Name: JoinName, Topology: joinTopology, Input: JoinInput, Partition: engine.KeyPartition}
}

func joinTopology(prefix string) *engine.Topology {
	return &engine.Topology{Stages: []engine.Stage{
		{
			Name:         "rekey",
			Sources:      []string{prefix + PurchasesTopic},
			Repartitions: []string{RekeyedPurchases},
			Process: func(ctx *engine.ProcessContext, rec history.Record) error {
				customer, amount, err := parsePurchase(rec.Value)
				if err != nil {
					return fmt.Errorf("purchase %s: %w", rec.Key, err)
				}
				ctx.Repartition(RekeyedPurchases, customer, rec.Key+" "+amount)
				return nil
			},
		},
		{
			Name:               "join",
			Sources:            []string{prefix + CustomersTopic},
			RepartitionSources: []string{RekeyedPurchases},
			Stores:             []string{CustomersStore, WaitingPurchases},
			Sinks:              []string{prefix + EnrichedTopic},
			Process: func(ctx *engine.ProcessContext, rec history.Record) error {
				if rec.Topic == prefix+CustomersTopic {
					joinCustomer(ctx, prefix, rec.Key, rec.Value)
					return nil
				}
				purchase, amount, ok := strings.Cut(rec.Value, " ")
				if !ok {
					return fmt.Errorf("repartitioned purchase of %s: value %q is not \"purchase amount\"", rec.Key, rec.Value)
				}
				joinPurchase(ctx, prefix, rec.Key, purchase, amount)
				return nil
			},
		},
	}}
}

// joinCustomer keeps a customer's profile and forwards every purchase of
// it that came before it.
func joinCustomer(ctx *engine.ProcessContext, prefix, customer, profile string) {
	ctx.Put(CustomersStore, customer, profile)
	for _, kv := range ctx.PrefixScan(WaitingPurchases, customer+joinKeySeparator) {
		purchase := strings.TrimPrefix(kv.Key, customer+joinKeySeparator)
		ctx.Forward(prefix+EnrichedTopic, purchase, enriched(customer, kv.Value, profile))
	}
}

// joinPurchase keeps a purchase for its customer, and forwards it if the
// customer came before it.
func joinPurchase(ctx *engine.ProcessContext, prefix, customer, purchase, amount string) {
	ctx.Put(WaitingPurchases, customer+joinKeySeparator+purchase, amount)
	if profile, ok := ctx.Get(CustomersStore, customer); ok {
		ctx.Forward(prefix+EnrichedTopic, purchase, enriched(customer, amount, profile))
	}
}

// enriched is the value of a joined purchase.
func enriched(customer, amount, profile string) string {
	return "customer=" + customer + " " + amount + " " + profile
}

// parsePurchase reads a purchase's value, "customer=<id> amount=<n>".
func parsePurchase(v string) (customer, amount string, err error) {
	c, amount, ok := strings.Cut(v, " ")
	customer, isCustomer := strings.CutPrefix(c, "customer=")
	if !ok || !isCustomer || customer == "" || !strings.HasPrefix(amount, "amount=") {
		return "", "", fmt.Errorf("value %q is not \"customer=<id> amount=<n>\"", v)
	}
	return customer, amount, nil
}

// JoinInput is n records drawn from seed: two customers for every
// purchase (each customer written once, with a tier and a region; most
// buy nothing, and a table longer than the stream keeps customers coming
// after their purchases in a run, the join's other way), the rest
// purchases of a customer drawn at random, about one in joinUnknownShare
// of a customer never written (never joined). Customers and purchases are
// shuffled together, so a customer's place in its partition is random.
func JoinInput(seed uint64, n int) []Input {
	rng := rand.New(rand.NewPCG(seed, 0x6a6f696e)) // stream "join"
	customers := max(1, n*joinCustomerShare/(joinCustomerShare+1))
	if n < 2 {
		customers = n
	}
	out := make([]Input, 0, n)
	for i := range customers {
		profile := "tier=" + joinTiers[rng.IntN(len(joinTiers))] + " region=" + joinRegions[rng.IntN(len(joinRegions))]
		out = append(out, Input{Topic: CustomersTopic, Key: fmt.Sprintf("c%04d", i), Value: profile})
	}
	// Customers numbered from customers on are never written.
	drawn := customers + max(1, customers/joinUnknownShare)
	for i := range n - customers {
		customer := fmt.Sprintf("c%04d", rng.IntN(drawn))
		out = append(out, Input{
			Topic: PurchasesTopic, Key: fmt.Sprintf("p%05d", i),
			Value: fmt.Sprintf("customer=%s amount=%d", customer, 1+rng.IntN(500)),
		})
	}
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}
