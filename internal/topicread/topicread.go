// Package topicread owns reading a topic's log to its end the way eosim needs
// it: every data record with its transaction status (read_uncommitted), and the
// records a read_committed consumer is given, both from the real broker.
//
// A read_committed consumer cannot tell where a partition ends: the last
// entries below the last stable offset may be aborted records it never sees.
// So a read first takes the whole log read_uncommitted with control records,
// works out from the markers which offset is the last one read_committed must
// return, and then reads read_committed up to it.
package topicread

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eosim/eosim/history"
)

// ErrOpenTransaction is returned by ReadTail (TailWhenStable) when a transaction is
// still open on a partition, so its committed content is not final.
var ErrOpenTransaction = errors.New("a transaction is open on the partition")

// View is a topic's content read to its end.
type View struct {
	// Committed is what read_committed returned, Uncommitted every data
	// record in the log; both in (partition, offset) order.
	Committed   []history.Record
	Uncommitted []history.Record
	// End is the high watermark and Stable the last stable offset of each
	// partition at the time of the read.
	End    map[int32]int64
	Stable map[int32]int64
}

// entry is one log entry seen read_uncommitted.
type entry struct {
	rec     *kgo.Record
	control bool
}

// Read returns both views of the partitions of topic from the given offsets
// (all partitions from 0 when from is nil) to the current end.
func Read(ctx context.Context, opts []kgo.Opt, topic string, from map[int32]int64) (View, error) {
	adm, closeAdm, err := NewAdmin(opts)
	if err != nil {
		return View{}, err
	}
	defer closeAdm()
	end, stable, err := ends(ctx, adm, topic)
	if err != nil {
		return View{}, err
	}
	if from == nil {
		from = make(map[int32]int64, len(end))
		for p := range end {
			from[p] = 0
		}
	}
	v := View{End: end, Stable: stable}

	log, err := consume(ctx, opts, topic, from, end, kgo.ReadUncommitted())
	if err != nil {
		return View{}, fmt.Errorf("reading %s read_uncommitted: %w", topic, err)
	}
	lastVisible := make(map[int32]int64)
	for p, es := range log {
		for _, e := range es {
			if !e.control {
				v.Uncommitted = append(v.Uncommitted, Convert(e.rec))
			}
		}
		if last, ok := lastCommittedEntry(es, stable[p]); ok {
			lastVisible[p] = last + 1
		}
	}
	rc, err := consume(ctx, opts, topic, from, lastVisible, kgo.ReadCommitted())
	if err != nil {
		return View{}, fmt.Errorf("reading %s read_committed: %w", topic, err)
	}
	for _, es := range rc {
		for _, e := range es {
			if !e.control {
				v.Committed = append(v.Committed, Convert(e.rec))
			}
		}
	}
	sortRecords(v.Committed)
	sortRecords(v.Uncommitted)
	return v, nil
}

// Tail says how ReadTail treats a transaction open on the partition.
type Tail int

const (
	// TailWhenStable fails with ErrOpenTransaction while a transaction is
	// open (its records, once committed, would land below the offset
	// reached): the correct restore.
	TailWhenStable Tail = iota
	// TailToStable reads the committed records up to the last stable
	// offset and reports it as the end: a restore that misses what the
	// open transaction later commits.
	TailToStable
	// TailUncommitted reads every data record to the end, aborted and open
	// transactions included, as read_uncommitted does.
	TailUncommitted
)

// ReadTail reads one partition from offset from to its end, as how says,
// and returns the records and the offset reached.
func ReadTail(ctx context.Context, opts []kgo.Opt, topic string, partition int32, from int64, how Tail) ([]history.Record, int64, error) {
	adm, closeAdm, err := NewAdmin(opts)
	if err != nil {
		return nil, 0, err
	}
	defer closeAdm()
	end, stable, err := ends(ctx, adm, topic)
	if err != nil {
		return nil, 0, err
	}
	upto := end[partition]
	if stable[partition] < end[partition] {
		switch how {
		case TailWhenStable:
			return nil, 0, fmt.Errorf("%s[%d]: stable offset %d below end %d: %w",
				topic, partition, stable[partition], end[partition], ErrOpenTransaction)
		case TailToStable:
			upto = stable[partition]
		}
	}
	if from >= upto {
		return nil, from, nil
	}
	v, err := Read(ctx, opts, topic, map[int32]int64{partition: from})
	if err != nil {
		return nil, 0, err
	}
	source := v.Committed
	if how == TailUncommitted {
		source = v.Uncommitted
	}
	var recs []history.Record
	for _, r := range source {
		if r.Partition == partition && r.Offset < upto {
			recs = append(recs, r)
		}
	}
	if how == TailToStable {
		return recs, upto, nil
	}
	return recs, v.End[partition], nil
}

// lastCommittedEntry returns the offset of the last entry below stable that
// read_committed returns: a control record, a non-transactional record, or a
// record of a transaction whose marker says commit.
func lastCommittedEntry(es []entry, stable int64) (int64, bool) {
	committed := make(map[int64]bool) // producer id → outcome of its next marker
	for i := len(es) - 1; i >= 0; i-- {
		e := es[i]
		pid := e.rec.ProducerID
		if e.control {
			committed[pid] = isCommitMarker(e.rec)
		}
		if e.rec.Offset >= stable {
			continue
		}
		visible := e.control || !e.rec.Attrs.IsTransactional() || committed[pid]
		if visible {
			return e.rec.Offset, true
		}
	}
	return 0, false
}

// isCommitMarker decodes a control record's key: int16 version, int16 type
// (0 abort, 1 commit).
func isCommitMarker(r *kgo.Record) bool {
	return len(r.Key) >= 4 && r.Key[2] == 0 && r.Key[3] == 1
}

// consume reads [from, to) of each partition with the given isolation level,
// control records included.
func consume(ctx context.Context, opts []kgo.Opt, topic string, from, to map[int32]int64, iso kgo.IsolationLevel) (map[int32][]entry, error) {
	want := make(map[int32]kgo.Offset)
	for p, f := range from {
		if to[p] > f {
			want[p] = kgo.NewOffset().At(f)
		}
	}
	out := make(map[int32][]entry)
	if len(want) == 0 {
		return out, nil
	}
	cl, err := kgo.NewClient(append(append([]kgo.Opt(nil), opts...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: want}),
		kgo.FetchIsolationLevel(iso),
		kgo.KeepControlRecords(),
	)...)
	if err != nil {
		return nil, fmt.Errorf("creating reader: %w", err)
	}
	defer cl.Close()
	remaining := len(want)
	done := make(map[int32]bool)
	for remaining > 0 {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("%d partitions not read to the end: %w", remaining, err)
		}
		var ferr error
		fs.EachError(func(t string, p int32, err error) {
			ferr = errors.Join(ferr, fmt.Errorf("%s[%d]: %w", t, p, err))
		})
		if ferr != nil {
			return nil, ferr
		}
		fs.EachRecord(func(r *kgo.Record) {
			if done[r.Partition] || r.Offset >= to[r.Partition] {
				return
			}
			out[r.Partition] = append(out[r.Partition], entry{rec: r, control: r.Attrs.IsControl()})
			if r.Offset >= to[r.Partition]-1 {
				done[r.Partition] = true
				remaining--
			}
		})
	}
	return out, nil
}

// NewAdmin makes an admin client with opts; the func closes it. eosim's
// tools make every admin client here.
func NewAdmin(opts []kgo.Opt) (*kadm.Client, func(), error) {
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("creating admin client: %w", err)
	}
	return kadm.NewClient(cl), cl.Close, nil
}

// ends lists the high watermark and last stable offset of every partition
// of topic. A leader that just moved answers NOT_LEADER_FOR_PARTITION until
// the client's metadata catches up, so retriable answers are retried a few
// times, a moment apart.
func ends(ctx context.Context, adm *kadm.Client, topic string) (end, stable map[int32]int64, err error) {
	const attempts = 10
	for try := 1; ; try++ {
		end, stable, err = listEnds(ctx, adm, topic)
		if err == nil || !kerr.IsRetriable(err) || try == attempts || ctx.Err() != nil {
			return end, stable, err
		}
		time.Sleep(time.Duration(try) * 50 * time.Millisecond)
	}
}

func listEnds(ctx context.Context, adm *kadm.Client, topic string) (end, stable map[int32]int64, err error) {
	hw, err := adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = hw.Error()
	}
	if err != nil {
		return nil, nil, fmt.Errorf("listing end offsets of %s: %w", topic, err)
	}
	lso, err := adm.ListCommittedOffsets(ctx, topic)
	if err == nil {
		err = lso.Error()
	}
	if err != nil {
		return nil, nil, fmt.Errorf("listing stable offsets of %s: %w", topic, err)
	}
	end, stable = make(map[int32]int64), make(map[int32]int64)
	hw.Each(func(o kadm.ListedOffset) { end[o.Partition] = o.Offset })
	lso.Each(func(o kadm.ListedOffset) { stable[o.Partition] = o.Offset })
	if len(end) == 0 {
		return nil, nil, fmt.Errorf("topic %s has no partitions", topic)
	}
	return end, stable, nil
}

// Convert turns a kgo record into the History's form.
func Convert(r *kgo.Record) history.Record {
	hr := history.Record{
		Topic: r.Topic, Partition: r.Partition, Offset: r.Offset,
		Key: string(r.Key), Value: string(r.Value),
	}
	for _, h := range r.Headers {
		hr.Headers = append(hr.Headers, history.Header{Key: h.Key, Value: string(h.Value)})
	}
	return hr
}

func sortRecords(rs []history.Record) {
	sort.Slice(rs, func(i, j int) bool {
		if rs[i].Partition != rs[j].Partition {
			return rs[i].Partition < rs[j].Partition
		}
		return rs[i].Offset < rs[j].Offset
	})
}
