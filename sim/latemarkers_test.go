//go:build synctests

package sim

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kversion"

	"github.com/eosim/eosim/faults"
)

// TestLateMarkersHoldTheTransactionOpen commits a transaction whose markers
// the cluster holds (kfake DeferMarkers), as the late-markers rewrite does,
// and asks the broker, not the client: the commit is answered, yet the
// partition's last stable offset stays below the records, the producer's
// next transaction waits (CONCURRENT_TRANSACTIONS, retried by kgo), and
// once the markers are written the records are stable and the next
// transaction commits. Under both transaction protocols.
func TestLateMarkersHoldTheTransactionOpen(t *testing.T) {
	for _, v1 := range []bool{false, true} {
		name := "KIP-890"
		if v1 {
			name = "txn-v1"
		}
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c, err := NewCluster(1, map[string]int32{"t": 1})
				require.NoError(t, err)
				defer c.Close()
				var asked []bool
				c.DeferMarkers(func(clientID string, commit bool) bool {
					asked = append(asked, commit)
					return clientID == "late" && len(asked) == 1
				})
				ctx := context.Background()
				opts := append(c.ClientOpts(), kgo.ClientID("late"), kgo.TransactionalID("tx"),
					kgo.DefaultProduceTopic("t"), kgo.ConcurrentTransactionsBackoff(100*time.Millisecond))
				if v1 {
					opts = append(opts, kgo.MaxVersions(kversion.V3_9_0()))
				}
				producer, err := kgo.NewClient(opts...)
				require.NoError(t, err)
				defer producer.Close()
				adm := kadm.NewClient(producer)

				commit := func(value string) {
					require.NoError(t, producer.BeginTransaction())
					require.NoError(t, producer.ProduceSync(ctx, &kgo.Record{Value: []byte(value)}).FirstErr())
					require.NoError(t, producer.EndTransaction(ctx, kgo.TryCommit))
				}
				stableAndEnd := func() (int64, int64) {
					committed, err := adm.ListCommittedOffsets(ctx, "t")
					require.NoError(t, err)
					ends, err := adm.ListEndOffsets(ctx, "t")
					require.NoError(t, err)
					s, _ := committed.Lookup("t", 0)
					e, _ := ends.Lookup("t", 0)
					return s.Offset, e.Offset
				}

				commit("first")
				stable, end := stableAndEnd()
				require.Equal(t, int64(0), stable, "the committed record is below the last stable offset")
				require.Equal(t, int64(1), end)
				require.Equal(t, 1, c.Fake.LateMarkers())

				second := make(chan struct{})
				go func() {
					commit("second")
					close(second)
				}()
				time.Sleep(5 * time.Second)
				synctest.Wait()
				select {
				case <-second:
					t.Fatal("the next transaction committed while the last one's markers were held")
				default:
				}

				require.Equal(t, 1, c.Fake.WriteLateMarkers(5))
				<-second
				stable, end = stableAndEnd()
				require.Equal(t, end, stable, "every transaction is settled")
				require.Equal(t, int64(4), end, "two records, two markers")
				require.Equal(t, []bool{true, true}, asked)
			})
		})
	}
}

// The rewrite's cell parses, belongs to the unsettled reaction and is in
// the reactions space and the wide space.
func TestLateMarkersCell(t *testing.T) {
	cell := faults.Fault{Kind: faults.Rewrite, Request: "EndTxn", Rewrite: faults.LateMarkers}.Cell()
	f, err := faults.ParseCell(cell)
	require.NoError(t, err)
	require.Equal(t, faults.LateMarkers, f.Rewrite)
	require.Equal(t, faults.ReactUnsettled, faults.ReactionOf(cell))
	require.Contains(t, faults.WideSpace(false), cell)
}
