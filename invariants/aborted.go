package invariants

import (
	"fmt"

	"github.com/eosim/eosim/history"
)

// checkAborted judges aborted-read from both sides: read_committed must not
// show a record of a transaction that aborted, and no unit may have consumed
// a record that read_committed hides but the log holds (it read an aborted
// or never-committed record).
func checkAborted(_ Spec, run Run) Result {
	v := run.view()
	var res Result
	for _, u := range run.History.Units() {
		// A crashed transaction is aborted by the broker; a crashed plain
		// producer's records rightly stay.
		if u.Outcome == history.Aborted || (u.Outcome == history.Crashed && u.Transactional) {
			var shown []history.Record
			for _, r := range u.Produced {
				if v.isCommitted(locOf(r)) {
					shown = append(shown, r)
				}
			}
			if len(shown) > 0 {
				res.Anomalies = append(res.Anomalies, Anomaly{
					Kind: AbortedRead,
					Summary: fmt.Sprintf("unit %s (%s) has %d of its %d records visible to read_committed: %s",
						u.ID, u.Outcome, len(shown), len(u.Produced), list(shown)),
					Records: shown,
					Units:   []string{u.ID},
				})
			}
		}
		var dirty []history.Record
		for _, r := range u.Consumed {
			l := locOf(r)
			if v.read[r.Topic] && !v.isCommitted(l) && v.isLogged(l) {
				dirty = append(dirty, r)
			}
		}
		if len(dirty) > 0 {
			res.Anomalies = append(res.Anomalies, Anomaly{
				Kind: AbortedRead,
				Summary: fmt.Sprintf("unit %s (%s) consumed %d records the log holds but read_committed hides: %s",
					u.ID, u.Outcome, len(dirty), list(dirty)),
				Records: dirty,
				Units:   append([]string{u.ID}, unitsFor(run.producers(), dirty)...),
			})
		}
	}
	return res
}
