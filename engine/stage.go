package engine

import (
	"errors"
	"fmt"
	"slices"

	"github.com/eosim/eosim/history"
)

// Stage is one sub-topology of a multi-stage Topology, as Kafka Streams
// splits a topology at its repartition topics: it reads its sources, reads
// and writes its own stores, and forwards records to sinks and to
// repartition topics that later stages read. Partition p of every topic a
// stage reads is one task; an instance runs the tasks of all its stages for
// the partitions the group gave it, in one transaction per unit.
type Stage struct {
	// Name names the stage in errors.
	Name string
	// Sources are the input topics the stage reads (co-partitioned: record
	// p of each is processed by task p).
	Sources []string
	// RepartitionSources name the repartition topics, written by earlier
	// stages, that the stage reads (RepartitionTopic gives their topics).
	RepartitionSources []string
	// Stores are the stage's own stores; no other stage may name them.
	Stores []string
	// Cached names the stores among Stores that have a record cache, as
	// Kafka Streams' stores have one by default: a unit writes a cached
	// store's changelog once per key it changed, with the key's last value,
	// instead of once per write. Reads and forwards are not cached (as with
	// a cached store in Kafka Streams' Processor API): only the changelog
	// is coalesced, so its committed history of a key is a subsequence of
	// what an uncached run writes (the oracle judges it so, see
	// invariants.Spec.CachedTopics).
	Cached []string
	// Sinks are output topics: a record forwarded to one keeps the
	// partition of the record being processed.
	Sinks []string
	// KeyedSinks name the sinks, among Sinks, that the stage writes by key
	// (ProcessContext.ForwardByKey): a record goes to the partition its key
	// hashes to, as Kafka Streams' to() with the default partitioner
	// writes, whatever partition the record being processed came from.
	KeyedSinks []string
	// Repartitions name the repartition topics the stage writes
	// (ProcessContext.Repartition): a record goes to the partition its key
	// hashes to, so that a later stage sees every record of a key in one
	// task.
	Repartitions []string
	// Process handles one record of the stage's sources; as
	// Topology.Process, a deterministic function of the record and the
	// stage's stores.
	Process func(ctx *ProcessContext, rec history.Record) error
}

// what names the stage in an error: "the topology" for a single-stage one.
func (s *Stage) what() string {
	if s.Name == "" {
		return "the topology"
	}
	return "stage " + s.Name
}

// RepartitionTopic is the topic of repartition topic name of application
// appID, named as Kafka Streams names it.
func RepartitionTopic(appID, name string) string {
	return appID + "-" + name + "-repartition"
}

// KeyPartition is the partition among n that a repartition record of key
// goes to: murmur2 of the key, as Kafka's default partitioner (and kgo's
// StickyKeyPartitioner) computes it, without the record kgo's partitioner
// would need allocated for every key.
func KeyPartition(key string, n int) int32 {
	return int32(int(murmur2(key)&0x7fffffff) % n)
}

// murmur2 is Kafka's murmur2 hash (Utils.murmur2), as kgo computes it.
func murmur2(key string) uint32 {
	const (
		seed uint32 = 0x9747b28c
		m    uint32 = 0x5bd1e995
		r           = 24
	)
	b := key
	h := seed ^ uint32(len(b))
	for len(b) >= 4 {
		k := uint32(b[3])<<24 | uint32(b[2])<<16 | uint32(b[1])<<8 | uint32(b[0])
		b = b[4:]
		k *= m
		k ^= k >> r
		k *= m
		h *= m
		h ^= k
	}
	switch len(b) {
	case 3:
		h ^= uint32(b[2]) << 16
		fallthrough
	case 2:
		h ^= uint32(b[1]) << 8
		fallthrough
	case 1:
		h ^= uint32(b[0])
		h *= m
	}
	h ^= h >> 13
	h *= m
	h ^= h >> 15
	return h
}

// stages is t as stages: its Stages, or the single stage its Source,
// Stores, Sinks and Process make.
func (t *Topology) stages() []Stage {
	if len(t.Stages) > 0 {
		return t.Stages
	}
	return []Stage{{Sources: []string{t.Source}, Stores: t.Stores, Sinks: t.Sinks, Process: t.Process}}
}

// SourceTopics are the topics t reads from outside the application, in
// stage order.
func (t *Topology) SourceTopics() []string {
	var out []string
	for _, s := range t.stages() {
		for _, src := range s.Sources {
			if !slices.Contains(out, src) {
				out = append(out, src)
			}
		}
	}
	return out
}

// SinkTopics are the output topics t writes, in stage order.
func (t *Topology) SinkTopics() []string {
	var out []string
	for _, s := range t.stages() {
		out = append(out, s.Sinks...)
	}
	return out
}

// CachedStores are the stores of every stage that have a record cache, in
// stage order.
func (t *Topology) CachedStores() []string {
	var out []string
	for _, s := range t.stages() {
		out = append(out, s.Cached...)
	}
	return out
}

// AllStores are the stores of every stage, in stage order.
func (t *Topology) AllStores() []string {
	var out []string
	for _, s := range t.stages() {
		out = append(out, s.Stores...)
	}
	return out
}

// RepartitionTopics are the topics of t's repartition topics for
// application appID, in stage order.
func (t *Topology) RepartitionTopics(appID string) []string {
	var out []string
	for _, s := range t.stages() {
		for _, name := range s.Repartitions {
			out = append(out, RepartitionTopic(appID, name))
		}
	}
	return out
}

// consumedTopics are the topics an instance of application appID consumes:
// the sources and the repartition topics.
func (t *Topology) consumedTopics(appID string) []string {
	return append(t.SourceTopics(), t.RepartitionTopics(appID)...)
}

// validateStages refuses a multi-stage topology that cannot run: a stage
// without sources or processor, a topic read by two stages, a store of two
// stages, a repartition topic nobody writes or nobody reads or written
// twice, a sink that is also read, and a cycle through repartition topics.
func (t *Topology) validateStages() error {
	if t.Source != "" || t.Process != nil || len(t.Stores) > 0 || len(t.Sinks) > 0 {
		return errors.New("topology: Stages together with Source, Process, Stores or Sinks; a multi-stage topology says everything in its stages")
	}
	if t.Database != nil {
		return errors.New("topology: a database with stages (a database topology has one source and no stages)")
	}
	reads := make(map[string]string)   // topic or repartition name → stage
	writers := make(map[string]string) // repartition name → stage
	stores := make(map[string]string)
	sinks := make(map[string]string)
	for i, s := range t.Stages {
		name := s.Name
		if name == "" {
			name = fmt.Sprintf("#%d", i)
		}
		if len(s.Sources)+len(s.RepartitionSources) == 0 {
			return fmt.Errorf("topology: stage %s reads nothing", name)
		}
		if s.Process == nil {
			return fmt.Errorf("topology: stage %s has no processor", name)
		}
		if len(s.Sinks)+len(s.Repartitions) == 0 {
			return fmt.Errorf("topology: stage %s writes nothing (no sinks, no repartition topics)", name)
		}
		for _, src := range s.Sources {
			if other, ok := reads[src]; ok {
				return fmt.Errorf("topology: topic %q read by stages %s and %s", src, other, name)
			}
			reads[src] = name
		}
		for _, r := range s.RepartitionSources {
			if other, ok := reads["repartition:"+r]; ok {
				return fmt.Errorf("topology: repartition topic %q read by stages %s and %s", r, other, name)
			}
			reads["repartition:"+r] = name
		}
		for _, st := range s.Stores {
			if other, ok := stores[st]; ok {
				return fmt.Errorf("topology: store %q in stages %s and %s (a store belongs to one stage)", st, other, name)
			}
			stores[st] = name
		}
		for _, k := range s.KeyedSinks {
			if !slices.Contains(s.Sinks, k) {
				return fmt.Errorf("topology: stage %s writes %q by key, which is not one of its sinks", name, k)
			}
		}
		for _, c := range s.Cached {
			if !slices.Contains(s.Stores, c) {
				return fmt.Errorf("topology: stage %s caches store %q, which is not one of its stores", name, c)
			}
		}
		for _, sk := range s.Sinks {
			if other, ok := sinks[sk]; ok && other != name {
				return fmt.Errorf("topology: sink %q written by stages %s and %s", sk, other, name)
			}
			sinks[sk] = name
		}
		for _, r := range s.Repartitions {
			if other, ok := writers[r]; ok {
				return fmt.Errorf("topology: repartition topic %q written by stages %s and %s", r, other, name)
			}
			writers[r] = name
		}
	}
	for sk := range sinks {
		if reader, ok := reads[sk]; ok {
			return fmt.Errorf("topology: sink %q is read by stage %s (a stage reads another's output through a repartition topic)", sk, reader)
		}
	}
	for _, s := range t.Stages {
		for _, r := range s.RepartitionSources {
			if _, ok := writers[r]; !ok {
				return fmt.Errorf("topology: stage %s reads repartition topic %q, which no stage writes", s.Name, r)
			}
		}
	}
	for r, w := range writers {
		if _, ok := reads["repartition:"+r]; !ok {
			return fmt.Errorf("topology: stage %s writes repartition topic %q, which no stage reads", w, r)
		}
	}
	if _, err := t.stageOrder(); err != nil {
		return err
	}
	return nil
}

// stageOrder is the stages in an order where every stage comes after the
// stages whose repartition topics it reads; a cycle is an error.
func (t *Topology) stageOrder() ([]Stage, error) {
	ss := t.stages()
	writer := make(map[string]int)
	for i, s := range ss {
		for _, r := range s.Repartitions {
			writer[r] = i
		}
	}
	const (
		unvisited = iota
		visiting
		done
	)
	state := make([]int, len(ss))
	var order []Stage
	var visit func(i int, path []string) error
	visit = func(i int, path []string) error {
		switch state[i] {
		case done:
			return nil
		case visiting:
			return fmt.Errorf("topology: a cycle through repartition topics: %v", append(path, ss[i].Name))
		}
		state[i] = visiting
		for _, r := range ss[i].RepartitionSources {
			if w, ok := writer[r]; ok {
				if err := visit(w, append(path, ss[i].Name)); err != nil {
					return err
				}
			}
		}
		state[i] = done
		order = append(order, ss[i])
		return nil
	}
	for i := range ss {
		if err := visit(i, nil); err != nil {
			return nil, err
		}
	}
	return order, nil
}
