package invariants

import (
	"fmt"

	"github.com/eosim/eosim/history"
)

// checkTorn judges torn-transaction: a transaction is all or nothing. One
// its instance saw commit must be wholly visible to read_committed; one
// whose outcome is unknown may be wholly visible or wholly hidden. Records
// on topics the snapshot did not read are left out, since nothing can be
// said of them; aborted and crashed transactions are aborted-read's.
func checkTorn(_ Spec, run Run) Result {
	v := run.view()
	var res Result
	for _, u := range run.History.Units() {
		if !u.Transactional || (u.Outcome != history.Committed && u.Outcome != history.Unknown) {
			continue
		}
		// Hidden records are rare: they are gathered, the visible ones
		// only counted until there is an anomaly to show them in.
		var hidden []history.Record
		nShown := 0
		for _, r := range u.Produced {
			switch vis, known := v.visible(r); {
			case !known:
			case vis:
				nShown++
			default:
				hidden = append(hidden, r)
			}
		}
		if len(hidden) == 0 || (u.Outcome == history.Unknown && nShown == 0) {
			continue
		}
		shown := make([]history.Record, 0, nShown)
		for _, r := range u.Produced {
			if vis, known := v.visible(r); known && vis {
				shown = append(shown, r)
			}
		}
		res.Anomalies = append(res.Anomalies, Anomaly{
			Kind: TornTransaction,
			Summary: fmt.Sprintf("unit %s (%s): %d of %d records missing from read_committed: %s; visible: %s",
				u.ID, u.Outcome, len(hidden), len(hidden)+len(shown), list(hidden), orNone(list(shown))),
			Records: append(hidden, shown...),
			Units:   []string{u.ID},
		})
	}
	return res
}
