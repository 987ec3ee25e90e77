// Package sim owns running a world: a kfake cluster on an in-memory network,
// engine instances, the input and the faults, all driven from one seed in
// virtual time, and the History it records. Run is the entry point for tests
// and for cmd/simrun alike.
//
// # Determinism
//
// The same Config gives the same History byte for byte, on any machine and
// at any GOMAXPROCS. Run must be called inside a testing/synctest bubble
// (see internal/bubble for programs): every connection is a net.Pipe, every
// timeout passes in virtual time, and synctest.Wait marks the instants at
// which the world is quiescent. What that took:
//   - One seed derives every stream: the input, the fault schedule, and the
//     global math/rand that kfake draws from (binaries set
//     //go:debug randseednop=0 so that seeding it works).
//   - One driver goroutine steps the instances in name order; an instance
//     steps only while the group is Stable, and the first step waits for
//     the whole group to form.
//   - Every write and dial of every instance is held by its network and let
//     go by the driver, one at a time, oldest first (ties by destination
//     and bytes), the world settling between (world.settle): goroutines
//     woken at one instant never race on the wire.
//   - A run that exceeds its limits (StuckAfter of virtual time for one
//     wait, or its context's deadline in wall time) ends with the verdict
//     stuck and what the driver was waiting for, never hangs.
//   - Input is produced in batches of exactly Batch records per partition,
//     and instances fetch at most one batch per partition per fetch, so what
//     a step finds buffered depends on the input alone.
//   - Instances join with static membership, a deterministic balancer, and a
//     millisecond apart, so their session timers never coincide.
//   - kgo's retry backoff is a fixed ladder instead of jittered; client
//     telemetry is off.
//   - Nothing legitimately random enters the History: no producer ids, no
//     member ids, no record timestamps.
//
// # Phases
//
// As in TigerBeetle's VOPR, a run has a fault phase (the schedule's steps,
// at least as long as a fault-free run needs) and then a liveness phase that
// restarts every instance that is down, injects nothing, and must see the
// group commit the end of every input partition within LivenessTimeout of
// virtual time. A run that does not is Unknown, never Pass.
//
// Every fault of the schedule ends as exactly one Outcome, in the History
// ("fired: …", "no effect (why): …", "not reached (why): …") and in
// Result.Faults, in the schedule's order: fired, taken from what the
// broker, the network or the engine saw; no effect, when its step came but
// it could not act; not reached, when the liveness phase began (what is
// still armed then is taken off) or the input was processed first.
//
// # Where kfake departs from Kafka
//
// kfake is one process with one request loop; it never answers
// CONCURRENT_TRANSACTIONS, aborts a fenced producer's open transaction
// synchronously within InitProducerID, and lets a static member rejoin
// without a rebalance only if its join metadata is byte-identical. See
// kfake's own txns.go for its transaction model.
package sim
