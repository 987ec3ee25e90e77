// Package coverage owns the map of the fault space: the cells a fault can
// land in (a kind at a crash point, a request answered with an error, a
// request whose answer is lost, a request held for a length of time, a
// cluster event, a database fault), which of them a sweep reached, what
// the client and the engine did next, and which cells it never reached
// (with the reason, where one is known). As FoundationDB's BUGGIFY counts
// the fault sites that fired, so does a sweep with simrun -coverage.
package coverage

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/eosim/eosim/engine"
	"github.com/eosim/eosim/faults"
	"github.com/eosim/eosim/history"
	"github.com/eosim/eosim/sim"
)

// Cell names one cell of the fault space, e.g. "crash at after-produce",
// "broker-error EndTxn TRANSACTION_ABORTABLE", "delay Produce 5000ms".
type Cell string

// CellOf names the cell fault f lands in (faults.Fault.Cell). Step,
// instance and downtime are not part of it: they say when and whom, not
// what.
func CellOf(f faults.Fault) Cell { return Cell(f.Cell()) }

// Space lists every cell the generators can draw for a scenario (withDB: it
// has a database) under guarantee g, sorted.
func Space(withDB bool, g engine.Guarantee) []Cell {
	return cellsOf(faults.CatalogueSpace(crashPoints(withDB, g), withDB))
}

// ReactionSpace lists, sorted, every cell swarm's reactions style draws
// from for a scenario under guarantee g (faults.ReactionSpace): Space's,
// and late transaction markers.
func ReactionSpace(withDB bool, g engine.Guarantee) []Cell {
	return cellsOf(faults.ReactionSpace(crashPoints(withDB, g), withDB))
}

func crashPoints(withDB bool, g engine.Guarantee) []engine.CrashPoint {
	if withDB {
		return g.CrashPoints()
	}
	return engine.CrashPoints()
}

func cellsOf(names []string) []Cell {
	cells := make([]Cell, len(names))
	for i, c := range names {
		cells[i] = Cell(c)
	}
	return cells
}

// WideSpace lists, sorted, every cell of the wide fault space that
// swarm's cells style draws from (faults.WideSpace): every error the
// protocol allows each request an instance sends, rejected and applied,
// holds in bands, rewrites, and the cells of Space that draw no lengths
// in milliseconds.
func WideSpace(withDB bool) []Cell { return cellsOf(faults.WideSpace(withDB)) }

// Unreachable says why a cell of Space can never fire under guarantee g,
// or "" when nothing is known to keep it from firing.
func Unreachable(c Cell, g engine.Guarantee) string {
	s := string(c)
	sendsOffsetCommit := !g.Transactional() || g == engine.OffsetsBeforeCommit || g == engine.OffsetsAfterCommit
	switch {
	case strings.Contains(s, " OffsetCommit") && !sendsOffsetCommit:
		return fmt.Sprintf("%s never sends OffsetCommit: its offsets go in the transaction", g)
	case strings.Contains(s, " LeaveGroup"):
		return "the instances are static members (group.instance.id): kgo sends LeaveGroup for one only if it closes owing a cooperative rejoin; a leave fault's is sent by eosim's admin client"
	case !g.Transactional() && containsAny(s, "InitProducerID", "AddPartitionsToTxn", "AddOffsetsToTxn", "TxnOffsetCommit", "EndTxn"):
		return fmt.Sprintf("%s sends no transactional request", g)
	case !g.Transactional() && (strings.HasSuffix(s, " at "+string(engine.AfterSendOffsets)) || strings.HasSuffix(s, " at "+string(engine.DuringCommit))):
		return fmt.Sprintf("a unit under %s has no transaction to send offsets to or commit", g)
	}
	return ""
}

func containsAny(s string, subs ...string) bool {
	return slices.ContainsFunc(subs, func(sub string) bool { return strings.Contains(s, sub) })
}

// Count is what became of a cell's faults.
type Count struct {
	Fired      int `json:"fired"`
	NoEffect   int `json:"no_effect"`
	NotReached int `json:"not_reached"`
	// EmptyBand, for a hold, is why it had no effect when its band was
	// empty under the holding client's timeouts (faults.ErrEmptyBand): a
	// cell that can then never fire says so.
	EmptyBand string `json:"empty_band,omitempty"`
	// Then counts what the faulted instance did next after each firing:
	// its next unit's outcome ("unit committed", "unit aborted", "unit
	// unknown", "unit crashed"), "crashed", "restarted after a failure",
	// "aborted and continued" (engine.ContinuedNote), "restarted", or "nothing more" when the run ended first. Cluster
	// faults, which name no instance, have none.
	Then map[string]int `json:"then,omitempty"`
}

// Map is the cells a run or a sweep reached, with their counts.
type Map map[Cell]*Count

// Of returns the cells of res's schedule, each with what became of its
// faults and, for those that fired, what their instance did next (read
// from the History).
func Of(res sim.Result) Map {
	m := make(Map)
	fired := firedAt(res)
	for i, o := range res.Faults {
		c := m.count(CellOf(o.Fault))
		switch o.Outcome {
		case sim.Fired:
			c.Fired++
			if o.Fault.Instance == "" || o.Fault.Kind.IsCluster() {
				continue
			}
			if at, ok := fired[i]; ok {
				if c.Then == nil {
					c.Then = make(map[string]int)
				}
				c.Then[then(res.History, at, o.Fault.Instance)]++
			}
		case sim.NoEffect:
			c.NoEffect++
			if strings.Contains(o.Detail, faults.ErrEmptyBand.Error()) {
				c.EmptyBand = o.Detail
			}
		case sim.NotReached:
			c.NotReached++
		}
	}
	return m
}

func (m Map) count(c Cell) *Count {
	if m[c] == nil {
		m[c] = &Count{}
	}
	return m[c]
}

// Add adds o's counts into m.
func (m Map) Add(o Map) {
	for cell, oc := range o {
		c := m.count(cell)
		c.Fired += oc.Fired
		c.NoEffect += oc.NoEffect
		c.NotReached += oc.NotReached
		if c.EmptyBand == "" {
			c.EmptyBand = oc.EmptyBand
		}
		for p, n := range oc.Then {
			if c.Then == nil {
				c.Then = make(map[string]int)
			}
			c.Then[p] += n
		}
	}
}

// firedAt maps each fault of res that fired, by its index in the schedule,
// to the position of its "fired" line in the History: the line names the
// fault's kind and instance and reads "fired: " and the outcome's detail
// (identical faults take the lines in order).
func firedAt(res sim.Result) map[int]int {
	out := make(map[int]int)
	used := make(map[int]bool)
	for i, o := range res.Faults {
		if o.Outcome != sim.Fired {
			continue
		}
		line := "fired: " + o.Detail
		for at, ev := range res.History.Events {
			if !used[at] && ev.Kind == history.KindFault && ev.Fault == string(o.Fault.Kind) &&
				ev.Instance == o.Fault.Instance && ev.Detail == line {
				out[i], used[at] = at, true
				break
			}
		}
	}
	return out
}

// then says what instance did next after event at of h.
func then(h history.History, at int, instance string) string {
	// Under -recovery continue the instance notes that it aborted and
	// continued within its step, before the fault's "fired" line.
	for i := at - 1; i >= 0 && h.Events[i].T == h.Events[at].T; i-- {
		if ev := h.Events[i]; ev.Kind == history.KindNote && ev.Instance == instance && strings.Contains(ev.Detail, engine.ContinuedNote) {
			return engine.ContinuedNote
		}
	}
	for _, ev := range h.Events[at+1:] {
		switch {
		case ev.Kind == history.KindUnit && ev.Instance == instance && ev.Unit != nil:
			return "unit " + string(ev.Unit.Outcome)
		case ev.Kind == history.KindCrash && ev.Instance == instance:
			return "crashed"
		case ev.Kind == history.KindNote && strings.HasPrefix(ev.Detail, instance+" restarts after a failure"):
			return "restarted after a failure"
		case ev.Kind == history.KindStart && ev.Instance == instance:
			return "restarted"
		}
	}
	return "nothing more"
}

// Report is a sweep's map, for people and for JSON: the cells reached and
// those never reached, of the Space of the sweep's scenario.
type Report struct {
	Cells   int             `json:"cells"`
	Reached map[Cell]*Count `json:"reached"`
	Never   []Never         `json:"never_reached"`
	// Beyond counts the cells reached that are not of the space: those
	// only a schedule or a focus names (a hold given in milliseconds the
	// generators never draw, or a band).
	Beyond int `json:"beyond,omitempty"`
}

// Never is a cell no fault of the sweep fired in.
type Never struct {
	Cell Cell `json:"cell"`
	// Drawn counts the faults that landed in it without firing.
	Drawn int `json:"drawn"`
	// Why, when known, is why it cannot fire.
	Why string `json:"why,omitempty"`
}

// Summarize turns m into a Report over space: a cell is reached when a
// fault fired in it.
func Summarize(m Map, space []Cell, g engine.Guarantee) Report {
	r := Report{Cells: len(space), Reached: make(map[Cell]*Count)}
	all := slices.Clone(space)
	for c := range m {
		if !slices.Contains(all, c) {
			all = append(all, c) // a cell a replayed schedule reached
		}
	}
	slices.Sort(all)
	for _, c := range all {
		n := m[c]
		if n != nil && n.Fired > 0 {
			r.Reached[c] = n
			if !slices.Contains(space, c) {
				r.Beyond++
			}
			continue
		}
		drawn, why := 0, Unreachable(c, g)
		if n != nil {
			drawn = n.NoEffect + n.NotReached
			if why == "" && n.EmptyBand != "" {
				why = "the band is empty: " + n.EmptyBand
			}
		}
		r.Never = append(r.Never, Never{Cell: c, Drawn: drawn, Why: why})
	}
	return r
}

// Lines renders the report, one cell a line: the reached, then the never
// reached.
func (r Report) Lines() []string {
	var ls []string
	head := fmt.Sprintf("coverage: %d of %d cells reached", len(r.Reached)-r.Beyond, r.Cells)
	if r.Beyond > 0 {
		head += fmt.Sprintf(", and %d beyond the generators' space", r.Beyond)
	}
	ls = append(ls, head)
	for _, c := range slices.Sorted(maps.Keys(r.Reached)) {
		n := r.Reached[c]
		l := fmt.Sprintf("  %-56s fired %d", c, n.Fired)
		if n.NoEffect > 0 {
			l += fmt.Sprintf(", no effect %d", n.NoEffect)
		}
		if n.NotReached > 0 {
			l += fmt.Sprintf(", not reached %d", n.NotReached)
		}
		if len(n.Then) > 0 {
			var ps []string
			for _, p := range slices.Sorted(maps.Keys(n.Then)) {
				ps = append(ps, fmt.Sprintf("%s %d", p, n.Then[p]))
			}
			l += "; then " + strings.Join(ps, ", ")
		}
		ls = append(ls, l)
	}
	if len(r.Never) > 0 {
		ls = append(ls, fmt.Sprintf("never reached (%d):", len(r.Never)))
	}
	for _, n := range r.Never {
		l := fmt.Sprintf("  %-56s", n.Cell)
		switch {
		case n.Why != "":
			l += " " + n.Why
		case n.Drawn > 0:
			l += fmt.Sprintf(" drawn %d times, never fired", n.Drawn)
		default:
			l += " never drawn"
		}
		ls = append(ls, strings.TrimRight(l, " "))
	}
	return ls
}
