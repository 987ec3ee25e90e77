package report

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/eosim/eosim/history"
	"github.com/eosim/eosim/invariants"
)

// bigRun is about the size of a 10,000-order run with many faults: 100,000
// events, 2,000 units on two instances, and more anomalies than the page
// lists, all naming units among the first 100 of each instance.
func bigRun() Run {
	const units, inputs, anomalies = 2000, 96000, 600
	var h history.History
	add := func(ev history.Event) {
		ev.Seq = len(h.Events)
		h.Events = append(h.Events, ev)
	}
	for i := range inputs {
		r := history.Record{Topic: "orders", Partition: int32(i % 4), Offset: int64(i / 4), Key: "p1",
			Value: fmt.Sprintf(`{"order_id":"o%05d","quantity":%d}`, i, i%5)}
		add(history.Event{T: ms(i / 1000), Kind: history.KindInput, Input: &r})
	}
	outcomes := []history.Outcome{history.Committed, history.Committed, history.Committed, history.Aborted, history.Crashed, history.Unknown}
	var ids []string
	for k := range units {
		inst := []string{"a", "b"}[k%2]
		t := ms(1000 + 10*k)
		if k%100 == 0 {
			add(history.Event{T: t, Kind: history.KindAssign, Instance: inst, Partitions: []int32{int32(k % 4)}})
			add(history.Event{T: t, Kind: history.KindLoad, Instance: inst, Load: &history.Load{Store: "inventory", Topic: "changelog", Source: "changelog"}})
		}
		id := fmt.Sprintf("%s.1#%d", inst, k/2)
		ids = append(ids, id)
		var consumed, produced []history.Record
		for j := range 10 {
			consumed = append(consumed, history.Record{Topic: "orders", Partition: int32(k % 4), Offset: int64(k*10 + j)})
			produced = append(produced, history.Record{Topic: "notifications", Partition: int32(k % 4), Offset: int64(k*10 + j), Key: "c1", Value: "Order processed."})
		}
		o := outcomes[k%len(outcomes)]
		add(history.Event{T: t, Kind: history.KindUnit, Instance: inst, Unit: &history.Unit{ID: id, Outcome: o,
			Consumed: consumed, Produced: produced}})
		if o == history.Crashed {
			add(history.Event{T: t, Kind: history.KindCrash, Instance: inst, Detail: "after-produce"})
		}
	}
	for len(h.Events) < 100000 {
		add(history.Event{T: ms(21000), Kind: history.KindNote, Detail: "idle"})
	}
	rep := invariants.Report{Verdict: invariants.Fail}
	for i := range anomalies {
		k := i % 200
		rep.Anomalies = append(rep.Anomalies, invariants.Anomaly{
			Kind:    invariants.DuplicateOutput,
			Summary: fmt.Sprintf("input %d has 2 outputs", i),
			// The evidence record was produced by unit k+1, which the
			// anomaly does not name.
			Records: []history.Record{{Topic: "notifications", Partition: int32((k + 1) % 4), Offset: int64((k+1)*10 + 3)}},
			Units:   []string{ids[k]},
		})
	}
	return Run{Title: "big", Verdict: "fail", History: h, Report: rep}
}

func TestWriteHTMLScales(t *testing.T) {
	r := bigRun()
	page := render(t, r)

	t.Logf("%d events, %d units: %d bytes", len(r.History.Events), len(r.History.Units()), len(page))
	require.Less(t, len(page), 5<<20, "the page must stay small enough to open")
	requireBalanced(t, page)
	require.Contains(t, page, "<text class=\"note\" x=\"6\" y=\"44\">1000 units</text>", "both lanes aggregate")
	require.Equal(t, 2, strings.Count(page, ">1000 units</text>"))

	individual := strings.Count(page, `class="unit `)
	buckets := len(regexp.MustCompile(`<rect class="o-[a-z]+"`).FindAllString(page, -1))
	require.LessOrEqual(t, individual, 201, "only units an anomaly points at keep their own bar")
	require.LessOrEqual(t, buckets, 2*maxBarsPerLane)
	require.Less(t, individual+buckets, 2000, "fewer bars than units")

	targets := requireLinksResolve(t, page)
	set := map[string]bool{}
	for _, target := range targets {
		set[target] = true
	}
	for k := range 201 {
		id := anchors(r.History)[r.History.Units()[k].ID]
		require.True(t, set[id], "unit %d is linked from an anomaly and has a bar", k)
		require.Contains(t, page, `id="`+id+`" class="unit `)
	}
	require.Contains(t, page, "… 100 more anomalies")
	require.Equal(t, 500, strings.Count(page, `<div class="anomaly"`))
	require.Equal(t, 4, strings.Count(page, "<summary>units "), "the units table comes in pages")
	require.LessOrEqual(t, strings.Count(page, `class="m-note"`), maxNotes)
}

func TestBucketsShowTheWorstOutcome(t *testing.T) {
	r := bigRun()
	tl := buildTimeline(r.History, anchors(r.History), nil)
	for _, l := range tl.Lanes {
		require.True(t, l.Aggregated)
		require.Empty(t, l.Bars)
		for _, b := range l.Buckets {
			switch {
			case strings.Contains(b.Title, "crashed"):
				require.Equal(t, "o-crashed", b.Class, b.Title)
			case strings.Contains(b.Title, "unknown"):
				require.Equal(t, "o-unknown", b.Class, b.Title)
			case strings.Contains(b.Title, "aborted"):
				require.Equal(t, "o-aborted", b.Class, b.Title)
			default:
				require.Equal(t, "o-committed", b.Class, b.Title)
			}
		}
	}
}
