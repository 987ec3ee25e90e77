package history

import (
	"strconv"
	"unicode/utf8"
)

// appendEvent appends ev as JSON and a newline, byte for byte what
// encoding/json's Encoder writes for it (HTML escaping on, fields in
// declaration order, omitempty as tagged): every trace hash is the SHA-256
// of these bytes. Written out by hand because the trace hash of every run
// went through encoding/json's reflection, about a twentieth of a sweep's
// CPU. TestAppendEventIsEncodingJSON holds the two together over every field
// of every type, so a field added to a type and not here fails it.
func appendEvent(b []byte, ev *Event) []byte {
	b = append(b, `{"seq":`...)
	b = strconv.AppendInt(b, int64(ev.Seq), 10)
	b = append(b, `,"t":`...)
	b = strconv.AppendInt(b, int64(ev.T), 10)
	b = append(b, `,"kind":`...)
	b = appendString(b, string(ev.Kind))
	if ev.Instance != "" {
		b = append(b, `,"instance":`...)
		b = appendString(b, ev.Instance)
	}
	b = appendList(b, "partitions", ev.Partitions, func(b []byte, p *int32) []byte { return strconv.AppendInt(b, int64(*p), 10) })
	if ev.Input != nil {
		b = append(b, `,"input":`...)
		b = appendRecord(b, ev.Input)
	}
	if ev.Unit != nil {
		b = append(b, `,"unit":`...)
		b = appendUnit(b, ev.Unit)
	}
	if ev.Load != nil {
		b = append(b, `,"load":`...)
		b = appendLoad(b, ev.Load)
	}
	if ev.DB != nil {
		b = append(b, `,"db":`...)
		b = appendDBTxn(b, ev.DB)
	}
	if ev.Fault != "" {
		b = append(b, `,"fault":`...)
		b = appendString(b, ev.Fault)
	}
	if ev.Detail != "" {
		b = append(b, `,"detail":`...)
		b = appendString(b, ev.Detail)
	}
	return append(b, '}', '\n')
}

func appendRecord(b []byte, r *Record) []byte {
	b = appendLoc(b, r.Topic, r.Partition, r.Offset)
	if r.Key != "" {
		b = append(b, `,"key":`...)
		b = appendString(b, r.Key)
	}
	if r.Value != "" {
		b = append(b, `,"value":`...)
		b = appendString(b, r.Value)
	}
	b = appendList(b, "headers", r.Headers, func(b []byte, h *Header) []byte { return appendKV(b, h.Key, h.Value) })
	return append(b, '}')
}

// appendKV appends a Header or a KV: both are {"k":…,"v":…}.
func appendKV(b []byte, k, v string) []byte {
	b = append(b, `{"k":`...)
	b = appendString(b, k)
	b = append(b, `,"v":`...)
	b = appendString(b, v)
	return append(b, '}')
}

// appendList appends `,"name":[…]` with each of xs by appendOne, or
// nothing when xs is empty (every list field but a Load's state is
// omitempty).
func appendList[T any](b []byte, name string, xs []T, appendOne func([]byte, *T) []byte) []byte {
	if len(xs) == 0 {
		return b
	}
	b = append(b, `,"`...)
	b = append(b, name...)
	b = append(b, `":[`...)
	for i := range xs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendOne(b, &xs[i])
	}
	return append(b, ']')
}

func appendOffset(b []byte, o *Offset) []byte {
	return append(appendLoc(b, o.Topic, o.Partition, o.Offset), '}')
}

// appendLoc opens a Record or an Offset: `{"topic":…,"p":…,"o":…`.
func appendLoc(b []byte, topic string, partition int32, offset int64) []byte {
	b = append(b, `{"topic":`...)
	b = appendString(b, topic)
	b = append(b, `,"p":`...)
	b = strconv.AppendInt(b, int64(partition), 10)
	b = append(b, `,"o":`...)
	return strconv.AppendInt(b, offset, 10)
}

func appendStringAt(b []byte, s *string) []byte { return appendString(b, *s) }

func appendUnit(b []byte, u *Unit) []byte {
	b = append(b, `{"id":`...)
	b = appendString(b, u.ID)
	b = append(b, `,"txn":`...)
	b = strconv.AppendBool(b, u.Transactional)
	b = append(b, `,"outcome":`...)
	b = appendString(b, string(u.Outcome))
	if u.Reason != "" {
		b = append(b, `,"reason":`...)
		b = appendString(b, u.Reason)
	}
	b = appendList(b, "consumed", u.Consumed, appendRecord)
	b = appendList(b, "produced", u.Produced, appendRecord)
	b = appendList(b, "side_effects", u.SideEffects, appendRecord)
	b = appendList(b, "offsets", u.Offsets, appendOffset)
	return append(b, '}')
}

func appendLoad(b []byte, l *Load) []byte {
	b = append(b, `{"store":`...)
	b = appendString(b, l.Store)
	b = append(b, `,"changelog":`...)
	b = appendString(b, l.Topic)
	b = append(b, `,"p":`...)
	b = strconv.AppendInt(b, int64(l.Partition), 10)
	b = append(b, `,"source":`...)
	b = appendString(b, l.Source)
	b = append(b, `,"from":`...)
	b = strconv.AppendInt(b, l.From, 10)
	b = append(b, `,"upto":`...)
	b = strconv.AppendInt(b, l.Upto, 10)
	b = append(b, `,"state":`...)
	if l.State == nil {
		b = append(b, "null"...) // no omitempty: a nil slice is null
	} else {
		b = append(b, '[')
		for i, kv := range l.State {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendKV(b, kv.Key, kv.Value)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

func appendDBTxn(b []byte, t *DBTxn) []byte {
	b = append(b, '{')
	if t.Unit != "" {
		b = append(b, `"unit":`...)
		b = appendString(b, t.Unit)
		b = append(b, ',')
	}
	b = append(b, `"purpose":`...)
	b = appendString(b, t.Purpose)
	b = append(b, `,"outcome":`...)
	b = appendString(b, t.Outcome)
	if t.Reason != "" {
		b = append(b, `,"reason":`...)
		b = appendString(b, t.Reason)
	}
	b = appendList(b, "applied", t.Applied, appendStringAt)
	b = appendList(b, "skipped", t.Skipped, appendStringAt)
	b = appendList(b, "positions", t.Positions, appendOffset)
	if t.Epoch != 0 {
		b = append(b, `,"epoch":`...)
		b = strconv.AppendInt(b, t.Epoch, 10)
	}
	return append(b, '}')
}

const hexDigits = "0123456789abcdef"

// htmlSafe is encoding/json's htmlSafeSet: the ASCII bytes a string keeps
// as they are.
var htmlSafe = func() (t [utf8.RuneSelf]bool) {
	for c := byte(0x20); c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendString is encoding/json's appendString with escapeHTML set, as its
// Encoder calls it: control characters, '"', '\\', '<', '>' and '&'
// escaped, invalid UTF-8 replaced by \ufffd, U+2028 and U+2029 escaped.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if htmlSafe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
