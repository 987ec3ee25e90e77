package engine

import (
	"fmt"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

type testMember struct{ id, name string }

// joinMembers builds the JoinGroup response members the coordinator would
// hand the leader, each member's metadata made by its own balancer.
func joinMembers(ms []testMember, interests []string) []kmsg.JoinGroupResponseMember {
	out := make([]kmsg.JoinGroupResponseMember, 0, len(ms))
	for i, m := range ms {
		b := &instanceBalancer{name: m.name}
		out = append(out, kmsg.JoinGroupResponseMember{
			MemberID:         m.id,
			ProtocolMetadata: b.JoinGroupMetadata(interests, nil, int32(i+1)),
		})
	}
	return out
}

// balance runs the leader's balancing and returns member id → topic →
// partitions, parsed from the SyncGroup assignments.
func balance(t *testing.T, members []kmsg.JoinGroupResponseMember, topics map[string]int32) map[string]map[string][]int32 {
	t.Helper()
	leader := &instanceBalancer{name: "leader"}
	gmb, _, err := leader.MemberBalancer(members)
	require.NoError(t, err)
	got := make(map[string]map[string][]int32)
	for _, a := range balanceWith(t, gmb, topics).IntoSyncAssignment() {
		parsed, err := kgo.ParseConsumerSyncAssignment(a.MemberAssignment)
		require.NoError(t, err)
		for _, ps := range parsed {
			sort.Slice(ps, func(i, j int) bool { return ps[i] < ps[j] })
		}
		got[a.MemberID] = parsed
	}
	return got
}

// balanceWith balances as kgo's group leader does: through BalanceOrError
// when the member balancer has it (kgo's ConsumerBalancer does, and its plain
// Balance panics "unreachable"), through Balance otherwise.
func balanceWith(t *testing.T, gmb kgo.GroupMemberBalancer, topics map[string]int32) kgo.IntoSyncAssignment {
	t.Helper()
	if be, ok := gmb.(kgo.GroupMemberBalancerOrError); ok {
		into, err := be.BalanceOrError(topics)
		require.NoError(t, err)
		return into
	}
	return gmb.Balance(topics)
}

// wantModulo is partition p of every topic on the (p mod n)-th member by
// instance name (ties by member id).
func wantModulo(ms []testMember, topics map[string]int32) map[string]map[string][]int32 {
	sorted := append([]testMember(nil), ms...)
	sort.Slice(sorted, func(i, j int) bool {
		if sorted[i].name != sorted[j].name {
			return sorted[i].name < sorted[j].name
		}
		return sorted[i].id < sorted[j].id
	})
	want := make(map[string]map[string][]int32)
	for _, m := range ms {
		want[m.id] = map[string][]int32{}
	}
	for topic, n := range topics {
		for p := int32(0); p < n; p++ {
			id := sorted[int(p)%len(sorted)].id
			want[id][topic] = append(want[id][topic], p)
		}
	}
	return want
}

func TestInstanceBalancerAssignsModuloByName(t *testing.T) {
	tests := []struct {
		name    string
		members []testMember
		topics  map[string]int32
	}{
		{
			name:    "one member takes everything",
			members: []testMember{{"m-1", "app-0"}},
			topics:  map[string]int32{"in": 4},
		},
		{
			// Member ids sort z, m, a; names sort app-0, app-1, app-2.
			name:    "ids in reverse of name order",
			members: []testMember{{"a-id", "app-2"}, {"m-id", "app-1"}, {"z-id", "app-0"}},
			topics:  map[string]int32{"in": 7, "other": 3},
		},
		{
			name:    "more members than partitions leaves some empty",
			members: []testMember{{"3", "c"}, {"1", "e"}, {"2", "a"}, {"5", "b"}, {"4", "d"}},
			topics:  map[string]int32{"in": 3},
		},
		{
			name:    "equal names fall back to member id",
			members: []testMember{{"y", "same"}, {"x", "same"}},
			topics:  map[string]int32{"in": 4},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			interests := make([]string, 0, len(tc.topics))
			for topic := range tc.topics {
				interests = append(interests, topic)
			}
			got := balance(t, joinMembers(tc.members, interests), tc.topics)
			assert.Equal(t, wantModulo(tc.members, tc.topics), got)
		})
	}
}

func TestInstanceBalancerExplicitAssignment(t *testing.T) {
	members := []testMember{{"id-c", "inst-b"}, {"id-a", "inst-c"}, {"id-b", "inst-a"}}
	got := balance(t, joinMembers(members, []string{"in"}), map[string]int32{"in": 6})
	assert.Equal(t, map[string]map[string][]int32{
		"id-b": {"in": {0, 3}}, // inst-a
		"id-c": {"in": {1, 4}}, // inst-b
		"id-a": {"in": {2, 5}}, // inst-c
	}, got)
}

func TestInstanceBalancerIndependentOfMemberOrder(t *testing.T) {
	members := []testMember{{"q", "n3"}, {"b", "n1"}, {"x", "n0"}, {"c", "n2"}}
	topics := map[string]int32{"in": 9}
	want := balance(t, joinMembers(members, []string{"in"}), topics)
	for i := range len(members) {
		rotated := append(append([]testMember(nil), members[i:]...), members[:i]...)
		t.Run(fmt.Sprint("rotation ", i), func(t *testing.T) {
			assert.Equal(t, want, balance(t, joinMembers(rotated, []string{"in"}), topics))
		})
	}
}

func TestInstanceBalancerIgnoresTopicsNoMemberWants(t *testing.T) {
	members := joinMembers([]testMember{{"m1", "a"}, {"m2", "b"}}, []string{"in"})
	leader := &instanceBalancer{name: "a"}
	gmb, memberTopics, err := leader.MemberBalancer(members)
	require.NoError(t, err)
	assert.Equal(t, map[string]struct{}{"in": {}}, memberTopics)

	for _, a := range balanceWith(t, gmb, map[string]int32{"in": 2, "unwanted": 4}).IntoSyncAssignment() {
		parsed, err := kgo.ParseConsumerSyncAssignment(a.MemberAssignment)
		require.NoError(t, err)
		assert.NotContains(t, parsed, "unwanted")
		assert.Len(t, parsed["in"], 1)
	}
}

func TestInstanceBalancerRejectsGarbageMetadata(t *testing.T) {
	leader := &instanceBalancer{name: "a"}
	_, _, err := leader.MemberBalancer([]kmsg.JoinGroupResponseMember{{MemberID: "m", ProtocolMetadata: []byte{0, 9, 1}}})
	assert.Error(t, err)
}

func TestInstanceBalancerJoinGroupMetadata(t *testing.T) {
	b := &instanceBalancer{name: "app-3"}
	first := b.JoinGroupMetadata([]string{"in"}, nil, 1)
	again := b.JoinGroupMetadata([]string{"in"}, map[string][]int32{"in": {0, 2}}, 17)
	assert.Equal(t, first, again, "a restarted static member must send identical metadata")

	var meta kmsg.ConsumerMemberMetadata
	require.NoError(t, meta.ReadFrom(first))
	assert.Equal(t, []string{"in"}, meta.Topics)
	assert.Equal(t, []byte("app-3"), meta.UserData)
	assert.Empty(t, meta.OwnedPartitions)

	other := (&instanceBalancer{name: "app-4"}).JoinGroupMetadata([]string{"in"}, nil, 1)
	assert.NotEqual(t, first, other, "the instance name must travel in the metadata")
}

func TestInstanceBalancerProtocol(t *testing.T) {
	b := &instanceBalancer{name: "x"}
	assert.Equal(t, "eosim-instance-modulo", b.ProtocolName())
	assert.False(t, b.IsCooperative())
}

func TestInstanceBalancerParseSyncAssignment(t *testing.T) {
	var a kmsg.ConsumerMemberAssignment
	a.Topics = []kmsg.ConsumerMemberAssignmentTopic{{Topic: "in", Partitions: []int32{1, 4}}}
	got, err := (&instanceBalancer{}).ParseSyncAssignment(a.AppendTo(nil))
	require.NoError(t, err)
	assert.Equal(t, map[string][]int32{"in": {1, 4}}, got)

	_, err = (&instanceBalancer{}).ParseSyncAssignment([]byte{0xff})
	assert.Error(t, err)
}
