package invariants

import (
	"fmt"

	"github.com/eosim/eosim/history"
)

// checkPhantom judges phantom-output: every output answers an input that
// exists in read_committed.
func checkPhantom(spec Spec, run Run) Result {
	ids, err := inputIDs(spec, run.Snapshot.Committed[spec.InputTopic])
	if err != nil {
		return Result{Unknown: err.Error()}
	}
	var res Result
	for _, o := range run.Snapshot.Committed[spec.OutputTopic] {
		var summary string
		switch id, err := spec.OutputFor(o); {
		case err != nil:
			summary = fmt.Sprintf("output %s names no input: %v", at(o), err)
		case !ids[id]:
			summary = fmt.Sprintf("output %s answers input %q, which is not in %s", at(o), id, spec.InputTopic)
		default:
			continue
		}
		rs := []history.Record{o}
		res.Anomalies = append(res.Anomalies, Anomaly{
			Kind: PhantomOutput, Summary: summary, Records: rs, Units: unitsFor(run.producers(), rs),
		})
	}
	return res
}
