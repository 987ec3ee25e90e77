// Package faults owns what can go wrong in a run, as data: a Schedule of
// faults at logical steps that prints, parses from JSON, replays, and is
// generated from a seed and per-family rates (or, in swarm mode, with the
// families themselves drawn from the seed). It describes faults; sim/
// applies them.
//
// Swarm has three styles. Families (Swarm) turns each family on or off per
// seed and draws its rate, over the catalogue: every family the seed keeps,
// thinly. Cells (SwarmCells) focuses each seed on one to three cells of the
// wide space (WideSpace: every error the protocol allows each request an
// instance sends, rejected and applied, holds in bands of the client's
// timeouts, rewrites, crash points, process, group and cluster events),
// drawn family first, then group, then cell, at Focus's rate, with faults
// that now and then coincide. Reactions (SwarmReactions) cuts the
// catalogue and late markers (ReactionSpace) by what each cell makes the
// client do next (ReactionOf: crash, expire, stall, blip, membership,
// abort, fenced, retry, unknown-outcome, slow, cluster, database,
// unsettled, ambiguous-commit), keeps each reaction with chance ½ (and
// membership with unsettled, whose open transaction only a new owner's
// restore shows), and focuses the seed on the cells of those it keeps, a
// reaction drawn as often as the next (FocusGroups): the style that meets
// the known mistakes most often.
//
// A step is one round of the simulator's driver, in which every live
// instance may do one unit of work. A fault at a crash point arms its
// instance at its step and strikes at the next unit that reaches the point.
// Every fault of a run ends as exactly one of fired, no effect (it could not
// act: its instance down or paused, a fault already armed on it) or not
// reached (the liveness phase began, or the input was processed, first):
// see sim.Outcome.
//
// # The protocol's answers
//
// ProtocolErrors lists, per request, every error a broker may answer it
// with: those its response's docs name, generated into protocol_errors.go
// from kmsg's copy of Kafka's protocol documentation (go generate
// ./faults/), and the errors of any request, of a coordinator's and of a
// transaction's, named with their source in protocol.go. The broker-error
// family draws from a hand-picked part of it (the catalogue); a test keeps
// the catalogue inside the table, and another fails when a client sends a
// request type the table does not cover. A schedule or a focus may name
// any pair of the table: refused, or, with Applied, answered once the work
// is done (kfake RewriteResponses sets every error code of the answer), for
// the errors that leave the outcome open (ambiguous) on requests that
// change something (effectful).
//
// # The catalogue and how each fault is made
//
//	crash         the engine's crash hook; the instance's connections are cut
//	              (no leave-group, no abort), on the wire for the points
//	              inside the commit
//	shutdown      Instance.Close: checkpoint, static member keeps its place
//	expire        a crash, then no restart until the group's coordinator
//	              shows it expired the member's session
//	pause         the crash hook blocks the unit and the instance's dialer
//	              holds every write (heartbeats included); on waking, the held
//	              writes go one at a time, oldest first, the world settling
//	              between, then the unit carries on as a zombie
//	join, leave   start a spare instance; Close plus kadm LeaveGroup by
//	              instance id, as an operator removes a static member
//	broker-error  kfake.Fault{Keys, Err, Count: 1, When: owner}, matched to
//	              the instance by the transactional id of its current
//	              incarnation (with the incarnation under fresh_txn_id) or
//	              its group instance id
//	drop          the instance's dialer cuts the connection right after the
//	              request is written: the broker did the work, the answer
//	              is lost, kgo dials again
//	delay         a kfake ControlKey on the request's key that matches the
//	              instance's next such request and SleepControl-s it for
//	              0.5 s, 5 s or 25 s of virtual time (the lengths swarm
//	              draws), any length a schedule gives, or a band: a length
//	              measured against the holding client's own timeouts, read
//	              from its kgo client (Band: within-request, past-request,
//	              past-session, past-txn; a band empty for the request has
//	              no effect, and says why); kfake serves the
//	              client's other connections meanwhile, so later requests
//	              overtake it (those queued behind it on its connection wait:
//	              kgo sends a member's group and transaction requests on one
//	              connection, so a held EndTxn or TxnOffsetCommit keeps its
//	              heartbeats waiting, while a held Produce is overtaken)
//	rewrite       kfake RewriteResponses (eosim's addition) sees every
//	              answer on kfake's run loop with the client id and the
//	              request; the instance's next answer of the kind that the
//	              rewrite can change is changed, and the fault fires then:
//	              throttle (ThrottleMs, on an answer whose throttle the
//	              client waits out, KIP-219), reorder (every list of
//	              brokers, topics, partitions and groups reversed: not a
//	              partition's replicas, not a fetch's aborted
//	              transactions), partial (a fetch answer keeps one
//	              partition's records). Answers a group writes once a
//	              rebalance completes (JoinGroup, SyncGroup) are written
//	              elsewhere in kfake and cannot be rewritten.
//	              late-markers is not a change of the answer but of what
//	              comes after it: kfake DeferMarkers (eosim's addition)
//	              asks the simulator, for each EndTxn that ends a
//	              transaction with partitions, whether to hold its markers;
//	              the instance's next one is answered, its offsets
//	              committed, and its markers written LateMarkersMs later, by
//	              the driver once the world has settled. Meanwhile its
//	              partitions' last stable offset stays below the
//	              transaction, the coordinator answers the producer
//	              CONCURRENT_TRANSACTIONS (kgo retries), and the instance is
//	              not stepped (its unit would hold the driver), nor
//	              restarted; held markers are written before the brokers
//	              restart and before the final topics are read. -swarm=cells
//	              and -swarm=reactions draw rewrites (late-markers is the
//	              reactions style's "unsettled"); -swarm does not
//	leader-move   kfake MoveTopicPartition of the partition, in every topic,
//	              to the broker after its leader (sim refuses a leader or
//	              coordinator move on one broker: it has nowhere to go)
//	coordinator-  kfake MoveCoordinators (eosim's addition): every group and
//	move          transaction coordinator is rehashed, the group's and the
//	              running instances' onto other brokers; clients learn it
//	              from NOT_COORDINATOR
//	broker-       every broker stops and starts again on its ports from the
//	restart       state it persisted to (kfake.PersistTo, a disk in memory,
//	              used only when a restart is scheduled); leaders come back
//	              where they were and no epoch goes back (kfake keeps both in
//	              a snapshot; one rebuilt from a replayed log is raised by
//	              moving the partition back). Requests held by delays are
//	              answered first, and the instances' writes are held across
//	              the restart and let go in order after it
//
// # Database faults
//
// A scenario with a database (orders-db) writes one SQLite file
// (modernc.org/sqlite, pure Go, opened inside the bubble) that every
// instance opens with a connection of its own, as instances share a
// database server. Three faults act on an instance's next database
// transaction, a claim of partitions on assignment or a unit's write,
// through the engine's database hook (engine.DBHook, engine.DBFault):
//
//	db-busy       the driver takes SQLite's write lock from a connection
//	              of its own (an open write transaction, as another process
//	              writing would hold it), so the instance's BEGIN IMMEDIATE
//	              answers SQLITE_BUSY for real (busy_timeout 0: at once);
//	              the driver lets go as the call returns. The transaction
//	              never begins and the instance fails and restarts. Fired
//	              only if the BEGIN did answer SQLITE_BUSY
//	db-lost       the instance's next COMMIT is made, and its answer lost:
//	              the engine's database call returns engine.ErrDBAnswerLost
//	              once the commit succeeded, as a dropped connection to a
//	              database server would leave it. SQLite is embedded: it has
//	              no connection to drop, so the loss is emulated in the
//	              engine's call, not made on a wire. The outcome is unknown
//	              to the instance, which fails and restarts and learns from
//	              the database what happened. Fired only if the commit
//	              succeeded
//	db-slow       the unit is held before its database transaction begins,
//	              for the fault's delay of virtual time (drawn from 0.5 s,
//	              15 s and 30 s), as a pause holds one, but with its
//	              client's traffic going on (heartbeats and all) and no lock
//	              held, so the other instances go on writing. Held past the
//	              poll interval (12 s), the member leaves the group, as
//	              Java's consumer does at max.poll.interval.ms (the driver
//	              sends the LeaveGroup, kgo having no such timer, and holds
//	              the member's traffic until the unit ends, so that it
//	              rejoins only then); the others take its partitions, and
//	              the unit writes when it wakes: a zombie
//
// Two crash points sit on either side of a unit's database commit
// (engine.DBCrashPoints); crash, expire and pause draw them like the others
// in a scenario with a database:
//
//	before-db-commit  the transaction is written, not committed, and the
//	                  instance dies: the open transaction is rolled back,
//	                  as SQLite's journal rolls back the transaction of a
//	                  process that died (the instance's goroutine lives on,
//	                  so the engine rolls it back on its connection)
//	after-db-commit   the transaction committed, and the instance dies
//	                  before anything else: before the Kafka commit that
//	                  follows under db_then_kafka, say
//
// Rates.Database is the family's rate: per instance per step, a crash at
// either point, a db-busy, a db-lost or a db-slow, each as likely. Swarm
// draws it last, so the other families' draws stay put, and turns it on
// only for a scenario with a database (sim.Config's resolveSwarm zeroes it
// otherwise); a database rate, a database fault in a schedule or a
// database file given to a scenario without a database is refused by
// sim.Config.Validate, and FromBytes never decodes one (the fuzzed
// scenario has no database).
//
// What is not simulated is power loss. Every connection runs with
// synchronous=OFF (internal/sqlitedb): a process crash loses nothing that
// committed, since the operating system holds the writes, and a process
// crash is the failure runs make; a power loss, against which only fsync
// protects, never happens. A crashed instance's connection is closed
// where a dead process's would just stop; either way the database holds
// every transaction that committed and none that did not. The run's end
// checks the database's integrity (sim.ErrDatabaseFile) before the judge
// reads its tables.
//
// # Determinism
//
// A fault must hit the same request in every run, and Go's scheduler must
// never pick between two things that happen at one virtual instant. The
// rule that carries most of it: every write and dial of every instance is
// held by its network from the instance's creation to its stop, and the
// driver lets them go one at a time, oldest first across all instances
// (ties broken by destination and bytes, which begin with the client id),
// the world settling (synctest.Wait) between, wherever the driver waits: in
// a step, a sleep, a start or a close (sim's settle). Goroutines woken at one
// instant (a heartbeat and a fetch, two members' joins, the clients a
// dropped connection or a released held request wakes) therefore reach the
// brokers in that order, never Go's. Beyond it:
//   - the engine flushes a unit's records one partition at a time, so a
//     fault aimed at "the next Produce" never picks among requests written
//     to several brokers at one instant;
//   - instances get session and transaction timeouts and heartbeat periods
//     a few milliseconds apart, so two members never expire at one instant;
//     kgo's retry backoff is off the driver's grid and apart per client;
//   - a step polls only once the world is still, so it takes what every
//     fetch in flight had buffered, never what an answer racing the poll
//     had buffered so far; and the unit waits after its poll until the
//     fetches the poll set off are written, in order: otherwise they race
//     the unit's first transactional request into kgo's queue for a broker,
//     which sends one at a time;
//   - a paused instance is asleep: its writes stay held (its heartbeats
//     stop) once the fetches its last poll set off have landed, and go out
//     in order when it wakes;
//   - a run stops every instance at one instant before it closes any
//     client: a kgo client's close takes a millisecond of virtual time or
//     none, as it still has a fetch session to close or not; a close in
//     the middle of a run (a shutdown, a leave, a failed instance) is
//     given 50ms whatever it took; a stopped instance's network holds
//     nothing more, so a closing client is never held by a fault that
//     fires as it closes (seed 9239 -swarm hung there);
//   - a broker restart first answers the requests delays hold; what the
//     instances write across it is held and let go in order after it;
//     leaders come back where they were and no epoch goes back (kfake
//     persists both; an epoch rebuilt lower from a replayed log is raised
//     back), so the restart fences no consumer;
//   - the simulator's cluster answers epoch validation after a leader move
//     as a real broker would (below), so kgo never rewinds a consumer at
//     whatever moment it happened to validate;
//   - kfake chose a group's new leader by Go's map iteration order; eosim
//     runs a copy of kfake (third_party/kfake, README.eosim.md) that takes
//     the member with the smallest id (swarm seed 1672 parted on it).
//
// Each claim of the catalogue above is a test in sim (TestClaim…, and the
// catalogue tests) that finds its effect on the brokers' end of the network
// (sim.Config.RecordWire: every request a broker read and every answer it
// wrote, with virtual time), not in what the engine says of itself.
//
// simrun -client-log writes kgo's debug log of a run stamped with virtual
// time: of two runs of a seed that part ways, the first instant whose lines
// differ (as sets) names the race.
//
// The engine holds rebalance callbacks until a unit has ended (kgo's
// BlockRebalanceOnPoll, AllowRebalance after each step): a heartbeat that
// GroupTransactSession.End forces, answered REBALANCE_IN_PROGRESS, used to
// set off a revoke that raced End's own check of the session for one mutex
// inside kgo (swarm seed 1672, 4 runs of 12), with no write between them to
// order. A unit that reaches its commit with a callback waiting aborts.
// Holding the callbacks has a cost kgo v1.22.3 leaves to the caller: a
// member the coordinator drops while End waits for its forced heartbeat (a
// TxnOffsetCommit held past the session timeout) has no heartbeat loop to
// serve it and never hears of the loss, so End would wait forever; the
// engine bounds End by a minute of virtual time (engine.endTimeout), after
// which the unit's outcome is unknown to the client and it restarts.
//
// # Where kfake departs from a real broker, as the faults expose it
//
//   - REQUEST_TIMED_OUT after applying the request exists only for Produce,
//     TxnOffsetCommit and OffsetCommit; for EndTxn, InitProducerID and the
//     rest, "applied but the answer lost" is a drop.
//   - kfake never answers CONCURRENT_TRANSACTIONS by itself: it aborts a
//     fenced producer's transaction inside InitProducerID. Only a
//     broker-error makes a client see it.
//   - With franz-go v1.22 and kfake speaking transactions v2 (KIP-890 part
//     2), AddPartitionsToTxn and AddOffsetsToTxn are never sent; faults on
//     them fire only with TransactionsV1 (the protocol of Kafka 3.9 and
//     older).
//   - After a leader move, kfake answers a consumer's
//     OffsetForLeaderEpoch for the previous epoch with "undefined" as long as
//     no batch carries a later epoch (the input topic is written once, up
//     front), where a real broker answers that epoch's end offset: it
//     records each epoch's start offset when it takes leadership. kgo takes
//     the answer for truncation, reports lost records ("consumed to offset N
//     … but was reset to offset 0") and rewinds, at whatever moment it
//     happened to validate. The simulator's cluster asks kfake for the
//     current epoch instead (sim.askForCurrentEpoch): no simulated log is
//     ever truncated, so the high watermark it then answers leads kgo to the
//     real broker's decision, keep its position. A test in sim fails when
//     kfake fixes its answer, so that the workaround can go.
//   - A transactional Produce (v12+, KIP-890 part 2) registers its partitions
//     in the producer's transaction before kfake checks the epoch: a stale
//     Produce from a fenced epoch (one held by a delay past its client's
//     retry) is rejected with INVALID_PRODUCER_EPOCH, yet leaves its
//     partitions in the current transaction, which then writes a spurious
//     marker there when it ends. A real broker verifies the epoch first.
//     Read-committed views are unchanged; offsets shift by one.
//   - A restart brings back one process's state as kfake persisted it at
//     shutdown; there is no partial durability (fsync) to lose. kfake
//     rebuilds a partition's leader epoch from its last batch when it
//     replays a log rather than load its snapshot, which can take the epoch
//     back; the simulator raises it again (a real broker never lowers one).
//   - kfake closed while two requests sleep in controls wedges: the second
//     control goroutine blocks on kfake's control mutex, which synctest does
//     not count as durably blocked, so the bubble never settles. The
//     simulator lets held requests go before a restart.
//   - A Produce without a transaction carries no identity: a fault on one
//     hits whichever instance sends one next. An OffsetFetch is matched by
//     its member id, which kfake makes of the client id and a random suffix
//     (a broker error on it, or a delay: a rebalance can then come in the
//     middle of the fetch).
package faults
