package sim

import (
	"hash/fnv"
	"runtime"
	"strings"
	"time"
)

// retryBackoff is the deterministic retry ladder every simulated client
// uses in place of kgo's jittered one. slot tells the clients of one run
// apart (0 for the simulator's own, i+1 for instance i).
//
// The ladder is off the driver's 100ms grid and apart per client: a retry
// (the group loop's, after a dropped connection) must not come due at the
// instant the driver's next round does, or another client's. Within one
// client, requests that fail together (every request queued on a
// connection that dies) must not come due together either: their
// goroutines would then race to write to the new connection, and Go, not
// the seed, would pick which request the broker reads first. So each
// retry is also offset by the call path that asks for it (the heartbeat
// loop, a sharded OffsetFetch, the group loop…), which is the same in
// every run.
func retryBackoff(slot int) func(tries int) time.Duration {
	return func(tries int) time.Duration {
		return min(time.Duration(tries)*100*time.Millisecond, time.Second) +
			time.Duration(slot)*1100*time.Microsecond + 37*time.Microsecond +
			callPathOffset(2, onCallPath)
	}
}

// callPathOffset is a duration below a millisecond named by the functions
// on the calling goroutine's stack, skip frames up, that keep accepts: by
// their names, not their addresses, so that it is the same in every build
// of one version.
func callPathOffset(skip int, keep func(function string) bool) time.Duration {
	var pcs [64]uintptr
	n := runtime.Callers(skip+1, pcs[:])
	frames := runtime.CallersFrames(pcs[:n])
	h := fnv.New64a()
	for {
		f, more := frames.Next()
		if keep(f.Function) {
			h.Write([]byte(f.Function))
			h.Write([]byte{0})
		}
		if !more {
			break
		}
	}
	return time.Duration(h.Sum64() % uint64(time.Millisecond-37*time.Microsecond))
}

// onCallPath keeps the functions of franz-go and of the engine: only
// theirs, so that a retry's backoff is the same whether simrun or a test
// drives the run.
func onCallPath(function string) bool {
	return strings.HasPrefix(function, "github.com/twmb/franz-go/") ||
		strings.HasPrefix(function, "github.com/eosim/eosim/engine.")
}
