// Package scenarios owns the catalogue of workloads a run can use: each
// scenario gives its topics, its topology, its input and the Spec its
// invariants are judged by.
package scenarios

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eosim/eosim/engine"
	"github.com/eosim/eosim/history"
	"github.com/eosim/eosim/invariants"
	"github.com/eosim/eosim/scenarios/orders"
	"github.com/eosim/eosim/scenarios/ordersdb"
)

// Params size a scenario's run.
type Params struct {
	AppID      string
	Seed       uint64
	Inputs     int
	Partitions int
	// Batch is the number of input records per produce request per
	// partition.
	Batch int
	// TopicPrefix goes before the name of every input and output topic:
	// a run on a shared cluster keeps its topics apart from any other's
	// (changelogs are apart already, named by AppID).
	TopicPrefix string
}

// Scenario is one workload.
type Scenario interface {
	Name() string
	// Topics maps every topic the run needs to its partition count.
	Topics(p Params) map[string]int32
	Topology(p Params) *engine.Topology
	// Guarantees lists the guarantees the scenario can run under, the
	// correct one first.
	Guarantees() []engine.Guarantee
	Spec(p Params) invariants.Spec
	// Produce writes the input and records an input event per record a
	// read_committed consumer will see.
	Produce(ctx context.Context, opts []kgo.Opt, p Params, rec history.Recorder) error
}

// registry holds the scenarios by name; Register adds one from outside.
var (
	registryMu sync.RWMutex
	registry   = map[string]Scenario{}
)

// ErrRegistered is wrapped by Register's error for a name already taken.
var ErrRegistered = errors.New("scenario already registered")

// Register adds a scenario, so that runs can name it (sim.Config.Scenario,
// simrun -scenario). Names are unique; "list" is taken by simrun.
func Register(s Scenario) error {
	name := s.Name()
	if name == "" || name == "list" || strings.ContainsAny(name, " \t\n,") {
		return fmt.Errorf("scenario name %q: want a word, not empty and not \"list\"", name)
	}
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, ok := registry[name]; ok {
		return fmt.Errorf("%w: %s", ErrRegistered, name)
	}
	registry[name] = s
	return nil
}

func init() {
	for _, s := range []Scenario{ordersScenario{w: orders.DefaultWorkload()}, ordersDBScenario{w: orders.DefaultWorkload()}} {
		if err := Register(s); err != nil {
			panic(err)
		}
	}
	for _, a := range builtInApps() {
		if err := registerApp(a, false); err != nil {
			panic(err)
		}
	}
}

// builtInApps are the apps every build registers.
func builtInApps() []App { return []App{WordCount(), EOSTest(), Join()} }

// Names lists the scenarios, sorted.
func Names() []string {
	registryMu.RLock()
	defer registryMu.RUnlock()
	ns := make([]string, 0, len(registry))
	for n := range registry {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	return ns
}

// Lookup returns the scenario named name.
func Lookup(name string) (Scenario, error) {
	registryMu.RLock()
	s, ok := registry[name]
	registryMu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("unknown scenario %q (want one of %s)", name, strings.Join(Names(), ", "))
	}
	return s, nil
}

// ordersScenario adapts scenarios/orders.
type ordersScenario struct{ w orders.Workload }

func (ordersScenario) Name() string { return "orders" }

func (o ordersScenario) Topics(p Params) map[string]int32 {
	s := o.Spec(p)
	n := int32(p.Partitions)
	return map[string]int32{s.InputTopic: n, s.OutputTopic: n, s.ChangelogTopic: n}
}

func (o ordersScenario) Topology(p Params) *engine.Topology {
	return orders.Topology(orders.TopicsWithPrefix(p.TopicPrefix), o.w.InitialStock)
}

func (ordersScenario) Guarantees() []engine.Guarantee { return engine.Guarantees() }

func (o ordersScenario) Spec(p Params) invariants.Spec {
	return orders.Spec(p.AppID, orders.TopicsWithPrefix(p.TopicPrefix), o.w.InitialStock)
}

func (o ordersScenario) Produce(ctx context.Context, opts []kgo.Opt, p Params, rec history.Recorder) error {
	w := o.w
	w.Orders = p.Inputs
	os, err := orders.Generate(p.Seed, w)
	if err != nil {
		return err
	}
	return orders.Produce(ctx, opts, orders.TopicsWithPrefix(p.TopicPrefix).Orders, os, p.Partitions, p.Batch, rec)
}

// ordersDBScenario adapts scenarios/ordersdb.
type ordersDBScenario struct{ w orders.Workload }

func (ordersDBScenario) Name() string { return "orders-db" }

func (ordersDBScenario) Topics(p Params) map[string]int32 {
	return map[string]int32{orders.TopicsWithPrefix(p.TopicPrefix).Orders: int32(p.Partitions)}
}

func (o ordersDBScenario) Topology(p Params) *engine.Topology {
	return ordersdb.Topology(orders.TopicsWithPrefix(p.TopicPrefix).Orders, o.w.InitialStock)
}

func (ordersDBScenario) Guarantees() []engine.Guarantee { return engine.DatabaseGuarantees() }

func (o ordersDBScenario) Spec(p Params) invariants.Spec {
	return ordersdb.Spec(orders.TopicsWithPrefix(p.TopicPrefix).Orders, o.w.InitialStock)
}

func (o ordersDBScenario) Produce(ctx context.Context, opts []kgo.Opt, p Params, rec history.Recorder) error {
	w := o.w
	w.Orders = p.Inputs
	return ordersdb.Produce(ctx, opts, orders.TopicsWithPrefix(p.TopicPrefix).Orders, w, p.Seed, p.Partitions, p.Batch, rec)
}
