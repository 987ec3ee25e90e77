package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eosim/eosim/history"
	"github.com/eosim/eosim/internal/topicread"
)

// loadPartitions catches the stores of partitions ps up with their
// changelogs, every store partition in one read, and returns the partitions
// loaded, in the order of ps. A partition waits (and nothing of it is
// loaded) while a transaction is open on one of its changelogs.
func (in *Instance) loadPartitions(ctx context.Context, ps []int32) (done []int32, err error) {
	if in.cfg.Guarantee.PositionsInDatabase() {
		for _, p := range ps {
			if err := in.claim(ctx, p); err != nil {
				return nil, err
			}
		}
	}
	stores := in.cfg.Topology.AllStores()
	type load struct {
		store string
		p     int32
		sp    *storePartition
		local bool
	}
	var loads []load
	var parts []topicread.Part
	for _, p := range ps {
		for _, store := range stores {
			sp, local := in.stores[store][p]
			if !local {
				sp = newStorePartition()
			}
			loads = append(loads, load{store, p, sp, local})
			parts = append(parts, topicread.Part{Topic: ChangelogTopic(in.cfg.AppID, store), Partition: p, From: sp.next})
		}
	}
	reads, err := topicread.ReadTails(in.runCtx(ctx), topicread.AdminOf(in.cl), in.baseOpts(), in.cfg.Guarantee.restore(), parts...)
	if err != nil {
		return nil, in.fail(fmt.Errorf("restoring %s: %w", describeParts(parts), err))
	}
	open := make(map[int32]bool)
	for i, r := range reads {
		if r.Open {
			open[loads[i].p] = true
		}
	}
	for i, r := range reads {
		l := loads[i]
		if open[l.p] {
			continue
		}
		from := l.sp.next
		l.sp.apply(r.Records)
		l.sp.next = max(l.sp.next, r.End)
		in.stores[l.store][l.p] = l.sp
		source := "changelog"
		if l.local {
			source = "local"
		}
		in.cfg.Recorder.Record(history.Event{Kind: history.KindLoad, Instance: in.cfg.Name, Load: &history.Load{
			Store: l.store, Topic: parts[i].Topic, Partition: l.p, Source: source, From: from, Upto: l.sp.next, State: l.sp.entries(),
		}})
	}
	for _, p := range ps {
		if !open[p] {
			done = append(done, p)
		}
	}
	return done, nil
}

// describeParts names the partitions of parts, for messages: "t[0], t[1]".
func describeParts(parts []topicread.Part) string {
	names := make([]string, len(parts))
	for i, pt := range parts {
		names[i] = fmt.Sprintf("%s[%d]", pt.Topic, pt.Partition)
	}
	return strings.Join(names, ", ")
}

// runCtx is ctx, also ended when the instance crashes or closes.
func (in *Instance) runCtx(ctx context.Context) context.Context {
	c, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(in.ctx, cancel)
	context.AfterFunc(c, func() { stop() })
	return c
}

// unitOfWork is one unit in progress.
type unitOfWork struct {
	u    *history.Unit
	recs []*kgo.Record
	pcs  []*ProcessContext
	// written is what the unit's processed records wrote, per store
	// partition and key (nil: deleted), for the records after them to see.
	written map[storePartitionID]map[string]*string
	// stores and earlier are the ProcessContext's of the record being
	// processed, made once per unit.
	stores  map[string]*storePartition
	earlier map[string]map[string]*string
	// retried: the unit is retry_ambiguous_commit's second go at recs.
	retried bool
	// continued, when set, is the note that the unit's commit failed and
	// the instance aborted and continued (RecoveryContinue).
	continued string
}

// storePartitionID names one partition of a store.
type storePartitionID struct {
	store     string
	partition int32
}

// ReasonSessionAborted is the reason of a unit whose transaction kgo's
// GroupTransactSession aborted at End because the group rebalanced.
const ReasonSessionAborted = "rebalance: group session aborted the transaction"

// ReasonRebalanceWaits is the reason of a unit that reached its commit with
// a rebalance waiting for it to end: it aborts rather than commit what its
// member may no longer own.
const ReasonRebalanceWaits = "rebalance: a rebalance waited for the unit, which aborted"

// errRetryUnit is commit's answer, under retry_ambiguous_commit, to a
// commit whose outcome is unknown: process the same records again.
var errRetryUnit = errors.New("retrying the unit")

// unit processes recs as one unit of work and commits it.
func (in *Instance) unit(ctx context.Context, recs []*kgo.Record) (StepResult, error) {
	if in.cfg.Topology.Database != nil {
		return in.dbUnit(ctx, recs)
	}
	return in.runUnit(ctx, recs, false)
}

func (in *Instance) runUnit(ctx context.Context, recs []*kgo.Record, retried bool) (StepResult, error) {
	ctx = in.runCtx(ctx)
	res := StepResult{Records: len(recs)}
	w, err := in.beginUnit(recs, retried)
	if err != nil {
		return res, err
	}
	for i, r := range w.u.Consumed {
		pc, err := in.process(ctx, r, w)
		if err != nil {
			return res, in.abortUnit(ctx, w, err)
		}
		w.pcs = append(w.pcs, pc)
		if in.hit(AfterProcess, w, i) {
			return res, in.crashUnit(w, AfterProcess, history.Crashed)
		}
	}
	if in.cfg.Guarantee == KeepDirtyState {
		// The store took the writes as they were made, on disk.
		in.applyWrites(w)
		if err := writeCheckpoint(in.cfg.Disk, in.cfg.StateDir, in.stores); err != nil {
			return res, in.abortUnit(ctx, w, fmt.Errorf("writing local state: %w", err))
		}
	}
	if err := in.produce(ctx, w); err != nil {
		if in.cfg.Guarantee != CommitAfterFailedProduce {
			if err := in.abortUnit(ctx, w, err); err != nil || !in.renewAfterFailedProduce(w) {
				return res, err
			}
			return res, in.fail(fmt.Errorf("%s: %w", w.u.ID, errSendFailedBeforeKIP890))
		}
		in.cfg.Recorder.Record(history.Event{Kind: history.KindNote, Instance: in.cfg.Name,
			Detail: fmt.Sprintf("%s: a send failed (%s); committing anyway", w.u.ID, Reason(err))})
	}
	if !w.u.Transactional {
		// Without a transaction the store and changelog are already
		// written: the local state moves on whatever happens to the offsets.
		in.applyWrites(w)
	}
	if in.hit(AfterProduce, w, 0) {
		return res, in.crashUnit(w, AfterProduce, history.Crashed)
	}
	if in.cfg.Guarantee == PurgeUncommitted {
		// The consumed positions taken for committed ones.
		in.purge(ctx, nextOffsets(w.recs))
	}
	outcome, err := in.commit(ctx, w)
	res.Outcome = outcome
	if errors.Is(err, errRetryUnit) {
		// retry_ambiguous_commit: the same records again, at once.
		return in.runUnit(ctx, recs, true)
	}
	if err != nil {
		return res, err
	}
	if w.u.Transactional && outcome == history.Committed {
		in.applyWrites(w)
		if in.cfg.Guarantee == KeepDirtyState {
			if err := writeCheckpoint(in.cfg.Disk, in.cfg.StateDir, in.stores); err != nil {
				return res, in.fail(fmt.Errorf("writing local state: %w", err))
			}
		}
	}
	in.cfg.Recorder.Record(history.Event{Kind: history.KindUnit, Instance: in.cfg.Name, Unit: w.u})
	if w.continued != "" {
		in.cfg.Recorder.Record(history.Event{Kind: history.KindNote, Instance: in.cfg.Name, Detail: w.continued})
	}
	if outcome == history.Committed && in.hit(AfterCommit, w, 0) {
		in.crash(string(AfterCommit))
		return res, fmt.Errorf("%s at %s: %w", in.cfg.Name, AfterCommit, ErrCrashed)
	}
	if outcome == history.Committed && in.cfg.Guarantee != PurgeUncommitted {
		in.purge(ctx, w.u.Offsets)
	}
	return res, nil
}

// beginUnit opens a unit of work on recs: its id and consumed records, the
// after-poll crash point and, under a transaction, the transaction. An error
// means the unit ended there (recorded).
func (in *Instance) beginUnit(recs []*kgo.Record, retried bool) (*unitOfWork, error) {
	w := &unitOfWork{
		u:       &history.Unit{ID: in.nextUnitID(), Transactional: in.cfg.Guarantee.transactional()},
		recs:    recs,
		retried: retried,
	}
	w.u.Consumed = make([]history.Record, 0, len(recs))
	for _, r := range recs {
		w.u.Consumed = append(w.u.Consumed, topicread.Convert(r))
	}
	if in.hit(AfterPoll, w, 0) {
		return w, in.crashUnit(w, AfterPoll, history.Crashed)
	}
	if w.u.Transactional {
		if err := in.beginTxn(); err != nil {
			return w, in.failUnit(w, history.Aborted, fmt.Errorf("beginning transaction: %w", err))
		}
	}
	return w, nil
}

// process runs the processor on one record; under peek_side_effect its
// forwards are sent at once by the plain producer.
func (in *Instance) process(ctx context.Context, r history.Record, w *unitOfWork) (*ProcessContext, error) {
	stage, ok := in.topics.stageOf[r.Topic]
	if !ok {
		return nil, fmt.Errorf("processing %s[%d]@%d: no stage reads %s", r.Topic, r.Partition, r.Offset, r.Topic)
	}
	if w.stores == nil {
		w.stores, w.earlier = make(map[string]*storePartition), make(map[string]map[string]*string)
	}
	clear(w.stores)
	clear(w.earlier)
	pc := &ProcessContext{
		partition:    r.Partition,
		stage:        stage,
		repartitions: in.repartitions,
		keyedSinks:   in.keyedSinks,
		stores:       w.stores,
		earlier:      w.earlier,
	}
	// The unit's maps serve every record in turn: the context keeps only
	// what the record forwarded and wrote.
	defer func() { pc.stores, pc.earlier = nil, nil }()
	for _, store := range stage.Stores {
		sp := in.stores[store][r.Partition]
		if sp == nil {
			sp = newStorePartition()
		}
		pc.stores[store] = sp
		pc.earlier[store] = w.written[storePartitionID{store, r.Partition}]
	}
	if err := stage.Process(pc, r); err != nil {
		return nil, fmt.Errorf("processing %s[%d]@%d: %w", r.Topic, r.Partition, r.Offset, err)
	}
	if pc.err != nil {
		return nil, fmt.Errorf("processing %s[%d]@%d: %w", r.Topic, r.Partition, r.Offset, pc.err)
	}
	// The records after this one in the unit see its writes.
	for _, wr := range pc.writeLog {
		id := storePartitionID{wr.store, r.Partition}
		if w.written[id] == nil {
			if w.written == nil {
				w.written = make(map[storePartitionID]map[string]*string)
			}
			w.written[id] = make(map[string]*string)
		}
		w.written[id][wr.key] = wr.value
	}
	if in.cfg.Guarantee.sinksOutsideTransaction() {
		sent, err := produceSync(ctx, in.side, pc.forwards, in.afterFlush())
		w.u.SideEffects = appendSent(w.u.SideEffects, sent)
		if err != nil {
			return nil, fmt.Errorf("side-effect send: %w", err)
		}
		pc.forwards = nil
	}
	return pc, nil
}

// afterFlush is Config.AfterFlush for a topology with repartition topics,
// whose records a size-limited fetch reads back during the run: there how
// a unit's records were cut into requests and batches changes what a unit
// downstream finds. Elsewhere only readers that read to the end see them.
func (in *Instance) afterFlush() func() {
	if len(in.repartitions) == 0 {
		return nil
	}
	return in.cfg.AfterFlush
}

// produce sends the unit's outputs and changelog records and waits for them.
func (in *Instance) produce(ctx context.Context, w *unitOfWork) error {
	changelog := changelogRecords(in.topics.changelogOf, w.pcs)
	n := len(changelog)
	for _, pc := range w.pcs {
		n += len(pc.forwards)
	}
	out := make([]history.Record, 0, n)
	for _, pc := range w.pcs {
		out = append(out, pc.forwards...)
	}
	if in.cfg.Guarantee.changelogOutsideTransaction() {
		sent, err := produceSync(ctx, in.side, changelog, in.afterFlush())
		w.u.SideEffects = appendSent(w.u.SideEffects, sent)
		if err != nil {
			return fmt.Errorf("producing the changelog: %w", err)
		}
		changelog = nil
	}
	out = append(out, changelog...)
	sent, err := produceSync(ctx, in.cl, out, in.afterFlush())
	w.u.Produced = appendSent(w.u.Produced, sent)
	if err != nil {
		return fmt.Errorf("producing: %w", err)
	}
	return nil
}

// appendSent is rs with sent after it: sent itself when rs is empty, as
// produceSync's slice is the unit's alone.
func appendSent(rs, sent []history.Record) []history.Record {
	if len(rs) == 0 && len(sent) > 0 {
		return sent
	}
	return append(rs, sent...)
}

// changelogRecords are the changelog records of a unit's store writes, in
// the order they were made; a cached store (Stage.Cached) writes one record
// per partition and key, at the key's first write, with its last value.
func changelogRecords(changelogOf map[string]string, pcs []*ProcessContext) []history.Record {
	type cachedKey struct {
		store, key string
		partition  int32
	}
	var at map[cachedKey]int // a cached key's place in out
	n := 0
	for _, pc := range pcs {
		n += len(pc.writeLog)
	}
	out := make([]history.Record, 0, n)
	for _, pc := range pcs {
		for _, wr := range pc.writeLog {
			r := history.Record{Topic: changelogOf[wr.store], Partition: pc.partition, Key: wr.key}
			if wr.value != nil {
				r.Value = *wr.value
			}
			if !slices.Contains(pc.stage.Cached, wr.store) {
				out = append(out, r)
				continue
			}
			k := cachedKey{wr.store, wr.key, pc.partition}
			if i, ok := at[k]; ok {
				out[i] = r
				continue
			}
			if at == nil {
				at = make(map[cachedKey]int)
			}
			at[k] = len(out)
			out = append(out, r)
		}
	}
	return out
}

// applyWrites folds the unit's store writes into the stores and moves each
// store partition's changelog position past the records the unit produced.
func (in *Instance) applyWrites(w *unitOfWork) {
	for _, pc := range w.pcs {
		for _, wr := range pc.writeLog {
			sp := in.stores[wr.store][pc.partition]
			if sp == nil {
				sp = newStorePartition()
				in.stores[wr.store][pc.partition] = sp
			}
			if wr.value == nil {
				delete(sp.data, wr.key)
			} else {
				sp.data[wr.key] = *wr.value
			}
		}
	}
	for _, rs := range [][]history.Record{w.u.Produced, w.u.SideEffects} {
		for _, r := range rs {
			if store, ok := in.topics.storeOf[r.Topic]; ok {
				if sp := in.stores[store][r.Partition]; sp != nil && r.Offset+1 > sp.next {
					sp.next = r.Offset + 1
				}
			}
		}
	}
}

// commit ends the unit: under a transaction, the consumed offsets with the
// group's metadata and EndTxn through GroupTransactSession.End; without one,
// an offset commit after the outputs. The crash points inside the commit
// fire at the request they name, on the wire.
func (in *Instance) commit(ctx context.Context, w *unitOfWork) (history.Outcome, error) {
	key := apiEndTxn
	offsetsKey := apiTxnOffsetCommit
	switch g := in.cfg.Guarantee; {
	case !w.u.Transactional:
		key, offsetsKey = apiOffsetCommit, apiOffsetCommit
	case g == OffsetsBeforeCommit || g == OffsetsAfterCommit:
		offsetsKey = apiOffsetCommit
	}
	// The crash fires on a client goroutine; ending the instance's context
	// there makes End give up at once instead of retrying on cut wires.
	var fired atomic.Pointer[CrashPoint]
	fire := func(p CrashPoint) func() {
		return func() { fired.Store(&p); in.cancel() }
	}
	switch {
	case in.hit(AfterSendOffsets, w, 0):
		in.net.arm(offsetsKey, true, fire(AfterSendOffsets))
	case in.hit(BeforeCommit, w, 0):
		in.net.arm(key, false, fire(BeforeCommit))
	case in.hit(DuringCommit, w, 0):
		in.net.arm(key, true, fire(DuringCommit))
	}
	defer in.net.disarm()

	// The offsets are recorded whatever the outcome: a commit whose answer
	// is lost may have happened, and then these are the offsets it moved.
	w.u.Offsets = nextOffsets(w.recs)
	var committed bool
	var err error
	switch {
	case in.cfg.Guarantee.ownOffsets():
		committed, err = in.commitOwnOffsets(ctx, w)
	case w.u.Transactional && in.rebalanceWaiting():
		// The group is rebalancing (or dropped the member) while the unit
		// held it off: the member may no longer own what it consumed, and
		// kgo's session would abort the commit anyway. Abort.
		if _, err = in.endTxn(ctx, kgo.TryAbort); err == nil {
			w.u.Outcome, w.u.Reason = history.Aborted, ReasonRebalanceWaits
			return history.Aborted, in.afterAbort(ctx, w)
		}
	case w.u.Transactional:
		committed, err = in.endTxn(ctx, kgo.TryCommit)
		if in.commits.taken() && !committed && err == nil {
			err = errUnconfirmedCommit
		}
	default:
		err = in.cl.CommitRecords(ctx, w.recs...)
		committed = err == nil
	}
	if p := fired.Load(); p != nil {
		firedAt := *p
		outcome := history.Crashed
		switch {
		case committed:
			// The transaction committed before the crash: under
			// offsets_after_commit the offsets go after EndTxn.
			outcome = history.Committed
		case firedAt == DuringCommit || (firedAt == AfterSendOffsets && !w.u.Transactional):
			outcome = history.Unknown
		}
		return outcome, in.crashUnit(w, firedAt, outcome)
	}
	switch {
	case fenced(err):
		// A fenced producer's transaction is aborted by the coordinator:
		// the outcome is known, and the instance is done for.
		return history.Aborted, in.failUnit(w, history.Aborted, fmt.Errorf("fenced while committing: %w", err))
	case committed && err != nil:
		// The transaction committed; what went wrong came after it (the
		// offsets of offsets_after_commit).
		return history.Committed, in.failUnit(w, history.Committed, err)
	case err != nil && in.cfg.Guarantee == RetryAmbiguousCommit && !w.retried:
		w.u.Outcome, w.u.Reason = history.Unknown, Reason(fmt.Errorf("committing (reprocessing the same records): %w", err))
		in.cfg.Recorder.Record(history.Event{Kind: history.KindUnit, Instance: in.cfg.Name, Unit: w.u})
		return history.Unknown, errRetryUnit
	case err != nil && in.continues(err):
		return history.Unknown, in.continueAfter(ctx, w, err)
	case err != nil:
		return history.Unknown, in.failUnit(w, history.Unknown, fmt.Errorf("committing: %w", err))
	case !committed:
		w.u.Outcome = history.Aborted
		w.u.Reason = ReasonSessionAborted
		return history.Aborted, in.afterAbort(ctx, w)
	}
	w.u.Outcome = history.Committed
	return history.Committed, nil
}

// Reason renders err for a History. kgo joins per-partition errors in the
// order it happened to build its request, so a failure that carries Kafka
// errors reads as its context (the text before the first partition or
// Kafka error) and the sorted set of their names: the same failure must
// read the same in every run.
func Reason(err error) string {
	var names []string
	var walk func(error)
	walk = func(e error) {
		if ke, ok := e.(*kerr.Error); ok {
			names = append(names, ke.Message)
		}
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			if next := u.Unwrap(); next != nil {
				walk(next)
			}
		case interface{ Unwrap() []error }:
			for _, next := range u.Unwrap() {
				walk(next)
			}
		}
	}
	walk(err)
	if len(names) == 0 {
		return strings.ReplaceAll(err.Error(), "\n", "; ")
	}
	sort.Strings(names)
	names = slices.Compact(names)
	first, _, _ := strings.Cut(err.Error(), "\n")
	segments := strings.Split(first, ": ")
	cut := slices.IndexFunc(segments, func(s string) bool {
		return strings.HasPrefix(s, "topic ") || slices.Contains(names, s)
	})
	if cut < 0 {
		cut = len(segments)
	}
	return strings.Join(append(segments[:cut:cut], strings.Join(names, ", ")), ": ")
}

// fenced reports whether err says a newer producer or group generation took
// over: the broker has aborted, or will abort, the transaction.
func fenced(err error) bool {
	return errors.Is(err, kerr.ProducerFenced) || errors.Is(err, kerr.InvalidProducerEpoch) ||
		errors.Is(err, kerr.FencedInstanceID)
}

// abortUnit ends a unit that failed before its commit.
func (in *Instance) abortUnit(ctx context.Context, w *unitOfWork, cause error) error {
	if !w.u.Transactional {
		return in.failUnit(w, history.Crashed, cause)
	}
	if _, err := in.endTxn(ctx, kgo.TryAbort); err != nil {
		return in.failUnit(w, history.Unknown, fmt.Errorf("%w; then aborting: %w", cause, err))
	}
	w.u.Outcome, w.u.Reason = history.Aborted, Reason(cause)
	if err := in.afterAbort(ctx, w); err != nil {
		return err
	}
	in.cfg.Recorder.Record(history.Event{Kind: history.KindUnit, Instance: in.cfg.Name, Unit: w.u})
	return nil
}

// errSendFailedBeforeKIP890 ends an instance whose unit aborted after a
// failed send under the protocol before KIP-890.
var errSendFailedBeforeKIP890 = errors.New("a send failed under the transaction protocol before KIP-890: a new client for a new producer epoch")

// renewAfterFailedProduce reports whether the instance must give up its
// client after a unit aborted because a send failed. Under the protocol
// before KIP-890 an abort keeps the producer epoch, and kgo v1.22.3
// rewinds a failed batch's sequence numbers even when an earlier attempt
// of it was written (a Produce applied, its answer lost, its retry
// answered TRANSACTION_ABORTABLE): the next transaction's batch would then
// reuse them, and the broker would take it for a duplicate of the aborted
// one and drop it
// (testdata/schedules/eos-txn-v1-produce-answer-lost-then-abortable.json). A new client's
// InitProducerID bumps the epoch, as Kafka's Java producer does after
// such an abort (KIP-360). Under KIP-890 every transaction ends with a new
// epoch already.
func (in *Instance) renewAfterFailedProduce(w *unitOfWork) bool {
	return w.u.Transactional && in.cfg.TransactionsV1 && !in.cfg.KeepClientAfterFailedProduce
}

// failUnit records the unit and marks the instance as needing a restart.
func (in *Instance) failUnit(w *unitOfWork, outcome history.Outcome, cause error) error {
	w.u.Outcome, w.u.Reason = outcome, Reason(cause)
	in.cfg.Recorder.Record(history.Event{Kind: history.KindUnit, Instance: in.cfg.Name, Unit: w.u})
	return in.fail(cause)
}

// crashUnit records the unit cut short at p and kills the instance.
func (in *Instance) crashUnit(w *unitOfWork, p CrashPoint, outcome history.Outcome) error {
	w.u.Outcome, w.u.Reason = outcome, "crash at "+string(p)
	in.cfg.Recorder.Record(history.Event{Kind: history.KindUnit, Instance: in.cfg.Name, Unit: w.u})
	in.crash(string(p))
	return fmt.Errorf("%s at %s: %w", in.cfg.Name, p, ErrCrashed)
}

func (in *Instance) hit(p CrashPoint, w *unitOfWork, i int) bool {
	return in.cfg.CrashHook != nil && in.cfg.CrashHook(CrashSite{Point: p, Unit: w.u.ID, Index: i, Records: len(w.recs)})
}

// nextOffsets returns, per partition, the offset after the last record.
func nextOffsets(recs []*kgo.Record) []history.Offset {
	var offs []history.Offset
	for _, r := range recs {
		n := len(offs)
		if n > 0 && offs[n-1].Topic == r.Topic && offs[n-1].Partition == r.Partition {
			offs[n-1].Offset = r.Offset + 1
			continue
		}
		offs = append(offs, history.Offset{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset + 1})
	}
	return offs
}

// toKgo turns records into kgo's, to produce. The records, their bytes and
// their headers are each made in one allocation for all of rs (a unit
// produces a few dozen records, and one allocation per record, key, value
// and header was a twentieth of a run's).
// What the wire carries is what []byte conversions gave: a key is never nil
// (an empty key is sent empty, not null), a value is nil when empty, a
// header's value never is.
func toKgo(rs []history.Record) []*kgo.Record {
	n, nh := 0, 0
	for _, r := range rs {
		n += len(r.Key) + len(r.Value)
		for _, h := range r.Headers {
			n += len(h.Value)
		}
		nh += len(r.Headers)
	}
	buf := make([]byte, 0, n)
	bytesOf := func(s string) []byte {
		at := len(buf)
		buf = append(buf, s...)
		return buf[at:len(buf):len(buf)]
	}
	recs := make([]kgo.Record, len(rs))
	var hdrs []kgo.RecordHeader
	if nh > 0 {
		hdrs = make([]kgo.RecordHeader, 0, nh)
	}
	out := make([]*kgo.Record, len(rs))
	for i, r := range rs {
		kr := &recs[i]
		kr.Topic, kr.Partition, kr.Offset, kr.Key = r.Topic, r.Partition, r.Offset, bytesOf(r.Key)
		if r.Value != "" {
			kr.Value = bytesOf(r.Value)
		}
		if len(r.Headers) > 0 {
			at := len(hdrs)
			for _, h := range r.Headers {
				hdrs = append(hdrs, kgo.RecordHeader{Key: h.Key, Value: bytesOf(h.Value)})
			}
			kr.Headers = hdrs[at:len(hdrs):len(hdrs)]
		}
		out[i] = kr
	}
	return out
}

// acknowledged is src, which r was made of, where the broker put r: its
// content is src's own strings, not a new conversion of r's bytes (which
// toKgo copied from them), and its partition and offset are r's.
func acknowledged(src history.Record, r *kgo.Record) history.Record {
	src.Topic, src.Partition, src.Offset = r.Topic, r.Partition, r.Offset
	if len(src.Headers) == 0 {
		src.Headers = nil // as topicread.Convert gives it
	}
	return src
}

// produceSync produces src and returns those the broker acknowledged, with
// their offsets, sorted by topic, partition and offset (kgo reports them in
// the order the answers came back, which the goroutine schedule decides).
//
// It produces one partition at a time, in partition order, so that at most
// one Produce request of the instance is in flight: requests written to
// several brokers at one instant reach the cluster in an order Go's
// scheduler picks, and a fault aimed at "the next Produce" would hit a
// different one from run to run. (Partition p of every topic shares a
// leader, so each flush is one request.) afterFlush, if set, is called
// after each flush (see Config.AfterFlush).
func produceSync(ctx context.Context, cl *kgo.Client, src []history.Record, afterFlush func()) ([]history.Record, error) {
	if len(src) == 0 {
		return nil, nil
	}
	rs := toKgo(src)
	byPartition := make(map[int32][]int) // indexes into src and rs
	for i, r := range rs {
		byPartition[r.Partition] = append(byPartition[r.Partition], i)
	}
	var mu sync.Mutex
	sent := make([]history.Record, 0, len(rs))
	var errs error
	for _, p := range slices.Sorted(maps.Keys(byPartition)) {
		// Buffer the partition's records, then flush: they leave at once
		// instead of after kgo's linger, whose timer would otherwise race
		// the buffering of the last records and shift virtual time from
		// one run to the next.
		for _, i := range byPartition[p] {
			cl.Produce(ctx, rs[i], func(r *kgo.Record, err error) {
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = errors.Join(errs, err)
					return
				}
				sent = append(sent, acknowledged(src[i], r))
			})
		}
		if err := cl.Flush(ctx); err != nil {
			mu.Lock()
			errs = errors.Join(errs, err)
			mu.Unlock()
		}
		if afterFlush != nil {
			afterFlush()
		}
	}
	mu.Lock()
	defer mu.Unlock()
	sort.Slice(sent, func(i, j int) bool {
		a, b := sent[i], sent[j]
		if a.Topic != b.Topic {
			return a.Topic < b.Topic
		}
		if a.Partition != b.Partition {
			return a.Partition < b.Partition
		}
		return a.Offset < b.Offset
	})
	return sent, errs
}
