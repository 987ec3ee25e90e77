package sim

import (
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/eosim/eosim/faults"
)

func TestThrottleRewrite(t *testing.T) {
	resp := &kmsg.EndTxnResponse{Version: 3}
	require.Equal(t, "throttled 5000ms", applyRewrite(faults.Throttle, resp))
	require.EqualValues(t, faults.ThrottleMs, resp.ThrottleMillis)

	// Before version 1 the broker itself waits before it answers: the
	// client has nothing to wait out, and the rewrite waits for another.
	old := &kmsg.EndTxnResponse{Version: 0}
	require.Empty(t, applyRewrite(faults.Throttle, old))
	require.Zero(t, old.ThrottleMillis)
}

func TestReorderRewrite(t *testing.T) {
	topic := func(name string) kmsg.MetadataResponseTopic {
		return kmsg.MetadataResponseTopic{Topic: kmsg.StringPtr(name), Partitions: []kmsg.MetadataResponseTopicPartition{
			{Partition: 0, Replicas: []int32{1, 2}}, {Partition: 1, Replicas: []int32{2, 1}},
		}}
	}
	m := &kmsg.MetadataResponse{
		Brokers: []kmsg.MetadataResponseBroker{{NodeID: 1}, {NodeID: 2}},
		Topics:  []kmsg.MetadataResponseTopic{topic("a"), topic("b")},
	}
	require.Equal(t, "4 lists reversed", applyRewrite(faults.Reorder, m))
	require.Equal(t, int32(2), m.Brokers[0].NodeID)
	require.Equal(t, "b", *m.Topics[0].Topic)
	require.Equal(t, int32(1), m.Topics[0].Partitions[0].Partition)
	require.Equal(t, []int32{2, 1}, m.Topics[0].Partitions[0].Replicas, "a partition's replicas keep their order: the first is the preferred leader")

	// A fetch's aborted transactions keep theirs, and a list of one
	// changes nothing.
	f := &kmsg.FetchResponse{Topics: []kmsg.FetchResponseTopic{{Topic: "t", Partitions: []kmsg.FetchResponseTopicPartition{{
		AbortedTransactions: []kmsg.FetchResponseTopicPartitionAbortedTransaction{{ProducerID: 1, FirstOffset: 3}, {ProducerID: 2, FirstOffset: 9}},
	}}}}}
	require.Empty(t, applyRewrite(faults.Reorder, f))
	require.Equal(t, int64(1), f.Topics[0].Partitions[0].AbortedTransactions[0].ProducerID)
}

func TestPartialRewrite(t *testing.T) {
	batch := []byte{1, 2, 3}
	f := &kmsg.FetchResponse{Topics: []kmsg.FetchResponseTopic{
		{Topic: "t", Partitions: []kmsg.FetchResponseTopicPartition{
			{Partition: 0, HighWatermark: 5},
			{Partition: 1, HighWatermark: 7, RecordBatches: batch},
			{Partition: 2, HighWatermark: 9, RecordBatches: batch,
				AbortedTransactions: []kmsg.FetchResponseTopicPartitionAbortedTransaction{{ProducerID: 1}}},
		}},
		{Topic: "u", Partitions: []kmsg.FetchResponseTopicPartition{{Partition: 0, HighWatermark: 4, RecordBatches: batch}}},
	}}
	require.Equal(t, "kept the records of t[1], emptied 2 other partitions", applyRewrite(faults.Partial, f))
	require.Equal(t, batch, f.Topics[0].Partitions[1].RecordBatches)
	require.Empty(t, f.Topics[0].Partitions[2].RecordBatches)
	require.Empty(t, f.Topics[0].Partitions[2].AbortedTransactions)
	require.Empty(t, f.Topics[1].Partitions[0].RecordBatches)
	require.Equal(t, int64(9), f.Topics[0].Partitions[2].HighWatermark, "an emptied partition keeps its watermark")

	one := &kmsg.FetchResponse{Topics: []kmsg.FetchResponseTopic{{Topic: "t", Partitions: []kmsg.FetchResponseTopicPartition{{RecordBatches: batch}}}}}
	require.Empty(t, applyRewrite(faults.Partial, one), "one partition with records: nothing to leave out")
}

// The hook rewrites an answer to the instance named by the client id, for
// the armed request alone, once per fault, and one fault per answer.
func TestRewriterMatchesClientAndRequest(t *testing.T) {
	var r rewriter
	f := faults.Fault{Kind: faults.Rewrite, Instance: "a", Request: "EndTxn", Rewrite: faults.Throttle}
	r.arm(rewriteOf(0, f, int16(kmsg.EndTxn)))
	r.arm(rewriteOf(1, f, int16(kmsg.EndTxn)))

	other := &kmsg.EndTxnResponse{Version: 3}
	r.rewrite("b", kmsg.NewPtrEndTxnRequest(), other)
	r.rewrite("a", kmsg.NewPtrHeartbeatRequest(), &kmsg.HeartbeatResponse{Version: 3})
	require.Zero(t, other.ThrottleMillis)
	require.Empty(t, r.takeFired())

	r.rewrite("a", kmsg.NewPtrEndTxnRequest(), &kmsg.EndTxnResponse{Version: 3})
	fired := r.takeFired()
	require.Len(t, fired, 1)
	require.Equal(t, 0, fired[0].index)
	r.rewrite("a", kmsg.NewPtrEndTxnRequest(), &kmsg.EndTxnResponse{Version: 3})
	require.Equal(t, 1, r.takeFired()[0].index)
	require.Empty(t, r.armed)
}

// An error answered after the work sets every error code of the answer,
// top-level and per entity; an answer without one cannot carry it.
func TestAppliedErrorSetsEveryErrorCode(t *testing.T) {
	f := faults.Fault{Kind: faults.BrokerError, Instance: "a", Request: "Produce", Error: "NOT_LEADER_FOR_PARTITION", Applied: true}
	a := rewriteOf(0, f, int16(kmsg.Produce))
	p := &kmsg.ProduceResponse{Topics: []kmsg.ProduceResponseTopic{{Topic: "t", Partitions: []kmsg.ProduceResponseTopicPartition{{Partition: 0}, {Partition: 1}}}}}
	require.Equal(t, "step 0: a's next Produce applied, then answered with NOT_LEADER_FOR_PARTITION", a.apply(p))
	for _, part := range p.Topics[0].Partitions {
		require.EqualValues(t, 6, part.ErrorCode)
	}
	e := &kmsg.EndTxnResponse{}
	require.NotEmpty(t, rewriteOf(0, faults.Fault{Kind: faults.BrokerError, Instance: "a", Request: "EndTxn", Error: "UNKNOWN_SERVER_ERROR", Applied: true}, int16(kmsg.EndTxn)).apply(e))
	require.EqualValues(t, -1, e.ErrorCode)
	require.Empty(t, a.apply(&kmsg.ProduceResponse{}), "no partition: no error code to set")
}

// An error answered after the work does not fire on an answer that says
// the request was refused (another fault's error): no work was done. It
// fires at the next answer to a request that was.
func TestAppliedErrorSkipsARefusedAnswer(t *testing.T) {
	f := faults.Fault{Kind: faults.BrokerError, Instance: "a", Request: "Produce", Error: "DUPLICATE_SEQUENCE_NUMBER", Applied: true}
	r := &rewriter{}
	r.arm(rewriteOf(0, f, int16(kmsg.Produce)))
	refused := &kmsg.ProduceResponse{Topics: []kmsg.ProduceResponseTopic{{Topic: "t", Partitions: []kmsg.ProduceResponseTopicPartition{{Partition: 0, ErrorCode: 21}}}}}
	r.rewrite("a", kmsg.NewPtrProduceRequest(), refused)
	require.EqualValues(t, 21, refused.Topics[0].Partitions[0].ErrorCode, "INVALID_REQUIRED_ACKS stays")
	require.Empty(t, r.takeFired())
	done := &kmsg.ProduceResponse{Topics: []kmsg.ProduceResponseTopic{{Topic: "t", Partitions: []kmsg.ProduceResponseTopicPartition{{Partition: 0}}}}}
	r.rewrite("a", kmsg.NewPtrProduceRequest(), done)
	require.EqualValues(t, 46, done.Topics[0].Partitions[0].ErrorCode)
	require.Len(t, r.takeFired(), 1)
}

// Requests with no id of their own are told apart by client id.
func TestOwnedByClientID(t *testing.T) {
	require.True(t, ownedBy(kmsg.NewPtrFetchRequest(), "app-a", "a", "a"))
	require.False(t, ownedBy(kmsg.NewPtrFetchRequest(), "app-a", "a", "kgo"))
	require.False(t, ownedBy(kmsg.NewPtrMetadataRequest(), "app-a", "a", "b"))
	// A produce without a transaction keeps its old rule: whoever sends it.
	require.True(t, ownedBy(kmsg.NewPtrProduceRequest(), "app-a", "a", "b"))
}
