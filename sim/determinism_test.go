//go:build synctests

package sim

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/eosim/eosim/history"
	"github.com/eosim/eosim/invariants"
)

// TestSameSeedSameHistory runs seeds twice each and requires identical
// trace hashes: determinism is measured, not assumed.
func TestSameSeedSameHistory(t *testing.T) {
	defer goleak.VerifyNone(t)
	seeds := 20
	if testing.Short() {
		seeds = 5
	}
	for seed := 1; seed <= seeds; seed++ {
		cfg := DefaultConfig()
		cfg.Seed = uint64(seed)
		first, second := runInBubble(t, cfg), runInBubble(t, cfg)
		if first.Hash != second.Hash {
			dumpHistories(t, first.History, second.History)
			i, a, b := history.FirstDifference(first.History, second.History)
			t.Fatalf("seed %d gave two histories; first difference at event %d:\n%s\n%s", seed, i, a, b)
		}
		require.Equal(t, invariants.Pass, first.Verdict(), "seed %d: %v", seed, first.Report.Anomalies)
	}
}

// dumpHistories writes both histories to $EOSIM_DUMP_DIR, if set, to diff.
func dumpHistories(t *testing.T, hs ...history.History) {
	dir := os.Getenv("EOSIM_DUMP_DIR")
	if dir == "" {
		return
	}
	for i, h := range hs {
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("history-%d.jsonl", i+1)))
		require.NoError(t, err)
		require.NoError(t, h.WriteJSONL(f))
		require.NoError(t, f.Close())
	}
}
