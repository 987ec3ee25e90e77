package invariants

import (
	"cmp"
	"fmt"
	"maps"
	"slices"

	"github.com/eosim/eosim/history"
)

// checkOffsets judges offset-output-mismatch: the input offsets committed
// must agree with the outputs produced. It walks the units whose commit took
// effect (see effective) in History order and keeps, per input partition,
// the committed position (starting at 0). Each such unit must have consumed
// exactly the inputs between the previous position and its own commit (a
// gap skips inputs, an overlap processes them twice), must have an output
// for every input it consumed, and the consumer group must end at the last
// position committed.
func checkOffsets(spec Spec, run Run) Result {
	v := run.view()
	inputs := byPartition(run.Snapshot.Committed[spec.InputTopic])
	units := run.History.Units()
	pos := map[int32]int64{}
	last := map[int32]string{}
	var res Result
	add := func(a Anomaly) {
		a.Kind = OffsetOutputMismatch
		res.Anomalies = append(res.Anomalies, a)
	}
	for i, u := range units {
		if !effective(units, i, v, spec.InputTopic) {
			continue
		}
		consumed := byPartition(onTopic(u.Consumed, spec.InputTopic))
		commits := map[int32]int64{}
		for _, o := range u.Offsets {
			if o.Topic == spec.InputTopic {
				commits[o.Partition] = o.Offset
			}
		}
		for _, p := range slices.Sorted(maps.Keys(union(consumed, commits))) {
			to, ok := commits[p]
			if !ok {
				add(Anomaly{
					Summary: fmt.Sprintf("unit %s consumed %s but committed no offset for %s/%d",
						u.ID, list(consumed[p]), spec.InputTopic, p),
					Records: consumed[p],
					Units:   []string{u.ID},
				})
				continue
			}
			for _, a := range walk(u.ID, history.Offset{Topic: spec.InputTopic, Partition: p, Offset: to}, pos[p], consumed[p], inputs[p]) {
				add(a)
			}
			pos[p], last[p] = to, u.ID
		}
		if a, ok := unanswered(spec, v, u); ok {
			add(a)
		}
	}

	group := map[int32]int64{}
	for _, o := range run.Snapshot.GroupOffsets {
		if o.Topic == spec.InputTopic {
			group[o.Partition] = o.Offset
		}
	}
	for _, p := range slices.Sorted(maps.Keys(union(pos, group))) {
		got, ok := group[p]
		want := pos[p]
		if (ok && got == want) || (!ok && want == 0) {
			continue
		}
		a := Anomaly{Units: []string{last[p]}}
		if ok {
			a.Summary = fmt.Sprintf("group offset of %s/%d is %d, expected %d", spec.InputTopic, p, got, want)
			a.Offsets = []history.Offset{{Topic: spec.InputTopic, Partition: p, Offset: got}}
		} else {
			a.Summary = fmt.Sprintf("group has no offset for %s/%d, expected %d", spec.InputTopic, p, want)
		}
		if last[p] != "" {
			a.Summary += " as committed by unit " + last[p]
		} else {
			a.Units = nil
		}
		add(a)
	}
	return res
}

// walk judges one commit of one partition: unit id moved the position from
// from to c.Offset, having consumed got; inputs are the partition's
// committed inputs.
func walk(id string, c history.Offset, from int64, got, inputs []history.Record) []Anomaly {
	var out []Anomaly
	one := func(summary string, rs []history.Record) {
		out = append(out, Anomaly{Summary: summary, Records: rs, Offsets: []history.Offset{c}, Units: []string{id}})
	}
	where := fmt.Sprintf("%s/%d", c.Topic, c.Partition)
	if c.Offset < from {
		one(fmt.Sprintf("unit %s moved the committed offset of %s back from %d to %d", id, where, from, c.Offset), nil)
	}
	seen := map[int64]bool{}
	var reread, beyond []history.Record
	for _, r := range got {
		seen[r.Offset] = true
		switch {
		case r.Offset < from:
			reread = append(reread, r)
		case r.Offset >= c.Offset:
			beyond = append(beyond, r)
		}
	}
	var skipped []history.Record
	for _, r := range inputs {
		if r.Offset >= from && r.Offset < c.Offset && !seen[r.Offset] {
			skipped = append(skipped, r)
		}
	}
	if len(skipped) > 0 {
		one(fmt.Sprintf("unit %s committed %s offset %d past %d unprocessed inputs: %s",
			id, where, c.Offset, len(skipped), list(skipped)), skipped)
	}
	if len(reread) > 0 {
		one(fmt.Sprintf("unit %s re-consumed %d inputs below %s's committed offset %d: %s",
			id, len(reread), where, from, list(reread)), reread)
	}
	if len(beyond) > 0 {
		one(fmt.Sprintf("unit %s consumed %d inputs at or past its own committed %s offset %d: %s",
			id, len(beyond), where, c.Offset, list(beyond)), beyond)
	}
	return out
}

// unanswered reports the inputs u consumed without an output among its
// visible produced records and its side effects.
func unanswered(spec Spec, v view, u *history.Unit) (Anomaly, bool) {
	answered := map[string]bool{}
	note := func(r history.Record) {
		if r.Topic != spec.OutputTopic {
			return // a store's changelog, another sink: no answer
		}
		if id, err := spec.OutputFor(r); err == nil {
			answered[id] = true
		}
	}
	for _, r := range u.Produced {
		// Give an unread topic the benefit of the doubt.
		if vis, known := v.visible(r); vis || !known {
			note(r)
		}
	}
	for _, r := range u.SideEffects {
		note(r)
	}
	var missing []history.Record
	for _, in := range onTopic(u.Consumed, spec.InputTopic) {
		if id, err := spec.InputID(in); err != nil || !answered[id] {
			missing = append(missing, in)
		}
	}
	if len(missing) == 0 {
		return Anomaly{}, false
	}
	return Anomaly{
		Summary: fmt.Sprintf("unit %s committed offsets for %d inputs without an output: %s", u.ID, len(missing), list(missing)),
		Records: missing,
		Offsets: u.Offsets,
		Units:   []string{u.ID},
	}, true
}

// effective says whether units[i]'s commit took effect. Committed units
// did; aborted and crashed ones did not. A unit whose outcome is unknown did
// iff any of its produced records is visible, all being one transaction.
// One with nothing visible to judge by (it produced nothing, or only to
// topics the snapshot did not read) did iff, on one of its input
// partitions, the next unit to consume starts exactly at its committed
// offset.
func effective(units []*history.Unit, i int, v view, input string) bool {
	u := units[i]
	switch u.Outcome {
	case history.Committed:
		return true
	case history.Unknown:
	default:
		return false
	}
	judged := false
	for _, r := range u.Produced {
		vis, known := v.visible(r)
		if vis {
			return true
		}
		judged = judged || known
	}
	if judged {
		return false
	}
	for _, o := range u.Offsets {
		if o.Topic != input {
			continue
		}
		for _, w := range units[i+1:] {
			if rs := byPartition(onTopic(w.Consumed, input))[o.Partition]; len(rs) > 0 {
				if rs[0].Offset == o.Offset {
					return true
				}
				break
			}
		}
	}
	return false
}

// byPartition groups records by partition, sorted by offset.
func byPartition(rs []history.Record) map[int32][]history.Record {
	if m, ok := runsByPartition(rs); ok {
		return m
	}
	m := map[int32][]history.Record{}
	for _, r := range rs {
		m[r.Partition] = append(m[r.Partition], r)
	}
	for _, prs := range m {
		slices.SortStableFunc(prs, func(a, b history.Record) int { return cmp.Compare(a.Offset, b.Offset) })
	}
	return m
}

// runsByPartition is byPartition without a copy, for records that come as
// they usually do (a snapshot's topic, a unit's consumed records): each
// partition's in one run, in offset order. Each slice is a capped window on
// rs, so an append by a caller copies. ok is false when rs is not so.
func runsByPartition(rs []history.Record) (map[int32][]history.Record, bool) {
	m := map[int32][]history.Record{}
	for start := 0; start < len(rs); {
		p := rs[start].Partition
		if _, seen := m[p]; seen {
			return nil, false // a partition in two runs
		}
		end := start + 1
		for ; end < len(rs) && rs[end].Partition == p; end++ {
			if rs[end].Offset < rs[end-1].Offset {
				return nil, false
			}
		}
		m[p] = rs[start:end:end]
		start = end
	}
	return m, true
}

func onTopic(rs []history.Record, topic string) []history.Record {
	if !slices.ContainsFunc(rs, func(r history.Record) bool { return r.Topic != topic }) {
		// All of them, as a unit of a single-input topology consumes:
		// no copy (capped, so an append by a caller copies).
		return rs[:len(rs):len(rs)]
	}
	var out []history.Record
	for _, r := range rs {
		if r.Topic == topic {
			out = append(out, r)
		}
	}
	return out
}
