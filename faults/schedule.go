// Package faults owns what can go wrong in a run, as data: a Schedule of
// faults at logical steps that prints, parses from JSON, replays, and is
// generated from a seed and rates. It describes faults; sim/ applies them.
//
// A step is one round of the simulator's driver, in which every live
// instance may do one unit of work. A crash fault arms its instance at its
// step; the instance dies at the named crash point of the next unit that
// reaches it. Where our fake departs from a real broker for a fault, the fault's
// doc says so.
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
	// Shutdown closes an instance cleanly (checkpoint, leave group); it
	// rejoins RestartAfter steps later.
	Shutdown Kind = "shutdown"
)

// Kinds lists every kind of fault.
func Kinds() []Kind { return []Kind{Crash, Shutdown} }

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
}

// String renders a fault on one line.
func (f Fault) String() string {
	switch f.Kind {
	case Crash:
		at := string(f.Point)
		if f.Point == engine.AfterProcess {
			at = fmt.Sprintf("%s[%d]", f.Point, f.Index)
		}
		return fmt.Sprintf("step %d: crash %s at %s, restart after %d", f.Step, f.Instance, at, f.RestartAfter)
	default:
		return fmt.Sprintf("step %d: %s %s, restart after %d", f.Step, f.Kind, f.Instance, f.RestartAfter)
	}
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
func (s Schedule) MarshalIndent() []byte {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		panic(err) // plain structs always encode
	}
	return append(b, '\n')
}

// ErrInvalid is wrapped by every error Parse and Validate return.
var ErrInvalid = errors.New("invalid schedule")

// Parse decodes and validates a schedule written by MarshalIndent.
// Unknown fields are errors, so a typo never silently drops a fault.
func Parse(data []byte) (Schedule, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var s Schedule
	if err := dec.Decode(&s); err != nil {
		return Schedule{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Schedule{}, fmt.Errorf("%w: trailing data after the schedule", ErrInvalid)
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
	if f.Instance == "" {
		return errors.New("no instance")
	}
	if instances != nil && !slices.Contains(instances, f.Instance) {
		return fmt.Errorf("instance %q is not one of %s", f.Instance, strings.Join(instances, ", "))
	}
	switch f.Kind {
	case Crash:
		if _, err := engine.ParseCrashPoint(string(f.Point)); err != nil {
			return err
		}
		if f.Index < 0 {
			return fmt.Errorf("index %d is negative", f.Index)
		}
	case Shutdown:
		if f.Point != "" {
			return errors.New("a shutdown has no crash point")
		}
	default:
		return fmt.Errorf("unknown kind %q", f.Kind)
	}
	return nil
}
