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
// committed; each topic is then read on its own (two consumers), so that the
// fetched records held at any time are one topic's, not every topic's.
func Snapshot(ctx context.Context, opts []kgo.Opt, group string, topics ...string) (history.Snapshot, error) {
	snap := history.Snapshot{
		Committed:   make(map[string][]history.Record),
		Uncommitted: make(map[string][]history.Record),
	}
	adm, closeAdm, err := NewAdmin(opts)
	if err != nil {
		return history.Snapshot{}, err
	}
	defer closeAdm()
	if len(topics) > 0 {
		b, err := ends(ctx, adm, topics...)
		if err != nil {
			return history.Snapshot{}, fmt.Errorf("snapshot of %s: %w", strings.Join(topics, ", "), err)
		}
		for _, t := range topics {
			committed, uncommitted, err := read(ctx, opts, b.of(t), nil)
			if err != nil {
				return history.Snapshot{}, fmt.Errorf("snapshot of %s: %w", t, err)
			}
			snap.Committed[t], snap.Uncommitted[t] = committed[t], uncommitted[t]
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
