package faults

import (
	"slices"

	"github.com/eosim/eosim/engine"
)

// ByteSource reads small numbers from a byte string and yields zeros once
// it runs out, so that every byte string, the empty one included, decodes
// to something valid. It is how a fuzzer's input becomes a run.
type ByteSource struct{ data []byte }

// NewByteSource reads from data.
func NewByteSource(data []byte) *ByteSource { return &ByteSource{data: data} }

// IntN returns a number in [0, n) taken from the next byte (n <= 256).
func (b *ByteSource) IntN(n int) int {
	if len(b.data) == 0 || n <= 1 {
		return 0
	}
	v := int(b.data[0]) % n
	b.data = b.data[1:]
	return v
}

// maxDecodedFaults and maxDecodedStep bound a decoded schedule.
const (
	maxDecodedFaults = 6
	maxDecodedStep   = 30
)

// FromBytes decodes a schedule over instances from src: up to six faults of
// any kind, at steps below 30, sorted by step. Every input gives a valid
// schedule; fewer bytes give fewer, earlier, simpler faults.
func FromBytes(src *ByteSource, instances []string) Schedule {
	points := engine.CrashPoints()
	// The database kinds are left out: the fuzzed scenario has no
	// database, and decoded schedules keep their meaning.
	kinds := slices.DeleteFunc(Kinds(), Kind.IsDatabase)
	n := src.IntN(maxDecodedFaults + 1)
	fs := make([]Fault, 0, n)
	for range n {
		f := Fault{
			Step:         src.IntN(maxDecodedStep + 1),
			Kind:         kinds[src.IntN(len(kinds))],
			Instance:     instances[src.IntN(len(instances))],
			RestartAfter: 1 + src.IntN(maxRestartAfter),
		}
		if f.Kind.HasPoint() {
			f.Point = points[src.IntN(len(points))]
			if f.Point == engine.AfterProcess {
				f.Index = src.IntN(maxIndex)
			}
		}
		switch f.Kind {
		case Pause:
			f.PauseMs = pauseChoices[src.IntN(len(pauseChoices))]
		case BrokerError:
			reqs := BrokerErrorRequests()
			f.Request = reqs[src.IntN(len(reqs))]
			f.Error = brokerErrors[f.Request][src.IntN(len(brokerErrors[f.Request]))]
		case Drop:
			f.Request = droppable[src.IntN(len(droppable))]
		case Delay:
			f.Request = delayable[src.IntN(len(delayable))]
			f.DelayMs = delayChoices[src.IntN(len(delayChoices))]
		case Rewrite:
			rws := Rewrites()
			f.Rewrite = rws[src.IntN(len(rws))]
			f.Request = rewrites[f.Rewrite][src.IntN(len(rewrites[f.Rewrite]))]
		case LeaderMove, CoordinatorMove, BrokerRestart:
			f.Instance, f.RestartAfter = "", 0
			if f.Kind == LeaderMove {
				f.Partition = int32(src.IntN(maxPartitions))
			}
		}
		fs = append(fs, f)
	}
	slices.SortStableFunc(fs, func(a, b Fault) int { return a.Step - b.Step })
	return Schedule{Faults: fs}
}
