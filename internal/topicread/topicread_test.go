package topicread

import (
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"
	"pgregory.net/rapid"

	"github.com/eosim/eosim/history"
)

var (
	txnAttrs     = kgo.NewRecordAttrs(kgo.RecordAttrsOpts{Transactional: true})
	controlAttrs = kgo.NewRecordAttrs(kgo.RecordAttrsOpts{Transactional: true, Control: true})
)

// Control record keys: int16 version, int16 type (0 abort, 1 commit).
var (
	commitKey = []byte{0, 0, 0, 1}
	abortKey  = []byte{0, 0, 0, 0}
)

// plain is a non-transactional data record.
func plain(off int64) entry {
	return entryOf(&kgo.Record{Offset: off, ProducerID: -1})
}

// txn is a data record of producer pid's transaction.
func txn(off, pid int64) entry {
	return entryOf(&kgo.Record{Offset: off, ProducerID: pid, Attrs: txnAttrs})
}

// marker is the control record ending producer pid's transaction.
func marker(off, pid int64, commit bool) entry {
	key := abortKey
	if commit {
		key = commitKey
	}
	return entryOf(&kgo.Record{Offset: off, ProducerID: pid, Attrs: controlAttrs, Key: key})
}

func TestRecordAttrsHelpers(t *testing.T) {
	assert.True(t, txnAttrs.IsTransactional())
	assert.False(t, txnAttrs.IsControl())
	assert.True(t, controlAttrs.IsControl())
	assert.False(t, kgo.RecordAttrs{}.IsTransactional())
}

func TestLastCommittedEntry(t *testing.T) {
	tests := []struct {
		name   string
		es     []entry
		stable int64
		want   int64
		wantOK bool
	}{
		{name: "empty log", es: nil, stable: 10, wantOK: false},
		{
			name:   "non-transactional records: the last one below stable",
			es:     []entry{plain(0), plain(1), plain(2)},
			stable: 3, want: 2, wantOK: true,
		},
		{
			name:   "records at or above stable are ignored",
			es:     []entry{plain(0), plain(1), plain(2), plain(3)},
			stable: 2, want: 1, wantOK: true,
		},
		{
			name:   "nothing below stable",
			es:     []entry{plain(5), plain(6)},
			stable: 5, wantOK: false,
		},
		{
			name:   "trailing aborted record below stable: the earlier record is last",
			es:     []entry{plain(0), txn(1, 7), marker(2, 7, false)},
			stable: 2, want: 0, wantOK: true,
		},
		{
			name:   "several aborted records trail an earlier committed one",
			es:     []entry{txn(0, 7), marker(1, 7, true), txn(2, 7), txn(3, 7), marker(4, 7, false)},
			stable: 4, want: 1, wantOK: true,
		},
		{
			name:   "committed transactional record whose marker is at stable is visible",
			es:     []entry{plain(0), txn(1, 7), marker(2, 7, true)},
			stable: 2, want: 1, wantOK: true,
		},
		{
			name:   "control records are visible, commit",
			es:     []entry{plain(0), txn(1, 7), marker(2, 7, true)},
			stable: 3, want: 2, wantOK: true,
		},
		{
			name:   "control records are visible, even an abort marker",
			es:     []entry{plain(0), txn(1, 7), marker(2, 7, false)},
			stable: 3, want: 2, wantOK: true,
		},
		{
			name:   "transaction without a marker (still open) is not visible",
			es:     []entry{plain(0), txn(1, 7), txn(2, 7)},
			stable: 3, want: 0, wantOK: true,
		},
		{
			name:   "only aborted records below stable",
			es:     []entry{txn(0, 7), txn(1, 7), marker(2, 7, false)},
			stable: 2, wantOK: false,
		},
		{
			name: "interleaved producers: each record follows its own producer's marker",
			// pid 7 commits, pid 8 aborts; both markers at or above stable.
			es:     []entry{txn(0, 7), txn(1, 8), txn(2, 7), txn(3, 8), marker(4, 7, true), marker(5, 8, false)},
			stable: 4, want: 2, wantOK: true,
		},
		{
			name: "a producer's earlier transaction follows its next marker, not its last",
			// pid 7: txn at 0 committed by 1; txn at 2 aborted by 3.
			es:     []entry{txn(0, 7), marker(1, 7, true), txn(2, 7), marker(3, 7, false)},
			stable: 1, want: 0, wantOK: true,
		},
		{
			name:   "gaps in offsets (compaction) are fine",
			es:     []entry{plain(3), plain(10), txn(15, 7), marker(20, 7, false)},
			stable: 20, want: 10, wantOK: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := lastCommittedEntry(tc.es, tc.stable)
			assert.Equal(t, tc.wantOK, ok)
			if tc.wantOK {
				assert.Equal(t, tc.want, got)
			}
		})
	}
}

func TestIsCommitMarker(t *testing.T) {
	tests := []struct {
		name string
		key  []byte
		want bool
	}{
		{"commit v0", []byte{0, 0, 0, 1}, true},
		{"commit v1", []byte{0, 1, 0, 1}, true},
		{"commit with trailing bytes", []byte{0, 0, 0, 1, 9}, true},
		{"abort", []byte{0, 0, 0, 0}, false},
		{"type 257 is not commit", []byte{0, 0, 1, 1}, false},
		{"short key", []byte{0, 0, 1}, false},
		{"nil key", nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, isCommitMarker(&kgo.Record{Key: tc.key, Attrs: controlAttrs}))
		})
	}
}

func TestConvert(t *testing.T) {
	r := &kgo.Record{
		Topic: "t", Partition: 3, Offset: 9, Key: []byte("k"), Value: nil,
		Headers: []kgo.RecordHeader{{Key: "h", Value: []byte("v")}},
	}
	assert.Equal(t, history.Record{
		Topic: "t", Partition: 3, Offset: 9, Key: "k", Value: "",
		Headers: []history.Header{{Key: "h", Value: "v"}},
	}, Convert(r))
}

// TestConvertCutsTheSharedStringRight: key, value and header values come
// out of one string; each must be its own part of it, empty ones included,
// and the kgo record's bytes may change afterwards.
func TestConvertCutsTheSharedStringRight(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    kgo.Record
		want history.Record
	}{
		{"nothing", kgo.Record{}, history.Record{}},
		{"key and value", kgo.Record{Key: []byte("key"), Value: []byte("value")}, history.Record{Key: "key", Value: "value"}},
		{"value only", kgo.Record{Value: []byte("v")}, history.Record{Value: "v"}},
		{"headers", kgo.Record{Key: []byte("k"), Value: []byte("vv"), Headers: []kgo.RecordHeader{
			{Key: "a", Value: []byte("1")}, {Key: "b"}, {Key: "c", Value: []byte("333")},
		}}, history.Record{Key: "k", Value: "vv", Headers: []history.Header{{Key: "a", Value: "1"}, {Key: "b"}, {Key: "c", Value: "333"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Convert(&tc.r)
			for _, b := range [][]byte{tc.r.Key, tc.r.Value} {
				clear(b)
			}
			for _, h := range tc.r.Headers {
				clear(h.Value)
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestSortRecords(t *testing.T) {
	rs := []history.Record{{Partition: 1, Offset: 0}, {Partition: 0, Offset: 5}, {Partition: 1, Offset: -1}, {Partition: 0, Offset: 2}}
	sortRecords(rs)
	assert.Equal(t, []history.Record{{Partition: 0, Offset: 2}, {Partition: 0, Offset: 5}, {Partition: 1, Offset: -1}, {Partition: 1, Offset: 0}}, rs)
}

func TestReadGroups(t *testing.T) {
	ends := func(sizes map[string][]int64) bounds {
		b := bounds{end: map[tp]int64{}, stable: map[tp]int64{}}
		for topic, ps := range sizes {
			for p, end := range ps {
				b.end[tp{topic, int32(p)}] = end
			}
		}
		return b
	}
	const n = readGroupRecords
	for _, tc := range []struct {
		name   string
		sizes  map[string][]int64
		topics []string
		want   [][]string
	}{
		{"small topics go together", map[string][]int64{"a": {10, 20}, "b": {5}, "c": {0}}, []string{"a", "b", "c"}, [][]string{{"a", "b", "c"}}},
		{"the partitions add up", map[string][]int64{"a": {n / 2, n / 2}, "b": {1}}, []string{"a", "b"}, [][]string{{"a"}, {"b"}}},
		{"a long topic alone", map[string][]int64{"a": {1}, "b": {2 * n}, "c": {1}}, []string{"a", "b", "c"}, [][]string{{"a"}, {"b"}, {"c"}}},
		{"in the order given", map[string][]int64{"a": {n - 1}, "b": {1}, "c": {1}}, []string{"c", "a", "b"}, [][]string{{"c", "a"}, {"b"}}},
		{"no topic", nil, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, readGroups(ends(tc.sizes), tc.topics))
		})
	}
}

// TestAddTakesOnlyTheSameRecord: a read_committed pass takes the
// conversion of the read_uncommitted pass before it only where the broker
// gave the same bytes at the same offset.
func TestAddTakesOnlyTheSameRecord(t *testing.T) {
	rec := func(off int64, value string, headers ...kgo.RecordHeader) *kgo.Record {
		return &kgo.Record{Topic: "t", Partition: 1, Offset: off, Key: []byte("k"), Value: []byte(value), Headers: headers, Attrs: txnAttrs, ProducerID: 7}
	}
	h := kgo.RecordHeader{Key: "h", Value: []byte("v")}
	var known partLog
	for _, r := range []*kgo.Record{rec(3, "a"), rec(5, "b", h), rec(9, "c")} {
		known.add(r)
	}
	for _, tc := range []struct {
		name  string
		r     *kgo.Record
		taken bool
	}{
		{"same record", rec(5, "b", h), true},
		{"another value", rec(5, "x", h), false},
		{"another header value", rec(5, "b", kgo.RecordHeader{Key: "h", Value: []byte("w")}), false},
		{"a header fewer", rec(5, "b"), false},
		{"an offset not known", rec(4, "b", h), false},
		{"another partition", &kgo.Record{Topic: "t", Partition: 2, Offset: 9, Key: []byte("k"), Value: []byte("c")}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := partLog{keep: true, known: known.records}
			l.add(tc.r)
			require.Len(t, l.records, 1)
			require.Len(t, l.entries, 1)
			got := l.records[0]
			assert.Equal(t, Convert(tc.r), got, "the log holds what the broker gave")
			assert.Equal(t, tc.taken, takenFrom(known.records, got))
		})
	}
}

// TestAddKeepsMarkersOutOfTheRecords: a control record is an entry, with
// what its marker says, and no record.
func TestAddKeepsMarkersOutOfTheRecords(t *testing.T) {
	l := partLog{keep: true}
	l.add(&kgo.Record{Offset: 4, ProducerID: 7, Attrs: controlAttrs, Key: commitKey})
	assert.Empty(t, l.records)
	assert.Equal(t, []entry{{offset: 4, pid: 7, txn: true, control: true, commit: true}}, l.entries)
}

// TestRecordsInPlace: records makes each topic's slice in the array the
// partitions were read into, whatever each partition's count against its
// stretch: fewer (a compacted topic), as many, or more (which moves them
// out of it).
func TestRecordsInPlace(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		from, to := map[tp]int64{}, map[tp]int64{}
		var parts []tp
		for _, topic := range []string{"a", "b"} {
			for p := range rapid.IntRange(1, 4).Draw(t, topic+" partitions") {
				k := tp{topic, int32(p)}
				from[k] = rapid.Int64Range(0, 5).Draw(t, "from")
				to[k] = from[k] + rapid.Int64Range(0, 6).Draw(t, "length")
				parts = append(parts, k)
			}
		}
		logs := newLogs(from, to, false)
		want := map[string][]history.Record{}
		for _, k := range parts {
			l := logs[k]
			if l == nil {
				continue
			}
			n := rapid.IntRange(0, l.region+2).Draw(t, "records")
			for i := range n {
				r := &kgo.Record{Topic: k.topic, Partition: k.partition, Offset: from[k] + int64(i), Value: []byte{byte(i)}}
				l.add(r)
				want[k.topic] = append(want[k.topic], Convert(r))
			}
		}
		moved := map[string]bool{}
		array := map[string]*history.Record{}
		for k, l := range logs {
			moved[k.topic] = moved[k.topic] || len(l.records) > l.region
			array[k.topic] = unsafe.SliceData(l.all[:1])
		}
		got := records(logs)
		for topic, rs := range want {
			assert.Equal(t, rs, got[topic], topic)
			if !moved[topic] {
				assert.Same(t, array[topic], unsafe.SliceData(got[topic]), "%s's records are made in the array they were read into", topic)
			}
		}
		assert.Len(t, got, len(want))
	})
}

// TestAddGoesOnThroughKnown: records added in offset order each take their
// known conversion; one out of order still holds the broker's content.
func TestAddGoesOnThroughKnown(t *testing.T) {
	rec := func(off int64) *kgo.Record {
		return &kgo.Record{Topic: "t", Partition: 0, Offset: off, Value: []byte{byte('a' + off)}}
	}
	var known partLog
	for off := range int64(6) {
		known.add(rec(off))
	}
	l := partLog{known: known.records}
	for _, off := range []int64{0, 2, 3, 5, 1} {
		l.add(rec(off))
	}
	require.Len(t, l.records, 5)
	for i, r := range l.records {
		assert.Equal(t, Convert(rec(r.Offset)), r, "the log holds what the broker gave")
		if i < 4 {
			assert.True(t, takenFrom(known.records, r), "record at %d, in order, takes its known conversion", r.Offset)
		}
	}
}

// takenFrom reports whether hr is one of known's conversions rather than a
// new one: whether its value is the very string one of them holds.
func takenFrom(known []history.Record, hr history.Record) bool {
	for _, k := range known {
		if unsafe.StringData(k.Value) == unsafe.StringData(hr.Value) {
			return true
		}
	}
	return false
}
