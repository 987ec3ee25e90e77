package engine

import (
	"fmt"
	"slices"
	"strings"

	"github.com/eosim/eosim/internal/topicread"
)

// Guarantee is a processing guarantee, named as Kafka Streams'
// processing.guarantee is, plus the mistake modes that reproduce classic
// ways of breaking exactly-once.
type Guarantee string

// The guarantees the engine can run under.
const (
	// ExactlyOnceV2: read_committed input; outputs, changelog records and
	// the consumed offsets with the group's metadata in one transaction per
	// unit of work, from one transactional producer per instance.
	ExactlyOnceV2 Guarantee = "exactly_once_v2"
	// AtLeastOnce: the same topology without transactions; offsets are
	// committed after the outputs, so a crash in between replays input.
	AtLeastOnce Guarantee = "at_least_once"
	// PeekSideEffect is exactly_once_v2 whose sink records are sent from
	// inside processing by a separate plain producer, as a peek() that
	// calls producer.send() does. The transaction aborts on a crash; the
	// sends already happened. Symptom: duplicate notifications after every
	// crash or abort between processing and commit.
	PeekSideEffect Guarantee = "peek_side_effect"
)

// The mistake modes: each a faithful copy of a way real applications have
// broken exactly-once, with the symptom it causes in production.
const (
	// OffsetsBeforeCommit sends the consumed offsets with a plain
	// OffsetCommit before the transaction commits ("commit the input,
	// then the output"). Symptom: a crash or abort between the two loses
	// the unit's outputs for good: lost notifications, stock never taken.
	OffsetsBeforeCommit Guarantee = "offsets_before_commit"
	// OffsetsAfterCommit commits the transaction, then sends the offsets
	// with a plain OffsetCommit. Symptom: a crash between the two replays
	// committed input: duplicate notifications, stock taken twice.
	OffsetsAfterCommit Guarantee = "offsets_after_commit"
	// ReadUncommitted reads input and restores stores with
	// isolation.level=read_uncommitted (the consumer default). Symptom:
	// records of aborted transactions are restored into the stores, so
	// stock reflects orders whose processing was rolled back.
	ReadUncommitted Guarantee = "read_uncommitted"
	// KeepDirtyState writes store changes to the local state directory as
	// it processes (as RocksDB does) and never wipes it after an unclean
	// shutdown. Symptom: after a crash the aborted unit's changes are
	// still in the store, and replaying its input applies them twice.
	KeepDirtyState Guarantee = "keep_dirty_state"
	// ChangelogOutsideTransaction writes changelog records through a
	// plain producer. Symptom: an aborted unit's store changes stay in the
	// changelog; the next owner restores them and the stock drifts.
	ChangelogOutsideTransaction Guarantee = "changelog_outside_txn"
	// FreshTransactionalID gives every incarnation a new transactional.id
	// (a random suffix, a pod name). Under exactly_once (v1) this was the
	// classic way to lose zombie fencing. Under exactly_once_v2 it is not
	// a mistake: the offsets carry the group's generation (KIP-447), so a
	// zombie's commit is fenced by the group, and offsets pending in an
	// open transaction hold back the next owner's fetch; Kafka Streams
	// itself names its producers after a per-process id. What is left is
	// latency: a restart no longer aborts its predecessor's open
	// transaction, which blocks the last stable offset until it times
	// out. The scoreboard keeps it as a second control: the checkers must
	// not flag it.
	FreshTransactionalID Guarantee = "fresh_txn_id"
	// NoGroupMetadata sends the offsets to the transaction without the
	// group's generation and member id (sendOffsetsToTransaction with a
	// bare group id, the pre-KIP-447 API). Symptom: a zombie whose
	// partitions moved on commits them anyway: duplicate notifications.
	NoGroupMetadata Guarantee = "no_group_metadata"
	// RestoreToStableOffset restores a store up to the last stable offset
	// and starts processing while a transaction is still open on its
	// changelog. Symptom: when that transaction commits, its changes land
	// below the restored position and are never applied: stock drifts.
	RestoreToStableOffset Guarantee = "restore_to_lso"
	// CommitAfterFailedProduce ignores a failed send and commits the
	// transaction anyway, as code that logs the send callback's error and
	// carries on does. Symptom: the failed records are missing from a
	// committed transaction whose offsets moved past their input: lost
	// notifications, stock never taken. franz-go refuses the commit after
	// most produce errors (they fail the producer id), but a Produce answered
	// TRANSACTION_ABORTABLE (KIP-890) reaches only the record's promise:
	// the client leaves the abort to its caller, and End(TryCommit)
	// commits what was written.
	CommitAfterFailedProduce Guarantee = "commit_after_failed_produce"
	// RetryAmbiguousCommit answers a commit whose outcome is unknown (its
	// answer lost or timed out) by processing the same polled records again
	// in a new transaction, instead of restarting from the committed
	// offsets. Symptom: when the first commit did happen, every output of
	// the unit appears twice and the stock is taken twice.
	RetryAmbiguousCommit Guarantee = "retry_ambiguous_commit"
)

// The mistake modes of multi-stage topologies (Topology.Stages).
const (
	// PurgeUncommitted purges the repartition records a unit consumed
	// before its transaction commits, taking the consumed positions for
	// committed ones. Symptom: when the unit aborts or crashes, the next
	// owner's committed position is below what is left of the repartition
	// topic, and the purged records are never processed: lost outputs.
	PurgeUncommitted Guarantee = "purge_uncommitted"
	// RepartitionReadUncommitted consumes with
	// isolation.level=read_uncommitted, as a downstream stage that reads
	// its repartition topic with a plain consumer does; stores are still
	// restored read_committed. The sources, written without transactions,
	// read the same either way: only what the repartition topics hold
	// changes. Symptom: the second stage processes records of upstream
	// transactions that aborted, and then, after the upstream retry, the
	// same input again: duplicate and unexpected outputs.
	RepartitionReadUncommitted Guarantee = "repartition_read_uncommitted"
)

// StageMistakes lists the mistake modes that only a multi-stage topology
// can make.
func StageMistakes() []Guarantee { return []Guarantee{PurgeUncommitted, RepartitionReadUncommitted} }

// The database guarantees: how a topology with a Database ties its writes
// to its input positions. The first two keep exactly-once; the others are
// the classic ways of getting it wrong.
const (
	// DBPositionsFenced writes the effects and the next input positions
	// in one database transaction, and reads those positions when
	// partitions are assigned to position the consumer (Kafka's committed
	// offsets are never used). On assignment an instance bumps each
	// partition's owner epoch; every write checks, in its transaction,
	// that the epoch is still its own, so a zombie's write is refused.
	DBPositionsFenced Guarantee = "db_positions_fenced"
	// DBIdempotent writes each effect with an upsert keyed by the input's
	// identity and checked against the row's version, in one database
	// transaction per unit, then commits the offsets to Kafka. Input seen
	// again after a crash is recognised and left out.
	DBIdempotent Guarantee = "db_idempotent"
	// DBThenKafka commits the database transaction, then the Kafka
	// transaction that carries the offsets, with no deduplication.
	// Symptom: a crash or abort between the two applies the unit's input
	// again: duplicate ledger rows, stock taken twice.
	DBThenKafka Guarantee = "db_then_kafka"
	// KafkaThenDB commits the Kafka transaction with the offsets first,
	// then writes the database. Symptom: a crash or a database error
	// between the two loses the unit's effects for good.
	KafkaThenDB Guarantee = "kafka_then_db"
	// DBPositionsUnfenced keeps the positions in the database, read on
	// assignment, but writes them without an owner check. Symptom: an
	// instance that lost its partitions (a zombie, or a unit overtaken by
	// a rebalance) still writes the effects of input the new owner
	// processes too, and moves the position back.
	DBPositionsUnfenced Guarantee = "db_positions_unfenced"
	// DBInsideKafkaTxn writes each record's effect to the database as it
	// is processed, inside the Kafka transaction's scope, as if the
	// transaction covered it. Symptom: when the Kafka transaction aborts,
	// the database keeps the effects and the input is processed again.
	DBInsideKafkaTxn Guarantee = "db_inside_kafka_txn"
	// DBContiguousDedup is db_positions_fenced whose deduplication takes
	// input offsets to be contiguous: a record is new only if its offset
	// is the last applied one plus one. Symptom: transaction markers and
	// aborted input leave gaps, and the first record after each gap is
	// dropped as already applied: lost effects.
	DBContiguousDedup Guarantee = "db_contiguous_dedup"
	// DBAutoCommit uses the consumer's auto-commit: the offsets of what
	// earlier polls returned are committed at a poll, every five seconds,
	// and the database is written in a transaction of its own. Symptom:
	// a crash replays what was written since the last auto-commit:
	// duplicate ledger rows.
	DBAutoCommit Guarantee = "db_auto_commit"
	// DBReadUncommitted is db_positions_fenced whose consumer keeps the
	// default isolation level, read_uncommitted. Symptom: records of
	// aborted upstream transactions are written to the database: rows for
	// input that was never committed.
	DBReadUncommitted Guarantee = "db_read_uncommitted"
)

// DatabaseGuarantees lists the database guarantees, the correct ones first.
func DatabaseGuarantees() []Guarantee {
	return []Guarantee{DBPositionsFenced, DBIdempotent, DBThenKafka, KafkaThenDB, DBPositionsUnfenced,
		DBInsideKafkaTxn, DBContiguousDedup, DBAutoCommit, DBReadUncommitted}
}

// Database says whether g is a database guarantee, for a topology with a
// Database.
func (g Guarantee) Database() bool { return slices.Contains(DatabaseGuarantees(), g) }

// Guarantees lists every guarantee, the correct one first.
func Guarantees() []Guarantee {
	return append([]Guarantee{ExactlyOnceV2, AtLeastOnce, PeekSideEffect}, Mistakes()...)
}

// KeepsExactlyOnce says whether g, faults or not, processes every record
// exactly once: exactly_once_v2, and fresh_txn_id, which KIP-447 makes
// safe. A checker that flags one of them is wrong.
func (g Guarantee) KeepsExactlyOnce() bool {
	return g == ExactlyOnceV2 || g == FreshTransactionalID || g == DBPositionsFenced || g == DBIdempotent
}

// Mistakes lists the mistake modes built from exactly_once_v2.
func Mistakes() []Guarantee {
	return []Guarantee{OffsetsBeforeCommit, OffsetsAfterCommit, ReadUncommitted, KeepDirtyState,
		ChangelogOutsideTransaction, FreshTransactionalID, NoGroupMetadata, RestoreToStableOffset,
		CommitAfterFailedProduce, RetryAmbiguousCommit}
}

// ParseGuarantee returns the guarantee named s.
func ParseGuarantee(s string) (Guarantee, error) {
	return parseName("guarantee", s, slices.Concat(Guarantees(), StageMistakes(), DatabaseGuarantees()))
}

// parseName returns the member of all named s, or an error that lists them.
func parseName[T ~string](what, s string, all []T) (T, error) {
	names := make([]string, len(all))
	for i, v := range all {
		if string(v) == s {
			return v, nil
		}
		names[i] = string(v)
	}
	return "", fmt.Errorf("unknown %s %q (want one of %s)", what, s, strings.Join(names, ", "))
}

// transactional says whether units run inside a Kafka transaction.
func (g Guarantee) transactional() bool {
	if g.Database() {
		return g.kafkaTxn()
	}
	return g != AtLeastOnce
}

// Transactional says whether units run inside a Kafka transaction.
func (g Guarantee) Transactional() bool { return g.transactional() }

// kafkaTxn says whether a database guarantee commits its offsets in a
// Kafka transaction (through a GroupTransactSession).
func (g Guarantee) kafkaTxn() bool {
	return g == DBThenKafka || g == KafkaThenDB || g == DBInsideKafkaTxn
}

// PositionsInDatabase says whether g keeps the input positions in the
// database rather than in the consumer group's committed offsets.
func (g Guarantee) PositionsInDatabase() bool {
	return g == DBPositionsFenced || g == DBPositionsUnfenced || g == DBContiguousDedup || g == DBReadUncommitted
}

// writesOnlyDatabase says whether a unit under g commits nothing to Kafka:
// positions in the database, or auto-commit. Its outcome is its database
// transaction's, and it never reaches the crash points inside a Kafka
// commit.
func (g Guarantee) writesOnlyDatabase() bool { return g.PositionsInDatabase() || g == DBAutoCommit }

// dbFenced says whether a guarantee that keeps positions in the database
// claims an owner epoch per partition and checks it on every write.
func (g Guarantee) dbFenced() bool {
	return g == DBPositionsFenced || g == DBContiguousDedup || g == DBReadUncommitted
}

// sinksOutsideTransaction says whether sink records go through a plain
// producer during processing.
func (g Guarantee) sinksOutsideTransaction() bool { return g == PeekSideEffect }

// changelogOutsideTransaction says whether changelog records go through a
// plain producer.
func (g Guarantee) changelogOutsideTransaction() bool { return g == ChangelogOutsideTransaction }

// sideProducer says whether the instance needs a plain producer beside its
// transactional one.
func (g Guarantee) sideProducer() bool {
	return g.sinksOutsideTransaction() || g.changelogOutsideTransaction()
}

// ownOffsets says whether the engine sends the offsets itself rather than
// through kgo's GroupTransactSession: those modes get their offsets wrong.
func (g Guarantee) ownOffsets() bool {
	return g == OffsetsBeforeCommit || g == OffsetsAfterCommit || g == NoGroupMetadata
}

// readUncommitted says whether input is read with read_uncommitted.
func (g Guarantee) readUncommitted() bool {
	return g == AtLeastOnce || g == ReadUncommitted || g == DBReadUncommitted || g == RepartitionReadUncommitted
}

// restore says how a store partition is caught up with its changelog.
func (g Guarantee) restore() topicread.Tail {
	switch g {
	case ReadUncommitted:
		return topicread.TailUncommitted
	case RestoreToStableOffset:
		return topicread.TailToStable
	}
	return topicread.TailWhenStable
}
