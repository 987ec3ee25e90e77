package orders

import (
	"context"
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
	for _, o := range os {
		p := Partition(o.Product, partitions)
		byPartition[p] = append(byPartition[p], &kgo.Record{
			Topic: topic, Partition: p, Key: []byte(o.Product), Value: []byte(o.Encode()),
		})
	}
	return ProduceByPartition(ctx, opts, byPartition, batch, rec)
}

// ProduceByPartition writes each partition's records in turn, batch records
// per request, and records one input event per record in (partition,
// offset) order: the input writer of Produce, for any records.
func ProduceByPartition(ctx context.Context, opts []kgo.Opt, byPartition [][]*kgo.Record, batch int, rec history.Recorder) error {
	if batch < 1 {
		batch = 1
	}
	cl, err := NewInputClient(opts)
	if err != nil {
		return err
	}
	defer cl.Close()
	for _, rs := range byPartition {
		for len(rs) > 0 {
			n := min(batch, len(rs))
			if err := cl.ProduceBatch(ctx, rs[:n]); err != nil {
				return err
			}
			for _, r := range rs[:n] {
				hr := topicread.Convert(r)
				rec.Record(history.Event{Kind: history.KindInput, Input: &hr})
			}
			rs = rs[n:]
		}
	}
	return nil
}
