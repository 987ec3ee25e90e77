package coverage

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/eosim/eosim/engine"
	"github.com/eosim/eosim/faults"
	"github.com/eosim/eosim/history"
	"github.com/eosim/eosim/sim"
)

func TestCellOf(t *testing.T) {
	for _, tc := range []struct {
		f    faults.Fault
		want Cell
	}{
		{faults.Fault{Step: 3, Kind: faults.Crash, Instance: "a", Point: engine.AfterProduce, RestartAfter: 2}, "crash at after-produce"},
		{faults.Fault{Kind: faults.Expire, Point: engine.DuringCommit}, "expire at during-commit"},
		{faults.Fault{Kind: faults.Pause, Point: engine.AfterPoll, PauseMs: 15000}, "pause 15000ms at after-poll"},
		{faults.Fault{Kind: faults.BrokerError, Request: "EndTxn", Error: "PRODUCER_FENCED"}, "broker-error EndTxn PRODUCER_FENCED"},
		{faults.Fault{Kind: faults.Drop, Request: "TxnOffsetCommit"}, "drop after TxnOffsetCommit"},
		{faults.Fault{Kind: faults.Delay, Request: "Produce", DelayMs: 500}, "delay Produce 500ms"},
		{faults.Fault{Kind: faults.DBSlow, DelayMs: 15000}, "db-slow 15000ms"},
		{faults.Fault{Kind: faults.Join, Instance: "c"}, "join"},
		{faults.Fault{Kind: faults.LeaderMove, Partition: 2}, "leader-move"},
	} {
		require.Equal(t, tc.want, CellOf(tc.f))
	}
}

func TestSpace(t *testing.T) {
	orders := Space(false, engine.ExactlyOnceV2)
	require.True(t, slices.IsSorted(orders))
	require.Len(t, slices.Compact(slices.Clone(orders)), len(orders))
	require.Contains(t, orders, Cell("crash at during-commit"))
	require.Contains(t, orders, Cell("broker-error Produce TRANSACTION_ABORTABLE"))
	require.NotContains(t, orders, Cell("db-busy"))
	db := Space(true, engine.DBPositionsFenced)
	require.Contains(t, db, Cell("db-slow 30000ms"))
	require.Contains(t, db, Cell("crash at before-db-commit"))
	require.NotContains(t, db, Cell("crash at during-commit"), "a unit that writes only the database never reaches it")
	// Every cell a generator draws is in the space.
	for seed := uint64(1); seed <= 50; seed++ {
		rates := faults.Swarm(seed)
		rates.Database = 0 // as sim draws for a scenario without a database
		s, err := faults.Generate(seed, rates, []string{"a", "b"}, 30, "c")
		require.NoError(t, err)
		for _, f := range s.Faults {
			require.Contains(t, orders, CellOf(f), "seed %d", seed)
		}
	}
}

func TestUnreachable(t *testing.T) {
	require.Contains(t, Unreachable("drop after OffsetCommit", engine.ExactlyOnceV2), "never sends OffsetCommit")
	require.Empty(t, Unreachable("drop after OffsetCommit", engine.AtLeastOnce))
	require.Empty(t, Unreachable("drop after OffsetCommit", engine.OffsetsBeforeCommit))
	require.Contains(t, Unreachable("broker-error EndTxn PRODUCER_FENCED", engine.AtLeastOnce), "no transactional request")
	require.Contains(t, Unreachable("crash at during-commit", engine.AtLeastOnce), "no transaction")
	require.Empty(t, Unreachable("crash at during-commit", engine.ExactlyOnceV2))
}

func TestOfAndSummarize(t *testing.T) {
	crash := faults.Fault{Step: 1, Kind: faults.Crash, Instance: "a", Point: engine.AfterProduce, RestartAfter: 1}
	drop := faults.Fault{Step: 2, Kind: faults.Drop, Instance: "b", Request: "EndTxn"}
	move := faults.Fault{Step: 2, Kind: faults.CoordinatorMove}
	join := faults.Fault{Step: 3, Kind: faults.Join, Instance: "c"}
	ev := func(kind history.Kind, instance, detail string) history.Event {
		return history.Event{Kind: kind, Instance: instance, Detail: detail}
	}
	fired := func(f faults.Fault) history.Event {
		e := ev(history.KindFault, f.Instance, "fired: "+f.String())
		e.Fault = string(f.Kind)
		return e
	}
	res := sim.Result{
		Faults: []sim.FaultOutcome{
			{Fault: crash, Outcome: sim.Fired, Detail: crash.String()},
			{Fault: drop, Outcome: sim.Fired, Detail: drop.String()},
			{Fault: move, Outcome: sim.Fired, Detail: move.String()},
			{Fault: join, Outcome: sim.NotReached, Detail: "the input was processed before step 3"},
		},
		History: history.History{Events: []history.Event{
			ev(history.KindCrash, "a", "after-produce"),
			fired(crash),
			fired(drop),
			{Kind: history.KindUnit, Instance: "b", Unit: &history.Unit{ID: "b.1#3", Outcome: history.Unknown}},
			fired(move),
			ev(history.KindStart, "a", "incarnation 2"),
		}},
	}
	m := Of(res)
	require.Equal(t, &Count{Fired: 1, Then: map[string]int{"restarted": 1}}, m["crash at after-produce"])
	require.Equal(t, &Count{Fired: 1, Then: map[string]int{"unit unknown": 1}}, m["drop after EndTxn"])
	require.Equal(t, &Count{Fired: 1}, m["coordinator-move"], "a cluster fault names no instance to follow")
	require.Equal(t, &Count{NotReached: 1}, m["join"])

	sum := make(Map)
	sum.Add(m)
	sum.Add(m)
	require.Equal(t, 2, sum["crash at after-produce"].Then["restarted"])

	r := Summarize(sum, Space(false, engine.ExactlyOnceV2), engine.ExactlyOnceV2)
	require.Len(t, r.Reached, 3)
	require.Equal(t, len(Space(false, engine.ExactlyOnceV2)), r.Cells)
	require.Equal(t, r.Cells-3, len(r.Never))
	lines := strings.Join(r.Lines(), "\n")
	require.Contains(t, lines, "coverage: 3 of ")
	require.Regexp(t, `crash at after-produce +fired 2; then restarted 2`, lines)
	require.Regexp(t, `join +drawn 2 times, never fired`, lines)
	require.Regexp(t, `drop after OffsetCommit +exactly_once_v2 never sends OffsetCommit`, lines)
	require.Regexp(t, `leave +never drawn`, lines)
}

// Under -recovery continue an instance notes, within the step the fault
// fired in (before the "fired" line), that it aborted and continued: that
// is what it did next.
func TestThenAbortedAndContinued(t *testing.T) {
	drop := faults.Fault{Step: 2, Kind: faults.Drop, Instance: "b", Request: "EndTxn"}
	at := 3 * time.Second
	firedEv := history.Event{T: at, Kind: history.KindFault, Instance: "b", Fault: string(drop.Kind), Detail: "fired: " + drop.String()}
	res := sim.Result{
		Faults: []sim.FaultOutcome{{Fault: drop, Outcome: sim.Fired, Detail: drop.String()}},
		History: history.History{Events: []history.Event{
			{T: at, Kind: history.KindUnit, Instance: "b", Unit: &history.Unit{ID: "b.1#3", Outcome: history.Unknown}},
			{T: at, Kind: history.KindNote, Instance: "b", Detail: "b.1#3: the commit failed (…); " + engine.ContinuedNote + " on the same client"},
			firedEv,
			{T: at + time.Second, Kind: history.KindUnit, Instance: "b", Unit: &history.Unit{ID: "b.1#4", Outcome: history.Committed}},
		}},
	}
	require.Equal(t, &Count{Fired: 1, Then: map[string]int{engine.ContinuedNote: 1}}, Of(res)["drop after EndTxn"])
}

// A cell only a schedule or a focus names (a band) is reached beyond the
// space: it is listed, and not counted among the space's cells.
func TestSummarizeCountsCellsBeyondTheSpace(t *testing.T) {
	band := CellOf(faults.Fault{Kind: faults.Delay, Request: "EndTxn", Band: faults.PastSession})
	space := Space(false, engine.ExactlyOnceV2)
	require.NotContains(t, space, band)
	r := Summarize(Map{band: {Fired: 2}, space[0]: {Fired: 1}}, space, engine.ExactlyOnceV2)
	require.Equal(t, 1, r.Beyond)
	require.Len(t, r.Reached, 2)
	require.Equal(t, fmt.Sprintf("coverage: 1 of %d cells reached, and 1 beyond the generators' space", len(space)), r.Lines()[0])
}

// A hold whose band is empty under the holding client's timeouts has no
// effect, and says why; a cell that never fired for that reason is listed
// with it.
func TestEmptyBandIsAReason(t *testing.T) {
	hold := faults.Fault{Kind: faults.Delay, Instance: "a", Request: "Fetch", Band: faults.PastRequest}
	why := "Fetch past-request: request timeout 15s, session timeout 10s, transaction timeout 20s: " + faults.ErrEmptyBand.Error()
	m := Of(sim.Result{Faults: []sim.FaultOutcome{{Fault: hold, Outcome: sim.NoEffect, Detail: why}}})
	m.Add(Of(sim.Result{Faults: []sim.FaultOutcome{{Fault: hold, Outcome: sim.NoEffect, Detail: "instance down"}}}))
	r := Summarize(m, []Cell{CellOf(hold)}, engine.ExactlyOnceV2)
	require.Len(t, r.Never, 1)
	require.Equal(t, 2, r.Never[0].Drawn)
	require.Equal(t, "the band is empty: "+why, r.Never[0].Why)
	other := Of(sim.Result{Faults: []sim.FaultOutcome{{Fault: hold, Outcome: sim.NoEffect, Detail: "instance down"}}})
	require.Empty(t, Summarize(other, []Cell{CellOf(hold)}, engine.ExactlyOnceV2).Never[0].Why)
}
