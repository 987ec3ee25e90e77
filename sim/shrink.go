package sim

import (
	"slices"

	"github.com/eosim/eosim/faults"
)

// Runner runs one config to its Result. Shrinking calls it many times; each
// call must run in a fresh synctest bubble.
type Runner func(Config) (Result, error)

// ShrinkStats says what shrinking cost.
type ShrinkStats struct {
	// Runs is the number of runs tried; Kept those that still failed.
	Runs, Kept int
}

// Shrink looks for a smaller config that still fails with an anomaly of
// kind: fewer fired faults, fewer faults, fewer orders, fewer instances and
// partitions, earlier steps, shorter downtimes. It is greedy and
// deterministic: it tries one reduction at a time, keeps it if the run
// still fails that way, and stops when a whole pass changes nothing or
// after budget runs.
//
// Greedy shrinking stops at a local minimum that depends on the order it
// tries reductions in. So it descends from the failing run dropping halves
// of the schedule before single faults (fast on long schedules), and when
// that ends with more than two fired faults, descends again with the budget
// left, single faults only, and keeps the smaller of the two results, in
// fired faults first. Last, it drops every fault that did not fire in that
// run (Result.Faults), if the run still fails without them. (Trying that
// drop first, on every pass, leads the descent elsewhere: restore_to_lso's
// first swarm catch, seed 3, then ends with three faults instead of two
// within the scoreboard's 120 runs.)
func Shrink(cfg Config, kind string, run Runner, budget int) (Config, Result, ShrinkStats, error) {
	var st ShrinkStats
	first, err := run(cfg)
	if err != nil {
		return cfg, Result{}, st, err
	}
	st.Runs++
	// Shrinking edits the run as it was: its schedule, generated or not,
	// and what swarm mode picked for it.
	cfg = first.Config
	cfg.Swarm, cfg.SwarmStyle, cfg.Focus = false, "", nil
	sched := first.Schedule
	cfg.Schedule = &sched
	stillFails := func(c Config) (Result, bool, error) {
		if st.Runs >= budget {
			return Result{}, false, nil
		}
		st.Runs++
		res, err := run(c)
		if err != nil {
			return Result{}, false, err
		}
		return res, slices.Contains(res.Report.Kinds(), kind), nil
	}
	descend := func(cfg Config, best Result, halves bool) (Config, Result, error) {
		for changed := true; changed && st.Runs < budget; {
			changed = false
			for _, c := range candidates(cfg, halves) {
				if c.Validate() != nil {
					// A reduction can strand a fault (a join of a
					// spare that fewer instances no longer have).
					continue
				}
				res, ok, err := stillFails(c)
				if err != nil {
					return cfg, best, err
				}
				if ok {
					cfg, best, changed = c, res, true
					st.Kept++
					break
				}
			}
		}
		return cfg, best, nil
	}
	bestCfg, best, err := descend(cfg, first, true)
	if err == nil && firedCount(bestCfg, best) > 2 && len(cfg.Schedule.Faults) > 3 {
		// Not yet small enough to read; with halves to drop, a second
		// descent would not repeat the first.
		var otherCfg Config
		var other Result
		otherCfg, other, err = descend(cfg, first, false)
		if err == nil && smaller(otherCfg, other, bestCfg, best) {
			bestCfg, best = otherCfg, other
		}
	}
	if err != nil {
		return bestCfg, best, st, err
	}
	if c, ok := withoutIdleFaults(bestCfg, best); ok {
		res, fails, err := stillFails(c)
		if err != nil {
			return bestCfg, best, st, err
		}
		if fails {
			bestCfg, best = c, res
			st.Kept++
		}
	}
	return bestCfg, best, st, nil
}

// withoutIdleFaults returns cfg without the faults that did not fire in
// res, and whether there were any.
func withoutIdleFaults(cfg Config, res Result) (Config, bool) {
	struck := fired(cfg, res)
	if !slices.Contains(struck, false) {
		return cfg, false
	}
	kept := []faults.Fault{}
	for i, f := range cfg.Schedule.Faults {
		if struck[i] {
			kept = append(kept, f)
		}
	}
	cfg.Schedule = &faults.Schedule{Faults: kept}
	return cfg, true
}

// smaller says whether run a (its config and result) is smaller than b:
// fewer fired faults, then fewer faults, then fewer orders.
func smaller(a Config, ra Result, b Config, rb Result) bool {
	if fa, fb := firedCount(a, ra), firedCount(b, rb); fa != fb {
		return fa < fb
	}
	if fa, fb := len(a.Schedule.Faults), len(b.Schedule.Faults); fa != fb {
		return fa < fb
	}
	return a.Inputs < b.Inputs
}

// fired says, for each fault of cfg's schedule, whether it fired in res;
// a result that does not say (its Faults do not match the schedule)
// counts every fault as fired.
func fired(cfg Config, res Result) []bool {
	fs := cfg.Schedule.Faults
	out := make([]bool, len(fs))
	for i := range fs {
		out[i] = len(res.Faults) != len(fs) || res.Faults[i].Outcome == Fired
	}
	return out
}

func firedCount(cfg Config, res Result) int {
	n := 0
	for _, f := range fired(cfg, res) {
		if f {
			n++
		}
	}
	return n
}

// candidates lists one-step reductions of cfg, biggest first: dropping
// half the faults (with halves; as delta debugging does, so that a long
// schedule with one guilty fault shrinks in a logarithmic number of runs),
// then one fault, then the workload, then the faults' details.
func candidates(cfg Config, halves bool) []Config {
	var cs []Config
	fs := cfg.Schedule.Faults
	with := func(f func(c *Config, fs []faults.Fault) []faults.Fault) {
		c := cfg
		nf := f(&c, slices.Clone(fs))
		if nf == nil {
			nf = []faults.Fault{}
		}
		c.Schedule = &faults.Schedule{Faults: nf}
		cs = append(cs, c)
	}
	if n := len(fs); halves && n > 3 {
		with(func(_ *Config, fs []faults.Fault) []faults.Fault { return fs[:n/2] })
		with(func(_ *Config, fs []faults.Fault) []faults.Fault { return fs[n/2:] })
	}
	for i := range fs {
		with(func(_ *Config, fs []faults.Fault) []faults.Fault { return slices.Delete(fs, i, i+1) })
	}
	if cfg.Inputs > 1 {
		with(func(c *Config, fs []faults.Fault) []faults.Fault { c.Inputs /= 2; return fs })
	}
	if cfg.Instances > 1 {
		last := cfg.InstanceNames()[cfg.Instances-1]
		with(func(c *Config, fs []faults.Fault) []faults.Fault {
			c.Instances--
			return slices.DeleteFunc(fs, func(f faults.Fault) bool { return f.Instance == last })
		})
	}
	if cfg.Partitions > 1 {
		with(func(c *Config, fs []faults.Fault) []faults.Fault { c.Partitions /= 2; return fs })
	}
	for i, f := range fs {
		earlier := f.Step / 2
		if i > 0 {
			earlier = max(earlier, fs[i-1].Step) // the schedule stays sorted
		}
		if earlier < f.Step {
			with(func(_ *Config, fs []faults.Fault) []faults.Fault { fs[i].Step = earlier; return fs })
		}
		if f.RestartAfter > 1 {
			with(func(_ *Config, fs []faults.Fault) []faults.Fault { fs[i].RestartAfter = 1; return fs })
		}
		if f.Index > 0 {
			with(func(_ *Config, fs []faults.Fault) []faults.Fault { fs[i].Index = 0; return fs })
		}
	}
	return cs
}
