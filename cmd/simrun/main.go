//go:debug randseednop=0

// Command simrun runs the eosim simulator from a seed (or a sweep of seeds),
// prints what happened and what the checkers found, and says how to replay
// it. See simrun -h.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/eosim/eosim/internal/bubble"
	"github.com/eosim/eosim/invariants"
	"github.com/eosim/eosim/sim"
)

// Exit codes.
const (
	exitPass    = 0
	exitAnomaly = 1
	exitUsage   = 2
	exitUnknown = 3
)

func main() {
	o, code, ok := setup(os.Args[1:], os.Stdout, os.Stderr)
	if !ok {
		os.Exit(code)
	}
	bubble.Main(func(enter bubble.Enter) int {
		// Ctrl-C stops a sweep between two runs, keeping what finished.
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
		defer stop()
		return run(ctx, o, enter, os.Stdout, os.Stderr)
	})
}

// setup parses the command line and checks the build. When the program
// should stop before running anything (help, bad input, a build without
// the synctests tag), ok is false and code is its exit code; errors are one
// line on stderr.
func setup(args []string, stdout, stderr io.Writer) (o options, code int, ok bool) {
	o, err := parseOptions(args, stdout)
	if errors.Is(err, errHelp) {
		return o, exitPass, false
	}
	if err != nil {
		fmt.Fprintf(stderr, "simrun: %v (see simrun -h)\n", err)
		return o, exitUsage, false
	}
	if err := sim.Available(); err != nil {
		fmt.Fprintf(stderr, "simrun: %v\n", err)
		return o, exitUsage, false
	}
	return o, exitPass, true
}

// outcome is one seed's run, or the error that kept it from running.
type outcome struct {
	res  sim.Result
	wall time.Duration
	err  error
}

// runSeed runs one seed in its own bubble.
func runSeed(o options, seed uint64, enter bubble.Enter) outcome {
	cfg := o.cfg
	cfg.Seed = seed
	var out outcome
	start := time.Now()
	enter(func() { out.res, out.err = sim.Run(context.Background(), cfg) })
	out.wall = time.Since(start)
	return out
}

// run runs what the options ask for; ctx ending interrupts a sweep.
func run(ctx context.Context, o options, enter bubble.Enter, stdout, stderr io.Writer) int {
	if o.scoreboard {
		return runScoreboard(ctx, o, enter, stdout, stderr, newProgressBar(os.Stderr, o.jsonOutput))
	}
	if o.sweep || o.checkDeterminism {
		return sweep(ctx, o, enter, stdout, newProgressBar(os.Stderr, o.jsonOutput))
	}
	if o.shrink {
		return shrink(o, enter, stdout, stderr)
	}
	if o.clientLogPath != "" {
		f, err := os.Create(o.clientLogPath)
		if err != nil {
			fmt.Fprintf(stderr, "simrun: -client-log: %v\n", err)
			return exitUsage
		}
		defer f.Close()
		o.cfg.ClientLog = f
	}
	out := runSeed(o, o.firstSeed, enter)
	if out.err != nil {
		fmt.Fprintf(stderr, "simrun: seed %d: %v\n", o.firstSeed, out.err)
		return exitUnknown
	}
	printRun(stdout, o, out)
	if err := writeOutputs(o, out.res, stdout); err != nil {
		fmt.Fprintf(stderr, "simrun: %v\n", err)
		return exitUsage
	}
	return exitCode(out.res.Verdict())
}

func exitCode(v invariants.Verdict) int {
	switch v {
	case invariants.Pass:
		return exitPass
	case invariants.Fail:
		return exitAnomaly
	default:
		return exitUnknown
	}
}
