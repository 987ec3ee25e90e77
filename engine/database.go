package engine

import (
	"database/sql"
	"errors"

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

// DBCall names a database call a fault can be aimed at.
type DBCall string

// The database calls of a transaction.
const (
	DBBegin  DBCall = "begin"
	DBCommit DBCall = "commit"
)

// DBSite is a database call an instance is about to make.
type DBSite struct {
	// Unit is the unit of work the transaction belongs to; empty for a
	// claim on assignment.
	Unit    string
	Purpose string
	Call    DBCall
}

// DBFault is what a DBHook does to one database call. The hook itself may
// hold the call (a slow database) or lock the database from a connection
// of its own before returning (a busy one): SQLite then answers
// SQLITE_BUSY for real.
type DBFault struct {
	// LoseAnswer: the call is made and its answer lost, as when the
	// connection to a database server drops once the request is sent. The
	// instance gets ErrDBAnswerLost.
	LoseAnswer bool
	// Done, if set, is called with the call's own error once it returned
	// (before any answer is lost): whoever locked the database lets go
	// there, and learns whether the fault took effect.
	Done func(error)
}

// DBHook decides what goes wrong at a database call; nil: nothing.
type DBHook func(DBSite) DBFault

// ErrDBAnswerLost is the error of a database call whose answer was lost:
// the call may have taken effect.
var ErrDBAnswerLost = errors.New("the database's answer was lost")

// errDBRefused is a write's fencing check failing: another instance
// claimed the partition since.
var errDBRefused = errors.New("refused: another instance owns the partition now")

// The purposes of a database transaction (history.DBTxn.Purpose).
const (
	dbClaim = "claim"
	dbWrite = "write"
)
