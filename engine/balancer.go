package engine

import (
	"sort"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// instanceBalancer assigns partition p of every topic to the p mod n-th
// member, members sorted by instance name. The broker's member ids are random,
// so sorting by them (as kgo's balancers do) would make the assignment, and so
// the whole run, differ from one run to the next; the instance name travels
// in the join metadata's user data instead.
type instanceBalancer struct{ name string }

const balancerProtocol = "eosim-instance-modulo"

func (*instanceBalancer) ProtocolName() string { return balancerProtocol }
func (*instanceBalancer) IsCooperative() bool  { return false }

// JoinGroupMetadata leaves out the generation and the owned partitions: a
// restarted static member then sends the same metadata as its dead self,
// and the coordinator hands it the old assignment without a rebalance
// (KIP-345) instead of waiting for the dead member's session to expire.
func (b *instanceBalancer) JoinGroupMetadata(interests []string, _ map[string][]int32, _ int32) []byte {
	meta := kmsg.NewConsumerMemberMetadata()
	meta.Version = 3
	meta.Topics = interests
	meta.UserData = []byte(b.name)
	return meta.AppendTo(nil)
}

func (*instanceBalancer) ParseSyncAssignment(assignment []byte) (map[string][]int32, error) {
	return kgo.ParseConsumerSyncAssignment(assignment)
}

func (b *instanceBalancer) MemberBalancer(members []kmsg.JoinGroupResponseMember) (kgo.GroupMemberBalancer, map[string]struct{}, error) {
	cb, err := kgo.NewConsumerBalancer(b, members)
	return cb, cb.MemberTopics(), err
}

func (*instanceBalancer) Balance(cb *kgo.ConsumerBalancer, topics map[string]int32) kgo.IntoSyncAssignment {
	type member struct {
		id, name string
	}
	var ms []member
	cb.EachMember(func(m *kmsg.JoinGroupResponseMember, meta *kmsg.ConsumerMemberMetadata) {
		ms = append(ms, member{m.MemberID, string(meta.UserData)})
	})
	sort.Slice(ms, func(i, j int) bool {
		if ms[i].name != ms[j].name {
			return ms[i].name < ms[j].name
		}
		return ms[i].id < ms[j].id
	})
	names := make([]string, 0, len(topics))
	for t := range cb.MemberTopics() {
		names = append(names, t)
	}
	sort.Strings(names)
	plan := cb.NewPlan()
	for _, t := range names {
		for p := int32(0); p < topics[t]; p++ {
			plan.AddPartition(&kmsg.JoinGroupResponseMember{MemberID: ms[int(p)%len(ms)].id}, t, p)
		}
	}
	return plan
}
