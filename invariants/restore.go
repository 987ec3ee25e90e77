package invariants

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/eosim/eosim/history"
)

// checkRestore judges state-restore: a store partition made ready for
// processing, whether restored or kept from local state, must hold exactly
// the fold of its committed changelog below the offset it was loaded up to
// (last value per key wins, an empty value deletes). Local state that
// survived a crash without a clean checkpoint is what this catches.
func checkRestore(spec Spec, run Run) Result {
	var res Result
	for _, e := range run.History.Events {
		ld := e.Load
		if ld == nil {
			continue
		}
		topic := ld.Topic
		if topic == "" {
			topic = spec.ChangelogTopic
		}
		want := map[string]string{}
		recs := map[string][]history.Record{}
		for _, r := range run.Snapshot.Committed[topic] {
			if r.Partition != ld.Partition || r.Offset >= ld.Upto {
				continue
			}
			recs[r.Key] = append(recs[r.Key], r)
			if r.Value == "" {
				delete(want, r.Key)
			} else {
				want[r.Key] = r.Value
			}
		}
		got := map[string]string{}
		for _, kv := range ld.State {
			got[kv.Key] = kv.Value
		}
		var diffs []string
		var proof []history.Record
		for _, k := range slices.Sorted(maps.Keys(union(want, got))) {
			w, wok := want[k]
			g, gok := got[k]
			if wok == gok && w == g {
				continue
			}
			diffs = append(diffs, fmt.Sprintf("%q expected %s got %s", k, quoteOr(w, wok), quoteOr(g, gok)))
			proof = append(proof, recs[k]...)
		}
		if len(diffs) == 0 {
			continue
		}
		res.Anomalies = append(res.Anomalies, Anomaly{
			Kind: StateRestore,
			Summary: fmt.Sprintf("instance %s store %s loaded %s/%d up to %d (%s) differs from the changelog: %s",
				e.Instance, ld.Store, topic, ld.Partition, ld.Upto, ld.Source, strings.Join(diffs, "; ")),
			Records: proof,
			Offsets: []history.Offset{{Topic: topic, Partition: ld.Partition, Offset: ld.Upto}},
		})
	}
	return res
}

// quoteOr renders a store value for a summary, or "absent".
func quoteOr(v string, ok bool) string {
	if !ok {
		return "absent"
	}
	return fmt.Sprintf("%q", v)
}
