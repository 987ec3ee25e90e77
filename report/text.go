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
//	6.014s  a    db         claim committed positions orders/0:10,2:0 epoch 2
//	6.115s  a    db         a.2#0 write committed applied×3 o00011-o00012+o00020 positions orders/0:13 epoch 2
//
// Columns are virtual time, instance ("-" for the run itself) and kind, then
// what the event carries: a unit's id, outcome, reason, consumed offsets per
// partition, produced records per topic (after "→"), side effects and
// committed offsets; runs of consecutive offsets are compressed ("0@0-9").
// A database transaction gives its unit (none for a claim on assignment),
// purpose, outcome, reason, the inputs it applied and skipped (by identity,
// runs of consecutive ids compressed the same way), the input positions it
// read or wrote and its owner epoch.
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
