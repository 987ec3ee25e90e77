package faults

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/eosim/eosim/engine"
)

// Kind is a family of fault.
type Kind string

// The kinds of fault.
const (
	// Crash kills an instance abruptly at a crash point: connections cut,
	// no leave-group, no abort. It restarts RestartAfter steps after it
	// died (with the same name, so its transactional id fences its past).
	Crash Kind = "crash"
	// Shutdown closes an instance cleanly (checkpoint); it rejoins
	// RestartAfter steps later. As a static member it keeps its place in
	// the group meanwhile.
	Shutdown Kind = "shutdown"
	// Expire kills an instance abruptly at a crash point and keeps it down
	// until the group coordinator has expired its session and handed its
	// partitions to the others.
	Expire Kind = "expire"
	// Pause freezes an instance at a crash point for PauseMs of virtual
	// time: its unit stops where it is and its connections carry nothing,
	// heartbeats included. Long enough, the group moves its partitions and
	// the coordinator aborts its transaction; then it wakes as a zombie and
	// carries on, and must be fenced.
	Pause Kind = "pause"
	// Join starts an instance that was not running (a spare name, or one
	// that left).
	Join Kind = "join"
	// Leave closes an instance cleanly and takes it out of the group
	// (LeaveGroup by instance id, as an operator would); it comes back only
	// in the liveness phase.
	Leave Kind = "leave"
	// BrokerError makes the broker answer the instance's next Request with
	// Error. Most errors reject the request; REQUEST_TIMED_OUT on Produce,
	// TxnOffsetCommit and OffsetCommit is answered after the work is done.
	BrokerError Kind = "broker-error"
	// Drop cuts the instance's connections once its next Request is
	// written: the broker does the work, the answer is lost, the client
	// reconnects and retries or gives up.
	Drop Kind = "drop"
	// Delay holds the instance's next Request at the broker for DelayMs of
	// virtual time while the broker goes on with other connections' requests:
	// a request overtaken by later ones.
	Delay Kind = "delay"
	// Rewrite changes the broker's answer to the instance's next Request
	// in a way a real broker may and kfake never does (Rewrite names it:
	// throttle, reorder, partial, late-markers); it fires at the next
	// answer it changes (late-markers: at the next EndTxn that ends a
	// transaction with partitions, whose markers it holds back).
	Rewrite Kind = "rewrite"
	// LeaderMove hands the leadership of Partition, in every topic, to the
	// next broker. It names no instance.
	LeaderMove Kind = "leader-move"
	// CoordinatorMove rehashes every group and transaction coordinator to
	// other brokers. It names no instance.
	CoordinatorMove Kind = "coordinator-move"
	// BrokerRestart stops every broker and starts them again from their
	// data directories. It names no instance.
	BrokerRestart Kind = "broker-restart"
	// DBBusy makes the instance's next database transaction find the
	// database locked: the simulator holds SQLite's write lock from a
	// connection of its own, and BEGIN answers SQLITE_BUSY.
	DBBusy Kind = "db-busy"
	// DBLost loses the answer to the instance's next database commit: the
	// commit happens, the instance is told it failed, as when the
	// connection to a database server drops once COMMIT is sent.
	DBLost Kind = "db-lost"
	// DBSlow holds the instance's next database transaction for DelayMs
	// of virtual time before it begins, its heartbeats going on
	// meanwhile: a slow database, during which the group may move the
	// unit's partitions to an instance that writes them first.
	DBSlow Kind = "db-slow"
)

// Kinds lists every kind of fault.
func Kinds() []Kind {
	return []Kind{Crash, Shutdown, Expire, Pause, Join, Leave, BrokerError, Drop, Delay, LeaderMove, CoordinatorMove, BrokerRestart,
		DBBusy, DBLost, DBSlow, Rewrite}
}

// IsDatabase reports whether a kind acts on an instance's database calls.
func (k Kind) IsDatabase() bool { return k == DBBusy || k == DBLost || k == DBSlow }

// IsCluster reports whether a kind acts on the cluster rather than on an
// instance.
func (k Kind) IsCluster() bool { return k == LeaderMove || k == CoordinatorMove || k == BrokerRestart }

// HasPoint reports whether a kind strikes at a crash point.
func (k Kind) HasPoint() bool { return k == Crash || k == Expire || k == Pause }

// PauseChoices are the pause lengths the generators draw from, in virtual
// milliseconds: below the session timeout, beyond it, and beyond the
// transaction timeout.
func PauseChoices() []int { return slices.Clone(pauseChoices) }

// Fault is one scheduled fault.
type Fault struct {
	Step     int    `json:"step"`
	Kind     Kind   `json:"kind"`
	Instance string `json:"instance"`
	// Point is where a Crash hits; Index the record of the unit for
	// after-process (the last record if the unit is shorter).
	Point engine.CrashPoint `json:"point,omitempty"`
	Index int               `json:"index,omitempty"`
	// RestartAfter is the number of steps the instance stays down.
	RestartAfter int `json:"restart_after"`
	// PauseMs is how long a Pause freezes its instance, in virtual
	// milliseconds.
	PauseMs int `json:"pause_ms,omitempty"`
	// Request and Error name a BrokerError's Kafka request and error code
	// (kerr names, e.g. "EndTxn", "TRANSACTION_ABORTABLE"); a Drop names
	// only the Request.
	Request string `json:"request,omitempty"`
	Error   string `json:"error,omitempty"`
	// Partition is the partition a LeaderMove moves, in every topic.
	Partition int32 `json:"partition,omitempty"`
	// DelayMs is how long a Delay holds its request, in virtual
	// milliseconds.
	DelayMs int `json:"delay_ms,omitempty"`
	// Band, in place of DelayMs, holds a Delay's request for a length
	// measured against the holding client's own timeouts (see Band).
	Band Band `json:"band,omitempty"`
	// Rewrite names how a Rewrite changes the answer to its Request
	// (Throttle, Reorder, Partial, LateMarkers).
	Rewrite string `json:"rewrite,omitempty"`
	// Applied makes a BrokerError's broker do the work, then answer with
	// Error: the answer a broker gives when it failed after acting (a
	// timeout waiting on replicas, a coordinator that moved meanwhile).
	Applied bool `json:"applied,omitempty"`
}

// String renders a fault on one line.
func (f Fault) String() string {
	switch f.Kind {
	case Crash:
		return fmt.Sprintf("step %d: crash %s at %s, restart after %d", f.Step, f.Instance, f.at(), f.RestartAfter)
	case Expire:
		return fmt.Sprintf("step %d: crash %s at %s, restart once its session expired", f.Step, f.Instance, f.at())
	case Pause:
		return fmt.Sprintf("step %d: pause %s at %s for %dms", f.Step, f.Instance, f.at(), f.PauseMs)
	case Join:
		return fmt.Sprintf("step %d: %s joins", f.Step, f.Instance)
	case Leave:
		return fmt.Sprintf("step %d: %s leaves the group", f.Step, f.Instance)
	case BrokerError:
		how := "rejected"
		if f.Applied || appliedBeforeError(f.Request, f.Error) {
			how = "applied, then answered"
		}
		return fmt.Sprintf("step %d: %s's next %s %s with %s", f.Step, f.Instance, f.Request, how, f.Error)
	case Drop:
		return fmt.Sprintf("step %d: %s's connections dropped after its next %s is sent", f.Step, f.Instance, f.Request)
	case Delay:
		if f.Band != "" {
			return fmt.Sprintf("step %d: %s's next %s held %s at the broker", f.Step, f.Instance, f.Request, f.Band)
		}
		return fmt.Sprintf("step %d: %s's next %s held %dms at the broker", f.Step, f.Instance, f.Request, f.DelayMs)
	case Rewrite:
		return fmt.Sprintf("step %d: the answer to %s's next %s rewritten: %s", f.Step, f.Instance, f.Request, f.Rewrite)
	case DBBusy:
		return fmt.Sprintf("step %d: %s's next database transaction finds the database locked", f.Step, f.Instance)
	case DBLost:
		return fmt.Sprintf("step %d: %s's next database commit happens, its answer lost", f.Step, f.Instance)
	case DBSlow:
		return fmt.Sprintf("step %d: %s's next database transaction held %dms before it begins", f.Step, f.Instance, f.DelayMs)
	case LeaderMove:
		return fmt.Sprintf("step %d: partition %d of every topic moves to the next broker", f.Step, f.Partition)
	case CoordinatorMove:
		return fmt.Sprintf("step %d: group and transaction coordinators move", f.Step)
	case BrokerRestart:
		return fmt.Sprintf("step %d: every broker restarts from its data directory", f.Step)
	default:
		return fmt.Sprintf("step %d: %s %s, restart after %d", f.Step, f.Kind, f.Instance, f.RestartAfter)
	}
}

func (f Fault) at() string {
	if f.Point == engine.AfterProcess {
		return fmt.Sprintf("%s[%d]", f.Point, f.Index)
	}
	return string(f.Point)
}

// Schedule is an ordered list of faults.
type Schedule struct {
	Faults []Fault `json:"faults"`
}

// String renders the schedule one fault per line.
func (s Schedule) String() string {
	if len(s.Faults) == 0 {
		return "(no faults)"
	}
	lines := make([]string, len(s.Faults))
	for i, f := range s.Faults {
		lines[i] = f.String()
	}
	return strings.Join(lines, "\n")
}

// At returns the faults of step, in schedule order.
func (s Schedule) At(step int) []Fault {
	var fs []Fault
	for _, f := range s.Faults {
		if f.Step == step {
			fs = append(fs, f)
		}
	}
	return fs
}

// Counts returns the number of faults of each kind.
func (s Schedule) Counts() map[Kind]int {
	c := make(map[Kind]int)
	for _, f := range s.Faults {
		c[f.Kind]++
	}
	return c
}

// MarshalIndent encodes the schedule as indented JSON.
func (s Schedule) MarshalIndent() []byte { return MarshalIndent(s) }

// MarshalIndent encodes a schedule file (a schedule, or a plan that embeds
// one) as indented JSON with a final newline.
func MarshalIndent(v any) []byte {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		panic(err) // plain structs always encode
	}
	return append(b, '\n')
}

// UnmarshalStrict decodes one JSON value into v, refusing unknown fields
// (a typo must never silently drop a fault) and trailing data. Its errors
// wrap ErrInvalid.
func UnmarshalStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("%w: trailing data after the schedule", ErrInvalid)
	}
	return nil
}

// ErrInvalid is wrapped by every error Parse and Validate return.
var ErrInvalid = errors.New("invalid schedule")

// Parse decodes and validates a schedule written by MarshalIndent.
// Unknown fields are errors, so a typo never silently drops a fault.
func Parse(data []byte) (Schedule, error) {
	var s Schedule
	if err := UnmarshalStrict(data, &s); err != nil {
		return Schedule{}, err
	}
	if err := s.Validate(nil); err != nil {
		return Schedule{}, err
	}
	return s, nil
}

// Validate checks every fault; with instances given, each fault must name
// one of them.
func (s Schedule) Validate(instances []string) error {
	for i, f := range s.Faults {
		if err := f.validate(instances); err != nil {
			return fmt.Errorf("%w: fault %d (%s): %w", ErrInvalid, i, f.Kind, err)
		}
		if i > 0 && f.Step < s.Faults[i-1].Step {
			return fmt.Errorf("%w: fault %d: step %d before step %d of the fault above", ErrInvalid, i, f.Step, s.Faults[i-1].Step)
		}
	}
	return nil
}

func (f Fault) validate(instances []string) error {
	if f.Step < 0 {
		return fmt.Errorf("step %d is negative", f.Step)
	}
	if f.RestartAfter < 0 {
		return fmt.Errorf("restart_after %d is negative", f.RestartAfter)
	}
	if f.Kind.IsCluster() {
		if f.Instance != "" {
			return fmt.Errorf("a %s names no instance", f.Kind)
		}
		if f.Partition < 0 || (f.Partition != 0 && f.Kind != LeaderMove) {
			return fmt.Errorf("partition %d: only a leader-move names one, and never a negative one", f.Partition)
		}
		if f.Point != "" || f.Request != "" || f.Error != "" || f.PauseMs != 0 || f.DelayMs != 0 || f.Band != "" || f.Rewrite != "" {
			return fmt.Errorf("a %s has only a step (and a partition)", f.Kind)
		}
		return nil
	}
	if f.Partition != 0 {
		return fmt.Errorf("a %s names no partition", f.Kind)
	}
	if f.Instance == "" {
		return errors.New("no instance")
	}
	if instances != nil && !slices.Contains(instances, f.Instance) {
		return fmt.Errorf("instance %q is not one of %s", f.Instance, strings.Join(instances, ", "))
	}
	if !slices.Contains(Kinds(), f.Kind) {
		return fmt.Errorf("unknown kind %q", f.Kind)
	}
	if f.Kind.HasPoint() {
		if _, err := engine.ParseCrashPoint(string(f.Point)); err != nil {
			return err
		}
		if f.Index < 0 {
			return fmt.Errorf("index %d is negative", f.Index)
		}
	} else if f.Point != "" || f.Index != 0 {
		return fmt.Errorf("a %s has no crash point", f.Kind)
	}
	if (f.Kind == Pause) != (f.PauseMs != 0) {
		return errors.New("pause_ms is set for a pause, and only for a pause")
	}
	if f.PauseMs < 0 || f.PauseMs > maxPauseMs {
		return fmt.Errorf("pause_ms %d is not in [1, %d]", f.PauseMs, maxPauseMs)
	}
	if f.Band != "" {
		if f.Kind != Delay || f.DelayMs != 0 {
			return errors.New("band is set for a delay, and only in place of delay_ms")
		}
		if _, err := ParseBand(string(f.Band)); err != nil {
			return err
		}
	} else if (f.Kind == Delay || f.Kind == DBSlow) != (f.DelayMs != 0) {
		return errors.New("delay_ms (or a band) is set for a delay, delay_ms for a db-slow, and only for those")
	}
	if f.DelayMs < 0 || f.DelayMs > maxPauseMs {
		return fmt.Errorf("delay_ms %d is not in [1, %d]", f.DelayMs, maxPauseMs)
	}
	if f.Applied && f.Kind != BrokerError {
		return errors.New("applied is set for a broker-error, and only for one")
	}
	if (f.Kind == Rewrite) != (f.Rewrite != "") {
		return errors.New("rewrite is set for a rewrite, and only for a rewrite")
	}
	switch f.Kind {
	case Rewrite:
		if f.Error != "" {
			return errors.New("a rewrite has no error")
		}
		return validateRewrite(f.Rewrite, f.Request)
	case BrokerError:
		return validateBrokerError(f.Request, f.Error, f.Applied)
	case Delay:
		if f.Error != "" {
			return errors.New("a delay has no error")
		}
		if f.Band != "" {
			// A hold in a band may hold any request an instance sends.
			return validateRequest(f.Request, clientRequests)
		}
		return validateRequest(f.Request, delayable)
	case Drop:
		if f.Error != "" {
			return errors.New("a drop has no error")
		}
		return validateRequest(f.Request, droppable)
	}
	if f.Request != "" || f.Error != "" {
		return fmt.Errorf("a %s has no request or error", f.Kind)
	}
	return nil
}
