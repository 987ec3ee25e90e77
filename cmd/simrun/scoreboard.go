package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"

	"github.com/eosim/eosim/engine"
	"github.com/eosim/eosim/internal/bubble"
	"github.com/eosim/eosim/invariants"
	"github.com/eosim/eosim/scoreboard"
	"github.com/eosim/eosim/sim"
)

// runScoreboard scores every mode, prints the table (or its JSON with
// -json), writes the JSON to -o, and exits 0 only when the control passed
// every seed and every other mode was caught at least once.
func runScoreboard(ctx context.Context, o options, enter bubble.Enter, stdout, stderr io.Writer, bar *progressBar) int {
	cfg := scoreboard.Config{Base: o.cfg, Modes: o.modes, First: o.firstSeed, Last: o.lastSeed, ShrinkRuns: o.shrinkRuns, Workers: o.workers}
	run := o.runner(ctx, enter)
	seeds := int(o.lastSeed - o.firstSeed + 1)
	total, done := seeds*len(o.modes), 0
	failing := 0
	progress := func(mode engine.Guarantee, _ uint64, res sim.Result) {
		done++
		if res.Verdict() == invariants.Fail {
			failing++
		}
		bar.show(done, total, failing)
	}
	t, err := scoreboard.Run(ctx, cfg, run, progress)
	bar.clear()
	interrupted := ctx.Err() != nil
	if err != nil && !interrupted {
		fmt.Fprintf(stderr, "simrun: %v\n", err)
		return exitUnknown
	}
	write := scoreboard.WriteText
	switch {
	case o.jsonOutput:
		write = scoreboard.WriteJSON
	case o.markdown:
		write = func(w io.Writer, t scoreboard.Table) error { return scoreboard.WriteMarkdown(w, t, provenance(o)) }
	}
	if err := write(stdout, t); err != nil {
		fmt.Fprintf(stderr, "simrun: %v\n", err)
		return exitUsage
	}
	if o.outPath != "" {
		if err := writeTo(o.outPath, stdout, func(w io.Writer) error { return scoreboard.WriteJSON(w, t) }); err != nil {
			fmt.Fprintf(stderr, "simrun: %v\n", err)
			return exitUsage
		}
	}
	if interrupted {
		fmt.Fprintln(stderr, "simrun: interrupted; the table covers what finished")
		return exitInterrupted
	}
	if problems := scoreboardProblems(t); len(problems) > 0 {
		fmt.Fprintf(stderr, "simrun: scoreboard: %s\n", strings.Join(problems, "; "))
		return exitAnomaly
	}
	return exitPass
}

// scoreboardProblems lists what makes a scoreboard fail: a mode that keeps
// exactly-once (the control) but did not pass every seed (a stuck seed is
// no pass), a mistake never caught (a stuck seed is no catch).
func scoreboardProblems(t scoreboard.Table) []string {
	var ps []string
	for _, r := range t.Rows {
		switch {
		case r.ExactlyOnce && (r.Detected > 0 || r.Unknown > 0 || r.Stuck > 0 || r.Errors > 0):
			ps = append(ps, fmt.Sprintf("%s keeps exactly-once but had %d failing, %d unknown, %d stuck and %d erroring seeds",
				r.Mode, r.Detected, r.Unknown, r.Stuck, r.Errors))
		case !r.ExactlyOnce && r.Detected == 0:
			ps = append(ps, fmt.Sprintf("%s was never caught in seeds %d-%d", r.Mode, t.First, t.Last))
		}
	}
	return ps
}

// provenance says which command measured a table, when, and on what.
func provenance(o options) scoreboard.Provenance {
	return scoreboard.Provenance{
		Command: strings.Join(append([]string{"simrun"}, o.args...), " "),
		When:    time.Now(),
		Machine: fmt.Sprintf("%s/%s, %d CPUs, %s", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version()),
	}
}
