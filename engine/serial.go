package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/eosim/eosim/history"
	"github.com/eosim/eosim/internal/sqlitedb"
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
		return nil, fmt.Errorf("topology writes a database: a serial run of it has no records to give (RunSerialDatabase)")
	}
	in := sourceOrder(t, inputs)
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

// sourceOrder is inputs of t's source, each partition's in offset order.
func sourceOrder(t *Topology, inputs []history.Record) []history.Record {
	in := slices.DeleteFunc(slices.Clone(inputs), func(r history.Record) bool { return r.Topic != t.Source })
	slices.SortStableFunc(in, func(a, b history.Record) int {
		if a.Partition != b.Partition {
			return int(a.Partition - b.Partition)
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
	for _, r := range sourceOrder(t, inputs) {
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
