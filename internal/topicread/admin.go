package topicread

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Admin is the client topicread asks its questions with: kadm's calls, and
// the ListOffsets requests it sends each partition leader itself (kgo
// retries a sharded request after NOT_LEADER with fresh metadata; ends does
// so in its own loop).
//
// It lists ends leader by leader rather than with kadm's ListEndOffsets,
// which kgo shards: kgo waits for a sharded request's pieces on a
// sync.WaitGroup, and Go 1.26's runtime leaks 32 bytes for every WaitGroup
// waited to zero inside a synctest bubble (testing/synctest drops the
// record that ties the WaitGroup to its bubble without freeing it). A
// restore listed ends twice; over a long sweep the leak was tens of
// megabytes that the process never got back. eosim's own builds now run a
// copy of franz-go whose sharded requests wait on a channel instead
// (third_party/franz-go), but a program that imports eosim (eosimtest)
// builds with the franz-go its own module names, leak and all.
type Admin struct {
	*kadm.Client
	cl *kgo.Client
}

// AdminOf asks its questions through cl, which stays the caller's to close.
func AdminOf(cl *kgo.Client) *Admin { return &Admin{kadm.NewClient(cl), cl} }

// NewAdmin makes an admin client with opts; the func closes it. eosim's
// tools make every admin client here.
func NewAdmin(opts []kgo.Opt) (*Admin, func(), error) {
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("creating admin client: %w", err)
	}
	return AdminOf(cl), cl.Close, nil
}

// ends lists the high watermark and last stable offset of every partition
// of topics. A leader that just moved answers NOT_LEADER_FOR_PARTITION until
// the client's metadata catches up, so retriable answers are retried a few
// times, a moment apart.
func ends(ctx context.Context, adm *Admin, topics ...string) (bounds, error) {
	const attempts = 10
	for try := 1; ; try++ {
		b, err := listEnds(ctx, adm, topics, try > 1)
		if err == nil || !kerr.IsRetriable(err) || try == attempts || ctx.Err() != nil {
			return b, err
		}
		time.Sleep(time.Duration(try) * 50 * time.Millisecond)
	}
}

// listEnds asks each leader of topics' partitions, in node order, for their
// high watermarks (read_uncommitted) and then their last stable offsets
// (read_committed); fresh asks the partitions' leaders anew.
func listEnds(ctx context.Context, adm *Admin, topics []string, fresh bool) (bounds, error) {
	names := strings.Join(topics, ", ")
	leaders, err := partitionLeaders(ctx, adm.cl, topics, fresh)
	if err != nil {
		return bounds{}, fmt.Errorf("listing the partitions of %s: %w", names, err)
	}
	b := bounds{end: make(map[tp]int64), stable: make(map[tp]int64)}
	for _, leader := range slices.Sorted(maps.Keys(leaders)) {
		for _, level := range []struct {
			isolation int8
			into      map[tp]int64
			what      string
		}{{0, b.end, "end"}, {1, b.stable, "stable"}} {
			if err := listOffsets(ctx, adm.cl.Broker(int(leader)), level.isolation, leaders[leader], level.into); err != nil {
				return bounds{}, fmt.Errorf("listing %s offsets of %s: %w", level.what, names, err)
			}
		}
	}
	return b, nil
}

// partitionLeaders maps each leader of topics' partitions to them, in
// (topic, partition) order. It takes the client's cached metadata, as
// kadm's ListEndOffsets does, unless fresh: after a NOT_LEADER answer the
// cache is what is wrong.
func partitionLeaders(ctx context.Context, cl *kgo.Client, topics []string, fresh bool) (map[int32][]tp, error) {
	req := kmsg.NewPtrMetadataRequest()
	for _, t := range topics {
		rt := kmsg.NewMetadataRequestTopic()
		rt.Topic = kmsg.StringPtr(t)
		req.Topics = append(req.Topics, rt)
	}
	var resp *kmsg.MetadataResponse
	var err error
	if fresh {
		resp, err = req.RequestWith(ctx, cl)
	} else {
		resp, err = cl.RequestCachedMetadata(ctx, req, 0)
	}
	if err != nil {
		return nil, err
	}
	leaders := make(map[int32][]tp)
	for _, t := range topics {
		i := slices.IndexFunc(resp.Topics, func(rt kmsg.MetadataResponseTopic) bool { return rt.Topic != nil && *rt.Topic == t })
		if i < 0 {
			return nil, fmt.Errorf("topic %s: %w", t, kerr.UnknownTopicOrPartition)
		}
		rt := resp.Topics[i]
		if err := kerr.ErrorForCode(rt.ErrorCode); err != nil {
			return nil, fmt.Errorf("topic %s: %w", t, err)
		}
		if len(rt.Partitions) == 0 {
			return nil, fmt.Errorf("topic %s has no partitions", t)
		}
		ps := slices.SortedFunc(slices.Values(rt.Partitions), func(a, b kmsg.MetadataResponseTopicPartition) int { return cmp.Compare(a.Partition, b.Partition) })
		for _, p := range ps {
			if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
				return nil, fmt.Errorf("%s[%d]: %w", t, p.Partition, err)
			}
			leaders[p.Leader] = append(leaders[p.Leader], tp{t, p.Partition})
		}
	}
	return leaders, nil
}

// listOffsets asks br for the latest offset of parts at an isolation level
// (0 read_uncommitted: the high watermark; 1 read_committed: the last
// stable offset) and sets them in into.
func listOffsets(ctx context.Context, br *kgo.Broker, isolation int8, parts []tp, into map[tp]int64) error {
	req := kmsg.NewPtrListOffsetsRequest()
	req.IsolationLevel = isolation
	for _, at := range parts {
		if n := len(req.Topics); n == 0 || req.Topics[n-1].Topic != at.topic {
			t := kmsg.NewListOffsetsRequestTopic()
			t.Topic = at.topic
			req.Topics = append(req.Topics, t)
		}
		p := kmsg.NewListOffsetsRequestTopicPartition()
		p.Partition = at.partition
		p.Timestamp = -1 // the latest
		t := &req.Topics[len(req.Topics)-1]
		t.Partitions = append(t.Partitions, p)
	}
	resp, err := req.RequestWith(ctx, br)
	if err != nil {
		return err
	}
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
				return fmt.Errorf("%s[%d]: %w", t.Topic, p.Partition, err)
			}
			into[tp{t.Topic, p.Partition}] = p.Offset
		}
	}
	for _, at := range parts {
		if _, ok := into[at]; !ok {
			return fmt.Errorf("%s[%d]: the leader did not answer for it", at.topic, at.partition)
		}
	}
	return nil
}
