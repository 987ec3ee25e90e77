package orders

import (
	"context"
	"slices"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eosim/eosim/history"
	"github.com/eosim/eosim/internal/topicread"
)

// Produce writes orders to topic, of partitions partitions, each
// to its product's partition, batch records per request per partition, and
// records one input event per order in (partition, offset) order. Fixed-size
// batches make what a consumer has buffered at any moment a function of the
// input alone.
func Produce(ctx context.Context, opts []kgo.Opt, topic string, os []Order, partitions, batch int, rec history.Recorder) error {
	byPartition := make([][]*kgo.Record, partitions)
	recs := make([]kgo.Record, len(os)) // one allocation for all of them
	for i, o := range os {
		p := Partition(o.Product, partitions)
		recs[i] = kgo.Record{Topic: topic, Partition: p, Key: []byte(o.Product), Value: o.encode()}
		byPartition[p] = append(byPartition[p], &recs[i])
	}
	return ProduceByPartition(ctx, opts, byPartition, batch, rec)
}

// ProduceByPartition writes every partition's records, batch records per
// partition per request: each request carries the next batch of every
// partition that has records left, one record batch each, so that a
// partition's log is cut into batches as if written on its own, in a
// quarter of the requests for four partitions. Then it records one input
// event per record in (partition, offset) order: the input writer of
// Produce, for any records.
func ProduceByPartition(ctx context.Context, opts []kgo.Opt, byPartition [][]*kgo.Record, batch int, rec history.Recorder) error {
	if batch < 1 {
		batch = 1
	}
	cl, err := NewInputClient(opts)
	if err != nil {
		return err
	}
	defer cl.Close()
	left := slices.Clone(byPartition)
	for {
		var rs []*kgo.Record
		for p, prs := range left {
			n := min(batch, len(prs))
			rs, left[p] = append(rs, prs[:n]...), prs[n:]
		}
		if len(rs) == 0 {
			break
		}
		if err := cl.ProduceBatch(ctx, rs); err != nil {
			return err
		}
	}
	n := 0
	for _, rs := range byPartition {
		n += len(rs)
	}
	inputs := make([]history.Record, 0, n) // one allocation for all of them
	for _, rs := range byPartition {
		for _, r := range rs {
			inputs = append(inputs, topicread.Convert(r))
			rec.Record(history.Event{Kind: history.KindInput, Input: &inputs[len(inputs)-1]})
		}
	}
	return nil
}
