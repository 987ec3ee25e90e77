package report

import (
	"time"

	"github.com/eosim/eosim/history"
	"github.com/eosim/eosim/invariants"
)

// evil is a record value that would break out of the page if it were not
// escaped.
const evil = `</code><script>alert("x")</script> & "quoted"`

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

// fixture is a small run of two instances in which b crashes after
// producing, so an input comes out twice: every kind of event, every
// outcome, and one duplicate-output anomaly.
func fixture() history.History {
	in := func(p int32, o int64, key, value string) history.Record {
		return history.Record{Topic: "orders", Partition: p, Offset: o, Key: key, Value: value}
	}
	out := func(p int32, o int64, order string) history.Record {
		return history.Record{Topic: "notifications", Partition: p, Offset: o, Key: "c1",
			Value: "Order " + order + " processed.", Headers: []history.Header{{Key: "order-id", Value: order}}}
	}
	cl := func(p int32, o int64) history.Record {
		return history.Record{Topic: "changelog", Partition: p, Offset: o, Key: "p1", Value: "99"}
	}
	i0 := in(0, 0, "p1", `{"order_id":"o1","quantity":2}`)
	i1 := in(0, 1, "p1", `{"order_id":"o2","quantity":1}`)
	i2 := in(1, 0, "p2", evil)
	i3 := in(1, 1, "p2", `{"order_id":"o4"}`)
	return history.History{Events: []history.Event{
		{T: 0, Kind: history.KindInput, Input: &i0},
		{T: 0, Kind: history.KindInput, Input: &i1},
		{T: ms(1), Kind: history.KindInput, Input: &i2},
		{T: ms(1), Kind: history.KindInput, Input: &i3},
		{T: ms(100), Kind: history.KindStart, Instance: "a", Detail: "incarnation 1, exactly_once_v2"},
		{T: ms(120), Kind: history.KindStart, Instance: "b", Detail: "incarnation 1, exactly_once_v2"},
		{T: ms(3000), Kind: history.KindAssign, Instance: "a", Partitions: []int32{0}},
		{T: ms(3000), Kind: history.KindLoad, Instance: "a", Load: &history.Load{Store: "inventory", Topic: "changelog",
			Partition: 0, Source: "changelog", From: 0, Upto: 0}},
		{T: ms(3000), Kind: history.KindAssign, Instance: "b", Partitions: []int32{1}},
		{T: ms(3200), Kind: history.KindUnit, Instance: "a", Unit: &history.Unit{ID: "a.1#0", Transactional: true,
			Outcome: history.Committed, Consumed: []history.Record{i0, i1},
			Produced: []history.Record{cl(0, 0), cl(0, 1), out(0, 0, "o1"), out(0, 1, "o2")},
			Offsets:  []history.Offset{{Topic: "orders", Partition: 0, Offset: 2}}}},
		{T: ms(3300), Kind: history.KindFault, Instance: "b", Fault: "crash", Detail: "step 3: crash b at after-produce"},
		{T: ms(3300), Kind: history.KindUnit, Instance: "b", Unit: &history.Unit{ID: "b.1#0", Outcome: history.Crashed,
			Reason: "crash at after-produce", Consumed: []history.Record{i2, i3},
			Produced: []history.Record{out(1, 0, "o3"), out(1, 1, "o4")}}},
		{T: ms(3300), Kind: history.KindCrash, Instance: "b", Detail: "after-produce"},
		{T: ms(3400), Kind: history.KindUnit, Instance: "a", Unit: &history.Unit{ID: "a.1#1", Transactional: true,
			Outcome: history.Aborted, Reason: "produce failed:\nbroker gone"}},
		{T: ms(4000), Kind: history.KindNote, Detail: "liveness phase: faults off"},
		{T: ms(4100), Kind: history.KindStart, Instance: "b", Detail: "incarnation 2, exactly_once_v2"},
		{T: ms(4500), Kind: history.KindAssign, Instance: "b", Partitions: []int32{1}},
		{T: ms(4500), Kind: history.KindLoad, Instance: "b", Load: &history.Load{Store: "inventory", Topic: "changelog",
			Partition: 1, Source: "local", From: 3, Upto: 5, State: []history.KV{{Key: "p2", Value: "97"}}}},
		{T: ms(4700), Kind: history.KindUnit, Instance: "b", Unit: &history.Unit{ID: "b.2#0", Outcome: history.Unknown,
			Reason: "crash at after-send-offsets", Consumed: []history.Record{i2, i3},
			Produced:    []history.Record{out(1, 2, "o3"), out(1, 4, "o4")},
			SideEffects: []history.Record{out(1, 3, "o3")},
			Offsets:     []history.Offset{{Topic: "orders", Partition: 1, Offset: 2}}}},
		{T: ms(5000), Kind: history.KindStop, Instance: "a"},
	}}
}

// failingRun is fixture judged: the output of the evil input came out
// twice. The anomaly names only b.2#0; b.1#0 is found through the evidence.
func failingRun() Run {
	h := fixture()
	first := h.Events[11].Unit.Produced[0]
	second := h.Events[18].Unit.Produced[0]
	return Run{
		Title:   "seed 7, at_least_once",
		Params:  [][2]string{{"seed", "7"}, {"guarantee", "at_least_once"}, {"note", `a "quoted" <param>`}},
		Replay:  "go run -tags synctests ./cmd/simrun -seed 7 -guarantee at_least_once",
		Verdict: "fail",
		History: h,
		Report: invariants.Report{
			Verdict: invariants.Fail,
			Checked: []string{invariants.DuplicateOutput, invariants.LostOutput},
			Anomalies: []invariants.Anomaly{{
				Kind:    invariants.DuplicateOutput,
				Summary: `input "o3" has 2 outputs: notifications/1@0, notifications/1@2`,
				Records: []history.Record{first, second, *h.Events[2].Input},
				Units:   []string{"b.2#0", "z.9#9"},
			}},
			Unknown: map[string]string{invariants.LostOutput: "the run did not complete"},
		},
	}
}
