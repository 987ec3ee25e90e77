package orders_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/eosim/eosim/scenarios/orders"
)

// TestInputClientFirstBatchIsOneRequest: the first batch to a topic the
// client has not loaded is still one record batch. kgo holds such records
// until the topic's metadata comes and then places them one at a time; a
// Flush racing that placing used to send the first records in a batch of
// their own, which made what a consumer's first fetch returned, and so a
// run's History, depend on the goroutine schedule (orders-db under -race).
// Real goroutines here, not a bubble: the race is the schedule's.
func TestInputClientFirstBatchIsOneRequest(t *testing.T) {
	const topics, records = 40, 10
	seed := make([]string, topics)
	for i := range seed {
		seed[i] = fmt.Sprintf("t%02d", i)
	}
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, seed...))
	require.NoError(t, err)
	defer c.Close()
	opts := []kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...)}
	ctx := context.Background()

	for _, topic := range seed {
		ic, err := orders.NewInputClient(opts)
		require.NoError(t, err)
		rs := make([]*kgo.Record, records)
		for i := range rs {
			rs[i] = &kgo.Record{Topic: topic, Partition: 0, Value: []byte{byte(i)}}
		}
		require.NoError(t, ic.ProduceBatch(ctx, rs))
		ic.Close()
		require.Equal(t, 1, batchesIn(t, opts, topic), "topic %s: the first %d records were split across batches", topic, records)
	}
}

// batchesIn fetches partition 0 of topic whole and counts its record
// batches.
func batchesIn(t *testing.T, opts []kgo.Opt, topic string) int {
	t.Helper()
	cl, err := kgo.NewClient(opts...)
	require.NoError(t, err)
	defer cl.Close()
	mreq := kmsg.NewPtrMetadataRequest()
	mt := kmsg.NewMetadataRequestTopic()
	mt.Topic = kmsg.StringPtr(topic)
	mreq.Topics = append(mreq.Topics, mt)
	mresp, err := mreq.RequestWith(context.Background(), cl)
	require.NoError(t, err)
	require.Len(t, mresp.Topics, 1)
	req := kmsg.NewPtrFetchRequest()
	req.MaxBytes = 1 << 20
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic = topic
	rt.TopicID = mresp.Topics[0].TopicID
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.PartitionMaxBytes = 1 << 20
	rp.CurrentLeaderEpoch = -1
	rp.LogStartOffset = -1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(context.Background(), cl)
	require.NoError(t, err)
	require.Len(t, resp.Topics, 1)
	require.Len(t, resp.Topics[0].Partitions, 1)
	p := resp.Topics[0].Partitions[0]
	require.Zero(t, p.ErrorCode)
	n := 0
	for raw := p.RecordBatches; len(raw) > 0; n++ {
		var b kmsg.RecordBatch
		require.NoError(t, b.ReadFrom(raw))
		raw = raw[12+b.Length:] // FirstOffset (8) and Length (4) precede what Length counts
	}
	return n
}
