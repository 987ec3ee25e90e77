package engine

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kerr"
)

func TestReasonIsStableWhateverTheOrderOfJoinedErrors(t *testing.T) {
	p1 := fmt.Errorf("topic orders partition 1: %w", kerr.ProducerFenced)
	p3 := fmt.Errorf("topic orders partition 3: %w", kerr.ProducerFenced)
	a := fmt.Errorf("fenced while committing: %w", errors.Join(p1, p3))
	b := fmt.Errorf("fenced while committing: %w", errors.Join(p3, p1))
	require.NotEqual(t, a.Error(), b.Error())
	require.Equal(t, "fenced while committing: PRODUCER_FENCED", Reason(a))
	wrapped := fmt.Errorf("a: instance failed: %w", fmt.Errorf("fenced while committing: unable to commit: %w", errors.Join(p3, p1)))
	require.Equal(t, "a: instance failed: fenced while committing: unable to commit: PRODUCER_FENCED", Reason(wrapped))
	require.Equal(t, Reason(a), Reason(b))
	require.Equal(t, "producing: no\\nnewline; here", Reason(errors.New("producing: no\\nnewline\nhere")))
}
