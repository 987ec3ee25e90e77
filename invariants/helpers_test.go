package invariants

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/eosim/eosim/history"
	"github.com/stretchr/testify/require"
)

// The test application: an input's value is "id:qty" and its key the
// product; an output carries the order id in header "order-id"; the store
// maps a product to its stock, starting at 100.
const (
	orders  = "orders"
	notes   = "notifications"
	stock   = "app-stock-changelog"
	initial = "100"
)

func testSpec() Spec {
	return Spec{
		InputTopic:     orders,
		OutputTopic:    notes,
		ChangelogTopic: stock,
		InputID: func(r history.Record) (string, error) {
			id, _, ok := strings.Cut(r.Value, ":")
			if !ok {
				return "", fmt.Errorf("value %q is not id:qty", r.Value)
			}
			return id, nil
		},
		OutputFor: func(r history.Record) (string, error) {
			id, ok := r.Header("order-id")
			if !ok {
				return "", errors.New("no order-id header")
			}
			return id, nil
		},
		StateKey: func(r history.Record) (string, error) {
			if r.Key == "" {
				return "", errors.New("no product key")
			}
			return r.Key, nil
		},
		Initial: func(string) string { return initial },
		Apply: func(state string, in history.Record) (string, error) {
			_, q, _ := strings.Cut(in.Value, ":")
			qty, err := strconv.Atoi(q)
			if err != nil {
				return "", fmt.Errorf("quantity: %w", err)
			}
			s, err := strconv.Atoi(state)
			if err != nil {
				return "", fmt.Errorf("stock: %w", err)
			}
			return strconv.Itoa(s - qty), nil
		},
	}
}

// builder writes a run the way a correct exactly-once processor would: each
// unit's outputs and changelog records go to the partition of its inputs,
// visible only if its transaction commits.
type builder struct {
	h     history.History
	snap  history.Snapshot
	next  map[string]map[int32]int64
	stock map[string]string
	group map[int32]int64
}

func newBuilder() *builder {
	return &builder{
		snap:  history.Snapshot{Committed: map[string][]history.Record{orders: nil, notes: nil, stock: nil}, Uncommitted: map[string][]history.Record{}},
		next:  map[string]map[int32]int64{},
		stock: map[string]string{},
		group: map[int32]int64{},
	}
}

func (b *builder) event(ev history.Event) {
	ev.Seq = len(b.h.Events)
	b.h.Events = append(b.h.Events, ev)
}

// log appends a record to the end of its partition.
func (b *builder) log(topic string, p int32, key, value string, visible bool, hs ...history.Header) history.Record {
	if b.next[topic] == nil {
		b.next[topic] = map[int32]int64{}
	}
	r := history.Record{Topic: topic, Partition: p, Offset: b.next[topic][p], Key: key, Value: value, Headers: hs}
	b.next[topic][p]++
	b.snap.Uncommitted[topic] = append(b.snap.Uncommitted[topic], r)
	if visible {
		b.snap.Committed[topic] = append(b.snap.Committed[topic], r)
	}
	return r
}

func (b *builder) input(p int32, id, product string, qty int) history.Record {
	r := b.log(orders, p, product, fmt.Sprintf("%s:%d", id, qty), true)
	b.event(history.Event{Kind: history.KindInput, Input: &r})
	return r
}

// unit processes ins as one transaction with the given outcome.
func (b *builder) unit(id string, outcome history.Outcome, ins ...history.Record) *history.Unit {
	visible := outcome == history.Committed || outcome == history.Unknown
	u := &history.Unit{ID: id, Transactional: true, Outcome: outcome, Consumed: ins}
	stocks := map[string]string{}
	commits := map[int32]int64{}
	for _, in := range ins {
		oid, _, _ := strings.Cut(in.Value, ":")
		prev, ok := stocks[in.Key]
		if !ok {
			prev = cmp.Or(b.stock[in.Key], initial)
		}
		next, err := testSpec().Apply(prev, in)
		if err != nil {
			panic(err)
		}
		stocks[in.Key] = next
		u.Produced = append(u.Produced,
			b.log(notes, in.Partition, in.Key, "shipped", visible, history.Header{Key: "order-id", Value: oid}),
			b.log(stock, in.Partition, in.Key, next, visible))
		commits[in.Partition] = in.Offset + 1
	}
	for _, p := range slices.Sorted(maps.Keys(commits)) {
		u.Offsets = append(u.Offsets, history.Offset{Topic: orders, Partition: p, Offset: commits[p]})
		if visible {
			b.group[p] = commits[p]
		}
	}
	if visible {
		for k, v := range stocks {
			b.stock[k] = v
		}
	}
	b.event(history.Event{Kind: history.KindUnit, Instance: strings.Split(id, ".")[0], Unit: u})
	return u
}

// load records instance making store partition p ready, correctly restored
// from everything committed to its changelog so far.
func (b *builder) load(instance string, p int32) {
	upto := b.next[stock][p]
	last := map[string]string{}
	for _, r := range b.snap.Committed[stock] {
		if r.Partition == p {
			last[r.Key] = r.Value
		}
	}
	ld := &history.Load{Store: "stock", Topic: stock, Partition: p, Source: "changelog", Upto: upto}
	for _, k := range slices.Sorted(maps.Keys(last)) {
		ld.State = append(ld.State, history.KV{Key: k, Value: last[k]})
	}
	b.event(history.Event{Kind: history.KindLoad, Instance: instance, Load: ld})
}

// run returns the finished run, topics in (partition, offset) order.
func (b *builder) run() Run {
	for _, m := range []map[string][]history.Record{b.snap.Committed, b.snap.Uncommitted} {
		for _, rs := range m {
			sortRecords(rs)
		}
	}
	for _, p := range slices.Sorted(maps.Keys(b.group)) {
		b.snap.GroupOffsets = append(b.snap.GroupOffsets, history.Offset{Topic: orders, Partition: p, Offset: b.group[p]})
	}
	return Run{History: b.h, Snapshot: b.snap, Complete: true}
}

func sortRecords(rs []history.Record) {
	slices.SortStableFunc(rs, func(a, b history.Record) int {
		return cmp.Or(cmp.Compare(a.Partition, b.Partition), cmp.Compare(a.Offset, b.Offset))
	})
}

// base is a small correct run over two partitions: an aborted attempt
// retried, an unknown outcome that did commit, and a restore.
//
//	orders/0: o1 p1 3, o3 p3 1, o4 p1 2    orders/1: o2 p2 5, o5 p2 1
func base() Run {
	b := newBuilder()
	o1 := b.input(0, "o1", "p1", 3)
	o2 := b.input(1, "o2", "p2", 5)
	o3 := b.input(0, "o3", "p3", 1)
	o4 := b.input(0, "o4", "p1", 2)
	o5 := b.input(1, "o5", "p2", 1)
	b.unit("a.1#1", history.Committed, o1, o3)
	b.unit("a.1#2", history.Aborted, o2)
	b.unit("b.1#1", history.Committed, o2)
	b.load("b.2", 1)
	b.unit("b.2#1", history.Unknown, o5)
	b.unit("a.1#3", history.Committed, o4)
	return b.run()
}

// unit returns the unit of r named id.
func unit(r *Run, id string) *history.Unit {
	for _, u := range r.History.Units() {
		if u.ID == id {
			return u
		}
	}
	panic("no unit " + id)
}

// hide removes the record at topic/p@o from the committed view only, as if
// its transaction had aborted.
func hide(r *Run, topic string, p int32, o int64) {
	r.Snapshot.Committed[topic] = slices.DeleteFunc(slices.Clone(r.Snapshot.Committed[topic]), func(x history.Record) bool {
		return x.Partition == p && x.Offset == o
	})
}

// reveal makes the logged record at topic/p@o visible to read_committed.
func reveal(r *Run, topic string, p int32, o int64) {
	rec := get(*r, topic, p, o)
	r.Snapshot.Committed[topic] = append(slices.Clone(r.Snapshot.Committed[topic]), rec)
	sortRecords(r.Snapshot.Committed[topic])
}

// show adds rec to both views at its place.
func show(r *Run, rec history.Record) {
	for _, m := range []map[string][]history.Record{r.Snapshot.Committed, r.Snapshot.Uncommitted} {
		m[rec.Topic] = append(slices.Clone(m[rec.Topic]), rec)
		sortRecords(m[rec.Topic])
	}
}

// get returns the record at topic/p@o in the log.
func get(r Run, topic string, p int32, o int64) history.Record {
	for _, x := range r.Snapshot.Uncommitted[topic] {
		if x.Partition == p && x.Offset == o {
			return x
		}
	}
	panic(fmt.Sprintf("no record %s/%d@%d", topic, p, o))
}

// tcase is one table case for a single checker: a mutation of base and the
// summaries expected (a substring each, in order).
type tcase struct {
	name    string
	mut     func(r *Run)
	want    []string
	unknown string
}

func runCases(t *testing.T, kind string, check func(Spec, Run) Result, cases []tcase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := base()
			if tc.mut != nil {
				tc.mut(&r)
			}
			res := check(testSpec(), r)
			require.Equal(t, res, check(testSpec(), r), "deterministic")
			if tc.unknown != "" {
				require.Contains(t, res.Unknown, tc.unknown)
			} else {
				require.Empty(t, res.Unknown)
			}
			var got []string
			for _, a := range res.Anomalies {
				require.Equal(t, kind, a.Kind)
				require.NotContains(t, a.Summary, "\n")
				got = append(got, a.Summary)
			}
			require.Len(t, got, len(tc.want), "anomalies: %q", got)
			for i, w := range tc.want {
				require.Contains(t, got[i], w)
			}
		})
	}
}
