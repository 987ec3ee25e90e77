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

func buildPage(r Run) page {
	p := page{
		Run:     r,
		Events:  len(r.History.Events),
		Checked: strings.Join(r.Report.Checked, ", "),
	}
	switch r.Verdict {
	case "pass", "fail":
		p.VerdictClass = "v-" + r.Verdict
	default:
		p.VerdictClass = "v-unknown"
	}
	p.Summary = anomalySummary(r.Report)
	for _, k := range slices.Sorted(maps.Keys(r.Report.Unknown)) {
		p.Unknown = append(p.Unknown, [2]string{k, r.Report.Unknown[k]})
	}

	anchor := anchors(r.History)
	ix := indexRecords(r.History)
	shown := r.Report.Anomalies
	if len(shown) > maxAnomalies {
		p.MoreAnomalies = len(shown) - maxAnomalies
		shown = shown[:maxAnomalies]
	}
	// Every unit a shown anomaly points at keeps a bar of its own.
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
	p.Timeline = buildTimeline(r.History, anchor, keep)
	link := func(id string) unitLink {
		if p.Timeline.drawn[id] {
			return unitLink{ID: id, Href: "#" + anchor[id]}
		}
		return unitLink{ID: id}
	}
	links := func(ids []string) []unitLink {
		ls := make([]unitLink, len(ids))
		for i, id := range ids {
			ls[i] = link(id)
		}
		return ls
	}
	for i, a := range shown {
		v := anomalyView{Anchor: fmt.Sprintf("anomaly-%d", i+1), Kind: a.Kind, Summary: a.Summary, Units: links(a.Units)}
		recs := evidenceRecords(a)
		v.MoreRecords = len(a.Records) - len(recs)
		for _, rec := range recs {
			prod, cons := ix.lookup(rec)
			e := evidence{Pos: recordPos(rec), Key: rec.Key, Value: rec.Value,
				ProducedBy: links(prod), ConsumedBy: links(cons)}
			if len(rec.Headers) > 0 {
				e.Headers = headersText(rec.Headers)
			}
			v.Records = append(v.Records, e)
		}
		for _, o := range a.Offsets {
			v.Offsets = append(v.Offsets, fmt.Sprintf("%s/%d:%d", o.Topic, o.Partition, o.Offset))
		}
		p.Anomalies = append(p.Anomalies, v)
	}

	counts := map[history.Outcome]int{}
	var rows []unitRow
	for _, ev := range r.History.Events {
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
			Link: link(u.ID), Instance: ev.Instance, At: at(ev.T),
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
	return p
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
