package sim

import (
	"context"
	"fmt"
	"runtime"
	"runtime/metrics"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/eosim/eosim/scenarios"
)

// BenchmarkDefaultRun measures one default run (1000 inputs, 4 partitions,
// 2 instances, crash rate 0.1) of each scenario, under its correct
// guarantee, per iteration, each a different seed.
func BenchmarkDefaultRun(b *testing.B) {
	for _, name := range scenarios.Names() {
		b.Run(name, func(b *testing.B) {
			sc, err := scenarios.Lookup(name)
			if err != nil {
				b.Fatal(err)
			}
			cfg := DefaultConfig()
			cfg.Scenario, cfg.Guarantee = name, sc.Guarantees()[0]
			benchmarkRuns(b, cfg)
		})
	}
}

// BenchmarkSwarmRun measures one swarm run per iteration: each seed picks
// its fault families and rates, as `simrun -swarm` does.
func BenchmarkSwarmRun(b *testing.B) {
	cfg := DefaultConfig()
	cfg.Swarm = true
	benchmarkRuns(b, cfg)
}

// BenchmarkScale measures the orders default run as one of its sizes
// grows, the others at their defaults (1000 orders, 4 partitions, 2
// instances): how the cost of a run follows the orders, the partitions
// and the instances.
func BenchmarkScale(b *testing.B) {
	for _, size := range []struct {
		name                          string
		orders, partitions, instances int
	}{
		{"orders=1000", 1000, 4, 2},
		{"orders=4000", 4000, 4, 2},
		{"orders=16000", 16000, 4, 2},
		{"partitions=8", 1000, 8, 2},
		{"partitions=16", 1000, 16, 2},
		{"instances=4", 1000, 4, 4},
		{"instances=8", 1000, 4, 8},
		{"partitions=16,instances=8", 1000, 16, 8},
	} {
		b.Run(size.name, func(b *testing.B) {
			cfg := DefaultConfig()
			cfg.Inputs, cfg.Partitions, cfg.Instances = size.orders, size.partitions, size.instances
			benchmarkRuns(b, cfg)
		})
	}
}

// benchmarkRuns runs cfg with seeds 1, 2, … and reports, besides ns/op and
// allocs/op, how much virtual time a wall-clock second buys, the median
// run's wall time (p50-ns/op: a seed with a long recovery, or a collection
// that falls on one run, moves the mean and not the median), and the CPU
// time of a run (cpu-ns/op: every thread of the process, so the garbage
// collector's share is in it), the figure to compare on a busy machine, and
// the runtime memory a run left behind for good (kept-B/op: the growth of
// /memory/classes/other, where Go 1.26 loses 32 bytes for every WaitGroup
// waited to zero inside a synctest bubble; the runtime's one-time tables,
// built as the first runs meet new types, are in it too, spread over b.N,
// so compare figures taken at one -benchtime), and the goroutines a run
// started (goroutines/op: every one is a start, a stack and a hand-over).
//
// synctest.Test wants a *testing.T, which a benchmark does not have; the
// iterations run inside one nested test through testing.RunTests, which a
// test binary has already set up. One, not one per iteration: RunTests
// honours -count, and would run every iteration that many times.
func benchmarkRuns(b *testing.B, cfg Config) {
	if err := Available(); err != nil {
		b.Skip("the simulator needs franz-go's synctests build tag: go test -tags synctests -bench . ./sim/")
	}
	b.ReportAllocs()
	var virtual time.Duration
	var walls []time.Duration
	var failed error
	ran := false
	cpu0, cpuOK := processCPU()
	kept0, started0 := runtimeMetric(memoryOther), runtimeMetric(goroutinesCreated)
	// RunTests sets GOMAXPROCS to each value of -cpu in turn; the loop runs
	// under the benchmark's own (`-cpu 1,2` measures each), and the
	// benchmark ends with it.
	procs := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(procs)
	testing.RunTests(func(string, string) (bool, error) { return true, nil }, []testing.InternalTest{{
		Name: "runs",
		F: func(t *testing.T) {
			if ran {
				return // -count runs the nested test again; the loop is done
			}
			ran = true
			runtime.GOMAXPROCS(procs)
			for seed := uint64(1); failed == nil && b.Loop(); seed++ {
				cfg.Seed = seed
				began := time.Now()
				synctest.Test(t, func(*testing.T) {
					res, err := Run(context.Background(), cfg)
					if err != nil {
						failed = fmt.Errorf("seed %d: %w", seed, err)
						return
					}
					virtual += res.Stats.Virtual
				})
				walls = append(walls, time.Since(began))
			}
		},
	}})
	if failed != nil {
		b.Fatal(failed)
	}
	b.ReportMetric(virtual.Seconds()/b.Elapsed().Seconds(), "virtual-s/wall-s")
	if len(walls) > 0 {
		slices.Sort(walls)
		b.ReportMetric(float64(walls[len(walls)/2].Nanoseconds()), "p50-ns/op")
	}
	if b.N > 0 {
		b.ReportMetric(float64(runtimeMetric(memoryOther)-kept0)/float64(b.N), "kept-B/op")
		b.ReportMetric(float64(runtimeMetric(goroutinesCreated)-started0)/float64(b.N), "goroutines/op")
	}
	if cpu1, ok := processCPU(); cpuOK && ok && b.N > 0 {
		b.ReportMetric(float64(cpu1-cpu0)/float64(b.N), "cpu-ns/op")
	}
}

// The runtime metrics benchmarkRuns reports: the runtime's memory outside
// the heap, stacks and its own metadata (what a process keeps once
// allocated), and the goroutines started since the process began.
const (
	memoryOther       = "/memory/classes/other:bytes"
	goroutinesCreated = "/sched/goroutines-created:goroutines"
)

func runtimeMetric(name string) int64 {
	s := []metrics.Sample{{Name: name}}
	metrics.Read(s)
	return int64(s[0].Value.Uint64())
}
