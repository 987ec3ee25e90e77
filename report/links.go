package report

import (
	"slices"
	"strconv"
	"strings"

	"github.com/eosim/eosim/history"
)

// anchors gives every unit of a History its element id, "unit-" and the unit
// id with anything outside [A-Za-z0-9_.-] replaced, so that the id is a
// plain URL fragment. Sanitising can make two ids collide; a later unit then
// gets a numbered suffix, decided in History order so that the page is
// stable.
func anchors(h history.History) map[string]string {
	m := map[string]string{}
	taken := map[string]bool{}
	for _, u := range h.Units() {
		if _, ok := m[u.ID]; ok {
			continue
		}
		base := "unit-" + sanitize(u.ID)
		a := base
		for n := 2; taken[a]; n++ {
			a = base + "-" + strconv.Itoa(n)
		}
		taken[a] = true
		m[u.ID] = a
	}
	return m
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '.', r == '-':
			return r
		}
		return '_'
	}, s)
}

// recordKey identifies a record in a topic's log.
type recordKey struct {
	topic     string
	partition int32
	offset    int64
}

// recordUnits says which units touched a record, so that an anomaly's
// evidence, which names records, can point at the units behind them.
type recordUnits struct {
	producedBy map[recordKey][]string
	consumedBy map[recordKey][]string
}

func indexRecords(h history.History) recordUnits {
	ix := recordUnits{producedBy: map[recordKey][]string{}, consumedBy: map[recordKey][]string{}}
	add := func(m map[recordKey][]string, rs []history.Record, id string) {
		for _, r := range rs {
			k := recordKey{r.Topic, r.Partition, r.Offset}
			if !slices.Contains(m[k], id) {
				m[k] = append(m[k], id)
			}
		}
	}
	for _, u := range h.Units() {
		add(ix.producedBy, u.Produced, u.ID)
		add(ix.producedBy, u.SideEffects, u.ID)
		add(ix.consumedBy, u.Consumed, u.ID)
	}
	return ix
}

func (ix recordUnits) lookup(r history.Record) (produced, consumed []string) {
	k := recordKey{r.Topic, r.Partition, r.Offset}
	return ix.producedBy[k], ix.consumedBy[k]
}
