package orders

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

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
	cl, err := kgo.NewClient(append(append([]kgo.Opt(nil), opts...),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ClientID("input"),
		// Batches leave only on Flush, so each request carries exactly
		// the records given, whatever the goroutine schedule.
		kgo.ProducerLinger(time.Minute),
		// Uncompressed, a batch's size follows from its records, so a
		// reader can size its fetches to one batch.
		kgo.ProducerBatchCompression(kgo.NoCompression()),
	)...)
	if err != nil {
		return fmt.Errorf("creating input producer: %w", err)
	}
	defer cl.Close()
	for _, rs := range byPartition {
		for len(rs) > 0 {
			n := min(batch, len(rs))
			if err := ProduceBatch(ctx, cl, rs[:n]); err != nil {
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

// ProduceBatch sends rs as one request (the client lingers until Flush) and
// waits for them. kgo's sink may still be draining when Flush returns and
// would take the next batch's first record alone; a pause lets it go idle
// (in a synctest bubble it costs no wall time).
func ProduceBatch(ctx context.Context, cl *kgo.Client, rs []*kgo.Record) error {
	var errs error
	var mu sync.Mutex
	for _, r := range rs {
		cl.Produce(ctx, r, func(_ *kgo.Record, err error) {
			mu.Lock()
			errs = errors.Join(errs, err)
			mu.Unlock()
		})
	}
	if err := cl.Flush(ctx); err != nil {
		return fmt.Errorf("producing orders: %w", err)
	}
	if errs != nil {
		return fmt.Errorf("producing orders: %w", errs)
	}
	time.Sleep(time.Millisecond)
	return nil
}
