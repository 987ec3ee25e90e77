package invariants

import (
	"fmt"
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
	if spec.Oracle == nil {
		return oracleDiff{unknown: "the scenario gives no oracle (Spec.Oracle)"}
	}
	want, err := spec.Oracle(snap.Committed[spec.InputTopic])
	if err != nil {
		return oracleDiff{unknown: fmt.Sprintf("the serial run failed: %v", err)}
	}
	wantBy := make(map[string][]history.Record)
	for _, r := range want {
		wantBy[r.Topic] = append(wantBy[r.Topic], r)
	}
	topics := slices.DeleteFunc(spec.Topics(), func(t string) bool { return t == spec.InputTopic })
	for t := range wantBy {
		if !slices.Contains(topics, t) {
			topics = append(topics, t)
		}
	}
	slices.Sort(topics)
	var d oracleDiff
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
		for _, p := range parts {
			d.anomalies = append(d.anomalies, comparePartition(fmt.Sprintf("%s[%d]", t, p), got[p], want[p])...)
		}
	}
	return d
}

// content is a record without its place: what the serial run and the
// broker must agree on.
func content(r history.Record) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%q=%q", r.Key, r.Value)
	for _, h := range r.Headers {
		fmt.Fprintf(&b, " %q:%q", h.Key, h.Value)
	}
	return b.String()
}

// comparePartition compares the committed records of one topic partition,
// where (got, in offset order), with the serial run's (want, in input
// order).
func comparePartition(where string, got, want []history.Record) []Anomaly {
	gotBy, wantBy := make(map[string][]history.Record), make(map[string][]history.Record)
	var order []string // contents, first seen in got, then in want
	for _, r := range got {
		c := content(r)
		if len(gotBy[c]) == 0 {
			order = append(order, c)
		}
		gotBy[c] = append(gotBy[c], r)
	}
	for _, r := range want {
		c := content(r)
		if len(gotBy[c]) == 0 && len(wantBy[c]) == 0 {
			order = append(order, c)
		}
		wantBy[c] = append(wantBy[c], r)
	}
	var dup, unexpected, lost []history.Record
	for _, c := range order {
		switch g, w := len(gotBy[c]), len(wantBy[c]); {
		case g > w && w == 0:
			unexpected = append(unexpected, gotBy[c]...)
		case g > w:
			dup = append(dup, gotBy[c]...)
		case g < w:
			lost = append(lost, wantBy[c][:w-g]...)
		}
	}
	var as []Anomaly
	if len(dup) > 0 {
		as = append(as, Anomaly{Kind: OracleDuplicate, Records: dup,
			Summary: fmt.Sprintf("%s: %d committed records are written more often than the serial run writes them", where, len(dup))})
	}
	if len(unexpected) > 0 {
		as = append(as, Anomaly{Kind: OracleUnexpected, Records: unexpected,
			Summary: fmt.Sprintf("%s: %d committed records the serial run never writes (a wrong value, or input it never saw)", where, len(unexpected))})
	}
	if len(lost) > 0 {
		as = append(as, Anomaly{Kind: OracleLost, Records: lost,
			Summary: fmt.Sprintf("%s: %d records of the serial run are not committed (shown as the serial run writes them, without offsets)", where, len(lost))})
	}
	return as
}
