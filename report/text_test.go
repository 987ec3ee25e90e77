package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/eosim/eosim/history"
)

var update = flag.Bool("update", false, "rewrite testdata/text.golden from the current output")

var golden = filepath.Join("testdata", "text.golden")

func text(t *testing.T, h history.History) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, WriteText(&buf, h))
	return buf.Bytes()
}

func TestWriteTextGolden(t *testing.T) {
	got := text(t, fixture())
	if *update {
		require.NoError(t, os.WriteFile(golden, got, 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err, "run go test ./report -run TestWriteTextGolden -update to create it")
	require.Equal(t, string(want), string(got), "text history changed; if that is intended, rerun with -update")

	// The golden file guards the History: any change to what happened must
	// show in the text.
	mutations := map[string]func(*history.History){
		"outcome":        func(h *history.History) { h.Events[9].Unit.Outcome = history.Aborted },
		"consumed":       func(h *history.History) { h.Events[9].Unit.Consumed[1].Offset = 7 },
		"produced topic": func(h *history.History) { h.Events[11].Unit.Produced[0].Topic = "elsewhere" },
		"time":           func(h *history.History) { h.Events[12].T += ms(1) },
		"instance":       func(h *history.History) { h.Events[12].Instance = "a" },
		"assignment":     func(h *history.History) { h.Events[6].Partitions = []int32{0, 1} },
		"load range":     func(h *history.History) { h.Events[17].Load.Upto = 6 },
		"input value":    func(h *history.History) { h.Events[0].Input.Value = `{"order_id":"o9"}` },
		"dropped event":  func(h *history.History) { h.Events = h.Events[:len(h.Events)-1] },
	}
	for name, mutate := range mutations {
		t.Run("differs after "+name, func(t *testing.T) {
			h := fixture()
			mutate(&h)
			require.NotEqual(t, string(want), string(text(t, h)))
		})
	}
}

func TestWriteTextIsStableAndOneLinePerEvent(t *testing.T) {
	h := fixture()
	a, b := text(t, h), text(t, h)
	require.Equal(t, a, b)
	lines := strings.Split(strings.TrimSuffix(string(a), "\n"), "\n")
	require.Len(t, lines, len(h.Events), "a detail with a line break must not split its event")
	for _, l := range lines {
		require.Equal(t, strings.TrimRight(l, " "), l, "no trailing blanks, so diffs stay clean")
	}
}

func TestWriteTextLine(t *testing.T) {
	h := history.History{Events: []history.Event{
		{T: ms(3102), Kind: history.KindAssign, Instance: "a", Partitions: []int32{0, 2}},
		{T: ms(4400), Kind: history.KindUnit, Instance: "a", Unit: &history.Unit{ID: "a.1#0", Outcome: history.Committed,
			Consumed: recs("orders", 0, 0, 10, 2, 0, 10),
			Produced: append(recs("notifications", 1, 0, 20), recs("changelog", 0, 5, 7, 0, 9, 10)...),
			Offsets:  []history.Offset{{Topic: "orders", Partition: 2, Offset: 10}, {Topic: "orders", Partition: 0, Offset: 10}}}},
		{T: 12345 * ms(1000), Kind: history.KindStop, Instance: "b"},
	}}
	require.Equal(t, ""+
		"   3.102s  a    assign     [0 2]\n"+
		"   4.400s  a    unit       a.1#0 committed in orders×20/0@0-9,2@0-9 → changelog×3/0@5-6+9 notifications×20/1@0-19 offsets orders/0:10,2:10\n"+
		"12345.000s  b    stop\n",
		string(text(t, h)))
}

// recs builds records of one topic from (partition, from, upto) triples.
func recs(topic string, spans ...int64) []history.Record {
	var rs []history.Record
	for i := 0; i+2 < len(spans); i += 3 {
		for o := spans[i+1]; o < spans[i+2]; o++ {
			rs = append(rs, history.Record{Topic: topic, Partition: int32(spans[i]), Offset: o})
		}
	}
	return rs
}

func TestOffsetRanges(t *testing.T) {
	for _, c := range []struct {
		in   []int64
		want string
	}{
		{nil, ""},
		{[]int64{4}, "4"},
		{[]int64{3, 1, 2}, "1-3"},
		{[]int64{0, 1, 1, 2, 5, 7, 8}, "0-2+5+7-8"},
	} {
		require.Equal(t, c.want, offsetRanges(c.in), "%v", c.in)
	}
}
