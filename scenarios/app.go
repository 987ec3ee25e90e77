package scenarios

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eosim/eosim/engine"
	"github.com/eosim/eosim/history"
	"github.com/eosim/eosim/invariants"
	"github.com/eosim/eosim/scenarios/orders"
)

// App is an application of one's own, as eosim needs it to run and judge
// it: a topology (writing topics, or a database) and its input. It is judged by the generic oracle
// (invariants.OracleCheckers): its topology run once, serially and without
// faults, over the input the run committed, compared with every topic it
// writes. The topology must be a deterministic function of its input and
// stores (engine.Topology.Process says so).
type App struct {
	// Name names the scenario (simrun -scenario, sim.Config.Scenario).
	Name string
	// Topology builds the topology with prefix before every topic name
	// (sources and sinks; changelogs are named by the application id):
	// a run on a shared cluster keeps its topics apart.
	Topology func(prefix string) *engine.Topology
	// Input returns n input records drawn from seed, in the order they are
	// written; each goes to the partition of its topic its key hashes to
	// (Partition).
	Input func(seed uint64, n int) []Input
	// Partition, when set, is the partition among n of an input record's
	// key; by default FNV-1a, as orders partitions by product. An app whose
	// stage joins a source with a repartition topic sets engine.KeyPartition
	// (murmur2, as repartition records are written): a join's two sides
	// must be co-partitioned, or a key's records meet in no task.
	Partition func(key string, n int) int32
	// Varying, for a topology with a Database, names the columns whose
	// values differ between two runs that did the same (an autoincrement
	// id, the unit that wrote a row): the oracle leaves them out.
	Varying []string
	// Invariants are checkers of the app's own, run after the oracle's.
	// RegisterApp registers each as "<app name>/<its name>", which is also
	// the kind of its anomalies.
	Invariants []invariants.Checker
}

// Input is one input record of an App.
type Input struct {
	// Topic is the source topic it is written to, without the run's topic
	// prefix; empty means the topology's first (SourceTopics).
	Topic      string
	Key, Value string
}

// RegisterApp registers a as a scenario.
func RegisterApp(a App) error { return registerApp(a, true) }

// registerApp registers a, running it twice first (checkDeterministic)
// when check is set. The built-in apps are registered unchecked at init,
// where the runs took 16 ms of every process's start; a test runs the
// check on each of them instead (TestBuiltInAppsAreDeterministic).
func registerApp(a App, check bool) error {
	switch {
	case a.Topology == nil || a.Input == nil:
		return fmt.Errorf("app %q: Topology and Input are required", a.Name)
	}
	if err := a.Topology("").Validate(); err != nil {
		return fmt.Errorf("app %q: %w", a.Name, err)
	}
	if check {
		if err := a.checkDeterministic(); err != nil {
			return fmt.Errorf("app %q: %w", a.Name, err)
		}
	}
	if err := Register(appScenario{a}); err != nil {
		return err
	}
	for _, c := range a.appCheckers() {
		if err := invariants.Register(c); err != nil {
			return fmt.Errorf("app %q: %w", a.Name, err)
		}
	}
	return nil
}

// determinismSample is how many inputs checkDeterministic runs twice.
const determinismSample = 200

// checkDeterministic runs a topology that writes topics twice, serially,
// over the same sample of its input, and refuses it if the two runs write
// anything different: the oracle (and any replay) needs a topology that is
// a function of its input. Two runs cannot prove determinism, but they
// catch a clock, a random number or a map's order in what is written.
func (a App) checkDeterministic() error {
	t := a.Topology("")
	if t.Database != nil {
		return nil // its rows are compared by the oracle, Varying columns left out
	}
	const partitions = 4
	var inputs []history.Record
	type place struct {
		topic     string
		partition int32
	}
	next := make(map[place]int64)
	for _, in := range a.Input(1, determinismSample) {
		topic, err := a.inputTopic(t, "", in)
		if err != nil {
			return err
		}
		at := place{topic, a.partition(in.Key, partitions)}
		inputs = append(inputs, history.Record{Topic: topic, Partition: at.partition, Offset: next[at], Key: in.Key, Value: in.Value})
		next[at]++
	}
	first, err := engine.RunSerial(t, "determinism", partitions, inputs)
	if err != nil {
		return fmt.Errorf("a serial run of its topology: %w", err)
	}
	second, err := engine.RunSerial(a.Topology(""), "determinism", partitions, inputs)
	if err != nil {
		return fmt.Errorf("a serial run of its topology: %w", err)
	}
	for i := range max(len(first), len(second)) {
		if i >= len(first) || i >= len(second) || !sameRecord(first[i], second[i]) {
			return fmt.Errorf("its topology is not deterministic: two serial runs over the same %d inputs part at written record %d (%s)",
				len(inputs), i, describePair(first, second, i))
		}
	}
	return nil
}

// inputTopic is the topic of t, a topology built with prefix, that input
// in goes to; a topic t does not read is an error.
func (a App) inputTopic(t *engine.Topology, prefix string, in Input) (string, error) {
	if in.Topic == "" {
		return t.SourceTopics()[0], nil
	}
	if !slices.Contains(t.SourceTopics(), prefix+in.Topic) {
		return "", fmt.Errorf("an input record names topic %q, which is not a source of its topology (%v)", in.Topic, t.SourceTopics())
	}
	return prefix + in.Topic, nil
}

// partition is the partition among n of an input record keyed key.
func (a App) partition(key string, n int) int32 {
	if a.Partition != nil {
		return a.Partition(key, n)
	}
	return keyPartition(key, n)
}

func sameRecord(a, b history.Record) bool {
	return a.Topic == b.Topic && a.Partition == b.Partition && a.Key == b.Key && a.Value == b.Value && slices.Equal(a.Headers, b.Headers)
}

func describePair(first, second []history.Record, i int) string {
	show := func(rs []history.Record) string {
		if i >= len(rs) {
			return "nothing"
		}
		return fmt.Sprintf("%s[%d] %s=%s", rs[i].Topic, rs[i].Partition, rs[i].Key, rs[i].Value)
	}
	return show(first) + " then " + show(second)
}

// appCheckers are the app's invariants under their registered names.
func (a App) appCheckers() []invariants.Checker {
	cs := make([]invariants.Checker, len(a.Invariants))
	for i, c := range a.Invariants {
		name, check := a.Name+"/"+c.Name, c.Check
		cs[i] = invariants.Checker{Name: name, Check: func(spec invariants.Spec, run invariants.Run) invariants.Result {
			res := check(spec, run)
			for j := range res.Anomalies {
				res.Anomalies[j].Kind = name // a checker's name is its anomalies' kind
			}
			return res
		}}
	}
	return cs
}

// appScenario adapts an App.
type appScenario struct{ a App }

func (s appScenario) Name() string { return s.a.Name }

func (s appScenario) Topology(p Params) *engine.Topology { return s.a.Topology(p.TopicPrefix) }

// Guarantees are orders' (or orders-db's, for a topology with a
// database): each mistake mode is about transactions, offsets, state and
// how the database write is tied to them, not about what the topology
// computes.
func (s appScenario) Guarantees() []engine.Guarantee {
	t := s.a.Topology("")
	switch {
	case t.Database != nil:
		return engine.DatabaseGuarantees()
	case len(t.Stages) > 0:
		return append(engine.Guarantees(), engine.StageMistakes()...)
	}
	return engine.Guarantees()
}

func (s appScenario) Topics(p Params) map[string]int32 {
	t := s.Topology(p)
	n := int32(p.Partitions)
	topics := make(map[string]int32)
	for _, t := range slices.Concat(t.SourceTopics(), t.SinkTopics(), t.RepartitionTopics(p.AppID)) {
		topics[t] = n
	}
	for _, store := range t.AllStores() {
		topics[engine.ChangelogTopic(p.AppID, store)] = n
	}
	return topics
}

func (s appScenario) Spec(p Params) invariants.Spec {
	t := s.Topology(p)
	var written []string
	written = append(written, t.SinkTopics()...)
	for _, store := range t.AllStores() {
		written = append(written, engine.ChangelogTopic(p.AppID, store))
	}
	var names []string
	for _, c := range slices.Concat(invariants.OracleCheckers(), s.a.appCheckers()) {
		names = append(names, c.Name)
	}
	sources := t.SourceTopics()
	source := sources[0]
	if t.Database != nil {
		return invariants.Spec{
			InputTopic: source,
			DBOracle: func(inputs []history.Record) (map[string][]history.Row, error) {
				return engine.RunSerialDatabase(context.Background(), s.Topology(p), inputs)
			},
			Database: &invariants.DatabaseSpec{Varying: s.a.Varying},
			Checkers: names,
		}
	}
	return invariants.Spec{
		InputTopic:      source,
		MoreInputTopics: sources[1:],
		OutputTopic:     written[0],
		MoreTopics:      written[1:],
		CachedTopics:    cachedTopics(t, p.AppID),
		Oracle: func(inputs []history.Record) ([]history.Record, error) {
			return engine.RunSerial(s.Topology(p), p.AppID, p.Partitions, inputs)
		},
		Checkers: names,
	}
}

// cachedTopics are the changelogs of t's stores that have a record cache.
func cachedTopics(t *engine.Topology, appID string) []string {
	var out []string
	for _, store := range t.CachedStores() {
		out = append(out, engine.ChangelogTopic(appID, store))
	}
	return out
}

// Produce writes the app's input in batches of p.Batch records per
// partition, as orders.Produce does, and records an input event per record.
// The inputs of several source topics are written one topic after the
// other, in SourceTopics order: all of them are written before the run
// processes any, so which side of a join comes first is the run's doing.
func (s appScenario) Produce(ctx context.Context, opts []kgo.Opt, p Params, rec history.Recorder) error {
	t := s.Topology(p)
	byTopic := make(map[string][][]*kgo.Record)
	for _, topic := range t.SourceTopics() {
		byTopic[topic] = make([][]*kgo.Record, p.Partitions)
	}
	for _, in := range s.a.Input(p.Seed, p.Inputs) {
		topic, err := s.a.inputTopic(t, p.TopicPrefix, in)
		if err != nil {
			return fmt.Errorf("app %q: %w", s.a.Name, err)
		}
		part := s.a.partition(in.Key, p.Partitions)
		byTopic[topic][part] = append(byTopic[topic][part], &kgo.Record{Topic: topic, Partition: part, Key: []byte(in.Key), Value: []byte(in.Value)})
	}
	for _, topic := range t.SourceTopics() {
		if err := orders.ProduceByPartition(ctx, opts, byTopic[topic], p.Batch, rec); err != nil {
			return fmt.Errorf("writing %s: %w", topic, err)
		}
	}
	return nil
}

// keyPartition is the partition of key among n: FNV-1a, as orders
// partitions by product.
func keyPartition(key string, n int) int32 {
	h := fnv.New32a()
	h.Write([]byte(key))
	return int32(h.Sum32() % uint32(n))
}
