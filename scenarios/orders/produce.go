package orders

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eosim/eosim/history"
	"github.com/eosim/eosim/internal/topicread"
)

// Produce writes orders to the orders topic of partitions partitions, each
// to its product's partition, batch records per request per partition, and
// records one input event per order in (partition, offset) order. Fixed-size
// batches make what a consumer has buffered at any moment a function of the
// input alone.
func Produce(ctx context.Context, opts []kgo.Opt, os []Order, partitions, batch int, rec history.Recorder) error {
	if batch < 1 {
		batch = 1
	}
	cl, err := kgo.NewClient(append(append([]kgo.Opt(nil), opts...),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ClientID("input"),
	)...)
	if err != nil {
		return fmt.Errorf("creating input producer: %w", err)
	}
	defer cl.Close()
	byPartition := make([][]*kgo.Record, partitions)
	for _, o := range os {
		p := Partition(o.Product, partitions)
		byPartition[p] = append(byPartition[p], &kgo.Record{
			Topic: OrdersTopic, Partition: p, Key: []byte(o.Product), Value: []byte(o.Encode()),
		})
	}
	for _, rs := range byPartition {
		for len(rs) > 0 {
			n := min(batch, len(rs))
			if err := cl.ProduceSync(ctx, rs[:n]...).FirstErr(); err != nil {
				return fmt.Errorf("producing orders: %w", err)
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
