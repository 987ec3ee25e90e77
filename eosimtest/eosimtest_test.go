package eosimtest

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRunPattern(t *testing.T) {
	require.Equal(t, "^TestSpend$", runPattern("TestSpend"))
	require.Equal(t, "^TestSpend$/^seeds_1\\.\\.9$", runPattern("TestSpend/seeds_1..9"))
}

func TestReplayNamesTheTestAndSeed(t *testing.T) {
	require.Equal(t, "go test -tags synctests -run '^TestReplayNamesTheTestAndSeed$' -args -eosim.seed 17", replay(t, 17))
}
