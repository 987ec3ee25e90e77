package invariants

import (
	"fmt"
	"maps"
	"slices"

	"github.com/eosim/eosim/history"
)

// checkDuplicate judges duplicate-output: read_committed must hold at most
// one output per input. Outputs that name no input are phantom-output's.
func checkDuplicate(spec Spec, run Run) Result {
	// An input's first output is remembered by its place; only an input
	// with a second gets a slice (a run has thousands of outputs, and
	// nearly always no duplicate).
	outs := run.Snapshot.Committed[spec.OutputTopic]
	first := make(map[string]int, len(outs))
	byID := map[string][]history.Record{}
	for i, o := range outs {
		id, err := spec.OutputFor(o)
		if err != nil {
			continue
		}
		j, seen := first[id]
		if !seen {
			first[id] = i
			continue
		}
		if byID[id] == nil {
			byID[id] = []history.Record{outs[j]}
		}
		byID[id] = append(byID[id], o)
	}
	var res Result
	for _, id := range slices.Sorted(maps.Keys(byID)) {
		rs := byID[id]
		res.Anomalies = append(res.Anomalies, Anomaly{
			Kind:    DuplicateOutput,
			Summary: fmt.Sprintf("input %q has %d outputs: %s", id, len(rs), list(rs)),
			Records: rs,
			Units:   unitsFor(run.producers(), rs),
		})
	}
	return res
}
