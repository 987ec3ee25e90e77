package engine

import (
	"fmt"
	"slices"

	"github.com/eosim/eosim/history"
)

// RunSerial runs topology t of application appID once over inputs, serially
// and without faults, each partition's records in offset order with stores
// of their own, and returns every record its sinks and changelogs would then
// hold (offsets unset), partition by partition in input order. For a
// deterministic topology this is what exactly-once must be
// indistinguishable from: the oracle a judge compares a faulty, concurrent
// run with. Records of other topics than t.Source are ignored.
func RunSerial(t *Topology, appID string, inputs []history.Record) ([]history.Record, error) {
	if err := t.validate(); err != nil {
		return nil, err
	}
	if t.Database != nil {
		return nil, fmt.Errorf("topology writes a database: a serial run of it has no records to give")
	}
	in := slices.DeleteFunc(slices.Clone(inputs), func(r history.Record) bool { return r.Topic != t.Source })
	slices.SortStableFunc(in, func(a, b history.Record) int {
		if a.Partition != b.Partition {
			return int(a.Partition - b.Partition)
		}
		return int(a.Offset - b.Offset)
	})
	stores := make(map[int32]map[string]*storePartition)
	var out []history.Record
	for _, r := range in {
		parts := stores[r.Partition]
		if parts == nil {
			parts = make(map[string]*storePartition)
			for _, s := range t.Stores {
				parts[s] = newStorePartition()
			}
			stores[r.Partition] = parts
		}
		pc := &ProcessContext{
			partition: r.Partition, topology: t,
			stores: parts, writes: make(map[string]map[string]*string),
		}
		if err := t.Process(pc, r); err != nil {
			return nil, fmt.Errorf("processing %s[%d]@%d: %w", r.Topic, r.Partition, r.Offset, err)
		}
		if pc.err != nil {
			return nil, fmt.Errorf("processing %s[%d]@%d: %w", r.Topic, r.Partition, r.Offset, pc.err)
		}
		// As a unit produces them: the forwards, then the changelog.
		out = append(out, pc.forwards...)
		for _, wr := range pc.writeLog {
			c := history.Record{Topic: ChangelogTopic(appID, wr.store), Partition: r.Partition, Key: wr.key}
			if wr.value != nil {
				c.Value = *wr.value
				parts[wr.store].data[wr.key] = *wr.value
			} else {
				delete(parts[wr.store].data, wr.key)
			}
			out = append(out, c)
		}
	}
	return out, nil
}
