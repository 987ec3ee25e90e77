// Package live owns running a scenario against a real Kafka cluster over
// TCP, in real time: the same scenarios, engine, fault schedules and
// checkers as package sim, but the brokers are whatever the bootstrap
// addresses reach (Kafka, Redpanda, or cmd/kfakebroker on loopback).
//
// A run makes its own topics, consumer group and transactional ids under a
// run-unique application id, so that it shares a cluster with anything
// else; it removes its topics and group afterwards unless asked to keep
// them, interrupted or not.
//
// # Faults from the client side
//
// Against a real cluster eosim can only do what a client can do. Of the
// fault schedule's kinds it makes:
//   - crash and expire: the instance's connections are cut at the crash
//     point, with no leave-group and no abort, as a killed process's are;
//   - shutdown, join and leave: clean closes and starts, and an operator's
//     LeaveGroup by instance id;
//   - pause: at the crash point every write and dial of the instance waits
//     (heartbeats included) for the pause's length of wall time, past its
//     session or transaction timeout if the pause is long enough; then the
//     zombie carries on and must be fenced;
//   - drop: a connection cut once a request of the named type is written,
//     its answer lost.
//
// Broker errors, held requests, leader and coordinator moves, broker
// restarts and database faults need the simulator's hands on the broker or
// the database: a schedule or a rate that asks for them is refused (swarm
// leaves those families out, and a generated schedule the held requests
// the network family draws beside its drops).
//
// # What a live run is not
//
// It cannot be replayed from its seed: which records a poll finds, and so
// where a crash point falls, depends on the network and the goroutine
// schedule. The seed still picks the input and the schedule, and the run
// prints the schedule it used, which a later live run can follow again
// (with a different History). Time in its History is wall time.
package live
