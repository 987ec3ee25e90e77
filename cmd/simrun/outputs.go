package main

import (
	"fmt"
	"io"
	"os"

	"github.com/eosim/eosim/coverage"
	"github.com/eosim/eosim/live"
	"github.com/eosim/eosim/report"
	"github.com/eosim/eosim/sim"
)

// writeOutputs writes the files a single run was asked for: the History as
// JSON Lines and as text, the brokers' wire log, the HTML report (the
// schedule is written before the run, by saveSchedule). A path of "-" is
// standard output.
func writeOutputs(o options, res sim.Result, stdout io.Writer) error {
	outputs := []struct {
		what, path string
		write      func(io.Writer) error
	}{
		{"history", o.historyPath, res.History.WriteJSONL},
		{"text history", o.historyTextPath, func(w io.Writer) error { return report.WriteText(w, res.History) }},
		{"wire log", o.wirePath, func(w io.Writer) error {
			for _, e := range res.Wire {
				if _, err := fmt.Fprintln(w, e); err != nil {
					return err
				}
			}
			return nil
		}},
		{"report", o.reportPath, func(w io.Writer) error {
			return report.WriteHTML(w, report.Run{
				Title:      fmt.Sprintf("seed %d, %s", res.Config.Seed, res.Config.Guarantee),
				Params:     paramBlock(o, res),
				Replay:     o.replayCommand(res.Config.Seed),
				ReplayNote: o.liveReplayNote(),
				Coverage:   o.coverageOf(coverage.Of(res)).Lines(),
				Verdict:    string(res.Verdict()),
				History:    res.History,
				Report:     res.Report,
			})
		}},
	}
	for _, out := range outputs {
		if out.path == "" {
			continue
		}
		if err := writeTo(out.path, stdout, out.write); err != nil {
			return fmt.Errorf("writing %s: %w", out.what, err)
		}
	}
	return nil
}

// saveSchedule writes the fault schedule of the options' (first) seed, as
// sim.Run will follow it, to -save-schedule: written before the run, it is
// there even when the run never ends. A simulated run's is a plan: with
// the parameters swarm picked (protocol, recovery, brokers), so that
// `-schedule file` alone replays it.
func saveSchedule(o options, stdout io.Writer) error {
	cfg := o.cfg
	cfg.Seed = o.firstSeed
	resolved, sched, err := cfg.Resolve()
	out := func() []byte { return sim.PlanOf(resolved, sched, nil).MarshalIndent() }
	if len(o.bootstrap) > 0 {
		_, sched, err = live.Resolve(o.liveConfig())
		out = sched.MarshalIndent
	}
	if err != nil {
		return fmt.Errorf("-save-schedule: %s", oneLine(err))
	}
	if err := writeTo(o.saveSchedulePath, stdout, func(w io.Writer) error {
		_, err := w.Write(out())
		return err
	}); err != nil {
		return fmt.Errorf("writing schedule: %w", err)
	}
	return nil
}

func writeTo(path string, stdout io.Writer, write func(io.Writer) error) error {
	if path == "-" {
		return write(stdout)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
