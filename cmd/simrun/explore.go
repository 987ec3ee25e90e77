package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/eosim/eosim/coverage"
	"github.com/eosim/eosim/faults"
	"github.com/eosim/eosim/internal/bubble"
	"github.com/eosim/eosim/internal/pool"
	"github.com/eosim/eosim/scenarios"
	"github.com/eosim/eosim/sim"
)

// Exploration's rounds: exploreRound seeds each, each seed focused on
// exploreCells cells. Fixed, so that which seed runs which focus does not
// depend on -workers.
const (
	exploreRound = 8
	exploreCells = 3
)

// explore is the sweep of -explore: it runs the seeds in rounds, and before
// each round it maps what the earlier rounds reached (coverage) and
// focuses each of the round's runs on a few cells of the scenario's fault
// space not yet reached (that nothing known keeps from firing), the cells
// left taken in turn; once every such cell is reached, it runs under
// swarm. Each seed's
// line and replay command carry its focus, so every run replays alone.
// The coverage map ends the output.
func explore(ctx context.Context, o options, enter bubble.Enter, stdout io.Writer, progress *progressBar) int {
	o.workers = pool.Size(o.workers)
	o.coverage = true
	seeds := o.sweepSeeds()
	sum := sweepSummary{First: o.firstSeed, Last: o.lastSeed, Guarantee: string(o.cfg.Guarantee)}
	if o.cfg.Scenario != sim.DefaultConfig().Scenario {
		sum.Scenario = o.cfg.Scenario
	}
	if o.shards > 0 {
		sum.Shard = fmt.Sprintf("%d/%d", o.shard, o.shards)
	}
	withDB := false
	if sc, err := scenarios.Lookup(o.cfg.Scenario); err == nil {
		withDB = sc.Topology(scenarios.Params{}).Database != nil
	}
	space := coverage.Space(withDB, o.cfg.Guarantee)
	if o.exploreWide {
		space = coverage.WideSpace(withDB)
	}
	var reachable []coverage.Cell
	for _, c := range space {
		if coverage.Unreachable(c, o.cfg.Guarantee) == "" {
			reachable = append(reachable, c)
		}
	}
	start := time.Now()
	var runWall time.Duration
	next := 0 // where the next round's focus starts in the cells left
	for lo := 0; lo < len(seeds) && ctx.Err() == nil; lo += exploreRound {
		round := seeds[lo:min(lo+exploreRound, len(seeds))]
		// Each seed of the round its own cells, picked before any runs.
		opts := make([]options, len(round))
		for i := range round {
			opts[i] = o
			opts[i].cfg.Focus = focusOf(reachable, sum.cells, &next)
		}
		lines := make([]seedLine, len(round))
		walls := make([]time.Duration, len(round))
		done := make([]bool, len(round))
		pool.Run(ctx, o.workers, len(round), func(i int) {
			out := runSeed(ctx, opts[i], round[i], enter)
			var interrupted bool
			lines[i], walls[i], interrupted = judgeSeed(opts[i], round[i], []outcome{out}, nil)
			done[i] = !interrupted
		})
		for i := range round {
			if !done[i] {
				sum.Interrupted = true
				break
			}
			runWall += walls[i]
			sum.add(opts[i], lines[i])
			progress.clear()
			printSeedLine(stdout, opts[i], lines[i])
			progress.show(sum.Seeds, len(seeds), len(sum.Failing))
		}
	}
	progress.clear()
	r := o.coverageOf(sum.cells)
	sum.Coverage = &r
	elapsed := time.Since(start)
	sum.WallMs = float64(elapsed.Microseconds()) / 1000
	sum.ExitCode = sweepExitCode(sum)
	printSummary(stdout, o, sum, elapsed, runWall, []int{0})
	return sum.ExitCode
}

// focusOf picks the next seed's focus: up to exploreCells of the reachable
// cells no fault has fired in yet, starting at *next and wrapping round,
// so that seeds take the cells left in turn, and beside each the cell it
// needs to find its request at all (faults.CompanionOf). None left: no
// focus (swarm).
func focusOf(reachable []coverage.Cell, reached coverage.Map, next *int) []string {
	var left []coverage.Cell
	for _, c := range reachable {
		if n := reached[c]; n == nil || n.Fired == 0 {
			left = append(left, c)
		}
	}
	if len(left) == 0 {
		return nil
	}
	var focus []string
	for i := range min(exploreCells, len(left)) {
		focus = append(focus, string(left[(*next+i)%len(left)]))
	}
	*next = (*next + exploreCells) % len(left)
	// A cell whose request is sent only at a start or an assignment
	// brings shutdowns, so that there are starts to aim at; an epoch
	// check brings leader moves (faults.CompanionOf, as -swarm=cells).
	for _, c := range focus {
		if companion := faults.CompanionOf(c); companion != "" {
			focus = append(focus, companion)
		}
	}
	slices.Sort(focus)
	return slices.Compact(focus)
}
