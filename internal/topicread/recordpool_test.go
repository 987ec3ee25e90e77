package topicread

import (
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/twmb/franz-go/pkg/kgo"
)

func TestRecordPoolSizes(t *testing.T) {
	var p recordPool
	for _, tc := range []struct{ n, cap int }{
		{1, 1}, {2, 2}, {3, 4}, {9, 16}, {16, 16}, {17, 32}, {1 << maxPoolClass, 1 << maxPoolClass},
	} {
		rs := p.GetRecords(tc.n)
		assert.Len(t, rs, tc.cap, "n=%d", tc.n)
		assert.Equal(t, tc.cap, cap(rs), "n=%d", tc.n)
	}
	assert.Nil(t, p.GetRecords(0), "an empty batch: kgo makes its own")
	assert.Nil(t, p.GetRecords(1<<maxPoolClass+1), "past the largest class: kgo makes its own")
	got, made := p.counts()
	assert.Equal(t, 7, got)
	assert.Equal(t, 7, made)
}

func TestRecordPoolGivesBackWhatItTook(t *testing.T) {
	var p recordPool
	a := p.GetRecords(5)
	p.PutRecords(a[:3])  // kgo puts back what it sliced
	b := p.GetRecords(7) // the same class, 8
	assert.Same(t, unsafe.SliceData(a), unsafe.SliceData(b))
	assert.Len(t, b, 8, "the whole array comes back")
	c := p.GetRecords(7)
	assert.NotSame(t, unsafe.SliceData(a), unsafe.SliceData(c), "an array is handed out once")
	got, made := p.counts()
	assert.Equal(t, 3, got)
	assert.Equal(t, 2, made)
}

func TestRecordPoolDropsWhatItDidNotMake(t *testing.T) {
	var p recordPool
	p.PutRecords(make([]kgo.Record, 6))               // not a class
	p.PutRecords(nil)                                 // empty
	p.PutRecords(make([]kgo.Record, 2<<maxPoolClass)) // past the largest class
	assert.Equal(t, 0, p.held)
	p.GetRecords(6)
	_, made := p.counts()
	assert.Equal(t, 1, made, "nothing to hand out: a new array")
}

func TestRecordPoolIsBounded(t *testing.T) {
	var p recordPool
	const n = 1 << maxPoolClass
	var out [][]kgo.Record
	for range maxHeldRecords/n + 2 {
		out = append(out, p.GetRecords(n))
	}
	for _, rs := range out {
		p.PutRecords(rs)
	}
	assert.Equal(t, maxHeldRecords, p.held, "the pool keeps what fits under its bound and drops the rest")
}
