package main

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/eosim/eosim/coverage"
)

func TestFocusOf(t *testing.T) {
	cells := []coverage.Cell{"crash at after-poll", "delay OffsetFetch 500ms", "drop after EndTxn", "join", "leave"}
	next := 0
	require.Equal(t, []string{"crash at after-poll", "delay OffsetFetch 500ms", "drop after EndTxn", "shutdown"},
		focusOf(cells, nil, &next), "a cell that needs a restart comes with shutdowns")
	require.Equal(t, 3, next)
	reached := coverage.Map{"join": {Fired: 1}, "crash at after-poll": {NoEffect: 2}}
	// Left: crash at after-poll, delay OffsetFetch 500ms, drop after EndTxn,
	// leave; from 3 mod 4, wrapping round.
	require.Equal(t, []string{"crash at after-poll", "delay OffsetFetch 500ms", "leave", "shutdown"}, focusOf(cells, reached, &next))
	all := coverage.Map{}
	for _, c := range cells {
		all[c] = &coverage.Count{Fired: 1}
	}
	require.Nil(t, focusOf(cells, all, &next), "everything reached: swarm")
	n := 0
	require.Equal(t, []string{"broker-error OffsetForLeaderEpoch KAFKA_STORAGE_ERROR", "leader-move"},
		focusOf([]coverage.Cell{"broker-error OffsetForLeaderEpoch KAFKA_STORAGE_ERROR"}, nil, &n), "an epoch check comes with leader moves")
}
