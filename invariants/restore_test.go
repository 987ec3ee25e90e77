package invariants

import (
	"testing"

	"github.com/eosim/eosim/history"
)

// loadOf returns base's only load.
func loadOf(r *Run) *history.Load {
	for _, ev := range r.History.Events {
		if ev.Load != nil {
			return ev.Load
		}
	}
	panic("no load")
}

func TestStateRestore(t *testing.T) {
	runCases(t, StateRestore, checkRestore, []tcase{
		{name: "correct run, aborted changelog record ignored"},
		{
			name: "stale local state",
			mut: func(r *Run) {
				ld := loadOf(r)
				ld.Source, ld.State = "local", []history.KV{{Key: "p2", Value: "100"}}
			},
			want: []string{`instance b.2 store stock loaded app-stock-changelog/1 up to 2 (local) differs from the changelog: "p2" expected "95" got "100"`},
		},
		{
			name: "extra and missing keys",
			mut:  func(r *Run) { loadOf(r).State = []history.KV{{Key: "p9", Value: "1"}} },
			want: []string{`"p2" expected "95" got absent; "p9" expected absent got "1"`},
		},
		{
			name: "only the changelog below upto counts",
			mut:  func(r *Run) { loadOf(r).Upto = 1 },
			want: []string{`up to 1 (changelog) differs from the changelog: "p2" expected absent got "95"`},
		},
		{
			name: "a tombstone deletes",
			mut: func(r *Run) {
				show(r, history.Record{Topic: stock, Partition: 0, Offset: 3, Key: "p1"})
				r.History.Events = append(r.History.Events, history.Event{Kind: history.KindLoad, Instance: "a.2", Load: &history.Load{
					Store: "stock", Topic: stock, Partition: 0, Upto: 4, State: []history.KV{{Key: "p3", Value: "99"}},
				}})
			},
		},
		{
			name: "changelog topic defaults to the spec's",
			mut:  func(r *Run) { loadOf(r).Topic = "" },
		},
	})
}
