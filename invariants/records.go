package invariants

import (
	"fmt"
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

// view indexes a Snapshot by record location.
type view struct {
	committed   map[loc]bool
	uncommitted map[loc]bool
	// read holds the topics the snapshot read; about any other topic it
	// can say nothing.
	read map[string]bool
}

func newView(s history.Snapshot) view {
	// Sized up front: grown one insert at a time, these maps were the
	// checkers' largest allocation.
	nc, nu := 0, 0
	for _, rs := range s.Committed {
		nc += len(rs)
	}
	for _, rs := range s.Uncommitted {
		nu += len(rs)
	}
	v := view{committed: make(map[loc]bool, nc), uncommitted: make(map[loc]bool, nu), read: make(map[string]bool, len(s.Committed))}
	for t, rs := range s.Committed {
		v.read[t] = true
		for _, r := range rs {
			v.committed[locOf(r)] = true
		}
	}
	for _, rs := range s.Uncommitted {
		for _, r := range rs {
			v.uncommitted[locOf(r)] = true
		}
	}
	return v
}

// visible reports whether r is in the read_committed view, and whether the
// snapshot read r's topic at all (when it did not, vis means nothing).
func (v view) visible(r history.Record) (vis, known bool) {
	return v.committed[locOf(r)], v.read[r.Topic]
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
