package sim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"testing/synctest"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eosim/eosim/engine"
	"github.com/eosim/eosim/faults"
	"github.com/eosim/eosim/history"
	"github.com/eosim/eosim/internal/clientlog"
	"github.com/eosim/eosim/internal/topicread"
	"github.com/eosim/eosim/invariants"
	"github.com/eosim/eosim/scenarios"
)

// Errors Run returns before it starts a world.
var (
	// ErrNeedsSynctests: built without franz-go's synctests tag.
	ErrNeedsSynctests = errors.New("the simulator needs franz-go's synctests build tag: build or run with -tags synctests")
	// ErrNoBubble: Run was called outside a testing/synctest bubble.
	ErrNoBubble = errors.New("sim.Run must be called inside a testing/synctest bubble: enter one with synctest.Test in a test (cmd/simrun enters one through internal/bubble)")
	// ErrStuck: a wait of the driver exceeded its limit, in virtual time
	// (a call into an instance that did not return within StuckAfter,
	// which no fault explains) or in wall time (the run's context's
	// deadline passed). Run gives up rather than let time run on forever,
	// and returns a Result whose verdict is stuck, not this error.
	ErrStuck = errors.New("the simulator is stuck")
	// ErrInterrupted: the run's context was canceled (Ctrl-C).
	ErrInterrupted = errors.New("run interrupted")
)

// StuckAfter is how long, in virtual time, the driver waits for one step,
// start or resumed unit of an instance before it reports ErrStuck. The
// longest wait a fault makes is a pause or a held request (30 s) plus kgo's
// request timeouts.
const StuckAfter = 10 * time.Minute

// Result is what one run left behind.
type Result struct {
	Config   Config
	Schedule faults.Schedule
	History  history.History
	Snapshot history.Snapshot
	Report   invariants.Report
	// Complete: every input was processed and committed.
	Complete bool
	// Stuck, when not empty, says what the driver was waiting for when it
	// gave up (see ErrStuck): the run never ended and was not judged; its
	// History goes up to that point.
	Stuck string
	Stats Stats
	// Hash is the trace hash: the SHA-256 of the History.
	Hash string
	// Faults is what became of each fault of Schedule, in its order:
	// fired, no effect or not reached (see Outcome).
	Faults []FaultOutcome
	// Wire is what the brokers read and wrote, with Config.RecordWire.
	Wire []WireEvent
}

// Verdict is the run's verdict: stuck when the driver gave up on it,
// unknown whenever it did not complete and found nothing wrong.
func (r Result) Verdict() invariants.Verdict {
	if r.Stuck != "" {
		return invariants.Stuck
	}
	if r.Report.Verdict == invariants.Pass && !r.Complete {
		return invariants.Unknown
	}
	return r.Report.Verdict
}

// Stats counts what happened in a run.
type Stats struct {
	Inputs    int
	Committed int
	Aborted   int
	Crashed   int
	Unknown   int
	Crashes   int
	Restarts  int
	Steps     int
	Virtual   time.Duration
}

// kfakeRand guards the global math/rand that kfake draws from: a run seeds
// it and creates its cluster (whose draws place the partitions) under the
// lock, and so does a broker restart. Runs may overlap otherwise: what kfake
// draws in between (producer ids) never reaches a History.
var kfakeRand sync.Mutex

// seedKfake seeds the global source for one of a run's cluster creations.
func seedKfake(seed uint64, what string) {
	//lint:ignore SA1019 kfake draws partition leaders and more from the global source; with randseednop=0 this seeds it
	rand.Seed(int64(derive(seed, what)))
}

// Run builds the world of cfg, runs its fault phase and its liveness phase,
// and judges it. It must be called inside a synctest bubble, so that time is
// virtual; an error means the world could not be run at all, not that an
// invariant failed (that is in the Result).
//
// ctx may come from outside the bubble: Run never waits on it (a goroutine
// waiting on a channel of another bubble would stop virtual time), it looks
// at ctx.Err() between steps and, once a virtual second, inside every wait.
// A deadline that passes ends the run with the verdict stuck (a wall-time
// limit); a cancellation ends it with ErrInterrupted.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if !builtWithSynctests {
		return Result{}, ErrNeedsSynctests
	}
	if !inBubble() {
		return Result{}, ErrNoBubble
	}
	if err := cfg.Validate(); err != nil {
		return Result{}, fmt.Errorf("invalid config: %w", err)
	}
	cfg = cfg.resolveSwarm()
	sched, err := cfg.schedule()
	if err != nil {
		return Result{}, err
	}
	// The clients get a context of the bubble's own; ctx is only looked at.
	bctx := context.Background()
	kfakeRand.Lock()
	seedKfake(cfg.Seed, "kfake")
	var w *world
	profiled("setup", func() { w, err = newWorld(bctx, cfg, sched) })
	kfakeRand.Unlock()
	if err != nil {
		return Result{}, err
	}
	defer w.close()
	w.interrupt = ctx
	profiled("drive", func() { err = w.drive(bctx) })
	if err != nil {
		if errors.Is(err, ErrStuck) {
			return w.stuck(err), nil
		}
		return Result{}, err
	}
	var res Result
	profiled("judge", func() { res, err = w.judge(bctx) })
	return res, err
}

// profiled runs fn under the profiler label sim=part, which every goroutine
// fn starts inherits, so that `go tool pprof -tags` (or -tagfocus
// sim=drive) splits a CPU profile of simrun by what a run was doing: setup,
// drive and judge for the driver's phases, brokers for kfake's goroutines and
// instances for the clients of the instances it starts.
func profiled(part string, fn func()) {
	pprof.Do(context.Background(), pprof.Labels("sim", part), func(context.Context) { fn() })
}

// stuck is the Result of a run the driver gave up on: its History up to
// here, with a last note that says what it was waiting for.
func (w *world) stuck(err error) Result {
	why := strings.TrimPrefix(err.Error(), ErrStuck.Error()+": ")
	// What fired is recorded; the rest the run never reached. Nothing is
	// taken off the brokers or the instances here (close does it): a
	// stuck world is not asked for more than it must.
	w.checkFired()
	for _, s := range w.slots {
		if a := s.armed; a != nil && a.hit.Load() {
			// The hook struck; the crash is what the driver waited on.
			w.fired(a.index, a.fault.String())
		}
	}
	w.unreached("still armed when the run was given up", "the run was given up")
	w.note("stuck: " + why)
	h := w.log.History()
	return Result{
		Config: w.cfg, Schedule: w.sched, History: h, Stuck: why,
		Hash: h.Hash(), Stats: StatsOf(h, w.steps, time.Since(w.start)),
		Faults: w.faultOutcomes(), Wire: w.wire.events(),
	}
}

// interrupted reports whether the run's context has ended: a passed
// deadline is the wall-time limit (an ErrStuck naming what the driver was
// waiting for), a cancellation an error of its own.
func (w *world) interrupted(waiting string) error {
	if w.interrupt == nil {
		return nil
	}
	switch err := w.interrupt.Err(); {
	case err == nil:
		return nil
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%w: the wall-time limit passed while %s", ErrStuck, waiting)
	default:
		return fmt.Errorf("%w while %s: %w", ErrInterrupted, waiting, err)
	}
}

// inBubble reports whether the caller runs inside a synctest bubble:
// synctest.Wait panics outside one.
func inBubble() (in bool) {
	defer func() {
		if recover() != nil {
			in = false
		}
	}()
	synctest.Wait()
	return true
}

// world is one run in progress.
type world struct {
	cfg      Config
	sched    faults.Schedule
	scenario scenarios.Scenario
	params   scenarios.Params
	cluster  *Cluster
	// restarts counts the broker restarts so far; each seeds kfake anew.
	restarts int
	adm      *topicread.Admin
	closeAdm func()
	log      *history.Log
	stateDir string
	// disk keeps the instances' state directories (their checkpoints)
	// for the run, across their incarnations, in memory.
	disk  engine.MemoryDisk
	start time.Time
	// wire records the brokers' side of the network (Config.RecordWire).
	wire     *wireTap
	slots    []*slot
	complete bool
	steps    int
	// members is the group's static members (instance ids) as last
	// described, for faults that wait on the coordinator.
	members []string
	// outcomes is what became of each fault of sched; applied counts the
	// faults whose step has come.
	outcomes *Outcomes
	applied  int
	// brokerFaults and delays are the installed broker errors and held
	// requests not yet seen to fire.
	brokerFaults []armedBrokerFault
	delays       []armedDelay
	// rewriter holds the armed rewrites of answers.
	rewriter rewriter
	// late holds transactions' markers back (LateMarkers rewrites).
	late lateMarkers
	// holds are the requests delays hold at the broker now.
	holds holds
	// live are the instances whose writes the driver delivers (settle);
	// held hears that one of them holds a new write; the asleep ones (a
	// paused unit's) keep theirs until they wake.
	live   []*engine.Instance
	held   chan struct{}
	asleep map[*engine.Instance]bool
	// polled hears from a unit that has polled its records and waits,
	// before it begins its transaction, for the world to settle.
	polled chan chan struct{}
	// partitionBytes is FetchPartitionBytes of the run's input, worked out
	// once it is produced: every start would otherwise copy the History.
	partitionBytes int32
	// clientLog is Config.ClientLog, one line at a time.
	clientLog io.Writer
	// interrupt is Run's context, looked at, never waited on.
	interrupt context.Context
	// dbConn is the run's database, for a scenario with one.
	dbConn
}

func newWorld(ctx context.Context, cfg Config, sched faults.Schedule) (*world, error) {
	sc, err := scenarios.Lookup(cfg.Scenario)
	if err != nil {
		return nil, err
	}
	w := &world{
		cfg: cfg, sched: sched, scenario: sc,
		params: cfg.Params(),
		log:    history.NewLog(time.Now),
		start:  time.Now(),
		held:   make(chan struct{}, 1),
		asleep: make(map[*engine.Instance]bool),
		polled: make(chan chan struct{}),
	}
	w.outcomes = NewOutcomes(sched, w.log)
	w.clientLog = clientlog.Locked(cfg.ClientLog)
	if w.stateDir, err = os.MkdirTemp("", "eosim-state-"); err != nil {
		return nil, fmt.Errorf("creating state directory: %w", err)
	}
	// With a broker restart to come, the brokers persist their state, so
	// that the restart can bring it back: to a disk in memory, which costs
	// no system call (on the real disk, the writes and syncs were a tenth
	// of a swarm sweep's time), and only then, since persisting writes the
	// groups' and producers' logs besides the partitions'.
	var clusterOpts []kfake.Opt
	if slices.ContainsFunc(sched.Faults, func(f faults.Fault) bool { return f.Kind == faults.BrokerRestart }) {
		clusterOpts = append(clusterOpts, kfake.PersistTo(kfake.NewMemoryDisk()))
	}
	if cfg.RecordWire {
		w.wire = newWireTap(w.start)
	}
	if err := w.openDatabase(ctx); err != nil {
		_ = os.RemoveAll(w.stateDir)
		return nil, err
	}
	profiled("brokers", func() { w.cluster, err = newCluster(cfg.Brokers, sc.Topics(w.params), w.wire, clusterOpts...) })
	if err != nil {
		w.closeDatabase()
		_ = os.RemoveAll(w.stateDir)
		return nil, err
	}
	// Only a schedule with a rewrite, or an error answered after the
	// work, puts a hook on every answer.
	if slices.ContainsFunc(sched.Faults, func(f faults.Fault) bool {
		return f.Kind == faults.Rewrite && f.Rewrite != faults.LateMarkers || f.Applied
	}) {
		w.cluster.RewriteResponses(w.rewriter.rewrite)
	}
	if slices.ContainsFunc(sched.Faults, func(f faults.Fault) bool { return f.Rewrite == faults.LateMarkers }) {
		w.cluster.DeferMarkers(w.late.hold)
	}
	w.adm, w.closeAdm, err = topicread.NewAdmin(append(w.cluster.ClientOpts(), deterministicOpts(0)...))
	if err != nil {
		w.cluster.Close()
		return nil, err
	}
	// An event per input, and a few hundred besides (units, faults,
	// assignments, notes) in a default run.
	w.log.Reserve(cfg.Inputs + 512)
	if err := sc.Produce(ctx, append(w.cluster.ClientOpts(), deterministicOpts(0)...), w.params, w.log); err != nil {
		w.close()
		return nil, fmt.Errorf("producing input: %w", err)
	}
	w.settle()
	w.partitionBytes = FetchPartitionBytes(w.log.Inputs(), cfg.Batch)
	for _, name := range cfg.InstanceNames() {
		s := &slot{name: name}
		w.slots = append(w.slots, s)
		if err := w.startInstance(ctx, s); err != nil {
			w.close()
			return nil, err
		}
	}
	for _, name := range cfg.SpareNames() {
		w.slots = append(w.slots, &slot{name: name, spare: true, downUntil: -1})
	}
	if err := w.awaitGroup(cfg.Instances); err != nil {
		w.close()
		return nil, err
	}
	return w, nil
}

// groupFormationTimeout bounds, in virtual time, the wait for the initial
// group.
const groupFormationTimeout = time.Minute

// awaitGroup waits until the group is stable with n members, so that no step
// runs while late joiners rebalance the group: which records a rebalance
// catches in the fetch buffers would depend on timing alone.
func (w *world) awaitGroup(n int) error {
	deadline := time.Now().Add(groupFormationTimeout)
	for time.Now().Before(deadline) {
		if w.groupStable() && len(w.members) == n {
			return nil
		}
		w.sleep(w.cfg.Tick)
		w.settle()
	}
	return fmt.Errorf("the group did not form with %d members within %v", n, groupFormationTimeout)
}

// deterministicOpts pin down what kgo would otherwise draw at random. slot
// tells the clients of one run apart (0 for the simulator's own, i+1 for
// instance i).
func deterministicOpts(slot int) []kgo.Opt {
	return []kgo.Opt{
		// kgo jitters its retry backoff; retryBackoff is a fixed ladder
		// that keeps retries on the same virtual instants in every run.
		kgo.RetryBackoffFn(retryBackoff(slot)),
		// KIP-714 telemetry pushes on its own timers and gzips every push;
		// compression pools allocate large tables per client. Neither
		// means anything on an in-memory network; both cost CPU.
		kgo.DisableClientMetrics(),
		kgo.ProducerBatchCompression(kgo.NoCompression()),
	}
}

func (w *world) startInstance(ctx context.Context, s *slot) error {
	s.setIncarnation(w.cfg)
	in, err := engine.New(engine.Config{
		AppID: w.cfg.AppID(), Name: s.name, Incarnation: s.incarnation,
		Brokers: w.cluster.Brokers(), Dial: w.cluster.Net.DialContext,
		Guarantee: w.cfg.Guarantee, Topology: w.scenario.Topology(w.params),
		StateDir: filepath.Join(w.stateDir, s.name), Disk: &w.disk, Recorder: w.log,
		CrashHook:        func(at engine.CrashSite) bool { return w.crashHere(s, at) },
		BeforePoll:       w.settleAround,
		AfterFlush:       w.settleAround,
		StaticMembership: true,
		// Per-instance session and transaction timeouts: two members that
		// last heartbeated (or began a transaction) at one instant would
		// otherwise expire at one instant, and kfake, whose timers then
		// fire together, would let Go pick which goes first.
		SessionTimeout: engine.DefaultSessionTimeout + time.Duration(s.name[0]-'a')*13*time.Millisecond,
		// Not a round multiple of kgo's own timeouts (a produce gives up
		// 20s after it is written): a transaction begun and produced at
		// one instant must not time out at the instant its held produce
		// does, or Go would order the two.
		TransactionTimeout:                23456*time.Millisecond + time.Duration(s.name[0]-'a')*17*time.Millisecond,
		TransactionsV1:                    w.cfg.TransactionsV1,
		KeepClientAfterFailedProduce:      w.cfg.KeepClientAfterFailedProduce,
		TrustAbortAfterUnknownCommitError: w.cfg.TrustAbortAfterUnknownCommitError,
		Recovery:                          w.cfg.Recovery,
		Database:                          w.dbPath,
		DBHook:                            w.dbHook(s),
		Logger:                            clientlog.Logger(w.clientLog, s.name, w.start),
		ClientOpts: append(deterministicOpts(1+int(s.name[0]-'a')),
			kgo.FetchMaxPartitionBytes(w.partitionBytes),
			// Distinct heartbeat periods: two members that rejoined
			// together would otherwise heartbeat at the same virtual
			// instants forever, and Go would order their requests.
			kgo.HeartbeatInterval(3*time.Second+time.Duration(s.name[0]-'a')*7*time.Millisecond),
		),
	})
	if err != nil {
		return fmt.Errorf("instance %s: %w", s.name, err)
	}
	w.sequence(in)
	if s.drop != nil {
		// A drop armed on a dead incarnation waits for the next one,
		// whose first requests (InitProducerID) it may be aimed at.
		key, _ := apiKey(s.drop.fault.Request)
		in.DropConnectionsAfter(key)
	}
	start := func() (err error) {
		profiled("instances", func() { err = in.Start(ctx) })
		return err
	}
	if err := w.untilDone(s.name, "its start", start); err != nil {
		if errors.Is(err, ErrStuck) {
			in.Crash()
			return err
		}
		// A start can fail under a fault (its InitProducerID answer lost):
		// the instance stays down and is tried again at the next step.
		w.checkDropFired(s, in)
		if err := w.closeInstance(in); errors.Is(err, ErrStuck) {
			return err
		}
		w.log.Record(history.Event{Kind: history.KindNote, Instance: s.name, Detail: "start failed, retrying: " + engine.Reason(err)})
		s.in, s.downUntil = nil, w.steps+1
		return nil
	}
	s.in, s.downUntil, s.armed, s.waitExpiry, s.spare = in, 0, nil, false, false
	w.settle()
	// A millisecond apart, two instances' session timers never fire at the
	// same virtual instant, where Go would pick their order at random.
	w.sleep(time.Millisecond)
	w.settle()
	return nil
}

// FetchPartitionBytes is between one and two input batches of batch
// records, so each fetch returns one batch per partition: what a step finds
// buffered is then a function of the input alone, not of how fetches and
// steps interleave.
func FetchPartitionBytes(inputs []history.Record, batch int) int32 {
	const batchHeader, recordOverhead = 61, 24
	biggest := 0
	for _, r := range inputs {
		biggest = max(biggest, len(r.Key)+len(r.Value)+recordOverhead)
	}
	return int32(batchHeader + biggest*batch*3/2)
}

// judge stops the instances, snapshots the topics and runs the checkers.
func (w *world) judge(ctx context.Context) (Result, error) {
	// A run can finish its input before its fault phase ends: what was
	// armed and never fired is disarmed before the instances close (not
	// reached), and every held request is let go.
	if w.complete {
		w.endFaults("still armed when the input was processed", "the input was processed")
	} else {
		w.endFaults("still armed when the run ended", "the run ended")
	}
	w.awaitHeldRequests()
	// Every instance stops at this one instant, before any client closes
	// and takes its own, scheduling-dependent, share of virtual time.
	for _, s := range w.slots {
		if s.in != nil {
			if err := s.in.Stop(); err != nil {
				w.note(fmt.Sprintf("%s: closing: %s", s.name, engine.Reason(err)))
			}
		}
	}
	virtual := time.Since(w.start)
	for _, s := range w.slots {
		if s.in != nil {
			if err := w.untilDone(s.name, "its close", s.in.Close); errors.Is(err, ErrStuck) {
				return w.stuck(err), nil
			}
			s.in = nil
		}
	}
	w.settle()
	w.writeDueMarkers(true, " before the final topics are read")
	spec := w.cfg.JudgedBy(w.scenario.Spec(w.params))
	snapCtx, cancel := context.WithTimeout(ctx, StuckAfter)
	defer cancel()
	snap, err := topicread.SnapshotWith(snapCtx, w.adm, w.cluster.ClientOpts(), w.cfg.AppID(), spec.Topics()...)
	if err != nil {
		if snapCtx.Err() != nil {
			return w.stuck(fmt.Errorf("%w: reading the final topics took more than %v of virtual time: %w", ErrStuck, StuckAfter, err)), nil
		}
		return Result{}, err
	}
	if snap.Tables, err = w.databaseTables(ctx); err != nil {
		return Result{}, err
	}
	h := w.log.History()
	// The trace hash, a pure function of the History, is taken on a
	// goroutine of its own while the checkers judge the run.
	hashed := make(chan string, 1)
	go func() { hashed <- h.Hash() }()
	res := Result{
		Config: w.cfg, Schedule: w.sched, History: h, Snapshot: snap,
		Report:   invariants.Check(spec, invariants.Run{History: h, Snapshot: snap, Complete: w.complete}),
		Complete: w.complete,
		Hash:     <-hashed,
		Faults:   w.faultOutcomes(),
		Wire:     w.wire.events(),
	}
	res.Stats = StatsOf(h, w.steps, virtual)
	return res, nil
}

// StatsOf counts what a History records, for a run of steps driver steps
// that took virtual of (virtual, or for a live run, wall) time.
func StatsOf(h history.History, steps int, virtual time.Duration) Stats {
	st := Stats{Steps: steps, Virtual: virtual}
	started := make(map[string]bool) // a name's first start (or join) is no restart
	for _, ev := range h.Events {
		switch ev.Kind {
		case history.KindInput:
			st.Inputs++
		case history.KindCrash:
			st.Crashes++
		case history.KindStart:
			if started[ev.Instance] {
				st.Restarts++
			}
			started[ev.Instance] = true
		case history.KindUnit:
			switch ev.Unit.Outcome {
			case history.Committed:
				st.Committed++
			case history.Aborted:
				st.Aborted++
			case history.Crashed:
				st.Crashed++
			case history.Unknown:
				st.Unknown++
			}
		}
	}
	return st
}

func (w *world) close() {
	if w.cluster != nil {
		w.removeBrokerFaults()
		w.awaitHeldRequests()
	}
	for _, s := range w.slots {
		if s.in == nil {
			continue
		}
		if s.pending != nil {
			// A paused unit still waits in its crash hook: crash the
			// instance under it, then let it return.
			s.in.Crash()
			if s.resume != nil {
				close(s.resume)
			}
			<-s.pending
			s.pending = nil
		}
		// After a stuck run a close may not end: crash what is left
		// (connections cut, nothing more to say to the broker) so every
		// goroutine of the run can exit.
		if err := w.untilDone(s.name, "its close", s.in.Close); errors.Is(err, ErrStuck) {
			s.in.Crash()
		}
	}
	if w.closeAdm != nil {
		w.closeAdm()
	}
	w.closeDatabase()
	if w.cluster != nil {
		w.cluster.Close()
	}
	if w.stateDir != "" {
		_ = os.RemoveAll(w.stateDir)
	}
}

// Available reports whether this build can run the simulator.
func Available() error {
	if !builtWithSynctests {
		return ErrNeedsSynctests
	}
	return nil
}
