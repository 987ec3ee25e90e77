package faults

import (
	"math/rand/v2"
	"slices"
	"time"

	"github.com/eosim/eosim/engine"
)

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
	// ReactUnknown: the answer to a write (a Produce, a transaction's
	// start or its partitions) is lost or says the request timed out after
	// the broker did the work: the outcome is unknown to the client.
	ReactUnknown Reaction = "unknown-outcome"
	// ReactSlow: a request is held at the broker; the client waits, times
	// out or retries.
	ReactSlow Reaction = "slow"
	// ReactCluster: a leader or coordinator moves, or the brokers restart.
	ReactCluster Reaction = "cluster"
	// ReactDatabase: the database is busy, slow, or its answer is lost.
	ReactDatabase Reaction = "database"
	// ReactUnsettled: the transaction's EndTxn is answered before its
	// markers reach its partitions; the client goes on (its next
	// transaction waits out CONCURRENT_TRANSACTIONS), and whoever reads
	// those partitions meanwhile, a restore above all, finds the
	// transaction still open.
	ReactUnsettled Reaction = "unsettled"
	// ReactAmbiguousCommit: the same, for the commit itself (EndTxn, the
	// offsets of a transaction or of a consumer): whether the unit
	// committed is unknown to the client, the one outcome a correct engine
	// may not guess. Apart from unknown-outcome, whose other writes kgo's
	// idempotence settles, it is drawn as often as any other reaction.
	ReactAmbiguousCommit Reaction = "ambiguous-commit"
)

// Drawn last, a reaction added to the list leaves the draws of those
// before it where they were.
var reactions = []Reaction{ReactCrash, ReactExpire, ReactStall, ReactBlip, ReactMembership, ReactAbort,
	ReactFenced, ReactRetry, ReactUnknown, ReactSlow, ReactCluster, ReactDatabase, ReactUnsettled,
	ReactAmbiguousCommit}

// Reactions lists the reactions in draw order.
func Reactions() []Reaction { return slices.Clone(reactions) }

// fencingErrors end the member's generation or the producer's epoch.
var fencingErrors = []string{"ILLEGAL_GENERATION", "REBALANCE_IN_PROGRESS", "UNKNOWN_MEMBER_ID", "PRODUCER_FENCED",
	"FENCED_INSTANCE_ID", "INVALID_PRODUCER_EPOCH", "STALE_MEMBER_EPOCH"}

// ReactionOf names the reaction a cell of the reactions space
// (ReactionSpace) sets off, or "" for a cell that is not one.
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
	case f.Kind == Pause && time.Duration(f.PauseMs)*time.Millisecond >= engine.DefaultSessionTimeout:
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
	case f.Kind == Rewrite && f.Rewrite == LateMarkers:
		return ReactUnsettled
	case outcomeUnknown(f) && commitRequest(f.Request):
		return ReactAmbiguousCommit
	case outcomeUnknown(f):
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

// outcomeUnknown says whether f leaves its request's outcome unknown to
// the client: the answer lost, or an error answered after the work.
func outcomeUnknown(f Fault) bool {
	return f.Kind == Drop || f.Kind == BrokerError && (f.Applied || appliedBeforeError(f.Request, f.Error))
}

// commitRequest says whether request commits a unit: its transaction's
// end, or the offsets it consumed.
func commitRequest(request string) bool {
	return request == "EndTxn" || request == "TxnOffsetCommit" || request == "OffsetCommit"
}

// SwarmReactions draws the reactions one seed of the reactions style
// turns on, each with chance ½ (at least one), adds the companion of each
// it keeps (reactionCompanions), and returns the cells of space that set
// off those it keeps, sorted.
func SwarmReactions(seed uint64, space []string) []string {
	groups := GroupByReaction(space)
	if len(groups) == 0 {
		return nil
	}
	rng := rand.New(rand.NewPCG(seed, stream("swarm-reactions")))
	keep := make([]bool, len(groups))
	for i := range groups {
		keep[i] = rng.Float64() < 0.5
	}
	if !slices.Contains(keep, true) {
		keep[rng.IntN(len(groups))] = true
	}
	// Companions join after the draw, so that the draws stay where they
	// were.
	drawn := make([]Reaction, len(groups))
	for i, g := range groups {
		drawn[i] = ReactionOf(g[0])
	}
	for i, r := range drawn {
		if c, ok := reactionCompanions[r]; ok && keep[i] {
			if j := slices.Index(drawn, c); j >= 0 {
				keep[j] = true
			}
		}
	}
	var kept []string
	for i, g := range groups {
		if keep[i] {
			kept = append(kept, g...)
		}
	}
	slices.Sort(kept)
	return kept
}

// reactionCompanions: a commit whose markers come late is seen as still
// open only by whoever reads its partitions meanwhile, above all a new
// owner restoring them, and partitions change owners when the group's
// membership does.
var reactionCompanions = map[Reaction]Reaction{ReactUnsettled: ReactMembership}

// GroupByReaction groups cells by the reaction each sets off, a group per
// reaction in draw order (Reactions), each group's cells in cells' order;
// a cell that sets off none is left out. Drawn group first (FocusGroups),
// every reaction comes as often as the next, however many cells set it
// off: three make a transaction abortable, twenty-four hold a request.
func GroupByReaction(cells []string) [][]string {
	by := make(map[Reaction][]string)
	for _, c := range cells {
		if r := ReactionOf(c); r != "" {
			by[r] = append(by[r], c)
		}
	}
	var groups [][]string
	for _, r := range reactions {
		if len(by[r]) > 0 {
			groups = append(groups, by[r])
		}
	}
	return groups
}
