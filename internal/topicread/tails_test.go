//go:build synctests

package topicread_test

import (
	"context"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eosim/eosim/internal/topicread"
	"github.com/eosim/eosim/sim"
)

// ReadTails on a real broker's log: partition 0 holds a committed
// transaction (offsets 0, 1, marker 2), an aborted one (3, marker 4) and a
// committed one (5, marker 6); partition 1 a plain record (0) and a
// transaction still open (1).
func TestReadTails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		cluster, err := sim.NewCluster(1, map[string]int32{"t": 2})
		require.NoError(t, err)
		t.Cleanup(cluster.Close)
		opts := cluster.ClientOpts()

		produce := func(cl *kgo.Client, p int32, vals ...string) {
			t.Helper()
			for _, v := range vals {
				require.NoError(t, cl.ProduceSync(ctx, &kgo.Record{Topic: "t", Partition: p, Value: []byte(v)}).FirstErr())
			}
		}
		// txn writes vals to partition p in a transaction of id and ends
		// it as end says, or leaves it open.
		txn := func(id string, end kgo.TransactionEndTry, leave bool, p int32, vals ...string) *kgo.Client {
			t.Helper()
			cl, err := kgo.NewClient(append(opts, kgo.TransactionalID(id), kgo.RecordPartitioner(kgo.ManualPartitioner()))...)
			require.NoError(t, err)
			require.NoError(t, cl.BeginTransaction())
			produce(cl, p, vals...)
			if !leave {
				require.NoError(t, cl.EndTransaction(ctx, end))
			}
			return cl
		}
		txn("a", kgo.TryCommit, false, 0, "a0", "a1").Close()
		txn("b", kgo.TryAbort, false, 0, "b0").Close()
		txn("c", kgo.TryCommit, false, 0, "c0").Close()
		plain, err := kgo.NewClient(append(opts, kgo.RecordPartitioner(kgo.ManualPartitioner()))...)
		require.NoError(t, err)
		produce(plain, 1, "e0")
		plain.Close()
		open := txn("open", kgo.TryAbort, true, 1, "d0")
		t.Cleanup(open.Close)

		admCl, err := kgo.NewClient(opts...)
		require.NoError(t, err)
		t.Cleanup(admCl.Close)
		adm := topicread.AdminOf(admCl)

		values := func(r topicread.TailRead) []string {
			var vs []string
			for _, rec := range r.Records {
				vs = append(vs, rec.Value)
			}
			return vs
		}
		parts := []topicread.Part{{Topic: "t", Partition: 0}, {Topic: "t", Partition: 1}, {Topic: "t", Partition: 0, From: 4}}
		for _, tc := range []struct {
			name string
			how  topicread.Tail
			want []topicread.TailRead
		}{
			{"when stable", topicread.TailWhenStable, []topicread.TailRead{
				{End: 7}, {Open: true}, {End: 7},
			}},
			{"to stable", topicread.TailToStable, []topicread.TailRead{
				{End: 7}, {End: 1}, {End: 7},
			}},
			{"uncommitted", topicread.TailUncommitted, []topicread.TailRead{
				{End: 7}, {End: 2}, {End: 7},
			}},
		} {
			func() { // subtests cannot run inside a bubble
				reads, err := topicread.ReadTails(ctx, adm, opts, tc.how, parts...)
				require.NoError(t, err, tc.name)
				require.Len(t, reads, len(parts))
				for i, r := range reads {
					require.Equal(t, tc.want[i].End, r.End, "%s, part %d: end", tc.name, i)
					require.Equal(t, tc.want[i].Open, r.Open, "%s, part %d: open", tc.name, i)
				}
				switch tc.how {
				case topicread.TailWhenStable:
					require.Equal(t, []string{"a0", "a1", "c0"}, values(reads[0]))
					require.Empty(t, reads[1].Records)
					require.Equal(t, []string{"c0"}, values(reads[2]))
				case topicread.TailToStable:
					require.Equal(t, []string{"a0", "a1", "c0"}, values(reads[0]))
					require.Equal(t, []string{"e0"}, values(reads[1]))
				case topicread.TailUncommitted:
					require.Equal(t, []string{"a0", "a1", "b0", "c0"}, values(reads[0]))
					require.Equal(t, []string{"e0", "d0"}, values(reads[1]))
					require.Equal(t, []string{"c0"}, values(reads[2]))
				}
			}()
		}

		// A part already at its end reads nothing and stays where it is.
		reads, err := topicread.ReadTails(ctx, adm, opts, topicread.TailWhenStable, topicread.Part{Topic: "t", Partition: 0, From: 7})
		require.NoError(t, err)
		require.Equal(t, []topicread.TailRead{{End: 7}}, reads)
	})
}
