package sim

import (
	"context"
	"testing"
	"testing/synctest"
	"time"
)

// BenchmarkDefaultRun measures one default run (1000 orders, 4 partitions,
// 2 instances, crash rate 0.1) per iteration, each a different seed, and
// reports how much virtual time a wall-clock second buys.
//
// synctest.Test wants a *testing.T, which a benchmark does not have; each
// iteration runs as a nested test through testing.RunTests, which a test
// binary has already set up.
func BenchmarkDefaultRun(b *testing.B) {
	if err := Available(); err != nil {
		b.Skip("the simulator needs franz-go's synctests build tag: go test -tags synctests -bench . ./sim/")
	}
	var virtual time.Duration
	var failed error
	seed := uint64(0)
	b.ResetTimer()
	for b.Loop() {
		seed++
		cfg := DefaultConfig()
		cfg.Seed = seed
		testing.RunTests(func(string, string) (bool, error) { return true, nil }, []testing.InternalTest{{
			Name: "run",
			F: func(t *testing.T) {
				synctest.Test(t, func(*testing.T) {
					res, err := Run(context.Background(), cfg)
					if err != nil {
						failed = err
						return
					}
					virtual += res.Stats.Virtual
				})
			},
		}})
		if failed != nil {
			b.Fatalf("seed %d: %v", seed, failed)
		}
	}
	b.ReportMetric(virtual.Seconds()/b.Elapsed().Seconds(), "virtual-s/wall-s")
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(seed), "ms/run")
}
