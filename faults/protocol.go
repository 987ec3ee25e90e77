package faults

import (
	"slices"
)

//go:generate go run ./internal/generrors

// The errors a request may be answered with beyond what its own docs list
// (documentedErrors, generated from kmsg's copy of Kafka's protocol docs).
// Source: Kafka's protocol guide, "Error Codes", and the KIPs named.
var (
	// anyRequestErrors: any broker may fail a request, or time out
	// waiting on its replicas or its own work.
	anyRequestErrors = []string{"UNKNOWN_SERVER_ERROR", "REQUEST_TIMED_OUT"}
	// coordinatorErrors: a request to a group or transaction coordinator
	// may find it moved, loading, or unavailable.
	coordinatorErrors = []string{"NOT_COORDINATOR", "COORDINATOR_LOAD_IN_PROGRESS", "COORDINATOR_NOT_AVAILABLE"}
	// transactionErrors: newer than the docs kmsg carries. KIP-588 answers
	// a fenced producer PRODUCER_FENCED where INVALID_PRODUCER_EPOCH was;
	// KIP-890 answers TRANSACTION_ABORTABLE where the transaction can only
	// be aborted; a transaction still ending answers
	// CONCURRENT_TRANSACTIONS.
	transactionErrors = []string{"PRODUCER_FENCED", "TRANSACTION_ABORTABLE", "CONCURRENT_TRANSACTIONS"}
)

// coordinatorRequests are those a group or transaction coordinator
// answers; transactionRequests those of a transactional producer.
var (
	coordinatorRequests = []string{"FindCoordinator", "JoinGroup", "SyncGroup", "Heartbeat", "LeaveGroup", "OffsetCommit",
		"OffsetFetch", "DescribeGroups", "InitProducerID", "AddPartitionsToTxn", "AddOffsetsToTxn", "EndTxn", "TxnOffsetCommit"}
	transactionRequests = []string{"InitProducerID", "AddPartitionsToTxn", "AddOffsetsToTxn", "EndTxn", "TxnOffsetCommit", "Produce"}
)

// ProtocolErrors lists, sorted, the errors a broker may answer request
// with per Kafka's protocol: those its response's docs name, and those of
// every request, of a coordinator's, of a transaction's. Empty for a
// request the docs know nothing of.
func ProtocolErrors(request string) []string {
	doc, ok := documentedErrors[request]
	if !ok {
		return nil
	}
	errs := slices.Concat(doc, anyRequestErrors)
	if slices.Contains(coordinatorRequests, request) {
		errs = append(errs, coordinatorErrors...)
	}
	if slices.Contains(transactionRequests, request) {
		errs = append(errs, transactionErrors...)
	}
	slices.Sort(errs)
	return slices.Compact(errs)
}

// DocumentedRequests lists, sorted, the requests whose response docs name
// their errors.
func DocumentedRequests() []string {
	rs := make([]string, 0, len(documentedErrors))
	for r := range documentedErrors {
		rs = append(rs, r)
	}
	slices.Sort(rs)
	return rs
}
