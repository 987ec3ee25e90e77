//go:build synctests

package sim

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/eosim/eosim/engine"
	"github.com/eosim/eosim/faults"
	"github.com/eosim/eosim/invariants"
)

// drawConfig draws a whole run: the workload's size and a fault schedule,
// every draw labelled. Draws shrink toward small values, so a counterexample
// shrinks toward few orders, one partition, one instance, few faults at
// early steps with short downtimes.
func drawConfig(t *rapid.T, g engine.Guarantee) Config {
	cfg := DefaultConfig()
	cfg.Guarantee = g
	cfg.Inputs = rapid.IntRange(1, 300).Draw(t, "orders")
	cfg.Partitions = rapid.IntRange(1, 4).Draw(t, "partitions")
	cfg.Instances = rapid.IntRange(1, 3).Draw(t, "instances")
	cfg.Brokers = rapid.IntRange(1, 3).Draw(t, "brokers")
	names := append(cfg.InstanceNames(), cfg.SpareNames()...)
	// The orders scenario has no database: a database fault is refused.
	// Rewrites are left out: FromBytes fuzzes them, and -focus sweeps them
	// (README); here they would only widen what the counterexample tests
	// must shrink within their time budgets.
	kinds := slices.DeleteFunc(faults.Kinds(), func(k faults.Kind) bool { return k.IsDatabase() || k == faults.Rewrite })
	if cfg.Brokers == 1 {
		// A move has nowhere to go: Config.Validate refuses it.
		kinds = slices.DeleteFunc(kinds, isMove)
	}
	fault := rapid.Custom(func(t *rapid.T) faults.Fault {
		f := faults.Fault{
			Step:         rapid.IntRange(0, 30).Draw(t, "step"),
			Kind:         rapid.SampledFrom(kinds).Draw(t, "kind"),
			Instance:     rapid.SampledFrom(names).Draw(t, "instance"),
			RestartAfter: rapid.IntRange(1, 5).Draw(t, "restart after"),
		}
		if f.Kind.HasPoint() {
			f.Point = rapid.SampledFrom(engine.CrashPoints()).Draw(t, "point")
			if f.Point == engine.AfterProcess {
				f.Index = rapid.IntRange(0, 19).Draw(t, "index")
			}
		}
		switch f.Kind {
		case faults.Pause:
			f.PauseMs = rapid.SampledFrom(faults.PauseChoices()).Draw(t, "pause ms")
		case faults.BrokerError:
			f.Request = rapid.SampledFrom(faults.BrokerErrorRequests()).Draw(t, "request")
			f.Error = rapid.SampledFrom(faults.BrokerErrors(f.Request)).Draw(t, "error")
		case faults.Drop:
			f.Request = rapid.SampledFrom(faults.DroppableRequests()).Draw(t, "request")
		case faults.Delay:
			f.Request = rapid.SampledFrom(faults.DelayableRequests()).Draw(t, "request")
			f.DelayMs = rapid.SampledFrom(faults.DelayChoices()).Draw(t, "delay ms")
		case faults.LeaderMove, faults.CoordinatorMove, faults.BrokerRestart:
			f.Instance, f.RestartAfter = "", 0
			if f.Kind == faults.LeaderMove {
				f.Partition = int32(rapid.IntRange(0, 3).Draw(t, "partition"))
			}
		}
		return f
	})
	fs := rapid.SliceOfN(fault, 0, 6).Draw(t, "faults")
	slices.SortStableFunc(fs, func(a, b faults.Fault) int { return a.Step - b.Step })
	cfg.Schedule = &faults.Schedule{Faults: fs}
	return cfg
}

// isMove reports whether a fault of kind k moves a leader or the
// coordinators.
func isMove(k faults.Kind) bool { return k == faults.LeaderMove || k == faults.CoordinatorMove }

// runInRapid runs cfg in a fresh bubble of the real test t (outside rapid's
// own bookkeeping, so that a property expected to fail can catch it).
func runInRapid(t *testing.T, cfg Config) (Result, error) {
	var res Result
	var err error
	synctest.Test(t, func(*testing.T) { res, err = Run(context.Background(), cfg) })
	return res, err
}

func TestPropertyExactlyOnceSurvivesAnySchedule(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		cfg := drawConfig(rt, engine.ExactlyOnceV2)
		res, err := runInRapid(t, cfg)
		if err != nil {
			rt.Fatalf("run: %v", err)
		}
		if v := res.Verdict(); v != invariants.Pass {
			rt.Fatalf("exactly_once_v2 gave %s under\n%s\nanomalies: %v", v, cfg.Schedule, res.Report.Anomalies)
		}
	})
}

// failureCatcher is a rapid.TB that records a property's failure instead of
// failing the test: these properties are expected to fail.
type failureCatcher struct {
	*testing.T
	mu     sync.Mutex
	failed bool
	report []string
}

type stopCheck struct{}

func (c *failureCatcher) Fail()    { c.mu.Lock(); c.failed = true; c.mu.Unlock() }
func (c *failureCatcher) FailNow() { c.Fail(); panic(stopCheck{}) }
func (c *failureCatcher) Failed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.failed
}
func (c *failureCatcher) Error(args ...any)                 { c.Log(args...); c.Fail() }
func (c *failureCatcher) Errorf(format string, args ...any) { c.Logf(format, args...); c.Fail() }
func (c *failureCatcher) Fatal(args ...any)                 { c.Log(args...); c.FailNow() }
func (c *failureCatcher) Fatalf(format string, args ...any) { c.Logf(format, args...); c.FailNow() }
func (c *failureCatcher) Log(args ...any)                   { c.report = append(c.report, fmt.Sprint(args...)) }
func (c *failureCatcher) Logf(format string, args ...any) {
	c.report = append(c.report, fmt.Sprintf(format, args...))
}

// expectCounterexample runs a property that must fail and returns the last
// failing config rapid ran: after shrinking, that is the minimal one.
func expectCounterexample(t *testing.T, g engine.Guarantee, kind string) (Config, time.Duration) {
	t.Helper()
	if raceEnabled {
		// rapid's shrinking budget is wall time; ten times slower runs
		// leave it half done. The race job is for data races: shrinking is
		// judged in the plain test run.
		t.Skip("shrinking is checked without -race: go test -tags synctests -run TestRapid ./sim/")
	}
	// The failure is the expected outcome: no fail file for it. rapid stops
	// at the first counterexample, so a generous number of checks costs
	// nothing when one is found early and keeps -short from giving up.
	require.NoError(t, flag.Set("rapid.nofailfile", "true"))
	// rapid stops shrinking early when nothing smaller fails; the longer
	// budget is headroom for a loaded machine, where 30s can cut it short.
	checks := flag.Lookup("rapid.checks").Value.String()
	shrinkTime := flag.Lookup("rapid.shrinktime").Value.String()
	require.NoError(t, flag.Set("rapid.checks", "1000"))
	require.NoError(t, flag.Set("rapid.shrinktime", "2m"))
	defer func() {
		require.NoError(t, flag.Set("rapid.nofailfile", "false"))
		require.NoError(t, flag.Set("rapid.checks", checks))
		require.NoError(t, flag.Set("rapid.shrinktime", shrinkTime))
	}()

	var minimal Config
	catcher := &failureCatcher{T: t}
	start := time.Now()
	func() {
		defer func() {
			if r := recover(); r != nil {
				if _, ok := r.(stopCheck); !ok {
					panic(r)
				}
			}
		}()
		rapid.Check(catcher, func(rt *rapid.T) {
			cfg := drawConfig(rt, g)
			res, err := runInRapid(t, cfg)
			if err != nil {
				rt.Fatalf("run: %v", err)
			}
			if slices.Contains(res.Report.Kinds(), kind) {
				minimal = cfg
				rt.Fatalf("%s: %s", g, kind)
			}
		})
	}()
	took := time.Since(start)
	require.True(t, catcher.Failed(), "rapid found no %s counterexample for %s", kind, g)
	t.Logf("rapid's report:\n%s", strings.Join(catcher.report, "\n"))
	return minimal, took
}

func TestRapidShrinksAtLeastOnceToTwoFaults(t *testing.T) {
	minimal, took := expectCounterexample(t, engine.AtLeastOnce, invariants.DuplicateOutput)
	t.Logf("minimal counterexample after %v: %d orders, %d partitions, %d instances\n%s",
		took.Round(time.Millisecond), minimal.Inputs, minimal.Partitions, minimal.Instances, minimal.Schedule)
	require.LessOrEqual(t, len(minimal.Schedule.Faults), 2)
	require.NotEmpty(t, minimal.Schedule.Faults, "at_least_once fails only under a fault")
}

func TestRapidFindsPeekSideEffectDuplicates(t *testing.T) {
	minimal, took := expectCounterexample(t, engine.PeekSideEffect, invariants.DuplicateOutput)
	t.Logf("minimal counterexample after %v: %d orders\n%s", took.Round(time.Millisecond), minimal.Inputs, minimal.Schedule)
	require.LessOrEqual(t, len(minimal.Schedule.Faults), 2)
}

// FuzzSchedule turns any byte string into a run (every input decodes to a
// valid workload and schedule, so the fuzzer explores faults, not parse
// errors) and requires exactly_once_v2 to pass it.
func FuzzSchedule(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{40, 3, 1, 3, 2, 0, 0, 4, 1, 5, 1, 1, 2, 3})
	f.Fuzz(func(t *testing.T, data []byte) {
		src := faults.NewByteSource(data)
		cfg := DefaultConfig()
		cfg.Inputs = 1 + 2*src.IntN(150)
		cfg.Partitions = 1 + src.IntN(4)
		cfg.Instances = 1 + src.IntN(3)
		cfg.Brokers = 1 + src.IntN(3)
		sched := faults.FromBytes(src, append(cfg.InstanceNames(), cfg.SpareNames()...))
		cfg.Schedule = &sched
		if cfg.Brokers == 1 && slices.ContainsFunc(sched.Faults, func(f faults.Fault) bool { return isMove(f.Kind) }) {
			cfg.Brokers = 2 // a move needs somewhere to go (Config.Validate)
		}
		res, err := runInRapid(t, cfg)
		if err != nil {
			t.Fatalf("run: %v", err)
		}
		if v := res.Verdict(); v != invariants.Pass {
			t.Fatalf("exactly_once_v2 gave %s with %d orders, %d partitions, %d instances under\n%s\nanomalies: %v",
				v, cfg.Inputs, cfg.Partitions, cfg.Instances, cfg.Schedule, res.Report.Anomalies)
		}
	})
}
