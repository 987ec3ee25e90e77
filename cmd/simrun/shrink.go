package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/eosim/eosim/internal/bubble"
	"github.com/eosim/eosim/invariants"
	"github.com/eosim/eosim/sim"
)

// shrink runs the configured seed or plan, and if it fails, shrinks it to a
// minimal plan with an anomaly of the same kind, prints that plan and its
// anomalies, and saves it with -o. Every run has the wall-time limit (a
// candidate that ends stuck does not count as failing the same way); ctx
// ending stops it with exit code 130.
func shrink(ctx context.Context, o options, enter bubble.Enter, stdout, stderr io.Writer) int {
	run := o.runner(ctx, enter)
	start := time.Now()
	first, err := run(o.cfg)
	if err != nil {
		fmt.Fprintf(stderr, "simrun: seed %d: %s\n", o.cfg.Seed, oneLine(err))
		switch {
		case errors.Is(err, sim.ErrInterrupted):
			return exitInterrupted
		case errors.Is(err, sim.ErrDatabaseFile):
			return exitUsage
		}
		return exitUnknown
	}
	if first.Verdict() != invariants.Fail {
		v := string(first.Verdict())
		if first.Stuck != "" {
			v += " (" + first.Stuck + ")"
		}
		fmt.Fprintf(stdout, "seed %d: %s; nothing to shrink (-shrink needs a failing run)\n", o.cfg.Seed, v)
		return exitCode(first.Verdict())
	}
	kind := first.Report.Anomalies[0].Kind
	fmt.Fprintf(stdout, "shrinking seed %d: %d faults (%d fired), %d orders, %d instances, %d partitions; keeping an anomaly of kind %s\n",
		o.cfg.Seed, len(first.Schedule.Faults), first.FaultCounts().Fired, o.cfg.Inputs, o.cfg.Instances, o.cfg.Partitions, kind)

	cfg, res, st, err := sim.Shrink(o.cfg, kind, run, o.shrinkRuns)
	if err != nil {
		fmt.Fprintf(stderr, "simrun: shrinking: %v\n", err)
		if errors.Is(err, sim.ErrInterrupted) {
			return exitInterrupted
		}
		return exitUnknown
	}
	fmt.Fprintf(stdout, "shrunk in %v: %d runs tried, %d reductions kept\n",
		time.Since(start).Round(time.Millisecond), st.Runs, st.Kept)
	fmt.Fprintf(stdout, "minimal plan: %d faults (was %d), %d fired, %d orders (was %d), %d instances, %d partitions\n",
		len(cfg.Schedule.Faults), len(first.Schedule.Faults), res.FaultCounts().Fired, cfg.Inputs, o.cfg.Inputs, cfg.Instances, cfg.Partitions)
	for _, l := range faultLines(res) {
		fmt.Fprintf(stdout, "    %s\n", l)
	}
	fmt.Fprintf(stdout, "  verdict       %s\n", verdictText(res))
	fmt.Fprintf(stdout, "  trace hash    %s\n", res.Hash)
	printAnomalies(stdout, res.Report)

	plan := sim.PlanOf(cfg, *cfg.Schedule, &res)
	if o.outPath != "" {
		if err := os.WriteFile(o.outPath, plan.MarshalIndent(), 0o644); err != nil {
			fmt.Fprintf(stderr, "simrun: writing plan: %v\n", err)
			return exitUsage
		}
		fmt.Fprintf(stdout, "replay\n  go run -tags synctests ./cmd/simrun -schedule %s\n", o.outPath)
	} else {
		fmt.Fprintf(stdout, "plan (save it with -o file.json):\n%s", plan.MarshalIndent())
	}
	return exitAnomaly
}
