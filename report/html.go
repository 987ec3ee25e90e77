package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/eosim/eosim/history"
	"github.com/eosim/eosim/invariants"
)

// Run is what WriteHTML draws: a run as its caller describes it, so that
// this package needs nothing from the simulator.
type Run struct {
	// Title names the run, e.g. "seed 7, at_least_once".
	Title string
	// Params is the parameter block, in the order it is shown.
	Params [][2]string
	// Replay is the exact command that replays the run.
	Replay string
	// ReplayNote, when set, says why Replay does not replay the run
	// exactly (a run against a real cluster): it then only runs the same
	// input and schedule again.
	ReplayNote string
	// Coverage, when set, is the run's map of the fault space (package
	// coverage's lines), shown after the history.
	Coverage []string
	// Verdict is "pass", "fail" or "unknown"; anything else reads as unknown.
	Verdict string
	History history.History
	Report  invariants.Report
}

// Caps that keep the page usable, and its size bounded, for a 10,000-order
// run; the text history has everything.
const (
	maxAnomalies = 500
	maxEvidence  = 50
	unitPageSize = 500
	maxUnitRows  = 10 * unitPageSize
)

//go:embed page.tmpl
var pageSource string

// pageTemplate is parsed at the first report, not at every start of a
// program that imports the package: parsing was the largest part of
// simrun's start (0.3 ms).
var pageTemplate = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("page").Funcs(template.FuncMap{"num": num}).Parse(pageSource))
})

// WriteHTML writes r as one self-contained HTML page: the run's title,
// verdict, parameters and replay command; an SVG timeline with one lane per
// instance (units as bars coloured by outcome, assignments, crashes, faults
// and loads as marks, and, for an application with a database, its
// database transactions on a row of their own); the anomalies with their
// evidence (records, offsets, database rows), each unit involved linked to
// its bar; a table of the units; and a table of the database transactions.
// It loads nothing from the network and needs no script.
//
// A lane with more than a few hundred units (or database transactions) is
// drawn as time buckets coloured by their worst outcome, except for the
// units an anomaly names, which keep bars (and database marks) of their own
// so that every link lands.
func WriteHTML(w io.Writer, r Run) error {
	return pageTemplate().Execute(w, buildPage(r))
}

// page is the view model of the template.
type page struct {
	Run           Run
	VerdictClass  string
	Summary       string
	Outcomes      string
	Events        int
	Timeline      timeline
	Anomalies     []anomalyView
	MoreAnomalies int
	Unknown       [][2]string
	Checked       string
	Units         int
	UnitPages     []unitPage
	MoreUnits     int
	// DB says the History holds database transactions: DBTxns of them,
	// DBOutcomes their count by outcome, listed in DBPages (MoreDB past
	// the table's cap).
	DB         bool
	DBTxns     int
	DBOutcomes string
	DBPages    []dbPage
	MoreDB     int
	// DBStyle: the page draws database transactions or rows, and needs
	// their styles; a page without either is what it was before them.
	DBStyle bool
}

type anomalyView struct {
	Anchor        string
	Kind, Summary string
	Units         []unitLink
	Records       []evidence
	MoreRecords   int
	Offsets       []string
	// Rows are the database rows of the anomaly, a table each, capped at
	// maxEvidence rows in all.
	Rows     []rowTable
	MoreRows int
}

// rowTable is database rows of one table, as evidence: their columns,
// sorted, and a cell per column.
type rowTable struct {
	Table   string
	Columns []string
	Rows    [][]cell
}

// cell is a row's value in one column; one that names a unit of the History
// (a ledger's written_by) links to its bar.
type cell struct {
	Text string
	Unit unitLink
}

// unitLink is a unit id and the fragment of its bar, empty when the unit
// has no bar (an id the History does not hold).
type unitLink struct {
	ID, Href string
}

type evidence struct {
	Pos, Key, Value, Headers string
	ProducedBy, ConsumedBy   []unitLink
}

type unitPage struct {
	From, To int
	Rows     []unitRow
}

type unitRow struct {
	Link                                     unitLink
	Instance, At, Outcome, Class, Reason     string
	Consumed, Produced, SideEffects, Offsets string
	// DB sums up the unit's database transactions.
	DB string
}

type dbPage struct {
	From, To int
	Rows     []dbRow
}

// dbRow is a database transaction in the table: Href links to its mark
// when it has one of its own.
type dbRow struct {
	Href                                  string
	Instance, At, Purpose, Outcome, Class string
	Reason, Epoch, Positions              string
	Unit                                  unitLink
	Applied, Skipped                      string
	NApplied, NSkipped                    int
}

// buildPage computes everything the template shows of r.
func buildPage(r Run) page {
	p := page{
		Run:          r,
		VerdictClass: verdictClass(r.Verdict),
		Events:       len(r.History.Events),
		Checked:      strings.Join(r.Report.Checked, ", "),
		Summary:      anomalySummary(r.Report),
	}
	for _, k := range slices.Sorted(maps.Keys(r.Report.Unknown)) {
		p.Unknown = append(p.Unknown, [2]string{k, r.Report.Unknown[k]})
	}

	ix := indexRecords(r.History)
	shown := r.Report.Anomalies
	if len(shown) > maxAnomalies {
		p.MoreAnomalies = len(shown) - maxAnomalies
		shown = shown[:maxAnomalies]
	}
	// The timeline is laid out before anything links to it: only then is it
	// known which units have a bar to link to.
	anchor := anchors(r.History)
	p.Timeline = buildTimeline(r.History, anchor, keptUnits(shown, ix, anchor))
	l := unitLinker{drawn: p.Timeline.drawn, anchor: anchor}
	for i, a := range shown {
		p.Anomalies = append(p.Anomalies, anomalyViewOf(i, a, ix, l))
	}
	p.addUnitTable(r.History, l)
	p.addDBTable(r.History, l, p.Timeline.drawnDB)
	p.DBStyle = p.DB || slices.ContainsFunc(p.Anomalies, func(a anomalyView) bool { return len(a.Rows) > 0 })
	return p
}

// verdictClass is the CSS class of a verdict; anything but pass or fail
// reads as unknown.
func verdictClass(verdict string) string {
	switch verdict {
	case "pass", "fail":
		return "v-" + verdict
	}
	return "v-unknown"
}

// keptUnits are the units a shown anomaly points at, directly or through
// its evidence (records, and database rows whose values name a unit of the
// History, anchor's keys): each keeps a bar of its own, even in an
// aggregated lane, so that every link from an anomaly lands.
func keptUnits(shown []invariants.Anomaly, ix recordUnits, anchor map[string]string) map[string]bool {
	keep := map[string]bool{}
	for _, a := range shown {
		for _, id := range a.Units {
			keep[id] = true
		}
		for _, rec := range evidenceRecords(a) {
			prod, cons := ix.lookup(rec)
			for _, id := range append(slices.Clone(prod), cons...) {
				keep[id] = true
			}
		}
		for _, row := range evidenceRows(a) {
			for _, v := range row.Values {
				if _, ok := anchor[v]; ok {
					keep[v] = true
				}
			}
		}
	}
	return keep
}

// unitLinker links unit ids to their bars on the timeline.
type unitLinker struct {
	drawn  map[string]bool
	anchor map[string]string
}

// link is id with the fragment of its bar, or without one when the unit has
// no bar of its own (drawn only inside a bucket, or not in the History), so
// that no link dangles.
func (l unitLinker) link(id string) unitLink {
	if l.drawn[id] {
		return unitLink{ID: id, Href: "#" + l.anchor[id]}
	}
	return unitLink{ID: id}
}

func (l unitLinker) links(ids []string) []unitLink {
	ls := make([]unitLink, len(ids))
	for i, id := range ids {
		ls[i] = l.link(id)
	}
	return ls
}

// anomalyViewOf is the i-th shown anomaly: its units and evidence linked
// to their bars, its records capped at maxEvidence.
func anomalyViewOf(i int, a invariants.Anomaly, ix recordUnits, l unitLinker) anomalyView {
	v := anomalyView{Anchor: fmt.Sprintf("anomaly-%d", i+1), Kind: a.Kind, Summary: a.Summary, Units: l.links(a.Units)}
	recs := evidenceRecords(a)
	v.MoreRecords = len(a.Records) - len(recs)
	for _, rec := range recs {
		prod, cons := ix.lookup(rec)
		e := evidence{Pos: recordPos(rec), Key: rec.Key, Value: rec.Value,
			ProducedBy: l.links(prod), ConsumedBy: l.links(cons)}
		if len(rec.Headers) > 0 {
			e.Headers = headersText(rec.Headers)
		}
		v.Records = append(v.Records, e)
	}
	for _, o := range a.Offsets {
		v.Offsets = append(v.Offsets, fmt.Sprintf("%s/%d:%d", o.Topic, o.Partition, o.Offset))
	}
	rows := evidenceRows(a)
	v.MoreRows = len(a.Rows) - len(rows)
	v.Rows = rowTables(rows, l)
	return v
}

// rowTables groups rows by table, tables in the order they first appear
// and rows in theirs, each table with the union of its rows' columns,
// sorted. A value that is the id of a unit with a bar links to it.
func rowTables(rows []history.Row, l unitLinker) []rowTable {
	var ts []rowTable
	byName := map[string]int{}
	var cols []map[string]bool
	for _, r := range rows {
		k, ok := byName[r.Table]
		if !ok {
			k = len(ts)
			byName[r.Table] = k
			ts = append(ts, rowTable{Table: r.Table})
			cols = append(cols, map[string]bool{})
		}
		for c := range r.Values {
			cols[k][c] = true
		}
	}
	for k := range ts {
		ts[k].Columns = slices.Sorted(maps.Keys(cols[k]))
	}
	for _, r := range rows {
		t := &ts[byName[r.Table]]
		cells := make([]cell, len(t.Columns))
		for i, c := range t.Columns {
			v := r.Values[c]
			cells[i] = cell{Text: v}
			if l.drawn[v] {
				cells[i].Unit = l.link(v)
			}
		}
		t.Rows = append(t.Rows, cells)
	}
	return ts
}

// addUnitTable counts h's units by outcome and lays out the table of units
// in pages of unitPageSize rows. Past maxUnitRows, units are only counted:
// the page stays a bounded size, and the text history has every one.
func (p *page) addUnitTable(h history.History, l unitLinker) {
	counts := map[history.Outcome]int{}
	var rows []unitRow
	unitDB := map[string][]*history.DBTxn{}
	for _, ev := range h.Events {
		if ev.DB != nil && ev.DB.Unit != "" {
			unitDB[ev.DB.Unit] = append(unitDB[ev.DB.Unit], ev.DB)
		}
	}
	for _, ev := range h.Events {
		u := ev.Unit
		if u == nil {
			continue
		}
		p.Units++
		counts[u.Outcome]++
		if len(rows) == maxUnitRows {
			p.MoreUnits++
			continue
		}
		rows = append(rows, unitRow{
			Link: l.link(u.ID), Instance: ev.Instance, At: at(ev.T),
			Outcome: string(u.Outcome), Class: outcomeClass(u.Outcome), Reason: u.Reason,
			Consumed:    strings.Join(recordGroups(u.Consumed), " "),
			Produced:    strings.Join(recordGroups(u.Produced), " "),
			SideEffects: strings.Join(recordGroups(u.SideEffects), " "),
			Offsets:     offsetList(u.Offsets),
			DB:          unitDBCell(unitDB[u.ID]),
		})
	}
	if p.Units > 0 {
		p.Outcomes = outcomeCounts(p.Units, counts)
	}
	for from := 0; from < len(rows); from += unitPageSize {
		to := min(from+unitPageSize, len(rows))
		p.UnitPages = append(p.UnitPages, unitPage{From: from + 1, To: to, Rows: rows[from:to]})
	}
}

// unitDBCell sums up a unit's database transactions for the units table:
// "write committed (10 applied)", one per transaction, or a count by
// outcome past maxUnitDBLines of them.
func unitDBCell(txns []*history.DBTxn) string {
	if len(txns) > maxUnitDBLines {
		counts := map[string]int{}
		for _, txn := range txns {
			counts[txn.Outcome]++
		}
		return dbCounts(len(txns), counts)
	}
	parts := make([]string, len(txns))
	for i, txn := range txns {
		parts[i] = fmt.Sprintf("%s %s (%d applied", txn.Purpose, txn.Outcome, len(txn.Applied))
		if len(txn.Skipped) > 0 {
			parts[i] += fmt.Sprintf(", %d skipped", len(txn.Skipped))
		}
		parts[i] += ")"
	}
	return strings.Join(parts, "; ")
}

// addDBTable counts h's database transactions by outcome and lays out
// their table in pages, as addUnitTable does for units; drawn says which
// have a mark of their own to link to.
func (p *page) addDBTable(h history.History, l unitLinker, drawn map[int]bool) {
	counts := map[string]int{}
	var rows []dbRow
	for i, ev := range h.Events {
		txn := ev.DB
		if txn == nil {
			continue
		}
		p.DBTxns++
		counts[txn.Outcome]++
		if len(rows) == maxUnitRows {
			p.MoreDB++
			continue
		}
		r := dbRow{Instance: ev.Instance, At: at(ev.T), Purpose: txn.Purpose,
			Outcome: txn.Outcome, Class: dbOutcomeClass(txn.Outcome), Reason: txn.Reason,
			Positions: offsetList(txn.Positions),
			Applied:   strings.Join(txn.Applied, " "), Skipped: strings.Join(txn.Skipped, " "),
			NApplied: len(txn.Applied), NSkipped: len(txn.Skipped)}
		if drawn[i] {
			r.Href = "#" + dbAnchor(i)
		}
		if txn.Unit != "" {
			r.Unit = l.link(txn.Unit)
		}
		if txn.Epoch != 0 {
			r.Epoch = strconv.FormatInt(txn.Epoch, 10)
		}
		rows = append(rows, r)
	}
	p.DB = p.DBTxns > 0
	if p.DB {
		p.DBOutcomes = dbCounts(p.DBTxns, counts)
	}
	for from := 0; from < len(rows); from += unitPageSize {
		to := min(from+unitPageSize, len(rows))
		p.DBPages = append(p.DBPages, dbPage{From: from + 1, To: to, Rows: rows[from:to]})
	}
}

// evidenceRecords are the records of a shown anomaly, capped: an anomaly
// about a whole partition can name thousands.
func evidenceRecords(a invariants.Anomaly) []history.Record {
	return a.Records[:min(len(a.Records), maxEvidence)]
}

// evidenceRows are the database rows of a shown anomaly, capped as its
// records are.
func evidenceRows(a invariants.Anomaly) []history.Row {
	return a.Rows[:min(len(a.Rows), maxEvidence)]
}

// anomalySummary reads "76 anomalies: 20 inventory-fold, 56 duplicate-output",
// kinds sorted.
func anomalySummary(rep invariants.Report) string {
	n := len(rep.Anomalies)
	if n == 0 {
		return "no anomalies"
	}
	byKind := map[string]int{}
	for _, a := range rep.Anomalies {
		byKind[a.Kind]++
	}
	var parts []string
	for _, k := range rep.Kinds() {
		parts = append(parts, fmt.Sprintf("%d %s", byKind[k], k))
	}
	return Count(n, "anomaly", "anomalies") + ": " + strings.Join(parts, ", ")
}
