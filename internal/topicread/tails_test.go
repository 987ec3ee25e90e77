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

// startCluster starts brokers kfake brokers with topics, closed when the
// test ends.
func startCluster(t *testing.T, brokers int, topics map[string]int32) *sim.Cluster {
	t.Helper()
	cluster, err := sim.NewCluster(brokers, topics)
	require.NoError(t, err)
	t.Cleanup(cluster.Close)
	return cluster
}

// ReadTails on a real broker's log: partition 0 holds a committed
// transaction (offsets 0, 1, marker 2), an aborted one (3, marker 4) and a
// committed one (5, marker 6); partition 1 a plain record (0) and a
// transaction still open (1).
func TestReadTails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		opts := startCluster(t, 1, map[string]int32{"t": 2}).ClientOpts()

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

// TestReadTailsAfterALeaderMoves: ReadTails lists ends leader by leader,
// from the client's cached metadata; once a partition's leader moved, the
// old leader answers NOT_LEADER_FOR_PARTITION and the read asks for the
// leaders anew instead of failing.
func TestReadTailsAfterALeaderMoves(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		cluster := startCluster(t, 2, map[string]int32{"t": 1})
		opts := cluster.ClientOpts()
		cl, err := kgo.NewClient(append(opts, kgo.DefaultProduceTopic("t"))...)
		require.NoError(t, err)
		t.Cleanup(cl.Close)
		produce := func(v string) {
			t.Helper()
			require.NoError(t, cl.ProduceSync(ctx, &kgo.Record{Value: []byte(v)}).FirstErr())
		}
		adm := topicread.AdminOf(cl)
		read := func() topicread.TailRead {
			t.Helper()
			reads, err := topicread.ReadTails(ctx, adm, opts, topicread.TailWhenStable, topicread.Part{Topic: "t", Partition: 0})
			require.NoError(t, err)
			return reads[0]
		}
		leader := func() int32 {
			t.Helper()
			m, err := adm.Metadata(ctx, "t")
			require.NoError(t, err)
			return m.Topics["t"].Partitions[0].Leader
		}

		produce("x0")
		require.Equal(t, int64(1), read().End)
		require.Equal(t, int32(0), leader(), "t[0] starts on broker 0")
		require.NoError(t, cluster.Fake.MoveTopicPartition("t", 0, 1))
		require.Equal(t, int32(0), leader(), "the client's cached metadata still names the old leader")

		got := read()
		require.Equal(t, int64(1), got.End)
		require.Len(t, got.Records, 1)
		produce("x1") // the producer learns of the move on its own
		got = read()
		require.Equal(t, int64(2), got.End)
		require.Len(t, got.Records, 2)
		require.Equal(t, int32(1), leader(), "the read refreshed the client's metadata")
	})
}

// A read recycles every record it fetched: read again, the same log is
// decoded into the arrays the first read gave back (the pool hands arrays
// out), and none is made.
func TestReadRecyclesTheRecordsItFetched(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		opts := startCluster(t, 1, map[string]int32{"t": 2}).ClientOpts()
		cl, err := kgo.NewClient(append(opts, kgo.TransactionalID("p"), kgo.RecordPartitioner(kgo.ManualPartitioner()))...)
		require.NoError(t, err)
		t.Cleanup(cl.Close)
		for i, end := range []kgo.TransactionEndTry{kgo.TryCommit, kgo.TryAbort, kgo.TryCommit} {
			require.NoError(t, cl.BeginTransaction())
			for p := range int32(2) {
				for j := range 3 + i {
					r := &kgo.Record{Topic: "t", Partition: p, Value: []byte{byte('a' + i), byte('0' + j)}}
					require.NoError(t, cl.ProduceSync(ctx, r).FirstErr())
				}
			}
			require.NoError(t, cl.EndTransaction(ctx, end))
		}

		first, err := topicread.Read(ctx, opts, "t", nil)
		require.NoError(t, err)
		require.Len(t, first.Uncommitted, 24)
		require.Len(t, first.Committed, 16)
		got, made := topicread.FetchPoolCounts()
		again, err := topicread.Read(ctx, opts, "t", nil)
		require.NoError(t, err)
		require.Equal(t, first, again)
		gotAgain, madeAgain := topicread.FetchPoolCounts()
		require.Greater(t, gotAgain, got, "the second read took no array from the pool")
		require.Equal(t, made, madeAgain, "the second read made record arrays: the first did not recycle its records")
	})
}
