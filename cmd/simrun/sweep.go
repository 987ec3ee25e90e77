package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/eosim/eosim/history"
	"github.com/eosim/eosim/internal/bubble"
	"github.com/eosim/eosim/invariants"
)

// exitInterrupted is the exit code of a sweep stopped by Ctrl-C, as shells
// report a process killed by SIGINT.
const exitInterrupted = 130

// seedLine is one seed of a sweep, as -json prints it.
type seedLine struct {
	Seed      uint64   `json:"seed"`
	Verdict   string   `json:"verdict"`
	Kinds     []string `json:"kinds,omitempty"`
	Crashes   int      `json:"crashes"`
	Committed int      `json:"committed"`
	Aborted   int      `json:"aborted"`
	Hash      string   `json:"hash,omitempty"`
	// Identical is set with -check-determinism: the second run's hash
	// matched; Difference says where the two runs parted when it did not.
	Identical  *bool   `json:"identical,omitempty"`
	Difference string  `json:"difference,omitempty"`
	VirtualMs  int64   `json:"virtual_ms"`
	WallMs     float64 `json:"wall_ms"`
	Error      string  `json:"error,omitempty"`
	Replay     string  `json:"replay,omitempty"`
}

// sweepSummary is a sweep's totals, -json's last line.
type sweepSummary struct {
	Seeds       int      `json:"seeds"`
	First       uint64   `json:"first"`
	Last        uint64   `json:"last"`
	Shard       string   `json:"shard,omitempty"`
	Guarantee   string   `json:"guarantee"`
	Pass        int      `json:"pass"`
	Fail        int      `json:"fail"`
	Unknown     int      `json:"unknown"`
	Errors      int      `json:"errors"`
	Identical   *int     `json:"identical,omitempty"`
	Interrupted bool     `json:"interrupted,omitempty"`
	WallMs      float64  `json:"wall_ms"`
	VirtualMs   int64    `json:"virtual_ms"`
	Failing     []uint64 `json:"failing_seeds,omitempty"`
	ExitCode    int      `json:"exit_code"`
}

// sweep runs a range of seeds (twice each with -check-determinism), one
// line per seed in seed order, then the totals. Up to -workers seeds run at
// once; each run is deterministic on its own, so the lines do not depend on
// it. ctx ending (Ctrl-C) stops it between two runs: the totals of what
// finished are printed and it exits 130.
func sweep(ctx context.Context, o options, enter bubble.Enter, stdout io.Writer, progress *progressBar) int {
	sum := sweepSummary{First: o.firstSeed, Last: o.lastSeed, Guarantee: string(o.cfg.Guarantee)}
	if o.shards > 0 {
		sum.Shard = fmt.Sprintf("%d/%d", o.shard, o.shards)
	}
	var seeds []uint64
	for seed := o.firstSeed; ; seed++ {
		if o.inShard(seed) {
			seeds = append(seeds, seed)
		}
		if seed == o.lastSeed {
			break
		}
	}
	type result struct {
		line seedLine
		wall time.Duration
		done chan struct{}
	}
	results := make([]result, len(seeds))
	for i := range results {
		results[i].done = make(chan struct{})
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(o.sweepWorkers(), len(seeds)) {
		wg.Go(func() {
			for i := range next {
				results[i].line, results[i].wall = sweepSeed(o, seeds[i], enter)
				close(results[i].done)
			}
		})
	}
	go func() {
		defer close(next)
		for i := range seeds {
			select {
			case next <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	start := time.Now()
	var runWall time.Duration
	identical := 0
	for i := range seeds {
		select {
		case <-results[i].done:
		case <-ctx.Done():
			wg.Wait() // what was started finishes; nothing new starts
			select {
			case <-results[i].done:
			default:
				sum.Interrupted = true
			}
		}
		if sum.Interrupted {
			break
		}
		line := results[i].line
		runWall += results[i].wall
		sum.Seeds++
		sum.VirtualMs += line.VirtualMs
		switch {
		case line.Error != "":
			sum.Errors++
			sum.Failing = append(sum.Failing, line.Seed)
		case line.Verdict == string(invariants.Pass):
			sum.Pass++
		case line.Verdict == string(invariants.Fail):
			sum.Fail++
			sum.Failing = append(sum.Failing, line.Seed)
		default:
			sum.Unknown++
			sum.Failing = append(sum.Failing, line.Seed)
		}
		if line.Identical != nil && *line.Identical {
			identical++
		} else if line.Identical != nil && line.Error == "" {
			sum.Failing = append(sum.Failing, line.Seed)
		}
		progress.clear()
		printSeedLine(stdout, o, line)
		progress.show(sum.Seeds, len(seeds), len(sum.Failing))
	}
	wg.Wait()
	if ctx.Err() != nil && sum.Seeds < len(seeds) {
		sum.Interrupted = true
	}
	progress.clear()
	if o.checkDeterminism {
		sum.Identical = &identical
	}
	elapsed := time.Since(start)
	sum.WallMs = float64(elapsed.Microseconds()) / 1000
	sum.ExitCode = sweepExitCode(sum, identical, o.checkDeterminism)
	printSummary(stdout, o, sum, elapsed, runWall)
	return sum.ExitCode
}

// sweepSeed runs one seed (twice with -check-determinism).
func sweepSeed(o options, seed uint64, enter bubble.Enter) (seedLine, time.Duration) {
	out := runSeed(o, seed, enter)
	wall := out.wall
	line := seedLine{Seed: seed, WallMs: float64(out.wall.Microseconds()) / 1000, Replay: o.replayCommand(seed)}
	if out.err != nil {
		line.Error = out.err.Error()
		return line, wall
	}
	defer func() {
		if line.Verdict == string(invariants.Pass) && line.Difference == "" {
			line.Replay = "" // said once per failing seed, not for every pass
		}
	}()
	res := out.res
	line.Verdict, line.Kinds, line.Hash = string(res.Verdict()), res.Report.Kinds(), res.Hash
	line.Crashes, line.Committed, line.Aborted = res.Stats.Crashes, res.Stats.Committed, res.Stats.Aborted
	line.VirtualMs = res.Stats.Virtual.Milliseconds()
	if o.checkDeterminism {
		again := runSeed(o, seed, enter)
		wall += again.wall
		same := again.err == nil && again.res.Hash == res.Hash
		line.Identical = &same
		if !same {
			line.Difference = "the second run failed"
			if again.err == nil {
				i, a, b := history.FirstDifference(res.History, again.res.History)
				line.Difference = fmt.Sprintf("histories differ at event %d:\n    %.300s\n    %.300s", i, a, b)
			}
		}
	}
	return line, wall
}

func printSeedLine(w io.Writer, o options, l seedLine) {
	if o.jsonOutput {
		writeJSONLine(w, l)
		return
	}
	if l.Error != "" {
		fmt.Fprintf(w, "seed %d: error: %s\n", l.Seed, l.Error)
		return
	}
	s := fmt.Sprintf("seed %d: %s, %d crashes, %d units committed, hash %.12s, %.0fms",
		l.Seed, l.Verdict, l.Crashes, l.Committed, l.Hash, l.WallMs)
	if len(l.Kinds) > 0 {
		s += " — " + strings.Join(l.Kinds, ", ")
	}
	switch {
	case l.Identical == nil:
	case *l.Identical:
		s += " — identical twice"
	default:
		s += " — NONDETERMINISTIC: " + l.Difference
	}
	fmt.Fprintln(w, s)
}

// printSummary prints the totals; elapsed is the sweep's wall time, runWall
// its runs' added up (more than elapsed when runs overlap).
func printSummary(w io.Writer, o options, sum sweepSummary, elapsed, runWall time.Duration) {
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
	fmt.Fprintf(w, "%d seeds (%d-%d%s), %s: %d pass, %d anomalies, %d unknown, %d errors\n",
		sum.Seeds, sum.First, sum.Last, slice, sum.Guarantee, sum.Pass, sum.Fail, sum.Unknown, sum.Errors)
	if sum.Identical != nil {
		fmt.Fprintf(w, "determinism: %d/%d identical\n", *sum.Identical, sum.Seeds)
	}
	runs := max(sum.Seeds, 1)
	if o.checkDeterminism {
		runs *= 2
	}
	virtual := time.Duration(sum.VirtualMs) * time.Millisecond
	if o.checkDeterminism {
		virtual *= 2
	}
	fmt.Fprintf(w, "wall time %v (%v per run, %d at once), virtual time %v, %.0f virtual seconds per wall second\n",
		elapsed.Round(time.Millisecond), (runWall / time.Duration(runs)).Round(time.Millisecond), o.sweepWorkers(),
		virtual.Round(time.Second), virtual.Seconds()/max(elapsed.Seconds(), 1e-9))
	for i, seed := range sum.Failing {
		if i == 10 {
			fmt.Fprintf(w, "… and %d more failing seeds\n", len(sum.Failing)-i)
			break
		}
		fmt.Fprintf(w, "replay: %s\n", o.replayCommand(seed))
	}
}

func sweepExitCode(sum sweepSummary, identical int, determinism bool) int {
	switch {
	case sum.Fail > 0 || (determinism && identical < sum.Seeds-sum.Errors):
		// Nondeterminism is a failure of the simulator's own promise.
		return exitAnomaly
	case sum.Interrupted:
		return exitInterrupted
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
	info, err := f.Stat()
	if err != nil || info.Mode()&os.ModeCharDevice == 0 {
		return &progressBar{}
	}
	return &progressBar{w: f}
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
