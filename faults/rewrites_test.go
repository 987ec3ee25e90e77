package faults

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRewriteInSchedules(t *testing.T) {
	for _, rw := range Rewrites() {
		for _, req := range RewriteRequests(rw) {
			f := Fault{Step: 1, Kind: Rewrite, Instance: "a", Request: req, Rewrite: rw}
			require.NoError(t, f.validate([]string{"a"}))
			back, err := ParseCell(f.Cell())
			require.NoError(t, err, f.Cell())
			back.Step, back.Instance = f.Step, f.Instance
			require.Equal(t, f, back)
		}
	}
	for name, tc := range map[string]struct {
		f    Fault
		want string
	}{
		"unknown rewrite":   {Fault{Step: 1, Kind: Rewrite, Instance: "a", Request: "Fetch", Rewrite: "shuffle"}, `rewrite "shuffle" is not one of late-markers, partial, reorder, throttle`},
		"wrong request":     {Fault{Step: 1, Kind: Rewrite, Instance: "a", Request: "EndTxn", Rewrite: Partial}, `a partial rewrite changes the answer to Fetch, not to "EndTxn"`},
		"no rewrite":        {Fault{Step: 1, Kind: Rewrite, Instance: "a", Request: "Fetch"}, "rewrite is set for a rewrite, and only for a rewrite"},
		"rewrite elsewhere": {Fault{Step: 1, Kind: Drop, Instance: "a", Request: "EndTxn", Rewrite: Throttle}, "rewrite is set for a rewrite, and only for a rewrite"},
		"with an error":     {Fault{Step: 1, Kind: Rewrite, Instance: "a", Request: "Fetch", Rewrite: Partial, Error: "NOT_LEADER_FOR_PARTITION"}, "a rewrite has no error"},
		"on a move":         {Fault{Step: 1, Kind: LeaderMove, Rewrite: Throttle}, "a leader-move has only a step (and a partition)"},
	} {
		require.EqualError(t, tc.f.validate([]string{"a"}), tc.want, name)
	}
	_, err := ParseCell("rewrite EndTxn partial")
	require.ErrorIs(t, err, ErrCell)
}
