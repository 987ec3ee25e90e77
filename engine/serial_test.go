package engine

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/eosim/eosim/history"
)

// counter counts the inputs per key in store "n", forwards the count, and
// deletes the key when the value is "reset".
func counter() *Topology {
	return &Topology{
		Source: "in", Stores: []string{"n"}, Sinks: []string{"out"},
		Process: func(ctx *ProcessContext, rec history.Record) error {
			if rec.Value == "reset" {
				ctx.Delete("n", rec.Key)
				return nil
			}
			if rec.Value == "bad" {
				return errors.New("bad record")
			}
			n := 0
			if v, ok := ctx.Get("n", rec.Key); ok {
				n, _ = strconv.Atoi(v)
			}
			ctx.Put("n", rec.Key, strconv.Itoa(n+1))
			ctx.Forward("out", rec.Key, strconv.Itoa(n+1))
			return nil
		},
	}
}

func in(p int32, off int64, key, value string) history.Record {
	return history.Record{Topic: "in", Partition: p, Offset: off, Key: key, Value: value}
}

func TestRunSerial(t *testing.T) {
	// Given out of order and across partitions: each partition runs alone,
	// in offset order; records of other topics are ignored.
	got, err := RunSerial(counter(), "app", 0, []history.Record{
		in(1, 0, "a", "x"), in(0, 1, "a", "x"), in(0, 0, "a", "x"),
		{Topic: "other", Key: "a"}, in(0, 2, "a", "reset"), in(0, 3, "a", "x"),
	})
	require.NoError(t, err)
	cl := func(p int32, key, value string) history.Record {
		return history.Record{Topic: "app-n-changelog", Partition: p, Key: key, Value: value}
	}
	out := func(p int32, key, value string) history.Record {
		return history.Record{Topic: "out", Partition: p, Key: key, Value: value}
	}
	require.Equal(t, []history.Record{
		out(0, "a", "1"), cl(0, "a", "1"),
		out(0, "a", "2"), cl(0, "a", "2"),
		cl(0, "a", ""), // the delete, as the engine writes it
		out(0, "a", "1"), cl(0, "a", "1"),
		out(1, "a", "1"), cl(1, "a", "1"),
	}, got)

	_, err = RunSerial(counter(), "app", 0, []history.Record{in(0, 0, "a", "bad")})
	require.ErrorContains(t, err, "processing in[0]@0: bad record")

	_, err = RunSerial(&Topology{Source: "in"}, "app", 0, nil)
	require.Error(t, err, "an invalid topology")
}

func TestRunSerialDatabase(t *testing.T) {
	top := &Topology{
		Source: "in",
		Database: &Database{
			Schema:  []string{`CREATE TABLE IF NOT EXISTS seen (k TEXT, v TEXT, unit TEXT)`},
			InputID: func(r history.Record) (string, error) { return r.Key, nil },
			Apply: func(tx *sql.Tx, r history.Record, w DBWrite) (bool, error) {
				_, err := tx.Exec(`INSERT INTO seen (k, v, unit) VALUES (?, ?, ?)`, r.Key, r.Value, w.Unit)
				return err == nil, err
			},
		},
	}
	tables, err := RunSerialDatabase(context.Background(), top, []history.Record{
		in(1, 0, "b", "2"), in(0, 1, "a", "1b"), in(0, 0, "a", "1a"), {Topic: "other", Key: "x"},
	})
	require.NoError(t, err)
	require.NotContains(t, tables, PositionsTable, "the engine's own table is left out")
	row := func(k, v string) history.Row {
		return history.Row{Table: "seen", Values: map[string]string{"k": k, "v": v, "unit": "serial"}}
	}
	require.Equal(t, []history.Row{row("a", "1a"), row("a", "1b"), row("b", "2")}, tables["seen"])

	_, err = RunSerialDatabase(context.Background(), counter(), nil)
	require.Error(t, err, "a topology without a database")
	_, err = RunSerial(top, "app", 0, nil)
	require.Error(t, err, "RunSerial is for topologies that write topics")
}
