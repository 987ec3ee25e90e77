package invariants

import (
	"testing"

	"github.com/eosim/eosim/history"
)

func TestTornTransaction(t *testing.T) {
	runCases(t, TornTransaction, checkTorn, []tcase{
		{name: "correct run, unknown outcome wholly visible"},
		{
			name: "unknown outcome wholly hidden",
			mut:  func(r *Run) { hide(r, notes, 1, 2); hide(r, stock, 1, 2) },
		},
		{
			name: "committed, partly visible",
			mut:  func(r *Run) { hide(r, stock, 0, 2) },
			want: []string{`unit a.1#3 (committed): 1 of 2 records missing from read_committed: app-stock-changelog/0@2; visible: notifications/0@2`},
		},
		{
			name: "committed, wholly hidden",
			mut:  func(r *Run) { hide(r, stock, 0, 2); hide(r, notes, 0, 2) },
			want: []string{`unit a.1#3 (committed): 2 of 2 records missing from read_committed: notifications/0@2, app-stock-changelog/0@2; visible: none`},
		},
		{
			name: "unknown outcome, partly visible",
			mut:  func(r *Run) { hide(r, notes, 1, 2) },
			want: []string{`unit b.2#1 (unknown): 1 of 2 records missing from read_committed: notifications/1@2`},
		},
		{
			name: "no transaction, no atomicity",
			mut:  func(r *Run) { unit(r, "a.1#3").Transactional = false; hide(r, stock, 0, 2) },
		},
		{
			name: "topic the snapshot did not read",
			mut: func(r *Run) {
				u := unit(r, "a.1#3")
				u.Produced = append(u.Produced, history.Record{Topic: "audit"})
			},
		},
	})
}
