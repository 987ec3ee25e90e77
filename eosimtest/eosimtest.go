// Package eosimtest runs an application of one's own under eosim, from its
// own module's tests: its topology on eosim's engine against an in-process
// Kafka cluster, seed after seed, each under a fault schedule drawn from
// the seed, judged by the generic oracle (scenarios.App says how). A
// failing seed fails the test with its anomaly, a plan shrunk to the fewest
// faults that still fail, and the command that replays it:
//
//	func TestSpend(t *testing.T) {
//		eosimtest.Run(t, spend.App(), eosimtest.Seeds(1, 200), eosimtest.Swarm())
//	}
//
//	go test -tags synctests -run '^TestSpend$' -args -eosim.seed 17
//
// Runs need franz-go's synctests build tag (see sim); without it Run skips
// the test and says how to run it.
package eosimtest

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/eosim/eosim/engine"
	"github.com/eosim/eosim/faults"
	"github.com/eosim/eosim/invariants"
	"github.com/eosim/eosim/live"
	"github.com/eosim/eosim/scenarios"
	"github.com/eosim/eosim/sim"
)

var seedFlag = flag.Uint64("eosim.seed", 0, "eosimtest: run only this seed (a failure report prints the command)")

// Option changes what Run does.
type Option func(*config)

type config struct {
	first, last uint64
	run         sim.Config
	shrinkRuns  int
	// cluster, when set, runs against a real cluster (package live).
	cluster []string
}

// Seeds runs seeds first to last, inclusive (default 1 to 20).
func Seeds(first, last uint64) Option { return func(c *config) { c.first, c.last = first, last } }

// Swarm lets each seed pick its fault families and their rates (see
// sim.Config.Swarm); without it, crashes and shutdowns at sim's default
// rates.
func Swarm() Option { return func(c *config) { c.run.Swarm = true } }

// Rates draws each seed's faults at these rates (see simrun's -*-rate
// flags; default crash 0.1, shutdown 0.02) in place of swarm.
func Rates(r faults.Rates) Option { return func(c *config) { c.run.Rates, c.run.Swarm = r, false } }

// Guarantee runs the engine under g (default: the first of the app's
// guarantees, exactly_once_v2, or db_positions_fenced for an app that
// writes a database): a weaker one shows what the oracle catches.
func Guarantee(g engine.Guarantee) Option { return func(c *config) { c.run.Guarantee = g } }

// Inputs sets the number of input records per run (default 400).
func Inputs(n int) Option { return func(c *config) { c.run.Inputs = n } }

// Partitions and Instances size the run (default 4 and 2).
func Partitions(n int) Option { return func(c *config) { c.run.Partitions = n } }

// Instances sets the number of engine instances (default 2).
func Instances(n int) Option { return func(c *config) { c.run.Instances = n } }

// Cluster runs the app against a real cluster at these bootstrap
// addresses (Kafka, Redpanda, cmd/kfakebroker), over TCP and in real time,
// with the faults a client can make (package live), in place of the
// simulator. Such a run cannot be replayed from its seed and is not shrunk;
// it needs no build tag. Keep the seeds few: a pause is real time here.
func Cluster(bootstrap ...string) Option { return func(c *config) { c.cluster = bootstrap } }

// ShrinkRuns bounds the runs shrinking a failure may take (default 100; 0
// does not shrink).
func ShrinkRuns(n int) Option { return func(c *config) { c.shrinkRuns = n } }

// Failure is a failing seed, shrunk.
type Failure struct {
	Seed uint64
	// Result is the failing run's; Shrunk the smallest plan found that
	// still fails with the same anomaly kind (the run's own plan, not
	// shrunk, against a real cluster).
	Result sim.Result
	Shrunk sim.Plan
	// Replay is the command that runs this seed again.
	Replay string
	// shrunk: Shrunk is smaller than the failing run's plan.
	shrunk bool
}

// Error renders the failure as a test failure reads it.
func (f *Failure) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "eosim: seed %d fails under %s: %d anomalies (%s)\n", f.Seed, f.Result.Config.Guarantee,
		len(f.Result.Report.Anomalies), strings.Join(f.Result.Report.Kinds(), ", "))
	for i, a := range f.Result.Report.Anomalies {
		if i == 3 {
			fmt.Fprintf(&b, "  … %d more\n", len(f.Result.Report.Anomalies)-i)
			break
		}
		fmt.Fprintf(&b, "  %s: %s\n", a.Kind, a.Summary)
		for j, r := range a.Records {
			if j == 4 {
				fmt.Fprintf(&b, "      … %d more records\n", len(a.Records)-j)
				break
			}
			fmt.Fprintf(&b, "      %s[%d]@%d key=%s value=%s\n", r.Topic, r.Partition, r.Offset, r.Key, r.Value)
		}
	}
	what := "plan"
	if f.shrunk {
		what = "shrunk plan"
	}
	fmt.Fprintf(&b, "%s (%d faults):\n%s\n", what, len(f.Shrunk.Faults), strings.TrimSpace(string(f.Shrunk.MarshalIndent())))
	fmt.Fprintf(&b, "replay: %s", f.Replay)
	return b.String()
}

// Run runs app over the seeds and fails t with the first failing seed's
// Failure; with -eosim.seed N it runs only seed N.
func Run(t *testing.T, app scenarios.App, opts ...Option) {
	t.Helper()
	f, err := Check(t, app, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if f != nil {
		t.Fatal(f.Error())
	}
}

// Check is Run that returns the failure instead of failing t (a test that
// expects a broken app to be caught). An error means the app could not be
// run at all.
func Check(t *testing.T, app scenarios.App, opts ...Option) (*Failure, error) {
	t.Helper()
	if err := register(app); err != nil {
		return nil, err
	}
	c := config{first: 1, last: 20, run: sim.DefaultConfig(), shrinkRuns: 100}
	c.run.Scenario, c.run.Inputs = app.Name, 400
	if sc, err := scenarios.Lookup(app.Name); err == nil {
		c.run.Guarantee = sc.Guarantees()[0]
	}
	for _, o := range opts {
		o(&c)
	}
	if *seedFlag != 0 {
		c.first, c.last = *seedFlag, *seedFlag
	}
	if c.first > c.last {
		return nil, fmt.Errorf("eosimtest: seeds %d-%d: the range is empty", c.first, c.last)
	}
	if len(c.cluster) > 0 {
		return checkLive(t, c)
	}
	if err := sim.Available(); err != nil {
		t.Skipf("eosimtest: %v: go test -tags synctests -run '%s'", err, runPattern(t.Name()))
	}
	runner := func(cfg sim.Config) (res sim.Result, err error) {
		synctest.Test(t, func(*testing.T) { res, err = sim.Run(context.Background(), cfg) })
		return res, err
	}
	for seed := c.first; seed <= c.last; seed++ {
		cfg := c.run
		cfg.Seed = seed
		res, err := runner(cfg)
		if err != nil {
			return nil, fmt.Errorf("eosimtest: seed %d: %w", seed, err)
		}
		switch res.Verdict() {
		case invariants.Pass:
			continue
		case invariants.Fail:
		default:
			return nil, fmt.Errorf("eosimtest: seed %d proves nothing (%s): %s; replay: %s", seed, res.Verdict(), res.Stuck, replay(t, seed))
		}
		f := &Failure{Seed: seed, Result: res, Replay: replay(t, seed)}
		f.Shrunk = sim.PlanOf(res.Config, res.Schedule, &res)
		if c.shrinkRuns > 0 {
			small, sres, _, err := sim.Shrink(cfg, res.Report.Anomalies[0].Kind, runner, c.shrinkRuns)
			if err == nil {
				f.Shrunk, f.shrunk = sim.PlanOf(small, *small.Schedule, &sres), true
			}
		}
		return f, nil
	}
	return nil, nil
}

// checkLive runs the seeds against the real cluster of c.
func checkLive(t *testing.T, c config) (*Failure, error) {
	for seed := c.first; seed <= c.last; seed++ {
		cfg := c.run
		cfg.Seed = seed
		res, err := live.Run(t.Context(), live.Config{Run: cfg, Bootstrap: c.cluster})
		if err != nil {
			return nil, fmt.Errorf("eosimtest: seed %d against %s: %w", seed, strings.Join(c.cluster, ","), err)
		}
		switch res.Verdict() {
		case invariants.Pass:
			continue
		case invariants.Fail:
		default:
			return nil, fmt.Errorf("eosimtest: seed %d against %s proves nothing (%s): %s", seed, strings.Join(c.cluster, ","), res.Verdict(), res.Stuck)
		}
		return &Failure{Seed: seed, Result: res, Shrunk: sim.PlanOf(res.Config, res.Schedule, &res),
			Replay: replay(t, seed) + " (against a real cluster: the same input and schedule, not the same run)"}, nil
	}
	return nil, nil
}

// registered are the apps this package registered, by name.
var (
	registeredMu sync.Mutex
	registered   = map[string]bool{}
)

// register makes app a scenario once per test binary.
func register(app scenarios.App) error {
	registeredMu.Lock()
	defer registeredMu.Unlock()
	if registered[app.Name] {
		return nil
	}
	if err := scenarios.RegisterApp(app); err != nil {
		if errors.Is(err, scenarios.ErrRegistered) {
			return fmt.Errorf("eosimtest: app name %q is taken by another scenario: name the app differently", app.Name)
		}
		return fmt.Errorf("eosimtest: %w", err)
	}
	registered[app.Name] = true
	return nil
}

// replay is the command that runs seed of test t again.
func replay(t *testing.T, seed uint64) string {
	return fmt.Sprintf("go test -tags synctests -run '%s' -args -eosim.seed %d", runPattern(t.Name()), seed)
}

// runPattern is the -run pattern that selects test name (and its parents).
func runPattern(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return strings.Join(parts, "/")
}
