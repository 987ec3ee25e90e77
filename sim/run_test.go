//go:build synctests

//go:debug randseednop=0

package sim

import (
	"context"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/eosim/eosim/engine"
	"github.com/eosim/eosim/invariants"
)

func runInBubble(t *testing.T, cfg Config) Result {
	t.Helper()
	var res Result
	synctest.Test(t, func(t *testing.T) {
		var err error
		res, err = Run(context.Background(), cfg)
		require.NoError(t, err)
	})
	return res
}

func TestDefaultRunPasses(t *testing.T) {
	defer goleak.VerifyNone(t)
	res := runInBubble(t, DefaultConfig())
	t.Logf("stats %+v hash %s faults %d", res.Stats, res.Hash, len(res.Schedule.Faults))
	for _, a := range res.Report.Anomalies[:min(5, len(res.Report.Anomalies))] {
		t.Logf("%s: %s", a.Kind, a.Summary)
	}
	require.True(t, res.Complete)
	require.Equal(t, invariants.Pass, res.Verdict())
	require.Positive(t, res.Stats.Crashes)
}

func TestAtLeastOnceIsCaught(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Guarantee = engine.AtLeastOnce
	res := runInBubble(t, cfg)
	t.Logf("stats %+v kinds %v", res.Stats, res.Report.Kinds())
	require.Equal(t, invariants.Fail, res.Verdict())
}
