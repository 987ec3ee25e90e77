package faults

import (
	"errors"
	"slices"
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

func TestEveryKindValidatesAndPrints(t *testing.T) {
	for _, f := range []Fault{
		{Step: 1, Kind: Crash, Instance: "a", Point: engine.DuringCommit, RestartAfter: 2},
		{Step: 1, Kind: Shutdown, Instance: "a", RestartAfter: 2},
		{Step: 1, Kind: Expire, Instance: "a", Point: engine.AfterProduce},
		{Step: 1, Kind: Pause, Instance: "a", Point: engine.AfterProcess, Index: 2, PauseMs: 30_000},
		{Step: 1, Kind: Join, Instance: "b"},
		{Step: 1, Kind: Leave, Instance: "b"},
		{Step: 1, Kind: BrokerError, Instance: "a", Request: "EndTxn", Error: "TRANSACTION_ABORTABLE"},
		{Step: 1, Kind: BrokerError, Instance: "a", Request: "Produce", Error: "REQUEST_TIMED_OUT"},
		{Step: 1, Kind: Drop, Instance: "a", Request: "TxnOffsetCommit"},
	} {
		require.NoError(t, Schedule{Faults: []Fault{f}}.Validate(instances), "%+v", f)
		require.NotEmpty(t, f.String())
	}
	require.Equal(t, "step 1: a's next Produce applied, then answered with REQUEST_TIMED_OUT",
		Fault{Step: 1, Kind: BrokerError, Instance: "a", Request: "Produce", Error: "REQUEST_TIMED_OUT"}.String())
	// Beyond the catalogue: any error of the protocol's table, rejected or
	// applied first.
	for _, f := range []Fault{
		{Step: 1, Kind: BrokerError, Instance: "a", Request: "Fetch", Error: "OFFSET_OUT_OF_RANGE"},
		{Step: 1, Kind: BrokerError, Instance: "a", Request: "EndTxn", Error: "NOT_COORDINATOR", Applied: true},
	} {
		require.NoError(t, Schedule{Faults: []Fault{f}}.Validate(instances), "%+v", f)
		back, err := ParseCell(f.Cell())
		require.NoError(t, err)
		require.Equal(t, f.Applied, back.Applied)
	}
	require.Equal(t, "step 1: a's next EndTxn applied, then answered with NOT_COORDINATOR",
		Fault{Step: 1, Kind: BrokerError, Instance: "a", Request: "EndTxn", Error: "NOT_COORDINATOR", Applied: true}.String())
}

func TestCatalogueRejects(t *testing.T) {
	for name, tc := range map[string]struct {
		f    Fault
		want string
	}{
		"unknown request":    {Fault{Kind: BrokerError, Instance: "a", Request: "Fetchy", Error: "X"}, `request "Fetchy" is not one of`},
		"unknown error":      {Fault{Kind: BrokerError, Instance: "a", Request: "Fetch", Error: "X"}, `error "X" is not one a broker answers Fetch with, per Kafka's protocol`},
		"error not in table": {Fault{Kind: BrokerError, Instance: "a", Request: "EndTxn", Error: "OFFSET_OUT_OF_RANGE"}, `error "OFFSET_OUT_OF_RANGE" is not one a broker answers EndTxn with`},
		"applied, no effect": {Fault{Kind: BrokerError, Instance: "a", Request: "Metadata", Error: "REQUEST_TIMED_OUT", Applied: true}, "Metadata changes nothing at the broker"},
		"applied, refused":   {Fault{Kind: BrokerError, Instance: "a", Request: "EndTxn", Error: "PRODUCER_FENCED", Applied: true}, "PRODUCER_FENCED says the broker refused the request"},
		"done, refused":      {Fault{Kind: BrokerError, Instance: "a", Request: "Produce", Error: "DUPLICATE_SEQUENCE_NUMBER"}, "DUPLICATE_SEQUENCE_NUMBER says the broker has the work already"},
		"applied already":    {Fault{Kind: BrokerError, Instance: "a", Request: "TxnOffsetCommit", Error: "REQUEST_TIMED_OUT", Applied: true}, "is applied first already"},
		"applied elsewhere":  {Fault{Kind: Drop, Instance: "a", Request: "EndTxn", Applied: true}, "applied is set for a broker-error, and only for one"},
		"drop with error":    {Fault{Kind: Drop, Instance: "a", Request: "EndTxn", Error: "X"}, "a drop has no error"},
		"drop unknown":       {Fault{Kind: Drop, Instance: "a", Request: "Metadata"}, `request "Metadata" is not one of`},
		"pause without time": {Fault{Kind: Pause, Instance: "a", Point: engine.AfterPoll}, "pause_ms is set for a pause"},
		"pause too long":     {Fault{Kind: Pause, Instance: "a", Point: engine.AfterPoll, PauseMs: 10_000_000}, "not in [1, 120000]"},
		"join with point":    {Fault{Kind: Join, Instance: "a", Point: engine.AfterPoll}, "a join has no crash point"},
		"crash with request": {Fault{Kind: Crash, Instance: "a", Point: engine.AfterPoll, Request: "EndTxn"}, "a crash has no request"},
	} {
		t.Run(name, func(t *testing.T) {
			require.ErrorContains(t, Schedule{Faults: []Fault{tc.f}}.Validate(nil), tc.want)
		})
	}
}

func TestFamiliesDrawFromTheirOwnStreams(t *testing.T) {
	base := Rates{Crash: 0.2, Shutdown: 0.05}
	only, err := Generate(5, base, instances, 60)
	require.NoError(t, err)
	all, err := Generate(5, Rates{Crash: 0.2, Shutdown: 0.05, Expire: 0.1, Pause: 0.1, Membership: 0.1, Broker: 0.1, Network: 0.1}, instances, 60, "c")
	require.NoError(t, err)
	require.NoError(t, all.Validate(append(instances, "c")))
	counts := all.Counts()
	for _, k := range []Kind{Pause, BrokerError, Drop} {
		require.Positive(t, counts[k], "no %s drawn", k)
	}
	// Turning families on never moves a crash that still fits.
	kept := 0
	for _, f := range only.Faults {
		if slices.Contains(all.Faults, f) {
			kept++
		}
	}
	require.Positive(t, kept)
	for _, f := range all.Faults {
		if f.Kind == Crash || f.Kind == Shutdown {
			require.Contains(t, only.Faults, f, "a process fault appeared that the families alone do not draw")
		}
	}
}

func TestSwarmPicksPerSeed(t *testing.T) {
	require.Equal(t, Swarm(9), Swarm(9))
	differ := 0
	for seed := uint64(1); seed <= 20; seed++ {
		r := Swarm(seed)
		require.NoError(t, r.Validate())
		if r != Swarm(seed+1) {
			differ++
		}
	}
	require.Greater(t, differ, 15, "swarm picks barely vary with the seed")
	require.Equal(t, "no faults", Rates{}.String())
	require.Equal(t, "crash 0.1, network 0.25", Rates{Crash: 0.1, Network: 0.25}.String())
}

// TestPausesOverlapOneFaultPerInstance: pauses may overlap, two instances
// frozen at once, but each instance still has one fault at a time.
func TestPausesOverlapOneFaultPerInstance(t *testing.T) {
	three := []string{"a", "b", "c"}
	overlapping := 0
	for seed := uint64(1); seed <= 200; seed++ {
		s, err := Generate(seed, Rates{Crash: 0.1, Pause: 0.2, Broker: 0.1, Network: 0.1}, three, 60)
		require.NoError(t, err)
		for i, f := range s.Faults {
			for _, g := range s.Faults[i+1:] {
				require.False(t, f.Instance == g.Instance && overlaps(f, g), "seed %d: %v and %v keep %s busy at once", seed, f, g, f.Instance)
				if f.Kind == Pause && g.Kind == Pause && overlaps(f, g) {
					overlapping++
				}
			}
		}
	}
	require.Positive(t, overlapping, "no two pauses overlapped in 200 seeds")
}
