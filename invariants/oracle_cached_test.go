package invariants

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/eosim/eosim/history"
)

// cachedSpec is a Spec whose serial run writes want to the stock
// changelog, named as cached.
func cachedSpec(want ...history.Record) Spec {
	s := oracleSpec(want...)
	s.CachedTopics = []string{stock}
	return s
}

func count(off int64, key string, n int) history.Record {
	return history.Record{Topic: stock, Partition: 0, Offset: off, Key: key, Value: strconv.Itoa(n)}
}

func TestOracleCachedChangelog(t *testing.T) {
	// The serial run counts a to 4 and b to 2, a write per input.
	want := []history.Record{
		serial(count(0, "a", 1)), serial(count(0, "b", 1)), serial(count(0, "a", 2)),
		serial(count(0, "a", 3)), serial(count(0, "b", 2)), serial(count(0, "a", 4)),
	}
	for _, tc := range []struct {
		name      string
		committed []history.Record
		kinds     []string
		records   [][]history.Record
	}{
		{"every write", []history.Record{count(0, "a", 1), count(1, "b", 1), count(2, "a", 2), count(3, "a", 3), count(4, "b", 2), count(5, "a", 4)}, nil, nil},
		{"coalesced per unit", []history.Record{count(0, "a", 2), count(1, "b", 2), count(2, "a", 4)}, nil, nil},
		{"only the last values", []history.Record{count(0, "b", 2), count(1, "a", 4)}, nil, nil},
		{"a count written again after a later one", []history.Record{count(0, "a", 2), count(1, "a", 3), count(2, "a", 2), count(3, "a", 4), count(4, "b", 2)},
			[]string{OracleDuplicate}, [][]history.Record{{count(2, "a", 2)}}},
		{"a count past the serial run's", []history.Record{count(0, "a", 4), count(1, "a", 5), count(2, "b", 2)},
			[]string{OracleLost, OracleUnexpected}, [][]history.Record{{count(1, "a", 5)}, {serial(count(0, "a", 4))}}},
		{"a key short of its last value", []history.Record{count(0, "a", 4), count(1, "b", 1)},
			[]string{OracleLost}, [][]history.Record{{serial(count(0, "b", 2))}}},
		{"a key never written", []history.Record{count(0, "a", 4)},
			[]string{OracleLost}, [][]history.Record{{serial(count(0, "b", 2))}}},
		{"a key the serial run never writes", []history.Record{count(0, "a", 4), count(1, "b", 2), count(2, "c", 1)},
			[]string{OracleUnexpected}, [][]history.Record{{count(2, "c", 1)}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := Check(cachedSpec(want...), oracleRun(true, tc.committed...), OracleCheckers()...)
			requireOracleReport(t, rep, tc.kinds, tc.records)
		})
	}
	// The same records, judged record by record, are lost writes.
	rep := Check(oracleSpec(want...), oracleRun(true, count(0, "a", 2), count(1, "b", 2), count(2, "a", 4)), OracleCheckers()...)
	require.Equal(t, Fail, rep.Verdict)
}

// TestOracleCachedCoalescingProperty: whatever units cut the serial run's
// writes into, a changelog that writes each unit's last value per key, as
// a record cache does, passes; one that also writes a key's value of an
// earlier unit again after a later one is caught.
func TestOracleCachedCoalescingProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		keys := rapid.SliceOfN(rapid.SampledFrom([]string{"a", "b", "c"}), 1, 40).Draw(t, "writes")
		n := make(map[string]int)
		var want []history.Record
		for _, k := range keys {
			n[k]++
			want = append(want, serial(count(0, k, n[k])))
		}
		var committed []history.Record
		for i := 0; i < len(want); {
			end := min(len(want), i+rapid.IntRange(1, 8).Draw(t, "unit"))
			last := make(map[string]int)
			var order []string
			for _, r := range want[i:end] {
				if _, ok := last[r.Key]; !ok {
					order = append(order, r.Key)
				}
				last[r.Key], _ = strconv.Atoi(r.Value)
			}
			for _, k := range order {
				committed = append(committed, count(int64(len(committed)), k, last[k]))
			}
			i = end
		}
		rep := Check(cachedSpec(want...), oracleRun(true, committed...), OracleCheckers()...)
		if rep.Verdict != Pass {
			t.Fatalf("coalesced writes judged %s: %v", rep.Verdict, rep.Anomalies)
		}
		if len(committed) < 2 {
			return
		}
		// The first record written again at the end: the key goes back.
		first := committed[0]
		if n[first.Key] == 1 {
			return // its only value: written again, it is still the key's last
		}
		again := first
		again.Offset = int64(len(committed))
		rep = Check(cachedSpec(want...), oracleRun(true, append(committed, again)...), OracleCheckers()...)
		if rep.Verdict != Fail {
			t.Fatalf("a key written back to %s after later values was not caught", first.Value)
		}
	})
}
