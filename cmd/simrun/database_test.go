//go:build synctests

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/eosim/eosim/internal/sqlitedb"
)

// replayArgs returns the flags of the replay command in out.
func replayArgs(t *testing.T, out string) []string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^  go run -tags synctests \./cmd/simrun (.*)$`).FindStringSubmatch(out)
	require.NotNil(t, m, "no replay command in:\n%s", out)
	return strings.Fields(m[1])
}

// TestDatabaseScenarioRunsUnderItsCorrectGuarantee: -scenario orders-db
// alone runs under db_positions_fenced, says so, and its replay command
// names it and gives the same run.
func TestDatabaseScenarioRunsUnderItsCorrectGuarantee(t *testing.T) {
	code, out := simrun(t, "-seed", "2", "-scenario", "orders-db", "-orders", "100")
	require.Equal(t, exitPass, code, out)
	require.Contains(t, out, "  scenario      orders-db: 100 orders, 4 partitions, 2 instances, 1 broker\n")
	require.Contains(t, out, "  guarantee     db_positions_fenced\n")
	require.Contains(t, out, "replay\n  go run -tags synctests ./cmd/simrun -seed 2 -scenario orders-db -orders 100 -guarantee db_positions_fenced\n")
	require.NotContains(t, out, "database      kept", "no -db, nothing kept")

	args := replayArgs(t, out)
	code, again := simrun(t, args...)
	require.Equal(t, exitPass, code, again)
	require.Equal(t, hashLine.FindStringSubmatch(out)[1], hashLine.FindStringSubmatch(again)[1], "the replay command does not replay the run")
}

// TestDatabaseRate: -database-rate schedules database faults, shows in the
// parameters and in the replay command, which replays the run.
func TestDatabaseRate(t *testing.T) {
	code, out := simrun(t, "-seed", "3", "-scenario", "orders-db", "-orders", "100", "-database-rate", "0.4")
	require.Equal(t, exitPass, code, out)
	require.Contains(t, out, "  faults        crash 0.1, shutdown 0.02, database 0.4\n")
	require.Regexp(t, `(?m)^    step \d+: (.*next database|crash \S+ at (before|after)-db-commit)`, out, "no database fault in the schedule")
	require.Contains(t, out, "-scenario orders-db -orders 100 -guarantee db_positions_fenced -database-rate 0.4\n")

	code, again := simrun(t, replayArgs(t, out)...)
	require.Equal(t, exitPass, code, again)
	require.Equal(t, hashLine.FindStringSubmatch(out)[1], hashLine.FindStringSubmatch(again)[1])
}

// TestDatabaseFileIsKept: -db leaves the run's database where asked, says
// so, and a second run replaces it; keeping it does not change the run.
func TestDatabaseFileIsKept(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run.db")
	args := []string{"-seed", "4", "-scenario", "orders-db", "-orders", "60"}
	code, out := simrun(t, append(args, "-db", path)...)
	require.Equal(t, exitPass, code, out)
	require.Regexp(t, `(?m)^  database      kept in `+regexp.QuoteMeta(path)+` \(eosim_positions 4 rows, inventory \d+ rows, ledger 60 rows\)$`, out)
	require.NotContains(t, replayArgs(t, out), "-db", "the replay command does not need -db")
	require.NoError(t, sqlitedb.Check(context.Background(), path))
	first, err := os.ReadFile(path)
	require.NoError(t, err)

	_, without := simrun(t, args...)
	require.Equal(t, hashLine.FindStringSubmatch(out)[1], hashLine.FindStringSubmatch(without)[1], "keeping the database changed the run")

	// A previous run's database is replaced.
	code, out = simrun(t, append(args, "-db", path)...)
	require.Equal(t, exitPass, code, out)
	require.Contains(t, out, "kept in "+path)
	again, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, len(first), len(again))
}

// TestBadDatabaseFileIsOneLineAndExitTwo: a file at -db that is not a sound
// SQLite database is refused before the run, in one line with exit 2, and
// left as it was.
func TestBadDatabaseFileIsOneLineAndExitTwo(t *testing.T) {
	dir := t.TempDir()
	// A sound database to damage.
	sound := filepath.Join(dir, "sound.db")
	code, out := simrun(t, "-seed", "1", "-scenario", "orders-db", "-orders", "200", "-db", sound)
	require.Equal(t, exitPass, code, out)
	good, err := os.ReadFile(sound)
	require.NoError(t, err)
	require.Greater(t, len(good), 3*4096)

	garbled := bytes.Clone(good)
	copy(garbled[4096:], bytes.Repeat([]byte{0xa5}, 4096)) // page 2 of the default 4 KiB pages
	files := map[string][]byte{
		"notes.txt":    []byte("not a database, and not eosim's to overwrite\n"),
		"empty.db":     nil,
		"truncated.db": good[:len(good)/2],
		"garbled.db":   garbled,
	}
	for name, content := range files {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			require.NoError(t, os.WriteFile(path, content, 0o644))
			if name == "empty.db" {
				// An empty file is what SQLite makes of a new database:
				// sound, and replaced.
				code, out := simrun(t, "-seed", "1", "-scenario", "orders-db", "-orders", "20", "-db", path)
				require.Equal(t, exitPass, code, out)
				return
			}
			code, out, errOut := simrunWith(t, context.Background(), inBubble(t), "-seed", "1", "-scenario", "orders-db", "-orders", "20", "-db", path)
			require.Equal(t, exitUsage, code, out+errOut)
			require.Empty(t, out, "a refused database file must not look like a run")
			require.Equal(t, 1, strings.Count(errOut, "\n"), "error is not one line: %q", errOut)
			require.True(t, strings.HasPrefix(errOut, "simrun: seed 1: database file: "+path+" is there and is not a sound SQLite database, so it is not overwritten: "), errOut)
			after, err := os.ReadFile(path)
			require.NoError(t, err)
			require.Equal(t, content, after, "the refused file was changed")
		})
	}

	// A directory where the file should be.
	code, out, errOut := simrunWith(t, context.Background(), inBubble(t), "-seed", "1", "-scenario", "orders-db", "-orders", "20", "-db", dir)
	require.Equal(t, exitUsage, code, out+errOut)
	require.Equal(t, 1, strings.Count(errOut, "\n"), errOut)
	require.Contains(t, errOut, "not overwritten")
}

// TestDatabaseHistoryText: -history-text renders the database transactions:
// the claims with their positions and epochs, the writes with the inputs
// they applied.
func TestDatabaseHistoryText(t *testing.T) {
	h := string(textHistory(t, "-seed", "1", "-scenario", "orders-db", "-orders", "40"))
	require.Regexp(t, `(?m)^ +\d+\.\d{3}s  a    db         claim committed positions orders/\d+:\d+ epoch 1$`, h)
	require.Regexp(t, `(?m)^ +\d+\.\d{3}s  [ab]    db         [ab]\.1#\d+ write committed applied×\d+ o\d{5}\S* positions orders/\d+:\d+ epoch \d+$`, h)
}

// TestDatabaseAnomaliesShowRows: a database mistake mode's anomalies carry
// the rows the checkers read.
func TestDatabaseAnomaliesShowRows(t *testing.T) {
	code, out := simrun(t, "-seed", "1", "-swarm", "-scenario", "orders-db", "-guarantee", "db_then_kafka")
	require.Equal(t, exitAnomaly, code, out)
	require.Regexp(t, `(?m)^  db-duplicate-effect: input "o\d+" has 2 rows in ledger`, out)
	require.Regexp(t, `(?m)^      ledger: customer=c\d+ id=\d+ order_id=o\d+ product=p\d+ quantity=\d+ written_by=\S+$`, out)
	require.Regexp(t, `(?m)^      inventory: product=p\d+ stock=\d+ version=\d+$`, out)
	require.Contains(t, out, "-seed 1 -scenario orders-db -guarantee db_then_kafka -swarm\n")
}

// TestDatabaseSweep: a sweep of orders-db reads as one of orders does, and
// names the scenario in its totals.
func TestDatabaseSweep(t *testing.T) {
	code, out := simrun(t, "-seeds", "1-3", "-scenario", "orders-db", "-orders", "60")
	require.Equal(t, exitPass, code, out)
	require.Regexp(t, `(?m)^seed 1: pass, \d+ crashes, \d+ units committed, hash [0-9a-f]{12}, `, out)
	require.Contains(t, out, "3 seeds (1-3), orders-db, db_positions_fenced: 3 pass, 0 anomalies, 0 unknown, 0 stuck, 0 errors\n")

	code, out = simrun(t, "-seeds", "1-3", "-scenario", "orders-db", "-orders", "60", "-guarantee", "kafka_then_db", "-database-rate", "0.3", "-json")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 4, out)
	for _, l := range lines[:3] {
		var s seedLine
		require.NoError(t, json.Unmarshal([]byte(l), &s), l)
		require.NotEmpty(t, s.Hash)
		if s.Verdict != "pass" {
			require.Contains(t, s.Replay, "-scenario orders-db -orders 60 -guarantee kafka_then_db -database-rate 0.3")
		}
	}
	var last struct{ Summary sweepSummary }
	require.NoError(t, json.Unmarshal([]byte(lines[3]), &last))
	require.Equal(t, "orders-db", last.Summary.Scenario)
	require.Equal(t, "kafka_then_db", last.Summary.Guarantee)
	require.Equal(t, 3, last.Summary.Seeds)
	require.Equal(t, code, last.Summary.ExitCode)
	require.Positive(t, last.Summary.Faults.Fired)
}

// TestOrdersSweepNamesNoScenario: the default scenario's totals read as
// they always did.
func TestOrdersSweepNamesNoScenario(t *testing.T) {
	_, out := simrun(t, "-seeds", "1-2", "-orders", "40", "-json")
	require.NotContains(t, out, `"scenario"`)
	require.Contains(t, out, `{"summary":{"seeds":2,"first":1,"last":2,"guarantee":"exactly_once_v2",`)
}

// TestPlanOfADatabaseScenario: a plan naming orders-db and no guarantee
// runs under the scenario's first; one naming its guarantee runs under it.
func TestPlanOfADatabaseScenario(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain.json")
	require.NoError(t, os.WriteFile(plain, []byte(`{"scenario": "orders-db", "orders": 40, "faults": []}`), 0o644))
	code, out := simrun(t, "-schedule", plain)
	require.Equal(t, exitPass, code, out)
	require.Contains(t, out, "  guarantee     db_positions_fenced\n")

	named := filepath.Join(dir, "named.json")
	require.NoError(t, os.WriteFile(named, []byte(`{"scenario": "orders-db", "orders": 40, "guarantee": "db_idempotent", "faults": []}`), 0o644))
	code, out = simrun(t, "-schedule", named)
	require.Equal(t, exitPass, code, out)
	require.Contains(t, out, "  guarantee     db_idempotent\n")
	require.Contains(t, out, "-guarantee db_idempotent -schedule "+named)
}
