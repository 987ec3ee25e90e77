// Package clientlog owns kgo's debug log of a run's instances: one writer
// that every client shares, each line stamped with the time since the run
// began (virtual in a simulation, wall time in a live run) and the name of
// the instance whose client wrote it.
package clientlog

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Locked returns a writer that passes each Write to w whole, one at a time,
// so that the lines of several clients never interleave; nil stays nil.
func Locked(w io.Writer) io.Writer {
	if w == nil {
		return nil
	}
	return &lockedWriter{w: w}
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// Logger is the logger of instance name's clients: kgo's debug log to w
// (from Locked), stamped with the time since start; with no w, nil (no log).
func Logger(w io.Writer, name string, start time.Time) kgo.Logger {
	if w == nil {
		return nil
	}
	return kgo.BasicLogger(w, kgo.LogLevelDebug, func() string {
		return fmt.Sprintf("%10.6fs %s ", time.Since(start).Seconds(), name)
	})
}
