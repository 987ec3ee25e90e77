package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eosim/eosim/coverage"
	"github.com/eosim/eosim/history"
	"github.com/eosim/eosim/internal/bubble"
	"github.com/eosim/eosim/internal/pool"
	"github.com/eosim/eosim/invariants"
	"github.com/eosim/eosim/sim"
)

// exitInterrupted is the exit code of a sweep stopped by Ctrl-C, as shells
// report a process killed by SIGINT.
const exitInterrupted = 130

// seedLine is one seed of a sweep, as -json prints it.
type seedLine struct {
	Seed    uint64 `json:"seed"`
	Verdict string `json:"verdict"`
	// Stuck says what the run was waiting for when it was given up on
	// (verdict stuck).
	Stuck     string   `json:"stuck,omitempty"`
	Kinds     []string `json:"kinds,omitempty"`
	Crashes   int      `json:"crashes"`
	Committed int      `json:"committed"`
	Aborted   int      `json:"aborted"`
	// Faults counts the schedule's faults by outcome (fired, no_effect,
	// not_reached).
	Faults sim.FaultCounts `json:"faults"`
	Hash   string          `json:"hash,omitempty"`
	// With -check-determinism: Hashes is every repeat's trace hash, in
	// order, and GOMAXPROCS what each ran with; Identical is set when they
	// were compared (not when the wall-time limit cut a repeat short) and
	// Difference says where the first run and the first divergent one
	// parted.
	Hashes     []string `json:"hashes,omitempty"`
	GOMAXPROCS []int    `json:"gomaxprocs,omitempty"`
	Identical  *bool    `json:"identical,omitempty"`
	Difference string   `json:"difference,omitempty"`
	VirtualMs  int64    `json:"virtual_ms"`
	WallMs     float64  `json:"wall_ms"`
	Error      string   `json:"error,omitempty"`
	Replay     string   `json:"replay,omitempty"`
	// cells are the fault space's cells the seed's run reached, with
	// -coverage (the summary carries their sum).
	cells coverage.Map
}

// sweepSummary is a sweep's totals, -json's last line.
type sweepSummary struct {
	Seeds int    `json:"seeds"`
	First uint64 `json:"first"`
	Last  uint64 `json:"last"`
	Shard string `json:"shard,omitempty"`
	// Scenario is named when it is not the default one (orders).
	Scenario  string `json:"scenario,omitempty"`
	Guarantee string `json:"guarantee"`
	Pass      int    `json:"pass"`
	Fail      int    `json:"fail"`
	Unknown   int    `json:"unknown"`
	Stuck     int    `json:"stuck"`
	Errors    int    `json:"errors"`
	// Faults adds up the seeds' fault outcomes.
	Faults sim.FaultCounts `json:"faults"`
	// With -check-determinism: Repeat is the runs per seed, Identical the
	// seeds whose runs all had one hash, Nondeterministic those whose did
	// not.
	Repeat           int      `json:"repeat,omitempty"`
	Identical        *int     `json:"identical,omitempty"`
	Nondeterministic int      `json:"nondeterministic,omitempty"`
	Interrupted      bool     `json:"interrupted,omitempty"`
	WallMs           float64  `json:"wall_ms"`
	VirtualMs        int64    `json:"virtual_ms"`
	Failing          []uint64 `json:"failing_seeds,omitempty"`
	ExitCode         int      `json:"exit_code"`
	// Coverage is the map of the fault space the sweep reached, with
	// -coverage; cells sums the seeds' cells until it is made.
	Coverage *coverage.Report `json:"coverage,omitempty"`
	cells    coverage.Map
	// replays are the failing seeds' replay commands, in Failing's order.
	replays []string
}

// seedResult is one seed of a sweep in progress.
type seedResult struct {
	outs []outcome // one per repeat
	// left counts the repeats not yet run; the worker that runs the last
	// one judges them into line and closes done.
	left    atomic.Int32
	started atomic.Bool
	done    chan struct{}
	line    seedLine
	wall    time.Duration
	// interrupted: a repeat was cut short by Ctrl-C; the seed did not
	// finish.
	interrupted bool
}

// sweep runs a range of seeds (-repeat times each with -check-determinism),
// one line per seed in seed order, then the totals. Up to -workers runs go
// at once; each run is deterministic on its own, so the lines do not depend
// on it. ctx ending (Ctrl-C) cancels the runs in flight; within
// interruptGrace the sweep prints the seeds that finished and their totals,
// and exits 130.
//
// With -check-determinism the seeds go in groups of -workers: round r of a
// group runs with GOMAXPROCS procsFor(r) and ends before round r+1 begins
// (GOMAXPROCS is process-wide), so every seed runs under two values.
func sweep(ctx context.Context, o options, enter bubble.Enter, stdout io.Writer, progress *progressBar) int {
	o.workers = pool.Size(o.workers) // before GOMAXPROCS changes
	repeat := 1
	if o.checkDeterminism {
		repeat = o.repeat
	}
	seeds := o.sweepSeeds()
	results := newSeedResults(len(seeds), repeat)
	procs := newProcsSetter()
	defer procs.restore()
	startRuns(ctx, o, enter, seeds, results, procs, repeat)

	start := time.Now()
	sum, identical, runWall := collectSeeds(ctx, o, seeds, results, stdout, progress)
	if ctx.Err() != nil && sum.Seeds < len(seeds) {
		sum.Interrupted = true
	}
	progress.clear()
	if o.checkDeterminism {
		sum.Identical = &identical
		sum.Repeat = repeat
	}
	if o.coverage {
		r := o.coverageOf(sum.cells)
		sum.Coverage = &r
	}
	elapsed := time.Since(start)
	sum.WallMs = float64(elapsed.Microseconds()) / 1000
	sum.ExitCode = sweepExitCode(sum)
	printSummary(stdout, o, sum, elapsed, runWall, procs.values(repeat))
	return sum.ExitCode
}

// sweepSeeds lists the seeds of the sweep's range that are in its shard.
func (o options) sweepSeeds() []uint64 {
	var seeds []uint64
	for seed := o.firstSeed; ; seed++ {
		if o.inShard(seed) {
			seeds = append(seeds, seed)
		}
		// Compared before the increment, so a range ending at the largest
		// seed does not wrap round.
		if seed == o.lastSeed {
			break
		}
	}
	return seeds
}

// newSeedResults makes one result per seed, each waiting for repeat runs.
// A seed's outcomes are made when its first run starts and dropped once it
// is judged: made here, a 5000-seed sweep of three runs each held 10 MB of
// them from its start, and its collector, at GOGC 200, three times that.
func newSeedResults(seeds, repeat int) []seedResult {
	results := make([]seedResult, seeds)
	for i := range results {
		results[i].left.Store(int32(repeat))
		results[i].done = make(chan struct{})
	}
	return results
}

// startRuns starts the sweep's runs in the background, -workers at a time,
// and returns at once: each seed's result closes its done channel when its
// last repeat has been judged. Nothing waits for the runs: an interrupted
// sweep may leave one behind that does not return.
//
// With more than one repeat the seeds go a group of -workers at a time,
// round by round, each round ending before GOMAXPROCS is set for the next.
func startRuns(ctx context.Context, o options, enter bubble.Enter, seeds []uint64, results []seedResult, procs *procsSetter, repeat int) {
	// runOne runs repeat round of the seed at index i; the run that ends a
	// seed judges its repeats.
	runOne := func(i, round int) {
		r := &results[i]
		r.started.Store(true)
		if r.outs == nil {
			// A seed's rounds run one after another (pool.Run returns
			// before the next round starts), so the first makes them.
			r.outs = make([]outcome, repeat)
		}
		if ctx.Err() == nil {
			r.outs[round] = runSeed(ctx, o, seeds[i], enter)
			if repeat > 1 {
				r.outs[round] = forJudging(r.outs[round], round, r.outs[0])
			}
		} else {
			r.outs[round] = outcome{err: sim.ErrInterrupted}
		}
		if r.left.Add(-1) == 0 {
			r.line, r.wall, r.interrupted = judgeSeed(o, seeds[i], r.outs, procs.values(repeat))
			r.outs = nil // the Histories can go
			close(r.done)
		}
	}
	go func() {
		if repeat == 1 {
			pool.Run(ctx, o.workers, len(seeds), func(i int) { runOne(i, 0) })
			return
		}
		for lo := 0; lo < len(seeds); lo += o.workers {
			hi := min(lo+o.workers, len(seeds))
			for round := range repeat {
				if ctx.Err() != nil || !procs.set(round) {
					return
				}
				pool.Run(ctx, o.workers, hi-lo, func(k int) { runOne(lo+k, round) })
			}
		}
	}()
}

// forJudging drops from a repeat's outcome what judgeSeed does not read, as
// soon as the run ends: the final topics and the wire of every run, and the
// History of a later round whose trace hash is the first round's
// (FirstDifference reads Histories only where hashes differ). Otherwise a
// -check-determinism sweep held every repeat's whole Result until the
// seed's last round, and its peak memory grew with them: 177 MB for the
// 5000-seed sweep of three runs each.
func forJudging(out outcome, round int, first outcome) outcome {
	out.res.Snapshot = history.Snapshot{}
	out.res.Wire = nil
	if round > 0 && out.err == nil && first.err == nil && out.res.Hash == first.res.Hash {
		out.res.History = history.History{}
	}
	return out
}

// collectSeeds waits for the seeds in seed order and prints each one's line
// as soon as it and all before it are done, so the output does not depend
// on which run ends first. Once ctx ends it waits only until
// interruptGrace has passed for the seeds already running, and leaves out
// those that did not finish. It returns the totals, the number of seeds
// whose repeats all had one hash, and the wall time of the runs added up.
func collectSeeds(ctx context.Context, o options, seeds []uint64, results []seedResult, stdout io.Writer, progress *progressBar) (sum sweepSummary, identical int, runWall time.Duration) {
	sum = sweepSummary{First: o.firstSeed, Last: o.lastSeed, Guarantee: string(o.cfg.Guarantee)}
	if o.cfg.Scenario != sim.DefaultConfig().Scenario {
		sum.Scenario = o.cfg.Scenario
	}
	if o.shards > 0 {
		sum.Shard = fmt.Sprintf("%d/%d", o.shard, o.shards)
	}
	var deadline time.Time // once interrupted: how long to wait for runs in flight
	for i := range seeds {
		r := &results[i]
		if !sum.Interrupted {
			select {
			case <-r.done:
			case <-ctx.Done():
				sum.Interrupted, deadline = true, time.Now().Add(interruptGrace)
			}
		}
		if sum.Interrupted && !waitUntil(r, deadline) {
			continue
		}
		if r.interrupted {
			continue
		}
		runWall += r.wall
		if sum.add(o, r.line) {
			identical++
		}
		progress.clear()
		printSeedLine(stdout, o, r.line)
		r.line = seedLine{} // counted and printed: its strings can go
		progress.show(sum.Seeds, len(seeds), len(sum.Failing))
	}
	return sum, identical, runWall
}

// add counts a finished seed's line into the totals, with its replay
// command when it failed, and reports whether its repeats were compared
// and all had one hash.
func (sum *sweepSummary) add(o options, line seedLine) (identical bool) {
	sum.Seeds++
	sum.VirtualMs += line.VirtualMs
	if line.cells != nil {
		if sum.cells == nil {
			sum.cells = make(coverage.Map)
		}
		sum.cells.Add(line.cells)
	}
	sum.Faults.Add(line.Faults)
	failing := true
	switch {
	case line.Error != "":
		sum.Errors++
	case line.Verdict == string(invariants.Pass):
		sum.Pass++
		failing = false
	case line.Verdict == string(invariants.Fail):
		sum.Fail++
	case line.Verdict == string(invariants.Stuck):
		sum.Stuck++
	default:
		sum.Unknown++
	}
	switch {
	case line.Identical == nil:
	case *line.Identical:
		identical = true
	default:
		// Runs of one seed that part ways fail the sweep, whatever the
		// first one's verdict.
		sum.Nondeterministic++
		failing = true
	}
	if failing {
		sum.Failing = append(sum.Failing, line.Seed)
		replay := line.Replay
		if replay == "" {
			replay = o.replayCommand(line.Seed)
		}
		sum.replays = append(sum.replays, replay)
	}
	return identical
}

// waitUntil waits for r to finish until deadline; a seed that never
// started is not waited for.
func waitUntil(r *seedResult, deadline time.Time) bool {
	select {
	case <-r.done:
		return true
	default:
	}
	if !r.started.Load() {
		return false
	}
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case <-r.done:
		return true
	case <-t.C:
		return false
	}
}

// procsSetter sets GOMAXPROCS for the rounds of -check-determinism and
// restores it when the sweep ends, after which it sets nothing more (a
// sweep that was interrupted may leave its feeder behind).
type procsSetter struct {
	mu       sync.Mutex
	def, alt int
	done     bool
}

func newProcsSetter() *procsSetter {
	def := runtime.GOMAXPROCS(0)
	alt := 1
	if def == 1 {
		alt = 2
	}
	return &procsSetter{def: def, alt: alt}
}

// procsFor is the GOMAXPROCS of repeat round r: the default for even
// rounds, the other value for odd ones.
func (p *procsSetter) procsFor(round int) int {
	if round%2 == 1 {
		return p.alt
	}
	return p.def
}

// values is the GOMAXPROCS of each of repeat rounds.
func (p *procsSetter) values(repeat int) []int {
	vs := make([]int, repeat)
	for r := range vs {
		vs[r] = p.procsFor(r)
	}
	return vs
}

// set sets GOMAXPROCS for round, unless the sweep is over.
func (p *procsSetter) set(round int) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return false
	}
	runtime.GOMAXPROCS(p.procsFor(round))
	return true
}

func (p *procsSetter) restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done = true
	runtime.GOMAXPROCS(p.def)
}

// judgeSeed makes a seed's line from its runs (one per repeat, procs the
// GOMAXPROCS of each) and adds up their wall time; interrupted says that
// Ctrl-C cut one short.
func judgeSeed(o options, seed uint64, outs []outcome, procs []int) (line seedLine, wall time.Duration, interrupted bool) {
	for _, out := range outs {
		wall += out.wall
		interrupted = interrupted || errors.Is(out.err, sim.ErrInterrupted)
	}
	first := outs[0]
	line = seedLine{Seed: seed, WallMs: float64(wall.Microseconds()) / 1000, Replay: o.replayCommand(seed)}
	if first.err != nil {
		line.Error = first.err.Error()
		return line, wall, interrupted
	}
	res := first.res
	line.Verdict, line.Stuck, line.Kinds, line.Hash = string(res.Verdict()), res.Stuck, res.Report.Kinds(), res.Hash
	line.Crashes, line.Committed, line.Aborted = res.Stats.Crashes, res.Stats.Committed, res.Stats.Aborted
	line.Faults = res.FaultCounts()
	line.VirtualMs = res.Stats.Virtual.Milliseconds()
	if o.coverage {
		line.cells = coverage.Of(res)
	}
	if o.checkDeterminism {
		line.GOMAXPROCS = procs
		compare := true
		for k, out := range outs {
			line.Hashes = append(line.Hashes, out.res.Hash)
			if out.wallLimited {
				// Where the limit cuts a run depends on the machine: no
				// verdict on determinism, the seed is stuck.
				compare = false
				line.Verdict, line.Stuck = string(invariants.Stuck), fmt.Sprintf("run %d of %d: %s", k+1, len(outs), out.res.Stuck)
			}
		}
		if compare {
			same := true
			for k, again := range outs[1:] {
				if again.err == nil && again.res.Hash == res.Hash {
					continue
				}
				same = false
				run := func(n int) string { return fmt.Sprintf("run %d (GOMAXPROCS %d)", n, procs[n-1]) }
				if again.err != nil {
					line.Difference = fmt.Sprintf("%s failed: %v", run(k+2), again.err)
				} else {
					i, a, b := history.FirstDifference(res.History, again.res.History)
					line.Difference = fmt.Sprintf("%s hash %s, %s hash %s; histories differ at event %d:\n    %.300s\n    %.300s",
						run(1), res.Hash, run(k+2), again.res.Hash, i, a, b)
				}
				line.Replay = fmt.Sprintf("%s -check-determinism -repeat %d", o.replayCommand(seed), len(outs))
				break
			}
			line.Identical = &same
		}
	}
	// A replay is said once per failing seed, not for every pass; but an
	// explored seed's focus was picked by the sweep, and only its replay
	// command says what it was.
	if line.Verdict == string(invariants.Pass) && line.Difference == "" && !o.explore {
		line.Replay = ""
	}
	return line, wall, interrupted
}

func printSeedLine(w io.Writer, o options, l seedLine) {
	if o.jsonOutput {
		writeJSONLine(w, l)
		return
	}
	if l.Error != "" {
		fmt.Fprintf(w, "seed %d: error: %s\n", l.Seed, strings.ReplaceAll(l.Error, "\n", "; "))
		return
	}
	s := fmt.Sprintf("seed %d: %s, %d crashes, %d units committed", l.Seed, l.Verdict, l.Crashes, l.Committed)
	if l.Hash != "" {
		s += fmt.Sprintf(", hash %.12s", l.Hash)
	}
	s += fmt.Sprintf(", %.0fms", l.WallMs)
	if len(l.Kinds) > 0 {
		s += " — " + strings.Join(l.Kinds, ", ")
	}
	if l.Stuck != "" {
		s += " — STUCK: " + l.Stuck
	}
	switch {
	case l.Identical == nil:
	case *l.Identical && len(l.Hashes) == 2:
		s += " — identical twice"
	case *l.Identical:
		s += fmt.Sprintf(" — identical %d times", len(l.Hashes))
	default:
		s += " — NONDETERMINISTIC: " + l.Difference + "\n    replay: " + l.Replay
	}
	// An explored seed's focus was picked by the sweep: only its replay
	// command says what it was (-explore runs no repeats).
	if o.explore && l.Identical == nil && l.Replay != "" {
		s += "\n    replay: " + l.Replay
	}
	fmt.Fprintln(w, s)
}

// printSummary prints the totals; elapsed is the sweep's wall time, runWall
// its runs' added up (more than elapsed when runs overlap), procs the
// GOMAXPROCS of each repeat of -check-determinism.
func printSummary(w io.Writer, o options, sum sweepSummary, elapsed, runWall time.Duration, procs []int) {
	if o.jsonOutput {
		writeJSONLine(w, struct {
			Summary sweepSummary `json:"summary"`
		}{sum})
		return
	}
	slice := ""
	if sum.Shard != "" {
		slice = ", shard " + sum.Shard
	}
	if sum.Interrupted {
		fmt.Fprintf(w, "\ninterrupted: the totals cover the %d seeds that finished\n", sum.Seeds)
	} else {
		fmt.Fprintln(w)
	}
	mode := sum.Guarantee
	if sum.Scenario != "" {
		mode = sum.Scenario + ", " + mode
	}
	fmt.Fprintf(w, "%d seeds (%d-%d%s), %s: %d pass, %d anomalies, %d unknown, %d stuck, %d errors\n",
		sum.Seeds, sum.First, sum.Last, slice, mode, sum.Pass, sum.Fail, sum.Unknown, sum.Stuck, sum.Errors)
	fmt.Fprintf(w, "faults: %s\n", sum.Faults)
	runs := max(sum.Seeds, 1)
	virtual := time.Duration(sum.VirtualMs) * time.Millisecond
	if sum.Identical != nil {
		compared := *sum.Identical + sum.Nondeterministic
		ps := make([]string, len(procs))
		for i, p := range procs {
			ps[i] = strconv.Itoa(p)
		}
		fmt.Fprintf(w, "determinism: %d/%d identical, %d runs each (GOMAXPROCS %s)", *sum.Identical, compared, sum.Repeat, strings.Join(ps, ", "))
		if n := sum.Seeds - sum.Errors - compared; n > 0 {
			fmt.Fprintf(w, "; %d not compared (the wall-time limit cut a run short)", n)
		}
		fmt.Fprintln(w)
		runs *= sum.Repeat
		virtual *= time.Duration(sum.Repeat)
	}
	fmt.Fprintf(w, "wall time %v (%v per run, %d at once), virtual time %v, %.0f virtual seconds per wall second\n",
		elapsed.Round(time.Millisecond), (runWall / time.Duration(runs)).Round(time.Millisecond), o.workers,
		virtual.Round(time.Second), virtual.Seconds()/max(elapsed.Seconds(), 1e-9))
	if sum.Coverage != nil {
		for _, l := range sum.Coverage.Lines() {
			fmt.Fprintln(w, l)
		}
	}
	for i, replay := range sum.replays {
		if i == 10 {
			fmt.Fprintf(w, "… and %d more failing seeds\n", len(sum.replays)-i)
			break
		}
		fmt.Fprintf(w, "replay: %s\n", replay)
	}
}

// sweepExitCode is the first that applies of: 1 for an anomaly or
// nondeterminism (a failure of the simulator's own promise), 130 for an
// interrupted sweep, 4 for a stuck seed, 3 for an unknown or erroring one.
func sweepExitCode(sum sweepSummary) int {
	switch {
	case sum.Fail > 0 || sum.Nondeterministic > 0:
		return exitAnomaly
	case sum.Interrupted:
		return exitInterrupted
	case sum.Stuck > 0:
		return exitStuck
	case sum.Unknown > 0 || sum.Errors > 0:
		return exitUnknown
	}
	return exitPass
}

func writeJSONLine(w io.Writer, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // plain structs always encode
	}
	fmt.Fprintf(w, "%s\n", b)
}

// progressBar draws "[=====     ] 23/200 seeds, 1 failing" on a terminal,
// in place; it draws nothing when its writer is not a terminal.
type progressBar struct{ w io.Writer }

// newProgressBar returns a bar on f if f is a terminal and JSON is off.
func newProgressBar(f *os.File, jsonOutput bool) *progressBar {
	if jsonOutput {
		return &progressBar{}
	}
	if t := terminal(f); t != nil {
		return &progressBar{w: t}
	}
	return &progressBar{}
}

// terminal returns f if it is a terminal, else nil: progress is for a
// person watching, not for a file or a pipe.
func terminal(f *os.File) io.Writer {
	info, err := f.Stat()
	if err != nil || info.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	return f
}

func (p *progressBar) show(done, total, failing int) {
	if p == nil || p.w == nil || total == 0 {
		return
	}
	const width = 30
	filled := width * done / total
	fmt.Fprintf(p.w, "\r[%s%s] %d/%d seeds, %d failing", strings.Repeat("=", filled), strings.Repeat(" ", width-filled), done, total, failing)
}

func (p *progressBar) clear() {
	if p == nil || p.w == nil {
		return
	}
	fmt.Fprint(p.w, "\r\033[K")
}
