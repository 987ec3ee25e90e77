package invariants

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/eosim/eosim/history"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// The test application's database: a ledger row per applied order, and an
// inventory row per product holding its stock (testSpec's model).
const (
	ledger    = "ledger"
	inventory = "inventory"
)

var dbNames = []string{DBFold, DBDuplicateEffect, DBLostEffect, DBPhantomEffect}

func dbSpec() Spec {
	s := testSpec()
	s.Checkers = slices.Clone(dbNames)
	s.Database = &DatabaseSpec{
		EffectTable: ledger,
		EffectInput: func(r history.Row) (string, error) {
			if id := r.Values["order_id"]; id != "" {
				return id, nil
			}
			return "", errors.New("no order_id")
		},
		StateTable: inventory,
		StateRow: func(r history.Row) (string, string, error) {
			p, s := r.Values["product"], r.Values["stock"]
			if p == "" || s == "" {
				return "", "", errors.New("no product or stock")
			}
			return p, s, nil
		},
	}
	return s
}

// order is an input record of the test application.
func order(p int32, o int64, id, product string, qty int) history.Record {
	return history.Record{Topic: orders, Partition: p, Offset: o, Key: product, Value: fmt.Sprintf("%s:%d", id, qty)}
}

func orderID(r history.Record) string {
	id, _, _ := strings.Cut(r.Value, ":")
	return id
}

// dbTables returns the tables of a database that wrote a ledger row for each
// of written, in that order, and took the stock of each of taken, products
// in the order first taken from.
func dbTables(written, taken []history.Record) map[string][]history.Row {
	var led []history.Row
	for i, r := range written {
		_, q, _ := strings.Cut(r.Value, ":")
		led = append(led, history.Row{Table: ledger, Values: map[string]string{
			"id": strconv.Itoa(i + 1), "order_id": orderID(r), "product": r.Key, "quantity": q,
		}})
	}
	stocks := map[string]string{}
	var products []string
	for _, r := range taken {
		prev, ok := stocks[r.Key]
		if !ok {
			prev = initial
			products = append(products, r.Key)
		}
		next, err := testSpec().Apply(prev, r)
		if err != nil {
			panic(err)
		}
		stocks[r.Key] = next
	}
	inv := []history.Row{}
	for _, p := range products {
		inv = append(inv, history.Row{Table: inventory, Values: map[string]string{"product": p, "stock": stocks[p]}})
	}
	return map[string][]history.Row{ledger: led, inventory: inv}
}

func dbEvent(instance string, t history.DBTxn) history.Event {
	return history.Event{Kind: history.KindDB, Instance: instance, DB: &t}
}

// dbBase is a small correct run of the database application: one aborted
// input, a rolled-back write retried, a write whose commit answer was lost
// but which did commit, a refused write, and a product seeded at its
// initial stock that no order touched.
//
//	orders/0: o1 p1 3, o3 p3 1, o4 p1 2, o6 p1 4 (aborted)
//	orders/1: o2 p2 5, o5 p2 1
//	ledger:   o1 o3 o2 o5 o4      inventory: p1 95, p3 99, p2 94, p4 100
func dbBase() Run {
	o1, o3, o4, o6 := order(0, 0, "o1", "p1", 3), order(0, 1, "o3", "p3", 1), order(0, 2, "o4", "p1", 2), order(0, 3, "o6", "p1", 4)
	o2, o5 := order(1, 0, "o2", "p2", 5), order(1, 1, "o5", "p2", 1)
	applied := []history.Record{o1, o3, o2, o5, o4}
	tables := dbTables(applied, applied)
	tables[inventory] = append(tables[inventory], history.Row{Table: inventory, Values: map[string]string{"product": "p4", "stock": initial}})
	h := history.History{Events: []history.Event{
		dbEvent("a", history.DBTxn{Purpose: "claim", Outcome: history.DBCommitted, Positions: []history.Offset{{Topic: orders, Partition: 0}}, Epoch: 1}),
		dbEvent("a", history.DBTxn{Unit: "a.1#1", Purpose: dbWrite, Outcome: history.DBCommitted, Applied: []string{"o1", "o3"}}),
		dbEvent("b", history.DBTxn{Unit: "b.1#1", Purpose: dbWrite, Outcome: history.DBRolledBack, Applied: []string{"o2"}}),
		dbEvent("b", history.DBTxn{Unit: "b.1#2", Purpose: dbWrite, Outcome: history.DBCommitted, Applied: []string{"o2"}}),
		dbEvent("b", history.DBTxn{Unit: "b.1#3", Purpose: dbWrite, Outcome: history.DBUnknown, Applied: []string{"o5"}}),
		dbEvent("z", history.DBTxn{Unit: "z.1#1", Purpose: dbWrite, Outcome: history.DBRefused, Applied: []string{"o6"}}),
		dbEvent("a", history.DBTxn{Unit: "a.1#2", Purpose: dbWrite, Outcome: history.DBCommitted, Applied: []string{"o4"}, Skipped: []string{"o3"}}),
	}}
	for i := range h.Events {
		h.Events[i].Seq = i
	}
	return Run{
		History: h,
		Snapshot: history.Snapshot{
			Committed:   map[string][]history.Record{orders: {o1, o3, o4, o2, o5}},
			Uncommitted: map[string][]history.Record{orders: {o1, o3, o4, o6, o2, o5}},
			Tables:      tables,
		},
		Complete: true,
	}
}

// addRow appends a row to a table.
func addRow(r *Run, table string, kv ...string) history.Row {
	row := history.Row{Table: table, Values: map[string]string{}}
	for i := 0; i+1 < len(kv); i += 2 {
		row.Values[kv[i]] = kv[i+1]
	}
	r.Snapshot.Tables[table] = append(slices.Clone(r.Snapshot.Tables[table]), row)
	return row
}

// ledgerRow appends a ledger row for order id.
func ledgerRow(r *Run, id string) history.Row { return addRow(r, ledger, "order_id", id) }

// dropRows removes the rows of table whose column col is v.
func dropRows(r *Run, table, col, v string) {
	r.Snapshot.Tables[table] = slices.DeleteFunc(slices.Clone(r.Snapshot.Tables[table]), func(x history.Row) bool {
		return x.Values[col] == v
	})
}

// setStock sets the stock of product in the inventory table.
func setStock(r *Run, product, stock string) {
	rows := slices.Clone(r.Snapshot.Tables[inventory])
	for i, x := range rows {
		if x.Values["product"] == product {
			rows[i] = history.Row{Table: inventory, Values: map[string]string{"product": product, "stock": stock}}
		}
	}
	r.Snapshot.Tables[inventory] = rows
}

func write(r *Run, unit, outcome string, ids ...string) {
	r.History.Events = append(slices.Clone(r.History.Events), dbEvent(strings.Split(unit, ".")[0],
		history.DBTxn{Unit: unit, Purpose: dbWrite, Outcome: outcome, Applied: ids}))
}

func dbRow(r Run, table, col, v string) history.Row {
	for _, x := range r.Snapshot.Tables[table] {
		if x.Values[col] == v {
			return x
		}
	}
	panic(fmt.Sprintf("no row of %s with %s %q", table, col, v))
}

// dbcase is one table case for a database checker: a mutation of dbSpec
// and dbBase, and the summaries expected (a substring each, in order), or
// the reason it cannot judge.
type dbcase struct {
	name    string
	mut     func(s *Spec, r *Run)
	want    []string
	unknown string
}

func runDBCases(t *testing.T, kind string, check func(Spec, Run) Result, cases []dbcase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, r := dbSpec(), dbBase()
			if tc.mut != nil {
				tc.mut(&s, &r)
			}
			res := check(s, r)
			require.Equal(t, res, check(s, r), "deterministic")
			if tc.unknown != "" {
				require.Contains(t, res.Unknown, tc.unknown)
				require.Empty(t, res.Anomalies, "an unknown judges nothing")
				return
			}
			require.Empty(t, res.Unknown)
			var got []string
			for _, a := range res.Anomalies {
				require.Equal(t, kind, a.Kind)
				require.NotContains(t, a.Summary, "\n")
				got = append(got, a.Summary)
			}
			require.Len(t, got, len(tc.want), "anomalies: %q", got)
			for i, w := range tc.want {
				require.Contains(t, got[i], w)
			}
		})
	}
}

// unjudgeable are the cases every database checker must report unknown
// rather than judge.
func unjudgeable() []dbcase {
	return []dbcase{
		{
			name:    "no database",
			mut:     func(s *Spec, _ *Run) { s.Database = nil },
			unknown: "the scenario has no database",
		},
		{
			name:    "database without a state table",
			mut:     func(s *Spec, _ *Run) { s.Database.StateRow = nil },
			unknown: "no state table or no StateRow",
		},
		{
			name:    "input topic not read",
			mut:     func(_ *Spec, r *Run) { delete(r.Snapshot.Committed, orders) },
			unknown: `the snapshot did not read input topic "orders"`,
		},
	}
}

func TestDBDuplicateEffect(t *testing.T) {
	runDBCases(t, DBDuplicateEffect, checkDBDuplicate, append(unjudgeable(), []dbcase{
		{name: "consistent database"},
		{
			name: "a retry wrote an effect again",
			mut: func(_ *Spec, r *Run) {
				ledgerRow(r, "o4")
				write(r, "b.2#1", history.DBCommitted, "o4")
			},
			want: []string{`input "o4" has 2 rows in ledger; units that wrote it: a.1#2, b.2#1`},
		},
		{
			name: "an unfinished run is judged too",
			mut: func(_ *Spec, r *Run) {
				ledgerRow(r, "o4")
				r.Complete = false
			},
			want: []string{`input "o4" has 2 rows in ledger; units that wrote it: a.1#2`},
		},
		{
			name: "one anomaly per input, sorted by id",
			mut: func(_ *Spec, r *Run) {
				ledgerRow(r, "o5")
				ledgerRow(r, "o1")
				ledgerRow(r, "o5")
			},
			want: []string{`input "o1" has 2 rows`, `input "o5" has 3 rows in ledger; units that wrote it: b.1#3`},
		},
		{
			name: "an aborted input written twice",
			mut: func(_ *Spec, r *Run) {
				ledgerRow(r, "o6")
				ledgerRow(r, "o6")
			},
			want: []string{`input "o6" has 2 rows in ledger (not a committed input: see db-phantom-effect); units that wrote it: none`},
		},
		{
			name:    "a row names no input",
			mut:     func(_ *Spec, r *Run) { addRow(r, ledger, "product", "p1") },
			unknown: "decoding row 5 of ledger: no order_id",
		},
		{
			name:    "an input does not decode",
			mut:     func(_ *Spec, r *Run) { r.Snapshot.Committed[orders][1].Value = "o3" },
			unknown: `decoding input orders/0@1: value "o3" is not id:qty`,
		},
		{
			name: "an aborted input does not decode",
			mut: func(_ *Spec, r *Run) {
				r.Snapshot.Uncommitted[orders] = slices.Clone(r.Snapshot.Uncommitted[orders])
				r.Snapshot.Uncommitted[orders][3].Value = "junk"
			},
			unknown: `decoding aborted input orders/0@3`,
		},
		{
			name:    "the snapshot holds no ledger",
			mut:     func(_ *Spec, r *Run) { delete(r.Snapshot.Tables, ledger) },
			unknown: `the snapshot holds no table "ledger" (tables: inventory)`,
		},
		{
			name:    "the snapshot holds no tables at all",
			mut:     func(_ *Spec, r *Run) { r.Snapshot.Tables = nil },
			unknown: `the snapshot holds no table "ledger" (tables: none)`,
		},
	}...))
}

// TestDBDuplicateEffectEvidence: the anomaly carries the input, every row,
// and the units whose committed or unknown writes claim the input, sorted
// and listed once; rolled-back, refused and claim transactions are not
// evidence.
func TestDBDuplicateEffectEvidence(t *testing.T) {
	r := dbBase()
	ledgerRow(&r, "o2")
	write(&r, "c.1#1", history.DBUnknown, "o2", "o5")
	write(&r, "c.1#1", history.DBCommitted, "o2")
	write(&r, "c.1#2", history.DBRefused, "o2")
	write(&r, "c.1#3", history.DBRolledBack, "o2")
	r.History.Events = append(r.History.Events, dbEvent("c", history.DBTxn{Unit: "c.1#4", Purpose: "claim", Outcome: history.DBCommitted, Applied: []string{"o2"}}))
	res := checkDBDuplicate(dbSpec(), r)
	require.Empty(t, res.Unknown)
	require.Len(t, res.Anomalies, 1)
	a := res.Anomalies[0]
	require.Equal(t, []history.Record{order(1, 0, "o2", "p2", 5)}, a.Records)
	require.Equal(t, []history.Row{r.Snapshot.Tables[ledger][2], r.Snapshot.Tables[ledger][5]}, a.Rows)
	require.Equal(t, "o2", a.Rows[0].Values["order_id"])
	require.Equal(t, []string{"b.1#2", "c.1#1"}, a.Units)
}

func TestDBLostEffect(t *testing.T) {
	runDBCases(t, DBLostEffect, checkDBLost, append(unjudgeable(), []dbcase{
		{name: "consistent database, aborted input without a row"},
		{
			name:    "an unfinished run cannot be judged",
			mut:     func(_ *Spec, r *Run) { dropRows(r, ledger, "order_id", "o3"); r.Complete = false },
			unknown: "run not complete",
		},
		{
			name: "a committed write whose row is missing",
			mut:  func(_ *Spec, r *Run) { dropRows(r, ledger, "order_id", "o3") },
			want: []string{`input "o3" (orders/0@1) has no row in ledger; units that claim to have written it: a.1#1`},
		},
		{
			name: "an input nobody wrote",
			mut:  func(_ *Spec, r *Run) { show(r, order(1, 2, "o7", "p2", 1)) },
			want: []string{`input "o7" (orders/1@2) has no row in ledger`},
		},
		{
			name: "one anomaly per input, sorted by id",
			mut: func(_ *Spec, r *Run) {
				for _, id := range []string{"o5", "o1", "o3"} {
					dropRows(r, ledger, "order_id", id)
				}
			},
			want: []string{`input "o1"`, `input "o3"`, `input "o5" (orders/1@1) has no row in ledger; units that claim to have written it: b.1#3`},
		},
		{
			name: "an empty ledger",
			mut:  func(_ *Spec, r *Run) { r.Snapshot.Tables[ledger] = nil },
			want: []string{`"o1"`, `"o2"`, `"o3"`, `"o4"`, `"o5"`},
		},
		{
			name:    "a row names no input",
			mut:     func(_ *Spec, r *Run) { addRow(r, ledger, "product", "p1") },
			unknown: "decoding row 5 of ledger",
		},
		{
			name:    "the snapshot holds no ledger",
			mut:     func(_ *Spec, r *Run) { delete(r.Snapshot.Tables, ledger) },
			unknown: `the snapshot holds no table "ledger"`,
		},
	}...))
}

// TestDBLostEffectEvidence: the anomaly carries the input and, when a write
// claims to have applied it, that unit.
func TestDBLostEffectEvidence(t *testing.T) {
	r := dbBase()
	dropRows(&r, ledger, "order_id", "o2")
	res := checkDBLost(dbSpec(), r)
	require.Len(t, res.Anomalies, 1)
	require.Equal(t, []history.Record{order(1, 0, "o2", "p2", 5)}, res.Anomalies[0].Records)
	require.Equal(t, []string{"b.1#2"}, res.Anomalies[0].Units)
	require.Empty(t, res.Anomalies[0].Rows)
}

func TestDBPhantomEffect(t *testing.T) {
	runDBCases(t, DBPhantomEffect, checkDBPhantom, append(unjudgeable(), []dbcase{
		{name: "consistent database"},
		{
			name: "an aborted input's effect",
			mut:  func(_ *Spec, r *Run) { ledgerRow(r, "o6") },
			want: []string{`1 row(s) in ledger record input "o6", which is an aborted input, orders/0@3; units that wrote it: none`},
		},
		{
			name: "an aborted input's effect, with its writer",
			mut: func(_ *Spec, r *Run) {
				ledgerRow(r, "o6")
				write(r, "c.1#1", history.DBCommitted, "o6")
			},
			want: []string{`which is an aborted input, orders/0@3; units that wrote it: c.1#1`},
		},
		{
			name: "an effect of no input",
			mut:  func(_ *Spec, r *Run) { ledgerRow(r, "o99") },
			want: []string{`1 row(s) in ledger record input "o99", which is no input in orders`},
		},
		{
			name: "an unfinished run is judged too, one anomaly per input, sorted by id",
			mut: func(_ *Spec, r *Run) {
				ledgerRow(r, "o99")
				ledgerRow(r, "o6")
				ledgerRow(r, "o99")
				r.Complete = false
			},
			want: []string{`input "o6", which is an aborted input`, `2 row(s) in ledger record input "o99"`},
		},
		{
			name: "input hidden from read_committed is aborted",
			mut:  func(_ *Spec, r *Run) { hide(r, orders, 1, 1) },
			want: []string{`input "o5", which is an aborted input, orders/1@1; units that wrote it: b.1#3`},
		},
		{
			name:    "a row names no input",
			mut:     func(_ *Spec, r *Run) { addRow(r, ledger, "product", "p1") },
			unknown: "decoding row 5 of ledger",
		},
	}...))
}

// TestDBPhantomEffectEvidence: the anomaly carries the aborted input and
// its rows.
func TestDBPhantomEffectEvidence(t *testing.T) {
	r := dbBase()
	row := ledgerRow(&r, "o6")
	res := checkDBPhantom(dbSpec(), r)
	require.Len(t, res.Anomalies, 1)
	require.Equal(t, []history.Record{order(0, 3, "o6", "p1", 4)}, res.Anomalies[0].Records)
	require.Equal(t, []history.Row{row}, res.Anomalies[0].Rows)

	r = dbBase()
	ledgerRow(&r, "o99")
	res = checkDBPhantom(dbSpec(), r)
	require.Len(t, res.Anomalies, 1)
	require.Empty(t, res.Anomalies[0].Records, "no input to show")
}

func TestDBFold(t *testing.T) {
	runDBCases(t, DBFold, checkDBFold, append(unjudgeable(), []dbcase{
		{name: "consistent database, a seeded product at its initial stock"},
		{
			name:    "an unfinished run cannot be judged",
			mut:     func(_ *Spec, r *Run) { setStock(r, "p2", "95"); r.Complete = false },
			unknown: "run not complete",
		},
		{
			name: "stock taken twice",
			mut:  func(_ *Spec, r *Run) { setStock(r, "p1", "93") },
			want: []string{`key "p1": inventory holds "93"; expected "95" (after all 2 inputs)`},
		},
		{
			name: "an aborted input's quantity taken",
			mut:  func(_ *Spec, r *Run) { setStock(r, "p1", "91") },
			want: []string{`key "p1": inventory holds "91"; expected "95"`},
		},
		{
			name: "one anomaly per key, sorted",
			mut: func(_ *Spec, r *Run) {
				setStock(r, "p3", "100")
				setStock(r, "p2", "99")
			},
			want: []string{`key "p2": inventory holds "99"; expected "94" (after all 2 inputs)`, `key "p3": inventory holds "100"; expected "99"`},
		},
		{
			name: "a key with input but no row",
			mut:  func(_ *Spec, r *Run) { dropRows(r, inventory, "product", "p3") },
			want: []string{`key "p3" has no row in inventory; expected "99" (after all 1 inputs)`},
		},
		{
			name: "a key no input touched, off its initial value",
			mut:  func(_ *Spec, r *Run) { setStock(r, "p4", "50") },
			want: []string{`key "p4": inventory holds "50"; expected "100" (no input touched it)`},
		},
		{
			name: "a key no input touched, at its initial value",
			mut:  func(_ *Spec, r *Run) { addRow(r, inventory, "product", "p9", "stock", initial) },
		},
		{
			name: "a key with two rows",
			mut:  func(_ *Spec, r *Run) { addRow(r, inventory, "product", "p1", "stock", "95") },
			want: []string{`key "p1" has 2 rows in inventory, values ["95" "95"]; expected one, "95" (after all 2 inputs)`},
		},
		{
			name: "the ledger does not matter",
			mut: func(_ *Spec, r *Run) {
				ledgerRow(r, "o1")
				dropRows(r, ledger, "order_id", "o2")
			},
		},
		{
			name:    "a state row does not decode",
			mut:     func(_ *Spec, r *Run) { addRow(r, inventory, "product", "p9") },
			unknown: "decoding row 4 of inventory: no product or stock",
		},
		{
			name:    "the model rejects an input",
			mut:     func(_ *Spec, r *Run) { r.Snapshot.Committed[orders][1].Value = "o3:x" },
			unknown: `model cannot apply input orders/0@1 to "100"`,
		},
		{
			name:    "an input without a key",
			mut:     func(_ *Spec, r *Run) { r.Snapshot.Committed[orders][0].Key = "" },
			unknown: "state key of input orders/0@0: no product key",
		},
		{
			name:    "the snapshot holds no inventory",
			mut:     func(_ *Spec, r *Run) { delete(r.Snapshot.Tables, inventory) },
			unknown: `the snapshot holds no table "inventory" (tables: ledger)`,
		},
	}...))
}

// TestDBFoldEvidence: the anomaly carries the key's row and its committed
// inputs in (partition, offset) order, never an aborted one.
func TestDBFoldEvidence(t *testing.T) {
	r := dbBase()
	setStock(&r, "p1", "91")
	res := checkDBFold(dbSpec(), r)
	require.Len(t, res.Anomalies, 1)
	a := res.Anomalies[0]
	require.Equal(t, []history.Record{order(0, 0, "o1", "p1", 3), order(0, 2, "o4", "p1", 2)}, a.Records)
	require.Equal(t, []history.Row{dbRow(r, inventory, "product", "p1")}, a.Rows)

	r = dbBase()
	dropRows(&r, inventory, "product", "p2")
	res = checkDBFold(dbSpec(), r)
	require.Len(t, res.Anomalies, 1)
	require.Empty(t, res.Anomalies[0].Rows, "no row to show")
	require.Len(t, res.Anomalies[0].Records, 2)
}

// TestDBFoldCapsEvidence: a key with many inputs carries only the first
// maxFoldInputs of them, and its summary says so.
func TestDBFoldCapsEvidence(t *testing.T) {
	var ins []history.Record
	for i := range 25 {
		ins = append(ins, order(0, int64(i), fmt.Sprintf("o%02d", i), "p1", 1))
	}
	r := Run{
		Snapshot: history.Snapshot{
			Committed:   map[string][]history.Record{orders: ins},
			Uncommitted: map[string][]history.Record{orders: ins},
			Tables:      dbTables(ins, ins[1:]),
		},
		Complete: true,
	}
	res := checkDBFold(dbSpec(), r)
	require.Empty(t, res.Unknown)
	require.Len(t, res.Anomalies, 1)
	a := res.Anomalies[0]
	require.Contains(t, a.Summary, `key "p1": inventory holds "76"; expected "75" (after all 25 inputs); evidence holds the first 20 of its 25 inputs`)
	require.Equal(t, ins[:maxFoldInputs], a.Records)
	require.Equal(t, []history.Row{dbRow(r, inventory, "product", "p1")}, a.Rows)
}

func TestDatabaseCheckersInFixedOrder(t *testing.T) {
	require.Equal(t, dbNames, names(DatabaseCheckers()))
	for _, n := range dbNames {
		require.NotContains(t, names(All()), n, "All stays the Kafka checkers")
	}
}

func TestByNameFindsDatabaseCheckers(t *testing.T) {
	cs, err := ByName(DBFold, LostOutput, DBPhantomEffect)
	require.NoError(t, err)
	require.Equal(t, []string{DBFold, LostOutput, DBPhantomEffect}, names(cs))
	require.Equal(t, "db-fold", cs[0].Name)

	_, err = ByName("db-flod")
	require.ErrorIs(t, err, ErrUnknownChecker)
	for _, n := range append(names(All()), dbNames...) {
		require.ErrorContains(t, err, n, "error lists the valid names")
	}
}

func TestCheckDatabasePass(t *testing.T) {
	rep := Check(dbSpec(), dbBase())
	require.Equal(t, Pass, rep.Verdict)
	require.Empty(t, rep.Anomalies)
	require.Empty(t, rep.Unknown)
	require.Equal(t, dbNames, rep.Checked, "spec.Checkers chooses the checkers")
}

// TestCheckDatabaseEffectTakenTwice: an effect written twice that also took
// the stock twice fails both the ledger and the state.
func TestCheckDatabaseEffectTakenTwice(t *testing.T) {
	r := dbBase()
	ledgerRow(&r, "o2")
	setStock(&r, "p2", "89")
	rep := Check(dbSpec(), r)
	require.Equal(t, Fail, rep.Verdict)
	require.Equal(t, []string{DBDuplicateEffect, DBFold}, rep.Kinds())
	require.Equal(t, DBFold, rep.Anomalies[0].Kind, "anomalies in checker order")
	require.Contains(t, rep.Anomalies[0].Summary, `key "p2": inventory holds "89"; expected "94"`)
	require.Contains(t, rep.Anomalies[1].Summary, `input "o2" has 2 rows in ledger`)
}

func TestCheckDatabaseUnfinished(t *testing.T) {
	r := dbBase()
	r.Complete = false
	rep := Check(dbSpec(), r)
	require.Equal(t, Unknown, rep.Verdict)
	require.Equal(t, []string{DBFold, DBLostEffect}, slices.Sorted(maps.Keys(rep.Unknown)))

	ledgerRow(&r, "o6")
	rep = Check(dbSpec(), r)
	require.Equal(t, Fail, rep.Verdict)
	require.Equal(t, []string{DBPhantomEffect}, rep.Kinds())
}

// TestCheckUnknownCheckerName: a name in spec.Checkers that no checker has
// is reported unknown under that name, never passed over; the others run.
func TestCheckUnknownCheckerName(t *testing.T) {
	s := dbSpec()
	s.Checkers = []string{DBLostEffect, "db-flod"}
	rep := Check(s, dbBase())
	require.Equal(t, Unknown, rep.Verdict)
	require.Equal(t, []string{DBLostEffect, "db-flod"}, rep.Checked)
	require.Equal(t, []string{"db-flod"}, slices.Sorted(maps.Keys(rep.Unknown)))
	require.Contains(t, rep.Unknown["db-flod"], `unknown checker "db-flod" (valid: `)
	require.Contains(t, rep.Unknown["db-flod"], DBFold)

	r := dbBase()
	dropRows(&r, ledger, "order_id", "o1")
	rep = Check(s, r)
	require.Equal(t, Fail, rep.Verdict)
	require.Equal(t, []string{DBLostEffect}, rep.Kinds())
}

// TestCheckGivenCheckersOverrideSpec: checkers passed to Check win over
// spec.Checkers, and a Spec naming none gets All.
func TestCheckGivenCheckersOverrideSpec(t *testing.T) {
	r := dbBase()
	dropRows(&r, ledger, "order_id", "o1")
	cs, err := ByName(DBPhantomEffect)
	require.NoError(t, err)
	rep := Check(dbSpec(), r, cs...)
	require.Equal(t, Pass, rep.Verdict)
	require.Equal(t, []string{DBPhantomEffect}, rep.Checked)

	s := dbSpec()
	s.Checkers = nil
	require.Equal(t, names(All()), Check(s, r).Checked)
}

// genDBRun draws the input of a run, some of it aborted, and a
// read_committed order of it.
func genDBRun(t *rapid.T) (committed, aborted []history.Record, run Run) {
	parts := rapid.IntRange(1, 3).Draw(t, "partitions")
	products := rapid.IntRange(1, 4).Draw(t, "products")
	n := rapid.IntRange(0, 20).Draw(t, "orders")
	next := map[int32]int64{}
	var log []history.Record
	for i := range n {
		p := int32(rapid.IntRange(0, parts-1).Draw(t, "partition"))
		prod := rapid.IntRange(0, products-1).Draw(t, "product")
		qty := rapid.IntRange(1, 9).Draw(t, "qty")
		r := order(p, next[p], fmt.Sprintf("o%d", i), fmt.Sprintf("p%d", prod), qty)
		next[p]++
		log = append(log, r)
		if rapid.IntRange(0, 3).Draw(t, "aborted") == 0 {
			aborted = append(aborted, r)
		} else {
			committed = append(committed, r)
		}
	}
	sortRecords(log)
	sortRecords(committed)
	run = Run{
		Snapshot: history.Snapshot{
			Committed:   map[string][]history.Record{orders: committed},
			Uncommitted: map[string][]history.Record{orders: log},
		},
		Complete: true,
	}
	return committed, aborted, run
}

// TestPropertyExactFoldPasses: a database that applied each committed
// input once, in any order, passes every database checker.
func TestPropertyExactFoldPasses(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		committed, _, r := genDBRun(t)
		applied := rapid.Permutation(committed).Draw(t, "applied")
		r.Snapshot.Tables = dbTables(applied, applied)
		rep := Check(dbSpec(), r)
		if rep.Verdict != Pass {
			t.Fatalf("exact database judged %s: %+v", rep.Verdict, rep)
		}
	})
}

// TestPropertyOneRowWrongFails: deleting, duplicating or inventing one
// ledger row, with or without its effect on the stock, fails with exactly
// the kinds expected, naming the input.
func TestPropertyOneRowWrongFails(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		committed, aborted, r := genDBRun(t)
		if len(committed) == 0 {
			t.Skip("no committed input")
		}
		written := rapid.Permutation(committed).Draw(t, "applied")
		taken := slices.Clone(written)
		withState := rapid.Bool().Draw(t, "with its stock")
		var want []string
		var kind string
		var in history.Record
		switch mode := rapid.SampledFrom([]string{"delete", "duplicate", "phantom"}).Draw(t, "mode"); mode {
		case "delete":
			i := rapid.IntRange(0, len(written)-1).Draw(t, "row")
			in = written[i]
			written = slices.Delete(written, i, i+1)
			if withState {
				taken = slices.Delete(taken, i, i+1)
			}
			kind = DBLostEffect
		case "duplicate":
			in = rapid.SampledFrom(written).Draw(t, "row")
			written = append(written, in)
			if withState {
				taken = append(taken, in)
			}
			kind = DBDuplicateEffect
		case "phantom":
			in = order(0, 1000, "ghost", "p0", 1)
			if len(aborted) > 0 && rapid.Bool().Draw(t, "of an aborted input") {
				in = rapid.SampledFrom(aborted).Draw(t, "aborted")
			}
			written = append(written, in)
			if withState {
				taken = append(taken, in)
			}
			kind = DBPhantomEffect
		}
		want = append(want, kind)
		if withState {
			want = append(want, DBFold)
		}
		slices.Sort(want)
		r.Snapshot.Tables = dbTables(written, taken)
		rep := Check(dbSpec(), r)
		if rep.Verdict != Fail || !slices.Equal(rep.Kinds(), want) {
			t.Fatalf("verdict %s, kinds %v, want %v: %+v", rep.Verdict, rep.Kinds(), want, rep.Anomalies)
		}
		var of []Anomaly
		for _, a := range rep.Anomalies {
			if a.Kind == kind {
				of = append(of, a)
			}
		}
		if len(of) != 1 || !strings.Contains(of[0].Summary, strconv.Quote(orderID(in))) {
			t.Fatalf("%s anomalies %+v, want one naming input %q", kind, of, orderID(in))
		}
	})
}
