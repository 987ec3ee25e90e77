package faults

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/eosim/eosim/engine"
)

// Every cell of the reactions space, with a database's too, sets off a
// reaction, and every reaction but the database's is set off by the cells
// of a scenario without one.
func TestEveryReactionCellHasAReaction(t *testing.T) {
	withDB := ReactionSpace(append(engine.CrashPoints(), engine.DBCrashPoints()...), true)
	seen := make(map[Reaction]int)
	for _, c := range withDB {
		r := ReactionOf(c)
		require.NotEmpty(t, r, c)
		seen[r]++
	}
	require.Len(t, seen, len(Reactions()))
	without := ReactionSpace(engine.CrashPoints(), false)
	for _, c := range without {
		require.NotEqual(t, ReactDatabase, ReactionOf(c), c)
	}
	require.Empty(t, ReactionOf("no such cell"))
	require.Empty(t, ReactionOf("rewrite Fetch partial"), "a rewrite outside the reactions space")
}

func TestReactionOf(t *testing.T) {
	for cell, want := range map[string]Reaction{
		"crash at after-produce":                           ReactCrash,
		"crash at before-db-commit":                        ReactDatabase,
		"expire at during-commit":                          ReactExpire,
		"pause 3000ms at after-poll":                       ReactBlip,
		"pause 15000ms at after-produce":                   ReactStall,
		"join":                                             ReactMembership,
		"shutdown":                                         ReactMembership,
		"leader-move":                                      ReactCluster,
		"broker-error Produce TRANSACTION_ABORTABLE":       ReactAbort,
		"broker-error EndTxn PRODUCER_FENCED":              ReactFenced,
		"broker-error TxnOffsetCommit ILLEGAL_GENERATION":  ReactFenced,
		"broker-error InitProducerID NOT_COORDINATOR":      ReactRetry,
		"broker-error Produce REQUEST_TIMED_OUT":           ReactUnknown, // applied before the answer
		"broker-error EndTxn UNKNOWN_SERVER_ERROR applied": ReactAmbiguousCommit,
		"drop after EndTxn":                                ReactAmbiguousCommit,
		"broker-error TxnOffsetCommit REQUEST_TIMED_OUT":   ReactAmbiguousCommit,
		"drop after OffsetCommit":                          ReactAmbiguousCommit,
		"drop after AddPartitionsToTxn":                    ReactUnknown,
		"delay EndTxn 25000ms":                             ReactSlow,
		"db-slow 15000ms":                                  ReactDatabase,
		"rewrite EndTxn late-markers":                      ReactUnsettled,
	} {
		require.Equal(t, want, ReactionOf(cell), cell)
	}
}

// A seed's draw is its own and sorted, keeps at least one reaction, keeps
// every cell of each reaction it keeps (none of the others), keeps each
// reaction in about half the seeds, and membership whenever it keeps
// unsettled (so in about three quarters).
func TestSwarmReactions(t *testing.T) {
	space := ReactionSpace(engine.CrashPoints(), false)
	byReaction := make(map[Reaction]int)
	for _, g := range GroupByReaction(space) {
		byReaction[ReactionOf(g[0])] = len(g)
	}
	kept := make(map[Reaction]int)
	const seeds = 2000
	for seed := uint64(1); seed <= seeds; seed++ {
		cells := SwarmReactions(seed, space)
		require.Equal(t, cells, SwarmReactions(seed, space))
		require.True(t, slices.IsSorted(cells))
		groups := GroupByReaction(cells)
		require.NotEmpty(t, groups)
		var picked []Reaction
		for _, g := range groups {
			r := ReactionOf(g[0])
			require.Len(t, g, byReaction[r], "seed %d keeps %s whole", seed, r)
			kept[r]++
			picked = append(picked, r)
		}
		if slices.Contains(picked, ReactUnsettled) {
			require.Contains(t, picked, ReactMembership, "seed %d keeps unsettled without its companion", seed)
		}
	}
	for _, r := range Reactions() {
		switch r {
		case ReactDatabase:
			require.Zero(t, kept[r])
		case ReactMembership:
			require.InDelta(t, seeds*3/4, kept[r], seeds/10, r)
		default:
			require.InDelta(t, seeds/2, kept[r], seeds/10, r)
		}
	}
	require.Nil(t, SwarmReactions(1, nil))
}

// GroupByReaction keeps every cell that sets off a reaction, once, grouped
// in draw order.
func TestGroupByReaction(t *testing.T) {
	cells := []string{"delay EndTxn 500ms", "crash at after-poll", "no such cell", "drop after Produce", "crash at after-produce"}
	require.Equal(t, [][]string{{"crash at after-poll", "crash at after-produce"}, {"drop after Produce"}, {"delay EndTxn 500ms"}},
		GroupByReaction(cells))
	require.Nil(t, GroupByReaction(nil))
}

// FocusGroups draws only the groups' cells, and each group about as often
// as the next however many cells it has.
func TestFocusGroupsDrawsEachGroupAlike(t *testing.T) {
	small := []string{"broker-error Produce TRANSACTION_ABORTABLE"}
	var large []string
	for _, r := range DelayableRequests() {
		large = append(large, "delay "+r+" 500ms")
	}
	counts := map[bool]int{}
	for seed := uint64(1); seed <= 50; seed++ {
		s, err := FocusGroups(seed, [][]string{small, large}, []string{"a", "b"}, 40, "c")
		require.NoError(t, err)
		for _, f := range s.Faults {
			c := f.Cell()
			require.True(t, slices.Contains(small, c) || slices.Contains(large, c), c)
			counts[slices.Contains(small, c)]++
		}
	}
	require.Positive(t, counts[true])
	require.InEpsilon(t, counts[false], counts[true], 0.25)
	_, err := FocusGroups(1, [][]string{{"no such cell"}}, []string{"a"}, 5)
	require.ErrorIs(t, err, ErrCell)
	_, err = FocusGroups(1, [][]string{{}}, []string{"a"}, 5)
	require.Error(t, err)
}
