package history

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// TestAppendEventIsEncodingJSON: the hand-written encoder writes, for any
// event, the bytes encoding/json's Encoder writes, so that trace hashes do
// not depend on which of the two made them. The events are filled by
// reflection, every field of every type at any depth, each sometimes left
// zero (omitempty), slices sometimes nil and sometimes empty, strings from
// anything (HTML characters, control characters, invalid UTF-8, U+2028):
// a field added to a type and not to appendEvent fails it.
func TestAppendEventIsEncodingJSON(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var ev Event
		fill(t, reflect.ValueOf(&ev).Elem(), "ev")
		var want bytes.Buffer
		require.NoError(t, json.NewEncoder(&want).Encode(&ev))
		require.Equal(t, want.String(), string(appendEvent(nil, &ev)))
	})
}

// TestHashIsTheHashOfEncodingJSON: Hash, which writes its events to the
// hash in chunks, gives the SHA-256 of the JSON Lines encoding/json writes.
func TestHashIsTheHashOfEncodingJSON(t *testing.T) {
	h := sample()
	for i := range 2000 { // past a chunk
		h.Events = append(h.Events, Event{Seq: i + 2, T: time.Duration(i) * time.Millisecond, Kind: KindNote, Detail: strings.Repeat("<x>", i%7)})
	}
	var lines bytes.Buffer
	enc := json.NewEncoder(&lines)
	for i := range h.Events {
		require.NoError(t, enc.Encode(&h.Events[i]))
	}
	var mine bytes.Buffer
	require.NoError(t, h.WriteJSONL(&mine))
	require.Equal(t, lines.String(), mine.String())
	require.Equal(t, hashOf(lines.Bytes()), h.Hash())
}

// fill sets v, and everything under it, to drawn values.
func fill(t *rapid.T, v reflect.Value, name string) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(drawString(t, name))
	case reflect.Bool:
		v.SetBool(rapid.Bool().Draw(t, name))
	case reflect.Int, reflect.Int32, reflect.Int64:
		n := rapid.OneOf(rapid.Just(int64(0)), rapid.Int64Range(-1<<40, 1<<40)).Draw(t, name)
		if v.OverflowInt(n) {
			n = int64(int32(n))
		}
		v.SetInt(n)
	case reflect.Pointer:
		if rapid.Bool().Draw(t, name+" nil") {
			return
		}
		p := reflect.New(v.Type().Elem())
		fill(t, p.Elem(), name+"*")
		v.Set(p)
	case reflect.Slice:
		switch rapid.IntRange(0, 3).Draw(t, name+" len") {
		case 0: // nil
		case 1:
			v.Set(reflect.MakeSlice(v.Type(), 0, 0))
		default:
			n := rapid.IntRange(1, 3).Draw(t, name+" n")
			s := reflect.MakeSlice(v.Type(), n, n)
			for i := range n {
				fill(t, s.Index(i), name+"[]")
			}
			v.Set(s)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			fill(t, v.Field(i), name+"."+v.Type().Field(i).Name)
		}
	default:
		t.Fatalf("fill: %s is a %s, which appendEvent's test cannot fill", name, v.Kind())
	}
}

// drawString draws a string that is often empty, often plain, and often
// full of what JSON escapes.
func drawString(t *rapid.T, name string) string {
	return rapid.OneOf(
		rapid.Just(""),
		rapid.StringMatching(`[a-z0-9.#-]{1,8}`),
		rapid.String(),
		rapid.Custom(func(t *rapid.T) string { return string(rapid.SliceOf(rapid.Byte()).Draw(t, "bytes")) }),
		rapid.SampledFrom([]string{"<script>&amp;</script>", "\u2028\u2029", "\x00\x1f\x7f", "\"\\\b\f\n\r\t", "\xff\xfe", "é\xc3", `{"order_id":"o1"}`}),
	).Draw(t, name)
}

func hashOf(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// BenchmarkHash measures the trace hash of a History of a thousand inputs
// and as many units (a default run has about a thousand inputs and sixty
// units of twenty records), and, for comparison, the same hash written by
// encoding/json.
func BenchmarkHash(b *testing.B) {
	var h History
	for i := range 1000 {
		in := Record{Topic: "orders", Partition: int32(i % 4), Offset: int64(i / 4), Key: "p1",
			Value: `{"order_id":"o1","product_id":"p1","customer_id":"c1","quantity":2}`}
		h.Events = append(h.Events, Event{Seq: len(h.Events), Kind: KindInput, Input: &in})
		h.Events = append(h.Events, Event{Seq: len(h.Events), T: time.Second, Kind: KindUnit, Instance: "a", Unit: &Unit{
			ID: "a.1#0", Transactional: true, Outcome: Committed, Consumed: []Record{in},
			Produced: []Record{{Topic: "notifications", Partition: 1, Offset: 0, Key: "c1", Value: "order o1 confirmed",
				Headers: []Header{{Key: "order-id", Value: "o1"}}}},
			Offsets: []Offset{{Topic: "orders", Partition: 1, Offset: 8}},
		}})
	}
	b.Run("appendEvent", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			h.Hash()
		}
	})
	// What Hash cost when encoding/json wrote the events.
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sum := sha256.New()
			enc := json.NewEncoder(sum)
			for i := range h.Events {
				_ = enc.Encode(&h.Events[i])
			}
			hex.EncodeToString(sum.Sum(nil))
		}
	})
}
