package faults

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/eosim/eosim/engine"
)

// simTimeouts are instance a's under simrun: kgo's defaults (10s overhead,
// 10s produce timeout, 5s fetch wait, 60s rebalance), a 10s session and a
// 23.456s transaction.
var simTimeouts = engine.Timeouts{
	Overhead: 10 * time.Second, Produce: 10 * time.Second, FetchMaxWait: 5 * time.Second, Rebalance: time.Minute,
	Session: 10 * time.Second, Transaction: 23456 * time.Millisecond,
}

func TestBandHold(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	for _, tc := range []struct {
		request string
		band    Band
		want    time.Duration // 0: empty
	}{
		{"EndTxn", WithinRequest, ms(5000)},
		{"EndTxn", PastRequest, 0}, // kgo waits 10s, as long as the session
		{"EndTxn", PastSession, ms(16728)},
		{"EndTxn", PastTxn, ms(28456)},
		{"Produce", WithinRequest, ms(10000)},
		{"Produce", PastRequest, 0},
		{"Produce", PastSession, ms(21728)}, // (20s, 23.456s): its 20s outlast the session
		{"Produce", PastTxn, ms(33456)},
		{"Fetch", PastSession, ms(19228)},
		{"JoinGroup", WithinRequest, ms(35000)},
		{"JoinGroup", PastSession, 0}, // 70s outlast the transaction
		{"JoinGroup", PastTxn, ms(105000)},
		{"SyncGroup", WithinRequest, ms(30000)},
	} {
		got, err := tc.band.Hold(simTimeouts, tc.request)
		if tc.want == 0 {
			require.ErrorIs(t, err, ErrEmptyBand, "%s %s", tc.request, tc.band)
			continue
		}
		require.NoError(t, err, "%s %s", tc.request, tc.band)
		require.Equal(t, tc.want, got, "%s %s", tc.request, tc.band)
	}
}

func TestPastRequestExistsWhenRequestsGiveUpBeforeTheSession(t *testing.T) {
	short := simTimeouts
	short.Overhead = 4 * time.Second
	got, err := PastRequest.Hold(short, "EndTxn")
	require.NoError(t, err)
	require.Equal(t, 7*time.Second, got)
}

// A band's hold falls in that band, for any timeouts a client can have.
func TestBandOfHold(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		d := func(name string) time.Duration {
			return time.Duration(rapid.IntRange(100, 120_000).Draw(t, name)) * time.Millisecond
		}
		to := engine.Timeouts{Overhead: d("overhead"), Produce: d("produce"), FetchMaxWait: d("fetch"), Rebalance: d("rebalance"), Session: d("session")}
		to.Transaction = to.Session + d("transaction beyond session")
		req := rapid.SampledFrom([]string{"EndTxn", "Produce", "Fetch", "JoinGroup", "SyncGroup", "Heartbeat"}).Draw(t, "request")
		b := rapid.SampledFrom(Bands()).Draw(t, "band")
		hold, err := b.Hold(to, req)
		if errors.Is(err, ErrEmptyBand) {
			lo, hi := b.Interval(to, req)
			if lo < hi {
				t.Fatalf("%s %s: (%v, %v) is not empty", req, b, lo, hi)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		// A hold rounded down onto the lower bound can only come of an
		// interval under a millisecond wide.
		if lo, hi := b.Interval(to, req); hi-lo >= 2*time.Millisecond {
			if got := BandOf(to, req, hold); got != b {
				t.Fatalf("%s held %v: band %q, want %q", req, hold, got, b)
			}
		}
	})
}

func TestParseBand(t *testing.T) {
	for _, b := range Bands() {
		got, err := ParseBand(string(b))
		require.NoError(t, err)
		require.Equal(t, b, got)
	}
	_, err := ParseBand("past-forever")
	require.EqualError(t, err, `band "past-forever" is not one of within-request, past-request, past-session, past-txn`)
}

func TestBandInSchedules(t *testing.T) {
	ok := Fault{Step: 1, Kind: Delay, Instance: "a", Request: "EndTxn", Band: PastSession}
	require.NoError(t, ok.validate([]string{"a"}))
	require.Equal(t, "delay EndTxn past-session", ok.Cell())
	back, err := ParseCell(ok.Cell())
	require.NoError(t, err)
	require.Equal(t, PastSession, back.Band)
	for name, f := range map[string]Fault{
		"unknown band":        {Step: 1, Kind: Delay, Instance: "a", Request: "EndTxn", Band: "past-forever"},
		"band and delay_ms":   {Step: 1, Kind: Delay, Instance: "a", Request: "EndTxn", Band: PastTxn, DelayMs: 500},
		"band on a db-slow":   {Step: 1, Kind: DBSlow, Instance: "a", Band: PastTxn},
		"band on a pause":     {Step: 1, Kind: Pause, Instance: "a", Point: engine.AfterPoll, PauseMs: 3000, Band: PastTxn},
		"band on a move":      {Step: 1, Kind: LeaderMove, Band: PastTxn},
		"delay without hold":  {Step: 1, Kind: Delay, Instance: "a", Request: "EndTxn"},
		"band of a drop":      {Step: 1, Kind: Drop, Instance: "a", Request: "EndTxn", Band: PastTxn},
		"band of a non-delay": {Step: 1, Kind: BrokerError, Instance: "a", Request: "EndTxn", Error: "PRODUCER_FENCED", Band: PastTxn},
	} {
		require.Error(t, f.validate([]string{"a"}), name)
	}
	_, err = ParseCell("delay EndTxn past-forever")
	require.ErrorIs(t, err, ErrCell)
}
