// Package history owns the record of a run: the events an engine and a
// simulator emit while it happens, the snapshot of the topics once it is over,
// and their encodings (JSON Lines, trace hash).
//
// It sits below both sides of eosim: engine/ and sim/ write a History, and
// invariants/ reads one, without either importing the other. A History holds
// no wall-clock data and nothing that is legitimately random (producer ids,
// member ids), so the same run gives the same bytes.
package history

import (
	"slices"
	"sync"
	"time"
)

// Kind names what an Event records.
type Kind string

// The kinds of event a History holds.
const (
	// KindInput is one input record produced by the workload.
	KindInput Kind = "input"
	// KindStart is an instance starting (first start or restart).
	KindStart Kind = "start"
	// KindStop is an instance shutting down cleanly.
	KindStop Kind = "stop"
	// KindCrash is an instance dying abruptly: connections cut, no
	// leave-group, no abort.
	KindCrash Kind = "crash"
	// KindAssign is an instance taking a new partition assignment.
	KindAssign Kind = "assign"
	// KindLoad is a store partition made ready for processing: restored
	// from the changelog, or taken from local state.
	KindLoad Kind = "load"
	// KindUnit is one unit of work (a transaction under exactly-once) and
	// its outcome.
	KindUnit Kind = "unit"
	// KindFault is a fault fired by the simulator.
	KindFault Kind = "fault"
	// KindNote is free text from the simulator (phase changes and the like).
	KindNote Kind = "note"
	// KindDB is one database transaction of an instance, as the instance
	// tells it: a claim of partitions on assignment, or a unit's write.
	KindDB Kind = "db"
)

// Outcome is what became of a unit of work, as far as its instance knows.
type Outcome string

// The outcomes of a unit of work.
const (
	// Committed: the instance saw the commit succeed.
	Committed Outcome = "committed"
	// Aborted: the instance aborted the transaction itself.
	Aborted Outcome = "aborted"
	// Crashed: the instance died before it asked to commit. Under a
	// transaction the broker aborts it (on timeout or fencing); without one,
	// whatever was already produced stays visible.
	Crashed Outcome = "crashed"
	// Unknown: the commit was asked for but its answer never arrived; the
	// broker may have committed or aborted. Checkers must accept both.
	Unknown Outcome = "unknown"
)

// Header is one record header.
type Header struct {
	Key   string `json:"k"`
	Value string `json:"v"`
}

// Record is one Kafka record as a checker needs to see it.
type Record struct {
	Topic     string   `json:"topic"`
	Partition int32    `json:"p"`
	Offset    int64    `json:"o"`
	Key       string   `json:"key,omitempty"`
	Value     string   `json:"value,omitempty"`
	Headers   []Header `json:"headers,omitempty"`
}

// Header returns the value of the first header named key.
func (r Record) Header(key string) (string, bool) {
	for _, h := range r.Headers {
		if h.Key == key {
			return h.Value, true
		}
	}
	return "", false
}

// Offset is a committed consumer position: the next offset to read.
type Offset struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"p"`
	Offset    int64  `json:"o"`
}

// Unit is one unit of work: the input records it processed, the records it
// produced (outputs and changelog, with the offsets the broker gave them),
// the consumer offsets it committed, and what became of it.
type Unit struct {
	// ID names the unit uniquely within a run: instance, incarnation and
	// sequence number, e.g. "a.1#17".
	ID string `json:"id"`
	// Transactional is true when the unit ran inside a Kafka transaction.
	Transactional bool    `json:"txn"`
	Outcome       Outcome `json:"outcome"`
	// Reason says why a unit did not commit (crash point, error).
	Reason   string   `json:"reason,omitempty"`
	Consumed []Record `json:"consumed,omitempty"`
	Produced []Record `json:"produced,omitempty"`
	// SideEffects are records sent outside the unit (a peek's plain
	// producer): visible whatever the outcome.
	SideEffects []Record `json:"side_effects,omitempty"`
	Offsets     []Offset `json:"offsets,omitempty"`
}

// Load is a store partition made ready for processing.
type Load struct {
	Store     string `json:"store"`
	Topic     string `json:"changelog"`
	Partition int32  `json:"p"`
	// Source is "changelog" (restored) or "local" (kept from before).
	Source string `json:"source"`
	// From and Upto are the changelog offsets read: [From, Upto).
	From int64 `json:"from"`
	Upto int64 `json:"upto"`
	// State is the store partition's content once loaded, sorted by key.
	State []KV `json:"state"`
}

// DBTxn is one database transaction of an instance: what it was for, what
// the database answered, and what it wrote. It is the instance's claim; the
// database's tables, read at the end of the run, are the evidence.
type DBTxn struct {
	// Unit is the unit of work the transaction belongs to; empty for a
	// claim on assignment.
	Unit string `json:"unit,omitempty"`
	// Purpose is "claim" (partitions taken over, positions read) or
	// "write" (a unit's effects).
	Purpose string `json:"purpose"`
	// Outcome is "committed", "rolled-back", "refused" (the fencing
	// check failed) or "unknown" (the commit was sent and its answer
	// lost).
	Outcome string `json:"outcome"`
	Reason  string `json:"reason,omitempty"`
	// Applied and Skipped name the inputs (by their identity) whose
	// effects the transaction wrote, or left out as already applied.
	Applied []string `json:"applied,omitempty"`
	Skipped []string `json:"skipped,omitempty"`
	// Positions are the input positions the transaction read (a claim) or
	// wrote (a write), with Epoch the fencing token it held.
	Positions []Offset `json:"positions,omitempty"`
	Epoch     int64    `json:"epoch,omitempty"`
}

// The outcomes of a DBTxn.
const (
	DBCommitted  = "committed"
	DBRolledBack = "rolled-back"
	DBRefused    = "refused"
	DBUnknown    = "unknown"
)

// KV is one store entry.
type KV struct {
	Key   string `json:"k"`
	Value string `json:"v"`
}

// Event is one line of a History. Field order is the encoding order.
type Event struct {
	Seq int `json:"seq"`
	// T is virtual time since the run began.
	T        time.Duration `json:"t"`
	Kind     Kind          `json:"kind"`
	Instance string        `json:"instance,omitempty"`
	// Partitions is the new assignment of a KindAssign event.
	Partitions []int32 `json:"partitions,omitempty"`
	Input      *Record `json:"input,omitempty"`
	Unit       *Unit   `json:"unit,omitempty"`
	Load       *Load   `json:"load,omitempty"`
	DB         *DBTxn  `json:"db,omitempty"`
	// Fault names the fault of a KindFault event.
	Fault  string `json:"fault,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// History is the ordered list of events of one run.
type History struct {
	Events []Event `json:"events"`
}

// Recorder receives events from the parts of a run. Implementations must be
// safe for concurrent use.
type Recorder interface {
	Record(Event)
}

// Log is a Recorder that appends to a History, numbering events and stamping
// them with the time its clock gives relative to its start.
type Log struct {
	mu    sync.Mutex
	start time.Time
	now   func() time.Time
	h     History
}

// NewLog returns a Log whose timestamps come from now (in a simulation, the
// virtual clock).
func NewLog(now func() time.Time) *Log {
	return &Log{start: now(), now: now}
}

// Record implements Recorder.
func (l *Log) Record(ev Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	ev.Seq = len(l.h.Events)
	ev.T = l.now().Sub(l.start)
	l.h.Events = append(l.h.Events, ev)
}

// History returns what has been recorded so far. Events recorded later do
// not show in it, nor does an append to it reach the Log: the slice is the
// Log's own, clipped to its length (the Log only appends, past it), not a
// copy of a run's thousands of events.
func (l *Log) History() History {
	l.mu.Lock()
	defer l.mu.Unlock()
	return History{Events: slices.Clip(l.h.Events)}
}

// Inputs returns the input records recorded so far, in the order they were
// produced, without copying the rest of the History.
func (l *Log) Inputs() []Record {
	l.mu.Lock()
	defer l.mu.Unlock()
	return inputs(l.h.Events)
}

// Reserve makes room for n more events, for a recorder that knows how many
// are coming: grown one append at a time, the events of a run of a
// thousand inputs were copied over and over.
func (l *Log) Reserve(n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.h.Events = slices.Grow(l.h.Events, n)
}

// Discard is a Recorder that drops everything.
type Discard struct{}

// Record implements Recorder.
func (Discard) Record(Event) {}

// Units returns the unit events of h in order.
func (h History) Units() []*Unit {
	var us []*Unit
	for i := range h.Events {
		if u := h.Events[i].Unit; u != nil {
			us = append(us, u)
		}
	}
	return us
}

// Inputs returns the input records of h in the order they were produced.
func (h History) Inputs() []Record { return inputs(h.Events) }

func inputs(evs []Event) []Record {
	n := 0
	for i := range evs {
		if evs[i].Input != nil {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	rs := make([]Record, 0, n)
	for i := range evs {
		if evs[i].Input != nil {
			rs = append(rs, *evs[i].Input)
		}
	}
	return rs
}
