package scoreboard

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Provenance says where and when a table was measured, for a table kept in
// a document.
type Provenance struct {
	Command string    // the command that measured it
	When    time.Time // when it finished
	Machine string    // e.g. "linux/amd64, 2 CPUs, go1.26.8"
}

// WriteMarkdown writes the table as Markdown, headed by where it came
// from, for the README: a table nobody pastes by hand.
func WriteMarkdown(w io.Writer, t Table, p Provenance) error {
	faults := "as each seed draws them"
	if t.Swarm {
		faults = "swarm faults (each seed picks its fault families and rates)"
		switch t.SwarmStyle {
		case "cells":
			faults = "swarm's cells (`-swarm=cells`: each seed focuses on a few cells of the wide fault space)"
		case "reactions":
			faults = "swarm's reactions (`-swarm=reactions`: each seed keeps about half the reactions and focuses on their cells)"
		}
	}
	wall := (time.Duration(t.WallMs * float64(time.Millisecond))).Round(time.Second)
	scenario := ""
	if t.Scenario != "" {
		scenario = "scenario `" + t.Scenario + "`, "
	}
	fmt.Fprintf(w, "Written by `%s` on %s (%s): %sseeds %d-%d, %s, %v wall.\n\n",
		p.Command, p.When.UTC().Format("2006-01-02"), p.Machine, scenario, t.First, t.Last, faults, wall)
	fmt.Fprintln(w, "| mode | detected | rate | median seeds to detection | first seed | wall to first | minimal faults (fired) | anomaly kinds |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|")
	for _, r := range t.Rows {
		fmt.Fprintf(w, "| %s |\n", strings.Join(cells(r, "`"+r.Mode+"`"), " | "))
	}
	var alarms []string
	for _, r := range t.Rows {
		if n := r.FalseAlarms(); n > 0 {
			alarms = append(alarms, fmt.Sprintf("`%s` failed %d of %d seeds (first seed %d)", r.Mode, n, r.Seeds, r.FirstSeed))
		}
	}
	if len(alarms) > 0 {
		fmt.Fprintf(w, "\n**False alarms** (modes that keep exactly-once, caught: a checker or the simulator is wrong): %s.\n", strings.Join(alarms, "; "))
	}
	var notes []string
	for _, r := range t.Rows {
		if r.Unknown > 0 || r.Stuck > 0 || r.Errors > 0 {
			notes = append(notes, fmt.Sprintf("`%s`: %d unknown, %d stuck, %d errors", r.Mode, r.Unknown, r.Stuck, r.Errors))
		}
	}
	if len(notes) > 0 {
		fmt.Fprintf(w, "\nNot judged: %s.\n", strings.Join(notes, "; "))
	}
	return nil
}
