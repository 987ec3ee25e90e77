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

// WriteJSONL writes h as JSON Lines, one event per line.
func (h History) WriteJSONL(w io.Writer) error {
	enc := json.NewEncoder(w)
	for i := range h.Events {
		if err := enc.Encode(&h.Events[i]); err != nil {
			return fmt.Errorf("encoding event %d: %w", i, err)
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
	if err := h.WriteJSONL(sum); err != nil {
		// Encoding plain structs into a hash cannot fail.
		panic(err)
	}
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
