package engine

import (
	"sort"

	"github.com/eosim/eosim/history"
)

// storePartition is one partition of a key-value store: its content and the
// changelog offset it reflects (everything below next is folded in).
type storePartition struct {
	data map[string]string
	next int64
}

func newStorePartition() *storePartition {
	return &storePartition{data: make(map[string]string)}
}

// apply folds changelog records into the partition.
func (sp *storePartition) apply(recs []history.Record) {
	for _, r := range recs {
		if r.Value == "" {
			delete(sp.data, r.Key)
		} else {
			sp.data[r.Key] = r.Value
		}
		if r.Offset+1 > sp.next {
			sp.next = r.Offset + 1
		}
	}
}

// entries returns the content sorted by key.
func (sp *storePartition) entries() []history.KV {
	kvs := make([]history.KV, 0, len(sp.data))
	for k, v := range sp.data {
		kvs = append(kvs, history.KV{Key: k, Value: v})
	}
	sort.Slice(kvs, func(i, j int) bool { return kvs[i].Key < kvs[j].Key })
	return kvs
}
