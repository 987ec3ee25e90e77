package faults

import (
	"testing"
)

// FuzzParse feeds arbitrary bytes to the schedule parser: it must never
// panic, and whatever it accepts must be valid and survive a round trip.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"faults": []}`))
	f.Add([]byte(`{"faults": [{"step": 1, "kind": "crash", "instance": "a", "point": "after-process", "index": 3, "restart_after": 2}]}`))
	f.Add([]byte(`{"faults": [{"step": 0, "kind": "shutdown", "instance": "b", "restart_after": 1}]}`))
	f.Add([]byte(`{"faults": [{"step": -1}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data)
		if err != nil {
			return
		}
		if err := s.Validate(nil); err != nil {
			t.Fatalf("Parse accepted an invalid schedule: %v", err)
		}
		back, err := Parse(s.MarshalIndent())
		if err != nil {
			t.Fatalf("a parsed schedule does not parse again: %v", err)
		}
		if len(back.Faults) != len(s.Faults) {
			t.Fatalf("round trip changed the schedule: %d → %d faults", len(s.Faults), len(back.Faults))
		}
	})
}
