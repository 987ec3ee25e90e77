package balances_test

import (
	"strings"
	"testing"

	"github.com/eosim/eosim/engine"
	"github.com/eosim/eosim/eosimtest"
	"github.com/eosim/eosim/examples/balances"
)

// TestBalancesAreExactlyOnce: with the positions kept in the database and
// fenced (the default), every payment is applied once, seed after seed,
// under every fault family, database faults included.
func TestBalancesAreExactlyOnce(t *testing.T) {
	eosimtest.Run(t, balances.App(), eosimtest.Seeds(1, 20), eosimtest.Swarm(), eosimtest.Inputs(200))
}

// TestDatabaseThenKafkaIsCaught: committing the database first and the
// offsets to Kafka after is the classic mistake; the oracle finds the
// payments applied twice.
func TestDatabaseThenKafkaIsCaught(t *testing.T) {
	f, err := eosimtest.Check(t, balances.App(), eosimtest.Seeds(1, 20), eosimtest.Swarm(), eosimtest.Inputs(200),
		eosimtest.Guarantee(engine.DBThenKafka))
	if err != nil {
		t.Fatal(err)
	}
	if f == nil {
		t.Fatal("db_then_kafka passed 20 swarm seeds")
	}
	if msg := f.Error(); !strings.Contains(msg, "oracle-duplicate") || !strings.Contains(msg, "-eosim.seed") {
		t.Errorf("the failure does not name the duplicates and the replay:\n%s", msg)
	}
	t.Logf("caught as expected:\n%s", f.Error())
}
