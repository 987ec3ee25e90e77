package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/eosim/eosim/faults"
	"github.com/eosim/eosim/history"
	"github.com/eosim/eosim/internal/bubble"
	"github.com/eosim/eosim/invariants"
	"github.com/eosim/eosim/sim"
)

// maxEvidence is how many evidence records an anomaly prints; the History
// (-history) has them all.
const maxEvidence = 8

// maxAnomalies is how many anomalies a run prints in full.
const maxAnomalies = 20

func printRun(w io.Writer, o options, out outcome) {
	res, c := out.res, out.res.Config
	fmt.Fprintln(w, "parameters")
	fmt.Fprintf(w, "  seed          %d\n", c.Seed)
	fmt.Fprintf(w, "  scenario      %s: %d orders, %d partitions, %d instances\n", c.Scenario, c.Inputs, c.Partitions, c.Instances)
	fmt.Fprintf(w, "  guarantee     %s\n", c.Guarantee)
	if c.Schedule != nil {
		fmt.Fprintf(w, "  faults        replayed from %s\n", o.schedulePath)
	} else {
		fmt.Fprintf(w, "  faults        crash-rate %g, shutdown-rate %g\n", c.Rates.Crash, c.Rates.Shutdown)
	}
	counts := res.Schedule.Counts()
	fmt.Fprintf(w, "  schedule      %d crashes, %d shutdowns\n", counts[faults.Crash], counts[faults.Shutdown])
	for _, f := range res.Schedule.Faults {
		fmt.Fprintf(w, "    %s\n", f)
	}

	st := res.Stats
	fmt.Fprintln(w, "summary")
	fmt.Fprintf(w, "  verdict       %s\n", verdictText(res))
	fmt.Fprintf(w, "  orders        %d\n", st.Inputs)
	fmt.Fprintf(w, "  units         %d committed, %d aborted, %d crashed, %d unknown outcome\n", st.Committed, st.Aborted, st.Crashed, st.Unknown)
	fmt.Fprintf(w, "  crashes       %d (restarts %d)\n", st.Crashes, st.Restarts)
	fmt.Fprintf(w, "  virtual time  %v in %d steps\n", st.Virtual.Round(time.Millisecond), st.Steps)
	fmt.Fprintf(w, "  wall time     %v\n", out.wall.Round(time.Millisecond))
	fmt.Fprintf(w, "  trace hash    %s\n", res.Hash)

	printAnomalies(w, res.Report)
	fmt.Fprintf(w, "replay\n  %s\n", o.replayCommand(c.Seed))
}

func verdictText(res sim.Result) string {
	switch v := res.Verdict(); v {
	case invariants.Pass:
		return "PASS: every checker passed"
	case invariants.Fail:
		return fmt.Sprintf("FAIL: %d anomalies (%s)", len(res.Report.Anomalies), strings.Join(res.Report.Kinds(), ", "))
	default:
		why := "the run did not process all of its input within the liveness bound"
		if res.Complete {
			why = fmt.Sprint(res.Report.Unknown)
		}
		return "UNKNOWN: " + why
	}
}

func printAnomalies(w io.Writer, rep invariants.Report) {
	if len(rep.Anomalies) == 0 {
		return
	}
	fmt.Fprintf(w, "anomalies (%d)\n", len(rep.Anomalies))
	for i, a := range rep.Anomalies {
		if i == maxAnomalies {
			fmt.Fprintf(w, "  … %d more (write them all with -history and the checkers, or narrow the run)\n", len(rep.Anomalies)-i)
			break
		}
		fmt.Fprintf(w, "  %s: %s\n", a.Kind, a.Summary)
		if len(a.Units) > 0 {
			fmt.Fprintf(w, "      units: %s\n", strings.Join(a.Units, ", "))
		}
		for j, r := range a.Records {
			if j == maxEvidence {
				fmt.Fprintf(w, "      … %d more records\n", len(a.Records)-j)
				break
			}
			fmt.Fprintf(w, "      %s\n", recordText(r))
		}
		for _, off := range a.Offsets {
			fmt.Fprintf(w, "      offset %s/%d → %d\n", off.Topic, off.Partition, off.Offset)
		}
	}
}

func recordText(r history.Record) string {
	s := fmt.Sprintf("%s/%d@%d key=%s value=%s", r.Topic, r.Partition, r.Offset, r.Key, r.Value)
	for _, h := range r.Headers {
		s += fmt.Sprintf(" %s=%s", h.Key, h.Value)
	}
	return s
}

// sweep runs a range of seeds (twice each with -check-determinism) and
// prints one line per seed and a summary.
func sweep(o options, enter bubble.Enter, stdout io.Writer) int {
	var pass, fail, unknown, errs, same, differ int
	var failing []uint64
	var wall time.Duration
	var virtual time.Duration
	n := 0
	for seed := o.firstSeed; ; seed++ {
		if !o.inShard(seed) {
			if seed == o.lastSeed {
				break
			}
			continue
		}
		n++
		out := runSeed(o, seed, enter)
		wall += out.wall
		if out.err != nil {
			errs++
			fmt.Fprintf(stdout, "seed %d: error: %v\n", seed, out.err)
		} else {
			virtual += out.res.Stats.Virtual
			line := fmt.Sprintf("seed %d: %s, %d crashes, %d units committed, hash %.12s, %v",
				seed, out.res.Verdict(), out.res.Stats.Crashes, out.res.Stats.Committed, out.res.Hash, out.wall.Round(time.Millisecond))
			switch out.res.Verdict() {
			case invariants.Pass:
				pass++
			case invariants.Fail:
				fail++
				failing = append(failing, seed)
				line += " — " + strings.Join(out.res.Report.Kinds(), ", ")
			default:
				unknown++
				failing = append(failing, seed)
			}
			if o.checkDeterminism {
				again := runSeed(o, seed, enter)
				wall += again.wall
				virtual += again.res.Stats.Virtual
				switch {
				case again.err != nil:
					differ++
					line += fmt.Sprintf(" — second run failed: %v", again.err)
				case again.res.Hash == out.res.Hash:
					same++
					line += " — identical twice"
				default:
					differ++
					i, a, b := history.FirstDifference(out.res.History, again.res.History)
					line += fmt.Sprintf(" — NONDETERMINISTIC: histories differ at event %d:\n    %.300s\n    %.300s", i, a, b)
				}
			}
			fmt.Fprintln(stdout, line)
		}
		if seed == o.lastSeed {
			break
		}
	}
	slice := ""
	if o.shards > 0 {
		slice = fmt.Sprintf(", shard %d/%d", o.shard, o.shards)
	}
	fmt.Fprintf(stdout, "\n%d seeds (%d-%d%s), %s: %d pass, %d anomalies, %d unknown, %d errors\n",
		n, o.firstSeed, o.lastSeed, slice, o.cfg.Guarantee, pass, fail, unknown, errs)
	if o.checkDeterminism {
		fmt.Fprintf(stdout, "determinism: %d/%d identical\n", same, n)
	}
	runs := max(n, 1)
	if o.checkDeterminism {
		runs *= 2
	}
	fmt.Fprintf(stdout, "wall time %v (%v per run), virtual time %v, %.0f virtual seconds per wall second\n",
		wall.Round(time.Millisecond), (wall / time.Duration(runs)).Round(time.Millisecond),
		virtual.Round(time.Second), virtual.Seconds()/max(wall.Seconds(), 1e-9))
	for i, seed := range failing {
		if i == 10 {
			fmt.Fprintf(stdout, "… and %d more failing seeds\n", len(failing)-i)
			break
		}
		fmt.Fprintf(stdout, "replay: %s\n", o.replayCommand(seed))
	}
	switch {
	case fail > 0 || differ > 0:
		return exitAnomaly
	case unknown > 0 || errs > 0:
		return exitUnknown
	}
	return exitPass
}
