//go:build synctests

package report

import (
	"context"
	"os"
	"testing"
	"testing/synctest"

	"github.com/eosim/eosim/engine"
	"github.com/eosim/eosim/sim"
)

func TestTmpRender(t *testing.T) {
	for _, c := range []struct {
		name   string
		orders int
	}{{"r7", 1000}, {"r10k", 10000}} {
		cfg := sim.DefaultConfig()
		cfg.Seed = 7
		cfg.Rates.Crash = 0.2
		cfg.Guarantee = engine.AtLeastOnce
		cfg.Inputs = c.orders
		var res sim.Result
		var err error
		synctest.Test(t, func(t *testing.T) { res, err = sim.Run(context.Background(), cfg) })
		if err != nil {
			t.Fatal(err)
		}
		f, _ := os.Create("/tmp/" + c.name + ".html")
		err = WriteHTML(f, Run{Title: "seed 7, at_least_once", Params: [][2]string{{"seed", "7"}, {"orders", "x"}},
			Replay: "go run -tags synctests ./cmd/simrun -seed 7", Verdict: string(res.Verdict()), History: res.History, Report: res.Report})
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		g, _ := os.Create("/tmp/" + c.name + ".txt")
		WriteText(g, res.History)
		g.Close()
		t.Logf("%s: %d events, %d units, %d anomalies", c.name, len(res.History.Events), len(res.History.Units()), len(res.Report.Anomalies))
	}
}
