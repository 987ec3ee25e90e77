// Package scoreboard measures what eosim is worth: it runs every
// processing guarantee of a scenario (its correct one as the control:
// exactly_once_v2 for orders, db_positions_fenced for orders-db; then the
// weaker modes and the mistake modes) over one fixed range of seeds with
// the same faults, and reports, per mode, how often and how fast the
// checkers catch it and how small a schedule still shows it. A mode that
// keeps exactly-once (engine.Guarantee.KeepsExactlyOnce) must never be
// caught: any detection of one is a false alarm.
//
// Every row runs under one recovery style (Base.Recovery: restart unless
// the caller picks continue), and the control runs a second time under the
// other, as the row after it: both ways to recover from a failed commit
// must keep exactly-once (a scenario with a database, whose instances
// always restart, has no such row).
//
// It owns the measuring and the table; sim runs each seed, and the caller
// says how (each run needs its own synctest bubble).
package scoreboard

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/eosim/eosim/engine"
	"github.com/eosim/eosim/internal/pool"
	"github.com/eosim/eosim/invariants"
	"github.com/eosim/eosim/scenarios"
	"github.com/eosim/eosim/sim"
)

// Config is what a scoreboard runs.
type Config struct {
	// Base is the run every seed starts from (scenario, faults, swarm);
	// its Seed and Guarantee are set per run.
	Base sim.Config
	// Modes are the guarantees to score; the first is the control. Each
	// must be one the scenario runs under; empty scores them all
	// (ModesFor).
	Modes []engine.Guarantee
	// First and Last bound the seed range, inclusive.
	First, Last uint64
	// ShrinkRuns bounds the runs spent shrinking each mode's first
	// detection; 0 skips shrinking.
	ShrinkRuns int
	// Workers is how many runs go at once (each is deterministic on its
	// own, so the table does not depend on it); 0 means GOMAXPROCS.
	Workers int
}

// DefaultConfig scores every guarantee of the default scenario over seeds
// 1-200 in swarm mode (each seed picks its fault families, so the range
// covers them all). For another scenario, set Base.Scenario and Modes
// (ModesFor), and Base.Guarantee to the control if Base is validated.
func DefaultConfig() Config {
	base := sim.DefaultConfig()
	base.Swarm = true
	modes, err := ModesFor(base.Scenario)
	if err != nil {
		panic(err) // the default scenario is always registered
	}
	return Config{Base: base, Modes: modes, First: 1, Last: 200, ShrinkRuns: 120}
}

// ModesFor returns the guarantees a scoreboard of scenario scores: every one
// the scenario runs under, its first, which keeps exactly-once, the
// control.
func ModesFor(scenario string) ([]engine.Guarantee, error) {
	sc, err := scenarios.Lookup(scenario)
	if err != nil {
		return nil, fmt.Errorf("scoreboard: %w", err)
	}
	gs := sc.Guarantees()
	if len(gs) == 0 || !gs[0].KeepsExactlyOnce() {
		return nil, fmt.Errorf("scoreboard: scenario %s has no guarantee that keeps exactly-once to be the control", scenario)
	}
	return gs, nil
}

// PickModes returns the control of scenario (its first guarantee) followed
// by the guarantees named, each once, in the order given: the rows of a
// scoreboard narrowed to a few modes. A name the scenario does not run
// under is an error.
func PickModes(scenario string, names []string) ([]engine.Guarantee, error) {
	all, err := ModesFor(scenario)
	if err != nil {
		return nil, err
	}
	modes := all[:1:1]
	for _, name := range names {
		g, err := engine.ParseGuarantee(name)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(all, g) {
			return nil, fmt.Errorf("scenario %s does not run under guarantee %s (want one of %s)", scenario, g, joinModes(all))
		}
		if !slices.Contains(modes, g) {
			modes = append(modes, g)
		}
	}
	return modes, nil
}

func joinModes(gs []engine.Guarantee) string {
	names := make([]string, len(gs))
	for i, g := range gs {
		names[i] = string(g)
	}
	return strings.Join(names, ", ")
}

// Row is one mode's score.
type Row struct {
	Mode    string `json:"mode"`
	Control bool   `json:"control,omitempty"`
	// Recovery is set on the control's second row: the recovery style it
	// ran under, the other one than the table's.
	Recovery string `json:"recovery,omitempty"`
	// ExactlyOnce says the mode keeps exactly-once (the control; modes
	// like fresh_txn_id that KIP-447 makes safe; db_idempotent beside
	// db_positions_fenced): any detection is a false alarm.
	ExactlyOnce bool `json:"exactly_once"`
	Seeds       int  `json:"seeds"`
	// Detected counts the seeds whose verdict was fail; Unknown those that
	// neither passed nor failed (an incomplete run); Stuck those that never
	// ended (a wait past its limit, or the caller's wall-time limit): not
	// judged, so neither a detection nor a pass; Errors those that did not
	// run.
	Detected int     `json:"detected"`
	Unknown  int     `json:"unknown"`
	Stuck    int     `json:"stuck"`
	Errors   int     `json:"errors"`
	Rate     float64 `json:"detection_rate"`
	// FirstSeed is the first seed that caught the mode (0: none).
	FirstSeed uint64 `json:"first_seed,omitempty"`
	// MedianSeedsToDetection is the median, over every starting seed of
	// the range, of the number of seeds run until one catches the mode
	// (that seed included; see MedianSeedsToDetection); 0 when none did.
	MedianSeedsToDetection int `json:"median_seeds_to_detection"`
	// WallToFirstMs is the wall time of the mode's runs from the range's
	// first seed up to the first detecting one, included: what a sweep
	// takes to catch it.
	WallToFirstMs float64 `json:"wall_to_first_detection_ms"`
	// Kinds counts the anomalies found over the range, by kind.
	Kinds map[string]int `json:"anomaly_kinds,omitempty"`
	// MinimalFaults is the number of faults that fired in the first
	// detection's run once shrunk (keeping its first anomaly's kind),
	// MinimalPlanFaults the faults of its plan (those that fired and any
	// the shrinker could not drop), and MinimalPlan that plan; -1 when
	// nothing was shrunk.
	MinimalFaults     int       `json:"minimal_faults"`
	MinimalPlanFaults int       `json:"minimal_plan_faults"`
	MinimalKind       string    `json:"minimal_kind,omitempty"`
	MinimalPlan       *sim.Plan `json:"minimal_plan,omitempty"`
	ShrinkRuns        int       `json:"shrink_runs,omitempty"`
	// RunsMs is the wall time of the mode's runs, added up; ShrinkMs that
	// of shrinking.
	RunsMs   float64 `json:"runs_ms"`
	ShrinkMs float64 `json:"shrink_ms,omitempty"`
}

// Table is a scoreboard: one row per mode, the control first.
type Table struct {
	// Scenario is the workload every run used.
	Scenario string `json:"scenario"`
	First    uint64 `json:"first_seed"`
	Last     uint64 `json:"last_seed"`
	Swarm    bool   `json:"swarm"`
	// SwarmStyle is swarm's style when it is cells or reactions (empty: families).
	SwarmStyle string `json:"swarm_style,omitempty"`
	// Recovery is the recovery style of every row but the control's
	// second (Row.Recovery).
	Recovery string  `json:"recovery"`
	Rows     []Row   `json:"rows"`
	WallMs   float64 `json:"wall_ms"`
}

// Progress hears about each run as it ends (one call at a time).
type Progress func(mode engine.Guarantee, seed uint64, res sim.Result)

// outcome is what the table keeps of one run: not its Result, whose
// History and topics would add up to gigabytes over a scoreboard.
type outcome struct {
	cfg     sim.Config
	verdict invariants.Verdict
	kinds   []string // one per anomaly, in report order
	err     error
	wall    time.Duration
	ran     bool
}

// Run scores every mode of cfg; run runs one config in a fresh bubble and
// may be called from several goroutines at once. ctx ending stops it
// between two runs with what finished; a run that returns
// sim.ErrInterrupted did not finish and is left out.
func Run(ctx context.Context, cfg Config, run sim.Runner, progress Progress) (Table, error) {
	if cfg.Last < cfg.First {
		return Table{}, fmt.Errorf("scoreboard: seed range %d-%d is empty", cfg.First, cfg.Last)
	}
	all, err := ModesFor(cfg.Base.Scenario)
	if err != nil {
		return Table{}, err
	}
	if len(cfg.Modes) == 0 {
		cfg.Modes = all
	}
	for _, m := range cfg.Modes {
		if !slices.Contains(all, m) {
			return Table{}, fmt.Errorf("scoreboard: scenario %s does not run under guarantee %s (want one of %s)", cfg.Base.Scenario, m, joinModes(all))
		}
	}
	start := time.Now()
	seeds := int(cfg.Last-cfg.First) + 1
	specs := rowSpecs(cfg)
	outcomes := make([][]outcome, len(specs))
	var jobs []func()
	var progressMu sync.Mutex
	for m, spec := range specs {
		mode := spec.mode
		outcomes[m] = make([]outcome, seeds)
		for i := range seeds {
			jobs = append(jobs, func() {
				c := cfg.Base
				c.Seed, c.Guarantee = cfg.First+uint64(i), mode
				c.Recovery, c.FixedRecovery = spec.recovery, true
				began := time.Now()
				res, err := run(c)
				if errors.Is(err, sim.ErrInterrupted) {
					return // not finished: the table covers what finished
				}
				o := outcome{cfg: c, verdict: res.Verdict(), err: err, wall: time.Since(began), ran: true}
				for _, a := range res.Report.Anomalies {
					o.kinds = append(o.kinds, a.Kind)
				}
				outcomes[m][i] = o
				if progress != nil {
					progressMu.Lock()
					progress(mode, c.Seed, res)
					progressMu.Unlock()
				}
			})
		}
	}
	pool.Run(ctx, cfg.Workers, len(jobs), func(i int) { jobs[i]() })

	t := Table{Scenario: cfg.Base.Scenario, First: cfg.First, Last: cfg.Last, Swarm: cfg.Base.Swarm, Recovery: cfg.Base.Recovery.String()}
	if cfg.Base.Swarm && cfg.Base.SwarmStyle.PicksFocus() {
		t.SwarmStyle = string(cfg.Base.SwarmStyle)
	}
	for m, spec := range specs {
		row := tally(spec.mode, outcomes[m])
		row.Control = spec.control
		if spec.recovery != cfg.Base.Recovery {
			row.Recovery = spec.recovery.String()
		}
		t.Rows = append(t.Rows, row)
	}
	if cfg.ShrinkRuns > 0 {
		errs := make([]error, len(t.Rows))
		var shrinks []func()
		for m := range t.Rows {
			r := &t.Rows[m]
			if r.FirstSeed == 0 {
				continue
			}
			first := outcomes[m][r.FirstSeed-cfg.First]
			if len(first.kinds) == 0 {
				continue // a fail verdict always names its anomalies; be safe
			}
			shrinks = append(shrinks, func() { errs[m] = shrinkFirst(r, first, cfg.ShrinkRuns, run) })
		}
		pool.Run(ctx, cfg.Workers, len(shrinks), func(i int) { shrinks[i]() })
		if err := errors.Join(errs...); err != nil {
			return t, err
		}
	}
	t.WallMs = ms(time.Since(start))
	return t, ctx.Err()
}

// rowSpec is what one row runs: a mode under a recovery style.
type rowSpec struct {
	mode     engine.Guarantee
	recovery engine.Recovery
	control  bool
}

// rowSpecs are the table's rows: every mode under the base's recovery
// style, the control second again under the other style (for a scenario
// without a database: one with a database always restarts).
func rowSpecs(cfg Config) []rowSpec {
	var specs []rowSpec
	for m, mode := range cfg.Modes {
		specs = append(specs, rowSpec{mode: mode, recovery: cfg.Base.Recovery, control: m == 0})
		if m > 0 || hasDatabase(cfg.Base.Scenario) {
			continue
		}
		other := engine.RecoveryContinue
		if cfg.Base.Recovery == engine.RecoveryContinue {
			other = engine.RecoveryRestart
		}
		specs = append(specs, rowSpec{mode: mode, recovery: other, control: true})
	}
	return specs
}

// hasDatabase says whether scenario's topology writes to a database.
func hasDatabase(scenario string) bool {
	sc, err := scenarios.Lookup(scenario)
	return err == nil && sc.Topology(scenarios.Params{}).Database != nil
}

// tally makes a mode's row from its runs, in seed order.
func tally(mode engine.Guarantee, outs []outcome) Row {
	row := Row{Mode: string(mode), ExactlyOnce: mode.KeepsExactlyOnce(), MinimalFaults: -1, MinimalPlanFaults: -1, Kinds: map[string]int{}}
	detected := make([]bool, 0, len(outs))
	var wall time.Duration
	for _, o := range outs {
		if !o.ran {
			break // interrupted
		}
		row.Seeds++
		wall += o.wall
		hit := false
		switch {
		case o.err != nil:
			row.Errors++
		case o.verdict == invariants.Fail:
			hit = true
			row.Detected++
			for _, k := range o.kinds {
				row.Kinds[k]++
			}
			if row.FirstSeed == 0 {
				row.FirstSeed, row.WallToFirstMs = o.cfg.Seed, ms(wall)
			}
		case o.verdict == invariants.Unknown:
			row.Unknown++
		case o.verdict == invariants.Stuck:
			row.Stuck++
		}
		detected = append(detected, hit)
	}
	if row.Seeds > 0 {
		row.Rate = float64(row.Detected) / float64(row.Seeds)
	}
	row.MedianSeedsToDetection = MedianSeedsToDetection(detected)
	row.RunsMs = ms(wall)
	if len(row.Kinds) == 0 {
		row.Kinds = nil
	}
	return row
}

// shrinkFirst shrinks the row's first detection, keeping its first
// anomaly's kind.
func shrinkFirst(r *Row, first outcome, budget int, run sim.Runner) error {
	began := time.Now()
	kind := first.kinds[0]
	shrunk, res, st, err := sim.Shrink(first.cfg, kind, run, budget)
	if err != nil {
		return fmt.Errorf("scoreboard: shrinking %s seed %d: %w", r.Mode, r.FirstSeed, err)
	}
	plan := sim.PlanOf(shrunk, *shrunk.Schedule, &res)
	r.MinimalFaults, r.MinimalPlanFaults = res.FaultCounts().Fired, len(shrunk.Schedule.Faults)
	r.MinimalKind, r.MinimalPlan, r.ShrinkRuns = kind, &plan, st.Runs
	r.ShrinkMs = ms(time.Since(began))
	return nil
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

// FalseAlarms counts the seeds that caught a mode that keeps exactly-once:
// each is a checker, or the simulator, wrong. Zero for any other mode,
// whose detections are catches.
func (r Row) FalseAlarms() int {
	if !r.ExactlyOnce {
		return 0
	}
	return r.Detected
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
