package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"maps"
	"slices"
	"strings"

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

var pageTemplate = template.Must(template.New("page").Funcs(template.FuncMap{"num": num}).Parse(pageSource))

// WriteHTML writes r as one self-contained HTML page: the run's title,
// verdict, parameters and replay command; an SVG timeline with one lane per
// instance (units as bars coloured by outcome, assignments, crashes, faults
// and loads as marks); the anomalies with their evidence, each unit involved
// linked to its bar; and a table of the units. It loads nothing from the
// network and needs no script.
//
// A lane with more than a few hundred units is drawn as time buckets
// coloured by their worst outcome, except for the units an anomaly names,
// which keep bars of their own so that every link lands.
func WriteHTML(w io.Writer, r Run) error {
	return pageTemplate.Execute(w, buildPage(r))
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
}

type anomalyView struct {
	Anchor        string
	Kind, Summary string
	Units         []unitLink
	Records       []evidence
	MoreRecords   int
	Offsets       []string
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
	p.Timeline = buildTimeline(r.History, anchor, keptUnits(shown, ix))
	l := unitLinker{drawn: p.Timeline.drawn, anchor: anchor}
	for i, a := range shown {
		p.Anomalies = append(p.Anomalies, anomalyViewOf(i, a, ix, l))
	}
	p.addUnitTable(r.History, l)
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
// its evidence: each keeps a bar of its own, even in an aggregated lane, so
// that every link from an anomaly lands.
func keptUnits(shown []invariants.Anomaly, ix recordUnits) map[string]bool {
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
	return v
}

// addUnitTable counts h's units by outcome and lays out the table of units
// in pages of unitPageSize rows. Past maxUnitRows, units are only counted:
// the page stays a bounded size, and the text history has every one.
func (p *page) addUnitTable(h history.History, l unitLinker) {
	counts := map[history.Outcome]int{}
	var rows []unitRow
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

// evidenceRecords are the records of a shown anomaly, capped: an anomaly
// about a whole partition can name thousands.
func evidenceRecords(a invariants.Anomaly) []history.Record {
	return a.Records[:min(len(a.Records), maxEvidence)]
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
