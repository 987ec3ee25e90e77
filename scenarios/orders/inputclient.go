package orders

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// InputClient is the producer that writes a run's input: records go to the
// partitions they name, each ProduceBatch leaves as exactly one request.
type InputClient struct {
	*kgo.Client

	// produced counts the records handed to kgo, partitioned those kgo
	// has placed in a partition's buffer (HookProduceRecordPartitioned).
	mu          sync.Mutex
	produced    int
	partitioned int
	// placed is signalled (without blocking: kgo calls the hooks under
	// its own locks) each time a record is partitioned or finished.
	placed chan struct{}
}

// NewInputClient makes an input producer from opts and extra (extra last).
func NewInputClient(opts []kgo.Opt, extra ...kgo.Opt) (*InputClient, error) {
	ic := &InputClient{placed: make(chan struct{}, 1)}
	cl, err := kgo.NewClient(append(append(append([]kgo.Opt(nil), opts...),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ClientID("input"),
		// Batches leave only on Flush, so each request carries exactly
		// the records given, whatever the goroutine schedule.
		kgo.ProducerLinger(time.Minute),
		// Uncompressed, a batch's size follows from its records, so a
		// reader can size its fetches to one batch.
		kgo.ProducerBatchCompression(kgo.NoCompression()),
		kgo.WithHooks(partitionedHook{ic}),
	), extra...)...)
	if err != nil {
		return nil, fmt.Errorf("creating input producer: %w", err)
	}
	ic.Client = cl
	return ic, nil
}

type partitionedHook struct{ ic *InputClient }

func (h partitionedHook) OnProduceRecordPartitioned(*kgo.Record, int32) {
	h.ic.mu.Lock()
	h.ic.partitioned++
	h.ic.mu.Unlock()
	h.ic.signal()
}

// OnProduceRecordUnbuffered wakes a wait for a record kgo failed before
// placing it.
func (h partitionedHook) OnProduceRecordUnbuffered(*kgo.Record, error) { h.ic.signal() }

func (ic *InputClient) signal() {
	select {
	case ic.placed <- struct{}{}:
	default:
	}
}

// ProduceBatch sends rs as one request and waits for them.
//
// Records for a topic the client has not loaded yet wait in kgo until its
// metadata comes, and kgo's metadata goroutine then places them one by one;
// a Flush racing it would send the first of them alone, in a batch of its
// own, and what a consumer's fetch of that partition returns would depend
// on the goroutine schedule. So Flush waits until every record is placed
// (awaitPlaced). After Flush, kgo's sink may still be draining and would take the next
// batch's first record alone; a pause lets it go idle (in a synctest bubble
// it costs no wall time).
func (ic *InputClient) ProduceBatch(ctx context.Context, rs []*kgo.Record) error {
	var errs error
	var mu sync.Mutex
	// Where the records go, read before kgo owns them.
	at := make([]topicPartition, len(rs))
	for i, r := range rs {
		at[i] = topicPartition{r.Topic, r.Partition}
	}
	for _, r := range rs {
		ic.mu.Lock()
		ic.produced++
		ic.mu.Unlock()
		ic.Produce(ctx, r, func(_ *kgo.Record, err error) {
			mu.Lock()
			errs = errors.Join(errs, err)
			mu.Unlock()
		})
	}
	if err := ic.awaitPlaced(ctx, at); err != nil {
		return fmt.Errorf("producing orders: %w", err)
	}
	if err := ic.Flush(ctx); err != nil {
		return fmt.Errorf("producing orders: %w", err)
	}
	if errs != nil {
		return fmt.Errorf("producing orders: %w", errs)
	}
	time.Sleep(time.Millisecond)
	return nil
}

// awaitPlaced waits until kgo has placed every record produced in its
// partition's buffer and made the partitions at visible to Flush. For a topic
// it did not know, kgo's metadata goroutine places the records it held,
// then stores the topic's partitions; a Flush before that store would not
// see the partition, and the batch would linger its full minute. A record
// kgo fails instead of placing it is finished all the same, and Flush
// reports it, so the wait also ends once nothing is buffered.
func (ic *InputClient) awaitPlaced(ctx context.Context, at []topicPartition) error {
	for spins := 0; !ic.visible(at) && ic.BufferedProduceRecords() > 0; {
		ic.mu.Lock()
		placed := ic.partitioned >= ic.produced
		ic.mu.Unlock()
		switch {
		case placed && spins < maxSpins:
			// The store follows the placing at once, on a goroutine
			// that does not block in between.
			spins++
			runtime.Gosched()
		case placed:
			// Never seen; should kgo wait on a timer first, a
			// spin would stop a synctest bubble's clock for good.
			time.Sleep(time.Millisecond)
		default:
			select {
			case <-ic.placed:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	return nil
}

// maxSpins bounds awaitPlaced's wait for a store that follows at once.
const maxSpins = 100_000

type topicPartition struct {
	topic     string
	partition int32
}

// visible reports whether kgo has loaded every partition of at (or failed
// to).
func (ic *InputClient) visible(at []topicPartition) bool {
	for _, tp := range at {
		if leader, _, err := ic.PartitionLeader(tp.topic, tp.partition); leader < 0 && err == nil {
			return false
		}
	}
	return true
}
