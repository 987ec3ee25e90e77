package invariants

import (
	"fmt"
	"maps"
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

// view indexes a Snapshot by record location. The checkers ask it about
// every record a unit produced or consumed; maps of every location were the
// largest thing they built, and a search through the records the next, so
// each view is a set of offsets as bits.
type view struct {
	committed   locSet
	uncommitted locSet
	// read holds the topics the snapshot read; about any other topic it
	// can say nothing.
	read map[string]bool
}

func newView(s history.Snapshot) view {
	v := view{committed: newLocSet(s.Committed), uncommitted: newLocSet(s.Uncommitted), read: make(map[string]bool, len(s.Committed))}
	for t := range s.Committed {
		v.read[t] = true
	}
	return v
}

// isCommitted reports whether the read_committed view holds a record at l;
// isLogged, whether the log does.
func (v view) isCommitted(l loc) bool { return v.committed.has(l) }
func (v view) isLogged(l loc) bool    { return v.uncommitted.has(l) }

// locSet is a set of record locations: for each topic (a run has a few,
// looked through in turn), for each partition, its offsets as bits from the
// lowest, or, where they are sparse (a topic read from far along its log),
// sorted.
type locSet []topicOffsets

type topicOffsets struct {
	topic string
	parts []offsets // by partition
}

type offsets struct {
	base   int64
	bits   []uint64
	sorted []int64 // in place of bits, for sparse offsets
}

func newLocSet(topics map[string][]history.Record) locSet {
	s := make(locSet, 0, len(topics))
	for _, t := range slices.Sorted(maps.Keys(topics)) {
		rs := topics[t]
		// Each partition's count and range first, to size its set.
		type span struct {
			low, high int64
			n         int
		}
		spans := map[int32]*span{}
		var nparts int32
		for _, r := range rs {
			if r.Partition < 0 {
				continue // no partition has such a number; nothing asks for it
			}
			sp := spans[r.Partition]
			if sp == nil {
				sp = &span{low: r.Offset, high: r.Offset}
				spans[r.Partition] = sp
			}
			sp.low, sp.high, sp.n = min(sp.low, r.Offset), max(sp.high, r.Offset), sp.n+1
			nparts = max(nparts, r.Partition+1)
		}
		to := topicOffsets{topic: t, parts: make([]offsets, nparts)}
		for p, sp := range spans {
			if words := (sp.high-sp.low)/64 + 1; words <= int64(sp.n) {
				to.parts[p] = offsets{base: sp.low, bits: make([]uint64, words)}
			} else {
				to.parts[p] = offsets{sorted: make([]int64, 0, sp.n)}
			}
		}
		for _, r := range rs {
			if r.Partition < 0 {
				continue
			}
			o := &to.parts[r.Partition]
			if o.bits != nil {
				i := r.Offset - o.base
				o.bits[i/64] |= 1 << (i % 64)
			} else {
				o.sorted = append(o.sorted, r.Offset)
			}
		}
		for p := range to.parts {
			slices.Sort(to.parts[p].sorted)
		}
		s = append(s, to)
	}
	return s
}

func (s locSet) has(l loc) bool {
	for i := range s {
		if s[i].topic != l.topic {
			continue
		}
		if l.partition < 0 || int(l.partition) >= len(s[i].parts) {
			return false
		}
		o := &s[i].parts[l.partition]
		if o.bits == nil {
			_, ok := slices.BinarySearch(o.sorted, l.offset)
			return ok
		}
		at := l.offset - o.base
		return at >= 0 && at < int64(len(o.bits))*64 && o.bits[at/64]&(1<<(at%64)) != 0
	}
	return false
}

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
