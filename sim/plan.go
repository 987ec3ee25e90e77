package sim

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/eosim/eosim/engine"
	"github.com/eosim/eosim/faults"
	"github.com/eosim/eosim/invariants"
)

// Plan is a run written down: the parameters that shape it, its fault
// schedule and, for a regression, the verdict it must reproduce. A plain
// schedule file ({"faults": [...]}) is a Plan whose other fields are unset:
// they then come from the command line or the defaults.
type Plan struct {
	Seed       *uint64 `json:"seed,omitempty"`
	Scenario   string  `json:"scenario,omitempty"`
	Orders     int     `json:"orders,omitempty"`
	Partitions int     `json:"partitions,omitempty"`
	Instances  int     `json:"instances,omitempty"`
	Brokers    int     `json:"brokers,omitempty"`
	Guarantee  string  `json:"guarantee,omitempty"`
	// TransactionsV1 selects the transaction protocol before KIP-890.
	TransactionsV1 bool `json:"transactions_v1,omitempty"`
	// Recovery is the recovery style (engine.Recovery), empty for a
	// restart.
	Recovery string `json:"recovery,omitempty"`
	// Expect is what replaying the plan must give; empty for a plan that
	// only records a run.
	Expect *Expectation   `json:"expect,omitempty"`
	Faults []faults.Fault `json:"faults"`
}

// Expectation is a plan's recorded verdict: pass, or fail with at least
// these anomaly kinds; and, when recorded, how many of its faults fired.
type Expectation struct {
	Verdict invariants.Verdict `json:"verdict"`
	Kinds   []string           `json:"kinds,omitempty"`
	// Fired is how many of the plan's faults fire. A pass in which the
	// faults that were meant to strike never did proves nothing, and a
	// fault that was meant to stay idle (one waiting for an answer that
	// never comes) must not fire.
	Fired *int `json:"fired,omitempty"`
}

// Check reports how res departs from the expectation.
func (e Expectation) Check(res Result) error {
	if got := res.Verdict(); got != e.Verdict {
		return fmt.Errorf("verdict %s, expected %s (anomalies: %s)", got, e.Verdict, strings.Join(res.Report.Kinds(), ", "))
	}
	if e.Fired != nil && res.FaultCounts().Fired != *e.Fired {
		return fmt.Errorf("%d faults fired, expected %d", res.FaultCounts().Fired, *e.Fired)
	}
	kinds := res.Report.Kinds()
	for _, k := range e.Kinds {
		if !slices.Contains(kinds, k) {
			return fmt.Errorf("no %s anomaly (found: %s)", k, strings.Join(kinds, ", "))
		}
	}
	return nil
}

// PlanOf writes cfg down as a plan, with its schedule and the expectation
// res meets.
func PlanOf(cfg Config, sched faults.Schedule, res *Result) Plan {
	seed := cfg.Seed
	p := Plan{
		Seed: &seed, Scenario: cfg.Scenario, Orders: cfg.Inputs, Partitions: cfg.Partitions,
		Instances: cfg.Instances, Brokers: cfg.Brokers, Guarantee: string(cfg.Guarantee), Faults: sched.Faults,
		TransactionsV1: cfg.TransactionsV1,
	}
	if cfg.Recovery != engine.RecoveryRestart {
		p.Recovery = cfg.Recovery.String()
	}
	if p.Faults == nil {
		p.Faults = []faults.Fault{}
	}
	if res != nil {
		fired := res.FaultCounts().Fired
		p.Expect = &Expectation{Verdict: res.Verdict(), Kinds: res.Report.Kinds(), Fired: &fired}
	}
	return p
}

// MarshalIndent encodes the plan as indented JSON.
func (p Plan) MarshalIndent() []byte { return faults.MarshalIndent(p) }

// ParsePlan decodes a plan or a plain schedule. Unknown fields are errors,
// so a typo never silently drops a fault or a parameter.
func ParsePlan(data []byte) (Plan, error) {
	var p Plan
	if err := faults.UnmarshalStrict(data, &p); err != nil {
		return Plan{}, err
	}
	if p.Guarantee != "" {
		if _, err := engine.ParseGuarantee(p.Guarantee); err != nil {
			return Plan{}, fmt.Errorf("%w: %w", faults.ErrInvalid, err)
		}
	}
	if p.Recovery != "" {
		if _, err := engine.ParseRecovery(p.Recovery); err != nil {
			return Plan{}, fmt.Errorf("%w: %w", faults.ErrInvalid, err)
		}
	}
	if p.Expect != nil {
		switch p.Expect.Verdict {
		case invariants.Pass, invariants.Fail, invariants.Unknown:
		default:
			return Plan{}, fmt.Errorf("%w: expected verdict %q is not pass, fail or unknown", faults.ErrInvalid, p.Expect.Verdict)
		}
		if f := p.Expect.Fired; f != nil && (*f < 0 || *f > len(p.Faults)) {
			return Plan{}, fmt.Errorf("%w: expected %d faults fired, of %d", faults.ErrInvalid, *f, len(p.Faults))
		}
	}
	if err := p.Schedule().Validate(nil); err != nil {
		return Plan{}, err
	}
	return p, nil
}

// Schedule is the plan's fault schedule.
func (p Plan) Schedule() faults.Schedule { return faults.Schedule{Faults: p.Faults} }

// ErrPlanConflict is wrapped by Apply's error when an explicitly given
// parameter disagrees with the plan.
var ErrPlanConflict = errors.New("conflicts with the plan")

// Apply returns cfg with the plan's parameters and schedule. explicit names
// the parameters the caller set on purpose (flag names: seed, scenario,
// orders, partitions, instances, guarantee, recovery); one that disagrees with the
// plan is an error rather than silently overridden.
func (p Plan) Apply(cfg Config, explicit map[string]bool) (Config, error) {
	var errs []error
	set := func(name string, planned, given any, assign func()) {
		if explicit[name] && planned != given {
			errs = append(errs, fmt.Errorf("-%s %v %w (%v)", name, given, ErrPlanConflict, planned))
			return
		}
		assign()
	}
	if p.Seed != nil {
		set("seed", *p.Seed, cfg.Seed, func() { cfg.Seed = *p.Seed })
	}
	if p.Scenario != "" {
		set("scenario", p.Scenario, cfg.Scenario, func() { cfg.Scenario = p.Scenario })
	}
	if p.Orders != 0 {
		set("orders", p.Orders, cfg.Inputs, func() { cfg.Inputs = p.Orders })
	}
	if p.Partitions != 0 {
		set("partitions", p.Partitions, cfg.Partitions, func() { cfg.Partitions = p.Partitions })
	}
	if p.Instances != 0 {
		set("instances", p.Instances, cfg.Instances, func() { cfg.Instances = p.Instances })
	}
	if p.Brokers != 0 {
		set("brokers", p.Brokers, cfg.Brokers, func() { cfg.Brokers = p.Brokers })
	}
	if p.Guarantee != "" {
		set("guarantee", engine.Guarantee(p.Guarantee), cfg.Guarantee, func() { cfg.Guarantee = engine.Guarantee(p.Guarantee) })
	}
	if p.TransactionsV1 {
		cfg.TransactionsV1 = true
	}
	if p.Recovery != "" {
		r, _ := engine.ParseRecovery(p.Recovery) // ParsePlan checked it
		set("recovery", r, cfg.Recovery, func() { cfg.Recovery, cfg.FixedRecovery = r, true })
	}
	s := p.Schedule()
	cfg.Schedule = &s
	if err := errors.Join(errs...); err != nil {
		return cfg, err
	}
	return cfg, cfg.Validate()
}
