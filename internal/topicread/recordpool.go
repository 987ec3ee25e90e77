package topicread

import (
	"math/bits"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"
)

// recordPool is the kgo.PoolRecords a reader's consumers decode fetched
// batches into. A read converts every record as it arrives and recycles it
// (see consume), so the arrays kgo would otherwise make for each batch, a
// kgo.Record of 160 bytes for every record read, are used again: a run's
// final read and its restores fetch every record of their topics, and those
// arrays were about a tenth of what a simulated run allocated.
//
// The pool outlives a read: a read's first fetch brings most of its topics
// at once, so the arrays it needs are all out together, and only the next
// read (the read_committed pass after the read_uncommitted one, the next
// run of a sweep) finds them back. sync.Pool, emptied at every collection,
// kept half of them; this pool keeps them, up to maxHeldRecords records.
//
// Arrays are kept by capacity, a power of two from 1 to 1<<maxPoolClass; a
// batch with more records gets an array of its own, as without a pool. What
// the pool hands out never changes what a read returns: kgo writes every
// field of a record it decodes, and zeroes a record it recycles.
type recordPool struct {
	mu      sync.Mutex
	byClass [maxPoolClass + 1][][]kgo.Record // class c holds arrays of capacity 1<<c
	held    int                              // records in byClass
	// For tests: the arrays GetRecords handed out, and those it made.
	got, made int
}

const (
	maxPoolClass = 12
	// maxHeldRecords bounds what the pool keeps to about 2.6 MB.
	maxHeldRecords = 1 << 14
)

// fetchPool is every reader's pool; the readers of concurrent runs share it.
var fetchPool recordPool

var _ kgo.PoolRecords = (*recordPool)(nil)

// GetRecords returns an array of at least n records; nil past the largest
// class, and kgo then makes one.
func (p *recordPool) GetRecords(n int) []kgo.Record {
	if n <= 0 || n > 1<<maxPoolClass {
		return nil
	}
	c := bits.Len(uint(n - 1)) // the smallest c with 1<<c >= n
	p.mu.Lock()
	defer p.mu.Unlock()
	p.got++
	if k := len(p.byClass[c]); k > 0 {
		rs := p.byClass[c][k-1]
		p.byClass[c][k-1] = nil
		p.byClass[c] = p.byClass[c][:k-1]
		p.held -= len(rs)
		return rs
	}
	p.made++
	return make([]kgo.Record, 1<<c)
}

// PutRecords takes back an array GetRecords made, while the pool holds
// fewer than maxHeldRecords records; any other array is dropped.
func (p *recordPool) PutRecords(rs []kgo.Record) {
	n := cap(rs)
	if n == 0 || n > 1<<maxPoolClass || n&(n-1) != 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.held+n > maxHeldRecords {
		return
	}
	c := bits.Len(uint(n - 1))
	p.byClass[c] = append(p.byClass[c], rs[:n])
	p.held += n
}

// counts returns how many arrays the pool has handed out, and made.
func (p *recordPool) counts() (got, made int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.got, p.made
}
