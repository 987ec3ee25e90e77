package main

import (
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/eosim/eosim/sim"
)

// runProgress shows a long single run's progress on a terminal: the driver
// stores how far it has come (sim.Config.Progress, inside the run's bubble,
// where time is virtual), and a goroutine outside it prints the latest once
// a wall-clock second.
type runProgress struct {
	latest atomic.Pointer[sim.Progress]
	w      io.Writer
	stop   chan struct{}
	done   chan struct{}
}

// watchProgress starts printing the progress cfg's run reports to w, if w
// is set (a terminal); stop ends it and clears the line.
func watchProgress(cfg *sim.Config, w io.Writer) (stop func()) {
	if w == nil {
		return func() {}
	}
	p := &runProgress{w: w, stop: make(chan struct{}), done: make(chan struct{})}
	cfg.Progress = func(pr sim.Progress) { p.latest.Store(&pr) }
	go p.print(time.Second)
	return func() {
		close(p.stop)
		<-p.done
	}
}

func (p *runProgress) print(every time.Duration) {
	defer close(p.done)
	t := time.NewTicker(every)
	defer t.Stop()
	shown := false
	for {
		select {
		case <-p.stop:
			if shown {
				fmt.Fprint(p.w, "\r\033[K")
			}
			return
		case <-t.C:
			if pr := p.latest.Load(); pr != nil {
				fmt.Fprint(p.w, "\r\033[K"+progressLine(*pr))
				shown = true
			}
		}
	}
}

// progressLine says how far a run has come.
func progressLine(p sim.Progress) string {
	phase := fmt.Sprintf("step %d of the %d-step fault phase", p.Step, p.FaultSteps)
	if p.Step >= p.FaultSteps {
		phase = fmt.Sprintf("step %d, liveness phase", p.Step)
	}
	return fmt.Sprintf("%s, %v of virtual time", phase, p.Virtual.Round(time.Millisecond))
}
