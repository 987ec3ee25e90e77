package report

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/eosim/eosim/history"
)

// seconds renders a virtual time as fixed-width seconds with milliseconds,
// truncated rather than rounded so that a time never reads as later than
// it was.
func seconds(d time.Duration) string {
	ms := d.Milliseconds()
	sign := ""
	if ms < 0 {
		sign, ms = "-", -ms
	}
	return fmt.Sprintf("%9s", fmt.Sprintf("%s%d.%03ds", sign, ms/1000, ms%1000))
}

// oneLine keeps free text on one line: text with line breaks or other
// control characters is quoted, so every event stays one greppable line.
func oneLine(s string) string {
	if strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) && r != ' ' }) >= 0 {
		return strconv.Quote(s)
	}
	return s
}

// recordGroups renders records as one group per topic, partitions in order
// and runs of consecutive offsets compressed, with the record count:
// "orders×16/0@0-9,2@0-4+7". Records come out of a unit in the order the
// broker acknowledged them; sorting makes the text independent of that.
func recordGroups(rs []history.Record) []string {
	type tp struct {
		topic string
		p     int32
	}
	offsets := map[tp][]int64{}
	counts := map[string]int{}
	for _, r := range rs {
		k := tp{r.Topic, r.Partition}
		offsets[k] = append(offsets[k], r.Offset)
		counts[r.Topic]++
	}
	keys := make([]tp, 0, len(offsets))
	for k := range offsets {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b tp) int {
		return cmp.Or(cmp.Compare(a.topic, b.topic), cmp.Compare(a.p, b.p))
	})
	var groups []string
	var b strings.Builder
	for i, k := range keys {
		if i == 0 || keys[i-1].topic != k.topic {
			b.Reset()
			fmt.Fprintf(&b, "%s×%d/", k.topic, counts[k.topic])
		} else {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%d@%s", k.p, offsetRanges(offsets[k]))
		if i == len(keys)-1 || keys[i+1].topic != k.topic {
			groups = append(groups, b.String())
		}
	}
	return groups
}

// offsetRanges compresses offsets into runs: "0-9+12+14-15".
func offsetRanges(os []int64) string {
	os = slices.Compact(slices.Sorted(slices.Values(os)))
	var parts []string
	for i := 0; i < len(os); {
		j := i
		for j+1 < len(os) && os[j+1] == os[j]+1 {
			j++
		}
		if i == j {
			parts = append(parts, strconv.FormatInt(os[i], 10))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", os[i], os[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, "+")
}

// offsetList renders committed positions grouped by topic:
// "orders/0:10,2:10".
func offsetList(os []history.Offset) string {
	os = slices.Clone(os)
	slices.SortFunc(os, func(a, b history.Offset) int {
		return cmp.Or(cmp.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
	})
	var b strings.Builder
	for i, o := range os {
		switch {
		case i == 0:
			b.WriteString(o.Topic + "/")
		case os[i-1].Topic != o.Topic:
			b.WriteString(" " + o.Topic + "/")
		default:
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%d:%d", o.Partition, o.Offset)
	}
	return b.String()
}

// RecordText is one record as evidence, as every report of a run shows it:
// "orders/1@0 key=p003 value=… [h=v]".
func RecordText(r history.Record) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s key=%s value=%s", recordPos(r), oneLine(r.Key), oneLine(r.Value))
	if len(r.Headers) > 0 {
		b.WriteString(" " + headersText(r.Headers))
	}
	return b.String()
}

func recordPos(r history.Record) string {
	return fmt.Sprintf("%s/%d@%d", r.Topic, r.Partition, r.Offset)
}

func headersText(hs []history.Header) string {
	parts := make([]string, len(hs))
	for i, h := range hs {
		parts[i] = oneLine(h.Key) + "=" + oneLine(h.Value)
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// unitText is a unit's line body, shared by the text history, the unit
// tooltips and the units table so that all three read the same.
func unitText(u *history.Unit) string {
	parts := []string{u.ID, fmt.Sprintf("%-9s", u.Outcome)}
	if u.Transactional {
		parts = append(parts, "txn")
	}
	if u.Reason != "" {
		parts = append(parts, "reason="+strconv.Quote(u.Reason))
	}
	if len(u.Consumed) > 0 {
		parts = append(parts, "in")
		parts = append(parts, recordGroups(u.Consumed)...)
	}
	if len(u.Produced) > 0 {
		parts = append(parts, "→")
		parts = append(parts, recordGroups(u.Produced)...)
	}
	if len(u.SideEffects) > 0 {
		parts = append(parts, "side")
		parts = append(parts, recordGroups(u.SideEffects)...)
	}
	if len(u.Offsets) > 0 {
		parts = append(parts, "offsets", offsetList(u.Offsets))
	}
	return strings.Join(parts, " ")
}

func loadText(l *history.Load) string {
	return fmt.Sprintf("%s/%d %s %s/%d[%d,%d) %s",
		l.Store, l.Partition, l.Source, l.Topic, l.Partition, l.From, l.Upto, Count(len(l.State), "entry", "entries"))
}

// eventBody is everything an event carries, in a fixed order, so that a
// kind added later still prints what it holds.
func eventBody(ev history.Event) string {
	var parts []string
	if ev.Kind == history.KindAssign || ev.Partitions != nil {
		parts = append(parts, fmt.Sprint(ev.Partitions))
	}
	if ev.Input != nil {
		parts = append(parts, RecordText(*ev.Input))
	}
	if ev.Unit != nil {
		parts = append(parts, unitText(ev.Unit))
	}
	if ev.Load != nil {
		parts = append(parts, loadText(ev.Load))
	}
	if ev.Fault != "" {
		parts = append(parts, oneLine(ev.Fault)+":")
	}
	if ev.Detail != "" {
		parts = append(parts, oneLine(ev.Detail))
	}
	return strings.Join(parts, " ")
}

// Count reads "1 entry", "2 entries".
func Count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
