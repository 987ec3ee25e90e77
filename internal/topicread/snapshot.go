package topicread

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eosim/eosim/history"
)

// Snapshot reads topics to their end, both read_committed and
// read_uncommitted, and the offsets group has committed: what the judge
// learns from the broker, on any cluster opts reach.
//
// One admin client learns where every topic ends and what the group
// committed; the topics are then read a group at a time (two consumers per
// group, see readGroups), so that the fetched records held at any time are
// at most about readGroupRecords, however long the topics.
func Snapshot(ctx context.Context, opts []kgo.Opt, group string, topics ...string) (history.Snapshot, error) {
	adm, closeAdm, err := NewAdmin(opts)
	if err != nil {
		return history.Snapshot{}, err
	}
	defer closeAdm()
	return SnapshotWith(ctx, adm, opts, group, topics...)
}

// SnapshotWith is Snapshot asking its questions through adm, a client the
// caller has already (the simulator's driver keeps one for the run): one
// client fewer to make, connect and close.
func SnapshotWith(ctx context.Context, adm *Admin, opts []kgo.Opt, group string, topics ...string) (history.Snapshot, error) {
	snap := history.Snapshot{
		Committed:   make(map[string][]history.Record),
		Uncommitted: make(map[string][]history.Record),
	}
	if len(topics) > 0 {
		b, err := ends(ctx, adm, topics...)
		if err != nil {
			return history.Snapshot{}, fmt.Errorf("snapshot of %s: %w", strings.Join(topics, ", "), err)
		}
		for _, group := range readGroups(b, topics) {
			committed, uncommitted, err := read(ctx, opts, b.of(group...), nil)
			if err != nil {
				return history.Snapshot{}, fmt.Errorf("snapshot of %s: %w", strings.Join(group, ", "), err)
			}
			for _, t := range group {
				snap.Committed[t], snap.Uncommitted[t] = committed[t], uncommitted[t]
			}
		}
	}
	offs, err := adm.FetchOffsets(ctx, group)
	if err == nil {
		err = offs.Error()
	}
	if err != nil {
		return history.Snapshot{}, fmt.Errorf("snapshot of group %s offsets: %w", group, err)
	}
	offs.Each(func(o kadm.OffsetResponse) {
		snap.GroupOffsets = append(snap.GroupOffsets, history.Offset{Topic: o.Topic, Partition: o.Partition, Offset: o.At})
	})
	sort.Slice(snap.GroupOffsets, func(i, j int) bool {
		a, b := snap.GroupOffsets[i], snap.GroupOffsets[j]
		if a.Topic != b.Topic {
			return a.Topic < b.Topic
		}
		return a.Partition < b.Partition
	})
	return snap, nil
}

// readGroupRecords is about how many log entries one read of Snapshot takes
// at most: topics are read together up to it, and a topic longer than it
// alone. A run's topics (a few thousand entries each) go in one read, two
// consumers in all instead of two per topic; a run of 100,000 orders reads
// its long topics one by one, as before.
const readGroupRecords = 50_000

// readGroups splits topics, in their order, into groups of at most
// readGroupRecords entries by their ends in b (a topic with more is a group
// of its own).
func readGroups(b bounds, topics []string) [][]string {
	size := make(map[string]int64, len(topics))
	for k, end := range b.end {
		size[k.topic] += end
	}
	var groups [][]string
	var cur []string
	var n int64
	for _, t := range topics {
		if len(cur) > 0 && n+size[t] > readGroupRecords {
			groups, cur, n = append(groups, cur), nil, 0
		}
		cur, n = append(cur, t), n+size[t]
	}
	if len(cur) > 0 {
		groups = append(groups, cur)
	}
	return groups
}
