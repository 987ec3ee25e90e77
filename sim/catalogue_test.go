//go:build synctests

package sim

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/eosim/eosim/engine"
	"github.com/eosim/eosim/faults"
	"github.com/eosim/eosim/history"
	"github.com/eosim/eosim/invariants"
)

// runSchedule runs the default workload (400 orders) under fs. Faults on
// AddPartitionsToTxn and AddOffsetsToTxn need the transaction protocol that
// still sends them.
func runSchedule(t *testing.T, g engine.Guarantee, fs ...faults.Fault) Result {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Inputs, cfg.Guarantee = 400, g
	cfg.Schedule = &faults.Schedule{Faults: fs}
	cfg.RecordWire = true
	cfg.TransactionsV1 = slices.ContainsFunc(fs, func(f faults.Fault) bool {
		return f.Request == "AddPartitionsToTxn" || f.Request == "AddOffsetsToTxn"
	})
	return runInBubble(t, cfg)
}

// faultEvents returns the details of the fault events of instance.
func faultEvents(h history.History, instance string) []string {
	var ds []string
	for _, ev := range events(h, history.KindFault, instance) {
		ds = append(ds, ev.Detail)
	}
	return ds
}

func requireFired(t *testing.T, res Result, instance string) {
	t.Helper()
	fired := slices.ContainsFunc(faultEvents(res.History, instance), func(d string) bool {
		return strings.HasPrefix(d, "fired: ")
	})
	require.True(t, fired, "the fault never fired: %v", faultEvents(res.History, instance))
}

func requirePass(t *testing.T, res Result) {
	t.Helper()
	require.True(t, res.Complete, "the run did not finish its input")
	require.Equal(t, invariants.Pass, res.Verdict(), "anomalies: %v", res.Report.Anomalies)
}

// TestZombieIsFenced pauses instance a after it produced, for longer than
// both the session and the transaction timeouts. b takes a's partitions and
// commits; the coordinator aborts a's transaction; a wakes, tries to commit,
// and is fenced: none of what it wrote becomes visible.
func TestZombieIsFenced(t *testing.T) {
	res := runSchedule(t, engine.ExactlyOnceV2, faults.Fault{
		Step: 2, Kind: faults.Pause, Instance: "a", Point: engine.AfterProduce, PauseMs: 30_000,
	})
	requirePass(t, res)
	events := faultEvents(res.History, "a")
	require.Contains(t, events, "resumed", "the zombie never woke")

	var zombie *history.Unit
	for _, u := range res.History.Units() {
		if strings.HasPrefix(u.ID, "a.1#") && u.Outcome != history.Committed {
			zombie = u
		}
	}
	require.NotNil(t, zombie, "no unit of the zombie failed to commit")
	require.Equal(t, history.Aborted, zombie.Outcome)
	fenced := ""
	for _, ev := range res.History.Events {
		if ev.Instance == "a" && strings.HasPrefix(ev.Detail, "fenced out of the group") {
			fenced = ev.Detail
		}
	}
	require.NotEmpty(t, fenced, "the History must say the zombie was fenced")
	require.Contains(t, fenced, "the coordinator answered UNKNOWN_MEMBER_ID", "the History must name the error that fenced the zombie")
	require.NotEmpty(t, zombie.Produced)
	visible := make(map[string]bool)
	for _, recs := range res.Snapshot.Committed {
		for _, r := range recs {
			visible[fmt.Sprintf("%s/%d@%d", r.Topic, r.Partition, r.Offset)] = true
		}
	}
	for _, r := range zombie.Produced {
		require.False(t, visible[fmt.Sprintf("%s/%d@%d", r.Topic, r.Partition, r.Offset)],
			"the zombie's record %s/%d@%d is visible to read_committed", r.Topic, r.Partition, r.Offset)
	}
	bTook := false
	for _, ev := range res.History.Events {
		bTook = bTook || (ev.Kind == history.KindAssign && ev.Instance == "b" && len(ev.Partitions) == 4)
	}
	require.True(t, bTook, "b never took a's partitions")
}

func TestShortPauseIsHarmless(t *testing.T) {
	res := runSchedule(t, engine.ExactlyOnceV2, faults.Fault{
		Step: 2, Kind: faults.Pause, Instance: "b", Point: engine.AfterProcess, Index: 3, PauseMs: 3_000,
	})
	requirePass(t, res)
	require.Contains(t, faultEvents(res.History, "b"), "resumed")
}

func TestSessionExpiresAfterHardCrash(t *testing.T) {
	res := runSchedule(t, engine.ExactlyOnceV2, faults.Fault{
		Step: 2, Kind: faults.Expire, Instance: "a", Point: engine.AfterSendOffsets,
	})
	requirePass(t, res)
	expired := false
	for _, ev := range res.History.Events {
		expired = expired || (ev.Instance == "a" && strings.Contains(ev.Detail, "expired its session"))
	}
	require.True(t, expired, "a restarted before the coordinator expired its session")
}

func TestJoin(t *testing.T) {
	res := runSchedule(t, engine.ExactlyOnceV2, faults.Fault{Step: 2, Kind: faults.Join, Instance: "c"})
	requirePass(t, res)
	require.Len(t, events(res.History, history.KindStart, "c"), 1, "c never joined")
	joins := exchanges(res, "c", int16(kmsg.JoinGroup))
	require.True(t, slices.ContainsFunc(joins, exchange.answered), "no JoinGroup of c was answered by the coordinator")
	got := false
	for _, ev := range events(res.History, history.KindAssign, "c") {
		got = got || len(ev.Partitions) > 0
	}
	require.True(t, got, "c joined but got no partitions")
}

// TestLeave: a static member's close keeps its place in the group until its
// session expires (10s); the operator's LeaveGroup by instance id gives its
// partitions to the others at once. The whole default input keeps the fault
// phase long, so the liveness phase cannot bring b back and blur the two.
func TestLeave(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Schedule = &faults.Schedule{Faults: []faults.Fault{{Step: 3, Kind: faults.Leave, Instance: "b"}}}
	cfg.RecordWire = true
	res := runInBubble(t, cfg)
	requirePass(t, res)
	// On the wire: the LeaveGroup is the operator's (the driver's admin
	// client, kgo's default client id), never the member's own.
	require.Empty(t, exchanges(res, "b", int16(kmsg.LeaveGroup)), "b's own close sent LeaveGroup")
	require.Len(t, exchanges(res, "kgo", int16(kmsg.LeaveGroup)), 1, "the operator's LeaveGroup never reached the coordinator")
	stops := events(res.History, history.KindStop, "b")
	require.Len(t, stops, 2, "b never left, or never came back")
	var takeover time.Duration = -1
	for _, ev := range events(res.History, history.KindAssign, "a") {
		if ev.Seq > stops[0].Seq && len(ev.Partitions) == cfg.Partitions {
			takeover = ev.T - stops[0].T
			break
		}
	}
	require.GreaterOrEqual(t, takeover, time.Duration(0), "a never took b's partitions")
	require.Less(t, takeover, 5*time.Second, "a took b's partitions only after b's session could have expired")
}

// TestBrokerErrors answers each request of the catalogue with each of its
// errors once, asserts the broker really answered so, and requires
// exactly_once_v2 to pass. Requests sent only when an instance starts or
// rejoins are followed by a crash that makes it do so.
func TestBrokerErrors(t *testing.T) {
	for _, req := range faults.BrokerErrorRequests() {
		for _, kerrName := range faults.BrokerErrors(req) {
			t.Run(req+"/"+kerrName, func(t *testing.T) {
				g := engine.ExactlyOnceV2
				if req == "OffsetCommit" {
					g = engine.AtLeastOnce // only the non-transactional path commits this way
				}
				fs := []faults.Fault{{Step: 2, Kind: faults.BrokerError, Instance: "a", Request: req, Error: kerrName}}
				if req == "InitProducerID" || req == "OffsetFetch" {
					fs = append(fs, faults.Fault{Step: 3, Kind: faults.Crash, Instance: "a", Point: engine.AfterCommit, RestartAfter: 1})
				}
				res := runSchedule(t, g, fs...)
				requireFired(t, res, "a")
				if g == engine.ExactlyOnceV2 {
					requirePass(t, res)
				}
			})
		}
	}
}

// TestDroppedConnections loses the answer of each transactional request
// once: the broker did the work, the client must cope.
func TestDroppedConnections(t *testing.T) {
	for _, req := range faults.DroppableRequests() {
		if req == "OffsetCommit" {
			continue // not sent under exactly_once_v2
		}
		t.Run(req, func(t *testing.T) {
			fs := []faults.Fault{{Step: 2, Kind: faults.Drop, Instance: "b", Request: req}}
			if req == "InitProducerID" {
				fs = append(fs, faults.Fault{Step: 3, Kind: faults.Crash, Instance: "b", Point: engine.AfterCommit, RestartAfter: 1})
			}
			res := runSchedule(t, engine.ExactlyOnceV2, fs...)
			requireFired(t, res, "b")
			requirePass(t, res)
		})
	}
}

// TestWeakerModesBreakUnderFaults: the same faults that exactly_once_v2
// survives break the weaker modes, each with the anomaly it should.
func TestWeakerModesBreakUnderFaults(t *testing.T) {
	for _, tc := range []struct {
		name  string
		g     engine.Guarantee
		fault faults.Fault
		kind  string
	}{
		{"alos/zombie", engine.AtLeastOnce,
			faults.Fault{Step: 2, Kind: faults.Pause, Instance: "a", Point: engine.AfterProduce, PauseMs: 30_000}, invariants.DuplicateOutput},
		{"alos/session-expiry", engine.AtLeastOnce,
			faults.Fault{Step: 2, Kind: faults.Expire, Instance: "a", Point: engine.AfterProduce}, invariants.DuplicateOutput},
		{"alos/offset-commit-rejected", engine.AtLeastOnce,
			faults.Fault{Step: 2, Kind: faults.BrokerError, Instance: "a", Request: "OffsetCommit", Error: "ILLEGAL_GENERATION"}, invariants.DuplicateOutput},
		{"peek/end-txn-abortable", engine.PeekSideEffect,
			faults.Fault{Step: 2, Kind: faults.BrokerError, Instance: "a", Request: "EndTxn", Error: "TRANSACTION_ABORTABLE"}, invariants.DuplicateOutput},
		{"peek/add-partitions-abortable", engine.PeekSideEffect,
			faults.Fault{Step: 2, Kind: faults.BrokerError, Instance: "a", Request: "AddPartitionsToTxn", Error: "TRANSACTION_ABORTABLE"}, invariants.DuplicateOutput},
		{"peek/txn-offset-commit-illegal-generation", engine.PeekSideEffect,
			faults.Fault{Step: 2, Kind: faults.BrokerError, Instance: "a", Request: "TxnOffsetCommit", Error: "ILLEGAL_GENERATION"}, invariants.DuplicateOutput},
		{"peek/zombie", engine.PeekSideEffect,
			faults.Fault{Step: 2, Kind: faults.Pause, Instance: "a", Point: engine.AfterProcess, Index: 5, PauseMs: 30_000}, invariants.DuplicateOutput},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := runSchedule(t, tc.g, tc.fault)
			require.NotEmpty(t, faultEvents(res.History, "a"))
			require.Equal(t, invariants.Fail, res.Verdict())
			require.Contains(t, res.Report.Kinds(), tc.kind)
		})
	}
}

// TestClusterMoves moves partition leaders and the coordinators of a
// three-broker cluster mid-run, asserts each move happened, and requires
// exactly_once_v2 to pass through them.
func TestClusterMoves(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Inputs, cfg.Brokers = 400, 3
	cfg.Schedule = &faults.Schedule{Faults: []faults.Fault{
		{Step: 2, Kind: faults.LeaderMove, Partition: 1},
		{Step: 3, Kind: faults.CoordinatorMove},
		{Step: 4, Kind: faults.LeaderMove, Partition: 2},
		{Step: 5, Kind: faults.Crash, Instance: "a", Point: engine.DuringCommit, RestartAfter: 1},
	}}
	cfg.RecordWire = true
	res := runInBubble(t, cfg)
	requirePass(t, res)
	// On the wire: the members' last heartbeats went to the coordinator
	// the move named.
	for _, m := range []string{"a", "b"} {
		beats := exchanges(res, m, int16(kmsg.Heartbeat))
		require.NotEmpty(t, beats)
		require.Equal(t, coordinatorAfterMove(t, res), beats[len(beats)-1].req.Broker, "%s's last heartbeat went elsewhere", m)
	}
	var fired []string
	for _, ev := range res.History.Events {
		if ev.Kind == history.KindFault && ev.Instance == "" && strings.HasPrefix(ev.Detail, "fired: ") {
			fired = append(fired, ev.Detail)
		}
	}
	require.Equal(t, []string{
		"fired: partition 1 now led by broker 2",
		fmt.Sprintf("fired: group coordinator now broker %d", coordinatorAfterMove(t, res)),
		"fired: partition 2 now led by broker 0",
	}, fired)
}

// coordinatorAfterMove reads the coordinator the run recorded, checking it
// names a broker of the cluster.
func coordinatorAfterMove(t *testing.T, res Result) int32 {
	t.Helper()
	for _, ev := range res.History.Events {
		var n int32
		if _, err := fmt.Sscanf(ev.Detail, "fired: group coordinator now broker %d", &n); err == nil {
			require.True(t, n >= 0 && n < 3, "coordinator %d is not a broker", n)
			return n
		}
	}
	t.Fatal("the coordinator move never fired")
	return -1
}

// TestDelayedRequests holds each transactional request of an instance at
// the broker while the rest of the world goes on, up to past the
// transaction timeout, and requires exactly_once_v2 to pass.
func TestDelayedRequests(t *testing.T) {
	for _, req := range faults.DelayableRequests() {
		if req == "OffsetCommit" || req == "InitProducerID" {
			continue // not sent by a running exactly_once_v2 instance
		}
		for _, ms := range faults.DelayChoices() {
			t.Run(fmt.Sprintf("%s/%dms", req, ms), func(t *testing.T) {
				fs := []faults.Fault{{Step: 2, Kind: faults.Delay, Instance: "a", Request: req, DelayMs: ms}}
				if req == "OffsetFetch" {
					// Members fetch offsets once assigned: a join
					// makes them.
					fs = append(fs, faults.Fault{Step: 3, Kind: faults.Join, Instance: "c"})
				}
				res := runSchedule(t, engine.ExactlyOnceV2, fs...)
				requireFired(t, res, "a")
				requirePass(t, res)
			})
		}
	}
}

// TestBrokerRestart restarts every broker from its data directory twice,
// once around a crash, and requires exactly_once_v2 to pass.
func TestBrokerRestart(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Inputs, cfg.Brokers = 400, 2
	cfg.Schedule = &faults.Schedule{Faults: []faults.Fault{
		{Step: 2, Kind: faults.BrokerRestart},
		{Step: 5, Kind: faults.Crash, Instance: "a", Point: engine.AfterProduce, RestartAfter: 1},
		{Step: 6, Kind: faults.BrokerRestart},
	}}
	res := runInBubble(t, cfg)
	requirePass(t, res)
	restarts := 0
	for _, ev := range res.History.Events {
		if ev.Kind == history.KindFault && ev.Detail == "fired: the brokers restarted" {
			restarts++
		}
	}
	require.Equal(t, 2, restarts)
}

// TestBrokerRestartLetsHeldRequestsGo replays the plan in which the brokers
// restart while delays hold two requests (kfake closed over two sleeping
// controls used to wedge the run): c joins, a's and b's offset fetches of
// the rebalance are held 25 s, and the brokers restart 2 s later. It
// requires the requests let go first and exactly_once_v2 to pass.
func TestBrokerRestartLetsHeldRequestsGo(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "testdata", "schedules", "eos-broker-restart-while-two-offset-fetches-held.json"))
	require.NoError(t, err)
	plan, err := ParsePlan(data)
	require.NoError(t, err)
	cfg, err := plan.Apply(DefaultConfig(), nil)
	require.NoError(t, err)
	cfg.RecordWire = true
	res := runInBubble(t, cfg)
	requirePass(t, res)
	var notes []string
	for _, ev := range events(res.History, history.KindNote, "") {
		notes = append(notes, ev.Detail)
	}
	require.Contains(t, notes, "2 held requests let go before the brokers restart")
	// On the wire: both offset fetches were answered, not lost, and before
	// the restart.
	restarted := faultAt(t, res, "", "fired: the brokers restarted")
	answered := 0
	for _, client := range []string{"a", "b"} {
		for _, x := range exchanges(res, client, int16(kmsg.OffsetFetch)) {
			if x.answered() && x.req.T < restarted && x.answer.T <= restarted && x.answer.T-x.req.T >= time.Second {
				answered++
			}
		}
	}
	require.Equal(t, 2, answered, "the held offset fetches were not answered before the restart")
}

// TestRebalanceDuringOffsetFetch: c joins; once the group has settled, the
// first member to fetch its offsets has the fetch held at the broker for 5s,
// and d joins meanwhile: the group rebalances in the middle of the fetch.
// exactly_once_v2 must pass.
func TestRebalanceDuringOffsetFetch(t *testing.T) {
	res := runSchedule(t, engine.ExactlyOnceV2,
		faults.Fault{Step: 2, Kind: faults.Join, Instance: "c"},
		faults.Fault{Step: 2, Kind: faults.Delay, Instance: "c", Request: "OffsetFetch", DelayMs: 5_000},
		faults.Fault{Step: 12, Kind: faults.Join, Instance: "d"},
	)
	requirePass(t, res)
	var held, dStarted, reassigned time.Duration
	for _, ev := range res.History.Events {
		switch {
		case ev.Kind == history.KindFault && ev.Fault == string(faults.Delay) && strings.HasPrefix(ev.Detail, "fired"):
			held = ev.T
		case ev.Kind == history.KindStart && ev.Instance == "d":
			dStarted = ev.T
		case ev.Kind == history.KindAssign && ev.Instance == "d" && reassigned == 0:
			reassigned = ev.T
		}
	}
	require.NotZero(t, held, "no offset fetch was held")
	require.True(t, dStarted > held && dStarted < held+5*time.Second,
		"d joined at %v, not while the fetch held at %v was held", dStarted, held)
	require.Greater(t, reassigned, dStarted, "the group never rebalanced for d")
	// On the wire: the coordinator read d's JoinGroup while c's OffsetFetch
	// was held, and answered the fetch 5s after reading it.
	fetch := slices.IndexFunc(exchanges(res, "c", int16(kmsg.OffsetFetch)), func(x exchange) bool {
		return x.answered() && x.answer.T-x.req.T >= 5*time.Second
	})
	require.GreaterOrEqual(t, fetch, 0, "no offset fetch of c was held 5s at the broker")
	f := exchanges(res, "c", int16(kmsg.OffsetFetch))[fetch]
	joined := slices.ContainsFunc(exchanges(res, "d", int16(kmsg.JoinGroup)), func(x exchange) bool {
		return x.req.T > f.req.T && x.req.T < f.answer.T
	})
	require.True(t, joined, "no JoinGroup of d reached the coordinator while c's fetch (%v to %v) was held", f.req.T, f.answer.T)
}
