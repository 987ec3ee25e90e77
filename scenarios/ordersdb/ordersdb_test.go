package ordersdb

import (
	"database/sql"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/eosim/eosim/engine"
	"github.com/eosim/eosim/history"
	"github.com/eosim/eosim/scenarios/orders"
)

const initialStock = 100

// openDB opens a fresh SQLite file with the schema.
func openDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "app.db"))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	for _, s := range Schema() {
		_, err := db.Exec(s)
		require.NoError(t, err, s)
	}
	return db
}

func record(o orders.Order) history.Record {
	return history.Record{Topic: orders.OrdersTopic, Key: o.Product, Value: o.Encode()}
}

// applyTx applies o in a transaction of its own, committed if Apply
// succeeded and rolled back if not.
func applyTx(t *testing.T, db *sql.DB, o orders.Order, w engine.DBWrite) (bool, error) {
	t.Helper()
	tx, err := db.Begin()
	require.NoError(t, err)
	applied, err := Topology(orders.OrdersTopic, initialStock).Database.Apply(tx, record(o), w)
	if err != nil {
		require.NoError(t, tx.Rollback())
		return false, err
	}
	require.NoError(t, tx.Commit())
	return applied, nil
}

func stock(t *testing.T, db *sql.DB, product string) (stock, version int64) {
	t.Helper()
	require.NoError(t, db.QueryRow(`SELECT stock, version FROM inventory WHERE product = ?`, product).Scan(&stock, &version))
	return stock, version
}

// ledgerRow is a ledger row without its id.
type ledgerRow struct {
	order, product, customer, writtenBy string
	quantity                            int64
}

func ledger(t *testing.T, db *sql.DB) []ledgerRow {
	t.Helper()
	rows, err := db.Query(`SELECT order_id, product, quantity, customer, written_by FROM ledger ORDER BY id`)
	require.NoError(t, err)
	defer rows.Close()
	var out []ledgerRow
	for rows.Next() {
		var r ledgerRow
		require.NoError(t, rows.Scan(&r.order, &r.product, &r.quantity, &r.customer, &r.writtenBy))
		out = append(out, r)
	}
	require.NoError(t, rows.Err())
	return out
}

var (
	o1 = orders.Order{ID: "o00001", Product: "p001", Customer: "c007", Quantity: 3}
	o2 = orders.Order{ID: "o00002", Product: "p001", Customer: "c008", Quantity: 5}
)

func TestSchemaRunsTwice(t *testing.T) {
	db := openDB(t)
	for _, s := range Schema() {
		_, err := db.Exec(s)
		require.NoError(t, err, s)
	}
}

func TestApplyTakesStockAndWritesLedger(t *testing.T) {
	db := openDB(t)
	for i, o := range []orders.Order{o1, o2} {
		applied, err := applyTx(t, db, o, engine.DBWrite{Unit: "a-" + string(rune('1'+i)), Once: true})
		require.NoError(t, err)
		require.True(t, applied)
	}
	s, v := stock(t, db, "p001")
	require.Equal(t, int64(initialStock-3-5), s)
	require.Equal(t, int64(2), v)
	require.Equal(t, []ledgerRow{
		{order: "o00001", product: "p001", customer: "c007", writtenBy: "a-1", quantity: 3},
		{order: "o00002", product: "p001", customer: "c008", writtenBy: "a-2", quantity: 5},
	}, ledger(t, db))
}

func TestApplyOnceSkipsAnOrderInTheLedger(t *testing.T) {
	db := openDB(t)
	applied, err := applyTx(t, db, o1, engine.DBWrite{Unit: "a-1", Once: true})
	require.NoError(t, err)
	require.True(t, applied)
	applied, err = applyTx(t, db, o1, engine.DBWrite{Unit: "b-1", Once: true})
	require.NoError(t, err)
	require.False(t, applied, "an order already in the ledger was applied again")
	s, v := stock(t, db, "p001")
	require.Equal(t, int64(initialStock-3), s)
	require.Equal(t, int64(1), v)
	require.Len(t, ledger(t, db), 1)
}

// Without Once nothing stops a second write: the mistake modes rely on it,
// and the checkers must see its second ledger row.
func TestApplyWithoutOnceWritesTwice(t *testing.T) {
	db := openDB(t)
	for _, unit := range []string{"a-1", "b-1"} {
		applied, err := applyTx(t, db, o1, engine.DBWrite{Unit: unit})
		require.NoError(t, err)
		require.True(t, applied)
	}
	s, _ := stock(t, db, "p001")
	require.Equal(t, int64(initialStock-3-3), s)
	l := ledger(t, db)
	require.Len(t, l, 2)
	require.Equal(t, []string{"a-1", "b-1"}, []string{l[0].writtenBy, l[1].writtenBy})
	require.Equal(t, l[0].order, l[1].order)
}

// A writer that read a version another transaction has since bumped is
// refused.
func TestWriteStockRefusesAStaleVersion(t *testing.T) {
	db := openDB(t)
	_, err := applyTx(t, db, o1, engine.DBWrite{Unit: "a-1"})
	require.NoError(t, err)

	tx, err := db.Begin()
	require.NoError(t, err)
	read, version, err := readStock(tx, "p001", initialStock)
	require.NoError(t, err)
	require.NoError(t, tx.Commit())

	_, err = applyTx(t, db, o2, engine.DBWrite{Unit: "b-1"}) // the other writer
	require.NoError(t, err)

	tx, err = db.Begin()
	require.NoError(t, err)
	err = writeStock(tx, "p001", read-1, version)
	require.ErrorContains(t, err, "no longer current")
	require.NoError(t, tx.Rollback())
	s, v := stock(t, db, "p001")
	require.Equal(t, int64(initialStock-3-5), s)
	require.Equal(t, int64(2), v)
}

// Apply surfaces the version check: a trigger plays a writer that bumps the
// version between Apply's read and its update.
func TestApplyRefusesAConcurrentWriter(t *testing.T) {
	db := openDB(t)
	_, err := db.Exec(`CREATE TRIGGER concurrent AFTER INSERT ON inventory BEGIN
		UPDATE inventory SET version = version + 1 WHERE product = NEW.product; END`)
	require.NoError(t, err)
	_, err = applyTx(t, db, o1, engine.DBWrite{Unit: "a-1", Once: true})
	require.ErrorContains(t, err, "concurrent writer")
	require.ErrorContains(t, err, "o00001")
	require.Empty(t, ledger(t, db))
}

func TestApplyRefusesABadRecord(t *testing.T) {
	db := openDB(t)
	tx, err := db.Begin()
	require.NoError(t, err)
	defer func() { require.NoError(t, tx.Rollback()) }()
	_, err = Topology(orders.OrdersTopic, initialStock).Database.Apply(tx, history.Record{Value: "not json"}, engine.DBWrite{Unit: "a-1"})
	require.ErrorContains(t, err, "decoding order")
}

func TestInputIDIsTheOrderID(t *testing.T) {
	id, err := Topology(orders.OrdersTopic, initialStock).Database.InputID(record(o1))
	require.NoError(t, err)
	require.Equal(t, "o00001", id)
}

func TestSpecReadsTheTables(t *testing.T) {
	s := Spec(orders.OrdersTopic, initialStock)
	require.Equal(t, orders.OrdersTopic, s.InputTopic)
	require.Empty(t, s.OutputTopic)
	require.Empty(t, s.ChangelogTopic)
	require.Equal(t, LedgerTable, s.Database.EffectTable)
	require.Equal(t, InventoryTable, s.Database.StateTable)

	id, err := s.Database.EffectInput(history.Row{Table: LedgerTable, Values: map[string]string{"order_id": "o00001"}})
	require.NoError(t, err)
	require.Equal(t, "o00001", id)
	_, err = s.Database.EffectInput(history.Row{Table: LedgerTable, Values: map[string]string{}})
	require.ErrorContains(t, err, "order_id")

	k, v, err := s.Database.StateRow(history.Row{Table: InventoryTable, Values: map[string]string{"product": "p001", "stock": "97", "version": "1"}})
	require.NoError(t, err)
	require.Equal(t, []string{"p001", "97"}, []string{k, v})
	_, _, err = s.Database.StateRow(history.Row{Table: InventoryTable, Values: map[string]string{"product": "p001"}})
	require.ErrorContains(t, err, "stock")

	// The model is orders': one order takes its quantity from the stock.
	key, err := s.StateKey(record(o1))
	require.NoError(t, err)
	require.Equal(t, "p001", key)
	after, err := s.Apply(s.Initial(key), record(o1))
	require.NoError(t, err)
	require.Equal(t, "97", after)
}

// The model and the database agree: the inventory after applying orders
// is the Spec's fold of them.
func TestDatabaseMatchesTheModel(t *testing.T) {
	w := orders.DefaultWorkload()
	w.Orders = 200
	w.InitialStock = initialStock
	os, err := orders.Generate(3, w)
	require.NoError(t, err)
	db := openDB(t)
	s := Spec(orders.OrdersTopic, initialStock)
	model := map[string]string{}
	for _, o := range os {
		_, err := applyTx(t, db, o, engine.DBWrite{Unit: "a-1", Once: true})
		require.NoError(t, err)
		state, ok := model[o.Product]
		if !ok {
			state = s.Initial(o.Product)
		}
		model[o.Product], err = s.Apply(state, record(o))
		require.NoError(t, err)
	}
	rows, err := db.Query(`SELECT product, stock FROM inventory`)
	require.NoError(t, err)
	defer rows.Close()
	got := map[string]string{}
	for rows.Next() {
		var p, st string
		require.NoError(t, rows.Scan(&p, &st))
		got[p] = st
	}
	require.NoError(t, rows.Err())
	require.Equal(t, model, got)
	require.Len(t, ledger(t, db), len(os))
}

func TestTransactionsCommitEveryOrderOnceInProduceOrder(t *testing.T) {
	const partitions, batch = 4, 10
	w := orders.DefaultWorkload()
	os, err := orders.Generate(1, w)
	require.NoError(t, err)
	txns := transactions(os, w, 1, partitions, batch)

	// The committed transactions hold the orders in orders.Produce's
	// order: by partition, then as generated, batch at a time.
	var want, got []orders.Order
	for p := range int32(partitions) {
		for _, o := range os {
			if orders.Partition(o.Product, partitions) == p {
				want = append(want, o)
			}
		}
	}
	aborted, committed, extra := 0, 0, map[string]bool{}
	for _, tx := range txns {
		require.NotEmpty(t, tx.orders)
		require.LessOrEqual(t, len(tx.orders), batch)
		for _, o := range tx.orders {
			require.Equal(t, tx.partition, orders.Partition(o.Product, partitions), "order %s on the wrong partition", o.ID)
		}
		if !tx.abort {
			committed++
			got = append(got, tx.orders...)
			continue
		}
		aborted++
		for _, o := range tx.orders {
			require.True(t, strings.HasPrefix(o.ID, "x"), o.ID)
			require.False(t, extra[o.ID], "aborted order id %s twice", o.ID)
			extra[o.ID] = true
			require.GreaterOrEqual(t, o.Quantity, int64(1))
			require.LessOrEqual(t, o.Quantity, w.MaxQuantity)
		}
	}
	require.Equal(t, want, got)
	t.Logf("%d orders, %d partitions, batch %d: %d committed and %d aborted transactions, %d aborted orders",
		len(os), partitions, batch, committed, aborted, len(extra))
	require.Positive(t, aborted)
	require.InDelta(t, 1.0/abortOneIn, float64(aborted)/float64(aborted+committed), 0.06)

	require.Equal(t, txns, transactions(os, w, 1, partitions, batch), "the same seed gave another layout")
	require.NotEqual(t, txns, transactions(os, w, 2, partitions, batch), "another seed gave the same layout")
	require.True(t, slices.ContainsFunc(txns, func(tx txn) bool { return tx.abort && len(tx.orders) > 1 }))
}
