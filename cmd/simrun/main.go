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
	"runtime"
	"runtime/debug"
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
	exitStuck   = 4
)

func main() {
	o, code, ok := setup(os.Args[1:], os.Stdout, os.Stderr)
	if !ok {
		os.Exit(code)
	}
	tuneGC(o.cfg.Inputs)
	tuneProcs(o)
	bubble.Main(func(enter bubble.Enter) int {
		// Ctrl-C cancels the runs in flight; a sweep keeps what finished.
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
		defer stop()
		return run(ctx, o, enter, os.Stdout, os.Stderr)
	})
}

// gcPercent is simrun's GOGC unless the environment sets one. A run builds
// its whole world afresh (clients, logs, the History) and drops it at the
// end, so the collector's work follows how often it runs: at 200 rather
// than Go's 100, a sweep of default runs took 23% less CPU for 14% more
// peak memory (seeds 1-60, two at once: 8.1 s to 6.2 s of CPU, 47 to 53 MB),
// a swarm sweep 15% less (seeds 1-100: 18.7 s to 15.8 s, 47 to 57 MB).
//
// simrun sets no memory limit. A soft limit of 80 MiB, once set here, lay
// just below what a long sweep keeps mapped (live heap, fragments, stacks):
// as fragments grew the collector ran ever more often and the allocator
// returned pages to the OS on every span: a 1400-seed word count sweep
// (-check-determinism -repeat 2) slowed from 0.65 to 1.85 s per run, 15% of
// its CPU in madvise, and took 13m08s. Without it the runs stay level
// (0.8 s per run from the first hundred seeds to the last, 10m49s, on the
// same shared cores), and the sweep peaks at 129 MB instead of about 97.
const gcPercent = 200

// tunedInputsMax is the largest run gcPercent is set for. A larger run
// keeps so much alive by itself that GOGC 200 costs more memory than it
// saves CPU (a run of 100,000 orders peaked at 1017 MB instead of Go's
// default's 751 MB).
const tunedInputsMax = 10_000

// tuneGC sets gcPercent for runs of at most tunedInputsMax inputs, unless the
// environment sets GOGC.
func tuneGC(inputs int) {
	if os.Getenv("GOGC") != "" || inputs > tunedInputsMax {
		return
	}
	debug.SetGCPercent(gcPercent)
}

// tuneProcs runs a single simulated run, or a shrink's runs (one at a time),
// on one processor unless the environment sets GOMAXPROCS. A run's
// goroutines move in lockstep, one or two at a time, so a second processor
// has little to run; the runtime still wakes it for each goroutine made
// ready, and the wake-ups and the moves between threads cost more than it
// gives: the default run took 120 ms instead of 160 ms (median of 7), and a
// 200-seed swarm sweep run one at a time 12.5 s of CPU instead of 15.0 s.
// Sweeps keep every processor for their parallel runs; a live run talks to
// a real cluster and keeps them too. Results do not depend on it: a run's
// History is the same under any GOMAXPROCS (-check-determinism alternates it).
// A run above tunedInputsMax keeps every processor too: the collector,
// with one, fell behind a run of 100,000 orders (883 MB peak instead of
// 699 MB, and 15.1 s instead of 13.3 s).
func tuneProcs(o options) {
	if os.Getenv("GOMAXPROCS") != "" || o.runsInParallel() || len(o.bootstrap) > 0 || o.cfg.Inputs > tunedInputsMax {
		return
	}
	runtime.GOMAXPROCS(1)
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
	if err := sim.Available(); err != nil && len(o.bootstrap) == 0 {
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
	// wallLimited: the run ended stuck because its wall-time limit passed
	// (its History then depends on the machine, not only on the seed);
	// abandoned: it did not even return, and res holds only its config,
	// schedule and Stuck.
	wallLimited, abandoned bool
}

// wallGrace is how long past its wall-time limit a run has to notice it and
// return before it is abandoned: a run whose goroutines spin without
// virtual time passing never looks at its context. (A variable for tests.)
var wallGrace = 5 * time.Second

// interruptGrace is how long after Ctrl-C the runs in flight have to stop.
const interruptGrace = time.Second

// abandonedReason is the Stuck of a run that did not return in time.
const abandonedReason = "wall-time limit passed; run abandoned"

// runConfig runs cfg in its own bubble under ctx and the wall-time limit
// (0: none). The run's context is made here, outside the bubble: sim.Run
// only looks at it. Run is not relied on to return: past the limit and
// wallGrace the run is abandoned (its goroutine left behind) and reported
// stuck; after ctx ends, past interruptGrace it is abandoned with
// sim.ErrInterrupted.
func runConfig(ctx context.Context, cfg sim.Config, limit time.Duration, enter bubble.Enter) outcome {
	rctx, cancel := context.WithCancel(ctx)
	if limit > 0 {
		rctx, cancel = context.WithTimeout(ctx, limit)
	}
	defer cancel()
	start := time.Now()
	done := make(chan outcome, 1)
	go func() {
		var out outcome
		enter(func() { out.res, out.err = sim.Run(rctx, cfg) })
		done <- out
	}()
	finished := func(out outcome) outcome {
		out.wall = time.Since(start)
		out.wallLimited = out.res.Stuck != "" && errors.Is(rctx.Err(), context.DeadlineExceeded)
		return out
	}
	var expired <-chan time.Time
	if limit > 0 {
		t := time.NewTimer(limit + wallGrace)
		defer t.Stop()
		expired = t.C
	}
	select {
	case out := <-done:
		return finished(out)
	case <-expired:
		out := outcome{wall: time.Since(start), wallLimited: true, abandoned: true}
		out.res.Config, out.res.Schedule, _ = cfg.Resolve()
		out.res.Stuck = abandonedReason
		return out
	case <-ctx.Done():
	}
	t := time.NewTimer(interruptGrace)
	defer t.Stop()
	select {
	case out := <-done:
		return finished(out)
	case <-t.C:
		return outcome{wall: time.Since(start), abandoned: true,
			err: fmt.Errorf("%w: it did not stop within %v and was abandoned", sim.ErrInterrupted, interruptGrace)}
	}
}

// runSeed runs one seed of the options.
func runSeed(ctx context.Context, o options, seed uint64, enter bubble.Enter) outcome {
	cfg := o.cfg
	cfg.Seed = seed
	return runConfig(ctx, cfg, o.wallLimit, enter)
}

// runner is sim.Runner for shrinking and the scoreboard: each run under
// ctx and the wall-time limit.
func (o options) runner(ctx context.Context, enter bubble.Enter) sim.Runner {
	return func(cfg sim.Config) (sim.Result, error) {
		out := runConfig(ctx, cfg, o.wallLimit, enter)
		return out.res, out.err
	}
}

// run runs what the options ask for; ctx ending interrupts it.
func run(ctx context.Context, o options, enter bubble.Enter, stdout, stderr io.Writer) (code int) {
	stopProfiles, err := startProfiles(o)
	if err != nil {
		fmt.Fprintf(stderr, "simrun: %v\n", err)
		return exitUsage
	}
	defer func() {
		if err := stopProfiles(); err != nil {
			fmt.Fprintf(stderr, "simrun: %v\n", err)
			if code == exitPass {
				code = exitUsage // the run passed, but not all it was asked to write was written
			}
		}
	}()
	if o.saveSchedulePath != "" {
		// Before the run: a run that never ends can still be replayed.
		if err := saveSchedule(o, stdout); err != nil {
			fmt.Fprintf(stderr, "simrun: %v\n", err)
			return exitUsage
		}
	}
	if o.scoreboard {
		return runScoreboard(ctx, o, enter, stdout, stderr, newProgressBar(os.Stderr, o.jsonOutput))
	}
	if o.explore {
		return explore(ctx, o, enter, stdout, newProgressBar(os.Stderr, o.jsonOutput))
	}
	if o.sweep || o.checkDeterminism {
		return sweep(ctx, o, enter, stdout, newProgressBar(os.Stderr, o.jsonOutput))
	}
	if o.shrink {
		return shrink(ctx, o, enter, stdout, stderr)
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
	if len(o.bootstrap) > 0 {
		return runLive(ctx, o, stdout, stderr)
	}
	o.cfg.RecordWire = o.wirePath != ""
	stopProgress := watchProgress(&o.cfg, terminal(os.Stderr))
	out := runSeed(ctx, o, o.firstSeed, enter)
	stopProgress()
	if out.err != nil {
		fmt.Fprintf(stderr, "simrun: seed %d: %s\n", o.firstSeed, oneLine(out.err))
		switch {
		case errors.Is(out.err, sim.ErrInterrupted):
			return exitInterrupted
		case errors.Is(out.err, sim.ErrDatabaseFile):
			// A -db file refused, or a database that cannot be opened or
			// fails its integrity check: never a pass.
			return exitUsage
		}
		return exitUnknown
	}
	printRun(stdout, o, out)
	if out.abandoned {
		return exitStuck // nothing was recorded to write
	}
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
	case invariants.Stuck:
		return exitStuck
	default:
		return exitUnknown
	}
}
