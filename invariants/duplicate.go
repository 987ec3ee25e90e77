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
	byID := map[string][]history.Record{}
	for _, o := range run.Snapshot.Committed[spec.OutputTopic] {
		if id, err := spec.OutputFor(o); err == nil {
			byID[id] = append(byID[id], o)
		}
	}
	var res Result
	for _, id := range slices.Sorted(maps.Keys(byID)) {
		rs := byID[id]
		if len(rs) < 2 {
			continue
		}
		res.Anomalies = append(res.Anomalies, Anomaly{
			Kind:    DuplicateOutput,
			Summary: fmt.Sprintf("input %q has %d outputs: %s", id, len(rs), list(rs)),
			Records: rs,
			Units:   unitsFor(run.producers(), rs),
		})
	}
	return res
}
