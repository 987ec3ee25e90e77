package engine

import (
	"database/sql"

	"github.com/eosim/eosim/history"
)

// Database is what a topology writes outside Kafka: tables in a SQLite
// database that every instance of the application shares, as a database
// server would be shared. A topology with a Database runs under one of the
// database guarantees (DatabaseGuarantees), which decide how its writes are
// tied to the input positions.
type Database struct {
	// Schema creates the application's tables. Every instance runs it at
	// start, so each statement must be idempotent (CREATE TABLE IF NOT
	// EXISTS).
	Schema []string
	// InputID returns an input record's identity (an order id).
	InputID func(history.Record) (string, error)
	// Apply writes the effect of one input record inside tx. With w.Once
	// it must be idempotent: an input whose effect is already in the
	// database is left out and Apply reports applied false.
	Apply func(tx *sql.Tx, rec history.Record, w DBWrite) (applied bool, err error)
}

// DBWrite is what Apply is told about the write it is part of.
type DBWrite struct {
	// Unit is the id of the unit of work writing.
	Unit string
	// Once asks for the idempotent form of the write.
	Once bool
}

// PositionsTable is the table the engine keeps input positions and owner
// epochs in, beside the application's tables, under the guarantees that
// keep positions in the database.
const PositionsTable = "eosim_positions"
