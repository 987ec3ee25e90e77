package invariants

import (
	"testing"

	"github.com/eosim/eosim/history"
)

func TestInventoryFold(t *testing.T) {
	runCases(t, InventoryFold, checkFold, []tcase{
		{name: "correct run"},
		{
			name: "unfinished run may lag",
			mut:  func(r *Run) { hide(r, stock, 0, 2); r.Complete = false },
		},
		{
			name: "final stock short of the fold",
			mut:  func(r *Run) { hide(r, stock, 0, 2) },
			want: []string{`key "p1": final stock "97" (changelog app-stock-changelog/0@0), expected "95" after all 2 inputs; 1 never folded: orders/0@2`},
		},
		{
			name: "key never written",
			mut:  func(r *Run) { hide(r, stock, 0, 1) },
			want: []string{`key "p3": final stock "100" (initial value, no changelog record), expected "99"`},
		},
		{
			name: "wrong value",
			mut:  func(r *Run) { r.Snapshot.Committed[stock][0].Value = "96" },
			want: []string{`key "p1": changelog app-stock-changelog/0@0 got "96", expected "97" after folding 1 of 2 inputs (last orders/0@0)`},
		},
		{
			name: "step applied twice",
			mut:  func(r *Run) { reveal(r, stock, 1, 0) },
			want: []string{`key "p2": changelog app-stock-changelog/1@1 got "95", expected "94" after folding 2 of 2 inputs`},
		},
		{
			name: "step skipped",
			mut:  func(r *Run) { hide(r, stock, 1, 1) },
			want: []string{`key "p2": changelog app-stock-changelog/1@2 got "94", expected "95" after folding 1 of 2`},
		},
		{
			name: "step skipped in an unfinished run",
			mut:  func(r *Run) { hide(r, stock, 1, 1); r.Complete = false },
			want: []string{`got "94", expected "95"`},
		},
		{
			name: "value past the fold",
			mut:  func(r *Run) { show(r, history.Record{Topic: stock, Partition: 0, Offset: 3, Key: "p3", Value: "98"}) },
			want: []string{`key "p3": changelog app-stock-changelog/0@3 got "98", expected no value after all 1 inputs folded`},
		},
		{
			name: "key without input",
			mut:  func(r *Run) { show(r, history.Record{Topic: stock, Partition: 0, Offset: 3, Key: "p9", Value: "1"}) },
			want: []string{`key "p9": changelog app-stock-changelog/0@3 got "1", expected no value after all 0 inputs`},
		},
		{
			name: "key split across partitions",
			mut:  func(r *Run) { show(r, history.Record{Topic: stock, Partition: 1, Offset: 3, Key: "p1", Value: "95"}) },
			want: []string{`key "p1" is in 2 changelog partitions: app-stock-changelog/0@0, app-stock-changelog/1@3`},
		},
		{
			name: "one anomaly per key, keys sorted",
			mut: func(r *Run) {
				hide(r, stock, 1, 1)
				r.Snapshot.Committed[stock][0].Value = "0"
				r.Snapshot.Committed[stock][2].Value = "0"
			},
			want: []string{`key "p1": changelog app-stock-changelog/0@0 got "0"`, `key "p2"`},
		},
		{
			name:    "input without a key",
			mut:     func(r *Run) { r.Snapshot.Committed[orders][0].Key = "" },
			unknown: "state key of input orders/0@0: no product key",
		},
		{
			name:    "model rejects an input",
			mut:     func(r *Run) { r.Snapshot.Committed[orders][1].Value = "o3:x" },
			unknown: `model cannot apply input orders/0@1 to "100"`,
		},
	})
}
