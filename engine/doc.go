// Package engine owns a small Kafka Streams in Go: a topology of one source
// topic, a processor with key-value stores backed by changelog topics, and
// sink topics (or, in their place, a SQLite database), run under a
// processing guarantee on franz-go's kgo client.
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
//   - Partitions are paused when assigned and resumed once kgo has fetched
//     the group's offsets for the assignment and their stores are loaded;
//     the step that resumes them does not poll.
//   - Each fetch lists its partitions by lag, not in kgo's map-made order: a
//     partition whose first batch exceeds the per-partition limit is answered
//     only when it comes first.
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
// # Databases
//
// A topology with a Database has no processor and no sinks: each unit of
// work writes the effects of its input records (Database.Apply, one call
// per record) in a SQLite database that every instance opens with a
// connection of its own, as instances share a database server. It runs
// under one of the database guarantees (DatabaseGuarantees), which decide
// how those writes are tied to the input positions. The Guarantee
// constants say how each is made; in short:
//
// db_positions_fenced keeps the positions in the database, in the engine's
// own table beside the application's (PositionsTable: topic, partition,
// next offset, owner epoch), written in the same transaction as the
// effects; Kafka's committed offsets are never used. On assignment an
// instance claims each partition in a transaction of its own: it reads the
// next position, seeks the consumer there, and bumps the partition's owner
// epoch. Every write reads the epoch again inside its transaction and is
// refused if another instance has claimed the partition since, so a zombie
// (paused, slow, or overtaken by a rebalance) writes nothing: its
// transaction rolls back and the new owner's positions stand.
//
// db_idempotent writes each effect in its idempotent form (DBWrite.Once:
// Apply leaves out an input whose effect is already in the database, found
// by its identity, Database.InputID, and updates state under a version
// check) in one transaction per unit, then commits the offsets to Kafka for
// the partitions the instance still owns. Input seen again after a crash or
// a rebalance is recognised and skipped.
//
// The mistakes, each with the anomaly it leaves:
//   - db_then_kafka: the database commits, then the Kafka transaction with
//     the offsets; a crash or abort between the two replays the input:
//     duplicate ledger rows, stock taken twice (db-duplicate-effect,
//     db-fold).
//   - kafka_then_db: the offsets commit first; a crash or a database error
//     before the database commit loses the effects (db-lost-effect).
//   - db_positions_unfenced: positions in the database without the epoch
//     check; a zombie writes input its successor writes too, and moves the
//     position back (db-duplicate-effect).
//   - db_inside_kafka_txn: each record's effect committed to the database
//     as it is processed, as if the Kafka transaction covered it; the
//     transaction aborts, the rows stay, the input comes again
//     (db-duplicate-effect).
//   - db_contiguous_dedup: a record counts as new only at the last applied
//     offset plus one; transaction markers and aborted input leave gaps, so
//     it drops real input with no fault at all (db-lost-effect).
//   - db_auto_commit: the consumer's auto-commit every five seconds, the
//     database in a transaction of its own; a crash replays what was
//     written since (db-duplicate-effect).
//   - db_read_uncommitted: db_positions_fenced with the consumer's default
//     isolation; records of aborted upstream transactions reach the
//     database with no fault at all (db-phantom-effect).
//
// Each database transaction is recorded as a history.KindDB event: what it
// was for (a claim, or a unit's write), how it ended (committed, rolled
// back, refused by the fencing check, or unknown when the commit's answer
// was lost), the inputs it applied or skipped and the positions and epoch
// it held. That is the instance's account; the judge reads the tables. A
// failed database transaction fails the instance, which restarts and asks
// the database where it stands: its positions, or its rows. The crash points
// BeforeDBCommit and AfterDBCommit (DBCrashPoints) sit on either side of a
// unit's database commit, and a DBHook lets the simulator make a call find
// the database locked, hold it (a slow database), or lose a commit's
// answer (DBFault; faults/ says how each is made).
//
// Hand-rolled, as under exactly-once: records a poll returns below the
// position a claim read are dropped and the consumer sent back there
// (behindPositions), since a fetch the group began from Kafka's committed
// offsets may land after the claim's seek; and db_idempotent commits
// offsets only for the partitions it still owns (keepOwned), as a plain
// commit with the current generation would move another member's position
// back.
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
