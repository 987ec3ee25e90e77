package engine

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGuaranteesList(t *testing.T) {
	assert.Equal(t, []Guarantee{"exactly_once_v2", "at_least_once", "peek_side_effect"}, Guarantees())
	assert.Equal(t, ExactlyOnceV2, Guarantees()[0], "the correct guarantee comes first")
}

func TestParseGuaranteeAcceptsEveryListedName(t *testing.T) {
	for _, g := range Guarantees() {
		t.Run(string(g), func(t *testing.T) {
			got, err := ParseGuarantee(string(g))
			require.NoError(t, err)
			assert.Equal(t, g, got)
		})
	}
}

func TestParseGuaranteeRejectsUnknown(t *testing.T) {
	for _, s := range []string{"", "exactly_once", "EXACTLY_ONCE_V2", "exactly-once-v2", " at_least_once", "peek"} {
		t.Run(s, func(t *testing.T) {
			got, err := ParseGuarantee(s)
			require.Error(t, err)
			assert.Equal(t, Guarantee(""), got)
			assert.Contains(t, err.Error(), `unknown guarantee "`+s+`"`)
			assert.Contains(t, err.Error(), "want one of exactly_once_v2, at_least_once, peek_side_effect")
		})
	}
}

func TestGuaranteeModes(t *testing.T) {
	tests := []struct {
		g               Guarantee
		transactional   bool
		sinksOutsideTxn bool
	}{
		{ExactlyOnceV2, true, false},
		{AtLeastOnce, false, false},
		{PeekSideEffect, true, true},
	}
	for _, tc := range tests {
		t.Run(string(tc.g), func(t *testing.T) {
			assert.Equal(t, tc.transactional, tc.g.transactional())
			assert.Equal(t, tc.sinksOutsideTxn, tc.g.sinksOutsideTransaction())
		})
	}
}
