package main

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/eosim/eosim/history"
	"github.com/eosim/eosim/invariants"
)

// TestAnomalyRowsArePrinted: a database checker's rows come after the
// anomaly's records, one line each, columns sorted, capped as records are.
func TestAnomalyRowsArePrinted(t *testing.T) {
	ledger := func(id int, unit string) history.Row {
		return history.Row{Table: "ledger", Values: map[string]string{
			"written_by": unit, "order_id": "o00001", "id": fmt.Sprint(id), "quantity": "5", "product": "p014", "customer": "c026"}}
	}
	var many []history.Row
	for i := range maxEvidence + 3 {
		many = append(many, ledger(i+1, fmt.Sprintf("a.1#%d", i)))
	}
	rep := invariants.Report{Verdict: invariants.Fail, Anomalies: []invariants.Anomaly{
		{Kind: "db-duplicate-effect", Summary: `input "o00001" has 2 rows in ledger; units that wrote it: b.1#0, b.1#1`,
			Units:   []string{"b.1#0", "b.1#1"},
			Records: []history.Record{{Topic: "orders", Partition: 0, Offset: 0, Key: "p014", Value: `{"order_id":"o00001"}`}},
			Rows:    []history.Row{ledger(1, "b.1#0"), ledger(21, "b.1#1")}},
		{Kind: "db-fold", Summary: `key "p001": inventory holds "99721"; expected "99737"`,
			Rows: []history.Row{{Table: "inventory", Values: map[string]string{"version": "90", "stock": "99721", "product": "p001"}}}},
		{Kind: "db-duplicate-effect", Summary: "many rows", Rows: many},
	}}
	var buf bytes.Buffer
	printAnomalies(&buf, rep)
	want := `anomalies (3)
  db-duplicate-effect: input "o00001" has 2 rows in ledger; units that wrote it: b.1#0, b.1#1
      units: b.1#0, b.1#1
      orders/0@0 key=p014 value={"order_id":"o00001"}
      ledger: customer=c026 id=1 order_id=o00001 product=p014 quantity=5 written_by=b.1#0
      ledger: customer=c026 id=21 order_id=o00001 product=p014 quantity=5 written_by=b.1#1
  db-fold: key "p001": inventory holds "99721"; expected "99737"
      inventory: product=p001 stock=99721 version=90
  db-duplicate-effect: many rows
`
	for i := range maxEvidence {
		want += fmt.Sprintf("      ledger: customer=c026 id=%d order_id=o00001 product=p014 quantity=5 written_by=a.1#%d\n", i+1, i)
	}
	want += "      … 3 more rows\n"
	require.Equal(t, want, buf.String())
}
