package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/eosim/eosim/history"
)

// WriteText writes h as a readable history, one event per line:
//
//	3.124s  a    assign     [0 2]
//	3.324s  a    unit       a.1#0 crashed   reason="crash at after-process" in orders×10/0@0-9
//	3.324s  a    crash      after-process
//	5.248s  b    load       inventory/1 changelog eosim-orders-inventory-changelog/1[0,30) 5 entries
//
// Columns are virtual time, instance ("-" for the run itself) and kind, then
// what the event carries: a unit's id, outcome, reason, consumed offsets per
// partition, produced records per topic (after "→"), side effects and
// committed offsets; runs of consecutive offsets are compressed ("0@0-9").
// The same History always gives the same bytes, so the text serves for diffs
// and golden files.
func WriteText(w io.Writer, h history.History) error {
	bw := bufio.NewWriter(w)
	for _, ev := range h.Events {
		inst := ev.Instance
		if inst == "" {
			inst = "-"
		}
		line := fmt.Sprintf("%s  %-4s %-10s %s", seconds(ev.T), inst, ev.Kind, eventBody(ev))
		if _, err := bw.WriteString(strings.TrimRight(line, " ") + "\n"); err != nil {
			return err
		}
	}
	return bw.Flush()
}
