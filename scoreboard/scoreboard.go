// Package scoreboard measures what eosim is worth: it runs every
// processing guarantee (the correct exactly_once_v2 as the control, the
// weaker modes and the mistake modes) over one fixed range of seeds with
// the same faults, and reports, per mode, how often and how fast the
// checkers catch it and how small a schedule still shows it.
//
// It owns the measuring and the table; sim runs each seed, and the caller
// says how (each run needs its own synctest bubble).
package scoreboard

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/eosim/eosim/engine"
	"github.com/eosim/eosim/invariants"
	"github.com/eosim/eosim/sim"
)

// Config is what a scoreboard runs.
type Config struct {
	// Base is the run every seed starts from (scenario, faults, swarm);
	// its Seed and Guarantee are set per run.
	Base sim.Config
	// Modes are the guarantees to score; the first is the control.
	Modes []engine.Guarantee
	// First and Last bound the seed range, inclusive.
	First, Last uint64
	// ShrinkRuns bounds the runs spent shrinking each mode's first
	// detection; 0 skips shrinking.
	ShrinkRuns int
}

// DefaultConfig scores every guarantee over seeds 1-200 in swarm mode
// (each seed picks its fault families, so the range covers them all).
func DefaultConfig() Config {
	base := sim.DefaultConfig()
	base.Swarm = true
	return Config{Base: base, Modes: engine.Guarantees(), First: 1, Last: 200, ShrinkRuns: 120}
}

// Row is one mode's score.
type Row struct {
	Mode    string `json:"mode"`
	Control bool   `json:"control,omitempty"`
	// ExactlyOnce says the mode keeps exactly-once (the control, and
	// modes like fresh_txn_id that KIP-447 makes safe): any detection is
	// a false alarm.
	ExactlyOnce bool `json:"exactly_once"`
	Seeds       int  `json:"seeds"`
	// Detected counts the seeds whose verdict was fail; Unknown those that
	// neither passed nor failed (an incomplete run); Errors those that did
	// not run.
	Detected int     `json:"detected"`
	Unknown  int     `json:"unknown"`
	Errors   int     `json:"errors"`
	Rate     float64 `json:"detection_rate"`
	// FirstSeed is the first seed that caught the mode (0: none).
	FirstSeed uint64 `json:"first_seed,omitempty"`
	// MedianSeedsToDetection is the median, over every starting seed of
	// the range, of the number of seeds run until one catches the mode
	// (that seed included; see MedianSeedsToDetection); 0 when none did.
	MedianSeedsToDetection int `json:"median_seeds_to_detection"`
	// WallToFirstMs is the wall time from the range's first seed to the
	// end of the first detecting run.
	WallToFirstMs float64 `json:"wall_to_first_detection_ms"`
	// Kinds counts the anomalies found over the range, by kind.
	Kinds map[string]int `json:"anomaly_kinds,omitempty"`
	// MinimalFaults is the number of faults of the first detection's
	// schedule once shrunk (keeping its first anomaly's kind), and
	// MinimalPlan that schedule; -1 when nothing was shrunk.
	MinimalFaults int       `json:"minimal_faults"`
	MinimalKind   string    `json:"minimal_kind,omitempty"`
	MinimalPlan   *sim.Plan `json:"minimal_plan,omitempty"`
	ShrinkRuns    int       `json:"shrink_runs,omitempty"`
	WallMs        float64   `json:"wall_ms"`
}

// Table is a scoreboard: one row per mode, the control first.
type Table struct {
	First  uint64  `json:"first_seed"`
	Last   uint64  `json:"last_seed"`
	Swarm  bool    `json:"swarm"`
	Rows   []Row   `json:"rows"`
	WallMs float64 `json:"wall_ms"`
}

// Progress hears about each run as it ends.
type Progress func(mode engine.Guarantee, seed uint64, res sim.Result)

// Run scores every mode of cfg; run runs one config in a fresh bubble.
// ctx ending stops it between two runs with what finished.
func Run(ctx context.Context, cfg Config, run sim.Runner, progress Progress) (Table, error) {
	if cfg.Last < cfg.First {
		return Table{}, fmt.Errorf("scoreboard: seed range %d-%d is empty", cfg.First, cfg.Last)
	}
	if len(cfg.Modes) == 0 {
		return Table{}, fmt.Errorf("scoreboard: no modes to score")
	}
	start := time.Now()
	t := Table{First: cfg.First, Last: cfg.Last, Swarm: cfg.Base.Swarm}
	for i, mode := range cfg.Modes {
		row, err := score(ctx, cfg, mode, run, progress)
		if err != nil {
			return t, err
		}
		row.Control = i == 0
		t.Rows = append(t.Rows, row)
		if ctx.Err() != nil {
			break
		}
	}
	t.WallMs = ms(time.Since(start))
	return t, ctx.Err()
}

// score runs one mode over the range, then shrinks its first detection.
func score(ctx context.Context, cfg Config, mode engine.Guarantee, run sim.Runner, progress Progress) (Row, error) {
	row := Row{Mode: string(mode), ExactlyOnce: mode.KeepsExactlyOnce(), MinimalFaults: -1, Kinds: map[string]int{}}
	start := time.Now()
	var detected []bool
	var firstCfg sim.Config
	var firstKind string
	for seed := cfg.First; ; seed++ {
		if ctx.Err() != nil {
			break
		}
		c := cfg.Base
		c.Seed, c.Guarantee = seed, mode
		res, err := run(c)
		row.Seeds++
		hit := false
		switch {
		case err != nil:
			row.Errors++
		case res.Verdict() == invariants.Fail:
			hit = true
			row.Detected++
			for _, a := range res.Report.Anomalies {
				row.Kinds[a.Kind]++
			}
			if row.FirstSeed == 0 {
				row.FirstSeed = seed
				row.WallToFirstMs = ms(time.Since(start))
				firstCfg, firstKind = c, res.Report.Anomalies[0].Kind
			}
		case res.Verdict() == invariants.Unknown:
			row.Unknown++
		}
		detected = append(detected, hit)
		if progress != nil {
			progress(mode, seed, res)
		}
		if seed == cfg.Last {
			break
		}
	}
	row.Rate = float64(row.Detected) / float64(row.Seeds)
	row.MedianSeedsToDetection = MedianSeedsToDetection(detected)
	if row.FirstSeed != 0 && cfg.ShrinkRuns > 0 && ctx.Err() == nil {
		shrunk, res, st, err := sim.Shrink(firstCfg, firstKind, run, cfg.ShrinkRuns)
		if err != nil {
			return row, fmt.Errorf("scoreboard: shrinking %s seed %d: %w", mode, row.FirstSeed, err)
		}
		plan := sim.PlanOf(shrunk, *shrunk.Schedule, &res)
		row.MinimalFaults, row.MinimalKind, row.MinimalPlan, row.ShrinkRuns = len(shrunk.Schedule.Faults), firstKind, &plan, st.Runs
	}
	if len(row.Kinds) == 0 {
		row.Kinds = nil
	}
	row.WallMs = ms(time.Since(start))
	return row, nil
}

// MedianSeedsToDetection takes, for every starting seed of the range, the
// number of seeds run until one detects (that one included), going round
// to the range's start past its end, so that late starts are not cut
// short; it returns their median (the lower middle one), or 0 when nothing
// was detected.
func MedianSeedsToDetection(detected []bool) int {
	n := len(detected)
	first := slices.Index(detected, true)
	if first < 0 {
		return 0
	}
	dist := make([]int, n)
	next := first + n // the nearest detection at or after i, going round
	for i := n - 1; i >= 0; i-- {
		if detected[i] {
			next = i
		}
		dist[i] = next - i + 1
	}
	sort.Ints(dist)
	return dist[(n-1)/2]
}

// KindNames returns the kinds of r, sorted.
func (r Row) KindNames() []string {
	ks := make([]string, 0, len(r.Kinds))
	for k := range r.Kinds {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
