package invariants

import (
	"cmp"
	"slices"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/eosim/eosim/history"
)

func TestOffsetOutputMismatch(t *testing.T) {
	runCases(t, OffsetOutputMismatch, checkOffsets, []tcase{
		{name: "correct run, aborted attempt and unknown outcome"},
		{
			name: "offsets committed past unprocessed input",
			mut:  func(r *Run) { u := unit(r, "a.1#1"); u.Consumed = u.Consumed[:1] },
			want: []string{`unit a.1#1 committed orders/0 offset 2 past 1 unprocessed inputs: orders/0@1`},
		},
		{
			name: "input re-consumed after its offset was committed",
			mut: func(r *Run) {
				u := unit(r, "a.1#3")
				u.Consumed = append([]history.Record{get(*r, orders, 0, 1)}, u.Consumed...)
			},
			want: []string{
				`unit a.1#3 re-consumed 1 inputs below orders/0's committed offset 2: orders/0@1`,
				`unit a.1#3 committed offsets for 1 inputs without an output: orders/0@1`,
			},
		},
		{
			name: "input consumed past the unit's own commit",
			mut: func(r *Run) {
				u := unit(r, "b.1#1")
				u.Consumed = append(u.Consumed, get(*r, orders, 1, 1))
			},
			want: []string{
				`unit b.1#1 consumed 1 inputs at or past its own committed orders/1 offset 1: orders/1@1`,
				`unit b.1#1 committed offsets for 1 inputs without an output: orders/1@1`,
			},
		},
		{
			name: "offsets committed without output",
			mut:  func(r *Run) { hide(r, notes, 0, 2) },
			want: []string{`unit a.1#3 committed offsets for 1 inputs without an output: orders/0@2`},
		},
		{
			name: "an output sent outside the transaction counts",
			mut: func(r *Run) {
				u := unit(r, "a.1#3")
				u.SideEffects, u.Produced = u.Produced[:1], u.Produced[1:]
			},
		},
		{
			name: "unknown outcome that aborted",
			mut: func(r *Run) {
				hide(r, notes, 1, 2)
				hide(r, stock, 1, 2)
				r.Snapshot.GroupOffsets[1].Offset = 1
			},
		},
		{
			name: "group offset past the last commit",
			mut:  func(r *Run) { hide(r, notes, 1, 2); hide(r, stock, 1, 2) },
			want: []string{`group offset of orders/1 is 2, expected 1 as committed by unit b.1#1`},
		},
		{
			name: "group offset behind the last commit",
			mut:  func(r *Run) { r.Snapshot.GroupOffsets[0].Offset = 2 },
			want: []string{`group offset of orders/0 is 2, expected 3 as committed by unit a.1#3`},
		},
		{
			name: "group offset missing",
			mut:  func(r *Run) { r.Snapshot.GroupOffsets = r.Snapshot.GroupOffsets[1:] },
			want: []string{`group has no offset for orders/0, expected 3 as committed by unit a.1#3`},
		},
		{
			name: "group offset nobody committed",
			mut: func(r *Run) {
				r.Snapshot.GroupOffsets = append(r.Snapshot.GroupOffsets, history.Offset{Topic: orders, Partition: 2, Offset: 5})
			},
			want: []string{`group offset of orders/2 is 5, expected 0`},
		},
		{
			name: "consumed without committing an offset",
			mut:  func(r *Run) { unit(r, "a.1#3").Offsets = nil },
			want: []string{
				`unit a.1#3 consumed orders/0@2 but committed no offset for orders/0`,
				`group offset of orders/0 is 3, expected 2 as committed by unit a.1#1`,
			},
		},
		{
			name: "committed offset moved back",
			mut:  func(r *Run) { unit(r, "b.2#1").Offsets[0].Offset = 0 },
			want: []string{
				`unit b.2#1 moved the committed offset of orders/1 back from 1 to 0`,
				`unit b.2#1 consumed 1 inputs at or past its own committed orders/1 offset 0: orders/1@1`,
				`group offset of orders/1 is 2, expected 0 as committed by unit b.2#1`,
			},
		},
		{
			name: "other topics' offsets are not judged",
			mut: func(r *Run) {
				u := unit(r, "a.1#3")
				u.Offsets = append(u.Offsets, history.Offset{Topic: "other", Offset: 9})
				r.Snapshot.GroupOffsets = append(r.Snapshot.GroupOffsets, history.Offset{Topic: "other", Offset: 7})
			},
		},
	})
}

func TestEffective(t *testing.T) {
	in := func(o int64) history.Record { return history.Record{Topic: orders, Offset: o} }
	commit := func(o int64) []history.Offset { return []history.Offset{{Topic: orders, Offset: o}} }
	seen := newView(history.Snapshot{Committed: map[string][]history.Record{notes: {{Topic: notes, Offset: 0}}}})
	cases := []struct {
		name  string
		units []*history.Unit
		want  bool
	}{
		{"committed", []*history.Unit{{Outcome: history.Committed}}, true},
		{"aborted", []*history.Unit{{Outcome: history.Aborted, Produced: []history.Record{{Topic: notes}}}}, false},
		{"crashed", []*history.Unit{{Outcome: history.Crashed}}, false},
		{"unknown, output visible", []*history.Unit{{Outcome: history.Unknown, Produced: []history.Record{{Topic: notes}}}}, true},
		{"unknown, output hidden", []*history.Unit{{Outcome: history.Unknown, Produced: []history.Record{{Topic: notes, Offset: 1}}}}, false},
		{"unknown, output on an unread topic, no successor", []*history.Unit{{Outcome: history.Unknown, Produced: []history.Record{{Topic: "x"}}, Offsets: commit(3)}}, false},
		{"unknown, nothing produced, successor starts at its offset", []*history.Unit{
			{Outcome: history.Unknown, Offsets: commit(3)},
			{Outcome: history.Committed, Consumed: []history.Record{{Topic: notes}}},
			{Outcome: history.Committed, Consumed: []history.Record{in(4), in(3)}},
		}, true},
		{"unknown, nothing produced, successor starts before its offset", []*history.Unit{
			{Outcome: history.Unknown, Offsets: commit(3)},
			{Outcome: history.Aborted, Consumed: []history.Record{in(2)}},
			{Outcome: history.Committed, Consumed: []history.Record{in(3)}},
		}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, effective(tc.units, 0, seen, orders))
		})
	}
}

// TestByPartitionWithoutCopyIsByPartition: for any records, byPartition
// (which hands out windows on its input when each partition's records come
// in one run, in offset order) gives what grouping and stable-sorting them
// gives, and a caller's append to one partition's slice leaves the input
// alone.
func TestByPartitionWithoutCopyIsByPartition(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(0, 30).Draw(t, "n")
		rs := make([]history.Record, n)
		for i := range rs {
			rs[i] = history.Record{Partition: rapid.Int32Range(0, 3).Draw(t, "p"), Offset: rapid.Int64Range(0, 9).Draw(t, "o"), Key: strconv.Itoa(i)}
		}
		if rapid.Bool().Draw(t, "as a snapshot holds them") {
			slices.SortStableFunc(rs, func(a, b history.Record) int {
				return cmp.Or(cmp.Compare(a.Partition, b.Partition), cmp.Compare(a.Offset, b.Offset))
			})
		}
		input := slices.Clone(rs)
		want := map[int32][]history.Record{}
		for _, r := range rs {
			want[r.Partition] = append(want[r.Partition], r)
		}
		for _, prs := range want {
			slices.SortStableFunc(prs, func(a, b history.Record) int { return cmp.Compare(a.Offset, b.Offset) })
		}
		got := byPartition(rs)
		require.Equal(t, want, got)
		for p := range got {
			_ = append(got[p], history.Record{Key: "appended"})
		}
		require.Equal(t, input, rs, "the input changed")
	})
}
