// Package engine owns a small Kafka Streams in Go: a topology of one source
// topic, a processor with key-value stores backed by changelog topics, and
// sink topics, run under a processing guarantee on franz-go's kgo client.
//
// # Exactly-once
//
// Under exactly_once_v2 an instance has one kgo.GroupTransactSession: a
// read_committed group consumer and a transactional producer in one client.
// A unit of work polls, begins a transaction, runs the processor (store
// writes are buffered), produces the outputs and the changelog records, and
// ends the transaction through GroupTransactSession.End, which sends the
// consumed offsets with the group's generation and member id (KIP-447) and
// commits, or aborts if the group rebalanced meanwhile. The stores take the
// buffered writes only once the commit succeeded, so an abort needs no
// restore. A commit whose answer is lost leaves the outcome unknown: the
// instance then fails and must be restarted, so that it resumes from what
// the broker actually committed (Kafka Streams does the same on a commit
// timeout).
//
// What is hand-rolled, and why:
//   - The producer id is initialised at start, before the instance joins the
//     group: kgo does it lazily, and until then a crashed predecessor's open
//     transaction holds back the last stable offset and its offsets stay
//     pending.
//   - Stores are restored from their changelog only once no transaction is
//     open on it (last stable offset equal to the high watermark); records of
//     an open transaction would otherwise commit below the offset read to.
//   - Partitions are paused when assigned and resumed once their stores are
//     loaded; the step that resumes them does not poll.
//   - After a rebalance handled between units, an empty transaction is ended:
//     GroupTransactSession remembers a revoke until its next End, and an eager
//     balancer revokes on every join.
//   - The balancer assigns partition p to the (p mod n)-th member by instance
//     name, and its join metadata carries no generation, so a restarted static
//     member gets its old assignment without a rebalance.
//
// # Other guarantees
//
// at_least_once runs the same topology without transactions: outputs and
// changelog records are produced, then the offsets committed. The mistake
// modes reproduce classic errors, each named for it (see Guarantee and
// Mistakes). The ones that send offsets themselves (offsets_before_commit,
// offsets_after_commit, no_group_metadata) run a plain transactional kgo
// client in place of the session, since the session is what would stop
// them; no_group_metadata sends its TxnOffsetCommit as a raw kmsg request.
// The others keep the session and go wrong elsewhere: in what they read,
// where they produce, or what they keep or restore.
//
// Under every guarantee a unit's records are flushed one partition at a
// time: at most one Produce of an instance is in flight, so a fault aimed at
// its next Produce hits the same request in every run.
//
// # State directory
//
// An instance's state directory holds a checkpoint of its stores and of the
// changelog offset each reflects, written only by a clean close and removed
// at start. An instance that dies leaves none, so its successor wipes local
// state and restores from the changelog, as Kafka Streams does under
// exactly-once.
//
// # Crash points
//
// A CrashHook decides, at each named point of a unit (CrashPoints), whether
// the instance dies there. The points inside the commit fire on the wire: the
// instance's dialer watches each request's API key, and cuts every
// connection just before a request is written or just after, so the broker
// sees exactly the requests a real crash would have let through. A crash
// sends no leave-group and no abort.
//
// # Departures from Kafka Streams
//
// One processor per topology; a record forwarded to a sink keeps its input
// partition (the sinks are co-partitioned with the source) instead of being
// partitioned by key; one transactional producer per instance rather than
// per stream thread; store writes are sent to the changelog one record per
// write, without a record cache.
package engine
