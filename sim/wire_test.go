//go:build synctests

package sim

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/eosim/eosim/engine"
	"github.com/eosim/eosim/faults"
	"github.com/eosim/eosim/history"
)

// The tests here check the claims of the faults package's doc against the
// brokers' end of the network (Result.Wire): what a broker read and when,
// what it answered and when. The engine's word about itself is not used.

// exchange is a request and, if the broker wrote one, its answer.
type exchange struct {
	req    WireEvent
	answer *WireEvent
}

// exchanges pairs each request of client with key (-1: any) with its
// answer, in the order the brokers read them.
func exchanges(res Result, client string, key int16) []exchange {
	type id struct {
		broker int32
		conn   int
		corr   int32
	}
	answers := make(map[id]WireEvent)
	for _, e := range res.Wire {
		if e.What != WireRequest {
			answers[id{e.Broker, e.Conn, e.Corr}] = e
		}
	}
	var out []exchange
	for _, e := range res.Wire {
		if e.What != WireRequest || e.Client != client || key >= 0 && e.Key != key {
			continue
		}
		x := exchange{req: e}
		if a, ok := answers[id{e.Broker, e.Conn, e.Corr}]; ok {
			x.answer = &a
		}
		out = append(out, x)
	}
	return out
}

func (x exchange) answered() bool { return x.answer != nil && x.answer.What == WireAnswer }

// faultAt is when the driver recorded instance's fault event whose detail
// begins with prefix.
func faultAt(t *testing.T, res Result, instance, prefix string) time.Duration {
	t.Helper()
	for _, ev := range events(res.History, history.KindFault, instance) {
		if strings.HasPrefix(ev.Detail, prefix) {
			return ev.T
		}
	}
	t.Fatalf("no fault event of %s begins %q: %v", instance, prefix, faultEvents(res.History, instance))
	return 0
}

// held finds client's request of key, read by a broker once the fault was
// armed, that the broker answered no sooner than hold after reading it.
func held(t *testing.T, res Result, client string, key int16, hold time.Duration) exchange {
	t.Helper()
	armed := faultAt(t, res, client, "armed")
	xs := exchanges(res, client, key)
	i := slices.IndexFunc(xs, func(x exchange) bool {
		return x.req.T >= armed && x.answered() && x.answer.T-x.req.T >= hold
	})
	require.GreaterOrEqual(t, i, 0, "no %s of %s was held %v at the broker", kmsg.NameForKey(key), client, hold)
	return xs[i]
}

// during sorts the other requests client wrote while h was held into those
// the broker answered first (overtaking it: never on its connection) and
// those on h's connection that waited for it.
func during(t *testing.T, res Result, client string, h exchange) (overtook, waited []WireEvent) {
	t.Helper()
	for _, x := range exchanges(res, client, -1) {
		if x.req.T <= h.req.T || x.req.T >= h.answer.T || !x.answered() {
			continue
		}
		sameConn := x.req.Broker == h.req.Broker && x.req.Conn == h.req.Conn
		if x.answer.T < h.answer.T {
			require.False(t, sameConn, "%v was answered before %v, held ahead of it on its connection", x.req, h.req)
			overtook = append(overtook, x.req)
		} else if sameConn {
			waited = append(waited, x.req)
		}
	}
	return overtook, waited
}

// TestClaimDelayHoldsARequestThatLaterOnesOvertake: "a delay … SleepControl-s
// it …; kfake serves the client's other connections meanwhile, so later
// requests overtake it (those queued behind it on its connection wait)".
// kgo sends a member's group and transaction requests on one connection:
// a held EndTxn or TxnOffsetCommit keeps the heartbeat behind it waiting;
// a held Produce is overtaken by the heartbeats.
func TestClaimDelayHoldsARequestThatLaterOnesOvertake(t *testing.T) {
	for _, tc := range []struct {
		req                string
		overtaken, waiting bool
	}{
		{"EndTxn", false, true},
		{"TxnOffsetCommit", false, true},
		{"Produce", true, false},
	} {
		t.Run(tc.req, func(t *testing.T) {
			res := runSchedule(t, engine.ExactlyOnceV2,
				faults.Fault{Step: 2, Kind: faults.Delay, Instance: "a", Request: tc.req, DelayMs: 5_000})
			requirePass(t, res)
			key, ok := apiKey(tc.req)
			require.True(t, ok)
			overtook, waited := during(t, res, "a", held(t, res, "a", key, 5*time.Second))
			if tc.overtaken {
				require.NotEmpty(t, overtook, "no later request of a overtook the held %s", tc.req)
			}
			if tc.waiting {
				require.NotEmpty(t, waited, "nothing waited behind the held %s on its connection", tc.req)
			}
		})
	}
}

// TestClaimDropLosesAnAnswerTheBrokerWorkedFor: "drop: the instance's dialer
// cuts the connection right after the request is written: the broker did
// the work, the answer is lost, kgo dials again". The broker read the
// request whole (kfake handles every request it reads), its answer never
// reached the client, and the client then opened a new connection to that
// broker.
func TestClaimDropLosesAnAnswerTheBrokerWorkedFor(t *testing.T) {
	for _, req := range []string{"EndTxn", "TxnOffsetCommit", "Produce", "InitProducerID"} {
		t.Run(req, func(t *testing.T) {
			fs := []faults.Fault{{Step: 2, Kind: faults.Drop, Instance: "b", Request: req}}
			if req == "InitProducerID" {
				fs = append(fs, faults.Fault{Step: 3, Kind: faults.Crash, Instance: "b", Point: engine.AfterCommit, RestartAfter: 1})
			}
			res := runSchedule(t, engine.ExactlyOnceV2, fs...)
			requirePass(t, res)
			key, _ := apiKey(req)
			armed := faultAt(t, res, "b", "armed")
			xs := exchanges(res, "b", key)
			i := slices.IndexFunc(xs, func(x exchange) bool { return x.req.T >= armed && !x.answered() })
			require.GreaterOrEqual(t, i, 0, "no %s of b went unanswered after the drop was armed", req)
			lost := xs[i].req
			firstSeen := make(map[int]time.Duration) // b's connections to lost.Broker
			for _, x := range exchanges(res, "b", -1) {
				if _, ok := firstSeen[x.req.Conn]; !ok && x.req.Broker == lost.Broker {
					firstSeen[x.req.Conn] = x.req.T
				}
			}
			redialled := false
			for conn, t0 := range firstSeen {
				redialled = redialled || conn != lost.Conn && t0 >= lost.T
			}
			require.True(t, redialled, "b never opened a new connection to broker %d after %v", lost.Broker, lost)
		})
	}
}

// TestClaimCrashCutsWithoutLeavingOrAborting: "crash: the instance's
// connections are cut (no leave-group, no abort), on the wire for the
// points inside the commit". Crashed before its commit, a sends no EndTxn
// and no LeaveGroup until it starts again (its next InitProducerID); crashed
// during the commit, the broker read its EndTxn and the answer never
// reached it.
func TestClaimCrashCutsWithoutLeavingOrAborting(t *testing.T) {
	for _, p := range []engine.CrashPoint{engine.BeforeCommit, engine.DuringCommit} {
		t.Run(string(p), func(t *testing.T) {
			res := runSchedule(t, engine.ExactlyOnceV2,
				faults.Fault{Step: 2, Kind: faults.Crash, Instance: "a", Point: p, RestartAfter: 2})
			requirePass(t, res)
			crashed := faultAt(t, res, "a", "fired")
			restart := slices.IndexFunc(exchanges(res, "a", int16(kmsg.InitProducerID)), func(x exchange) bool { return x.req.T > crashed })
			require.GreaterOrEqual(t, restart, 0, "a never started again")
			restarted := exchanges(res, "a", int16(kmsg.InitProducerID))[restart].req.T
			for _, x := range exchanges(res, "a", -1) {
				if x.req.T > crashed && x.req.T < restarted {
					require.NotContains(t, []kmsg.Key{kmsg.EndTxn, kmsg.LeaveGroup}, kmsg.Key(x.req.Key), "a crashed at %v and then sent %v", crashed, x.req)
				}
			}
			require.Empty(t, exchanges(res, "a", int16(kmsg.LeaveGroup)), "a crash must not leave the group")
			if p == engine.DuringCommit {
				ends := exchanges(res, "a", int16(kmsg.EndTxn))
				i := slices.IndexFunc(ends, func(x exchange) bool { return x.req.T <= crashed && !x.answered() })
				require.GreaterOrEqual(t, i, 0, "no EndTxn of a reached the broker unanswered before the crash")
			}
		})
	}
}

// TestClaimPauseHoldsEveryWrite: "pause: … the instance's dialer holds every
// write (heartbeats included)": no broker reads a request of the paused
// instance until it wakes, and its heartbeats resume after.
func TestClaimPauseHoldsEveryWrite(t *testing.T) {
	res := runSchedule(t, engine.ExactlyOnceV2, faults.Fault{
		Step: 2, Kind: faults.Pause, Instance: "b", Point: engine.AfterProcess, Index: 3, PauseMs: 3_000,
	})
	requirePass(t, res)
	paused, woke := faultAt(t, res, "b", "paused until"), faultAt(t, res, "b", "resumed")
	require.GreaterOrEqual(t, woke-paused, 3*time.Second)
	beats := 0
	for _, x := range exchanges(res, "b", -1) {
		require.False(t, x.req.T > paused && x.req.T < woke, "the paused b wrote %v", x.req)
		if x.req.Key == int16(kmsg.Heartbeat) && x.req.T >= woke {
			beats++
		}
	}
	require.Positive(t, beats, "b's heartbeats never came back after the pause")
}

// TestClaimShutdownKeepsTheStaticMemberInTheGroup: "shutdown:
// Instance.Close: checkpoint, static member keeps its place": a closes
// without a LeaveGroup, and the coordinator answers its JoinGroup when it
// comes back.
func TestClaimShutdownKeepsTheStaticMemberInTheGroup(t *testing.T) {
	res := runSchedule(t, engine.ExactlyOnceV2, faults.Fault{Step: 2, Kind: faults.Shutdown, Instance: "a", RestartAfter: 2})
	requirePass(t, res)
	shut := faultAt(t, res, "a", "fired")
	require.Empty(t, exchanges(res, "a", int16(kmsg.LeaveGroup)), "a static member's shutdown sent LeaveGroup")
	back := slices.ContainsFunc(exchanges(res, "a", int16(kmsg.JoinGroup)), func(x exchange) bool {
		return x.req.T > shut && x.answered()
	})
	require.True(t, back, "a never joined again after its shutdown at %v", shut)
}
