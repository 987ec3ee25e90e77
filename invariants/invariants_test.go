package invariants

import (
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/eosim/eosim/history"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

func names(cs []Checker) []string {
	var ns []string
	for _, c := range cs {
		ns = append(ns, c.Name)
	}
	return ns
}

func TestAllInFixedOrder(t *testing.T) {
	require.Equal(t, []string{
		InventoryFold, DuplicateOutput, LostOutput, PhantomOutput,
		AbortedRead, TornTransaction, OffsetOutputMismatch, StateRestore,
	}, names(All()))
}

func TestByName(t *testing.T) {
	cs, err := ByName(LostOutput, InventoryFold)
	require.NoError(t, err)
	require.Equal(t, []string{LostOutput, InventoryFold}, names(cs))

	_, err = ByName(LostOutput, "lost-outptu")
	require.ErrorIs(t, err, ErrUnknownChecker)
	require.ErrorContains(t, err, `"lost-outptu"`)
	for _, n := range names(All()) {
		require.ErrorContains(t, err, n, "error lists the valid names")
	}
}

func TestCheckPass(t *testing.T) {
	rep := Check(testSpec(), base())
	require.Equal(t, Pass, rep.Verdict)
	require.Empty(t, rep.Anomalies)
	require.Empty(t, rep.Unknown)
	require.Equal(t, names(All()), rep.Checked)
	require.Empty(t, rep.Kinds())
}

func TestCheckUnknownIsNotPass(t *testing.T) {
	r := base()
	r.Complete = false
	rep := Check(testSpec(), r)
	require.Equal(t, Unknown, rep.Verdict)
	require.Equal(t, []string{LostOutput}, slices.Sorted(maps.Keys(rep.Unknown)))
}

func TestCheckFailOutranksUnknown(t *testing.T) {
	r := base()
	r.Complete = false
	reveal(&r, notes, 1, 0)
	rep := Check(testSpec(), r)
	require.Equal(t, Fail, rep.Verdict)
	require.Contains(t, rep.Unknown, LostOutput)
	require.Equal(t, []string{AbortedRead, DuplicateOutput}, rep.Kinds())
	// Anomalies come in checker order.
	require.Equal(t, DuplicateOutput, rep.Anomalies[0].Kind)
	require.Equal(t, AbortedRead, rep.Anomalies[1].Kind)
}

func TestCheckOnlyTheCheckersGiven(t *testing.T) {
	r := base()
	reveal(&r, notes, 1, 0)
	cs, err := ByName(LostOutput, StateRestore)
	require.NoError(t, err)
	rep := Check(testSpec(), r, cs...)
	require.Equal(t, Pass, rep.Verdict)
	require.Equal(t, []string{LostOutput, StateRestore}, rep.Checked)
}

func TestCheckSurvivesAPanickingChecker(t *testing.T) {
	spec := testSpec()
	spec.StateKey = nil
	rep := Check(spec, base())
	require.Equal(t, Unknown, rep.Verdict)
	require.Contains(t, rep.Unknown[InventoryFold], "checker panicked")
	require.Len(t, rep.Unknown, 1)
}

// genRun draws a run of a correct exactly-once processor: random orders over
// a few products and partitions, processed in contiguous chunks per
// partition, some attempts aborting or crashing before a retry commits, some
// commits answered with unknown, and store loads in between.
func genRun(t *rapid.T) Run {
	b := newBuilder()
	parts := rapid.IntRange(1, 3).Draw(t, "partitions")
	products := rapid.IntRange(1, 4).Draw(t, "products")
	n := rapid.IntRange(0, 15).Draw(t, "orders")
	pending := map[int32][]history.Record{}
	for i := range n {
		prod := rapid.IntRange(0, products-1).Draw(t, "product")
		qty := rapid.IntRange(1, 9).Draw(t, "qty")
		p := int32(prod % parts)
		pending[p] = append(pending[p], b.input(p, fmt.Sprintf("o%d", i), fmt.Sprintf("p%d", prod), qty))
	}
	outcomes := []history.Outcome{history.Committed, history.Unknown, history.Aborted, history.Crashed}
	failures := 0
	for seq := 0; ; seq++ {
		var open []int32
		for p := range int32(parts) {
			if len(pending[p]) > 0 {
				open = append(open, p)
			}
		}
		if len(open) == 0 {
			break
		}
		p := rapid.SampledFrom(open).Draw(t, "partition")
		size := rapid.IntRange(1, len(pending[p])).Draw(t, "chunk")
		outcome := rapid.SampledFrom(outcomes).Draw(t, "outcome")
		if outcome == history.Aborted || outcome == history.Crashed {
			// Bounded so that every run finishes.
			if failures++; failures > 5 {
				outcome = history.Committed
			}
		}
		if rapid.Bool().Draw(t, "load") {
			b.load(fmt.Sprintf("i%d", seq), p)
		}
		b.unit(fmt.Sprintf("i%d.1#%d", p, seq), outcome, pending[p][:size]...)
		if outcome == history.Committed || outcome == history.Unknown {
			pending[p] = pending[p][size:]
		}
	}
	return b.run()
}

func TestPropertyCorrectRunPasses(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		r := genRun(t)
		rep := Check(testSpec(), r)
		if rep.Verdict != Pass {
			t.Fatalf("correct run judged %s: %+v", rep.Verdict, rep)
		}
	})
}

func TestPropertyDuplicatedOutputIsDuplicate(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		r := genRun(t)
		outs := r.Snapshot.Committed[notes]
		if len(outs) == 0 {
			t.Skip("no output to duplicate")
		}
		dup := rapid.SampledFrom(outs).Draw(t, "duplicated")
		dup.Offset = int64(len(r.Snapshot.Uncommitted[notes])) // past every offset in use
		show(&r, dup)
		rep := Check(testSpec(), r)
		if !slices.Equal(rep.Kinds(), []string{DuplicateOutput}) {
			t.Fatalf("kinds %v, want only %s: %+v", rep.Kinds(), DuplicateOutput, rep.Anomalies)
		}
	})
}

func TestPropertyLostOutputIsLost(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		r := genRun(t)
		outs := r.Snapshot.Committed[notes]
		if len(outs) == 0 {
			t.Skip("no output to lose")
		}
		lost := rapid.SampledFrom(outs).Draw(t, "lost")
		hide(&r, notes, lost.Partition, lost.Offset)
		rep := Check(testSpec(), r)
		want := []string{LostOutput, OffsetOutputMismatch, TornTransaction}
		if !slices.Equal(rep.Kinds(), want) {
			t.Fatalf("kinds %v, want %v: %+v", rep.Kinds(), want, rep.Anomalies)
		}
	})
}

func TestReportKinds(t *testing.T) {
	rep := Report{Anomalies: []Anomaly{{Kind: TornTransaction}, {Kind: AbortedRead}, {Kind: TornTransaction}}}
	require.Equal(t, []string{AbortedRead, TornTransaction}, rep.Kinds())
}
