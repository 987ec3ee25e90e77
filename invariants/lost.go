package invariants

import (
	"fmt"

	"github.com/eosim/eosim/history"
)

// checkLost judges lost-output: every input has an output in
// read_committed. Only a complete run can be judged; before that a missing
// output may just be pending.
func checkLost(spec Spec, run Run) Result {
	if !run.Complete {
		return Result{Unknown: "run not complete: a missing output may still be pending"}
	}
	answered := map[string]bool{}
	for _, o := range run.Snapshot.Committed[spec.OutputTopic] {
		if id, err := spec.OutputFor(o); err == nil {
			answered[id] = true
		}
	}
	var res Result
	for _, in := range run.Snapshot.Committed[spec.InputTopic] {
		id, err := spec.InputID(in)
		if err != nil {
			return Result{Unknown: fmt.Sprintf("decoding input %s: %v", at(in), err)}
		}
		if !answered[id] {
			res.Anomalies = append(res.Anomalies, Anomaly{
				Kind:    LostOutput,
				Summary: fmt.Sprintf("input %q (%s) has no output in %s", id, at(in), spec.OutputTopic),
				Records: []history.Record{in},
			})
		}
	}
	return res
}
