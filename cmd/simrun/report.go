package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/eosim/eosim/coverage"
	"github.com/eosim/eosim/engine"
	"github.com/eosim/eosim/faults"
	"github.com/eosim/eosim/history"
	"github.com/eosim/eosim/invariants"
	"github.com/eosim/eosim/report"
	"github.com/eosim/eosim/scenarios"
	"github.com/eosim/eosim/sim"
)

// maxEvidence is how many evidence records, and how many database rows, an
// anomaly prints; the History (-history) has them all.
const maxEvidence = 8

// maxAnomalies is how many anomalies a run prints in full.
const maxAnomalies = 20

// paramBlock is the run's parameter block, as printed and as the HTML
// report shows it.
func paramBlock(o options, res sim.Result) [][2]string {
	c := res.Config
	faultsLine := c.Rates.String()
	switch {
	case c.Schedule != nil:
		faultsLine = "replayed from " + o.schedulePath
	case len(c.Focus) > 0 && c.Swarm && c.SwarmStyle == faults.SwarmOfReactions:
		faultsLine = fmt.Sprintf("swarm picked reactions: %s (%d cells)", joinReactions(c.PickedReactions()), len(c.Focus))
	case len(c.Focus) > 0 && c.Swarm && c.SwarmStyle == faults.SwarmOfCells:
		faultsLine = "swarm picked focus: " + strings.Join(c.Focus, ", ")
	case len(c.Focus) > 0:
		faultsLine = "focus: " + strings.Join(c.Focus, ", ")
	case c.Swarm:
		faultsLine = "swarm picked: " + faultsLine
	}
	protocol := "transactions v2 (KIP-890)"
	if c.TransactionsV1 {
		protocol = "transactions v1 (AddPartitionsToTxn, AddOffsetsToTxn)"
	}
	block := [][2]string{
		{"seed", fmt.Sprint(c.Seed)},
		{"scenario", fmt.Sprintf("%s: %s, %s, %s, %s", c.Scenario, report.Count(c.Inputs, inputNoun(c.Scenario), inputNoun(c.Scenario)+"s"),
			report.Count(c.Partitions, "partition", "partitions"), report.Count(c.Instances, "instance", "instances"),
			report.Count(c.Brokers, "broker", "brokers"))},
		{"guarantee", string(c.Guarantee)},
		{"protocol", protocol},
	}
	if c.Recovery != engine.RecoveryRestart {
		// Shown only when it is not the default, so that a default run's
		// report reads as it did.
		block = append(block, [2]string{"recovery", c.Recovery.String() + ": after a failed commit, abort and carry on with the same client"})
	}
	return append(block, [][2]string{
		{"faults", faultsLine},
		{"schedule", scheduleLine(res)},
	}...)
}

// scheduleLine says how many faults of each kind the run's schedule has
// and, once the run has said, what became of them.
func scheduleLine(res sim.Result) string {
	line := scheduleCounts(res.Schedule)
	if n := len(res.Schedule.Faults); n > 0 && len(res.Faults) == n {
		line += " (" + res.FaultCounts().String() + ")"
	}
	return line
}

// faultLines renders each fault of the run's schedule on one line, with
// what became of it when the run has said.
func faultLines(res sim.Result) []string {
	lines := make([]string, len(res.Schedule.Faults))
	for i, f := range res.Schedule.Faults {
		lines[i] = f.String()
		if len(res.Faults) != len(res.Schedule.Faults) {
			continue
		}
		switch o := res.Faults[i]; o.Outcome {
		case sim.Fired:
			lines[i] += " → fired"
			if o.Detail != f.String() {
				lines[i] += ": " + o.Detail
			}
		case sim.NoEffect:
			lines[i] += " → no effect (" + o.Detail + ")"
		case sim.NotReached:
			lines[i] += " → not reached (" + o.Detail + ")"
		}
	}
	return lines
}

// scheduleCounts says how many faults of each kind the schedule has.
func scheduleCounts(s faults.Schedule) string {
	counts := s.Counts()
	var parts []string
	for _, k := range faults.Kinds() {
		if n := counts[k]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, k))
		}
	}
	if len(parts) == 0 {
		return "no faults"
	}
	return strings.Join(parts, ", ")
}

// inputNoun names one input record of scenario: an order in the orders
// scenarios, an input elsewhere.
func inputNoun(scenario string) string {
	if scenario == "orders" || scenario == "orders-db" {
		return "order"
	}
	return "input"
}

func printRun(w io.Writer, o options, out outcome) {
	res := out.res
	fmt.Fprintln(w, "parameters")
	for _, kv := range paramBlock(o, res) {
		fmt.Fprintf(w, "  %-13s %s\n", kv[0], kv[1])
	}
	for _, l := range faultLines(res) {
		fmt.Fprintf(w, "    %s\n", l)
	}

	st := res.Stats
	fmt.Fprintln(w, "summary")
	fmt.Fprintf(w, "  verdict       %s\n", verdictText(res))
	if out.abandoned {
		fmt.Fprintf(w, "  wall time     %v\n", out.wall.Round(time.Millisecond))
		fmt.Fprintln(w, "  recorded      nothing: the run never returned (no History, report or trace hash)")
		fmt.Fprintf(w, "replay\n  %s\n", o.replayCommand(res.Config.Seed))
		return
	}
	fmt.Fprintf(w, "  %-13s %d\n", inputNoun(res.Config.Scenario)+"s", st.Inputs)
	fmt.Fprintf(w, "  units         %d committed, %d aborted, %d crashed, %d unknown outcome\n", st.Committed, st.Aborted, st.Crashed, st.Unknown)
	fmt.Fprintf(w, "  crashes       %d (restarts %d)\n", st.Crashes, st.Restarts)
	if len(o.bootstrap) > 0 {
		fmt.Fprintf(w, "  run time      %v of wall time in %d steps, against %s\n", st.Virtual.Round(time.Millisecond), st.Steps, strings.Join(o.bootstrap, ","))
	} else {
		fmt.Fprintf(w, "  virtual time  %v in %d steps\n", st.Virtual.Round(time.Millisecond), st.Steps)
	}
	fmt.Fprintf(w, "  wall time     %v\n", out.wall.Round(time.Millisecond))
	fmt.Fprintf(w, "  trace hash    %s\n", res.Hash)
	if c := res.Config; c.DatabaseFile != "" {
		fmt.Fprintf(w, "  database      kept in %s (%s)\n", c.DatabaseFile, tableCounts(res.Snapshot.Tables))
	}

	printAnomalies(w, res.Report)
	if o.coverage {
		for _, l := range o.coverageOf(coverage.Of(res)).Lines() {
			fmt.Fprintln(w, l)
		}
	}
	if len(o.bootstrap) > 0 {
		fmt.Fprintln(w, "replay")
		for _, l := range o.liveReplay(res.Config.Seed) {
			fmt.Fprintf(w, "  %s\n", l)
		}
		return
	}
	fmt.Fprintf(w, "replay\n  %s\n", o.replayCommand(res.Config.Seed))
}

// tableCounts says how many rows each table of the run's database holds:
// "eosim_positions 4 rows, inventory 20 rows, ledger 1000 rows".
func tableCounts(tables map[string][]history.Row) string {
	if len(tables) == 0 {
		return "no tables read"
	}
	var parts []string
	for _, name := range slices.Sorted(maps.Keys(tables)) {
		parts = append(parts, name+" "+report.Count(len(tables[name]), "row", "rows"))
	}
	return strings.Join(parts, ", ")
}

func verdictText(res sim.Result) string {
	switch v := res.Verdict(); v {
	case invariants.Pass:
		return "PASS: every checker passed"
	case invariants.Fail:
		return fmt.Sprintf("FAIL: %d anomalies (%s)", len(res.Report.Anomalies), strings.Join(res.Report.Kinds(), ", "))
	case invariants.Stuck:
		return "STUCK: " + res.Stuck
	default:
		why := "the run did not process all of its input within the liveness bound"
		if res.Complete {
			why = fmt.Sprint(res.Report.Unknown)
		}
		return "UNKNOWN: " + why
	}
}

func printAnomalies(w io.Writer, rep invariants.Report) {
	if len(rep.Anomalies) == 0 {
		return
	}
	fmt.Fprintf(w, "anomalies (%d)\n", len(rep.Anomalies))
	for i, a := range rep.Anomalies {
		if i == maxAnomalies {
			fmt.Fprintf(w, "  … %d more (write them all with -history and the checkers, or narrow the run)\n", len(rep.Anomalies)-i)
			break
		}
		fmt.Fprintf(w, "  %s: %s\n", a.Kind, a.Summary)
		if len(a.Units) > 0 {
			fmt.Fprintf(w, "      units: %s\n", strings.Join(a.Units, ", "))
		}
		for j, r := range a.Records {
			if j == maxEvidence {
				fmt.Fprintf(w, "      … %d more records\n", len(a.Records)-j)
				break
			}
			fmt.Fprintf(w, "      %s\n", report.RecordText(r))
		}
		for j, r := range a.Rows {
			if j == maxEvidence {
				fmt.Fprintf(w, "      … %d more rows\n", len(a.Rows)-j)
				break
			}
			fmt.Fprintf(w, "      %s\n", report.RowText(r))
		}
		for _, off := range a.Offsets {
			fmt.Fprintf(w, "      offset %s/%d → %d\n", off.Topic, off.Partition, off.Offset)
		}
	}
}

// coverageOf summarizes cells over the fault space of the options'
// scenario and guarantee.
func (o options) coverageOf(cells coverage.Map) coverage.Report {
	withDB := false
	if sc, err := scenarios.Lookup(o.cfg.Scenario); err == nil {
		withDB = sc.Topology(scenarios.Params{}).Database != nil
	}
	space := coverage.Space(withDB, o.cfg.Guarantee)
	switch {
	case o.exploreWide, o.cfg.Swarm && o.cfg.SwarmStyle == faults.SwarmOfCells:
		space = coverage.WideSpace(withDB)
	case o.cfg.Swarm && o.cfg.SwarmStyle == faults.SwarmOfReactions:
		space = coverage.ReactionSpace(withDB, o.cfg.Guarantee)
	}
	return coverage.Summarize(cells, space, o.cfg.Guarantee)
}

// joinReactions lists reactions for the parameter block.
func joinReactions(rs []faults.Reaction) string {
	names := make([]string, len(rs))
	for i, r := range rs {
		names[i] = string(r)
	}
	return strings.Join(names, ", ")
}
