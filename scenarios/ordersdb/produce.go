package ordersdb

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eosim/eosim/history"
	"github.com/eosim/eosim/internal/topicread"
	"github.com/eosim/eosim/scenarios/orders"
)

// InputTransactionalID is the transactional id of the upstream application
// that writes the input.
const InputTransactionalID = "eosim-input"

// abortOneIn: about one input transaction in abortOneIn is aborted.
const abortOneIn = 8

// txn is one input transaction: orders of one partition, committed or
// aborted.
type txn struct {
	partition int32
	orders    []orders.Order
	abort     bool
}

// transactions lays out the input: for each partition in turn, its orders
// in batches of batch, one transaction each, in the order orders.Produce
// writes them. Before about one batch in abortOneIn (drawn from seed) comes
// an aborted transaction of 1 to batch extra orders, numbered x00000 on in
// the order they are written: products drawn from the partition's orders
// (so the partition is right and the skew kept), customers and quantities
// drawn as orders.Generate draws them.
func transactions(os []orders.Order, w orders.Workload, seed uint64, partitions, batch int) []txn {
	batch = max(batch, 1)
	rng := rand.New(rand.NewPCG(seed, 0x61626f727473)) // stream "aborts"
	byPartition := make([][]orders.Order, partitions)
	for _, o := range os {
		p := orders.Partition(o.Product, partitions)
		byPartition[p] = append(byPartition[p], o)
	}
	var out []txn
	extra := 0
	for p, all := range byPartition {
		for rest := all; len(rest) > 0; {
			if rng.IntN(abortOneIn) == 0 {
				t := txn{partition: int32(p), abort: true}
				for range 1 + rng.IntN(batch) {
					t.orders = append(t.orders, orders.Order{
						ID:       fmt.Sprintf("x%05d", extra),
						Product:  all[rng.IntN(len(all))].Product,
						Customer: fmt.Sprintf("c%03d", rng.IntN(w.Customers)),
						Quantity: 1 + rng.Int64N(w.MaxQuantity),
					})
					extra++
				}
				out = append(out, t)
				continue
			}
			n := min(batch, len(rest))
			out = append(out, txn{partition: int32(p), orders: rest[:n]})
			rest = rest[n:]
		}
	}
	return out
}

// Produce writes the orders of workload w drawn from seed (orders.Generate)
// to the orders topic of partitions partitions as an upstream exactly-once
// application would: transactionally, one transaction per batch orders of
// a partition, with aborted transactions of extra orders in between (see
// transactions). Every generated order is committed. It records one input
// event per committed order once its transaction committed, in (partition,
// offset) order, and one note per aborted transaction. Aborted records and
// transaction markers leave gaps in the offsets of the committed input.
func Produce(ctx context.Context, opts []kgo.Opt, topic string, w orders.Workload, seed uint64, partitions, batch int, rec history.Recorder) error {
	os, err := orders.Generate(seed, w)
	if err != nil {
		return err
	}
	cl, err := orders.NewInputClient(opts, kgo.TransactionalID(InputTransactionalID))
	if err != nil {
		return err
	}
	defer cl.Close()
	for _, t := range transactions(os, w, seed, partitions, batch) {
		if err := produceTxn(ctx, cl, topic, t, rec); err != nil {
			return err
		}
	}
	return nil
}

// produceTxn writes one transaction, ends it as t says and records it.
func produceTxn(ctx context.Context, cl *orders.InputClient, topic string, t txn, rec history.Recorder) error {
	what := "committing"
	end := kgo.TryCommit
	if t.abort {
		what, end = "aborting", kgo.TryAbort
	}
	if err := cl.BeginTransaction(); err != nil {
		return fmt.Errorf("beginning an input transaction on partition %d: %w", t.partition, err)
	}
	rs := make([]*kgo.Record, len(t.orders))
	for i, o := range t.orders {
		rs[i] = &kgo.Record{Topic: topic, Partition: t.partition, Key: []byte(o.Product), Value: []byte(o.Encode())}
	}
	if err := cl.ProduceBatch(ctx, rs); err != nil {
		return err
	}
	if err := cl.EndTransaction(ctx, end); err != nil {
		return fmt.Errorf("%s the input transaction of %d orders on partition %d: %w", what, len(rs), t.partition, err)
	}
	if t.abort {
		rec.Record(history.Event{Kind: history.KindNote, Detail: fmt.Sprintf(
			"input transaction aborted: %d orders on partition %d at offsets %d-%d",
			len(rs), t.partition, rs[0].Offset, rs[len(rs)-1].Offset)})
		return nil
	}
	for _, r := range rs {
		hr := topicread.Convert(r)
		rec.Record(history.Event{Kind: history.KindInput, Input: &hr})
	}
	return nil
}
