//go:build synctests

package sim

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestEpochValidationAfterLeaderMove consumes a partition to its end, moves
// its leader, and polls on. Nothing was truncated, so a consumer must keep
// its position. kfake alone answers the consumer's OffsetForLeaderEpoch for
// the old epoch with "undefined", and kgo reports lost records and rewinds;
// the simulator's cluster (askForCurrentEpoch) must not. When the first
// subtest fails, kfake has fixed its answer and the workaround can go.
func TestEpochValidationAfterLeaderMove(t *testing.T) {
	t.Run("kfake alone reports lost records", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			vn := new(kfake.VirtualNetwork)
			fake, err := kfake.NewCluster(kfake.NumBrokers(2), kfake.Ports(basePort, basePort+1),
				kfake.ListenFn(vn.Listen), kfake.SeedTopics(1, "t"))
			require.NoError(t, err)
			defer fake.Close()
			opts := []kgo.Opt{kgo.SeedBrokers(fake.ListenAddrs()...), kgo.Dialer(vn.DialContext), kgo.DisableClientMetrics()}
			lost, redelivered := consumeAcrossMove(t, fake, opts)
			require.True(t, lost, "kfake now answers a past epoch's end offset: drop askForCurrentEpoch")
			require.Positive(t, redelivered)
		})
	})
	t.Run("the simulated cluster keeps the position", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			c, err := NewCluster(2, map[string]int32{"t": 1})
			require.NoError(t, err)
			defer c.Close()
			lost, redelivered := consumeAcrossMove(t, c.Fake, c.ClientOpts())
			require.False(t, lost)
			require.Zero(t, redelivered)
		})
	})
}

// consumeAcrossMove writes 20 records to t[0], reads them, moves the
// partition's leader and polls for a minute of virtual time; it reports
// whether kgo reported lost records and how many records came again.
func consumeAcrossMove(t *testing.T, fake *kfake.Cluster, opts []kgo.Opt) (lost bool, redelivered int) {
	t.Helper()
	ctx := context.Background()
	producer, err := kgo.NewClient(append(opts, kgo.DefaultProduceTopic("t"), kgo.RecordPartitioner(kgo.ManualPartitioner()))...)
	require.NoError(t, err)
	defer producer.Close()
	for i := range 20 {
		require.NoError(t, producer.ProduceSync(ctx, &kgo.Record{Value: []byte(strconv.Itoa(i))}).FirstErr())
	}
	consumer, err := kgo.NewClient(append(opts, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{
		"t": {0: kgo.NewOffset().AtStart()},
	}))...)
	require.NoError(t, err)
	defer consumer.Close()

	poll := func() (records int, lost bool) {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		fs := consumer.PollFetches(pctx)
		fs.EachError(func(_ string, _ int32, err error) {
			var loss *kgo.ErrDataLoss
			lost = lost || errors.As(err, &loss)
		})
		return len(fs.Records()), lost
	}
	for read := 0; read < 20; {
		n, _ := poll()
		read += n
	}
	leader := fake.LeaderFor("t", 0)
	require.NoError(t, fake.MoveTopicPartition("t", 0, (leader+1)%2))
	for range 60 {
		n, l := poll()
		redelivered += n
		lost = lost || l
	}
	return lost, redelivered
}
