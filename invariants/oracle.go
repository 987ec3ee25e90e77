package invariants

import (
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/eosim/eosim/history"
)

// The oracle's checkers (OracleCheckers): they need nothing from the
// application but Spec.Oracle, its own logic run serially, and nothing from
// the run but what the broker holds.
const (
	OracleDuplicate  = "oracle-duplicate"
	OracleLost       = "oracle-lost"
	OracleUnexpected = "oracle-unexpected"
)

// OracleCheckers returns the checkers that compare what read_committed
// shows in every topic the application writes (sinks and changelogs) with
// what one serial, fault-free run of the application over the committed
// input writes (Spec.Oracle): exactly-once must be indistinguishable from
// it. Per topic partition, as multisets of records (key, value, headers):
// a record committed more often than the serial run writes it is a
// duplicate, one it never writes is unexpected (a wrong value), one
// committed less often is lost. They are not in All; a run names them
// (simrun -checkers).
//
// Order is not judged yet: a partition's records follow its input's order
// under every engine mode (one instance owns a partition at a time, and
// sinks keep the input's partition), so no broken mode could show that an
// order checker fires; it comes with repartitioning topologies.
func OracleCheckers() []Checker {
	return []Checker{
		{OracleDuplicate, func(s Spec, r Run) Result { return oracleKind(s, r, OracleDuplicate) }},
		{OracleLost, func(s Spec, r Run) Result { return oracleKind(s, r, OracleLost) }},
		{OracleUnexpected, func(s Spec, r Run) Result { return oracleKind(s, r, OracleUnexpected) }},
	}
}

// oracleKind is the result of one oracle checker: the anomalies of kind,
// from the comparison made once per Check.
func oracleKind(spec Spec, run Run, kind string) Result {
	d := run.oracle(spec)
	if d.unknown != "" {
		return Result{Unknown: d.unknown}
	}
	if kind == OracleLost && !run.Complete {
		return Result{Unknown: "run not complete: a missing record may still be pending"}
	}
	var res Result
	for _, a := range d.anomalies {
		if a.Kind == kind {
			res.Anomalies = append(res.Anomalies, a)
		}
	}
	return res
}

// oracleDiff is the comparison of a run with its serial reference.
type oracleDiff struct {
	anomalies []Anomaly
	unknown   string
}

// oracle compares the run with the serial reference, once per Check.
func (run Run) oracle(spec Spec) oracleDiff {
	if run.derived == nil {
		return compareWithOracle(spec, run.Snapshot)
	}
	if run.derived.oracle == nil {
		d := compareWithOracle(spec, run.Snapshot)
		run.derived.oracle = &d
	}
	return *run.derived.oracle
}

func compareWithOracle(spec Spec, snap history.Snapshot) oracleDiff {
	if spec.Oracle == nil && spec.DBOracle == nil {
		return oracleDiff{unknown: "the scenario gives no oracle (Spec.Oracle, Spec.DBOracle)"}
	}
	var d oracleDiff
	if spec.Oracle != nil {
		as, err := compareTopics(spec, snap)
		if err != nil {
			return oracleDiff{unknown: fmt.Sprintf("the serial run failed: %v", err)}
		}
		d.anomalies = append(d.anomalies, as...)
	}
	if spec.DBOracle != nil {
		as, err := compareTables(spec, snap)
		if err != nil {
			return oracleDiff{unknown: fmt.Sprintf("the serial run failed: %v", err)}
		}
		d.anomalies = append(d.anomalies, as...)
	}
	return d
}

// compareTopics compares every topic the serial run writes with what
// read_committed shows.
func compareTopics(spec Spec, snap history.Snapshot) ([]Anomaly, error) {
	var inputs []history.Record
	for _, t := range spec.InputTopics() {
		inputs = append(inputs, snap.Committed[t]...)
	}
	want, err := spec.Oracle(inputs)
	if err != nil {
		return nil, err
	}
	wantBy := make(map[string][]history.Record)
	for _, r := range want {
		wantBy[r.Topic] = append(wantBy[r.Topic], r)
	}
	topics := slices.DeleteFunc(spec.Topics(), func(t string) bool { return slices.Contains(spec.InputTopics(), t) })
	for t := range wantBy {
		if !slices.Contains(topics, t) {
			topics = append(topics, t)
		}
	}
	slices.Sort(topics)
	var as []Anomaly
	for _, t := range topics {
		// byPartition sorts by offset, stably: the serial run's records,
		// all without offsets, keep their input order.
		got, want := byPartition(snap.Committed[t]), byPartition(wantBy[t])
		var parts []int32
		for p := range got {
			parts = append(parts, p)
		}
		for p := range want {
			if _, ok := got[p]; !ok {
				parts = append(parts, p)
			}
		}
		slices.Sort(parts)
		compare := comparePartition
		if slices.Contains(spec.CachedTopics, t) {
			compare = compareCachedPartition
		}
		for _, p := range parts {
			as = append(as, compare(fmt.Sprintf("%s[%d]", t, p), got[p], want[p])...)
		}
	}
	return as, nil
}

// compareTables compares every table the serial run leaves (but the
// engine's own) with the run's final tables, row by row as multisets,
// leaving out the columns that differ between runs by nature
// (DatabaseSpec.Varying: an autoincrement id, the unit that wrote a row).
func compareTables(spec Spec, snap history.Snapshot) ([]Anomaly, error) {
	want, err := spec.DBOracle(snap.Committed[spec.InputTopic])
	if err != nil {
		return nil, err
	}
	var varying []string
	if spec.Database != nil {
		varying = spec.Database.Varying
	}
	key := func(r history.Row) string {
		var b strings.Builder
		for _, col := range slices.Sorted(maps.Keys(r.Values)) {
			if !slices.Contains(varying, col) {
				fmt.Fprintf(&b, "%q=%q ", col, r.Values[col])
			}
		}
		return b.String()
	}
	var as []Anomaly
	for _, table := range slices.Sorted(maps.Keys(want)) {
		dup, unexpected, lost := diffMultisets(snap.Tables[table], want[table], key)
		as = append(as, oracleAnomalies("table "+table, "rows", dup, unexpected, lost,
			func(a *Anomaly, rs []history.Row) { a.Rows = rs })...)
	}
	return as, nil
}

// diffMultisets compares got with want as multisets of their key: the
// elements of got whose key is there more often than in want (all of that
// key's, as evidence), those whose key want never has, and the elements of
// want missing from got (as many as are missing), each in order of first
// appearance.
func diffMultisets[T any](got, want []T, key func(T) string) (dup, unexpected, lost []T) {
	order, gotBy, wantBy := groupBy(got, want, key)
	for _, k := range order {
		switch g, w := len(gotBy[k]), len(wantBy[k]); {
		case g > w && w == 0:
			unexpected = append(unexpected, gotBy[k]...)
		case g > w:
			dup = append(dup, gotBy[k]...)
		case g < w:
			lost = append(lost, wantBy[k][:w-g]...)
		}
	}
	return dup, unexpected, lost
}

// groupBy groups got and want by key, each group in its slice's order,
// and lists the keys as first seen in got, then in want.
func groupBy[T any](got, want []T, key func(T) string) (order []string, gotBy, wantBy map[string][]T) {
	gotBy, wantBy = make(map[string][]T), make(map[string][]T)
	for _, x := range got {
		k := key(x)
		if len(gotBy[k]) == 0 {
			order = append(order, k)
		}
		gotBy[k] = append(gotBy[k], x)
	}
	for _, x := range want {
		k := key(x)
		if len(gotBy[k]) == 0 && len(wantBy[k]) == 0 {
			order = append(order, k)
		}
		wantBy[k] = append(wantBy[k], x)
	}
	return order, gotBy, wantBy
}

// content is a record without its place: what the serial run and the
// broker must agree on.
// Each string goes in with its length before it, so no two records share
// a content; a map key, never shown.
func content(r history.Record) string {
	n := 2*len(r.Headers) + 2
	size := len(r.Key) + len(r.Value)
	for _, h := range r.Headers {
		size += len(h.Key) + len(h.Value)
	}
	var b strings.Builder
	b.Grow(size + n*binary.MaxVarintLen64)
	var length [binary.MaxVarintLen64]byte
	put := func(s string) {
		b.Write(binary.AppendUvarint(length[:0], uint64(len(s))))
		b.WriteString(s)
	}
	put(r.Key)
	put(r.Value)
	for _, h := range r.Headers {
		put(h.Key)
		put(h.Value)
	}
	return b.String()
}

// comparePartition compares the committed records of one topic partition,
// where (got, in offset order), with the serial run's (want, in input
// order).
func comparePartition(where string, got, want []history.Record) []Anomaly {
	dup, unexpected, lost := diffMultisets(got, want, content)
	return oracleAnomalies(where, "records", dup, unexpected, lost,
		func(a *Anomaly, rs []history.Record) { a.Records = rs })
}

// compareCachedPartition compares one partition of a cached store's
// changelog (Spec.CachedTopics), where a unit writes a key once with its
// last value: per key, the committed values (got, in offset order) must be
// the serial run's values (want, every write in order) with some left out,
// and end with the serial run's last. A value the serial run never writes
// for the key is unexpected; one it writes only earlier than the value
// committed before it (the key's state went back, or was written twice) is
// a duplicate; a key that does not end where the serial run's does has
// lost the serial run's last write (shown as evidence).
func compareCachedPartition(where string, got, want []history.Record) []Anomaly {
	keys, gotBy, wantBy := groupBy(got, want, func(r history.Record) string { return r.Key })
	var dup, unexpected, lost []history.Record
	for _, k := range keys {
		g, w := gotBy[k], wantBy[k]
		ws := make([]string, len(w)) // w's contents, each worked out once
		for i, x := range w {
			ws[i] = content(x)
		}
		next, last := 0, "" // the first of w not yet matched; g's last content
		for _, r := range g {
			last = content(r)
			i := slices.Index(ws[next:], last)
			switch {
			case i >= 0:
				next += i + 1
			case slices.Contains(ws[:next], last):
				dup = append(dup, r)
			default:
				unexpected = append(unexpected, r)
			}
		}
		if len(w) > 0 && (len(g) == 0 || last != ws[len(ws)-1]) {
			lost = append(lost, w[len(w)-1])
		}
	}
	return oracleAnomalies(where, "cached changelog records", dup, unexpected, lost,
		func(a *Anomaly, rs []history.Record) { a.Records = rs })
}

// oracleAnomalies are the anomalies of one comparison with the serial run,
// at where, of elements named what: those there more often than the
// serial run leaves them, those it never leaves, those missing (shown as
// the serial run leaves them); evidence puts the elements in an anomaly.
func oracleAnomalies[T any](where, what string, dup, unexpected, lost []T, evidence func(*Anomaly, []T)) []Anomaly {
	var as []Anomaly
	for _, k := range []struct {
		kind, summary string
		elems         []T
	}{
		{OracleDuplicate, "%s: %d %s are there more often than the serial run leaves them", dup},
		{OracleUnexpected, "%s: %d %s the serial run never leaves (a wrong value, or input it never saw)", unexpected},
		{OracleLost, "%s: %d %s of the serial run are missing (shown as the serial run leaves them)", lost},
	} {
		if len(k.elems) > 0 {
			a := Anomaly{Kind: k.kind, Summary: fmt.Sprintf(k.summary, where, len(k.elems), what)}
			evidence(&a, k.elems)
			as = append(as, a)
		}
	}
	return as
}
