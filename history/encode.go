package history

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
)

// WriteJSONL writes h as JSON Lines, one event per line, as encoding/json
// encodes each event.
func (h History) WriteJSONL(w io.Writer) error {
	var b []byte
	for i := range h.Events {
		b = appendEvent(b[:0], &h.Events[i])
		if _, err := w.Write(b); err != nil {
			return fmt.Errorf("writing event %d: %w", i, err)
		}
	}
	return nil
}

// ReadJSONL parses a History written by WriteJSONL.
func ReadJSONL(r io.Reader) (History, error) {
	var h History
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var ev Event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			return History{}, fmt.Errorf("history line %d: %w", line, err)
		}
		h.Events = append(h.Events, ev)
	}
	if err := sc.Err(); err != nil {
		return History{}, fmt.Errorf("reading history: %w", err)
	}
	return h, nil
}

// Hash is the trace hash of h: the SHA-256 of its JSON Lines encoding, in hex.
func (h History) Hash() string {
	sum := sha256.New()
	var b []byte
	for i := range h.Events {
		// Events go in a few kilobytes at a time: a hash's Write copies
		// into its block buffer either way, and fewer calls cost less.
		if b = appendEvent(b, &h.Events[i]); len(b) >= 16<<10 {
			sum.Write(b)
			b = b[:0]
		}
	}
	sum.Write(b)
	return hex.EncodeToString(sum.Sum(nil))
}

// FirstDifference returns the index of the first event at which a and b
// differ and both events as JSON (an empty string past the end of one), or
// -1 when they are equal. It is how a determinism failure is explained.
func FirstDifference(a, b History) (int, string, string) {
	for i := 0; i < max(len(a.Events), len(b.Events)); i++ {
		ea, eb := eventJSON(a, i), eventJSON(b, i)
		if ea != eb {
			return i, ea, eb
		}
	}
	return -1, "", ""
}

func eventJSON(h History, i int) string {
	if i >= len(h.Events) {
		return ""
	}
	b, err := json.Marshal(h.Events[i])
	if err != nil {
		panic(err) // plain structs always encode
	}
	return string(b)
}
