package engine

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eosim/eosim/internal/topicread"
)

func TestGuaranteesList(t *testing.T) {
	assert.Equal(t, []Guarantee{"exactly_once_v2", "at_least_once", "peek_side_effect",
		"offsets_before_commit", "offsets_after_commit", "read_uncommitted", "keep_dirty_state",
		"changelog_outside_txn", "fresh_txn_id", "no_group_metadata", "restore_to_lso",
		"commit_after_failed_produce", "retry_ambiguous_commit"}, Guarantees())
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
			assert.Contains(t, err.Error(), "want one of exactly_once_v2, at_least_once, peek_side_effect, offsets_before_commit,")
		})
	}
}

func TestGuaranteeModes(t *testing.T) {
	tests := []struct {
		g                   Guarantee
		transactional       bool
		sinksOutsideTxn     bool
		changelogOutsideTxn bool
		ownOffsets          bool
		readUncommitted     bool
		restore             topicread.Tail
	}{
		{g: ExactlyOnceV2, transactional: true},
		{g: AtLeastOnce, readUncommitted: true},
		{g: PeekSideEffect, transactional: true, sinksOutsideTxn: true},
		{g: OffsetsBeforeCommit, transactional: true, ownOffsets: true},
		{g: OffsetsAfterCommit, transactional: true, ownOffsets: true},
		{g: ReadUncommitted, transactional: true, readUncommitted: true, restore: topicread.TailUncommitted},
		{g: KeepDirtyState, transactional: true},
		{g: ChangelogOutsideTransaction, transactional: true, changelogOutsideTxn: true},
		{g: FreshTransactionalID, transactional: true},
		{g: NoGroupMetadata, transactional: true, ownOffsets: true},
		{g: RestoreToStableOffset, transactional: true, restore: topicread.TailToStable},
		{g: CommitAfterFailedProduce, transactional: true},
		{g: RetryAmbiguousCommit, transactional: true},
	}
	require.Len(t, tests, len(Guarantees()), "a guarantee without a row")
	for _, tc := range tests {
		t.Run(string(tc.g), func(t *testing.T) {
			assert.Equal(t, tc.transactional, tc.g.transactional())
			assert.Equal(t, tc.sinksOutsideTxn, tc.g.sinksOutsideTransaction())
			assert.Equal(t, tc.changelogOutsideTxn, tc.g.changelogOutsideTransaction())
			assert.Equal(t, tc.sinksOutsideTxn || tc.changelogOutsideTxn, tc.g.sideProducer())
			assert.Equal(t, tc.ownOffsets, tc.g.ownOffsets())
			assert.Equal(t, tc.readUncommitted, tc.g.readUncommitted())
			assert.Equal(t, tc.restore, tc.g.restore())
		})
	}
}

// TestStageMistakeProperties: repartition_read_uncommitted consumes
// read_uncommitted inside transactions but restores read_committed, so it
// differs from read_uncommitted only where a topology reads what a
// transaction wrote, its repartition topics.
func TestStageMistakeProperties(t *testing.T) {
	g := RepartitionReadUncommitted
	assert.True(t, g.transactional())
	assert.True(t, g.readUncommitted())
	assert.Equal(t, topicread.TailWhenStable, g.restore())
	assert.False(t, g.KeepsExactlyOnce())
	parsed, err := ParseGuarantee("repartition_read_uncommitted")
	require.NoError(t, err)
	assert.Equal(t, g, parsed)
}
