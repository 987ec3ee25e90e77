package eosimtest_test

import (
	"strings"
	"testing"

	"github.com/eosim/eosim/eosimtest"
	"github.com/eosim/eosim/examples/spend"
	"github.com/eosim/eosim/faults"
	"github.com/eosim/eosim/internal/kfakeproc"
)

// TestAgainstARealCluster: eosimtest.Cluster runs an app against a broker
// process over TCP, in real time: the example passes, its broken copy is
// caught, and the failure says it is not replayable as a simulated one is.
func TestAgainstARealCluster(t *testing.T) {
	addrs := kfakeproc.Start(t)
	// Crashes at every step or two: a restarted instance starts with the
	// broken copy's cache empty.
	opts := []eosimtest.Option{eosimtest.Cluster(addrs...), eosimtest.Seeds(1, 3), eosimtest.Inputs(120),
		eosimtest.Rates(faults.Rates{Crash: 0.5})}
	eosimtest.Run(t, spend.App(), opts...)

	f, err := eosimtest.Check(t, spend.BrokenApp(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	if f == nil {
		t.Fatal("the broken app passed three runs with crashes against the cluster")
	}
	if msg := f.Error(); !strings.Contains(msg, "not the same run") || strings.Contains(msg, "shrunk plan") {
		t.Errorf("a live failure must say it is no exact replay, and is not shrunk:\n%s", msg)
	}
}
