package invariants

import (
	"testing"

	"github.com/eosim/eosim/history"
	"github.com/stretchr/testify/require"
)

func TestDuplicateOutput(t *testing.T) {
	runCases(t, DuplicateOutput, checkDuplicate, []tcase{
		{name: "correct run"},
		{
			name: "aborted attempt visible",
			mut:  func(r *Run) { reveal(r, notes, 1, 0) },
			want: []string{`input "o2" has 2 outputs: notifications/1@0, notifications/1@1`},
		},
		{
			name: "one anomaly per input, ids sorted",
			mut: func(r *Run) {
				reveal(r, notes, 1, 0)
				o1 := get(*r, notes, 0, 0)
				o1.Offset = 3
				show(r, o1)
				o1.Offset = 4
				show(r, o1)
			},
			want: []string{
				`input "o1" has 3 outputs: notifications/0@0, notifications/0@3, notifications/0@4`,
				`input "o2" has 2 outputs`,
			},
		},
		{
			name: "outputs naming no input are not duplicates",
			mut: func(r *Run) {
				show(r, history.Record{Topic: notes, Partition: 0, Offset: 3})
				show(r, history.Record{Topic: notes, Partition: 0, Offset: 4})
			},
		},
		{
			name: "only read_committed counts",
			mut: func(r *Run) {
				o1 := get(*r, notes, 0, 0)
				o1.Offset = 3
				r.Snapshot.Uncommitted[notes] = append(r.Snapshot.Uncommitted[notes], o1)
			},
		},
	})
}

func TestDuplicateOutputEvidence(t *testing.T) {
	r := base()
	reveal(&r, notes, 1, 0)
	res := checkDuplicate(testSpec(), r)
	require.Len(t, res.Anomalies, 1)
	a := res.Anomalies[0]
	require.Equal(t, []string{"a.1#2", "b.1#1"}, a.Units)
	require.Equal(t, []history.Record{get(r, notes, 1, 0), get(r, notes, 1, 1)}, a.Records)
}
