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
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eosim/eosim/history"
)

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

// partLog is what a read met on one partition, in offset order: every
// entry, control records included, and the data records, converted to the
// History's form as they arrived, so that no fetched record, nor the fetch
// buffer it points into, outlives its poll.
type partLog struct {
	entries []entry
	records []history.Record
	// region is the length of the stretch of its topic's array, all, that
	// records started in (see consume); more records than that moved them
	// out of it.
	region int
	all    []history.Record
	// What consume reads into it: the end of its range, whether it is
	// reached, whether entries are kept (lastCommittedEntry reads those of
	// a read_uncommitted pass alone), and what an earlier pass read of the
	// partition (see add).
	to      int64
	done    bool
	keep    bool
	known   []history.Record
	knownAt int // where add's look into known goes on from
}

// entry is one log entry: what lastCommittedEntry needs of it.
type entry struct {
	offset  int64
	pid     int64 // the producer id of the batch
	txn     bool  // the batch is transactional
	control bool  // a transaction marker
	commit  bool  // a marker that commits
}

func entryOf(r *kgo.Record) entry {
	e := entry{offset: r.Offset, pid: r.ProducerID, txn: r.Attrs.IsTransactional(), control: r.Attrs.IsControl()}
	e.commit = e.control && isCommitMarker(r)
	return e
}

// add appends r to the log; a data record is converted unless l.known holds
// the same record, which is taken instead: a read_committed pass returns
// what the read_uncommitted pass before it converted already.
func (l *partLog) add(r *kgo.Record) {
	e := entryOf(r)
	if l.keep {
		l.entries = append(l.entries, e)
	}
	if e.control {
		return
	}
	// A partition's records come in offset order, so the look into known
	// goes on from where the last one ended. (Out of order, a record is
	// only converted anew.)
	for l.knownAt < len(l.known) && l.known[l.knownAt].Offset < r.Offset {
		l.knownAt++
	}
	if l.knownAt < len(l.known) && sameRecord(l.known[l.knownAt], r) {
		l.records = append(l.records, l.known[l.knownAt])
		return
	}
	l.records = append(l.records, Convert(r))
}

// sameRecord reports whether hr, converted from a record at r's offset, has
// r's key, value and headers: a broker that answered the two passes with
// different bytes at one offset gets both answers recorded.
func sameRecord(hr history.Record, r *kgo.Record) bool {
	if hr.Topic != r.Topic || hr.Partition != r.Partition || hr.Offset != r.Offset ||
		hr.Key != string(r.Key) || hr.Value != string(r.Value) || len(hr.Headers) != len(r.Headers) {
		return false
	}
	for i, h := range r.Headers {
		if hr.Headers[i].Key != h.Key || hr.Headers[i].Value != string(h.Value) {
			return false
		}
	}
	return true
}

// tp names one partition of a topic.
type tp struct {
	topic     string
	partition int32
}

// bounds are the high watermark (end) and last stable offset of partitions.
type bounds struct {
	end, stable map[tp]int64
}

// Read returns both views of the partitions of topic from the given offsets
// (all partitions from 0 when from is nil) to the current end.
func Read(ctx context.Context, opts []kgo.Opt, topic string, from map[int32]int64) (View, error) {
	adm, closeAdm, err := NewAdmin(opts)
	if err != nil {
		return View{}, err
	}
	defer closeAdm()
	b, err := ends(ctx, adm, topic)
	if err != nil {
		return View{}, err
	}
	var at map[tp]int64
	if from != nil {
		at = make(map[tp]int64, len(from))
		for p, f := range from {
			at[tp{topic, p}] = f
		}
	}
	committed, uncommitted, err := read(ctx, opts, b, at)
	if err != nil {
		return View{}, err
	}
	v := View{
		Committed: committed[topic], Uncommitted: uncommitted[topic],
		End: make(map[int32]int64, len(b.end)), Stable: make(map[int32]int64, len(b.stable)),
	}
	for k, o := range b.end {
		v.End[k.partition] = o
	}
	for k, o := range b.stable {
		v.Stable[k.partition] = o
	}
	return v, nil
}

// read reads the partitions of b from the given offsets (every partition
// of b from 0 when from is nil) to their end, with one read_uncommitted
// and one read_committed consumer for all of them, and returns each
// topic's committed and uncommitted records in (partition, offset) order.
func read(ctx context.Context, opts []kgo.Opt, b bounds, from map[tp]int64) (committed, uncommitted map[string][]history.Record, err error) {
	if from == nil {
		from = make(map[tp]int64, len(b.end))
		for k := range b.end {
			from[k] = 0
		}
	}
	log, err := consume(ctx, opts, from, b.end, kgo.ReadUncommitted(), nil)
	if err != nil {
		return nil, nil, fmt.Errorf("reading %s read_uncommitted: %w", topicsOf(from), err)
	}
	lastVisible := make(map[tp]int64)
	for k, l := range log {
		if last, ok := lastCommittedEntry(l.entries, b.stable[k]); ok {
			lastVisible[k] = last + 1
		}
	}
	rc, err := consume(ctx, opts, from, lastVisible, kgo.ReadCommitted(), log)
	if err != nil {
		return nil, nil, fmt.Errorf("reading %s read_committed: %w", topicsOf(from), err)
	}
	// After the second pass, which looks records up in the first's: records
	// moves them within their arrays.
	return records(rc), records(log), nil
}

// of is b restricted to the partitions of topics.
func (b bounds) of(topics ...string) bounds {
	out := bounds{end: make(map[tp]int64), stable: make(map[tp]int64)}
	for k, o := range b.end {
		if slices.Contains(topics, k.topic) {
			out.end[k] = o
		}
	}
	for k, o := range b.stable {
		if slices.Contains(topics, k.topic) {
			out.stable[k] = o
		}
	}
	return out
}

// records returns the data records of es (control records left out) by
// topic, each topic's in (partition, offset) order. A partition's entries
// come in offset order, as fetched; taken partition by partition they need
// no sort, and each topic's slice is sized once: a snapshot holds thousands
// of records, and growing and sorting them was half of its cost.
func records(logs map[tp]*partLog) map[string][]history.Record {
	keys := slices.SortedFunc(maps.Keys(logs), compareTP)
	n := make(map[string]int)
	moved := make(map[string]bool)
	for _, k := range keys {
		l := logs[k]
		n[k.topic] += len(l.records)
		moved[k.topic] = moved[k.topic] || len(l.records) > l.region
	}
	out := make(map[string][]history.Record, len(n))
	for _, k := range keys {
		if n[k.topic] == 0 {
			continue // control records only: no slice, as when nothing was read
		}
		rs, ok := out[k.topic]
		switch {
		case ok:
		case moved[k.topic]:
			rs = make([]history.Record, 0, n[k.topic])
		default:
			// The topic's first partition starts its array; each
			// partition's records move down to follow the ones before
			// (copy is safe with the two overlapping), never past their
			// own stretch, so never over a later partition's.
			rs = logs[k].all
		}
		out[k.topic] = append(rs, logs[k].records...)
	}
	for _, rs := range out {
		if !slices.IsSortedFunc(rs, compareRecords) {
			sortRecords(rs)
		}
	}
	return out
}

func compareTP(a, b tp) int {
	if c := cmp.Compare(a.topic, b.topic); c != 0 {
		return c
	}
	return cmp.Compare(a.partition, b.partition)
}

// topicsOf names the topics of the partitions in ps, sorted, for messages.
func topicsOf[V any](ps map[tp]V) string {
	var ts []string
	for k := range ps {
		if !slices.Contains(ts, k.topic) {
			ts = append(ts, k.topic)
		}
	}
	slices.Sort(ts)
	return strings.Join(ts, ", ")
}

// Tail says how ReadTails treats a transaction open on a partition.
type Tail int

const (
	// TailWhenStable reports the partition open (TailRead.Open) while a
	// transaction is open on it (its records, once committed, would land
	// below the offset reached): the correct restore.
	TailWhenStable Tail = iota
	// TailToStable reads the committed records up to the last stable
	// offset and reports it as the end: a restore that misses what the
	// open transaction later commits.
	TailToStable
	// TailUncommitted reads every data record to the end, aborted and open
	// transactions included, as read_uncommitted does.
	TailUncommitted
)

// Part is one partition to read from an offset.
type Part struct {
	Topic     string
	Partition int32
	From      int64
}

// TailRead is what ReadTails found on one Part.
type TailRead struct {
	// Records are the part's records from its offset, in offset order.
	Records []history.Record
	// End is the offset reached.
	End int64
	// Open: a transaction is open on the partition (TailWhenStable only);
	// nothing was read.
	Open bool
}

// ReadTails reads each part from its offset to its end, as how says, and
// returns what it found on each, in the order of parts. adm (any client of
// the cluster will do) learns where the partitions end; the records are read
// by consumers made of opts, one for every part at once: a restore of many
// partitions costs one or two clients, not a few per partition.
//
// Under TailWhenStable the parts to read have no open transaction, so every
// transaction in them has its marker below the end, and a read_committed
// consumer that keeps control records is given the last entry of each: one
// consumer reads them, and knows where to stop. The other ways read as Read
// does (read_uncommitted first, to learn where read_committed stops).
func ReadTails(ctx context.Context, adm *Admin, opts []kgo.Opt, how Tail, parts ...Part) ([]TailRead, error) {
	out := make([]TailRead, len(parts))
	if len(parts) == 0 {
		return out, nil
	}
	var topics []string
	for _, pt := range parts {
		if !slices.Contains(topics, pt.Topic) {
			topics = append(topics, pt.Topic)
		}
	}
	b, err := ends(ctx, adm, topics...)
	if err != nil {
		return nil, err
	}
	// A partition named twice is read once, from the lower offset.
	upto := make(map[tp]int64)
	from := make(map[tp]int64)
	for i, pt := range parts {
		at := tp{pt.Topic, pt.Partition}
		end, stable := b.end[at], b.stable[at]
		u := end
		if stable < end {
			switch how {
			case TailWhenStable:
				out[i].Open = true
				continue
			case TailToStable:
				u = stable
			}
		}
		out[i].End = pt.From
		if pt.From >= u {
			continue
		}
		out[i].End = u
		if f, ok := from[at]; !ok || pt.From < f {
			from[at] = pt.From
		}
		upto[at] = u
	}
	if len(from) == 0 {
		return out, nil
	}
	var found map[string][]history.Record
	if how == TailWhenStable {
		es, err := consume(ctx, opts, from, upto, kgo.ReadCommitted(), nil)
		if err != nil {
			return nil, fmt.Errorf("reading %s read_committed: %w", topicsOf(from), err)
		}
		found = records(es)
	} else {
		// read reads only the partitions of from.
		committed, uncommitted, err := read(ctx, opts, b, from)
		if err != nil {
			return nil, err
		}
		found = committed
		if how == TailUncommitted {
			found = uncommitted
		}
	}
	// The readers stopped at each partition's upto (read_committed, in
	// read, below the stable offset): only a part's own offset is left
	// to apply, for a partition named twice. A topic's records are in
	// (partition, offset) order, so a part's are a stretch of them, found
	// by halving and not copied.
	for i, pt := range parts {
		if out[i].Open || pt.From >= out[i].End {
			continue
		}
		rs := found[pt.Topic]
		lo, _ := slices.BinarySearchFunc(rs, history.Record{Partition: pt.Partition, Offset: pt.From}, compareRecords)
		hi := lo + sort.Search(len(rs)-lo, func(j int) bool { return rs[lo+j].Partition != pt.Partition })
		if lo < hi {
			out[i].Records = rs[lo:hi:hi]
		}
	}
	return out, nil
}

// lastCommittedEntry returns the offset of the last entry below stable that
// read_committed returns: a control record, a non-transactional record, or a
// record of a transaction whose marker says commit.
func lastCommittedEntry(es []entry, stable int64) (int64, bool) {
	committed := make(map[int64]bool) // producer id → outcome of its next marker
	for i := len(es) - 1; i >= 0; i-- {
		e := es[i]
		if e.control {
			committed[e.pid] = e.commit
		}
		if e.offset >= stable {
			continue
		}
		if e.control || !e.txn || committed[e.pid] {
			return e.offset, true
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
// control records included; known, when not nil, is an earlier pass's logs
// of the partitions, whose records add takes where they are the same.
func consume(ctx context.Context, opts []kgo.Opt, from, to map[tp]int64, iso kgo.IsolationLevel, known map[tp]*partLog) (map[tp]*partLog, error) {
	want := make(map[string]map[int32]kgo.Offset)
	remaining := 0
	for k, f := range from {
		if to[k] > f {
			if want[k.topic] == nil {
				want[k.topic] = make(map[int32]kgo.Offset)
			}
			want[k.topic][k.partition] = kgo.NewOffset().At(f)
			remaining++
		}
	}
	if remaining == 0 {
		return make(map[tp]*partLog), nil
	}
	out := newLogs(from, to, iso == kgo.ReadUncommitted())
	cl, err := kgo.NewClient(append(append([]kgo.Opt(nil), opts...),
		kgo.ConsumePartitions(want),
		kgo.FetchIsolationLevel(iso),
		kgo.KeepControlRecords(),
		kgo.WithPools(&fetchPool),
	)...)
	if err != nil {
		return nil, fmt.Errorf("creating reader: %w", err)
	}
	defer cl.Close()
	for k, l := range out {
		if known[k] != nil {
			l.known = known[k].records
		}
	}
	var last tp
	var lastLog *partLog
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
			// A fetch gives a partition's records in a row: one lookup
			// for each row, not one for each record.
			if k := (tp{r.Topic, r.Partition}); lastLog == nil || k != last {
				last, lastLog = k, out[k]
			}
			if l := lastLog; l != nil && !l.done && r.Offset < l.to {
				l.add(r)
				if r.Offset >= l.to-1 {
					l.done = true
					remaining--
				}
			}
			// add copied what it keeps: the record's array goes back
			// to the pool once all of its batch is recycled.
			r.Recycle()
		})
	}
	return out, nil
}

// newLogs makes the logs of the partitions to read, [from, to) of each,
// entries kept or not. Each topic's records go to one array, each
// partition's to its own stretch of it, in partition order, sized for its
// whole range (offsets are dense but in compacted topics, where that is a
// bound): records then makes a topic's slice in place.
func newLogs(from, to map[tp]int64, keepEntries bool) map[tp]*partLog {
	parts := slices.SortedFunc(maps.Keys(from), compareTP)
	size := make(map[string]int64)
	for _, k := range parts {
		size[k.topic] += max(to[k]-from[k], 0)
	}
	arrays := make(map[string][]history.Record, len(size))
	out := make(map[tp]*partLog, len(parts))
	for _, k := range parts {
		n := max(to[k]-from[k], 0)
		if n == 0 {
			continue
		}
		arr, ok := arrays[k.topic]
		if !ok {
			arr = make([]history.Record, 0, size[k.topic])
		}
		l := &partLog{records: arr[len(arr) : len(arr) : int64(len(arr))+n], region: int(n), all: arr[:0], to: to[k], keep: keepEntries}
		if keepEntries {
			l.entries = make([]entry, 0, n)
		}
		out[k] = l
		arrays[k.topic] = arr[:int64(len(arr))+n]
	}
	return out
}

// Convert turns a kgo record into the History's form. Its key, value and
// header values share one string, made in one allocation: a run converts
// every record it produces, consumes and reads back, and three or four
// allocations a record were a tenth of all a run made.
func Convert(r *kgo.Record) history.Record {
	n := len(r.Key) + len(r.Value)
	for _, h := range r.Headers {
		n += len(h.Value)
	}
	var b strings.Builder
	b.Grow(n)
	b.Write(r.Key)
	b.Write(r.Value)
	for _, h := range r.Headers {
		b.Write(h.Value)
	}
	all := b.String()
	hr := history.Record{
		Topic: r.Topic, Partition: r.Partition, Offset: r.Offset,
		Key: all[:len(r.Key)], Value: all[len(r.Key) : len(r.Key)+len(r.Value)],
	}
	if len(r.Headers) > 0 {
		hr.Headers = make([]history.Header, len(r.Headers))
		at := len(r.Key) + len(r.Value)
		for i, h := range r.Headers {
			hr.Headers[i] = history.Header{Key: h.Key, Value: all[at : at+len(h.Value)]}
			at += len(h.Value)
		}
	}
	return hr
}

// compareRecords orders records of one topic by partition, then offset.
func compareRecords(a, b history.Record) int {
	if c := cmp.Compare(a.Partition, b.Partition); c != 0 {
		return c
	}
	return cmp.Compare(a.Offset, b.Offset)
}

func sortRecords(rs []history.Record) {
	sort.Slice(rs, func(i, j int) bool {
		if rs[i].Partition != rs[j].Partition {
			return rs[i].Partition < rs[j].Partition
		}
		return rs[i].Offset < rs[j].Offset
	})
}
