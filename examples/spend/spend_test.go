package spend_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/eosim/eosim/eosimtest"
	"github.com/eosim/eosim/examples/spend"
)

// TestSpendIsExactlyOnce: under exactly_once_v2 and every fault family,
// seed after seed, what read_committed shows is what one serial run of the
// topology writes.
func TestSpendIsExactlyOnce(t *testing.T) {
	eosimtest.Run(t, spend.App(), eosimtest.Seeds(1, 30), eosimtest.Swarm())
}

// TestBrokenSpendIsCaught: the cache outside the store is caught, and the
// failure says how to replay it.
func TestBrokenSpendIsCaught(t *testing.T) {
	f, err := eosimtest.Check(t, spend.BrokenApp(), eosimtest.Seeds(1, 30), eosimtest.Swarm())
	if err != nil {
		t.Fatal(err)
	}
	if f == nil {
		t.Fatal("the broken app passed 30 swarm seeds")
	}
	if !slices.Contains(f.Result.Report.Kinds(), "spend-broken/totals-grow") {
		t.Errorf("the app's own invariant did not fire: %v", f.Result.Report.Kinds())
	}
	msg := f.Error()
	for _, want := range []string{"eosim: seed", "oracle-", "shrunk plan", "replay: go test -tags synctests -run '^TestBrokenSpendIsCaught$' -args -eosim.seed"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the failure does not say %q:\n%s", want, msg)
		}
	}
	t.Logf("caught as expected:\n%s", msg)
}
