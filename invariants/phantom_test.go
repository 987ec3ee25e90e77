package invariants

import (
	"testing"

	"github.com/eosim/eosim/history"
)

func TestPhantomOutput(t *testing.T) {
	runCases(t, PhantomOutput, checkPhantom, []tcase{
		{name: "correct run"},
		{
			name: "unknown order id",
			mut: func(r *Run) {
				show(r, history.Record{Topic: notes, Partition: 1, Offset: 3, Headers: []history.Header{{Key: "order-id", Value: "o9"}}})
			},
			want: []string{`output notifications/1@3 answers input "o9", which is not in orders`},
		},
		{
			name: "no order id",
			mut:  func(r *Run) { r.Snapshot.Committed[notes][1].Headers = nil },
			want: []string{`output notifications/0@1 names no input: no order-id header`},
		},
		{
			name: "input not committed",
			mut:  func(r *Run) { hide(r, orders, 1, 1); r.Complete = false },
			want: []string{`output notifications/1@2 answers input "o5"`},
		},
		{
			name:    "undecodable input",
			mut:     func(r *Run) { r.Snapshot.Committed[orders][0].Value = "" },
			unknown: "decoding input orders/0@0",
		},
	})
}
