package main

import (
	"bytes"
	"strings"
	"sync"
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

// lockedBuffer is a bytes.Buffer the printer and the test may share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestProgressIsPrintedAndCleared: the latest progress the run stored is
// printed on one line, and the line is cleared when the run ends. The
// deadline only detects a printer that never prints.
func TestProgressIsPrintedAndCleared(t *testing.T) {
	var out lockedBuffer
	p := &runProgress{w: &out, stop: make(chan struct{}), done: make(chan struct{})}
	go p.print(time.Millisecond)
	p.latest.Store(&sim.Progress{Step: 3, FaultSteps: 25, Virtual: time.Second})
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "step 3 of the 25-step fault phase") },
		10*time.Second, time.Millisecond)
	close(p.stop)
	<-p.done
	require.True(t, strings.HasSuffix(out.String(), "\r\033[K"), "the line was not cleared: %q", out.String())
}

// TestNoTerminalNoProgress: without a terminal nothing is watched, and the
// run's config is left as it was.
func TestNoTerminalNoProgress(t *testing.T) {
	var cfg sim.Config
	watchProgress(&cfg, nil)()
	require.Nil(t, cfg.Progress)
}
