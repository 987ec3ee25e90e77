package invariants

import (
	"errors"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/eosim/eosim/history"
)

// oracleSpec is a Spec whose serial run writes want, whatever the input.
func oracleSpec(want ...history.Record) Spec {
	s := testSpec()
	s.Oracle = func([]history.Record) ([]history.Record, error) { return want, nil }
	return s
}

func note(p int32, off int64, key, value string) history.Record {
	return history.Record{Topic: notes, Partition: p, Offset: off, Key: key, Value: value,
		Headers: []history.Header{{Key: "order-id", Value: value}}}
}

func serial(r history.Record) history.Record { r.Offset = 0; return r }

func oracleRun(complete bool, committed ...history.Record) Run {
	snap := history.Snapshot{Committed: map[string][]history.Record{}}
	for _, r := range committed {
		snap.Committed[r.Topic] = append(snap.Committed[r.Topic], r)
	}
	return Run{Snapshot: snap, Complete: complete}
}

func TestOracleCheckers(t *testing.T) {
	a, b, c := note(0, 0, "k", "o1"), note(0, 1, "k", "o2"), note(1, 0, "j", "o3")
	want := []history.Record{serial(a), serial(b), serial(c)}
	stockA := history.Record{Topic: stock, Partition: 0, Offset: 0, Key: "p", Value: "99"}
	for _, tc := range []struct {
		name      string
		committed []history.Record
		want      []history.Record
		kinds     []string
		records   [][]history.Record
	}{
		{"the serial run's records", []history.Record{a, b, c}, want, nil, nil},
		{"one written twice", []history.Record{a, b, note(0, 2, "k", "o2"), c}, want,
			[]string{OracleDuplicate}, [][]history.Record{{b, note(0, 2, "k", "o2")}}},
		{"one missing", []history.Record{a, c}, want,
			[]string{OracleLost}, [][]history.Record{{serial(b)}}},
		{"a wrong value", []history.Record{a, note(0, 1, "k", "o9"), c}, want,
			[]string{OracleUnexpected, OracleLost}, [][]history.Record{{note(0, 1, "k", "o9")}, {serial(b)}}},
		{"a partition the serial run never writes", []history.Record{a, b, c, note(2, 0, "x", "o4")}, want,
			[]string{OracleUnexpected}, [][]history.Record{{note(2, 0, "x", "o4")}}},
		{"a changelog too", []history.Record{a, b, c, stockA}, append(slices.Clone(want), serial(stockA), serial(stockA)),
			[]string{OracleLost}, [][]history.Record{{serial(stockA)}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := Check(oracleSpec(tc.want...), oracleRun(true, tc.committed...), OracleCheckers()...)
			requireOracleReport(t, rep, tc.kinds, tc.records)
		})
	}
}

// requireOracleReport requires rep to have anomalies of kinds (in any
// order), among them one with each of records as evidence, and to pass
// when kinds is empty.
func requireOracleReport(t *testing.T, rep Report, kinds []string, records [][]history.Record) {
	t.Helper()
	var gotKinds []string
	var gotRecords [][]history.Record
	for _, an := range rep.Anomalies {
		gotKinds = append(gotKinds, an.Kind)
		gotRecords = append(gotRecords, an.Records)
	}
	slices.Sort(gotKinds)
	wantKinds := slices.Clone(kinds)
	slices.Sort(wantKinds)
	require.Equal(t, wantKinds, gotKinds)
	for _, rs := range records {
		require.Contains(t, gotRecords, rs)
	}
	if len(kinds) == 0 {
		require.Equal(t, Pass, rep.Verdict)
	}
}

func TestOracleUnknown(t *testing.T) {
	// A run that did not finish cannot be missing anything yet.
	rep := Check(oracleSpec(serial(note(0, 0, "k", "o1"))), oracleRun(false), OracleCheckers()...)
	require.Equal(t, Unknown, rep.Verdict)
	require.Contains(t, rep.Unknown[OracleLost], "not complete")

	// No oracle, or a serial run that fails: unknown, never a pass.
	rep = Check(testSpec(), oracleRun(true), OracleCheckers()...)
	require.Equal(t, Unknown, rep.Verdict)
	s := testSpec()
	s.Oracle = func([]history.Record) ([]history.Record, error) { return nil, errors.New("bad input") }
	rep = Check(s, oracleRun(true), OracleCheckers()...)
	require.Equal(t, Unknown, rep.Verdict)
	require.Contains(t, rep.Unknown[OracleDuplicate], "bad input")
}

// TestOracleReadsEveryInputTopic: the serial run gets the committed input
// of InputTopic and of MoreInputTopics (a join's two sides), and no input
// topic is compared as if the application wrote it.
func TestOracleReadsEveryInputTopic(t *testing.T) {
	order := history.Record{Topic: orders, Partition: 0, Offset: 0, Key: "p", Value: "o1:1"}
	customer := history.Record{Topic: "customers", Partition: 0, Offset: 0, Key: "c", Value: "gold"}
	s := testSpec()
	s.MoreInputTopics = []string{"customers"}
	var got []history.Record
	s.Oracle = func(in []history.Record) ([]history.Record, error) {
		got = in
		return nil, nil
	}
	require.Equal(t, []string{orders, "customers", notes, stock}, s.Topics())
	rep := Check(s, oracleRun(true, order, customer), OracleCheckers()...)
	require.Equal(t, Pass, rep.Verdict, "the inputs are not outputs: %v", rep.Anomalies)
	require.ElementsMatch(t, []history.Record{order, customer}, got)
}

// TestOracleCountsProperty: whatever the committed records, each content
// is reported as often as its counts differ, and a run equal to the serial
// one passes.
func TestOracleCountsProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		values := rapid.SliceOfN(rapid.SampledFrom([]string{"o1", "o2", "o3"}), 0, 12).Draw(t, "want")
		var want, got []history.Record
		for _, v := range values {
			want = append(want, serial(note(0, 0, "k", v)))
		}
		for i, v := range rapid.SliceOfN(rapid.SampledFrom([]string{"o1", "o2", "o3", "o4"}), 0, 12).Draw(t, "got") {
			got = append(got, note(0, int64(i), "k", v))
		}
		rep := Check(oracleSpec(want...), oracleRun(true, got...), OracleCheckers()...)
		count := func(rs []history.Record, v string) int {
			n := 0
			for _, r := range rs {
				if r.Value == v {
					n++
				}
			}
			return n
		}
		for _, v := range []string{"o1", "o2", "o3", "o4"} {
			g, w := count(got, v), count(want, v)
			reported := map[string]int{}
			for _, an := range rep.Anomalies {
				reported[an.Kind] += count(an.Records, v)
			}
			switch {
			case g > w && w == 0:
				require.Equal(t, g, reported[OracleUnexpected], v)
			case g > w:
				require.Equal(t, g, reported[OracleDuplicate], v)
			case g < w:
				require.Equal(t, w-g, reported[OracleLost], v)
			default:
				require.Zero(t, reported[OracleUnexpected]+reported[OracleDuplicate]+reported[OracleLost], v)
			}
		}
		self := Check(oracleSpec(want...), oracleRun(true, withOffsets(want)...), OracleCheckers()...)
		require.Equal(t, Pass, self.Verdict)
	})
}

func withOffsets(rs []history.Record) []history.Record {
	out := slices.Clone(rs)
	for i := range out {
		out[i].Offset = int64(i)
	}
	return out
}

// registerRuns counts TestRegisterChecker's runs: a registration lasts as
// long as the test binary, and -count runs the test again in it.
var registerRuns atomic.Int32

func TestRegisterChecker(t *testing.T) {
	name := "test-register-never"
	if n := registerRuns.Add(1); n > 1 {
		name += "-" + strconv.Itoa(int(n))
	}
	never := Checker{Name: name, Check: func(Spec, Run) Result { return Result{} }}
	require.NoError(t, Register(never))
	require.ErrorIs(t, Register(never), ErrRegistered)
	require.ErrorIs(t, Register(Checker{Name: DuplicateOutput, Check: never.Check}), ErrRegistered, "eosim's names are taken")
	require.Error(t, Register(Checker{Name: "no-check"}))
	cs, err := ByName(name, OracleLost)
	require.NoError(t, err)
	require.Equal(t, []string{name, OracleLost}, []string{cs[0].Name, cs[1].Name})
}
