package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/eosim/eosim/history"
)

// tasks are the partitions of m, a group assignment of the consumed topics.
// The balancer gives partition p of every topic to one member, so partition
// p is one task of every stage.
func (in *Instance) tasks(m map[string][]int32) []int32 {
	var ps []int32
	for _, t := range in.consumed {
		for _, p := range m[t] {
			if !slices.Contains(ps, p) {
				ps = append(ps, p)
			}
		}
	}
	slices.Sort(ps)
	return ps
}

// everyConsumed is partitions ps of every consumed topic.
func (in *Instance) everyConsumed(ps []int32) map[string][]int32 {
	m := make(map[string][]int32, len(in.consumed))
	for _, t := range in.consumed {
		m[t] = ps
	}
	return m
}

// learnRepartitions learns the partition counts of a multi-stage topology's
// repartition topics and keyed sinks, which a unit's Repartition and
// ForwardByKey hash keys over. A topology with neither sends nothing.
func (in *Instance) learnRepartitions(ctx context.Context) error {
	in.repartitions = make(map[string]repartitionTopic)
	in.keyedSinks = make(map[string]int)
	var topics, keyed []string
	byTopic := make(map[string]string)
	for _, s := range in.cfg.Topology.stages() {
		for _, name := range s.Repartitions {
			t := RepartitionTopic(in.cfg.AppID, name)
			topics = append(topics, t)
			byTopic[t] = name
		}
		keyed = append(keyed, s.KeyedSinks...)
	}
	if len(topics)+len(keyed) == 0 {
		return nil
	}
	details, err := kadm.NewClient(in.cl).ListTopics(ctx, append(topics, keyed...)...)
	if err != nil {
		return fmt.Errorf("learning the repartition topics and keyed sinks: %w", err)
	}
	partitions := func(t, what string) (int, error) {
		d, ok := details[t]
		if !ok || d.Err != nil || len(d.Partitions) == 0 {
			return 0, fmt.Errorf("%s %s: missing (create it with the sources' partition count): %v", what, t, d.Err)
		}
		return len(d.Partitions), nil
	}
	for _, t := range topics {
		n, err := partitions(t, "repartition topic")
		if err != nil {
			return err
		}
		in.repartitions[byTopic[t]] = repartitionTopic{topic: t, partitions: n}
	}
	for _, t := range keyed {
		n, err := partitions(t, "keyed sink")
		if err != nil {
			return err
		}
		in.keyedSinks[t] = n
	}
	return nil
}

// isRepartition says whether topic is one of the topology's repartition
// topics.
func (in *Instance) isRepartition(topic string) bool {
	for _, rt := range in.repartitions {
		if rt.topic == topic {
			return true
		}
	}
	return false
}

// purge deletes the repartition records below offs, the positions a unit
// consumed them up to, as Kafka Streams purges repartition topics once
// their records are committed: nothing reads them again. It is best effort,
// as in Kafka Streams: a purge that fails is noted and the next one covers
// it.
func (in *Instance) purge(ctx context.Context, offs []history.Offset) {
	var o kadm.Offsets
	var what []string
	for _, off := range offs {
		if in.isRepartition(off.Topic) {
			o.AddOffset(off.Topic, off.Partition, off.Offset, -1)
			what = append(what, fmt.Sprintf("%s[%d] below %d", off.Topic, off.Partition, off.Offset))
		}
	}
	if len(what) == 0 {
		return
	}
	detail := "purged " + strings.Join(what, ", ")
	resp, err := kadm.NewClient(in.cl).DeleteRecords(in.runCtx(ctx), o)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		detail = fmt.Sprintf("purging %s failed: %s", strings.Join(what, ", "), Reason(err))
	}
	in.cfg.Recorder.Record(history.Event{Kind: history.KindNote, Instance: in.cfg.Name, Detail: detail})
}
