// Package ordersdb owns the orders pipeline writing to a database: the
// orders of scenarios/orders, read from a topic an upstream exactly-once
// application writes transactionally, each taking its quantity from the
// product's stock in an inventory table and leaving one row in a ledger
// table. It owns the schema, the write of one order (the Apply of its
// engine.Database), the transactional input with its aborted transactions,
// and the Spec the database checkers judge by.
//
// It reuses scenarios/orders for the record format, the generator, the
// partitioning and the model fold: only the sink differs.
package ordersdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/eosim/eosim/engine"
	"github.com/eosim/eosim/history"
	"github.com/eosim/eosim/invariants"
	"github.com/eosim/eosim/scenarios/orders"
)

// The application's tables.
const (
	// InventoryTable holds one row per product: its stock and a version
	// bumped by every write.
	InventoryTable = "inventory"
	// LedgerTable holds one row per applied order. Its order_id is
	// deliberately not unique, so a mode that applies an order twice
	// leaves two rows for the checkers to find.
	LedgerTable = "ledger"
)

// Schema creates the tables; every statement is idempotent.
func Schema() []string {
	return []string{
		`CREATE TABLE IF NOT EXISTS inventory (
			product TEXT PRIMARY KEY,
			stock INTEGER NOT NULL,
			version INTEGER NOT NULL)`,
		`CREATE TABLE IF NOT EXISTS ledger (
			id INTEGER PRIMARY KEY AUTOINCREMENT,
			order_id TEXT NOT NULL,
			product TEXT NOT NULL,
			quantity INTEGER NOT NULL,
			customer TEXT NOT NULL,
			written_by TEXT NOT NULL)`,
		`CREATE INDEX IF NOT EXISTS ledger_order_id ON ledger (order_id)`,
	}
}

// Topology returns the pipeline's topology: the orders topic into the
// database. topic is the orders topic; initialStock is every product's
// stock before its first order.
func Topology(topic string, initialStock int64) *engine.Topology {
	return &engine.Topology{
		Source: topic,
		Database: &engine.Database{
			Schema:  Schema(),
			InputID: inputID,
			Apply: func(tx *sql.Tx, rec history.Record, w engine.DBWrite) (bool, error) {
				return apply(tx, rec, w, initialStock)
			},
		},
	}
}

// inputID is an order record's identity: its order id.
func inputID(rec history.Record) (string, error) {
	o, err := orders.Decode(rec.Value)
	return o.ID, err
}

// apply writes one order inside tx: its quantity taken from the product's
// stock, under a version check, and its ledger row. With w.Once an order
// already in the ledger is left out (applied false).
func apply(tx *sql.Tx, rec history.Record, w engine.DBWrite, initialStock int64) (bool, error) {
	o, err := orders.Decode(rec.Value)
	if err != nil {
		return false, err
	}
	if w.Once {
		var one int
		err := tx.QueryRow(`SELECT 1 FROM ledger WHERE order_id = ? LIMIT 1`, o.ID).Scan(&one)
		switch {
		case err == nil:
			return false, nil
		case !errors.Is(err, sql.ErrNoRows):
			return false, fmt.Errorf("looking up order %s in the ledger: %w", o.ID, err)
		}
	}
	stock, version, err := readStock(tx, o.Product, initialStock)
	if err != nil {
		return false, err
	}
	if err := writeStock(tx, o.Product, stock-o.Quantity, version); err != nil {
		return false, fmt.Errorf("order %s: %w", o.ID, err)
	}
	if _, err := tx.Exec(`INSERT INTO ledger (order_id, product, quantity, customer, written_by) VALUES (?, ?, ?, ?, ?)`,
		o.ID, o.Product, o.Quantity, o.Customer, w.Unit); err != nil {
		return false, fmt.Errorf("writing order %s to the ledger: %w", o.ID, err)
	}
	return true, nil
}

// readStock returns a product's stock and version, inserting the row of a
// product not seen before (initialStock, version 0).
func readStock(tx *sql.Tx, product string, initialStock int64) (stock, version int64, err error) {
	err = tx.QueryRow(`SELECT stock, version FROM inventory WHERE product = ?`, product).Scan(&stock, &version)
	if err == nil {
		return stock, version, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, 0, fmt.Errorf("reading the stock of %s: %w", product, err)
	}
	if _, err := tx.Exec(`INSERT INTO inventory (product, stock, version) VALUES (?, ?, 0)`, product, initialStock); err != nil {
		return 0, 0, fmt.Errorf("inserting the stock of %s: %w", product, err)
	}
	return initialStock, 0, nil
}

// writeStock sets a product's stock if its version is still the one read,
// and bumps the version; a row changed since (a concurrent writer) is an
// error.
func writeStock(tx *sql.Tx, product string, stock, version int64) error {
	res, err := tx.Exec(`UPDATE inventory SET stock = ?, version = version + 1 WHERE product = ? AND version = ?`,
		stock, product, version)
	if err != nil {
		return fmt.Errorf("updating the stock of %s: %w", product, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("updating the stock of %s: %w", product, err)
	}
	if n != 1 {
		return fmt.Errorf("updating the stock of %s: version %d is no longer current (a concurrent writer)", product, version)
	}
	return nil
}

// Spec returns what the checkers judge the pipeline by. The model (input
// identity, state key, initial value and fold) is orders.Spec's; the state
// and the effects are read from the database instead of topics.
func Spec(topic string, initialStock int64) invariants.Spec {
	model := orders.Spec("", orders.TopicsWithPrefix(""), initialStock)
	return invariants.Spec{
		InputTopic: topic,
		InputID:    model.InputID,
		StateKey:   model.StateKey,
		Initial:    model.Initial,
		Apply:      model.Apply,
		Database: &invariants.DatabaseSpec{
			EffectTable: LedgerTable,
			EffectInput: func(r history.Row) (string, error) {
				return column(r, "order_id")
			},
			StateTable: InventoryTable,
			Varying:    []string{"id", "written_by"},
			StateRow: func(r history.Row) (string, string, error) {
				product, err := column(r, "product")
				if err != nil {
					return "", "", err
				}
				stock, err := column(r, "stock")
				if err != nil {
					return "", "", err
				}
				return product, stock, nil
			},
		},
		DBOracle: func(inputs []history.Record) (map[string][]history.Row, error) {
			return engine.RunSerialDatabase(context.Background(), Topology(topic, initialStock), inputs)
		},
		Checkers: []string{invariants.DBFold, invariants.DBDuplicateEffect, invariants.DBLostEffect,
			invariants.DBPhantomEffect, invariants.AbortedRead},
	}
}

// column returns a row's value in column name, an error if it has none.
func column(r history.Row, name string) (string, error) {
	v, ok := r.Values[name]
	if !ok {
		return "", fmt.Errorf("%s row %v has no column %s", r.Table, r.Values, name)
	}
	return v, nil
}
