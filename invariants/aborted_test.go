package invariants

import (
	"testing"

	"github.com/eosim/eosim/history"
	"github.com/stretchr/testify/require"
)

func TestAbortedRead(t *testing.T) {
	runCases(t, AbortedRead, checkAborted, []tcase{
		{name: "correct run"},
		{
			name: "aborted record visible",
			mut:  func(r *Run) { reveal(r, notes, 1, 0) },
			want: []string{`unit a.1#2 (aborted) has 1 of its 2 records visible to read_committed: notifications/1@0`},
		},
		{
			name: "crashed transaction visible",
			mut: func(r *Run) {
				unit(r, "a.1#2").Outcome = history.Crashed
				reveal(r, notes, 1, 0)
				reveal(r, stock, 1, 0)
			},
			want: []string{`unit a.1#2 (crashed) has 2 of its 2 records visible to read_committed: notifications/1@0, app-stock-changelog/1@0`},
		},
		{
			name: "crashed plain producer's records stay",
			mut: func(r *Run) {
				u := unit(r, "a.1#2")
				u.Outcome, u.Transactional = history.Crashed, false
				reveal(r, notes, 1, 0)
			},
		},
		{
			name: "consumed an aborted input",
			mut:  func(r *Run) { hide(r, orders, 1, 0) },
			want: []string{
				`unit a.1#2 (aborted) consumed 1 records the log holds but read_committed hides: orders/1@0`,
				`unit b.1#1 (committed) consumed 1 records`,
			},
		},
		{
			name: "consumed a topic the snapshot did not read",
			mut: func(r *Run) {
				u := unit(r, "a.1#3")
				u.Consumed = append(u.Consumed, history.Record{Topic: "other", Offset: 4})
			},
		},
	})
}

func TestAbortedReadNamesTheWriter(t *testing.T) {
	r := base()
	// A downstream unit reading the aborted attempt's output.
	u := unit(&r, "a.1#3")
	u.Consumed = append(u.Consumed, get(r, notes, 1, 0))
	res := checkAborted(testSpec(), r)
	require.Len(t, res.Anomalies, 1)
	require.Equal(t, []string{"a.1#3", "a.1#2"}, res.Anomalies[0].Units)
}
