package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/eosim/eosim/sim"
)

func TestProgressLineNamesThePhase(t *testing.T) {
	require.Equal(t, "step 12 of the 25-step fault phase, 1.2s of virtual time",
		progressLine(sim.Progress{Step: 12, FaultSteps: 25, Virtual: 1200 * time.Millisecond}))
	require.Equal(t, "step 30, liveness phase, 1m0s of virtual time",
		progressLine(sim.Progress{Step: 30, FaultSteps: 25, Virtual: time.Minute}))
}

// writes hands each write to the test; its buffer outlasts any test here.
type writes chan string

func (w writes) Write(p []byte) (int, error) { w <- string(p); return len(p), nil }

// TestProgressIsPrintedAndCleared: the latest progress the run stored is
// printed on one line, and the line is cleared when the run ends. The
// deadline only detects a printer that never prints.
func TestProgressIsPrintedAndCleared(t *testing.T) {
	out := make(writes, 1<<12)
	p := &runProgress{w: out, stop: make(chan struct{}), done: make(chan struct{})}
	p.latest.Store(&sim.Progress{Step: 3, FaultSteps: 25, Virtual: time.Second})
	go p.print(time.Millisecond)
	select {
	case first := <-out:
		require.Equal(t, "\r\033[Kstep 3 of the 25-step fault phase, 1s of virtual time", first)
	case <-time.After(10 * time.Second):
		t.Fatal("the progress was never printed")
	}
	close(p.stop)
	<-p.done
	close(out)
	last := ""
	for w := range out {
		last = w
	}
	require.Equal(t, "\r\033[K", last, "the line was not cleared")
}

// TestNoTerminalNoProgress: without a terminal nothing is watched, and the
// run's config is left as it was.
func TestNoTerminalNoProgress(t *testing.T) {
	var cfg sim.Config
	watchProgress(&cfg, nil)()
	require.Nil(t, cfg.Progress)
}
