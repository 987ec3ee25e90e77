//go:build synctests

package sim

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/eosim/eosim/engine"
	"github.com/eosim/eosim/faults"
	"github.com/eosim/eosim/history"
	"github.com/eosim/eosim/invariants"
)

// runRecovery runs fs under guarantee g and recovery style r.
func runRecovery(t *testing.T, g engine.Guarantee, r engine.Recovery, fs ...faults.Fault) Result {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Inputs, cfg.Guarantee, cfg.Recovery = 400, g, r
	cfg.Schedule = &faults.Schedule{Faults: fs}
	return runInBubble(t, cfg)
}

// continuedNotes returns instance's notes that it aborted and continued.
func continuedNotes(h history.History, instance string) []string {
	var ds []string
	for _, ev := range events(h, history.KindNote, instance) {
		if strings.Contains(ev.Detail, engine.ContinuedNote) {
			ds = append(ds, ev.Detail)
		}
	}
	return ds
}

// restartNotes returns the simulator's notes that instance restarted after
// a failure.
func restartNotes(h history.History, instance string) []string {
	var ds []string
	for _, ev := range events(h, history.KindNote, "") {
		if strings.HasPrefix(ev.Detail, instance+" restarts after a failure") {
			ds = append(ds, ev.Detail)
		}
	}
	return ds
}

// TestContinueAfterAFailedCommit: under RecoveryContinue a commit that
// fails without fencing (a TxnOffsetCommit applied then answered
// REQUEST_TIMED_OUT, or an answer lost on a dropped connection: for
// EndTxn, the transaction committed and the client does not know it) is
// aborted and the instance carries on with the same client: one start, no
// restart, a note that says so, a unit of unknown outcome, and every
// checker passes. Under RecoveryRestart the same fault restarts the
// instance.
func TestContinueAfterAFailedCommit(t *testing.T) {
	defer goleak.VerifyNone(t)
	for name, f := range map[string]faults.Fault{
		"TxnOffsetCommit REQUEST_TIMED_OUT": {Step: 3, Kind: faults.BrokerError, Instance: "a", Request: "TxnOffsetCommit", Error: "REQUEST_TIMED_OUT"},
		"TxnOffsetCommit answer lost":       {Step: 3, Kind: faults.Drop, Instance: "a", Request: "TxnOffsetCommit"},
		"EndTxn answer lost":                {Step: 3, Kind: faults.Drop, Instance: "a", Request: "EndTxn"},
	} {
		t.Run(name, func(t *testing.T) {
			res := runRecovery(t, engine.ExactlyOnceV2, engine.RecoveryContinue, f)
			requireFired(t, res, "a")
			requirePass(t, res)
			require.Len(t, events(res.History, history.KindStart, "a"), 1, "a restarted")
			require.Empty(t, restartNotes(res.History, "a"))
			notes := continuedNotes(res.History, "a")
			require.Len(t, notes, 1, "a did not abort and continue")
			require.Contains(t, notes[0], "rewound to the group's committed offsets")
			var unknown []*history.Unit
			for _, u := range res.History.Units() {
				if u.Outcome == history.Unknown {
					unknown = append(unknown, u)
				}
			}
			require.Len(t, unknown, 1)
			require.True(t, strings.HasPrefix(unknown[0].ID, "a.1#"), unknown[0].ID)
			require.Contains(t, unknown[0].Reason, engine.ContinuedNote)

			res = runRecovery(t, engine.ExactlyOnceV2, engine.RecoveryRestart, f)
			requireFired(t, res, "a")
			requirePass(t, res)
			require.Len(t, events(res.History, history.KindStart, "a"), 2, "a did not restart")
			require.Len(t, restartNotes(res.History, "a"), 1)
			require.Empty(t, continuedNotes(res.History, "a"))
		})
	}
}

// TestContinueThenAbortRewindsFromTheBroker: once a has continued after an
// EndTxn whose answer was lost (the transaction committed), kgo's session
// still believes the offsets before it are the committed ones. A later
// unit that aborts (its TxnOffsetCommit answered ILLEGAL_GENERATION) must
// rewind to what the broker has, or it replays the committed unit's input.
func TestContinueThenAbortRewindsFromTheBroker(t *testing.T) {
	res := runRecovery(t, engine.ExactlyOnceV2, engine.RecoveryContinue,
		faults.Fault{Step: 3, Kind: faults.Drop, Instance: "a", Request: "EndTxn"},
		faults.Fault{Step: 5, Kind: faults.BrokerError, Instance: "a", Request: "TxnOffsetCommit", Error: "ILLEGAL_GENERATION"},
	)
	requirePass(t, res)
	require.Len(t, events(res.History, history.KindStart, "a"), 1, "a restarted")
	require.Len(t, continuedNotes(res.History, "a"), 1)
	var aborted int
	for _, u := range res.History.Units() {
		if strings.HasPrefix(u.ID, "a.1#") && u.Outcome == history.Aborted {
			aborted++
		}
	}
	require.Positive(t, aborted, "no unit of a aborted after it continued")
	require.Len(t, res.Faults, 2)
	for _, o := range res.Faults {
		require.Equal(t, Fired, o.Outcome, "%v", o)
	}
}

// TestContinueStillCatchesAtLeastOnce: the recovery style does not hide a
// broken mode. at_least_once, which has no transaction to abort, restarts
// whatever the style, and its duplicates are caught.
func TestContinueStillCatchesAtLeastOnce(t *testing.T) {
	for name, f := range map[string]faults.Fault{
		"crash after produce":             {Step: 3, Kind: faults.Crash, Instance: "a", Point: engine.AfterProduce, RestartAfter: 2},
		"OffsetCommit ILLEGAL_GENERATION": {Step: 3, Kind: faults.BrokerError, Instance: "a", Request: "OffsetCommit", Error: "ILLEGAL_GENERATION"},
	} {
		t.Run(name, func(t *testing.T) {
			res := runRecovery(t, engine.AtLeastOnce, engine.RecoveryContinue, f)
			requireFired(t, res, "a")
			require.Equal(t, invariants.Fail, res.Verdict())
			require.Contains(t, res.Report.Kinds(), invariants.DuplicateOutput)
			require.Empty(t, continuedNotes(res.History, "a"))
		})
	}
}
