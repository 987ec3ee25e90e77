//go:build !synctests

// Plain `go test ./...` checks exactly-once too. The simulator needs
// franz-go's synctests build tag, so without it every simulator test skips;
// this file, built only without the tag, builds simrun with the tag itself
// and runs real simulations through it:
//
//   - a swarm sweep under exactly_once_v2, which must pass every seed;
//   - every regression plan under testdata/schedules, which must give the
//     verdict (and anomaly kinds) recorded in it, as sim's
//     TestRegressionPlans and TestMistakePlansPassUnderExactlyOnce require
//     with the tag: mistake plans fail, and pass with exactly_once_v2;
//   - sweeps of a broken engine (at_least_once), which must be caught, so
//     a pass above is not vacuous.
//
// So `go test ./...` fails when exactly-once breaks, tag or no tag.
//
// Measured on 2 cores with a warm build cache, quiet machine: this test
// takes about 21 s (1.5-2.5 s to build simrun, 12 s for the 100-seed
// sweep, 3 s for the 17 plans and the mistake plans' exactly_once_v2
// replays, 3.5 s for the broken engine), and plain `go test -count=1 ./...`
// 36 s in all (14 s without this file); 47-53 s while other jobs kept the
// load average at 5. -short sweeps 20 seeds (the test then takes about 10 s).
// Every command runs under a timeout, so the test cannot hang.
//
// A note on go test's result cache: the simrun binary is built from the
// same packages this test binary links (engine, sim, …), so editing them
// reruns this test; only sim/tag_synctests.go is seen by the tagged build
// alone.

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eosim/eosim/engine"
	"github.com/eosim/eosim/faults"
	"github.com/eosim/eosim/invariants"
	"github.com/eosim/eosim/sim"
)

// The sweeps run here; -short runs the smaller range.
const (
	sweepSeeds      = "1-100"
	shortSweepSeeds = "1-20"
)

// Bounds on every command, so the test can never hang.
const (
	buildTimeout  = 5 * time.Minute
	sweepTimeout  = 3 * time.Minute
	replayTimeout = time.Minute
)

func TestExactlyOnceWithoutTheTag(t *testing.T) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("the go command is not on PATH (%v), so simrun cannot be built with the synctests tag; run the simulator's tests with: go test -tags synctests ./...", err)
	}
	bin := buildTaggedSimrun(t, goCmd)
	seeds := sweepSeeds
	if testing.Short() {
		seeds = shortSweepSeeds
	}
	swarm := []string{"-seeds", seeds, "-swarm", "-json"}

	t.Run("sweep-passes-exactly-once", func(t *testing.T) {
		lines, sum := runSweep(t, bin, swarm...)
		want := seedCount(t, seeds)
		if sum.Seeds != want || len(lines) != want {
			t.Fatalf("the sweep ran %d seeds (%d lines), want %d", sum.Seeds, len(lines), want)
		}
		if sum.Pass != want || sum.ExitCode != exitPass {
			t.Errorf("exactly_once_v2 over seeds %s with swarm faults: %d pass, %d fail, %d unknown, %d errors (exit code %d)",
				seeds, sum.Pass, sum.Fail, sum.Unknown, sum.Errors, sum.ExitCode)
			for _, l := range lines {
				if l.Verdict == string(invariants.Pass) && l.Error == "" {
					continue
				}
				why := l.Verdict
				if l.Error != "" {
					why = "error: " + l.Error
				} else if len(l.Kinds) > 0 {
					why += " (" + strings.Join(l.Kinds, ", ") + ")"
				}
				t.Errorf("seed %d: %s; replay: go run -tags synctests ./cmd/simrun -seed %d -swarm", l.Seed, why, l.Seed)
			}
		}
	})

	t.Run("regression-plans", func(t *testing.T) {
		replayPlans(t, bin)
	})

	t.Run("broken-engine-is-caught", func(t *testing.T) {
		// The sweep above (its first seeds), with the engine broken: it
		// must notice (14 of 20 seeds catch it).
		_, sum := runSweep(t, bin, "-seeds", shortSweepSeeds, "-swarm", "-json", "-guarantee", string(engine.AtLeastOnce))
		if sum.Fail == 0 || sum.ExitCode != exitAnomaly {
			t.Errorf("at_least_once over seeds %s with swarm faults: %d of %d seeds caught (exit code %d, want %d): the sweep that passes exactly_once_v2 would not notice it break",
				shortSweepSeeds, sum.Fail, sum.Seeds, sum.ExitCode, exitAnomaly)
		}
		// Crashes alone, on seeds known to catch it (9 of 10).
		lines, sum := runSweep(t, bin, "-seeds", "1-10", "-crash-rate", "0.2", "-guarantee", string(engine.AtLeastOnce), "-json")
		var kinds []string
		for _, l := range lines {
			kinds = append(kinds, l.Kinds...)
		}
		if sum.Fail == 0 || sum.ExitCode != exitAnomaly || !slices.Contains(kinds, "duplicate-output") {
			t.Errorf("at_least_once over seeds 1-10 with -crash-rate 0.2: %d of %d seeds caught, anomaly kinds %v (exit code %d): want duplicate-output caught and exit code %d",
				sum.Fail, sum.Seeds, uniq(kinds), sum.ExitCode, exitAnomaly)
		}
	})
}

// buildTaggedSimrun builds this command with the synctests tag into a
// temporary directory and returns the binary's path.
func buildTaggedSimrun(t *testing.T, goCmd string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "simrun")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	ctx, cancel := context.WithTimeout(t.Context(), buildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, goCmd, "build", "-tags", "synctests", "-o", bin, ".")
	cmd.WaitDelay = 10 * time.Second
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (gave up after %v)", err, buildTimeout)
		}
		t.Fatalf("go build -tags synctests ./cmd/simrun: %v\n%s", err, out)
	}
	t.Logf("built simrun with the synctests tag in %v", time.Since(start).Round(time.Millisecond))
	return bin
}

// simrun runs the binary with args and returns its standard output and
// exit code; it fails the test if the command could not run or overran
// timeout. Standard error goes to the test log.
func simrun(t *testing.T, bin string, timeout time.Duration, args ...string) (stdout string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.WaitDelay = 10 * time.Second
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	start := time.Now()
	err := cmd.Run()
	if errOut.Len() > 0 {
		t.Logf("simrun %s: stderr:\n%s", strings.Join(args, " "), errOut.String())
	}
	if ctx.Err() != nil {
		t.Fatalf("simrun %s: no answer after %v (%v); stdout so far:\n%s", strings.Join(args, " "), timeout, err, out.String())
	}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatalf("simrun %s: %v", strings.Join(args, " "), err)
	}
	t.Logf("simrun %s: exit code %d in %v", strings.Join(args, " "), code, time.Since(start).Round(time.Millisecond))
	return out.String(), code
}

// runSweep runs a -json sweep and returns its seed lines and summary.
func runSweep(t *testing.T, bin string, args ...string) ([]seedLine, sweepSummary) {
	t.Helper()
	out, code := simrun(t, bin, sweepTimeout, args...)
	var lines []seedLine
	var sum *sweepSummary
	for text := range strings.Lines(out) {
		text = strings.TrimSpace(text)
		if text == "" {
			continue
		}
		if sum != nil {
			t.Fatalf("simrun %s: output after the summary line: %s\n%s", strings.Join(args, " "), text, out)
		}
		if strings.HasPrefix(text, `{"summary":`) {
			var s struct {
				Summary sweepSummary `json:"summary"`
			}
			if err := json.Unmarshal([]byte(text), &s); err != nil {
				t.Fatalf("simrun %s: summary line %s: %v", strings.Join(args, " "), text, err)
			}
			sum = &s.Summary
			continue
		}
		var l seedLine
		if err := json.Unmarshal([]byte(text), &l); err != nil {
			t.Fatalf("simrun %s: seed line %s: %v\n%s", strings.Join(args, " "), text, err, out)
		}
		lines = append(lines, l)
	}
	if sum == nil {
		t.Fatalf("simrun %s: no summary line (exit code %d):\n%s", strings.Join(args, " "), code, out)
	}
	if sum.ExitCode != code {
		t.Fatalf("simrun %s: exit code %d, but the summary says %d", strings.Join(args, " "), code, sum.ExitCode)
	}
	return lines, *sum
}

// replayPlans replays every plan under testdata/schedules through simrun
// -schedule and requires what sim's tagged corpus tests require.
func replayPlans(t *testing.T, bin string) {
	files, err := filepath.Glob(filepath.Join("..", "..", "testdata", "schedules", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no plans under testdata/schedules")
	}
	covered := map[engine.Guarantee]bool{}
	for _, file := range files {
		name := filepath.Base(file)
		t.Run(name, func(t *testing.T) {
			replay := "go run -tags synctests ./cmd/simrun -schedule testdata/schedules/" + name
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			plan, err := sim.ParsePlan(data)
			if err != nil {
				t.Fatal(err)
			}
			if plan.Expect == nil {
				t.Fatal("a regression plan must record the verdict it expects")
			}
			got := replayPlan(t, bin, file)
			if err := got.check(*plan.Expect); err != nil {
				t.Errorf("%v\nreplay with: %s\n%s", err, replay, got.out)
			}
			if plan.Schedule().Counts()[faults.Crash] > 0 && got.crashes == 0 {
				t.Errorf("none of the plan's crashes fired: the replay proves nothing\nreplay with: %s\n%s", replay, got.out)
			}
			if !strings.HasPrefix(name, "mistake-") {
				return
			}
			// The faults alone must not break exactly-once, or the plan
			// would blame the mistake for what the harness did.
			mode := engine.Guarantee(plan.Guarantee)
			if !slices.Contains(engine.Mistakes(), mode) {
				t.Fatalf("a mistake plan must run a mistake mode, not %q", plan.Guarantee)
			}
			if plan.Expect.Verdict != invariants.Fail {
				t.Fatalf("a mistake plan must expect the mistake caught, not %s", plan.Expect.Verdict)
			}
			covered[mode] = true
			plan.Guarantee, plan.Expect = string(engine.ExactlyOnceV2), nil
			eos := filepath.Join(t.TempDir(), "eos-"+name)
			if err := os.WriteFile(eos, plan.MarshalIndent(), 0o644); err != nil {
				t.Fatal(err)
			}
			got = replayPlan(t, bin, eos)
			if err := got.check(sim.Expectation{Verdict: invariants.Pass}); err != nil {
				t.Errorf("the same faults break exactly_once_v2: %v\n%s", err, got.out)
			}
		})
	}
	for _, mode := range engine.Mistakes() {
		if !mode.KeepsExactlyOnce() && !covered[mode] {
			t.Errorf("no testdata/schedules/mistake-*.json plan shows %s caught", mode)
		}
	}
}

// replayed is what simrun -schedule printed about one run.
type replayed struct {
	out     string
	code    int
	verdict invariants.Verdict
	kinds   []string
	crashes int
	fired   int
}

var (
	verdictLine = regexp.MustCompile(`(?m)^  verdict +([A-Z]+)(?:: \d+ anomalies \(([^)]*)\))?`)
	crashesLine = regexp.MustCompile(`(?m)^  crashes +(\d+) `)
	firedCount  = regexp.MustCompile(`(?m)^  schedule +.*\((\d+) fired,`)
)

// replayPlan runs simrun -schedule file and reads the verdict, the anomaly
// kinds and the number of crashes from its report.
func replayPlan(t *testing.T, bin, file string) replayed {
	t.Helper()
	out, code := simrun(t, bin, replayTimeout, "-schedule", file)
	r := replayed{out: out, code: code}
	v := verdictLine.FindStringSubmatch(out)
	c := crashesLine.FindStringSubmatch(out)
	if v == nil || c == nil {
		t.Fatalf("simrun -schedule %s: no verdict or crashes line in its report (exit code %d):\n%s", file, code, out)
	}
	r.verdict = invariants.Verdict(strings.ToLower(v[1]))
	if v[2] != "" {
		r.kinds = strings.Split(v[2], ", ")
	}
	r.crashes, _ = strconv.Atoi(c[1])
	if f := firedCount.FindStringSubmatch(out); f != nil {
		r.fired, _ = strconv.Atoi(f[1])
	}
	return r
}

// check mirrors sim.Expectation.Check, plus the exit code the verdict
// must give.
func (r replayed) check(e sim.Expectation) error {
	if r.verdict != e.Verdict {
		return fmt.Errorf("verdict %s, expected %s (anomalies: %s)", r.verdict, e.Verdict, strings.Join(r.kinds, ", "))
	}
	for _, k := range e.Kinds {
		if !slices.Contains(r.kinds, k) {
			return fmt.Errorf("no %s anomaly (found: %s)", k, strings.Join(r.kinds, ", "))
		}
	}
	if e.Fired != nil && r.fired != *e.Fired {
		return fmt.Errorf("%d faults fired, expected %d", r.fired, *e.Fired)
	}
	if want := exitCode(e.Verdict); r.code != want {
		return fmt.Errorf("verdict %s but exit code %d, want %d", r.verdict, r.code, want)
	}
	return nil
}

// seedCount is the number of seeds in a range A-B.
func seedCount(t *testing.T, seeds string) int {
	first, last, err := parseSeedRange(seeds)
	if err != nil {
		t.Fatal(err)
	}
	return int(last-first) + 1
}

func uniq(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}
