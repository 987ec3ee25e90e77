package invariants

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/eosim/eosim/history"
)

// loc names a record by where the broker put it. Kafka never reuses an
// offset, aborted records included, so a loc names one record in every view
// of a topic and in the History.
type loc struct {
	topic     string
	partition int32
	offset    int64
}

func locOf(r history.Record) loc { return loc{r.Topic, r.Partition, r.Offset} }

// view indexes a Snapshot by record location: each topic's records in
// (partition, offset) order, searched by halving. A snapshot is read in
// that order already; maps of every location were the largest thing the
// checkers built.
type view struct {
	committed   map[string][]history.Record
	uncommitted map[string][]history.Record
	// read holds the topics the snapshot read; about any other topic it
	// can say nothing.
	read map[string]bool
}

func newView(s history.Snapshot) view {
	v := view{committed: inOrder(s.Committed), uncommitted: inOrder(s.Uncommitted), read: make(map[string]bool, len(s.Committed))}
	for t := range s.Committed {
		v.read[t] = true
	}
	return v
}

// inOrder is topics with each topic's records in (partition, offset) order:
// as they are where they were out of it, sorted copies where not.
func inOrder(topics map[string][]history.Record) map[string][]history.Record {
	out := make(map[string][]history.Record, len(topics))
	for t, rs := range topics {
		if !slices.IsSortedFunc(rs, compareLocs) {
			rs = slices.SortedFunc(slices.Values(rs), compareLocs)
		}
		out[t] = rs
	}
	return out
}

func compareLocs(a, b history.Record) int {
	if c := cmp.Compare(a.Partition, b.Partition); c != 0 {
		return c
	}
	return cmp.Compare(a.Offset, b.Offset)
}

// has reports whether a topic's records, in (partition, offset) order, hold
// one at l.
func has(rs []history.Record, l loc) bool {
	_, ok := slices.BinarySearchFunc(rs, l, func(r history.Record, l loc) int {
		if c := cmp.Compare(r.Partition, l.partition); c != 0 {
			return c
		}
		return cmp.Compare(r.Offset, l.offset)
	})
	return ok
}

// isCommitted reports whether the read_committed view holds a record at l;
// isLogged, whether the log does.
func (v view) isCommitted(l loc) bool { return has(v.committed[l.topic], l) }
func (v view) isLogged(l loc) bool    { return has(v.uncommitted[l.topic], l) }

// visible reports whether r is in the read_committed view, and whether the
// snapshot read r's topic at all (when it did not, vis means nothing).
func (v view) visible(r history.Record) (vis, known bool) {
	return v.isCommitted(locOf(r)), v.read[r.Topic]
}

// producers maps each record a unit sent (in or outside its transaction) to
// the units that sent it, in History order, so evidence can name them.
func producers(h history.History) map[loc][]string {
	units := h.Units()
	n := 0
	for _, u := range units {
		n += len(u.Produced) + len(u.SideEffects)
	}
	m := make(map[loc][]string, n)
	for _, u := range units {
		for _, rs := range [][]history.Record{u.Produced, u.SideEffects} {
			for _, r := range rs {
				m[locOf(r)] = append(m[locOf(r)], u.ID)
			}
		}
	}
	return m
}

// unitsFor returns the distinct units that produced rs, in the order met.
func unitsFor(by map[loc][]string, rs []history.Record) []string {
	var ids []string
	seen := map[string]bool{}
	for _, r := range rs {
		for _, id := range by[locOf(r)] {
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	return ids
}

// inputIDs decodes the id of every input. Inputs come from the workload, so
// one that does not decode means the Spec does not fit the run.
func inputIDs(spec Spec, inputs []history.Record) (map[string]bool, error) {
	ids := map[string]bool{}
	for _, r := range inputs {
		id, err := spec.InputID(r)
		if err != nil {
			return nil, fmt.Errorf("decoding input %s: %w", at(r), err)
		}
		ids[id] = true
	}
	return ids, nil
}

// at names where a record is: topic/partition@offset.
func at(r history.Record) string { return fmt.Sprintf("%s/%d@%d", r.Topic, r.Partition, r.Offset) }

// maxListed bounds how many records a summary spells out so it stays one
// readable line; the evidence keeps them all.
const maxListed = 5

// list names the records of rs for a summary.
func list(rs []history.Record) string {
	var b strings.Builder
	for i, r := range rs {
		if i == maxListed {
			fmt.Fprintf(&b, ", ... (%d more)", len(rs)-maxListed)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(at(r))
	}
	return b.String()
}

// orNone stands in for an empty list in a summary.
func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// union returns the keys of two maps.
func union[K comparable, A, B any](a map[K]A, b map[K]B) map[K]bool {
	m := map[K]bool{}
	for k := range a {
		m[k] = true
	}
	for k := range b {
		m[k] = true
	}
	return m
}
