package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/eosim/eosim/history"
	"github.com/eosim/eosim/internal/sqlitedb"
)

// RunSerial runs topology t of application appID once over inputs, serially
// and without faults, each partition's records in offset order with stores
// of their own, and returns every record its sinks and changelogs would then
// hold (offsets unset), partition by partition in input order. For a
// deterministic topology this is what exactly-once must be
// indistinguishable from: the oracle a judge compares a faulty, concurrent
// run with. Records of topics t does not read are ignored.
//
// A multi-stage topology runs stage by stage, each after the stages whose
// repartition topics it reads: a stage takes its sources' records, then the
// repartition records written to it, partition by partition in the order
// they were written. Repartition topics (of partitions partitions, as every
// topic of such a topology) are internal: their records are not returned.
func RunSerial(t *Topology, appID string, partitions int, inputs []history.Record) ([]history.Record, error) {
	if err := t.validate(); err != nil {
		return nil, err
	}
	if t.Database != nil {
		return nil, fmt.Errorf("topology writes a database: a serial run of it has no records to give (RunSerialDatabase)")
	}
	order, err := t.stageOrder()
	if err != nil {
		return nil, err
	}
	reps := make(map[string]repartitionTopic)
	keyed := make(map[string]int)
	for _, st := range order {
		if partitions < 1 && len(st.Repartitions)+len(st.KeyedSinks) > 0 {
			return nil, fmt.Errorf("a serial run of a topology with repartition topics or keyed sinks needs their partition count")
		}
		for _, name := range st.Repartitions {
			reps[name] = repartitionTopic{topic: RepartitionTopic(appID, name), partitions: partitions}
		}
		for _, t := range st.KeyedSinks {
			keyed[t] = partitions
		}
	}
	stores := make(map[string]map[int32]*storePartition)
	written := make(map[string][]history.Record) // repartition topic → records in write order
	var out []history.Record
	for i := range order {
		st := &order[i]
		in := sourceOrder(st.Sources, inputs)
		for _, name := range st.RepartitionSources {
			in = append(in, sourceOrder([]string{RepartitionTopic(appID, name)}, written[RepartitionTopic(appID, name)])...)
		}
		// One context serves every record of the stage, emptied between
		// them: a serial run makes hundreds of thousands.
		pc := &ProcessContext{
			stage: st, repartitions: reps, keyedSinks: keyed,
			stores: make(map[string]*storePartition, len(st.Stores)),
		}
		for _, r := range in {
			pc.partition, pc.err = r.Partition, nil
			pc.forwards, pc.writeLog = pc.forwards[:0], pc.writeLog[:0]
			for _, s := range st.Stores {
				if stores[s] == nil {
					stores[s] = make(map[int32]*storePartition)
				}
				if stores[s][r.Partition] == nil {
					stores[s][r.Partition] = newStorePartition()
				}
				pc.stores[s] = stores[s][r.Partition]
			}
			if err := st.Process(pc, r); err != nil {
				return nil, fmt.Errorf("processing %s[%d]@%d: %w", r.Topic, r.Partition, r.Offset, err)
			}
			if pc.err != nil {
				return nil, fmt.Errorf("processing %s[%d]@%d: %w", r.Topic, r.Partition, r.Offset, pc.err)
			}
			// As a unit produces them: the forwards, then the changelog.
			for _, f := range pc.forwards {
				if slices.Contains(st.Sinks, f.Topic) {
					out = append(out, f)
					continue
				}
				f.Offset = int64(len(written[f.Topic])) // its place among the topic's records
				written[f.Topic] = append(written[f.Topic], f)
			}
			for _, wr := range pc.writeLog {
				c := history.Record{Topic: ChangelogTopic(appID, wr.store), Partition: r.Partition, Key: wr.key}
				if wr.value != nil {
					c.Value = *wr.value
					pc.stores[wr.store].data[wr.key] = *wr.value
				} else {
					delete(pc.stores[wr.store].data, wr.key)
				}
				out = append(out, c)
			}
		}
	}
	return out, nil
}

// sourceOrder is the records of topics among inputs, by partition, then
// topic, then offset, as an instance's poll orders them.
func sourceOrder(topics []string, inputs []history.Record) []history.Record {
	in := slices.DeleteFunc(slices.Clone(inputs), func(r history.Record) bool { return !slices.Contains(topics, r.Topic) })
	slices.SortStableFunc(in, func(a, b history.Record) int {
		if a.Partition != b.Partition {
			return int(a.Partition - b.Partition)
		}
		if a.Topic != b.Topic {
			return strings.Compare(a.Topic, b.Topic)
		}
		return int(a.Offset - b.Offset)
	})
	return in
}

// RunSerialDatabase is RunSerial for a topology with a Database: it applies
// inputs once each, serially and without faults, each in a transaction of
// its own (Apply's plain form, unit "serial"), to a fresh SQLite database
// in a temporary directory, and returns its tables as the judge reads them
// (the engine's own PositionsTable left out).
func RunSerialDatabase(ctx context.Context, t *Topology, inputs []history.Record) (map[string][]history.Row, error) {
	if err := t.validate(); err != nil {
		return nil, err
	}
	if t.Database == nil {
		return nil, errors.New("topology writes no database (RunSerial)")
	}
	dir, err := os.MkdirTemp("", "eosim-serial-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	db, err := sqlitedb.Open(filepath.Join(dir, "serial.db"))
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if err := CreateTables(ctx, db, t.Database); err != nil {
		return nil, err
	}
	for _, r := range sourceOrder([]string{t.Source}, inputs) {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return nil, fmt.Errorf("serial run: %w", err)
		}
		if _, err := t.Database.Apply(tx, r, DBWrite{Unit: "serial"}); err != nil {
			_ = tx.Rollback()
			return nil, fmt.Errorf("serial run: applying %s[%d]@%d: %w", r.Topic, r.Partition, r.Offset, err)
		}
		if err := tx.Commit(); err != nil {
			return nil, fmt.Errorf("serial run: %w", err)
		}
	}
	tables, err := sqlitedb.ReadTables(ctx, db)
	if err != nil {
		return nil, err
	}
	delete(tables, PositionsTable)
	return tables, nil
}
