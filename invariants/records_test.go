package invariants

import (
	"testing"

	"pgregory.net/rapid"

	"github.com/eosim/eosim/history"
)

// TestViewIsTheSetOfLocations: the view answers what a set of the
// snapshot's locations would, whatever order the snapshot's records come in
// and however far apart their offsets.
func TestViewIsTheSetOfLocations(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		gen := rapid.Custom(func(t *rapid.T) history.Record {
			return history.Record{
				Topic:     rapid.SampledFrom([]string{"a", "b"}).Draw(t, "topic"),
				Partition: rapid.Int32Range(0, 2).Draw(t, "partition"),
				// Dense offsets, kept as bits, and now and then one far
				// along, which makes its partition's offsets sparse.
				Offset: rapid.OneOf(rapid.Int64Range(0, 8), rapid.Int64Range(0, 1<<40)).Draw(t, "offset"),
			}
		})
		snap := history.Snapshot{Committed: map[string][]history.Record{}, Uncommitted: map[string][]history.Record{}}
		committed, logged := map[loc]bool{}, map[loc]bool{}
		for _, r := range rapid.SliceOf(gen).Draw(t, "log") {
			if logged[locOf(r)] {
				continue
			}
			logged[locOf(r)] = true
			snap.Uncommitted[r.Topic] = append(snap.Uncommitted[r.Topic], r)
			if rapid.Bool().Draw(t, "committed") {
				committed[locOf(r)] = true
				snap.Committed[r.Topic] = append(snap.Committed[r.Topic], r)
			}
		}
		v := newView(snap)
		for _, r := range rapid.SliceOfN(gen, 20, 20).Draw(t, "asked") {
			l := locOf(r)
			if got := v.isCommitted(l); got != committed[l] {
				t.Fatalf("isCommitted(%v) = %v, want %v", l, got, committed[l])
			}
			if got := v.isLogged(l); got != logged[l] {
				t.Fatalf("isLogged(%v) = %v, want %v", l, got, logged[l])
			}
		}
	})
}
