package engine

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eosim/eosim/history"
	"github.com/eosim/eosim/internal/topicread"
)

func TestNextOffsets(t *testing.T) {
	kr := func(p int32, off int64) *kgo.Record { return &kgo.Record{Topic: "in", Partition: p, Offset: off} }
	tests := []struct {
		name string
		recs []*kgo.Record
		want []history.Offset
	}{
		{name: "no records", recs: nil, want: nil},
		{name: "one record", recs: []*kgo.Record{kr(2, 0)}, want: []history.Offset{{Topic: "in", Partition: 2, Offset: 1}}},
		{
			name: "one partition, last offset plus one",
			recs: []*kgo.Record{kr(0, 5), kr(0, 6), kr(0, 9)},
			want: []history.Offset{{Topic: "in", Partition: 0, Offset: 10}},
		},
		{
			name: "several partitions in partition/offset order",
			recs: []*kgo.Record{kr(0, 3), kr(0, 4), kr(1, 0), kr(3, 7), kr(3, 8), kr(3, 12)},
			want: []history.Offset{
				{Topic: "in", Partition: 0, Offset: 5},
				{Topic: "in", Partition: 1, Offset: 1},
				{Topic: "in", Partition: 3, Offset: 13},
			},
		},
		{
			name: "same partition number in another topic is separate",
			recs: []*kgo.Record{kr(0, 3), {Topic: "other", Partition: 0, Offset: 8}},
			want: []history.Offset{
				{Topic: "in", Partition: 0, Offset: 4},
				{Topic: "other", Partition: 0, Offset: 9},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, nextOffsets(tc.recs))
		})
	}
}

func TestToKgo(t *testing.T) {
	in := []history.Record{
		{Topic: "out", Partition: 2, Offset: 7, Key: "k", Value: "v", Headers: []history.Header{{Key: "a", Value: "1"}, {Key: "b", Value: ""}}},
		{Topic: "app-s-changelog", Partition: 1, Key: "gone", Value: ""},
		{Topic: "out", Partition: 0, Key: "", Value: "keyless"},
	}
	got := toKgo(in)
	require.Len(t, got, 3)
	// An empty key goes on the wire empty, not null, as []byte("") gave.
	require.NotNil(t, got[2].Key)
	assert.Empty(t, got[2].Key)
	// The records share one buffer: a write past one's key must not reach
	// its value.
	_ = append(got[0].Key, 'X')
	assert.Equal(t, []byte("v"), got[0].Value)

	assert.Equal(t, "out", got[0].Topic)
	assert.Equal(t, int32(2), got[0].Partition)
	assert.Equal(t, int64(7), got[0].Offset)
	assert.Equal(t, []byte("k"), got[0].Key)
	assert.Equal(t, []byte("v"), got[0].Value)
	assert.Equal(t, []kgo.RecordHeader{{Key: "a", Value: []byte("1")}, {Key: "b", Value: []byte{}}}, got[0].Headers)

	assert.Equal(t, "app-s-changelog", got[1].Topic)
	assert.Equal(t, []byte("gone"), got[1].Key)
	assert.Nil(t, got[1].Value, `an empty value is a tombstone (nil), not an empty value`)
	assert.Empty(t, got[1].Headers)
}

func TestToKgoEmpty(t *testing.T) {
	got := toKgo(nil)
	assert.NotNil(t, got)
	assert.Empty(t, got)
}

// TestAcknowledgedIsTheRecordAsSent: a unit's acknowledged record, made of
// its own strings, is what converting the record kgo acknowledged gives,
// with the partition and offset the broker gave it.
func TestAcknowledgedIsTheRecordAsSent(t *testing.T) {
	src := []history.Record{
		{Topic: "out", Partition: -1, Key: "k", Value: "v", Headers: []history.Header{{Key: "a", Value: "1"}, {Key: "b", Value: ""}}},
		{Topic: "app-s-changelog", Partition: 1, Key: "gone"},
		{Topic: "out", Partition: 0, Value: "keyless", Headers: []history.Header{}},
	}
	for i, r := range toKgo(src) {
		r.Partition, r.Offset = 3, int64(40+i) // where the broker put it
		assert.Equal(t, topicread.Convert(r), acknowledged(src[i], r))
	}
}
