package main

import (
	"fmt"
	"io"
	"os"

	"github.com/eosim/eosim/report"
	"github.com/eosim/eosim/sim"
)

// writeOutputs writes the files a single run was asked for: the History as
// JSON Lines and as text, the HTML report, the schedule. A path of "-" is
// standard output.
func writeOutputs(o options, res sim.Result, stdout io.Writer) error {
	outputs := []struct {
		what, path string
		write      func(io.Writer) error
	}{
		{"history", o.historyPath, res.History.WriteJSONL},
		{"text history", o.historyTextPath, func(w io.Writer) error { return report.WriteText(w, res.History) }},
		{"report", o.reportPath, func(w io.Writer) error {
			return report.WriteHTML(w, report.Run{
				Title:   fmt.Sprintf("seed %d, %s", res.Config.Seed, res.Config.Guarantee),
				Params:  paramBlock(o, res),
				Replay:  o.replayCommand(res.Config.Seed),
				Verdict: string(res.Verdict()),
				History: res.History,
				Report:  res.Report,
			})
		}},
		{"schedule", o.saveSchedulePath, func(w io.Writer) error {
			_, err := w.Write(res.Schedule.MarshalIndent())
			return err
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
