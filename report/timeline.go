package report

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/eosim/eosim/history"
)

// Geometry of the timeline, in SVG user units (pixels). Lane-relative rows:
// the assignment band on top, unit bars in the middle, loads at the bottom.
const (
	plotLeft   = 64.0
	plotWidth  = 1100.0
	plotRight  = 24.0
	laneHeight = 50.0
	axisHeight = 30.0
	barTop     = 20.0
	barHeight  = 16.0
	minBarW    = 2.0
	// maxBarsPerLane is how many units a lane draws one by one; past it the
	// lane is cut into as many time buckets, one bar each, because a few
	// hundred bars is what still reads at this width.
	maxBarsPerLane = 400
	// maxNotes bounds the run-wide marks drawn across every lane.
	maxNotes = 200
)

// Geometry of the database row. A History with database transactions
// (history.KindDB) gets one in every lane, below the unit bars, and its
// lanes grow to make room: the loads and other marks below the bars move
// down by dbShift. A History without any keeps the layout it always had.
const (
	dbLaneHeight = 66.0
	dbRowTop     = 40.0
	dbRowHeight  = 10.0
	dbMarkW      = 4.0
	dbShift      = 14
	// noteY is where an aggregated lane says how many units it holds.
	noteY   = 44
	dbNoteY = 62
)

// timeline is the laid-out SVG: everything the template needs, with
// positions already computed.
type timeline struct {
	Width, Height float64
	// Left and Right bound the plot; PlotWidth and LaneHeight are the
	// layout constants, handed to the template so it repeats no numbers.
	Left, Right, PlotWidth, LaneHeight float64
	AxisY                              float64
	Ticks                              []tick
	Lanes                              []lane
	// Notes are run-wide events (no instance), drawn across every lane.
	Notes []mark
	// DB says whether lanes have a database row, at DBRowTop, DBRowHeight
	// high; NoteY is where an aggregated lane's unit count goes.
	DB               bool
	DBRowTop, DBRowH float64
	NoteY            int
	// drawn holds the ids of units that have a bar of their own, the only
	// ones a link can point at; drawnDB the events (by index in the
	// History) of the database transactions that have a mark of their own.
	drawn   map[string]bool
	drawnDB map[int]bool
}

type tick struct {
	X     float64
	Label string
}

type lane struct {
	Name       string
	Y          float64
	Units      int
	Aggregated bool
	Bands      []band
	// Buckets are the aggregate bars of a lane with too many units.
	Buckets []bar
	Bars    []bar
	Marks   []mark
	// DBTxns counts the lane's database transactions. Past
	// maxBarsPerLane of them, DBBuckets aggregate them by time, and
	// DBMarks keep only those of units in keep.
	DBTxns       int
	DBAggregated bool
	DBBuckets    []bar
	DBMarks      []bar
}

// band is one assignment held from X to X+W.
type band struct {
	X, W         float64
	Label, Title string
}

type bar struct {
	// Anchor is the element id of a unit's own bar, empty for a bucket.
	Anchor       string
	X, W         float64
	Class, Title string
}

// mark is a point event drawn as a path: crash, fault, load, start, stop.
type mark struct {
	Class, D, Title string
}

// outcomeRank orders outcomes from best to worst for aggregate bars: a
// bucket shows the worst thing that happened in it.
var outcomeRank = map[history.Outcome]int{
	history.Committed: 0, history.Aborted: 1, history.Unknown: 2, history.Crashed: 3,
}

var outcomeOrder = []history.Outcome{history.Committed, history.Aborted, history.Crashed, history.Unknown}

// outcomeClass maps an outcome to its CSS class; an outcome this package
// does not know is drawn as unknown rather than as a success.
func outcomeClass(o history.Outcome) string {
	if _, ok := outcomeRank[o]; ok {
		return "o-" + string(o)
	}
	return "o-unknown"
}

func rank(o history.Outcome) int {
	if r, ok := outcomeRank[o]; ok {
		return r
	}
	return outcomeRank[history.Unknown]
}

type placedUnit struct {
	u          *history.Unit
	start, end time.Duration
}

// buildTimeline lays out h: one lane per instance, sorted by name. Units in
// keep are always drawn on their own, even in an aggregated lane, so that
// links from anomalies land on a bar.
//
// A History with database transactions gets a database row in every lane:
// each transaction a mark at the time its outcome was recorded, coloured by
// that outcome, filled for a unit's write and outlined for a claim, and a
// unit's tooltip lists the database transactions it made.
func buildTimeline(h history.History, anchor map[string]string, keep map[string]bool) timeline {
	names, span := laneNamesAndSpan(h)
	x := func(t time.Duration) float64 { return plotLeft + float64(t)/float64(span)*plotWidth }
	hasDB := slices.ContainsFunc(h.Events, func(ev history.Event) bool { return ev.DB != nil })
	lh, shift, ny := laneHeight, 0, noteY
	if hasDB {
		lh, shift, ny = dbLaneHeight, dbShift, dbNoteY
	}
	tl := timeline{
		Width: plotLeft + plotWidth + plotRight,
		Left:  plotLeft, Right: plotLeft + plotWidth, PlotWidth: plotWidth, LaneHeight: lh,
		AxisY:  float64(len(names)) * lh,
		Height: float64(len(names))*lh + axisHeight,
		DB:     hasDB, DBRowTop: dbRowTop, DBRowH: dbRowHeight, NoteY: ny,
		drawn:   map[string]bool{},
		drawnDB: map[int]bool{},
	}
	tl.Ticks = ticks(span, x)

	ly := newLayout(names, x, lh, shift)
	for i, ev := range h.Events {
		if ev.Instance == "" {
			tl.addNote(ev, x)
			continue
		}
		ly.place(i, ev)
	}
	for i := range ly.lanes {
		ly.closeBand(i, span)
		ly.drawUnits(i, span, anchor, keep, tl.drawn)
		ly.drawDB(i, span, keep, tl.drawnDB)
	}
	tl.Lanes = ly.lanes
	return tl
}

// laneNamesAndSpan returns the instances of h, sorted, and the time of its
// last event; at least a millisecond, so that x never divides by zero.
func laneNamesAndSpan(h history.History) ([]string, time.Duration) {
	var span time.Duration
	var names []string
	for _, ev := range h.Events {
		span = max(span, ev.T)
		if ev.Instance != "" && !slices.Contains(names, ev.Instance) {
			names = append(names, ev.Instance)
		}
	}
	slices.Sort(names)
	return names, max(span, time.Millisecond)
}

// addNote draws a run-wide event across every lane, up to maxNotes of them.
// Inputs are left out: a run has thousands, and the text history lists
// them.
func (tl *timeline) addNote(ev history.Event, x func(time.Duration) float64) {
	if ev.Kind == history.KindInput || len(tl.Notes) >= maxNotes {
		return
	}
	tl.Notes = append(tl.Notes, mark{Class: "m-note", Title: eventTitle(ev),
		D: fmt.Sprintf("M%s 0V%s", num(x(ev.T)), num(tl.AxisY))})
}

// heldAssignment is the partitions an instance holds since a time.
type heldAssignment struct {
	since      time.Duration
	partitions string
}

// layout is what buildTimeline knows of each lane (instance) while it walks
// the History in order.
type layout struct {
	names []string
	index map[string]int
	x     func(time.Duration) float64
	// shift moves the marks below the unit row down, past a database row.
	shift int
	lanes []lane
	units [][]placedUnit
	dbs   [][]placedDB
	// unitDB holds each unit's database transactions, for its tooltip.
	unitDB map[string][]*history.DBTxn
	// prev is the time of each instance's last event (when seen says it had
	// one): where its next unit began, since a unit's event marks its end.
	prev []time.Duration
	seen []bool
	// held is each instance's current assignment, drawn as a band once it
	// ends: at the next assignment, a crash, a stop or the end of the run.
	held []*heldAssignment
}

func newLayout(names []string, x func(time.Duration) float64, laneH float64, shift int) *layout {
	ly := &layout{
		names: names, index: map[string]int{}, x: x, shift: shift,
		lanes:  make([]lane, len(names)),
		units:  make([][]placedUnit, len(names)),
		dbs:    make([][]placedDB, len(names)),
		unitDB: map[string][]*history.DBTxn{},
		prev:   make([]time.Duration, len(names)),
		seen:   make([]bool, len(names)),
		held:   make([]*heldAssignment, len(names)),
	}
	for i, n := range names {
		ly.lanes[i] = lane{Name: n, Y: float64(i) * laneH}
		ly.index[n] = i
	}
	return ly
}

// place takes event idx of the History, an instance's: a unit is placed
// from the instance's previous event to this one, an assignment opens a
// band, a database transaction goes on the database row, and anything else
// is drawn as a point mark.
func (ly *layout) place(idx int, ev history.Event) {
	i := ly.index[ev.Instance]
	switch ev.Kind {
	case history.KindUnit:
		if ev.Unit != nil {
			start := ev.T
			if ly.seen[i] {
				start = ly.prev[i]
			}
			ly.units[i] = append(ly.units[i], placedUnit{ev.Unit, start, ev.T})
		}
	case history.KindAssign:
		ly.closeBand(i, ev.T)
		ly.held[i] = &heldAssignment{ev.T, fmt.Sprint(ev.Partitions)}
	case history.KindCrash, history.KindStop:
		ly.closeBand(i, ev.T)
	}
	switch {
	case ev.DB != nil:
		ly.dbs[i] = append(ly.dbs[i], placedDB{idx, ev.DB, ev.T})
		if ev.DB.Unit != "" {
			ly.unitDB[ev.DB.Unit] = append(ly.unitDB[ev.DB.Unit], ev.DB)
		}
	case ev.Kind != history.KindUnit && ev.Kind != history.KindAssign:
		ly.lanes[i].Marks = append(ly.lanes[i].Marks, pointMark(ev, ly.x(ev.T), ly.shift))
	}
	// A fault is the simulator acting on the instance, not the
	// instance's own progress: the unit it interrupts began earlier. A
	// unit's database write is part of the unit, whose event comes after
	// it: the unit's bar starts where the unit did.
	if ev.Kind != history.KindFault && (ev.DB == nil || ev.DB.Unit == "") {
		ly.prev[i], ly.seen[i] = ev.T, true
	}
}

// closeBand ends lane i's current assignment, if any, at t and draws it.
func (ly *layout) closeBand(i int, t time.Duration) {
	a := ly.held[i]
	if a == nil {
		return
	}
	x := ly.x
	ly.lanes[i].Bands = append(ly.lanes[i].Bands, band{X: x(a.since), W: max(x(t)-x(a.since), 1), Label: a.partitions,
		Title: fmt.Sprintf("%s held partitions %s from %s to %s",
			ly.names[i], a.partitions, at(a.since), at(t))})
	ly.held[i] = nil
}

// drawUnits draws lane i's units: a bar each, or, past maxBarsPerLane, time
// buckets plus a bar for each unit in keep. drawn records the units that
// got a bar, and the first bar of a unit id gets its anchor.
func (ly *layout) drawUnits(i int, span time.Duration, anchor map[string]string, keep, drawn map[string]bool) {
	ln, us := &ly.lanes[i], ly.units[i]
	ln.Units = len(us)
	ln.Aggregated = len(us) > maxBarsPerLane
	if ln.Aggregated {
		ln.Buckets = buckets(us, span, ly.x)
	}
	for _, pu := range us {
		if ln.Aggregated && !keep[pu.u.ID] {
			continue
		}
		end := ly.x(pu.end)
		w := max(minBarW, end-ly.x(pu.start))
		cls := outcomeClass(pu.u.Outcome)
		if ln.Aggregated {
			cls += " kept"
		}
		b := bar{X: end - w, W: w, Class: cls, Title: unitTitle(pu.u, pu.end) + unitDBLines(ly.unitDB[pu.u.ID])}
		// A History that repeats a unit id gets one anchor, on the
		// first bar, so that ids stay unique.
		if !drawn[pu.u.ID] {
			b.Anchor = anchor[pu.u.ID]
			drawn[pu.u.ID] = true
		}
		ln.Bars = append(ln.Bars, b)
	}
}

// pointMark draws an event that has no duration as a small shape at x, in
// lane coordinates: faults on top, crashes on the unit row, loads below
// (shift lower, under a database row).
func pointMark(ev history.Event, x float64, shift int) mark {
	m := mark{Class: "m-other", Title: eventTitle(ev), D: fmt.Sprintf("M%s %dh4v4h-4z", num(x-2), 44+shift)}
	switch ev.Kind {
	case history.KindCrash:
		m.Class, m.D = "m-crash", fmt.Sprintf("M%s 23l10 10m0-10l-10 10", num(x-5))
	case history.KindStop:
		m.Class, m.D = "m-stop", fmt.Sprintf("M%s 18V40", num(x))
	case history.KindStart:
		m.Class, m.D = "m-start", fmt.Sprintf("M%s 18V40", num(x))
	case history.KindFault:
		m.Class, m.D = "m-fault", fmt.Sprintf("M%s 2h12l-6 10z", num(x-6))
	case history.KindLoad:
		m.Class, m.D = "m-load", fmt.Sprintf("M%s %dl4 4-4 4-4-4z", num(x), 40+shift)
	}
	return m
}

// buckets cuts the time axis into maxBarsPerLane equal buckets and draws
// one bar for each bucket holding units, coloured by its worst outcome.
func buckets(us []placedUnit, span time.Duration, x func(time.Duration) float64) []bar {
	marks := make([]timedOutcome[history.Outcome], len(us))
	for i, pu := range us {
		marks[i] = timedOutcome[history.Outcome]{pu.end, pu.u.Outcome}
	}
	return bucketBars(marks, span, x, rank, outcomeClass, outcomeCounts)
}

// timedOutcome is a mark on the time axis: when it ended, and how.
type timedOutcome[O ~string] struct {
	t       time.Duration
	outcome O
}

// bucketBars cuts the time axis into maxBarsPerLane equal buckets and draws
// one bar for each bucket holding marks, in the class of its worst outcome
// (by rank), titled with its counts.
func bucketBars[O ~string](marks []timedOutcome[O], span time.Duration, x func(time.Duration) float64,
	rank func(O) int, class func(O) string, counts func(int, map[O]int) string) []bar {
	type bucket struct {
		counts map[O]int
		worst  O
		n      int
	}
	bs := make([]bucket, maxBarsPerLane)
	for _, m := range marks {
		k := min(int(int64(m.t)*maxBarsPerLane/int64(span)), maxBarsPerLane-1)
		b := &bs[k]
		if b.counts == nil {
			b.counts = map[O]int{}
			b.worst = m.outcome
		}
		b.counts[m.outcome]++
		b.n++
		if rank(m.outcome) > rank(b.worst) {
			b.worst = m.outcome
		}
	}
	w := plotWidth / maxBarsPerLane
	var bars []bar
	for k, b := range bs {
		if b.n == 0 {
			continue
		}
		from := time.Duration(int64(span) * int64(k) / maxBarsPerLane)
		to := time.Duration(int64(span) * int64(k+1) / maxBarsPerLane)
		bars = append(bars, bar{X: x(from), W: w, Class: class(b.worst),
			Title: fmt.Sprintf("%s–%s: %s", at(from), at(to), counts(b.n, b.counts))})
	}
	return bars
}

// countOutcomes reads "12 units: 10 committed, 2 crashed", the outcomes of
// order first in that order, then any others sorted.
func countOutcomes[O ~string](n int, counts map[O]int, order []O, one, many string) string {
	var parts []string
	for _, o := range order {
		if c := counts[o]; c > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c, o))
		}
	}
	var others []O
	for o := range counts {
		if !slices.Contains(order, o) {
			others = append(others, o)
		}
	}
	slices.Sort(others)
	for _, o := range others {
		parts = append(parts, fmt.Sprintf("%d %s", counts[o], o))
	}
	return Count(n, one, many) + ": " + strings.Join(parts, ", ")
}

// outcomeCounts reads "12 units: 10 committed, 2 crashed".
func outcomeCounts(n int, counts map[history.Outcome]int) string {
	return countOutcomes(n, counts, outcomeOrder, "unit", "units")
}

func unitTitle(u *history.Unit, end time.Duration) string {
	return fmt.Sprintf("%s\nended at %s; %d consumed, %d produced, %d side effects, %d offsets",
		unitText(u), at(end), len(u.Consumed), len(u.Produced), len(u.SideEffects), len(u.Offsets))
}

func eventTitle(ev history.Event) string {
	t := fmt.Sprintf("%s %s at %s", ev.Kind, ev.Instance, at(ev.T))
	if ev.Instance == "" {
		t = fmt.Sprintf("%s at %s", ev.Kind, at(ev.T))
	}
	if body := eventBody(ev); body != "" {
		t += ": " + body
	}
	return t
}

// ticks puts about ten labelled ticks on the axis at round numbers of
// seconds (1, 2 or 5 times a power of ten).
func ticks(span time.Duration, x func(time.Duration) float64) []tick {
	raw := span.Seconds() / 10
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	step := p
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			step = m * p
			break
		}
	}
	decimals := max(0, int(-math.Floor(math.Log10(step)+1e-9)))
	var ts []tick
	for k := 0; ; k++ {
		s := float64(k) * step
		if s > span.Seconds()+1e-9 {
			break
		}
		ts = append(ts, tick{X: x(time.Duration(s * float64(time.Second))),
			Label: strconv.FormatFloat(s, 'f', decimals, 64) + "s"})
	}
	return ts
}

// num keeps coordinates short: one decimal is below what a screen shows.
func num(f float64) string {
	return strconv.FormatFloat(f, 'f', 1, 64)
}

// at is a time for prose and tooltips: seconds() without the padding.
func at(d time.Duration) string {
	return strings.TrimSpace(seconds(d))
}

// placedDB is a database transaction of a lane: idx is its event's index in
// the History, t the time its outcome was recorded.
type placedDB struct {
	idx int
	txn *history.DBTxn
	t   time.Duration
}

// dbOutcomeOrder orders database outcomes from best to worst: a bucket, and
// a pile of marks at one instant, shows the worst.
var dbOutcomeOrder = []string{history.DBCommitted, history.DBRolledBack, history.DBUnknown, history.DBRefused}

// dbRank is an outcome's place in dbOutcomeOrder; one this package does not
// know ranks as unknown.
func dbRank(outcome string) int {
	if r := slices.Index(dbOutcomeOrder, outcome); r >= 0 {
		return r
	}
	return slices.Index(dbOutcomeOrder, history.DBUnknown)
}

// dbOutcomeClass maps a database outcome to its CSS class; an outcome this
// package does not know is drawn as unknown.
func dbOutcomeClass(outcome string) string {
	if slices.Contains(dbOutcomeOrder, outcome) {
		return "d-" + outcome
	}
	return "d-unknown"
}

// dbClass is the CSS class of a transaction's mark: its outcome's colour,
// filled for a unit's write, outlined for a claim.
func dbClass(txn *history.DBTxn) string {
	cls := "db " + dbOutcomeClass(txn.Outcome)
	if txn.Purpose == "claim" {
		cls += " db-claim"
	}
	return cls
}

// drawDB draws lane i's database transactions on its database row: a mark
// each, ending at the time its outcome was recorded, or, past
// maxBarsPerLane, time buckets coloured by their worst outcome plus a mark
// for each transaction of a unit in keep. Marks at one instant are drawn
// worst last, so that a refused or lost write is never hidden under a
// commit. drawn records the events that got a mark.
func (ly *layout) drawDB(i int, span time.Duration, keep map[string]bool, drawn map[int]bool) {
	ln, ds := &ly.lanes[i], ly.dbs[i]
	ln.DBTxns = len(ds)
	ln.DBAggregated = len(ds) > maxBarsPerLane
	if ln.DBAggregated {
		ln.DBBuckets = dbBuckets(ds, span, ly.x)
	}
	ds = slices.Clone(ds)
	slices.SortStableFunc(ds, func(a, b placedDB) int {
		return cmp.Or(cmp.Compare(a.t, b.t), cmp.Compare(dbRank(a.txn.Outcome), dbRank(b.txn.Outcome)))
	})
	for _, d := range ds {
		if ln.DBAggregated && !keep[d.txn.Unit] {
			continue
		}
		end := ly.x(d.t)
		cls := dbClass(d.txn)
		if ln.DBAggregated {
			cls += " kept"
		}
		ln.DBMarks = append(ln.DBMarks, bar{Anchor: dbAnchor(d.idx), X: end - dbMarkW, W: dbMarkW, Class: cls,
			Title: dbTitle(ly.names[i], d.txn, d.t)})
		drawn[d.idx] = true
	}
}

// dbAnchor is the element id of the mark of the database transaction at
// event idx of the History.
func dbAnchor(idx int) string { return "db-" + strconv.Itoa(idx) }

// dbBuckets cuts the time axis into maxBarsPerLane equal buckets and draws
// one bar for each bucket holding database transactions, coloured by its
// worst outcome.
func dbBuckets(ds []placedDB, span time.Duration, x func(time.Duration) float64) []bar {
	marks := make([]timedOutcome[string], len(ds))
	for i, d := range ds {
		marks[i] = timedOutcome[string]{d.t, d.txn.Outcome}
	}
	class := func(o string) string { return "db " + dbOutcomeClass(o) }
	return bucketBars(marks, span, x, dbRank, class, dbCounts)
}

// dbCounts reads "12 database transactions: 10 committed, 2 refused".
func dbCounts(n int, counts map[string]int) string {
	return countOutcomes(n, counts, dbOutcomeOrder, "database transaction", "database transactions")
}

// maxTitleIDs bounds the input ids a tooltip lists; the table of database
// transactions lists them all.
const maxTitleIDs = 20

// dbTitle is the tooltip of a database transaction of instance inst,
// recorded at t: what it was for, its outcome, the epoch and positions it
// held, the inputs it applied and skipped, and why it did not commit.
func dbTitle(inst string, txn *history.DBTxn, t time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "database %s", dbPurpose(txn))
	fmt.Fprintf(&b, " by %s, %s at %s", inst, txn.Outcome, at(t))
	if txn.Epoch != 0 || len(txn.Positions) > 0 {
		fmt.Fprintf(&b, "\nepoch %d", txn.Epoch)
		if len(txn.Positions) > 0 {
			fmt.Fprintf(&b, "; positions %s", offsetList(txn.Positions))
		}
	}
	if len(txn.Applied) > 0 {
		fmt.Fprintf(&b, "\napplied %d: %s", len(txn.Applied), idList(txn.Applied, maxTitleIDs))
	}
	if len(txn.Skipped) > 0 {
		fmt.Fprintf(&b, "\nskipped %d: %s", len(txn.Skipped), idList(txn.Skipped, maxTitleIDs))
	}
	if txn.Reason != "" {
		fmt.Fprintf(&b, "\nreason: %s", txn.Reason)
	}
	return b.String()
}

// dbPurpose names a transaction: "claim", or "write of a.1#3".
func dbPurpose(txn *history.DBTxn) string {
	if txn.Unit != "" {
		return txn.Purpose + " of " + txn.Unit
	}
	return txn.Purpose
}

// idList joins ids with spaces, the first limit of them ("… and 12 more").
func idList(ids []string, limit int) string {
	if len(ids) <= limit {
		return strings.Join(ids, " ")
	}
	return strings.Join(ids[:limit], " ") + fmt.Sprintf(" … and %d more", len(ids)-limit)
}

// maxUnitDBLines bounds the database transactions a unit's tooltip lists.
const maxUnitDBLines = 3

// unitDBLines are the lines a unit's tooltip adds for the database
// transactions it made: one each, "database write committed: 10 applied,
// 0 skipped; positions orders/0:10". None for a unit without any.
func unitDBLines(txns []*history.DBTxn) string {
	var b strings.Builder
	for k, txn := range txns {
		if k == maxUnitDBLines {
			fmt.Fprintf(&b, "\n… and %s more", Count(len(txns)-k, "database transaction", "database transactions"))
			break
		}
		b.WriteString("\n" + dbSummary(txn))
	}
	return b.String()
}

// dbSummary is one line on a database transaction of a unit.
func dbSummary(txn *history.DBTxn) string {
	s := fmt.Sprintf("database %s %s: %d applied, %d skipped", txn.Purpose, txn.Outcome, len(txn.Applied), len(txn.Skipped))
	if len(txn.Positions) > 0 {
		s += "; positions " + offsetList(txn.Positions)
	}
	return s
}
