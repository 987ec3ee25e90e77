package report_test

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/eosim/eosim/history"
	"github.com/eosim/eosim/invariants"
	"github.com/eosim/eosim/report"
)

func exampleHistory() history.History {
	in := history.Record{Topic: "orders", Partition: 0, Offset: 0, Key: "p1", Value: `{"order_id":"o1"}`}
	return history.History{Events: []history.Event{
		{T: 0, Kind: history.KindInput, Input: &in},
		{T: 3 * time.Second, Kind: history.KindAssign, Instance: "a", Partitions: []int32{0}},
		{T: 3200 * time.Millisecond, Kind: history.KindUnit, Instance: "a", Unit: &history.Unit{
			ID: "a.1#0", Transactional: true, Outcome: history.Committed,
			Consumed: []history.Record{in},
			Produced: []history.Record{{Topic: "notifications", Partition: 0, Offset: 0}},
			Offsets:  []history.Offset{{Topic: "orders", Partition: 0, Offset: 1}},
		}},
		{T: 3300 * time.Millisecond, Kind: history.KindCrash, Instance: "a", Detail: "after-produce"},
	}}
}

func ExampleWriteText() {
	if err := report.WriteText(os.Stdout, exampleHistory()); err != nil {
		fmt.Println(err)
	}
	// Output:
	//    0.000s  -    input      orders/0@0 key=p1 value={"order_id":"o1"}
	//    3.000s  a    assign     [0]
	//    3.200s  a    unit       a.1#0 committed txn in orders×1/0@0 → notifications×1/0@0 offsets orders/0:1
	//    3.300s  a    crash      after-produce
}

func ExampleWriteHTML() {
	// A command fills Run from its own result type; report needs only the
	// History and the checkers' Report.
	run := report.Run{
		Title:   "seed 7, at_least_once",
		Params:  [][2]string{{"seed", "7"}, {"guarantee", "at_least_once"}},
		Replay:  "go run -tags synctests ./cmd/simrun -seed 7 -guarantee at_least_once",
		Verdict: string(invariants.Fail),
		History: exampleHistory(),
		Report: invariants.Report{Verdict: invariants.Fail, Anomalies: []invariants.Anomaly{{
			Kind: invariants.DuplicateOutput, Summary: "input o1 has 2 outputs", Units: []string{"a.1#0"},
		}}},
	}
	var page bytes.Buffer // or an *os.File
	if err := report.WriteHTML(&page, run); err != nil {
		fmt.Println(err)
	}
	fmt.Println(strings.Contains(page.String(), `<a href="#unit-a.1_0">`))
	// Output: true
}
