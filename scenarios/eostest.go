package scenarios

import (
	"fmt"
	"math/rand/v2"
	"strconv"

	"github.com/eosim/eosim/engine"
	"github.com/eosim/eosim/history"
)

// Kafka's own exactly-once system test, as its Streams client builds it
// (streams/src/test/java/org/apache/kafka/streams/tests/EosTestClient.java,
// with repartitioning): records keyed by a number, valued by another, are
// echoed, and their minimum and sum per key kept and forwarded, in a first
// sub-topology; they also go through a repartition topic, after which a
// second sub-topology keeps and forwards each key's maximum and count.
//
// Kafka's client writes "repartition" as a topic of its own with to() and
// reads it back with stream(); here it is the internal repartition topic
// <app>-data-repartition, purged as Kafka Streams purges one. Its driver
// draws keys from a range and values below 10000; so does EOSTestInput.
const (
	EOSTestName        = "eostest"
	EOSTestDataTopic   = "data"
	EOSTestRepartition = "data"
	eosTestKeys        = 100
)

// The sinks, each also the name of the store that feeds it.
const (
	EOSTestEcho = "echo"
	EOSTestMin  = "min"
	EOSTestSum  = "sum"
	EOSTestMax  = "max"
	EOSTestCnt  = "cnt"
)

// EOSTest is Kafka's exactly-once system-test application.
func EOSTest() App {
	return App{Name: EOSTestName, Topology: eosTestTopology, Input: EOSTestInput}
}

func eosTestTopology(prefix string) *engine.Topology {
	return &engine.Topology{Stages: []engine.Stage{
		{
			Name:         "echo-min-sum",
			Sources:      []string{prefix + EOSTestDataTopic},
			Stores:       []string{EOSTestMin, EOSTestSum},
			Sinks:        []string{prefix + EOSTestEcho, prefix + EOSTestMin, prefix + EOSTestSum},
			Repartitions: []string{EOSTestRepartition},
			Process: func(ctx *engine.ProcessContext, rec history.Record) error {
				v, err := strconv.ParseInt(rec.Value, 10, 64)
				if err != nil {
					return fmt.Errorf("data record %s: %w", rec.Key, err)
				}
				ctx.Forward(prefix+EOSTestEcho, rec.Key, rec.Value)
				if err := aggregate(ctx, prefix, EOSTestMin, rec.Key, v, func(a, b int64) int64 { return min(a, b) }); err != nil {
					return err
				}
				if err := aggregate(ctx, prefix, EOSTestSum, rec.Key, v, func(sum, v int64) int64 { return sum + v }); err != nil {
					return err
				}
				ctx.Repartition(EOSTestRepartition, rec.Key, rec.Value)
				return nil
			},
		},
		{
			Name:               "max-cnt",
			RepartitionSources: []string{EOSTestRepartition},
			Stores:             []string{EOSTestMax, EOSTestCnt},
			Sinks:              []string{prefix + EOSTestMax, prefix + EOSTestCnt},
			Process: func(ctx *engine.ProcessContext, rec history.Record) error {
				v, err := strconv.ParseInt(rec.Value, 10, 64)
				if err != nil {
					return fmt.Errorf("repartitioned record %s: %w", rec.Key, err)
				}
				if err := aggregate(ctx, prefix, EOSTestMax, rec.Key, v, func(a, b int64) int64 { return max(a, b) }); err != nil {
					return err
				}
				return aggregate(ctx, prefix, EOSTestCnt, rec.Key, 1, func(n, one int64) int64 { return n + one })
			},
		},
	}}
}

// aggregate folds v into key's value in store with fold (the first value
// is v itself), keeps the result and forwards it to the sink of the same
// name, as a KGroupedStream aggregate followed by toStream().to() does.
func aggregate(ctx *engine.ProcessContext, prefix, store, key string, v int64, fold func(acc, v int64) int64) error {
	acc := v
	if old, ok := ctx.Get(store, key); ok {
		n, err := strconv.ParseInt(old, 10, 64)
		if err != nil {
			return fmt.Errorf("%s of %q: %w", store, key, err)
		}
		acc = fold(n, v)
	}
	s := strconv.FormatInt(acc, 10)
	ctx.Put(store, key, s)
	ctx.Forward(prefix+store, key, s)
	return nil
}

// EOSTestInput is n data records drawn from seed: keys "0" to "99",
// values below 10000, as Kafka's EosTestDriver writes them.
func EOSTestInput(seed uint64, n int) []Input {
	rng := rand.New(rand.NewPCG(seed, 0x656f7374)) // stream "eost"
	out := make([]Input, n)
	for i := range out {
		out[i] = Input{Key: strconv.Itoa(rng.IntN(eosTestKeys)), Value: strconv.Itoa(rng.IntN(10000))}
	}
	return out
}
