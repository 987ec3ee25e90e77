// Package balances is a worked example of testing an application that
// writes to a database with eosim (package eosimtest): payments, keyed by
// account, into a SQLite table of balances and a table of the payments
// applied. How the database write is tied to the input positions is the
// guarantee: db_positions_fenced keeps the positions in the database and
// fences a zombie; db_then_kafka commits the database, then the offsets to
// Kafka, and a crash between the two applies a payment twice. Its test
// shows the one pass and the other caught.
package balances

import (
	"database/sql"
	"fmt"
	"math/rand/v2"
	"strconv"

	"github.com/eosim/eosim/engine"
	"github.com/eosim/eosim/history"
	"github.com/eosim/eosim/scenarios"
)

// PaymentsTopic is the input topic.
const PaymentsTopic = "payments"

// App is the application: payments into the database.
func App() scenarios.App {
	return scenarios.App{
		Name:     "balances",
		Topology: topology,
		Input:    payments,
		// The payments table's rowid and the unit that wrote a row
		// differ between runs that did the same.
		Varying: []string{"id", "unit"},
	}
}

func topology(prefix string) *engine.Topology {
	return &engine.Topology{
		Source: prefix + PaymentsTopic,
		Database: &engine.Database{
			Schema: []string{
				`CREATE TABLE IF NOT EXISTS balances (account TEXT PRIMARY KEY, balance INTEGER NOT NULL)`,
				`CREATE TABLE IF NOT EXISTS payments (id INTEGER PRIMARY KEY AUTOINCREMENT,
					payment TEXT NOT NULL, account TEXT NOT NULL, amount INTEGER NOT NULL, unit TEXT NOT NULL)`,
			},
			InputID: paymentID,
			Apply:   apply,
		},
	}
}

// paymentID is a payment's identity: its value is "<id>:<amount>".
func paymentID(r history.Record) (string, error) {
	id, _, err := parse(r.Value)
	return id, err
}

func parse(v string) (id string, amount int64, err error) {
	var n int
	if _, err := fmt.Sscanf(v, "%d:%d", &n, &amount); err != nil {
		return "", 0, fmt.Errorf("payment %q: %w", v, err)
	}
	return strconv.Itoa(n), amount, nil
}

// apply adds a payment to its account's balance and records it. Its
// idempotent form (w.Once, for db_idempotent) skips a payment already
// recorded.
func apply(tx *sql.Tx, r history.Record, w engine.DBWrite) (bool, error) {
	id, amount, err := parse(r.Value)
	if err != nil {
		return false, err
	}
	if w.Once {
		var n int
		if err := tx.QueryRow(`SELECT COUNT(*) FROM payments WHERE payment = ?`, id).Scan(&n); err != nil {
			return false, err
		}
		if n > 0 {
			return false, nil
		}
	}
	if _, err := tx.Exec(`INSERT INTO balances (account, balance) VALUES (?, ?)
		ON CONFLICT(account) DO UPDATE SET balance = balance + excluded.balance`, r.Key, amount); err != nil {
		return false, err
	}
	if _, err := tx.Exec(`INSERT INTO payments (payment, account, amount, unit) VALUES (?, ?, ?, ?)`, id, r.Key, amount, w.Unit); err != nil {
		return false, err
	}
	return true, nil
}

// payments draws n payments of 1 to 100 from seed among 20 accounts, each
// with an id of its own.
func payments(seed uint64, n int) []scenarios.Input {
	rng := rand.New(rand.NewPCG(seed, 0xba1a))
	in := make([]scenarios.Input, n)
	for i := range in {
		in[i] = scenarios.Input{
			Key:   fmt.Sprintf("account-%02d", rng.IntN(20)),
			Value: fmt.Sprintf("%d:%d", i, 1+rng.IntN(100)),
		}
	}
	return in
}
