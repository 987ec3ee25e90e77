package faults

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// The rewrites a Rewrite fault makes of a broker's answer: answers a real
// broker may give that kfake never gives on its own, each legal under
// Kafka's protocol.
const (
	// Throttle sets the answer's throttle to ThrottleMs: the broker asks
	// the client to send nothing more on that connection meanwhile (a
	// quota, KIP-219; kgo waits it out before its next write). kfake never
	// throttles.
	Throttle = "throttle"
	// Reorder reverses every list of brokers, topics, partitions and
	// groups in the answer. The protocol gives these lists no order, and
	// clients match them by name and number; kfake answers in the order
	// the request asked, or in its own.
	Reorder = "reorder"
	// Partial keeps the records of the first partition of a fetch answer
	// that has any and empties the others (their offsets and watermarks
	// stay), as a broker whose answer reached its size limit answers. kfake
	// stops only at the request's byte limits.
	Partial = "partial"
	// LateMarkers answers an EndTxn before the transaction's markers reach
	// its partitions, and writes them LateMarkersMs later: a real
	// coordinator answers once PrepareCommit is in its log and sends the
	// markers to the partitions' leaders after, retrying while a leader is
	// away. Meanwhile a reader of those partitions finds the transaction
	// open (their last stable offset stays below it), and the coordinator
	// answers the producer's next InitProducerID, AddPartitionsToTxn,
	// AddOffsetsToTxn, EndTxn and transactional Produce with
	// CONCURRENT_TRANSACTIONS; its offsets are committed at once. kfake
	// writes the markers before it answers.
	LateMarkers = "late-markers"
)

// LateMarkersMs is how long a LateMarkers rewrite keeps a transaction's
// markers from its partitions, in virtual milliseconds: past a session
// (10s), so that the group can move the partitions meanwhile.
const LateMarkersMs = 15_000

// ThrottleMs is the throttle a Throttle rewrite asks for, in virtual
// milliseconds: past a heartbeat interval (3s), within a session (10s).
const ThrottleMs = 5_000

// rewrites maps each rewrite to the requests whose answers it can change:
// a throttle, any answer with a throttle that the client waits out after
// it (kmsg.ThrottleResponse); a reorder, the answers with lists of topics,
// partitions, brokers or groups.
var rewrites = map[string][]string{
	Throttle: {"AddOffsetsToTxn", "AddPartitionsToTxn", "EndTxn", "Fetch", "FindCoordinator", "Heartbeat",
		"InitProducerID", "ListOffsets", "Metadata", "OffsetFetch", "Produce", "TxnOffsetCommit"},
	Reorder:     {"AddPartitionsToTxn", "Fetch", "ListOffsets", "Metadata", "OffsetFetch", "Produce", "TxnOffsetCommit"},
	Partial:     {"Fetch"},
	LateMarkers: {"EndTxn"},
}

// Rewrites lists the rewrites, sorted.
func Rewrites() []string { return slices.Sorted(maps.Keys(rewrites)) }

// RewriteRequests lists the requests whose answers rewrite can change.
func RewriteRequests(rewrite string) []string { return slices.Clone(rewrites[rewrite]) }

func validateRewrite(rewrite, request string) error {
	reqs, ok := rewrites[rewrite]
	if !ok {
		return fmt.Errorf("rewrite %q is not one of %s", rewrite, strings.Join(Rewrites(), ", "))
	}
	if !slices.Contains(reqs, request) {
		return fmt.Errorf("a %s rewrite changes the answer to %s, not to %q", rewrite, strings.Join(reqs, ", "), request)
	}
	return nil
}
