package live

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eosim/eosim/engine"
	"github.com/eosim/eosim/faults"
	"github.com/eosim/eosim/history"
	"github.com/eosim/eosim/internal/clientlog"
	"github.com/eosim/eosim/internal/topicread"
	"github.com/eosim/eosim/invariants"
	"github.com/eosim/eosim/scenarios"
	"github.com/eosim/eosim/sim"
)

// run is one live run in progress.
type run struct {
	cfg      Config
	run      sim.Config // resolved
	sched    faults.Schedule
	scenario scenarios.Scenario
	params   scenarios.Params
	topics   map[string]int32
	adm      *kadm.Client
	log      *history.Log
	books    *sim.Outcomes
	start    time.Time
	stateDir string
	slots    []*slot
	// applied counts the faults whose step has come; steps the driver's
	// steps so far.
	applied, steps int
	complete       bool
	// members is the group's static members as last described, for an
	// expired instance waiting to restart.
	members []string
	// wake ends every pause early: the run is ending.
	wake     chan struct{}
	wakeOnce sync.Once
	// clientLog is Run.ClientLog, one line at a time.
	clientLog io.Writer
}

// Run runs cfg against the cluster at cfg.Bootstrap and judges it. An error
// means the run could not be made (ErrUnreachable, ErrUnsupported, bad
// config), or was interrupted (an error wrapping sim.ErrInterrupted, with
// the Result of what was recorded so far); a run that was made returns its
// Result, whose verdict is the checkers'. The run's topics and group are
// removed at the end unless cfg.Keep, whatever happened.
func Run(ctx context.Context, cfg Config) (res sim.Result, err error) {
	cfg = cfg.withDefaults()
	resolved, sched, err := Resolve(cfg)
	if err != nil {
		return sim.Result{Config: resolved, Schedule: sched}, err
	}
	sc, err := scenarios.Lookup(resolved.Scenario)
	if err != nil {
		return sim.Result{}, err
	}
	conn, err := connect(ctx, cfg, resolved.Guarantee)
	if err != nil {
		return sim.Result{Config: resolved, Schedule: sched}, err
	}
	defer conn.close()
	resolved.Brokers = conn.brokers
	params := resolved.Params()
	params.AppID, params.TopicPrefix = cfg.RunID, cfg.RunID+"-"
	r := &run{
		cfg: cfg, run: resolved, sched: sched, scenario: sc, params: params,
		topics: sc.Topics(params), adm: conn.adm,
		log: history.NewLog(time.Now), start: time.Now(), wake: make(chan struct{}),
	}
	r.books = sim.NewOutcomes(sched, r.log)
	r.clientLog = clientlog.Locked(resolved.ClientLog)
	r.note(fmt.Sprintf("live run %s against %s (%d brokers: %s); wall time, not replayable from its seed",
		cfg.RunID, strings.Join(cfg.Bootstrap, ","), conn.brokers, conn.versions))
	if r.stateDir, err = os.MkdirTemp("", "eosim-live-"); err != nil {
		return sim.Result{}, fmt.Errorf("creating state directory: %w", err)
	}
	defer os.RemoveAll(r.stateDir)
	if err := createTopics(ctx, r.adm, r.topics); err != nil {
		r.cleanup()
		return sim.Result{Config: resolved, Schedule: sched}, err
	}
	defer r.cleanup()
	if err := sc.Produce(ctx, clientOpts(cfg), params, r.log); err != nil {
		return r.result(), r.interruptedOr(ctx, fmt.Errorf("producing input: %w", err))
	}
	for _, name := range resolved.InstanceNames() {
		r.slots = append(r.slots, &slot{name: name})
	}
	for _, name := range resolved.SpareNames() {
		r.slots = append(r.slots, &slot{name: name, spare: true, downUntil: -1})
	}
	for _, s := range r.slots {
		if !s.spare {
			if err := r.startInstance(ctx, s); err != nil {
				r.abandon()
				return r.result(), r.interruptedOr(ctx, err)
			}
		}
	}
	if err := r.awaitGroup(ctx, resolved.Instances); err != nil {
		r.abandon()
		return r.result(), r.interruptedOr(ctx, err)
	}
	if err := r.drive(ctx); err != nil {
		r.abandon()
		var stuck stuckError
		if errors.As(err, &stuck) {
			res := r.result()
			res.Stuck = stuck.what
			return res, nil
		}
		return r.result(), r.interruptedOr(ctx, err)
	}
	return r.judge(ctx)
}

// interruptedOr is err, or the interruption that caused it.
func (r *run) interruptedOr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w: %w", sim.ErrInterrupted, ctx.Err())
	}
	return err
}

// cleanup removes the run's topics and group, unless asked to keep them,
// with a context of its own: an interrupted run cleans up too.
func (r *run) cleanup() {
	if r.cfg.Keep {
		r.note("topics kept: " + strings.Join(slices.Sorted(maps.Keys(r.topics)), ", "))
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := removeTopics(ctx, r.adm, r.cfg.RunID, r.topics); err != nil {
		r.note(err.Error())
	}
}

// startInstance starts the slot's next incarnation; a start that fails
// leaves it down, to be tried again at the next step.
func (r *run) startInstance(ctx context.Context, s *slot) error {
	s.incarnation++
	var in *engine.Instance
	in, err := engine.New(engine.Config{
		AppID: r.cfg.RunID, Name: s.name, Incarnation: s.incarnation,
		Brokers: r.cfg.Bootstrap, Guarantee: r.run.Guarantee, Topology: r.scenario.Topology(r.params),
		StateDir: filepath.Join(r.stateDir, s.name), Recorder: r.log,
		CrashHook:          func(at engine.CrashSite) bool { return r.crashHere(s, in, at) },
		StaticMembership:   true,
		SessionTimeout:     sessionTimeout,
		TransactionTimeout: transactionTimeout,
		EndTimeout:         endTimeout,
		TransactionsV1:     r.run.TransactionsV1,
		Recovery:           r.run.Recovery,
		Logger:             clientlog.Logger(r.clientLog, s.name, r.start),
		ClientOpts: []kgo.Opt{
			kgo.DialTimeout(r.cfg.ConnectTimeout),
			kgo.HeartbeatInterval(heartbeatInterval),
			// A unit takes about one input batch per partition, as in
			// the simulator, rather than all a fetch brought.
			kgo.FetchMaxPartitionBytes(sim.FetchPartitionBytes(r.log.History().Inputs(), r.run.Batch)),
			kgo.DisableClientMetrics(),
		},
	})
	if err != nil {
		return fmt.Errorf("instance %s: %w", s.name, err)
	}
	if s.drop != nil {
		key, _ := faults.RequestKey(s.drop.fault.Request)
		in.DropConnectionsAfter(key)
	}
	if err := r.within(s.name, "its start", func() error { return in.Start(ctx) }); err != nil {
		if ctx.Err() != nil || errors.As(err, new(stuckError)) {
			in.Crash()
			return err
		}
		r.checkDropFired(s, in)
		_ = in.Close()
		r.log.Record(history.Event{Kind: history.KindNote, Instance: s.name, Detail: "start failed, retrying: " + engine.Reason(err)})
		s.in, s.downUntil = nil, r.steps+1
		return nil
	}
	s.in, s.downUntil, s.waitExpiry, s.spare = in, 0, false, false
	return nil
}

// groupFormationTimeout bounds the wait for the initial group.
const groupFormationTimeout = time.Minute

// awaitGroup waits until the group is stable with n members, so that the
// first instance to join does not take every partition's input before the
// others are in.
func (r *run) awaitGroup(ctx context.Context, n int) error {
	deadline := time.Now().Add(groupFormationTimeout)
	for time.Now().Before(deadline) {
		gs, err := r.adm.DescribeGroups(ctx, r.cfg.RunID)
		if err == nil {
			if g, ok := gs[r.cfg.RunID]; ok && g.Err == nil && g.State == "Stable" && len(g.Members) == n {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(r.cfg.Tick):
		}
	}
	return fmt.Errorf("the group did not form with %d members within %v", n, groupFormationTimeout)
}

// judge stops the instances, reads what the cluster holds and runs the
// checkers.
func (r *run) judge(ctx context.Context) (sim.Result, error) {
	if r.complete {
		r.endFaults(true, "still armed when the input was processed", "the input was processed")
	} else {
		r.endFaults(true, "still armed when the run ended", "the run ended")
	}
	r.wakeAll()
	if _, err := r.collectPaused(ctx, r.steps, true); err != nil {
		r.abandon()
		res := r.result()
		res.Stuck = err.Error()
		return res, nil
	}
	for _, s := range r.slots {
		if s.in != nil {
			if err := s.in.Stop(); err != nil {
				r.note(fmt.Sprintf("%s: closing: %s", s.name, engine.Reason(err)))
			}
		}
	}
	elapsed := time.Since(r.start)
	for _, s := range r.slots {
		if s.in != nil {
			_ = r.within(s.name, "its close", s.in.Close)
			s.in = nil
		}
	}
	spec := r.run.JudgedBy(r.scenario.Spec(r.params))
	snapCtx, cancel := context.WithTimeout(ctx, r.cfg.StuckAfter)
	defer cancel()
	snap, err := topicread.Snapshot(snapCtx, clientOpts(r.cfg), r.cfg.RunID, spec.Topics()...)
	if err != nil {
		return r.result(), r.interruptedOr(ctx, fmt.Errorf("reading what the cluster holds: %w", err))
	}
	res := r.result()
	res.Snapshot = snap
	res.Report = invariants.Check(spec, invariants.Run{History: res.History, Snapshot: snap, Complete: r.complete})
	res.Complete = r.complete
	res.Stats = sim.StatsOf(res.History, r.steps, elapsed)
	return res, nil
}

// result is the Result of what the run recorded so far.
func (r *run) result() sim.Result {
	h := r.log.History()
	return sim.Result{
		Config: r.run, Schedule: r.sched, History: h, Hash: h.Hash(),
		Stats: sim.StatsOf(h, r.steps, time.Since(r.start)), Faults: r.books.List(),
	}
}

// abandon ends a run that will not be judged: every pause is woken, every
// instance crashed (its connections cut at once), and what was armed or
// never came is not reached.
func (r *run) abandon() {
	r.wakeAll()
	for _, s := range r.slots {
		if s.in != nil {
			s.in.Crash()
			s.in = nil
		}
	}
	r.books.Unreached(r.applied, "the run was given up", "the run was given up")
}

func (r *run) wakeAll() { r.wakeOnce.Do(func() { close(r.wake) }) }

func (r *run) note(s string) {
	r.log.Record(history.Event{Kind: history.KindNote, Detail: s})
}
