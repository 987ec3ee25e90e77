package invariants

import (
	"fmt"
	"maps"
	"slices"

	"github.com/eosim/eosim/history"
)

// checkFold judges inventory-fold: the changelog values of each state key,
// in (partition, offset) order, must be exactly the running fold of the
// model over that key's inputs, so a step applied twice or skipped shows up
// at the first value it corrupts. An unfinished run need only have written a
// prefix of the fold.
func checkFold(spec Spec, run Run) Result {
	folds, err := modelFold(spec, run.Snapshot.Committed[spec.InputTopic])
	if err != nil {
		return Result{Unknown: err.Error()}
	}
	changes := map[string][]history.Record{}
	for _, c := range run.Snapshot.Committed[spec.ChangelogTopic] {
		changes[c.Key] = append(changes[c.Key], c)
	}

	var res Result
	for _, k := range slices.Sorted(maps.Keys(union(folds, changes))) {
		var kf keyFold
		if folds[k] != nil {
			kf = *folds[k]
		}
		if a, ok := foldKey(spec, run.Complete, k, kf.inputs, kf.want, changes[k]); ok {
			res.Anomalies = append(res.Anomalies, a)
		}
	}
	return res
}

// keyFold is one state key's inputs, in the order folded, and the model's
// value after each.
type keyFold struct {
	inputs []history.Record
	want   []string
}

// modelFold folds the model over inputs, in the order given, key by key
// (Spec.StateKey), each key starting from Spec.Initial. It is shared by the
// fold of the changelog (inventory-fold) and of a database (db-fold).
func modelFold(spec Spec, inputs []history.Record) (map[string]*keyFold, error) {
	keys := map[string]*keyFold{}
	for _, in := range inputs {
		k, err := spec.StateKey(in)
		if err != nil {
			return nil, fmt.Errorf("state key of input %s: %w", at(in), err)
		}
		kf := keys[k]
		if kf == nil {
			kf = &keyFold{}
			keys[k] = kf
		}
		prev := spec.Initial(k)
		if n := len(kf.want); n > 0 {
			prev = kf.want[n-1]
		}
		next, err := spec.Apply(prev, in)
		if err != nil {
			return nil, fmt.Errorf("model cannot apply input %s to %q: %w", at(in), prev, err)
		}
		kf.inputs = append(kf.inputs, in)
		kf.want = append(kf.want, next)
	}
	return keys, nil
}

// foldKey judges one key and returns its first anomaly, if any: later ones
// usually follow from the first.
func foldKey(spec Spec, complete bool, key string, inputs []history.Record, want []string, changes []history.Record) (Anomaly, bool) {
	// A key's changes only have an order within one partition; split across
	// partitions, nothing else about them can be trusted.
	var firsts []history.Record
	for _, c := range changes {
		if len(firsts) == 0 || firsts[len(firsts)-1].Partition != c.Partition {
			firsts = append(firsts, c)
		}
	}
	if len(firsts) > 1 {
		return Anomaly{
			Kind:    InventoryFold,
			Summary: fmt.Sprintf("key %q is in %d changelog partitions: %s", key, len(firsts), list(firsts)),
			Records: firsts,
		}, true
	}
	for i, c := range changes {
		if i >= len(want) {
			return Anomaly{
				Kind: InventoryFold,
				Summary: fmt.Sprintf("key %q: changelog %s got %q, expected no value after all %d inputs folded",
					key, at(c), c.Value, len(want)),
				Records: []history.Record{c},
			}, true
		}
		if c.Value != want[i] {
			return Anomaly{
				Kind: InventoryFold,
				Summary: fmt.Sprintf("key %q: changelog %s got %q, expected %q after folding %d of %d inputs (last %s)",
					key, at(c), c.Value, want[i], i+1, len(want), at(inputs[i])),
				Records: []history.Record{c, inputs[i]},
			}, true
		}
	}
	if !complete || len(changes) >= len(want) {
		return Anomaly{}, false
	}
	final, from := spec.Initial(key), "initial value, no changelog record"
	var ev []history.Record
	if n := len(changes); n > 0 {
		final, from = changes[n-1].Value, "changelog "+at(changes[n-1])
		ev = append(ev, changes[n-1])
	}
	missing := inputs[len(changes):]
	return Anomaly{
		Kind: InventoryFold,
		Summary: fmt.Sprintf("key %q: final stock %q (%s), expected %q after all %d inputs; %d never folded: %s",
			key, final, from, want[len(want)-1], len(want), len(missing), list(missing)),
		Records: append(ev, missing...),
	}, true
}
