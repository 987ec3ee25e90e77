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
