package faults

import (
	"fmt"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/eosim/eosim/engine"
)

// The catalogue of broker answers a BrokerError can give, per request: the
// errors a real broker answers each transactional or group request with,
// whether the client retries them, aborts, or must restart. kfake applies
// the request before answering only REQUEST_TIMED_OUT on Produce,
// TxnOffsetCommit and OffsetCommit, as a real broker whose replication timed
// out would; every other pair rejects the request untouched.
var brokerErrors = map[string][]string{
	"InitProducerID":     {"COORDINATOR_NOT_AVAILABLE", "NOT_COORDINATOR", "CONCURRENT_TRANSACTIONS"},
	"AddPartitionsToTxn": {"CONCURRENT_TRANSACTIONS", "COORDINATOR_NOT_AVAILABLE", "TRANSACTION_ABORTABLE"},
	"Produce":            {"NOT_LEADER_FOR_PARTITION", "REQUEST_TIMED_OUT", "TRANSACTION_ABORTABLE"},
	"AddOffsetsToTxn":    {"CONCURRENT_TRANSACTIONS", "COORDINATOR_NOT_AVAILABLE"},
	"TxnOffsetCommit":    {"ILLEGAL_GENERATION", "REBALANCE_IN_PROGRESS", "UNKNOWN_MEMBER_ID", "COORDINATOR_NOT_AVAILABLE", "REQUEST_TIMED_OUT"},
	"EndTxn":             {"TRANSACTION_ABORTABLE", "CONCURRENT_TRANSACTIONS", "COORDINATOR_NOT_AVAILABLE", "PRODUCER_FENCED"},
	"Heartbeat":          {"REBALANCE_IN_PROGRESS", "UNKNOWN_MEMBER_ID"},
	"OffsetCommit":       {"REBALANCE_IN_PROGRESS", "ILLEGAL_GENERATION", "REQUEST_TIMED_OUT"},
	"OffsetFetch":        {"COORDINATOR_LOAD_IN_PROGRESS", "NOT_COORDINATOR"},
}

// droppable is the requests whose answer a Drop can lose: the
// transaction's own, and the offset commits.
var droppable = []string{"InitProducerID", "AddPartitionsToTxn", "Produce", "AddOffsetsToTxn", "TxnOffsetCommit", "EndTxn", "OffsetCommit"}

// delayable is the requests a Delay can hold: those, and the offset fetch a
// member makes once assigned (held, a rebalance can come in the middle of
// it). A dropped offset fetch is left out: kgo's group loop sends it in the
// background, and the errors a cut connection then spreads reach the
// client's goroutines at one instant, in an order Go picks.
var delayable = append(slices.Clone(droppable), "OffsetFetch")

// BrokerErrorRequests lists the requests a BrokerError can target, sorted.
func BrokerErrorRequests() []string {
	rs := make([]string, 0, len(brokerErrors))
	for r := range brokerErrors {
		rs = append(rs, r)
	}
	slices.Sort(rs)
	return rs
}

// BrokerErrors lists the errors a BrokerError can answer request with.
func BrokerErrors(request string) []string { return brokerErrors[request] }

// DelayChoices are the delays the generators draw, in virtual milliseconds.
func DelayChoices() []int { return slices.Clone(delayChoices) }

// DroppableRequests lists the requests a Drop can target.
func DroppableRequests() []string { return slices.Clone(droppable) }

// DelayableRequests lists the requests a Delay can target.
func DelayableRequests() []string { return slices.Clone(delayable) }

func appliedBeforeError(request, err string) bool {
	return err == "REQUEST_TIMED_OUT" && (request == "Produce" || request == "TxnOffsetCommit" || request == "OffsetCommit") ||
		err == "NOT_ENOUGH_REPLICAS_AFTER_APPEND" && request == "Produce"
}

// doneErrors say the broker has the work already (a batch it wrote
// before): answered to a request it refused, they would be a lie no broker
// tells, so a fault gives them only applied.
var doneErrors = []string{"DUPLICATE_SEQUENCE_NUMBER"}

// effectful are the requests a broker acts on, whose answer can come
// after the work is done: those a broker-error may name as applied.
var effectful = []string{"AddOffsetsToTxn", "AddPartitionsToTxn", "CreateTopics", "DeleteRecords", "EndTxn", "Heartbeat",
	"InitProducerID", "JoinGroup", "LeaveGroup", "OffsetCommit", "Produce", "SyncGroup", "TxnOffsetCommit"}

// ambiguous are the errors a broker may answer once it did the work: it
// failed or timed out afterwards, or lost its role meanwhile (the next
// coordinator or leader finishes what it began). Any other error says the
// request was refused: a fenced producer's commit never happens.
var ambiguous = []string{"COORDINATOR_LOAD_IN_PROGRESS", "COORDINATOR_NOT_AVAILABLE", "NOT_COORDINATOR",
	"NOT_ENOUGH_REPLICAS_AFTER_APPEND", "NOT_LEADER_FOR_PARTITION", "REQUEST_TIMED_OUT", "UNKNOWN_SERVER_ERROR"}

// validateBrokerError accepts any error a broker may answer request with
// per Kafka's protocol (ProtocolErrors), not only the catalogue's: a
// schedule or a focus may name any of them; the generators draw from the
// catalogue. applied answers it once the work is done, for a request that
// has an effect and whose answer kfake does not already give that way.
func validateBrokerError(request, err string, applied bool) error {
	errs := ProtocolErrors(request)
	if len(errs) == 0 {
		return fmt.Errorf("request %q is not one of %s", request, strings.Join(DocumentedRequests(), ", "))
	}
	if !slices.Contains(errs, err) {
		return fmt.Errorf("error %q is not one a broker answers %s with, per Kafka's protocol (%s)", err, request, strings.Join(errs, ", "))
	}
	switch {
	case !applied && slices.Contains(doneErrors, err):
		return fmt.Errorf("%s says the broker has the work already: name it applied", err)
	case applied && !slices.Contains(ambiguous, err) && !slices.Contains(doneErrors, err):
		return fmt.Errorf("%s says the broker refused the request: it cannot come after the work (applied goes with %s)", err, strings.Join(ambiguous, ", "))
	case applied && !slices.Contains(effectful, request):
		return fmt.Errorf("%s changes nothing at the broker: it cannot be applied before its error (drop \"applied\")", request)
	case applied && appliedBeforeError(request, err):
		return fmt.Errorf("%s answered %s is applied first already (drop \"applied\")", request, err)
	}
	return nil
}

// InCatalogue reports whether the generators draw request answered err.
func InCatalogue(request, err string) bool { return slices.Contains(brokerErrors[request], err) }

func validateRequest(request string, allowed []string) error {
	if !slices.Contains(allowed, request) {
		return fmt.Errorf("request %q is not one of %s", request, strings.Join(allowed, ", "))
	}
	return nil
}

// RequestKey returns the Kafka API key of the request named name (kmsg's
// names, e.g. "EndTxn").
func RequestKey(name string) (int16, bool) {
	for k := int16(0); k < 200; k++ {
		if kmsg.NameForKey(k) == name {
			return k, true
		}
	}
	return 0, false
}

// DBSlowChoices are the lengths the generators draw for a slow database
// transaction, in virtual milliseconds.
func DBSlowChoices() []int { return slices.Clone(dbSlowChoices) }

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

// ReactionSpace lists, sorted, the cells the reactions style draws from:
// the catalogue's (CatalogueSpace), and a transaction whose markers come
// late (a LateMarkers rewrite of EndTxn), the one reaction no cell of the
// catalogue sets off.
func ReactionSpace(points []engine.CrashPoint, withDB bool) []string {
	cells := append(CatalogueSpace(points, withDB), Fault{Kind: Rewrite, Request: "EndTxn", Rewrite: LateMarkers}.Cell())
	slices.Sort(cells)
	return slices.Compact(cells)
}
