package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/eosim/eosim/history"
)

// beginTxn begins a unit's transaction: through the GroupTransactSession,
// or on the plain transactional client of a mode that sends its own
// offsets.
func (in *Instance) beginTxn() error {
	if in.sess != nil {
		return in.sess.Begin()
	}
	return in.cl.BeginTransaction()
}

// endTimeout bounds a session's End by default (Config.EndTimeout), as
// Java's default.api.timeout.ms bounds a commit. Rebalance callbacks wait for the unit to end, so should
// the coordinator drop the member between commit's look at
// rebalanceWaiting and End's forced heartbeat, no heartbeat loop would
// serve that heartbeat and nothing would tell End of the loss: kgo's End
// would wait forever. Past this it gives up; the client does not know the
// outcome, and the instance restarts.
const endTimeout = time.Minute

// endTxn ends the transaction; committed reports whether it committed.
func (in *Instance) endTxn(ctx context.Context, try kgo.TransactionEndTry) (committed bool, err error) {
	if in.sess != nil {
		ctx, cancel := context.WithTimeout(ctx, in.cfg.EndTimeout)
		defer cancel()
		return in.sess.End(ctx, try)
	}
	if err := in.cl.EndTransaction(ctx, try); err != nil {
		return false, err
	}
	return try == kgo.TryCommit, nil
}

// commitOwnOffsets ends the transaction of a mode that sends the offsets
// itself, each in its own wrong way.
func (in *Instance) commitOwnOffsets(ctx context.Context, w *unitOfWork) (committed bool, err error) {
	switch in.cfg.Guarantee {
	case OffsetsBeforeCommit:
		if err := in.cl.CommitRecords(ctx, w.recs...); err != nil {
			return false, in.abortAfter(ctx, fmt.Errorf("committing offsets: %w", err))
		}
		return in.endTxn(ctx, kgo.TryCommit)
	case OffsetsAfterCommit:
		if committed, err := in.endTxn(ctx, kgo.TryCommit); err != nil || !committed {
			return committed, err
		}
		if err := in.cl.CommitRecords(ctx, w.recs...); err != nil {
			// The outputs are committed, the offsets are not: the
			// next owner replays the input.
			return true, fmt.Errorf("committing offsets after the transaction: %w", err)
		}
		return true, nil
	case NoGroupMetadata:
		if err := in.sendOffsetsWithoutGroup(ctx, w.u.Offsets); err != nil {
			return false, in.abortAfter(ctx, err)
		}
		return in.endTxn(ctx, kgo.TryCommit)
	}
	return false, fmt.Errorf("guarantee %s does not send its own offsets", in.cfg.Guarantee)
}

// abortAfter aborts the open transaction after cause and returns cause.
func (in *Instance) abortAfter(ctx context.Context, cause error) error {
	if _, err := in.endTxn(ctx, kgo.TryAbort); err != nil {
		return fmt.Errorf("%w; then aborting: %w", cause, err)
	}
	return cause
}

// sendOffsetsWithoutGroup adds the offsets to the transaction with a bare
// group id: generation -1, no member id, so the coordinator cannot tell a
// zombie from the partitions' owner.
func (in *Instance) sendOffsetsWithoutGroup(ctx context.Context, offsets []history.Offset) error {
	id, epoch, err := in.cl.ProducerID(ctx)
	if err != nil {
		return fmt.Errorf("sending offsets: producer id: %w", err)
	}
	if in.cfg.TransactionsV1 {
		add := kmsg.NewPtrAddOffsetsToTxnRequest()
		add.TransactionalID, add.ProducerID, add.ProducerEpoch, add.Group = in.txnID, id, epoch, in.cfg.AppID
		resp, err := add.RequestWith(ctx, in.cl)
		if err == nil {
			err = kerr.ErrorForCode(resp.ErrorCode)
		}
		if err != nil {
			return fmt.Errorf("adding offsets to the transaction: %w", err)
		}
	}
	req := kmsg.NewPtrTxnOffsetCommitRequest()
	req.TransactionalID, req.Group, req.ProducerID, req.ProducerEpoch = in.txnID, in.cfg.AppID, id, epoch
	req.Generation, req.MemberID = -1, ""
	topicAt := make(map[string]int)
	for _, o := range offsets {
		i, ok := topicAt[o.Topic]
		if !ok {
			i = len(req.Topics)
			topicAt[o.Topic] = i
			t := kmsg.NewTxnOffsetCommitRequestTopic()
			t.Topic = o.Topic
			// v6+ names topics by id.
			if t.TopicID, err = in.topicID(ctx, o.Topic); err != nil {
				return fmt.Errorf("sending offsets: %w", err)
			}
			req.Topics = append(req.Topics, t)
		}
		p := kmsg.NewTxnOffsetCommitRequestTopicPartition()
		p.Partition, p.Offset, p.LeaderEpoch = o.Partition, o.Offset, -1
		req.Topics[i].Partitions = append(req.Topics[i].Partitions, p)
	}
	resp, err := req.RequestWith(ctx, in.cl)
	if err != nil {
		return fmt.Errorf("sending offsets: %w", err)
	}
	var errs error
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
				errs = errors.Join(errs, fmt.Errorf("%s[%d]: %w", t.Topic, p.Partition, err))
			}
		}
	}
	if errs != nil {
		return fmt.Errorf("sending offsets: %w", errs)
	}
	return nil
}

// topicID returns the id of topic, asked of the cluster once.
func (in *Instance) topicID(ctx context.Context, topic string) ([16]byte, error) {
	if id, ok := in.topicIDs[topic]; ok {
		return id, nil
	}
	details, err := kadm.NewClient(in.cl).ListTopics(ctx, topic)
	if err == nil {
		err = details.Error()
	}
	if err != nil {
		return [16]byte{}, fmt.Errorf("looking up the id of %s: %w", topic, err)
	}
	if in.topicIDs == nil {
		in.topicIDs = make(map[string][16]byte)
	}
	in.topicIDs[topic] = details[topic].ID
	return details[topic].ID, nil
}
