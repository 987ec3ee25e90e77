package engine

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/eosim/eosim/history"
)

// Topology is what an application computes: one source topic, a processor
// that reads and writes named key-value stores and forwards records, and the
// sink topics it forwards to. A record forwarded to a sink keeps the
// partition of the input it came from, as Kafka Streams keeps a task's
// partition (the source, the changelogs and the sinks must have the same
// partition count). A topology of several stages, joined by repartition
// topics, sets Stages instead of Source, Stores, Sinks and Process.
type Topology struct {
	Source string
	Stores []string
	Sinks  []string
	// Process handles one input record. It must be a deterministic
	// function of the record and the store contents: the engine may run it
	// again on the same record after an abort.
	Process func(ctx *ProcessContext, rec history.Record) error
	// Database, when set, is where the topology's effects go instead:
	// Process and Sinks are then not used.
	Database *Database
	// Stages, when set, make a multi-stage topology (see Stage). Every
	// topic a multi-stage topology reads or writes, repartition topics
	// included, has the same partition count.
	Stages []Stage
}

// ChangelogTopic is the topic holding the changes of store for application
// appID, named as Kafka Streams names it.
func ChangelogTopic(appID, store string) string {
	return appID + "-" + store + "-changelog"
}

// Validate refuses a topology that cannot run: a missing source, processor
// or sink, and for a multi-stage one a store or topic claimed twice, a
// repartition topic nobody writes or reads, or a cycle (see Stage).
func (t *Topology) Validate() error { return t.validate() }

func (t *Topology) validate() error {
	if t == nil {
		return errors.New("topology: missing")
	}
	if len(t.Stages) > 0 {
		return t.validateStages()
	}
	if t.Source == "" {
		return errors.New("topology: missing source topic")
	}
	if t.Database != nil {
		if t.Database.Apply == nil || t.Database.InputID == nil {
			return errors.New("topology: database without Apply or InputID")
		}
		return nil
	}
	if t.Process == nil {
		return errors.New("topology: missing processor")
	}
	if len(t.Sinks) == 0 {
		return errors.New("topology: no sink topics")
	}
	return nil
}

// ProcessContext is the processor's view of the unit of work: the stores of
// the record's partition and a way to forward records. Writes and forwards
// are buffered and take effect only if the unit commits.
type ProcessContext struct {
	partition int32
	stage     *Stage
	// repartitions maps the stage's repartition names to their topics and
	// partition counts.
	repartitions map[string]repartitionTopic
	// keyedSinks maps the topology's keyed sinks to their partition counts.
	keyedSinks map[string]int
	stores     map[string]*storePartition
	// earlier holds, per store, what the unit's earlier records of this
	// partition wrote (nil: deleted), which the store does not hold yet.
	earlier map[string]map[string]*string
	// writeLog is the record's own writes, in order (a value of nil: a
	// delete); a record makes a few, and Get looks through them from the
	// last.
	writeLog []storeWrite
	forwards []history.Record
	err      error
}

type storeWrite struct {
	store, key string
	value      *string
}

// Partition is the partition of the record being processed.
func (c *ProcessContext) Partition() int32 { return c.partition }

// Get returns a store entry, seeing the unit's own earlier writes.
func (c *ProcessContext) Get(store, key string) (string, bool) {
	if w, ok := c.written(store, key); ok {
		if w == nil {
			return "", false
		}
		return *w, true
	}
	if w, ok := c.earlier[store][key]; ok {
		if w == nil {
			return "", false
		}
		return *w, true
	}
	sp, ok := c.stores[store]
	if !ok {
		c.fail(fmt.Errorf("get from unknown store %q", store))
		return "", false
	}
	v, ok := sp.data[key]
	return v, ok
}

// PrefixScan returns the entries of store whose keys start with prefix,
// sorted by key, seeing the unit's own earlier writes (Kafka Streams'
// prefixScan). A processor that must find every entry of a group (a join's
// records waiting for their other side) keys them group+separator+id and
// scans: one key per entry keeps each write independent of the order
// the entries came in, which a list under the group's key would not.
func (c *ProcessContext) PrefixScan(store, prefix string) []history.KV {
	sp, ok := c.stores[store]
	if !ok {
		c.fail(fmt.Errorf("scan of unknown store %q", store))
		return nil
	}
	seen := make(map[string]bool)
	var out []history.KV
	// The record's own writes (the last of a key's), then the unit's
	// earlier records', then the store: the first layer that has a key
	// decides it.
	for i := len(c.writeLog) - 1; i >= 0; i-- {
		wr := c.writeLog[i]
		if wr.store == store && strings.HasPrefix(wr.key, prefix) && !seen[wr.key] {
			seen[wr.key] = true
			if wr.value != nil {
				out = append(out, history.KV{Key: wr.key, Value: *wr.value})
			}
		}
	}
	for k, w := range c.earlier[store] {
		if strings.HasPrefix(k, prefix) && !seen[k] {
			seen[k] = true
			if w != nil {
				out = append(out, history.KV{Key: k, Value: *w})
			}
		}
	}
	for k, v := range sp.data {
		if strings.HasPrefix(k, prefix) && !seen[k] {
			out = append(out, history.KV{Key: k, Value: v})
		}
	}
	slices.SortFunc(out, func(a, b history.KV) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// Put writes a store entry.
func (c *ProcessContext) Put(store, key, value string) { c.write(store, key, &value) }

// Delete removes a store entry.
func (c *ProcessContext) Delete(store, key string) { c.write(store, key, nil) }

func (c *ProcessContext) write(store, key string, value *string) {
	if _, ok := c.stores[store]; !ok {
		c.fail(fmt.Errorf("write to unknown store %q", store))
		return
	}
	c.writeLog = append(c.writeLog, storeWrite{store, key, value})
}

// written is the record's own last write of key in store, if it made one.
func (c *ProcessContext) written(store, key string) (value *string, ok bool) {
	for i := len(c.writeLog) - 1; i >= 0; i-- {
		if wr := c.writeLog[i]; wr.store == store && wr.key == key {
			return wr.value, true
		}
	}
	return nil, false
}

// Forward sends a record to a sink topic, in the partition of the record
// being processed.
func (c *ProcessContext) Forward(topic, key, value string, headers ...history.Header) {
	if !slices.Contains(c.stage.Sinks, topic) {
		c.fail(fmt.Errorf("forward to %q, which is not a sink of %s", topic, c.stage.what()))
		return
	}
	if slices.Contains(c.stage.KeyedSinks, topic) {
		c.fail(fmt.Errorf("forward to %q, which %s writes by key (ForwardByKey)", topic, c.stage.what()))
		return
	}
	c.emit(topic, c.partition, key, value, headers)
}

// ForwardByKey sends a record to one of the stage's KeyedSinks, in the
// partition its key hashes to (KeyPartition).
func (c *ProcessContext) ForwardByKey(topic, key, value string, headers ...history.Header) {
	n, ok := c.keyedSinks[topic]
	if !ok || !slices.Contains(c.stage.KeyedSinks, topic) {
		c.fail(fmt.Errorf("forward by key to %q, which is not a keyed sink of %s", topic, c.stage.what()))
		return
	}
	c.emit(topic, KeyPartition(key, n), key, value, headers)
}

// Repartition sends a record to the stage's repartition topic name, in the
// partition its key hashes to (KeyPartition).
func (c *ProcessContext) Repartition(name, key, value string, headers ...history.Header) {
	rt, ok := c.repartitions[name]
	if !ok || !slices.Contains(c.stage.Repartitions, name) {
		c.fail(fmt.Errorf("repartition to %q, which %s does not write", name, c.stage.what()))
		return
	}
	c.emit(rt.topic, KeyPartition(key, rt.partitions), key, value, headers)
}

// emit buffers a record the unit will produce.
func (c *ProcessContext) emit(topic string, partition int32, key, value string, headers []history.Header) {
	c.forwards = append(c.forwards, history.Record{
		Topic: topic, Partition: partition, Key: key, Value: value, Headers: headers,
	})
}

// repartitionTopic is a repartition topic as a unit writes it.
type repartitionTopic struct {
	topic      string
	partitions int
}

func (c *ProcessContext) fail(err error) {
	if c.err == nil {
		c.err = err
	}
}
