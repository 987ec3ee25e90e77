package faults

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"

	"github.com/eosim/eosim/engine"
)

// ClientRequests are the requests an engine instance's clients send to the
// brokers (its group member's and, for the protocol before KIP-890, its
// transaction's): the requests the wide space answers with every error
// the protocol allows. ApiVersions and SaslHandshake are left out: a
// client that cannot learn a broker's versions never gets as far as a
// transaction.
var clientRequests = []string{"AddOffsetsToTxn", "AddPartitionsToTxn", "EndTxn", "Fetch", "FindCoordinator", "Heartbeat",
	"InitProducerID", "JoinGroup", "LeaveGroup", "ListOffsets", "Metadata", "OffsetCommit", "OffsetFetch",
	"OffsetForLeaderEpoch", "Produce", "SyncGroup", "TxnOffsetCommit"}

// ClientRequests lists, sorted, the requests an engine instance sends.
func ClientRequests() []string { return slices.Clone(clientRequests) }

// family is one family of the wide fault space, its cells in groups by
// what they act on: a uniform draw of a family, then of a group, then of a
// cell gives every kind of fault its turn, however many cells its kind
// has (the protocol answers Fetch with 20 errors, and a join has one).
type family struct {
	name   string
	groups [][]string
}

// wideFamilies lays out the wide fault space: every cell the simulator can
// apply, not only the generators' catalogue. Each broker error the
// protocol allows each request an instance sends, rejected, and applied
// then answered with an error where the request has an effect; holds in
// bands of the holding client's timeouts; each rewrite of each answer it
// changes; the crash points (a database's too, withDB); process, group
// and cluster events.
func wideFamilies(withDB bool) []family {
	if withDB {
		return wideWithDB()
	}
	return wideWithoutDB()
}

// The wide space is fixed: laid out once for each kind of scenario.
var (
	wideWithoutDB = sync.OnceValue(func() []family { return layOutWide(false) })
	wideWithDB    = sync.OnceValue(func() []family { return layOutWide(true) })
)

func layOutWide(withDB bool) []family {
	points := engine.CrashPoints()
	if withDB {
		points = append(points, engine.DBCrashPoints()...)
	}
	at := func(kind Kind, ms int) []string {
		var cells []string
		for _, p := range points {
			cells = append(cells, Fault{Kind: kind, Point: p, PauseMs: ms}.Cell())
		}
		return cells
	}
	var pauses [][]string
	for _, ms := range pauseChoices {
		pauses = append(pauses, at(Pause, ms))
	}
	var rejected, applied, delays, rewritten [][]string
	for _, r := range clientRequests {
		var rej, app []string
		for _, e := range ProtocolErrors(r) {
			if validateBrokerError(r, e, false) == nil {
				rej = append(rej, Fault{Kind: BrokerError, Request: r, Error: e}.Cell())
			}
			if validateBrokerError(r, e, true) == nil {
				app = append(app, Fault{Kind: BrokerError, Request: r, Error: e, Applied: true}.Cell())
			}
		}
		rejected = appendGroup(rejected, rej)
		applied = appendGroup(applied, app)
	}
	for _, r := range clientRequests {
		var cells []string
		for _, b := range Bands() {
			cells = append(cells, Fault{Kind: Delay, Request: r, Band: b}.Cell())
		}
		delays = append(delays, cells)
	}
	for _, rw := range Rewrites() {
		var cells []string
		for _, r := range rewrites[rw] {
			cells = append(cells, Fault{Kind: Rewrite, Request: r, Rewrite: rw}.Cell())
		}
		rewritten = append(rewritten, cells)
	}
	var drops []string
	for _, r := range droppable {
		drops = append(drops, Fault{Kind: Drop, Request: r}.Cell())
	}
	fams := []family{
		{"process", [][]string{at(Crash, 0), at(Expire, 0), {string(Shutdown)}}},
		{"pause", pauses},
		{"membership", [][]string{{string(Join)}, {string(Leave)}}},
		{"broker-error", rejected},
		{"broker-error applied", applied},
		{"drop", [][]string{drops}},
		{"delay", delays},
		{"rewrite", rewritten},
		{"cluster", [][]string{{string(LeaderMove)}, {string(CoordinatorMove)}, {string(BrokerRestart)}}},
	}
	if withDB {
		var slow []string
		for _, ms := range dbSlowChoices {
			slow = append(slow, Fault{Kind: DBSlow, DelayMs: ms}.Cell())
		}
		fams = append(fams, family{"database", [][]string{{string(DBBusy)}, {string(DBLost)}, slow}})
	}
	return fams
}

func appendGroup(groups [][]string, cells []string) [][]string {
	if len(cells) == 0 {
		return groups
	}
	return append(groups, cells)
}

// WideSpace lists, sorted, every cell of the wide fault space (a scenario
// with a database, withDB, adds its own): what SwarmCells draws from, and
// what a map of a sweep under it counts against. Every cell parses
// (ParseCell).
func WideSpace(withDB bool) []string {
	var cells []string
	for _, f := range wideFamilies(withDB) {
		for _, g := range f.groups {
			cells = append(cells, g...)
		}
	}
	slices.Sort(cells)
	return slices.Compact(cells)
}

// Most cells a seed of SwarmCells focuses on.
const maxSwarmCells = 3

// SwarmCells draws the few cells of the wide fault space (WideSpace) that
// one seed focuses on (Focus): one to three, each by a uniform draw of its
// family, then of a group within it, then of a cell. A few cells at
// Focus's high rate, in place of every family at a low one, so that a
// mistake one cell exposes meets that cell often, and cells beside it
// (two faults at one step, a hold and a crash) coincide. A cell whose
// request is sent only as an instance starts or takes partitions over
// brings shutdowns along, so that there are starts to aim at; one whose
// request follows a leader move brings leader moves.
func SwarmCells(seed uint64, withDB bool) []string {
	rng := rand.New(rand.NewPCG(seed, stream("swarm-cells")))
	fams := wideFamilies(withDB)
	n := 1 + rng.IntN(maxSwarmCells)
	var cells []string
	// Bounded tries: a redraw of a cell already picked draws again.
	for try := 0; len(cells) < n && try < 4*maxSwarmCells; try++ {
		fam := fams[rng.IntN(len(fams))]
		group := fam.groups[rng.IntN(len(fam.groups))]
		if c := group[rng.IntN(len(group))]; !slices.Contains(cells, c) {
			cells = append(cells, c)
		}
	}
	for _, c := range slices.Clone(cells) {
		if companion := CompanionOf(c); companion != "" && !slices.Contains(cells, companion) {
			cells = append(cells, companion)
		}
	}
	slices.Sort(cells)
	return cells
}

// CompanionOf names the cell a focus on cell needs beside it for cell's
// faults to find their request at all, or "": shutdowns for a request an
// instance sends only as it starts, joins or takes partitions over
// (InitProducerID, FindCoordinator, the group's join and sync, its offset
// fetch, a lookup of where to start, the leave of a shutdown), leader
// moves for the epoch check that follows one (OffsetForLeaderEpoch).
func CompanionOf(cell string) string {
	f, err := ParseCell(cell)
	if err != nil || f.Request == "" {
		return ""
	}
	switch f.Request {
	case "InitProducerID", "FindCoordinator", "JoinGroup", "SyncGroup", "OffsetFetch", "ListOffsets", "LeaveGroup":
		return string(Shutdown)
	case "OffsetForLeaderEpoch":
		return string(LeaderMove)
	}
	return ""
}

// FamilyOf names the wide space's family cell belongs to, or "" for a cell
// outside it.
func FamilyOf(cell string, withDB bool) string {
	for _, f := range wideFamilies(withDB) {
		for _, g := range f.groups {
			if slices.Contains(g, cell) {
				return f.name
			}
		}
	}
	return ""
}

// SwarmStyle is how swarm draws a seed's faults.
type SwarmStyle string

// The swarm styles.
const (
	// SwarmFamilies turns each fault family on or off per seed and draws
	// its rate: every family the seed keeps, thinly.
	SwarmFamilies SwarmStyle = "families"
	// SwarmOfCells focuses each seed on a few cells of the wide fault
	// space (SwarmCells), at a high rate.
	SwarmOfCells SwarmStyle = "cells"
	// SwarmOfReactions turns each reaction of the catalogue's cells on or
	// off per seed (SwarmReactions) and focuses the seed on the cells of
	// those it keeps, each reaction drawn as often as the next.
	SwarmOfReactions SwarmStyle = "reactions"
)

// PicksFocus says whether the style picks each seed's focus itself.
func (s SwarmStyle) PicksFocus() bool { return s == SwarmOfCells || s == SwarmOfReactions }

// ParseSwarmStyle reads a swarm style by name.
func ParseSwarmStyle(s string) (SwarmStyle, error) {
	switch st := SwarmStyle(s); st {
	case SwarmFamilies, SwarmOfCells, SwarmOfReactions:
		return st, nil
	}
	return "", fmt.Errorf("swarm style %q: want %s, %s or %s", s, SwarmFamilies, SwarmOfCells, SwarmOfReactions)
}
