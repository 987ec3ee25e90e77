package report

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/eosim/eosim/history"
	"github.com/eosim/eosim/invariants"
)

// dbFixture is a small run of an application that writes to a database
// with its positions in it, fenced by owner epochs: a claims both
// partitions and writes a unit; its next write's answer is lost (a
// db-lost); b takes partition 1 over, and a, now a zombie, is refused; b's
// first write finds the database locked and rolls back, its second
// commits. Every purpose and every database outcome.
func dbFixture() history.History {
	in := func(p int32, o int64, id string) history.Record {
		return history.Record{Topic: "orders", Partition: p, Offset: o, Key: "p1",
			Value: `{"order_id":"` + id + `","quantity":1}`}
	}
	pos := func(p int32, o int64) []history.Offset {
		return []history.Offset{{Topic: "orders", Partition: p, Offset: o}}
	}
	i0, i1, i2, i3 := in(0, 0, "o1"), in(0, 1, "o2"), in(1, 0, "o3"), in(1, 1, "o4")
	return history.History{Events: []history.Event{
		{T: 0, Kind: history.KindInput, Input: &i0},
		{T: 0, Kind: history.KindInput, Input: &i1},
		{T: 0, Kind: history.KindInput, Input: &i2},
		{T: 0, Kind: history.KindInput, Input: &i3},
		{T: ms(100), Kind: history.KindStart, Instance: "a", Detail: "incarnation 1, db_positions_fenced"},
		{T: ms(120), Kind: history.KindStart, Instance: "b", Detail: "incarnation 1, db_positions_fenced"},
		{T: ms(3000), Kind: history.KindAssign, Instance: "a", Partitions: []int32{0, 1}},
		{T: ms(3000), Kind: history.KindDB, Instance: "a", DB: &history.DBTxn{Purpose: "claim",
			Outcome: history.DBCommitted, Positions: pos(0, 0), Epoch: 1}},
		{T: ms(3000), Kind: history.KindDB, Instance: "a", DB: &history.DBTxn{Purpose: "claim",
			Outcome: history.DBCommitted, Positions: pos(1, 0), Epoch: 1}},
		{T: ms(3200), Kind: history.KindDB, Instance: "a", DB: &history.DBTxn{Unit: "a.1#0", Purpose: "write",
			Outcome: history.DBCommitted, Applied: []string{"o1", "o2"}, Positions: pos(0, 2), Epoch: 1}},
		{T: ms(3200), Kind: history.KindUnit, Instance: "a", Unit: &history.Unit{ID: "a.1#0",
			Outcome: history.Committed, Consumed: []history.Record{i0, i1}, Offsets: pos(0, 2)}},
		{T: ms(3250), Kind: history.KindFault, Instance: "a", Fault: "db-lost",
			Detail: "armed: step 2: a's next database commit happens, its answer lost"},
		{T: ms(3300), Kind: history.KindDB, Instance: "a", DB: &history.DBTxn{Unit: "a.1#1", Purpose: "write",
			Outcome: history.DBUnknown, Reason: "committing a database transaction: the database's answer was lost",
			Applied: []string{"o3"}, Positions: pos(1, 1), Epoch: 1}},
		{T: ms(3300), Kind: history.KindUnit, Instance: "a", Unit: &history.Unit{ID: "a.1#1",
			Outcome: history.Unknown, Reason: "the database's answer was lost", Consumed: []history.Record{i2}}},
		{T: ms(4000), Kind: history.KindAssign, Instance: "b", Partitions: []int32{1}},
		{T: ms(4000), Kind: history.KindDB, Instance: "b", DB: &history.DBTxn{Purpose: "claim",
			Outcome: history.DBCommitted, Positions: pos(1, 1), Epoch: 2}},
		{T: ms(4100), Kind: history.KindDB, Instance: "a", DB: &history.DBTxn{Unit: "a.1#2", Purpose: "write",
			Outcome: history.DBRefused, Reason: "refused: orders[1] has owner epoch 2, this instance holds 1", Epoch: 1}},
		{T: ms(4100), Kind: history.KindUnit, Instance: "a", Unit: &history.Unit{ID: "a.1#2",
			Outcome: history.Aborted, Reason: "refused", Consumed: []history.Record{i3}}},
		{T: ms(4200), Kind: history.KindFault, Instance: "b", Fault: "db-busy",
			Detail: "armed: step 3: b's next database transaction finds the database locked"},
		{T: ms(4300), Kind: history.KindDB, Instance: "b", DB: &history.DBTxn{Unit: "b.1#0", Purpose: "write",
			Outcome: history.DBRolledBack, Reason: "beginning a database transaction: database is locked (5) (SQLITE_BUSY)"}},
		{T: ms(4300), Kind: history.KindUnit, Instance: "b", Unit: &history.Unit{ID: "b.1#0",
			Outcome: history.Aborted, Reason: "database is locked", Consumed: []history.Record{i3}}},
		{T: ms(4600), Kind: history.KindDB, Instance: "b", DB: &history.DBTxn{Unit: "b.1#1", Purpose: "write",
			Outcome: history.DBCommitted, Applied: []string{"o4"}, Skipped: []string{evil}, Positions: pos(1, 2), Epoch: 2}},
		{T: ms(4600), Kind: history.KindUnit, Instance: "b", Unit: &history.Unit{ID: "b.1#1",
			Outcome: history.Committed, Consumed: []history.Record{i3}, Offsets: pos(1, 2)}},
		{T: ms(5000), Kind: history.KindLoad, Instance: "b", Load: &history.Load{Store: "s", Topic: "c", Partition: 1, Source: "changelog"}},
		{T: ms(5000), Kind: history.KindStop, Instance: "a"},
	}}
}

// dbRun is dbFixture judged: o1 has two ledger rows, one written by a.1#0
// and one by a unit the History does not hold.
func dbRun() Run {
	row := func(id, unit string) history.Row {
		return history.Row{Table: "ledger", Values: map[string]string{"id": id, "order_id": "o1", "written_by": unit}}
	}
	return Run{
		Title:   "seed 3, db_positions_fenced",
		Replay:  "go run -tags synctests ./cmd/simrun -seed 3 -scenario orders-db -guarantee db_positions_fenced",
		Verdict: "fail",
		History: dbFixture(),
		Report: invariants.Report{Verdict: invariants.Fail, Anomalies: []invariants.Anomaly{{
			Kind:    invariants.DBDuplicateEffect,
			Summary: `input "o1" has 2 rows in ledger; units that wrote it: a.1#0`,
			Rows: []history.Row{row("1", "a.1#0"), row("7", "z.9#9"),
				{Table: "inventory", Values: map[string]string{"product": "p1", "stock": "98", "note": evil}}},
		}}},
	}
}

func TestWriteHTMLDatabaseRun(t *testing.T) {
	r := dbRun()
	page := render(t, r)
	requireBalanced(t, page)
	targets := requireLinksResolve(t, page)
	has(t, page, "; 5 units: 2 committed, 2 aborted, 1 unknown; 8 database transactions: 5 committed, 1 rolled-back, 1 unknown, 1 refused; ")

	t.Run("database row", func(t *testing.T) {
		require.Equal(t, 2, strings.Count(page, `<rect class="db-row"`), "a database row in each lane")
		require.Equal(t, 2, strings.Count(page, `>db</text>`))
		marks := regexp.MustCompile(`<rect id="db-(\d+)" class="(db [^"]*)"`).FindAllStringSubmatch(page, -1)
		require.Len(t, marks, 8, "a mark per database transaction, each with an id")
		classes := map[string]int{}
		for _, m := range marks {
			classes[m[2]]++
			require.Equal(t, history.KindDB, r.History.Events[atoi(t, m[1])].Kind, "db-%s names its event", m[1])
		}
		require.Equal(t, map[string]int{
			"db d-committed db-claim": 3, "db d-committed": 2, "db d-unknown": 1, "db d-refused": 1, "db d-rolled-back": 1,
		}, classes)
		has(t, page, `id="db-9" class="db d-committed" x="764.0" y="40.0" width="4.0" height="10.0"><title>database write of a.1#0 by a, committed at 3.200s
epoch 1; positions orders/0:2
applied 2: o1 o2</title>`, "a write's mark says what it applied and the positions it wrote")
		has(t, page, "<title>database claim by b, committed at 4.000s\nepoch 2; positions orders/1:1</title>")
		has(t, page, "refused at 4.100s\nepoch 1\nreason: refused: orders[1] has owner epoch 2, this instance holds 1</title>")
		has(t, page, "reason: committing a database transaction: the database&#39;s answer was lost</title>")
	})

	t.Run("unit tooltips and table", func(t *testing.T) {
		has(t, page, "offsets orders/0:2\nended at 3.200s; 2 consumed, 0 produced, 0 side effects, 1 offsets\ndatabase write committed: 2 applied, 0 skipped; positions orders/0:2</title>",
			"a unit's tooltip lists its database transactions")
		has(t, page, "<th>offsets</th><th>database</th></tr>")
		has(t, page, "<td>orders/1:2</td><td>write committed (1 applied, 1 skipped)</td></tr>")
	})

	t.Run("database table", func(t *testing.T) {
		has(t, page, `<h2 id="database">Database transactions (8)</h2>`)
		require.Equal(t, 8, strings.Count(page, `<tr><td><a href="#db-`), "a row per transaction, linked to its mark")
		has(t, page, `<tr><td><a href="#db-21">4.600s</a></td><td>b</td><td>write</td><td><a href="#unit-b.1_1"><code>b.1#1</code></a></td><td><i class="sw d-committed"></i>committed</td><td></td><td>2</td><td>orders/1:2</td><td>1: o4</td><td>1: &lt;/code&gt;&lt;script&gt;`)
		require.Contains(t, targets, "db-21")
	})

	t.Run("anomaly rows", func(t *testing.T) {
		has(t, page, "<caption>database rows in <code>ledger</code></caption>\n<tr><th>id</th><th>order_id</th><th>written_by</th></tr>\n"+
			`<tr><td>1</td><td>o1</td><td><a href="#unit-a.1_0"><code>a.1#0</code></a></td></tr>`+"\n"+
			"<tr><td>7</td><td>o1</td><td>z.9#9</td></tr>\n</table>", "a row's unit links to its bar; one the History lacks does not")
		has(t, page, "<caption>database rows in <code>inventory</code></caption>\n<tr><th>note</th><th>product</th><th>stock</th></tr>")
		hasNot(t, page, "<script")
	})

	t.Run("legend", func(t *testing.T) {
		has(t, page, `<i class="sw d-refused"></i>db write refused (fenced)`)
		has(t, page, "The db row under each lane")
	})
	require.Equal(t, page, render(t, r), "the same run gives the same page")
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	var n int
	_, err := fmt.Sscan(s, &n)
	require.NoError(t, err)
	return n
}

// TestPageWithoutDatabaseHasNoDatabaseParts: a run with no database draws
// the page it drew before databases: no database row, styles, legend or
// table, lanes as high as before.
func TestPageWithoutDatabaseHasNoDatabaseParts(t *testing.T) {
	page := render(t, failingRun())
	for _, s := range []string{"db-row", ".d-committed", "db-claim", "Database transactions", "<th>database</th>", "The db row", "table.rows"} {
		hasNot(t, page, s)
	}
	has(t, page, `<rect class="lane-bg" x="64.0" y="0" width="1100.0" height="50.0"/>`)
	has(t, page, `<path class="m-load" d="M724.0 40l4 4-4 4-4-4z">`)
}

func TestDatabaseTimelineLayout(t *testing.T) {
	h := dbFixture()
	tl := buildTimeline(h, anchors(h), nil)
	require.True(t, tl.DB)
	require.Equal(t, dbLaneHeight, tl.LaneHeight)
	require.Equal(t, 2*dbLaneHeight, tl.AxisY)
	span := ms(5000)
	x := func(d float64) float64 { return plotLeft + d/float64(span)*plotWidth }

	a, b := tl.Lanes[0], tl.Lanes[1]
	require.Equal(t, 5, a.DBTxns)
	require.Equal(t, 3, b.DBTxns)
	// a.1#0 runs from a's claims at 3.0s, not from its own database
	// write at 3.2s, which is part of it.
	require.InDelta(t, x(float64(ms(3000))), a.Bars[0].X, 1e-9)
	require.InDelta(t, x(float64(ms(3200))), a.Bars[0].X+a.Bars[0].W, 1e-9)
	// a.1#1 starts after a.1#0 ended, not at the db-lost fault.
	require.InDelta(t, x(float64(ms(3200))), a.Bars[1].X, 1e-9)
	// Marks end at their event.
	for _, m := range a.DBMarks {
		require.Equal(t, dbMarkW, m.W)
	}
	require.InDelta(t, x(float64(ms(3200))), a.DBMarks[2].X+dbMarkW, 1e-9)
	// b's load, below the database row.
	require.Equal(t, fmt.Sprintf("M%s 54l4 4-4 4-4-4z", num(x(float64(ms(5000))))), b.Marks[len(b.Marks)-1].D)
}

// TestDatabaseMarksAtOneInstantShowTheWorstOnTop: marks recorded at one
// instant are drawn worst last, so that the one on top is the worst.
func TestDatabaseMarksAtOneInstantShowTheWorstOnTop(t *testing.T) {
	txn := func(outcome string) history.Event {
		return history.Event{T: ms(100), Kind: history.KindDB, Instance: "a",
			DB: &history.DBTxn{Unit: "a.1#0", Purpose: "write", Outcome: outcome}}
	}
	h := history.History{Events: []history.Event{
		txn(history.DBRefused), txn(history.DBCommitted), txn("odd"), txn(history.DBRolledBack), txn(history.DBCommitted),
	}}
	tl := buildTimeline(h, anchors(h), nil)
	var got []string
	for _, m := range tl.Lanes[0].DBMarks {
		got = append(got, m.Class+" "+m.Anchor)
	}
	require.Equal(t, []string{"db d-committed db-1", "db d-committed db-4", "db d-rolled-back db-3",
		"db d-unknown db-2", "db d-refused db-0"}, got, "an outcome this package does not know is drawn as unknown")
}

// TestAnomalyRowsAreCapped: an anomaly with more rows than maxEvidence
// shows that many and counts the rest.
func TestAnomalyRowsAreCapped(t *testing.T) {
	r := dbRun()
	var rows []history.Row
	for i := range maxEvidence + 7 {
		rows = append(rows, history.Row{Table: "ledger", Values: map[string]string{"id": fmt.Sprint(i)}})
	}
	r.Report.Anomalies[0].Rows = rows
	page := render(t, r)
	anomalies := page[strings.Index(page, `<h2 id="anomalies">`):strings.Index(page, `<h2 id="units">`)]
	require.Equal(t, maxEvidence, strings.Count(anomalies, "<tr><td>"))
	has(t, anomalies, "… 7 more database rows")
}

// bigDBRun is about the size of a 10,000-order run under
// db_inside_kafka_txn, which writes the database once per record: 2,000
// units on two instances, ten database transactions each, and anomalies
// naming units among the first hundred.
func bigDBRun() Run {
	const units, perUnit, anomalies = 2000, 10, 100
	var h history.History
	outcomes := []string{history.DBCommitted, history.DBCommitted, history.DBCommitted, history.DBRolledBack, history.DBUnknown, history.DBRefused}
	var ids []string
	for k := range units {
		inst := []string{"a", "b"}[k%2]
		t := ms(1000 + 10*k)
		id := fmt.Sprintf("%s.1#%d", inst, k/2)
		ids = append(ids, id)
		for j := range perUnit {
			h.Events = append(h.Events, history.Event{T: t, Kind: history.KindDB, Instance: inst, DB: &history.DBTxn{
				Unit: id, Purpose: "write", Outcome: outcomes[(k+j)%len(outcomes)], Applied: []string{fmt.Sprintf("o%05d", k*perUnit+j)},
				Positions: []history.Offset{{Topic: "orders", Partition: int32(k % 4), Offset: int64(k*perUnit + j + 1)}}, Epoch: 1}})
		}
		h.Events = append(h.Events, history.Event{T: t, Kind: history.KindUnit, Instance: inst,
			Unit: &history.Unit{ID: id, Outcome: history.Committed}})
	}
	rep := invariants.Report{Verdict: invariants.Fail}
	for i := range anomalies {
		rep.Anomalies = append(rep.Anomalies, invariants.Anomaly{
			Kind: invariants.DBDuplicateEffect, Summary: fmt.Sprintf("input %d has 2 rows", i),
			// Named only by the row's written_by.
			Rows: []history.Row{{Table: "ledger", Values: map[string]string{"written_by": ids[i]}}},
		})
	}
	return Run{Title: "big db", Verdict: "fail", History: h, Report: rep}
}

func TestWriteHTMLScalesWithDatabase(t *testing.T) {
	r := bigDBRun()
	page := render(t, r)
	t.Logf("%d events: %d bytes", len(r.History.Events), len(page))
	require.Less(t, len(page), 5<<20, "the page must stay small enough to open")
	requireBalanced(t, page)
	targets := requireLinksResolve(t, page)

	tl := buildTimeline(r.History, anchors(r.History), keptUnits(r.Report.Anomalies, indexRecords(r.History), anchors(r.History)))
	for _, l := range tl.Lanes {
		require.True(t, l.DBAggregated)
		require.Equal(t, 10000, l.DBTxns)
		require.LessOrEqual(t, len(l.DBBuckets), maxBarsPerLane)
		require.Len(t, l.DBMarks, 50*10, "the database transactions of the 50 units per lane a row names keep their marks")
		for _, b := range l.DBBuckets {
			// Every bucket holds a refused transaction: the worst.
			require.Equal(t, "db d-refused", b.Class, b.Title)
		}
	}
	// A unit named only by a row's value keeps its bar and is linked.
	set := map[string]bool{}
	for _, target := range targets {
		set[target] = true
	}
	for _, id := range []string{"a.1#0", "b.1#49"} {
		require.True(t, set[anchors(r.History)[id]], "%s is linked from its row", id)
	}
	db := page[strings.Index(page, `<h2 id="database">`):]
	require.Equal(t, maxUnitRows, strings.Count(db, `<tr><td>`), "the database table stops at the cap")
	require.Equal(t, 2*50*10, strings.Count(db, `<tr><td><a href="#db-`), "a row links to its transaction's mark where it has one")
	has(t, page, "… 15000 more database transactions, not listed")
}

// has and hasNot are require.Contains and NotContains on a page, without
// printing the page when they fail.
func has(t *testing.T, page, s string, msg ...any) {
	t.Helper()
	if !strings.Contains(page, s) {
		t.Fatalf("the page lacks %q %v", s, msg)
	}
}

func hasNot(t *testing.T, page, s string, msg ...any) {
	t.Helper()
	if strings.Contains(page, s) {
		t.Fatalf("the page has %q %v", s, msg)
	}
}
