package engine

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/eosim/eosim/history"
)

func rec(off int64, key, value string) history.Record {
	return history.Record{Offset: off, Key: key, Value: value}
}

func TestStorePartitionApply(t *testing.T) {
	tests := []struct {
		name     string
		initData map[string]string
		initNext int64
		recs     []history.Record
		wantData map[string]string
		wantNext int64
	}{
		{
			name:     "no records leaves an empty partition at 0",
			wantData: map[string]string{},
			wantNext: 0,
		},
		{
			name:     "puts insert and overwrite, next is last offset plus one",
			recs:     []history.Record{rec(0, "a", "1"), rec(1, "b", "2"), rec(2, "a", "3")},
			wantData: map[string]string{"a": "3", "b": "2"},
			wantNext: 3,
		},
		{
			name:     "empty value deletes the key",
			initData: map[string]string{"a": "1", "b": "2"},
			initNext: 5,
			recs:     []history.Record{rec(5, "a", "")},
			wantData: map[string]string{"b": "2"},
			wantNext: 6,
		},
		{
			name:     "delete of an absent key is a no-op that still advances next",
			recs:     []history.Record{rec(7, "missing", "")},
			wantData: map[string]string{},
			wantNext: 8,
		},
		{
			name:     "put after delete restores the key",
			recs:     []history.Record{rec(0, "a", "1"), rec(1, "a", ""), rec(2, "a", "2")},
			wantData: map[string]string{"a": "2"},
			wantNext: 3,
		},
		{
			name:     "gaps in offsets (aborted records, markers) jump next to last plus one",
			recs:     []history.Record{rec(3, "a", "1"), rec(10, "b", "2")},
			wantData: map[string]string{"a": "1", "b": "2"},
			wantNext: 11,
		},
		{
			name:     "an older offset never moves next backwards",
			initNext: 20,
			recs:     []history.Record{rec(4, "a", "1")},
			wantData: map[string]string{"a": "1"},
			wantNext: 20,
		},
		{
			name:     "out-of-order offsets within one batch keep the maximum",
			recs:     []history.Record{rec(9, "a", "1"), rec(2, "b", "2")},
			wantData: map[string]string{"a": "1", "b": "2"},
			wantNext: 10,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sp := newStorePartition()
			for k, v := range tc.initData {
				sp.data[k] = v
			}
			sp.next = tc.initNext
			sp.apply(tc.recs)
			assert.Equal(t, tc.wantData, sp.data)
			assert.Equal(t, tc.wantNext, sp.next)
		})
	}
}

func TestStorePartitionApplyIncrementalEqualsBatch(t *testing.T) {
	recs := []history.Record{rec(0, "a", "1"), rec(1, "b", "2"), rec(2, "a", ""), rec(3, "c", "3")}
	batch := newStorePartition()
	batch.apply(recs)
	inc := newStorePartition()
	for _, r := range recs {
		inc.apply([]history.Record{r})
	}
	assert.Equal(t, batch.data, inc.data)
	assert.Equal(t, batch.next, inc.next)
}

func TestStorePartitionEntriesSorted(t *testing.T) {
	tests := []struct {
		name string
		data map[string]string
		want []history.KV
	}{
		{name: "empty", data: nil, want: []history.KV{}},
		{
			name: "sorted by key bytewise",
			data: map[string]string{"b": "2", "a": "1", "B": "3", "aa": "4", "10": "5", "9": "6"},
			want: []history.KV{
				{Key: "10", Value: "5"}, {Key: "9", Value: "6"}, {Key: "B", Value: "3"},
				{Key: "a", Value: "1"}, {Key: "aa", Value: "4"}, {Key: "b", Value: "2"},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sp := newStorePartition()
			for k, v := range tc.data {
				sp.data[k] = v
			}
			got := sp.entries()
			require.NotNil(t, got)
			assert.Equal(t, tc.want, got)
		})
	}
}

// Property: apply is a last-writer-wins map fold and next is max offset + 1.
func TestStorePartitionApplyProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(0, 30).Draw(t, "n")
		recs := make([]history.Record, n)
		model := map[string]string{}
		var maxNext int64
		for i := range recs {
			r := history.Record{
				Offset: rapid.Int64Range(0, 100).Draw(t, "off"),
				Key:    rapid.SampledFrom([]string{"a", "b", "c"}).Draw(t, "key"),
				Value:  rapid.SampledFrom([]string{"", "x", "y"}).Draw(t, "value"),
			}
			recs[i] = r
			if r.Value == "" {
				delete(model, r.Key)
			} else {
				model[r.Key] = r.Value
			}
			maxNext = max(maxNext, r.Offset+1)
		}
		sp := newStorePartition()
		sp.apply(recs)
		if len(model) != len(sp.data) {
			t.Fatalf("data %v, want %v", sp.data, model)
		}
		for k, v := range model {
			if sp.data[k] != v {
				t.Fatalf("data %v, want %v", sp.data, model)
			}
		}
		if sp.next != maxNext {
			t.Fatalf("next %d, want %d", sp.next, maxNext)
		}
	})
}
