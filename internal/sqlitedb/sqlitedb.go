// Package sqlitedb owns how eosim opens an application's SQLite database
// (modernc.org/sqlite, pure Go) and how it reads a database back as rows:
// one place for the connection settings the engine's instances, the
// simulator and the judge share.
package sqlitedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"sort"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/eosim/eosim/history"
)

// Open opens the database file at path, creating it if needed, with the
// settings every connection of a run uses:
//   - WAL journal: a reader never blocks the writer, as on a database server;
//   - synchronous=OFF: a process crash loses nothing committed (the OS
//     holds the writes), which is the failure a run simulates; a power
//     loss, which would need fsync, is not simulated;
//   - busy_timeout=0 and BEGIN IMMEDIATE: a transaction takes the write
//     lock at its start, and a locked database answers SQLITE_BUSY at
//     once rather than after a wait;
//   - one connection, so a *sql.DB is one client session.
func Open(path string) (*sql.DB, error) {
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(OFF)")
	q.Add("_pragma", "busy_timeout(0)")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("opening database %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("opening database %s: %w", path, err)
	}
	return db, nil
}

// IsBusy reports whether err is SQLite's SQLITE_BUSY (the database is
// locked by another connection).
func IsBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
}

// Check opens the database at path read-only and verifies it: a file that
// is not a SQLite database, or whose integrity check fails, is an error.
// A missing file is an error too.
func Check(ctx context.Context, path string) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("database %s: %w", path, err)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return fmt.Errorf("database %s: %w", path, err)
	}
	defer db.Close()
	var res string
	if err := db.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&res); err != nil {
		return fmt.Errorf("database %s: %w", path, err)
	}
	if res != "ok" {
		return fmt.Errorf("database %s: integrity check: %s", path, res)
	}
	return nil
}

// ReadTables reads every table of db (SQLite's own excepted) as rows in
// rowid order, each value rendered as text and NULL as "".
func ReadTables(ctx context.Context, db *sql.DB) (map[string][]history.Row, error) {
	rows, err := db.QueryContext(ctx, "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
	if err != nil {
		return nil, fmt.Errorf("listing tables: %w", err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("listing tables: %w", err)
		}
		names = append(names, n)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, fmt.Errorf("listing tables: %w", err)
	}
	sort.Strings(names)
	tables := make(map[string][]history.Row, len(names))
	for _, n := range names {
		rs, err := readTable(ctx, db, n)
		if err != nil {
			return nil, err
		}
		tables[n] = rs
	}
	return tables, nil
}

func readTable(ctx context.Context, db *sql.DB, table string) ([]history.Row, error) {
	// The name comes from sqlite_schema; quoting keeps any name a name.
	rows, err := db.QueryContext(ctx, "SELECT * FROM "+quoteIdent(table)+" ORDER BY rowid")
	if err != nil {
		return nil, fmt.Errorf("reading table %s: %w", table, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, fmt.Errorf("reading table %s: %w", table, err)
	}
	var out []history.Row
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("reading table %s: %w", table, err)
		}
		r := history.Row{Table: table, Values: make(map[string]string, len(cols))}
		for i, c := range cols {
			r.Values[c] = vals[i].String
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading table %s: %w", table, err)
	}
	return out, nil
}

// quoteIdent quotes an SQL identifier, doubling any quote in it.
func quoteIdent(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }
