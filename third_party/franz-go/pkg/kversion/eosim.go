package kversion

import (
	"maps"
	"sync"
)

// eosim: Stable builds its table once and hands out copies. Building it
// walks every Kafka release from 0.8.0, and kgo.NewClient calls Stable for
// every client; eosim starts a dozen clients a run, and the walk was 3% of
// a run's CPU.

var stable = sync.OnceValue(func() *Versions { return relversion(b44, c44, z39) })

func (vs *Versions) copyOf() *Versions {
	return &Versions{
		reqs:      maps.Clone(vs.reqs),
		supported: maps.Clone(vs.supported),
		finalized: maps.Clone(vs.finalized),
	}
}
