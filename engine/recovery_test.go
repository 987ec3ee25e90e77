package engine

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kerr"
)

func TestParseRecovery(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Recovery
		err  string
	}{
		{"restart", RecoveryRestart, ""},
		{"continue", RecoveryContinue, ""},
		{"", 0, `unknown recovery "" (want one of restart, continue)`},
		{"Continue", 0, `unknown recovery "Continue"`},
	} {
		got, err := ParseRecovery(tc.in)
		if tc.err != "" {
			require.ErrorContains(t, err, tc.err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got)
		require.Equal(t, tc.in, got.String())
	}
	require.Equal(t, RecoveryRestart, Recovery(0), "the zero value is today's restart")
	_, err := ParseRecovery(Recovery(7).String())
	require.Error(t, err)
}

// Under RecoveryContinue a fenced producer, an authorization failure or an
// ended context still ends the instance; a retriable error or a lost
// answer does not.
func TestFatalForContinue(t *testing.T) {
	for _, tc := range []struct {
		err   error
		fatal bool
	}{
		{kerr.ProducerFenced, true},
		{fmt.Errorf("committing: %w", kerr.InvalidProducerEpoch), true},
		{kerr.FencedInstanceID, true},
		{kerr.TransactionalIDAuthorizationFailed, true},
		{context.DeadlineExceeded, true},
		{context.Canceled, true},
		{kerr.RequestTimedOut, false},
		{kerr.CoordinatorNotAvailable, false},
		{errors.New("io: read/write on closed pipe"), false},
	} {
		require.Equal(t, tc.fatal, fatalForContinue(tc.err), "%v", tc.err)
	}
}
