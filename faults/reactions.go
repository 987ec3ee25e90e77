package faults

import (
	"math/rand/v2"
	"slices"

	"github.com/eosim/eosim/engine"
)

// CatalogueSpace lists, sorted, every cell the generators' catalogue can
// draw with the given crash points (a scenario with a database adds its
// own, and its database cells, withDB): the space of the families style.
func CatalogueSpace(points []engine.CrashPoint, withDB bool) []string {
	var cells []string
	for _, p := range points {
		cells = append(cells, Fault{Kind: Crash, Point: p}.Cell(), Fault{Kind: Expire, Point: p}.Cell())
		for _, ms := range pauseChoices {
			cells = append(cells, Fault{Kind: Pause, Point: p, PauseMs: ms}.Cell())
		}
	}
	for _, k := range []Kind{Shutdown, Join, Leave, LeaderMove, CoordinatorMove, BrokerRestart} {
		cells = append(cells, string(k))
	}
	for _, r := range BrokerErrorRequests() {
		for _, e := range brokerErrors[r] {
			cells = append(cells, Fault{Kind: BrokerError, Request: r, Error: e}.Cell())
		}
	}
	for _, r := range droppable {
		cells = append(cells, Fault{Kind: Drop, Request: r}.Cell())
	}
	for _, r := range delayable {
		for _, ms := range delayChoices {
			cells = append(cells, Fault{Kind: Delay, Request: r, DelayMs: ms}.Cell())
		}
	}
	if withDB {
		cells = append(cells, string(DBBusy), string(DBLost))
		for _, ms := range dbSlowChoices {
			cells = append(cells, Fault{Kind: DBSlow, DelayMs: ms}.Cell())
		}
	}
	slices.Sort(cells)
	return slices.Compact(cells)
}

// Reaction is what a fault makes the engine and its client do next: the
// classes swarm's reactions style turns on and off. The families style
// cuts the fault space by what a fault is (a broker error, a dropped
// connection); a mistake hides behind what the client does about it, and
// one reaction (an answer that leaves a commit's outcome open) comes from
// faults of several families, while one family (broker errors) holds
// reactions as far apart as a retry and a fenced producer.
type Reaction string

// The reactions, in the order a seed draws them.
const (
	// ReactCrash: the process dies at a point of its unit and a fresh one
	// takes its slot.
	ReactCrash Reaction = "crash"
	// ReactExpire: the process dies and stays down until its session has
	// expired, so its partitions move on without it.
	ReactExpire Reaction = "expire"
	// ReactStall: the process stops mid-unit past its session or
	// transaction timeout and comes back a zombie.
	ReactStall Reaction = "stall"
	// ReactBlip: the process stops mid-unit for a moment.
	ReactBlip Reaction = "blip"
	// ReactMembership: an instance joins, leaves or shuts down cleanly:
	// the group rebalances.
	ReactMembership Reaction = "membership"
	// ReactAbort: the broker makes the transaction abortable; the client
	// must abort it.
	ReactAbort Reaction = "abort"
	// ReactFenced: the broker says the member's generation or the
	// producer's epoch is over.
	ReactFenced Reaction = "fenced"
	// ReactRetry: a retriable error; the client retries or finds the
	// coordinator again.
	ReactRetry Reaction = "retry"
	// ReactUnknown: the answer is lost or says the request timed out
	// after the broker did the work: the outcome is unknown to the client.
	ReactUnknown Reaction = "unknown-outcome"
	// ReactSlow: a request is held at the broker; the client waits, times
	// out or retries.
	ReactSlow Reaction = "slow"
	// ReactCluster: a leader or coordinator moves, or the brokers restart.
	ReactCluster Reaction = "cluster"
	// ReactDatabase: the database is busy, slow, or its answer is lost.
	ReactDatabase Reaction = "database"
)

var reactions = []Reaction{ReactCrash, ReactExpire, ReactStall, ReactBlip, ReactMembership, ReactAbort,
	ReactFenced, ReactRetry, ReactUnknown, ReactSlow, ReactCluster, ReactDatabase}

// Reactions lists the reactions in draw order.
func Reactions() []Reaction { return slices.Clone(reactions) }

// fencingErrors end the member's generation or the producer's epoch.
var fencingErrors = []string{"ILLEGAL_GENERATION", "REBALANCE_IN_PROGRESS", "UNKNOWN_MEMBER_ID", "PRODUCER_FENCED",
	"FENCED_INSTANCE_ID", "INVALID_PRODUCER_EPOCH", "STALE_MEMBER_EPOCH"}

// ReactionOf names the reaction a catalogue cell sets off, or "" for a
// cell that is not one.
func ReactionOf(cell string) Reaction {
	f, err := ParseCell(cell)
	if err != nil {
		return ""
	}
	switch {
	case f.Kind == Crash && slices.Contains(engine.DBCrashPoints(), f.Point):
		return ReactDatabase
	case f.Kind == Crash:
		return ReactCrash
	case f.Kind == Expire:
		return ReactExpire
	case f.Kind == Pause && f.PauseMs >= sessionTimeoutMs:
		return ReactStall
	case f.Kind == Pause:
		return ReactBlip
	case f.Kind == Join || f.Kind == Leave || f.Kind == Shutdown:
		return ReactMembership
	case f.Kind.IsCluster():
		return ReactCluster
	case f.Kind.IsDatabase():
		return ReactDatabase
	case f.Kind == Delay:
		return ReactSlow
	case f.Kind == Drop || f.Kind == BrokerError && (f.Applied || appliedBeforeError(f.Request, f.Error)):
		return ReactUnknown
	case f.Kind == BrokerError && f.Error == "TRANSACTION_ABORTABLE":
		return ReactAbort
	case f.Kind == BrokerError && slices.Contains(fencingErrors, f.Error):
		return ReactFenced
	case f.Kind == BrokerError:
		return ReactRetry
	}
	return ""
}

// sessionTimeoutMs is the instances' session timeout: a pause as long
// stalls past it.
const sessionTimeoutMs = 10_000

// SwarmReactions draws the reactions one seed of the reactions style
// turns on, each with chance ½ (at least one), and returns the cells of
// space that set each off, a group per reaction, in draw order: a focus
// whose every group is drawn as often as the next, however many cells it
// has (FocusGroups), so that a reaction few cells set off (an abortable
// transaction) comes as often as one many do (a held request).
func SwarmReactions(seed uint64, space []string) [][]string {
	byReaction := make(map[Reaction][]string)
	for _, c := range space {
		if r := ReactionOf(c); r != "" {
			byReaction[r] = append(byReaction[r], c)
		}
	}
	var present []Reaction
	for _, r := range reactions {
		if len(byReaction[r]) > 0 {
			present = append(present, r)
		}
	}
	if len(present) == 0 {
		return nil
	}
	rng := rand.New(rand.NewPCG(seed, stream("swarm-reactions")))
	var groups [][]string
	for _, r := range present {
		if rng.Float64() < 0.5 {
			groups = append(groups, byReaction[r])
		}
	}
	if len(groups) == 0 {
		groups = append(groups, byReaction[present[rng.IntN(len(present))]])
	}
	return groups
}
