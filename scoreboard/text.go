package scoreboard

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/eosim/eosim/engine"
)

// WriteText prints the table for a terminal, then the shrunk schedule of
// each mode's first detection.
func WriteText(w io.Writer, t Table) error {
	faults := "as each seed draws them"
	if t.Swarm {
		faults = "swarm: each seed picks its fault families and rates"
		switch t.SwarmStyle {
		case "cells":
			faults = "swarm's cells: each seed focuses on a few cells of the wide fault space"
		case "reactions":
			faults = "swarm's reactions: each seed keeps about half the reactions and focuses on their cells"
		}
	}
	scenario := ""
	if t.Scenario != "" {
		scenario = "; scenario " + t.Scenario
	}
	recovery := ""
	if t.Recovery != "" && t.Recovery != engine.RecoveryRestart.String() {
		// Named when it is not the default (the control's second row
		// names its own).
		recovery = "; recovery " + t.Recovery
	}
	fmt.Fprintf(w, "scoreboard: seeds %d-%d, faults %s%s%s\n\n", t.First, t.Last, faults, scenario, recovery)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "mode\tdetected\trate\tmedian seeds to detection\tfirst seed\twall to first\tminimal faults\tanomaly kinds")
	for _, r := range t.Rows {
		fmt.Fprintln(tw, strings.Join(cells(r, r.Mode), "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range t.Rows {
		if n := r.FalseAlarms(); n > 0 {
			fmt.Fprintf(w, "false alarm: %s keeps exactly-once, yet %d of %d seeds failed (first seed %d): a checker or the simulator is wrong\n",
				r.Mode, n, r.Seeds, r.FirstSeed)
		}
	}
	for _, r := range t.Rows {
		if r.Unknown > 0 || r.Stuck > 0 || r.Errors > 0 {
			fmt.Fprintf(w, "%s: %d seeds unknown (the run did not finish its input), %d stuck (the run never ended: neither caught nor passed), %d errors\n",
				r.Mode, r.Unknown, r.Stuck, r.Errors)
		}
	}
	for _, r := range t.Rows {
		if r.MinimalPlan == nil {
			continue
		}
		fmt.Fprintf(w, "\n%s, seed %d shrunk to %d fired faults (%d in the plan) keeping %s (%d runs):\n",
			r.Mode, r.FirstSeed, r.MinimalFaults, r.MinimalPlanFaults, r.MinimalKind, r.ShrinkRuns)
		for _, f := range r.MinimalPlan.Faults {
			fmt.Fprintf(w, "    %s\n", f)
		}
	}
	_, err := fmt.Fprintf(w, "\nwall time %v\n", (time.Duration(t.WallMs * float64(time.Millisecond))).Round(time.Millisecond))
	return err
}

// WriteJSON writes the table as one indented JSON document.
func WriteJSON(w io.Writer, t Table) error {
	b, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the scoreboard: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// cells are a row's columns as text, its mode written as mode and marked
// as the control or as another mode that keeps exactly-once.
func cells(r Row, mode string) []string {
	if n := note(r); n != "" {
		mode += " (" + n + ")"
	}
	return []string{mode, fmt.Sprintf("%d/%d", r.Detected, r.Seeds), fmt.Sprintf("%.1f%%", 100*r.Rate),
		orDash(r.MedianSeedsToDetection > 0, fmt.Sprint(r.MedianSeedsToDetection)),
		orDash(r.FirstSeed > 0, fmt.Sprint(r.FirstSeed)),
		orDash(r.FirstSeed > 0, (time.Duration(r.WallToFirstMs * float64(time.Millisecond))).Round(time.Millisecond).String()),
		orDash(r.MinimalFaults >= 0, fmt.Sprint(r.MinimalFaults)),
		orDash(len(r.Kinds) > 0, kindCounts(r))}
}

// note marks the control and the other modes that keep exactly-once, whose
// every detection is a false alarm: fresh_txn_id with why it is safe.
func note(r Row) string {
	switch {
	case r.Control && r.Recovery != "":
		return "control, recovery " + r.Recovery
	case r.Control:
		return "control"
	case r.ExactlyOnce && r.Mode == string(engine.FreshTransactionalID):
		return "safe: KIP-447"
	case r.ExactlyOnce:
		return "keeps exactly-once"
	}
	return ""
}

func kindCounts(r Row) string {
	var parts []string
	for _, k := range r.KindNames() {
		parts = append(parts, fmt.Sprintf("%s %d", k, r.Kinds[k]))
	}
	return strings.Join(parts, ", ")
}

func orDash(ok bool, s string) string {
	if !ok {
		return "-"
	}
	return s
}
