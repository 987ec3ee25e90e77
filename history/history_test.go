package history

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestLogInputsAreTheHistorysInputs: the Log's own Inputs, read without
// copying the History, are what the History's say, in order; Reserve
// changes nothing recorded, and a History taken earlier does not see what
// is recorded after it, nor does what is appended to it reach the Log.
func TestLogInputsAreTheHistorysInputs(t *testing.T) {
	l := NewLog(func() time.Time { return time.Unix(0, 0) })
	require.Nil(t, l.Inputs(), "no inputs yet")
	l.Reserve(8)
	a := Record{Topic: "orders", Partition: 0, Offset: 0, Key: "a"}
	b := Record{Topic: "orders", Partition: 1, Offset: 0, Key: "b"}
	l.Record(Event{Kind: KindInput, Input: &a})
	l.Record(Event{Kind: KindNote, Detail: "between"})
	before := l.History()
	l.Record(Event{Kind: KindInput, Input: &b})
	require.Equal(t, []Record{a, b}, l.Inputs())
	require.Equal(t, l.History().Inputs(), l.Inputs())
	require.Len(t, before.Events, 2, "a History does not see later events")
	before.Events = append(before.Events, Event{Kind: KindNote, Detail: "the caller's own"})
	require.Equal(t, []Record{a, b}, l.Inputs(), "an append to a History does not reach the Log")
	l.Reserve(100)
	require.Equal(t, []int{0, 1, 2}, []int{l.History().Events[0].Seq, l.History().Events[1].Seq, l.History().Events[2].Seq})
}
