//go:build synctests

package ordersdb_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/eosim/eosim/history"
	"github.com/eosim/eosim/internal/topicread"
	"github.com/eosim/eosim/scenarios/orders"
	"github.com/eosim/eosim/scenarios/ordersdb"
	"github.com/eosim/eosim/sim"
)

const partitions = 4

// The input is written as an upstream exactly-once application writes it:
// read_committed sees exactly the generated orders, read_uncommitted the
// aborted extras too, the input events are the committed records at their
// offsets, and aborted records and markers leave gaps.
func TestProduceWritesTransactionalInput(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		cluster, err := sim.NewCluster(1, map[string]int32{orders.OrdersTopic: partitions})
		require.NoError(t, err)
		t.Cleanup(cluster.Close)

		log := history.NewLog(time.Now)
		w := orders.DefaultWorkload()
		require.NoError(t, ordersdb.Produce(ctx, cluster.ClientOpts(), orders.OrdersTopic, w, 1, partitions, 10, log))
		os, err := orders.Generate(1, w)
		require.NoError(t, err)

		v, err := topicread.Read(ctx, cluster.ClientOpts(), orders.OrdersTopic, nil)
		require.NoError(t, err)
		require.Equal(t, v.End, v.Stable, "a transaction was left open")

		// read_committed: every generated order once, on its partition.
		want := map[string]orders.Order{}
		for _, o := range os {
			want[o.ID] = o
		}
		got := map[string]orders.Order{}
		for _, r := range v.Committed {
			o, err := orders.Decode(r.Value)
			require.NoError(t, err)
			require.NotContains(t, got, o.ID, "order %s committed twice", o.ID)
			require.Equal(t, orders.Partition(o.Product, partitions), r.Partition)
			got[o.ID] = o
		}
		require.Equal(t, want, got)

		// The input events are the committed records, in order.
		var inputs []history.Record
		var notes []string
		for _, e := range log.History().Events {
			switch e.Kind {
			case history.KindInput:
				inputs = append(inputs, *e.Input)
			case history.KindNote:
				notes = append(notes, e.Detail)
			}
		}
		require.Equal(t, v.Committed, inputs)

		// read_uncommitted: the aborted extras besides, one note per
		// aborted transaction (a run of consecutive offsets, since two
		// transactions are apart by a marker).
		committed := map[history.Offset]bool{}
		for _, r := range v.Committed {
			committed[history.Offset{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset}] = true
		}
		var wantNotes []string
		var run []history.Record
		flush := func() {
			if len(run) > 0 {
				wantNotes = append(wantNotes, fmt.Sprintf("input transaction aborted: %d orders on partition %d at offsets %d-%d",
					len(run), run[0].Partition, run[0].Offset, run[len(run)-1].Offset))
			}
			run = nil
		}
		aborted := 0
		for _, r := range v.Uncommitted {
			if committed[history.Offset{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset}] {
				flush()
				continue
			}
			o, err := orders.Decode(r.Value)
			require.NoError(t, err)
			require.True(t, strings.HasPrefix(o.ID, "x"), "aborted record %s is not an extra order", o.ID)
			require.Equal(t, orders.Partition(o.Product, partitions), r.Partition)
			if len(run) > 0 && (run[0].Partition != r.Partition || run[len(run)-1].Offset+1 != r.Offset) {
				flush()
			}
			run = append(run, r)
			aborted++
		}
		flush()
		require.Equal(t, wantNotes, notes)
		require.NotEmpty(t, notes, "no input transaction was aborted: the case is vacuous")
		require.Len(t, v.Uncommitted, len(v.Committed)+aborted)

		// Gaps: a marker after every transaction, and aborted records.
		gaps, wide := 0, 0
		for i := 1; i < len(inputs); i++ {
			if a, b := inputs[i-1], inputs[i]; a.Partition == b.Partition && b.Offset != a.Offset+1 {
				gaps++
				if b.Offset > a.Offset+2 {
					wide++
				}
			}
		}
		t.Logf("%d committed orders, %d aborted orders in %d aborted transactions, %d gaps in the committed offsets (%d wider than a marker), virtual %v",
			len(inputs), aborted, len(notes), gaps, wide, log.History().Events[len(log.History().Events)-1].T)
		require.Positive(t, wide, "no aborted records between committed ones")
	})
}
