package report

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/eosim/eosim/history"
)

// TestWriteTextDatabaseEvents: a database transaction's line says what it
// was for, what became of it, which inputs it applied and skipped
// (compressed as record groups are), the positions and the epoch.
func TestWriteTextDatabaseEvents(t *testing.T) {
	pos := func(p int32, o int64) history.Offset { return history.Offset{Topic: "orders", Partition: p, Offset: o} }
	for _, tc := range []struct {
		name string
		db   history.DBTxn
		want string
	}{
		{"claim", history.DBTxn{Purpose: "claim", Outcome: history.DBCommitted,
			Positions: []history.Offset{pos(2, 0), pos(0, 10)}, Epoch: 2},
			"claim committed positions orders/0:10,2:0 epoch 2"},
		{"write, applied ids out of order and repeated", history.DBTxn{Unit: "a.2#0", Purpose: "write", Outcome: history.DBCommitted,
			Applied:   []string{"o00020", "o00012", "o00011", "o00012", "o00013", "o00009"},
			Positions: []history.Offset{pos(0, 13)}, Epoch: 2},
			"a.2#0 write committed applied×6 o00009+o00011-o00013+o00020 positions orders/0:13 epoch 2"},
		{"skipped as already applied", history.DBTxn{Unit: "b.1#4", Purpose: "write", Outcome: history.DBCommitted,
			Applied: []string{"o00031"}, Skipped: []string{"o00029", "o00030"}},
			"b.1#4 write committed applied×1 o00031 skipped×2 o00029-o00030"},
		{"refused, with a reason", history.DBTxn{Unit: "a.1#7", Purpose: "write", Outcome: history.DBRefused,
			Reason: "refused: another instance owns the partition now", Applied: []string{"o00100"}, Epoch: 1},
			`a.1#7 write refused reason="refused: another instance owns the partition now" applied×1 o00100 epoch 1`},
		{"rolled back, reason on two lines", history.DBTxn{Unit: "c.1#0", Purpose: "write", Outcome: history.DBRolledBack,
			Reason: "database is locked\n(SQLITE_BUSY)"},
			`c.1#0 write rolled-back reason="database is locked\n(SQLITE_BUSY)"`},
		{"answer lost", history.DBTxn{Unit: "a.1#2", Purpose: "write", Outcome: history.DBUnknown,
			Reason: "the database's answer was lost", Applied: []string{"o00001", "o00002"}},
			`a.1#2 write unknown reason="the database's answer was lost" applied×2 o00001-o00002`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := tc.db
			h := history.History{Events: []history.Event{{T: ms(6115), Kind: history.KindDB, Instance: "a", DB: &db}}}
			require.Equal(t, "   6.115s  a    db         "+tc.want+"\n", string(text(t, h)))
		})
	}
}

func TestIDRanges(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want string
	}{
		{nil, ""},
		{[]string{"o00004"}, "o00004"},
		{[]string{"o00003", "o00001", "o00002"}, "o00001-o00003"},
		{[]string{"o00099", "o00100", "o00101"}, "o00099-o00101"},
		// Unpadded numbers sort and run as numbers.
		{[]string{"o10", "o9", "o8", "o12"}, "o8-o10+o12"},
		// Padded ids of one width run; a padded and an unpadded one do not.
		{[]string{"o09", "o10"}, "o09-o10"},
		{[]string{"o010", "o9"}, "o9+o010"},
		{[]string{"x", "o2", "b1", "o1", "b1"}, "b1+o1-o2+x"},
		// Different prefixes never join a run.
		{[]string{"a1", "b2"}, "a1+b2"},
		{[]string{"order\n1"}, `"order\n1"`},
	} {
		require.Equal(t, tc.want, idRanges(tc.in), "%q", tc.in)
	}
}

func TestRowText(t *testing.T) {
	for _, tc := range []struct {
		row  history.Row
		want string
	}{
		{history.Row{Table: "ledger", Values: map[string]string{
			"written_by": "b.1#0", "order_id": "o00001", "id": "3", "quantity": "5", "product": "p014", "customer": "c026"}},
			"ledger: customer=c026 id=3 order_id=o00001 product=p014 quantity=5 written_by=b.1#0"},
		{history.Row{Table: "inventory", Values: map[string]string{"product": "p001", "stock": "99721", "version": "90"}},
			"inventory: product=p001 stock=99721 version=90"},
		// NULL (empty), blanks, "=" and line breaks are quoted.
		{history.Row{Table: "notes", Values: map[string]string{"a": "", "b": "two words", "c": "k=v", "d": "x\ny", "e": `say "hi"`}},
			`notes: a="" b="two words" c="k=v" d="x\ny" e="say \"hi\""`},
		{history.Row{Table: "empty"}, "empty:"},
	} {
		got := RowText(tc.row)
		require.Equal(t, tc.want, got)
		require.NotContains(t, got, "\n")
	}
}

// TestDatabaseEventIsOneLine: whatever a database transaction holds, its
// event stays one line.
func TestDatabaseEventIsOneLine(t *testing.T) {
	db := history.DBTxn{Unit: "a\n1", Purpose: "write\n", Outcome: "odd\toutcome", Reason: "x\ny", Applied: []string{"i\n1"}}
	got := string(text(t, history.History{Events: []history.Event{{Kind: history.KindDB, Instance: "a", DB: &db}}}))
	require.Equal(t, 1, strings.Count(got, "\n"), got)
}
