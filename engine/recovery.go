package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eosim/eosim/history"
)

// Recovery is what an instance does when a unit's commit fails without
// fencing it: both ways are correct, and a run may use either.
type Recovery uint8

const (
	// RecoveryRestart ends the instance, as Kafka Streams does: the
	// simulator starts a fresh one in its slot, which resumes from what the
	// broker committed.
	RecoveryRestart Recovery = iota
	// RecoveryContinue aborts the transaction (kgo's End with TryAbort,
	// which after an unconfirmed EndTxn bumps the producer epoch and so
	// fence-aborts anything still open) and carries on with the same
	// client, as franz-go documents for GroupTransactSession: the consumer
	// is rewound to the offsets the group has committed, as the broker
	// reports them, and the stores catch up with their changelogs. A
	// fenced producer, a crash or an abort that fails still ends the
	// instance.
	RecoveryContinue
)

// Recoveries lists the recovery styles.
func Recoveries() []Recovery { return []Recovery{RecoveryRestart, RecoveryContinue} }

func (r Recovery) String() string {
	switch r {
	case RecoveryRestart:
		return "restart"
	case RecoveryContinue:
		return "continue"
	}
	return fmt.Sprintf("Recovery(%d)", uint8(r))
}

// ParseRecovery returns the recovery style named s.
func ParseRecovery(s string) (Recovery, error) {
	var names []string
	for _, r := range Recoveries() {
		if r.String() == s {
			return r, nil
		}
		names = append(names, r.String())
	}
	return 0, fmt.Errorf("unknown recovery %q (want one of %s)", s, strings.Join(names, ", "))
}

// ContinuedNote is in the note an instance records when it aborted a
// unit whose commit failed and carried on with the same client.
const ContinuedNote = "aborted and continued"

// continues reports whether the instance aborts and carries on after a
// commit that failed with err. Only a unit under kgo's
// GroupTransactSession does: its rebalance callbacks wait until the step
// ends (BlockRebalanceOnPoll), so the partitions it rewinds and reloads are
// the step's. Without a session (at_least_once, the modes that send their
// own offsets) a revoke may land in the middle of the recovery, at a moment
// the goroutine schedule picks, so those restart. A topology with a
// database restarts too: where it keeps its input positions (the database,
// under most of its guarantees) is not the group's committed offsets this
// rewinds to.
func (in *Instance) continues(err error) bool {
	return in.cfg.Recovery == RecoveryContinue && in.sess != nil && in.cfg.Topology.Database == nil && !fatalForContinue(err)
}

// fatalForContinue reports whether err ends the instance even under
// RecoveryContinue: a fenced producer or member, an authorization failure,
// or a context that ended (kgo documents that a canceled End may leave
// the client in an invalid state).
func fatalForContinue(err error) bool {
	return fenced(err) || errors.Is(err, kerr.TransactionalIDAuthorizationFailed) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// continueAfter recovers in place from a commit that failed with cause:
// the transaction, if any, is aborted; the consumer is rewound to the
// group's committed offsets as the broker has them (a commit whose answer
// was lost may have happened, and kgo's own rewind goes to the offsets the
// client last saw committed); every assigned partition is paused and its
// stores catch up with their changelogs at the next step, as after an
// assignment. The unit is left for runUnit to record, with a note after
// it. An error means the instance could not recover and fails.
func (in *Instance) continueAfter(ctx context.Context, w *unitOfWork, cause error) error {
	if w.u.Transactional {
		if _, err := in.endTxn(ctx, kgo.TryAbort); err != nil {
			return in.failUnit(w, history.Unknown, fmt.Errorf("committing: %w; then aborting: %w", cause, err))
		}
	}
	reload := in.assignedNow()
	rewound, err := in.rewindToCommitted(ctx, reload)
	if err != nil {
		return in.failUnit(w, history.Unknown, fmt.Errorf("committing: %w; then %w", cause, err))
	}
	// From now on the client's own idea of what is committed may lag the
	// broker's: every later abort rewinds from the broker too.
	in.rewindFromBroker = true
	in.mu.Lock()
	for _, p := range reload {
		in.pending[p] = true
	}
	in.mu.Unlock()
	if len(reload) > 0 {
		in.cl.PauseFetchPartitions(in.everyConsumed(reload))
	}
	w.u.Outcome, w.u.Reason = history.Unknown, Reason(fmt.Errorf("committing: %w", cause))+" ("+ContinuedNote+")"
	w.continued = fmt.Sprintf("%s: the commit failed (%s); %s on the same client: rewound to the group's committed offsets %s, stores of partitions %v reloaded from their changelogs",
		w.u.ID, Reason(cause), ContinuedNote, rewound, reload)
	return nil
}

// afterAbort, once the instance has continued after a failed commit,
// rewinds the consumer of a unit that aborted to the group's committed
// offsets as the broker has them: kgo's session rewinds to those the
// client last saw committed, which lag the broker's if the commit it
// continued after did happen. An error fails the unit and the instance.
func (in *Instance) afterAbort(ctx context.Context, w *unitOfWork) error {
	if !in.rewindFromBroker {
		return nil
	}
	if _, err := in.rewindToCommitted(ctx, in.assignedNow()); err != nil {
		return in.failUnit(w, w.u.Outcome, fmt.Errorf("%s; then %w", w.u.Reason, err))
	}
	return nil
}

// assignedNow returns the assigned tasks (partitions), sorted.
func (in *Instance) assignedNow() []int32 {
	in.mu.Lock()
	defer in.mu.Unlock()
	return slices.Sorted(maps.Keys(in.assigned))
}

// rewindToCommitted sets the consumer's position in the assigned
// partitions of every consumed topic to the group's committed offsets,
// asked of the broker with RequireStable, and returns the offsets as text.
func (in *Instance) rewindToCommitted(ctx context.Context, assigned []int32) (string, error) {
	if len(assigned) == 0 {
		return "(none assigned)", nil
	}
	resp, err := kadm.NewClient(in.cl).FetchOffsets(kadm.RequireStable(in.runCtx(ctx)), in.cfg.AppID)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		return "", fmt.Errorf("fetching the committed offsets: %w", err)
	}
	set := make(map[string]map[int32]kgo.EpochOffset)
	var parts []string
	for _, topic := range in.consumed {
		for _, p := range assigned {
			o, ok := resp.Lookup(topic, p)
			if !ok || o.At < 0 {
				parts = append(parts, fmt.Sprintf("%s/%d:none", topic, p))
				continue
			}
			if set[topic] == nil {
				set[topic] = make(map[int32]kgo.EpochOffset)
			}
			set[topic][p] = kgo.EpochOffset{Epoch: o.LeaderEpoch, Offset: o.At}
			parts = append(parts, fmt.Sprintf("%s/%d:%d", topic, p, o.At))
		}
	}
	if len(set) > 0 {
		in.cl.SetOffsets(set)
	}
	return strings.Join(parts, ","), nil
}
