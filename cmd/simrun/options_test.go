package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/eosim/eosim/engine"
	"github.com/eosim/eosim/faults"
	"github.com/eosim/eosim/sim"
)

func TestBadInputIsOneLineAndExitTwo(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
		return p
	}
	garbage := write("garbage.json", "{not json")
	typo := write("typo.json", `{"faults": [{"step": 1, "kind": "crash", "instance": "a", "piont": "after-poll"}]}`)
	stranger := write("stranger.json", `{"faults": [{"step": 1, "kind": "shutdown", "instance": "z"}]}`)
	badBand := write("band.json", `{"faults": [{"step": 1, "kind": "delay", "instance": "a", "request": "EndTxn", "band": "past-forever"}]}`)
	plan := write("plan.json", `{"orders": 20, "faults": []}`)
	// Moves on the default single broker can never have an effect.
	coordinator := write("coordinator.json", `{"faults": [{"step": 2, "kind": "coordinator-move", "restart_after": 0}]}`)
	leader := write("leader.json", `{"brokers": 1, "faults": [{"step": 2, "kind": "leader-move", "partition": 1, "restart_after": 0}]}`)
	// A database fault or a database path for a scenario without a database.
	dbFault := write("dbfault.json", `{"faults": [{"step": 1, "kind": "db-busy", "instance": "a"}]}`)
	notADir := write("file.txt", "a file, not a directory")
	db := filepath.Join(dir, "run.db")

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"-guarantee", "exactly_once_v3"}, `unknown guarantee "exactly_once_v3"`},
		{[]string{"-scenario", "payments"}, `unknown scenario "payments"`},
		{[]string{"-seeds", "seven"}, `-seeds "seven": want a range A-B`},
		{[]string{"-seeds", "5-2"}, "the range is empty"},
		{[]string{"-seeds", "1-x"}, "non-negative integers"},
		{[]string{"-seed", "1", "-seeds", "1-3"}, "-seed and -seeds cannot be used together"},
		{[]string{"-cluster-rate", "0.1"}, "cluster rate 0.1 needs at least 2 brokers, got 1"},
		{[]string{"-seeds", "1-5", "-cluster-rate", "0.1", "-brokers", "1"}, "cluster rate 0.1 needs at least 2 brokers, got 1"},
		{[]string{"-scoreboard", "-cluster-rate", "0.1"}, "cluster rate 0.1 needs at least 2 brokers, got 1"},
		{[]string{"-schedule", coordinator}, "fault 0 (coordinator-move) needs at least 2 brokers, got 1"},
		{[]string{"-schedule", leader}, "fault 0 (leader-move) needs at least 2 brokers, got 1"},
		{[]string{"-markdown"}, "-markdown prints the scoreboard's table: use it with -scoreboard"},
		{[]string{"-scoreboard", "-markdown", "-json"}, "-markdown and -json cannot be used together"},
		{[]string{"-seed", "-1"}, "invalid value"},
		{[]string{"-crash-rate", "1.5"}, "crash rate 1.5 is not in [0, 1]"},
		{[]string{"-pause-rate", "-0.1"}, "pause rate -0.1 is not in [0, 1]"},
		{[]string{"-broker-rate", "x"}, "invalid value"},
		{[]string{"-orders", "0"}, "inputs: need at least 1"},
		{[]string{"-instances", "0", "-partitions", "0"}, "partitions: need 1 to 1000, got 0; instances"},
		{[]string{"-schedule", filepath.Join(dir, "missing.json")}, "reading schedule"},
		{[]string{"-schedule", garbage}, "invalid schedule"},
		{[]string{"-schedule", typo}, `unknown field "piont"`},
		{[]string{"-schedule", stranger}, `instance "z" is not one of a, b`},
		{[]string{"-schedule", badBand}, `band "past-forever" is not one of within-request, past-request, past-session, past-txn`},
		{[]string{"-focus", "delay EndTxn past-forever"}, "or delay <request an instance sends> <within-request|past-request|past-session|past-txn>"},
		{[]string{"-focus", "rewrite EndTxn partial"}, `a partial rewrite changes the answer to Fetch, not to "EndTxn"`},
		{[]string{"-seeds", "1-2", "-schedule", garbage}, "-schedule replays one run"},
		{[]string{"-seeds", "1-2", "-history", "h.jsonl"}, "use them with -seed"},
		{[]string{"extra"}, `unexpected argument "extra"`},
		{[]string{"-shard", "1/2"}, "-shard slices a sweep: use it with -seeds"},
		{[]string{"-seeds", "1-9", "-shard", "0/4"}, `-shard "0/4": want i/n`},
		{[]string{"-seeds", "1-9", "-shard", "5/4"}, `-shard "5/4": want i/n`},
		{[]string{"-seeds", "1-9", "-shard", "two"}, `-shard "two": want i/n`},
		{[]string{"-seeds", "1-9", "-shrink"}, "-shrink work on one run"},
		{[]string{"-seeds", "1-9", "-wire", "w.txt"}, "-wire and -shrink work on one run"},
		{[]string{"-shrink", "-wire", "w.txt"}, "-client-log and -wire write one run's logs"},
		{[]string{"-o", "x.json"}, "-o writes the plan -shrink finds or the -scoreboard table"},
		{[]string{"-shrink", "-shrink-runs", "0"}, "-shrink-runs 0: need at least 1"},
		{[]string{"-orders", "10", "-schedule", plan}, "-orders 10 conflicts with the plan (20)"},
		{[]string{"-scoreboard", "-seed", "3"}, "-seed does not go with -scoreboard"},
		{[]string{"-scoreboard", "-guarantee", "at_least_once"}, "-guarantee does not go with -scoreboard"},
		{[]string{"-scoreboard", "-modes", "keep_dirty_state,nope"}, `-modes: unknown guarantee "nope"`},
		{[]string{"-scoreboard", "-shrink-runs", "-1"}, "-shrink-runs -1: need 0"},
		{[]string{"-scoreboard", "-seeds", "9-1"}, "the range is empty"},
		{[]string{"-modes", "keep_dirty_state"}, "-modes picks the scoreboard's rows: use it with -scoreboard"},
		{[]string{"-scoreboard", "-workers", "-3"}, "-workers -3: need 0"},
		{[]string{"-seed", "3", "-workers", "2"}, "-workers runs sweeps and the scoreboard in parallel"},
		{[]string{"-wall-limit", "-1s"}, "-wall-limit -1s: need 0 (no limit) or more"},
		{[]string{"-seeds", "1-3", "-wall-limit", "soon"}, `invalid value "soon" for flag -wall-limit`},
		{[]string{"-wall-limit", "10"}, `invalid value "10" for flag -wall-limit`},
		{[]string{"-scenario", "orders-db", "-guarantee", "exactly_once_v2"}, "scenario orders-db does not run under guarantee exactly_once_v2 (want one of db_positions_fenced, "},
		{[]string{"-guarantee", "db_then_kafka"}, "scenario orders does not run under guarantee db_then_kafka (want one of exactly_once_v2, "},
		{[]string{"-seeds", "1-3", "-scenario", "orders-db", "-guarantee", "at_least_once"}, "scenario orders-db does not run under guarantee at_least_once"},
		{[]string{"-database-rate", "0.1"}, "database rate 0.1, but scenario orders has no database"},
		{[]string{"-seeds", "1-3", "-database-rate", "0.1"}, "database rate 0.1, but scenario orders has no database"},
		{[]string{"-scenario", "orders-db", "-database-rate", "1.5"}, "database rate 1.5 is not in [0, 1]"},
		{[]string{"-scenario", "orders-db", "-database-rate", "x"}, `invalid value "x" for flag -database-rate`},
		{[]string{"-schedule", dbFault}, "fault 0 (db-busy) acts on a database, but scenario orders has none"},
		{[]string{"-db", db}, "a database file is given, but scenario orders has no database"},
		{[]string{"-scenario", "orders-db", "-db", filepath.Join(dir, "missing", "run.db")}, "directory " + filepath.Join(dir, "missing") + " does not exist"},
		{[]string{"-scenario", "orders-db", "-db", filepath.Join(notADir, "run.db")}, notADir + " is not a directory"},
		{[]string{"-scenario", "orders-db", "-seeds", "1-3", "-db", db}, "-db keeps one run's database: use it with -seed, not -seeds"},
		{[]string{"-scenario", "orders-db", "-check-determinism", "-db", db}, "-check-determinism runs the seed several times"},
		{[]string{"-scenario", "orders-db", "-guarantee", "db_then_kafka", "-shrink", "-db", db}, "-shrink makes many: replay the plan -shrink finds with -schedule and -db"},
		{[]string{"-scoreboard", "-scenario", "orders-db", "-db", db}, "-db does not go with -scoreboard"},
		{[]string{"-scoreboard", "-scenario", "orders-db", "-modes", "at_least_once"}, "-modes: scenario orders-db does not run under guarantee at_least_once"},
		{[]string{"-scoreboard", "-modes", "db_then_kafka"}, "-modes: scenario orders does not run under guarantee db_then_kafka"},
		{[]string{"-check-determinism", "-repeat", "1"}, "-repeat 1: need at least 2"},
		{[]string{"-seeds", "1-3", "-check-determinism", "-repeat", "-2"}, "-repeat -2: need at least 2"},
		{[]string{"-seeds", "1-3", "-repeat", "3"}, "-repeat counts the runs of -check-determinism"},
		{[]string{"-scoreboard", "-repeat", "3"}, "-repeat counts the runs of -check-determinism"},
		{[]string{"-checkers", "nope"}, `checkers "nope": want scenario, oracle or all`},
		{[]string{"-recovery", "pray"}, `-recovery: unknown recovery "pray" (want one of restart, continue)`},
		{[]string{"-seeds", "1-3", "-swarm", "-recovery", ""}, `-recovery: unknown recovery ""`},
		{[]string{"-inputs", "10", "-orders", "10"}, "-inputs and -orders are one flag: give one"},
		{[]string{"-inputs", "0"}, "inputs: need at least 1"},
		{[]string{"-scoreboard", "-coverage"}, "-coverage does not go with -scoreboard"},
		{[]string{"-focus", "crash at nowhere"}, `focus: not a cell of the fault space: "crash at nowhere": unknown crash point nowhere`},
		{[]string{"-focus", "broker-error EndTxn NOPE"}, `error "NOPE" is not one a broker answers EndTxn with, per Kafka's protocol`},
		{[]string{"-focus", "broker-error EndTxn PRODUCER_FENCED applied"}, "PRODUCER_FENCED says the broker refused the request"},
		{[]string{"-focus", "leader-move"}, `focus: "leader-move" needs at least 2 brokers, got 1`},
		{[]string{"-focus", "db-busy"}, `focus: "db-busy" acts on a database, but scenario orders has none`},
		{[]string{"-focus", " , "}, "-focus: want cells"},
		{[]string{"-focus", "join", "-crash-rate", "0.2"}, "-focus draws every fault from its cells at a rate of its own: drop -crash-rate"},
		{[]string{"-scenario", "orders-db", "-focus", "crash at during-commit"}, "a unit under db_positions_fenced never reaches during-commit"},
		{[]string{"-explore"}, "-explore steers a sweep: use it with -seeds"},
		{[]string{"-seeds", "1-9", "-explore", "-focus", "join"}, "-explore picks each round's focus itself"},
		{[]string{"-seeds", "1-9", "-explore", "-crash-rate", "0.1"}, "-explore picks each round's faults itself: drop -crash-rate"},
		{[]string{"-swarm=bogus"}, `invalid value "bogus" for -swarm: want true, false, families, cells or reactions`},
		{[]string{"-swarm=cells", "-focus", "join"}, "swarm style cells picks each seed's focus itself: drop the focus"},
		{[]string{"-swarm=reactions", "-focus", "join"}, "swarm style reactions picks each seed's focus itself: drop the focus"},
		{[]string{"-seeds", "1-9", "-explore", "-swarm=reactions"}, "-explore picks each round's focus itself: drop -swarm=reactions (-swarm=cells explores the wide space)"},
		{[]string{"-seeds", "1-9", "-explore", "-check-determinism"}, "-explore and -check-determinism cannot be used together"},
		{[]string{"-keep"}, "-keep goes with -bootstrap"},
		{[]string{"-connect-timeout", "1s"}, "-connect-timeout goes with -bootstrap"},
		{[]string{"-bootstrap", ","}, "-bootstrap: want host:port"},
		{[]string{"-bootstrap", "localhost:9092", "-connect-timeout", "0s"}, "-connect-timeout 0s: need more than 0"},
		{[]string{"-bootstrap", "localhost:9092", "-seeds", "1-3"}, "-seeds does not go with -bootstrap"},
		{[]string{"-bootstrap", "localhost:9092", "-check-determinism"}, "-check-determinism does not go with -bootstrap"},
		{[]string{"-bootstrap", "localhost:9092", "-shrink"}, "-shrink does not go with -bootstrap"},
		{[]string{"-bootstrap", "localhost:9092", "-wire", "-"}, "-wire does not go with -bootstrap"},
		{[]string{"-bootstrap", "localhost:9092", "-brokers", "3"}, "-brokers does not go with -bootstrap"},
		{[]string{"-scoreboard", "-bootstrap", "localhost:9092"}, "-bootstrap does not go with -scoreboard"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			_, code, ok := setup(tc.args, &stdout, &stderr)
			require.False(t, ok)
			require.Equal(t, exitUsage, code)
			require.Empty(t, stdout.String())
			msg := stderr.String()
			require.Equal(t, 1, strings.Count(msg, "\n"), "error is not one line: %q", msg)
			require.True(t, strings.HasPrefix(msg, "simrun: "), msg)
			require.Contains(t, msg, tc.want)
		})
	}
}

func TestHelpShowsExamples(t *testing.T) {
	var stdout, stderr bytes.Buffer
	_, code, ok := setup([]string{"-h"}, &stdout, &stderr)
	require.False(t, ok)
	require.Equal(t, exitPass, code)
	require.Contains(t, stdout.String(), "Examples:")
	require.Contains(t, stdout.String(), "-check-determinism")
	for _, flag := range []string{"-wall-limit duration", "-repeat int", "4 stuck", "130 interrupted",
		"-db file", "-database-rate float", "-scenario orders-db -db run.db", "the workload: eostest, join, orders, orders-db, wordcount",
		"orders: exactly_once_v2, at_least_once,", "; orders-db: db_positions_fenced, db_idempotent,"} {
		require.Contains(t, stdout.String(), flag)
	}
	require.Empty(t, stderr.String())
}

// Without the synctests tag the command must refuse to run, in one line,
// rather than start a simulator that could hang.
func TestGoodInputNeedsTheTag(t *testing.T) {
	var stdout, stderr bytes.Buffer
	_, code, ok := setup([]string{"-seed", "3"}, &stdout, &stderr)
	if sim.Available() == nil {
		require.True(t, ok)
		return
	}
	require.False(t, ok)
	require.Equal(t, exitUsage, code)
	require.Equal(t, "simrun: "+sim.ErrNeedsSynctests.Error()+"\n", stderr.String())
}

func TestReplayCommandNamesWhatDiffers(t *testing.T) {
	for _, tc := range []struct {
		args []string
		seed uint64
		want string
	}{
		{[]string{"-seed", "1", "-crash-rate", "0.1"}, 1, "go run -tags synctests ./cmd/simrun -seed 1 -crash-rate 0.1"},
		{[]string{"-seeds", "1-9", "-guarantee", "at_least_once", "-orders", "200"}, 4,
			"go run -tags synctests ./cmd/simrun -seed 4 -orders 200 -guarantee at_least_once"},
		{nil, 2, "go run -tags synctests ./cmd/simrun -seed 2"},
		{[]string{"-seeds", "1-500", "-swarm"}, 7, "go run -tags synctests ./cmd/simrun -seed 7 -swarm"},
		{[]string{"-seeds", "1-500", "-swarm=families"}, 7, "go run -tags synctests ./cmd/simrun -seed 7 -swarm"},
		{[]string{"-seeds", "1-500", "-swarm=cells", "-txn-v1"}, 7, "go run -tags synctests ./cmd/simrun -seed 7 -swarm=cells -txn-v1=true"},
		{[]string{"-seeds", "1-500", "-swarm=reactions", "-recovery", "continue"}, 7, "go run -tags synctests ./cmd/simrun -seed 7 -recovery continue -swarm=reactions"},
		{[]string{"-pause-rate", "0.1", "-txn-v1"}, 3, "go run -tags synctests ./cmd/simrun -seed 3 -pause-rate 0.1 -txn-v1"},
		{[]string{"-recovery", "continue"}, 3, "go run -tags synctests ./cmd/simrun -seed 3 -recovery continue"},
		{[]string{"-recovery", "restart"}, 3, "go run -tags synctests ./cmd/simrun -seed 3 -recovery restart"},
		// Under -swarm the seed draws the style, unless it was given.
		{[]string{"-seeds", "1-9", "-swarm", "-recovery", "continue"}, 4, "go run -tags synctests ./cmd/simrun -seed 4 -recovery continue -swarm"},
		// So does the protocol: -txn-v1, either way, keeps it.
		{[]string{"-seeds", "1-9", "-swarm", "-txn-v1=false"}, 4, "go run -tags synctests ./cmd/simrun -seed 4 -swarm -txn-v1=false"},
		{[]string{"-seeds", "1-9", "-swarm", "-txn-v1"}, 4, "go run -tags synctests ./cmd/simrun -seed 4 -swarm -txn-v1=true"},
		{[]string{"-txn-v1=false"}, 4, "go run -tags synctests ./cmd/simrun -seed 4"},
		// A scenario's default guarantee is named, so the command replays
		// the run whatever the scenario's default becomes.
		{[]string{"-scenario", "orders-db"}, 1, "go run -tags synctests ./cmd/simrun -seed 1 -scenario orders-db -guarantee db_positions_fenced"},
		{[]string{"-seeds", "1-9", "-scenario", "orders-db", "-guarantee", "db_then_kafka", "-database-rate", "0.05"}, 4,
			"go run -tags synctests ./cmd/simrun -seed 4 -scenario orders-db -guarantee db_then_kafka -database-rate 0.05"},
		{[]string{"-scenario", "orders-db", "-database-rate", "0"}, 2,
			"go run -tags synctests ./cmd/simrun -seed 2 -scenario orders-db -guarantee db_positions_fenced -database-rate 0"},
		{[]string{"-scenario", "orders-db", "-swarm", "-database-rate", "0.3"}, 5,
			"go run -tags synctests ./cmd/simrun -seed 5 -scenario orders-db -guarantee db_positions_fenced -swarm"},
		// -db only says where the database is kept: the run is the same.
		{[]string{"-scenario", "orders-db", "-db", "run.db"}, 6, "go run -tags synctests ./cmd/simrun -seed 6 -scenario orders-db -guarantee db_positions_fenced"},
	} {
		o, err := parseOptions(tc.args, &bytes.Buffer{})
		require.NoError(t, err)
		require.Equal(t, tc.want, o.replayCommand(tc.seed))
	}
}

// -recovery sets the run's recovery style and keeps it under -swarm, which
// otherwise draws one per seed.
func TestRecoveryFlag(t *testing.T) {
	for _, tc := range []struct {
		args  []string
		want  engine.Recovery
		fixed bool
	}{
		{nil, engine.RecoveryRestart, false},
		{[]string{"-seeds", "1-9", "-swarm"}, engine.RecoveryRestart, false},
		{[]string{"-recovery", "continue"}, engine.RecoveryContinue, true},
		{[]string{"-seeds", "1-9", "-swarm", "-recovery", "restart"}, engine.RecoveryRestart, true},
		{[]string{"-scoreboard", "-recovery", "continue"}, engine.RecoveryContinue, true},
	} {
		o, err := parseOptions(tc.args, io.Discard)
		require.NoError(t, err, "%v", tc.args)
		require.Equal(t, tc.want, o.cfg.Recovery, "%v", tc.args)
		require.Equal(t, tc.fixed, o.cfg.FixedRecovery, "%v", tc.args)
	}
}

// A plain schedule does not name the protocol: the replay of one run under
// -txn-v1 keeps the flag.
func TestReplayOfAScheduleKeepsTheProtocol(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"faults": [{"step": 2, "kind": "shutdown", "instance": "a", "restart_after": 1}]}`), 0o644))
	o, err := parseOptions([]string{"-seed", "4", "-txn-v1", "-schedule", path}, io.Discard)
	require.NoError(t, err)
	require.Equal(t, "go run -tags synctests ./cmd/simrun -seed 4 -schedule "+path+" -txn-v1", o.replayCommand(4))
}

func TestShardsCoverTheRangeOnce(t *testing.T) {
	seen := make(map[uint64]int)
	for i := 1; i <= 4; i++ {
		o, err := parseOptions([]string{"-seeds", "1-1000", "-shard", fmt.Sprintf("%d/4", i)}, &bytes.Buffer{})
		require.NoError(t, err)
		n := 0
		for seed := uint64(1); seed <= 1000; seed++ {
			if o.inShard(seed) {
				seen[seed]++
				n++
			}
		}
		require.Equal(t, 250, n, "shard %d/4", i)
	}
	require.Len(t, seen, 1000)
	for seed, n := range seen {
		require.Equal(t, 1, n, "seed %d ran in %d shards", seed, n)
	}
}

// The scoreboard runs the full catalogue (swarm) unless the command line
// picks the faults itself.
func TestScoreboardSwarmUnlessFaultsGiven(t *testing.T) {
	for _, tc := range []struct {
		args  []string
		swarm bool
	}{
		{[]string{"-scoreboard"}, true},
		{[]string{"-scoreboard", "-crash-rate", "0.1"}, false},
		{[]string{"-scoreboard", "-swarm=false"}, false},
		{[]string{"-scoreboard", "-swarm=cells"}, true},
		{[]string{"-scoreboard", "-swarm=reactions"}, true},
	} {
		o, err := parseOptions(tc.args, io.Discard)
		require.NoError(t, err, "%v", tc.args)
		require.Equal(t, tc.swarm, o.cfg.Swarm, "%v", tc.args)
		require.Equal(t, uint64(1), o.firstSeed)
		require.Equal(t, uint64(200), o.lastSeed)
	}
}

// TestScenarioList: -scenario list prints each scenario with its
// guarantees, the correct one first, and exits 0.
func TestScenarioList(t *testing.T) {
	var stdout, stderr bytes.Buffer
	_, code, ok := setup([]string{"-scenario", "list"}, &stdout, &stderr)
	require.False(t, ok)
	require.Equal(t, exitPass, code)
	require.Empty(t, stderr.String())
	require.Contains(t, stdout.String(), "orders\texactly_once_v2, at_least_once, ")
	require.Contains(t, stdout.String(), "orders-db\tdb_positions_fenced, db_idempotent, ")
}

// -explore with -swarm=cells explores the wide space: its runs are swarm
// runs with a focus, as over the catalogue.
func TestExploreTheWideSpace(t *testing.T) {
	o, err := parseOptions([]string{"-seeds", "1-9", "-explore", "-swarm=cells"}, io.Discard)
	require.NoError(t, err)
	require.True(t, o.exploreWide)
	require.True(t, o.cfg.Swarm)
	require.Equal(t, faults.SwarmFamilies, o.cfg.SwarmStyle)
	require.Equal(t, len(faults.WideSpace(false)), o.coverageOf(nil).Cells)
	o, err = parseOptions([]string{"-seeds", "1-9", "-explore"}, io.Discard)
	require.NoError(t, err)
	require.False(t, o.exploreWide)
}
