package report

import (
	"cmp"
	"fmt"
	"maps"
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

// dbText is a database transaction's line body: the unit it belongs to
// (none for a claim), its purpose and outcome, why, the inputs it applied
// and skipped (by identity, runs compressed), the positions it read or
// wrote and the owner epoch it held:
// "a.1#3 write committed applied×3 o00011-o00012+o00020 positions orders/2:14 epoch 2".
func dbText(d *history.DBTxn) string {
	var parts []string
	if d.Unit != "" {
		parts = append(parts, oneLine(d.Unit))
	}
	parts = append(parts, oneLine(d.Purpose), oneLine(d.Outcome))
	if d.Reason != "" {
		parts = append(parts, "reason="+strconv.Quote(d.Reason))
	}
	if len(d.Applied) > 0 {
		parts = append(parts, fmt.Sprintf("applied×%d", len(d.Applied)), idRanges(d.Applied))
	}
	if len(d.Skipped) > 0 {
		parts = append(parts, fmt.Sprintf("skipped×%d", len(d.Skipped)), idRanges(d.Skipped))
	}
	if len(d.Positions) > 0 {
		parts = append(parts, "positions", offsetList(d.Positions))
	}
	if d.Epoch != 0 {
		parts = append(parts, fmt.Sprintf("epoch %d", d.Epoch))
	}
	return strings.Join(parts, " ")
}

// inputID is an input's identity split for sorting and compressing: a
// prefix and the number its trailing digits spell ("o00017": "o", "00017").
type inputID struct {
	prefix, digits string
	n              uint64
	numbered       bool // the digits are there and fit n
}

func parseInputID(id string) inputID {
	i := len(id)
	for i > 0 && id[i-1] >= '0' && id[i-1] <= '9' {
		i--
	}
	p := inputID{prefix: id[:i], digits: id[i:]}
	if n, err := strconv.ParseUint(p.digits, 10, 64); err == nil {
		p.n, p.numbered = n, true
	}
	return p
}

func (p inputID) String() string { return p.prefix + p.digits }

// follows says whether p is the id right after q: the same prefix, the
// next number, written as wide when zero-padded.
func (p inputID) follows(q inputID) bool {
	if !p.numbered || !q.numbered || p.prefix != q.prefix || p.n != q.n+1 {
		return false
	}
	padded := func(x inputID) bool { return len(x.digits) > 1 && x.digits[0] == '0' }
	return len(p.digits) == len(q.digits) || (!padded(p) && !padded(q))
}

// idRanges compresses input identities as recordGroups compresses offsets:
// sorted (by prefix, then by number), each kept once, runs of consecutive
// numbers written as their ends: "o00011-o00013+o00020+x".
func idRanges(ids []string) string {
	ps := make([]inputID, len(ids))
	for i, id := range ids {
		ps[i] = parseInputID(id)
	}
	slices.SortFunc(ps, func(a, b inputID) int {
		return cmp.Or(cmp.Compare(a.prefix, b.prefix), cmp.Compare(len(a.digits), len(b.digits)), cmp.Compare(a.digits, b.digits))
	})
	ps = slices.Compact(ps)
	var parts []string
	for i := 0; i < len(ps); {
		j := i
		for j+1 < len(ps) && ps[j+1].follows(ps[j]) {
			j++
		}
		if i == j {
			parts = append(parts, oneLine(ps[i].String()))
		} else {
			parts = append(parts, oneLine(ps[i].String())+"-"+oneLine(ps[j].String()))
		}
		i = j + 1
	}
	return strings.Join(parts, "+")
}

// RowText is one database row as evidence, as every report of a run shows
// it: its table, then its columns sorted by name, "ledger: customer=c026
// id=3 order_id=o00001 product=p014 quantity=5 written_by=b.1#0". A value
// that is empty (NULL) or holds a blank, an "=", a quote or a control
// character is quoted, so that the line reads back unambiguously.
func RowText(r history.Row) string {
	var b strings.Builder
	b.WriteString(oneLine(r.Table) + ":")
	for _, col := range slices.Sorted(maps.Keys(r.Values)) {
		b.WriteString(" " + rowValue(col) + "=" + rowValue(r.Values[col]))
	}
	return b.String()
}

func rowValue(v string) string {
	if v == "" || strings.ContainsAny(v, " =\"") || strings.IndexFunc(v, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return strconv.Quote(v)
	}
	return v
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
	if ev.DB != nil {
		parts = append(parts, dbText(ev.DB))
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
