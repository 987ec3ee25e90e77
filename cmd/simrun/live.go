package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/eosim/eosim/live"
	"github.com/eosim/eosim/sim"
)

// liveOptions checks -bootstrap and the flags that go with it: one run,
// none of the simulator's own outputs or sweeps.
func (o *options) liveOptions(bootstrap string) error {
	if !o.set["bootstrap"] {
		for _, f := range []string{"keep", "connect-timeout"} {
			if o.set[f] {
				return fmt.Errorf("-%s goes with -bootstrap", f)
			}
		}
		return nil
	}
	for _, addr := range strings.Split(bootstrap, ",") {
		if addr = strings.TrimSpace(addr); addr != "" {
			o.bootstrap = append(o.bootstrap, addr)
		}
	}
	if len(o.bootstrap) == 0 {
		return errors.New("-bootstrap: want host:port[,host:port…]")
	}
	if o.connectTimeout <= 0 {
		return fmt.Errorf("-connect-timeout %v: need more than 0", o.connectTimeout)
	}
	for _, f := range []string{"seeds", "check-determinism", "shrink", "wire", "db", "brokers"} {
		if o.set[f] {
			return fmt.Errorf("-%s does not go with -bootstrap: a run against a real cluster is one run, in real time, on the cluster's brokers", f)
		}
	}
	return nil
}

// liveConfig is the live run the options ask for.
func (o options) liveConfig() live.Config {
	cfg := o.cfg
	cfg.Seed = o.firstSeed
	return live.Config{Run: cfg, Bootstrap: o.bootstrap, Keep: o.keep, ConnectTimeout: o.connectTimeout}
}

// runLive runs the options against the real cluster (run has opened the
// client log): output, History, report and exit codes as for a simulated
// run. An interrupted run's topics
// are removed and what it recorded is written.
func runLive(ctx context.Context, o options, stdout, stderr io.Writer) int {
	cfg := o.liveConfig()
	stopProgress := watchProgress(&cfg.Run, terminal(os.Stderr))
	start := time.Now()
	res, err := live.Run(ctx, cfg)
	stopProgress()
	out := outcome{res: res, wall: time.Since(start)}
	switch {
	case errors.Is(err, sim.ErrInterrupted):
		fmt.Fprintf(stderr, "simrun: %s; the run's topics are removed\n", oneLine(err))
		if werr := writeOutputs(o, res, stdout); werr != nil {
			fmt.Fprintf(stderr, "simrun: %v\n", werr)
		}
		return exitInterrupted
	case errors.Is(err, live.ErrUnreachable), errors.Is(err, live.ErrUnsupported):
		fmt.Fprintf(stderr, "simrun: %s\n", oneLine(err))
		return exitUsage
	case err != nil:
		fmt.Fprintf(stderr, "simrun: seed %d: %s\n", o.firstSeed, oneLine(err))
		return exitUnknown
	}
	printRun(stdout, o, out)
	if err := writeOutputs(o, res, stdout); err != nil {
		fmt.Fprintf(stderr, "simrun: %v\n", err)
		return exitUsage
	}
	return exitCode(res.Verdict())
}

// liveReplay is what a live run prints in place of a replay command.
func (o options) liveReplay(seed uint64) []string {
	return []string{
		"a run against a real cluster cannot be replayed from its seed: what each poll finds, and so where",
		"a crash falls, depends on the network; the same input and schedule, on the same cluster:",
		o.replayCommand(seed),
	}
}

// liveReplayNote is what the HTML report of a live run says above its
// command; empty for a simulated run, which its command replays.
func (o options) liveReplayNote() string {
	if len(o.bootstrap) == 0 {
		return ""
	}
	return "A run against a real cluster cannot be replayed from its seed: what each poll finds, and so where a crash falls, depends on the network."
}
