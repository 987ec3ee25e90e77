package faults

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/eosim/eosim/engine"
)

var instances = []string{"a", "b"}

func TestParseRoundTrip(t *testing.T) {
	s := Schedule{Faults: []Fault{
		{Step: 1, Kind: Crash, Instance: "a", Point: engine.AfterProcess, Index: 3, RestartAfter: 2},
		{Step: 4, Kind: Shutdown, Instance: "b", RestartAfter: 1},
	}}
	got, err := Parse(s.MarshalIndent())
	require.NoError(t, err)
	require.Equal(t, s, got)
	require.Equal(t, "step 1: crash a at after-process[3], restart after 2\nstep 4: shutdown b, restart after 1", s.String())
}

func TestParseRejects(t *testing.T) {
	for name, tc := range map[string]struct{ json, want string }{
		"not json":       {`{"faults": [`, "unexpected EOF"},
		"unknown field":  {`{"faults": [], "fault": []}`, `unknown field "fault"`},
		"trailing data":  {`{"faults": []} {}`, "trailing data"},
		"unknown kind":   {`{"faults": [{"step": 0, "kind": "explode", "instance": "a"}]}`, `unknown kind "explode"`},
		"unknown point":  {`{"faults": [{"step": 0, "kind": "crash", "instance": "a", "point": "mid-air"}]}`, `unknown crash point "mid-air"`},
		"negative step":  {`{"faults": [{"step": -1, "kind": "shutdown", "instance": "a"}]}`, "negative"},
		"no instance":    {`{"faults": [{"step": 0, "kind": "shutdown"}]}`, "no instance"},
		"out of order":   {`{"faults": [{"step": 2, "kind": "shutdown", "instance": "a"}, {"step": 1, "kind": "shutdown", "instance": "a"}]}`, "before step 2"},
		"shutdown point": {`{"faults": [{"step": 0, "kind": "shutdown", "instance": "a", "point": "after-poll"}]}`, "no crash point"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Parse([]byte(tc.json))
			require.Error(t, err)
			require.True(t, errors.Is(err, ErrInvalid), "error %v does not wrap ErrInvalid", err)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestValidateNamesInstances(t *testing.T) {
	s := Schedule{Faults: []Fault{{Step: 0, Kind: Shutdown, Instance: "z"}}}
	require.ErrorContains(t, s.Validate(instances), `instance "z" is not one of a, b`)
}

func TestGenerateIsAFunctionOfItsInputs(t *testing.T) {
	r := Rates{Crash: 0.2, Shutdown: 0.05}
	s1, err := Generate(7, r, instances, 50)
	require.NoError(t, err)
	s2, err := Generate(7, r, instances, 50)
	require.NoError(t, err)
	require.Equal(t, s1, s2)
	require.NotEmpty(t, s1.Faults)
	s3, err := Generate(8, r, instances, 50)
	require.NoError(t, err)
	require.NotEqual(t, s1, s3)
}

func TestGenerateRejectsBadRates(t *testing.T) {
	_, err := Generate(1, Rates{Crash: 1.5}, instances, 10)
	require.ErrorContains(t, err, "crash rate 1.5 is not in [0, 1]")
}

func TestGeneratedSchedulesAreValid(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		seed := rapid.Uint64().Draw(t, "seed")
		steps := rapid.IntRange(0, 100).Draw(t, "steps")
		r := Rates{
			Crash:    rapid.Float64Range(0, 1).Draw(t, "crash rate"),
			Shutdown: rapid.Float64Range(0, 1).Draw(t, "shutdown rate"),
		}
		s, err := Generate(seed, r, instances, steps)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Validate(instances); err != nil {
			t.Fatalf("generated an invalid schedule: %v", err)
		}
		back, err := Parse(s.MarshalIndent())
		if err != nil {
			t.Fatalf("generated schedule does not parse: %v", err)
		}
		if len(back.Faults) != len(s.Faults) {
			t.Fatalf("round trip lost faults: %d → %d", len(s.Faults), len(back.Faults))
		}
		for _, f := range s.Faults {
			if f.Step >= steps {
				t.Fatalf("fault %v beyond the %d steps", f, steps)
			}
		}
		if r.Crash == 0 && r.Shutdown == 0 && len(s.Faults) > 0 {
			t.Fatalf("rates of zero gave %d faults", len(s.Faults))
		}
	})
}

func TestEveryByteStringIsAValidSchedule(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		data := rapid.SliceOf(rapid.Byte()).Draw(t, "bytes")
		s := FromBytes(NewByteSource(data), instances)
		if err := s.Validate(instances); err != nil {
			t.Fatalf("bytes %x decoded to an invalid schedule: %v", data, err)
		}
	})
	require.Empty(t, FromBytes(NewByteSource(nil), instances).Faults, "no bytes, no faults")
	// Two faults: step 5, crash, b, restart 1, after-produce; then step 9
	// and zeros once the bytes run out. Sorted by step.
	s := FromBytes(NewByteSource([]byte{2, 5, 0, 1, 0, 2, 9}), instances)
	require.Equal(t, []Fault{
		{Step: 5, Kind: Crash, Instance: "b", Point: engine.AfterProduce, RestartAfter: 1},
		{Step: 9, Kind: Crash, Instance: "a", Point: engine.AfterPoll, RestartAfter: 1},
	}, s.Faults)
}
