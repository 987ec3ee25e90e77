package history

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func sample() History {
	in := Record{Topic: "orders", Partition: 1, Offset: 7, Key: "p1", Value: `{"id":"o1"}`}
	return History{Events: []Event{
		{Seq: 0, T: 0, Kind: KindInput, Input: &in},
		{Seq: 1, T: time.Second, Kind: KindUnit, Instance: "a", Unit: &Unit{
			ID: "a.1#0", Transactional: true, Outcome: Committed,
			Consumed: []Record{in},
			Produced: []Record{{Topic: "notifications", Partition: 1, Offset: 0, Key: "c1",
				Headers: []Header{{Key: "order-id", Value: "o1"}}}},
			Offsets: []Offset{{Topic: "orders", Partition: 1, Offset: 8}},
		}},
	}}
}

func TestJSONLRoundTrip(t *testing.T) {
	h := sample()
	var buf bytes.Buffer
	require.NoError(t, h.WriteJSONL(&buf))
	require.Equal(t, 2, bytes.Count(buf.Bytes(), []byte("\n")), "one line per event")
	got, err := ReadJSONL(&buf)
	require.NoError(t, err)
	require.Equal(t, h, got)
	require.Equal(t, h.Hash(), got.Hash())
}

func TestHashChangesWithContent(t *testing.T) {
	a, b := sample(), sample()
	b.Events[1].Unit.Outcome = Aborted
	require.NotEqual(t, a.Hash(), b.Hash())
}

func TestReadJSONLRejectsGarbage(t *testing.T) {
	_, err := ReadJSONL(bytes.NewBufferString("{\"seq\":0}\nnot json\n"))
	require.ErrorContains(t, err, "history line 2")
}

func TestLogNumbersAndStamps(t *testing.T) {
	now := time.Unix(100, 0)
	l := NewLog(func() time.Time { return now })
	l.Record(Event{Kind: KindNote, Detail: "x"})
	now = now.Add(3 * time.Second)
	l.Record(Event{Kind: KindNote, Detail: "y"})
	h := l.History()
	require.Len(t, h.Events, 2)
	require.Equal(t, 1, h.Events[1].Seq)
	require.Equal(t, 3*time.Second, h.Events[1].T)
}
