package faults

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/eosim/eosim/engine"
)

// Cell names the cell of the fault space f lands in: what the fault is,
// not when or whom. "crash at after-produce", "pause 15000ms at after-poll",
// "broker-error EndTxn PRODUCER_FENCED", "drop after TxnOffsetCommit",
// "delay Produce 500ms", "db-slow 15000ms", or the kind alone ("join",
// "leader-move", "db-busy").
func (f Fault) Cell() string {
	switch f.Kind {
	case Crash, Expire:
		return fmt.Sprintf("%s at %s", f.Kind, f.Point)
	case Pause:
		return fmt.Sprintf("pause %dms at %s", f.PauseMs, f.Point)
	case BrokerError:
		if f.Applied {
			return fmt.Sprintf("broker-error %s %s applied", f.Request, f.Error)
		}
		return fmt.Sprintf("broker-error %s %s", f.Request, f.Error)
	case Drop:
		return "drop after " + f.Request
	case Delay:
		if f.Band != "" {
			return fmt.Sprintf("delay %s %s", f.Request, f.Band)
		}
		return fmt.Sprintf("delay %s %dms", f.Request, f.DelayMs)
	case DBSlow:
		return fmt.Sprintf("db-slow %dms", f.DelayMs)
	case Rewrite:
		return fmt.Sprintf("rewrite %s %s", f.Request, f.Rewrite)
	}
	return string(f.Kind)
}

// ErrCell is wrapped by ParseCell's error.
var ErrCell = errors.New("not a cell of the fault space")

// ParseCell returns the fault that cell names, without step or instance:
// the inverse of Fault.Cell. Its lengths must be ones the catalogue has
// (those a generator can draw), or bands; a broker error may be any the
// protocol allows (ProtocolErrors), rejected or, with "applied" after it,
// answered once the work is done.
func ParseCell(cell string) (Fault, error) {
	bad := func(why string) (Fault, error) {
		return Fault{}, fmt.Errorf("%w: %q: %s", ErrCell, cell, why)
	}
	w := strings.Fields(cell)
	if len(w) == 0 {
		return bad("empty")
	}
	ms := func(s string, choices []int) (int, bool) {
		n, err := strconv.Atoi(strings.TrimSuffix(s, "ms"))
		return n, err == nil && strings.HasSuffix(s, "ms") && slices.Contains(choices, n)
	}
	point := func(s string) (engine.CrashPoint, bool) {
		p, err := engine.ParseCrashPoint(s)
		return p, err == nil
	}
	switch k := Kind(w[0]); {
	case (k == Crash || k == Expire) && len(w) == 3 && w[1] == "at":
		p, ok := point(w[2])
		if !ok {
			return bad("unknown crash point " + w[2])
		}
		return Fault{Kind: k, Point: p}, nil
	case k == Pause && len(w) == 4 && w[2] == "at":
		n, ok := ms(w[1], pauseChoices)
		p, okp := point(w[3])
		if !ok || !okp {
			return bad(fmt.Sprintf("want pause <%s>ms at <crash point>", joinInts(pauseChoices)))
		}
		return Fault{Kind: Pause, PauseMs: n, Point: p}, nil
	case k == BrokerError && (len(w) == 3 || len(w) == 4 && w[3] == "applied"):
		applied := len(w) == 4
		if err := validateBrokerError(w[1], w[2], applied); err != nil {
			return bad(err.Error())
		}
		return Fault{Kind: BrokerError, Request: w[1], Error: w[2], Applied: applied}, nil
	case k == Drop && len(w) == 3 && w[1] == "after":
		if !slices.Contains(droppable, w[2]) {
			return bad("want drop after one of " + strings.Join(droppable, ", "))
		}
		return Fault{Kind: Drop, Request: w[2]}, nil
	case k == Delay && len(w) == 3:
		n, ok := ms(w[2], delayChoices)
		b, errBand := ParseBand(w[2])
		if !slices.Contains(delayable, w[1]) && !(errBand == nil && slices.Contains(clientRequests, w[1])) || !ok && errBand != nil {
			return bad(fmt.Sprintf("want delay <one of %s> <%s>ms or delay <request an instance sends> <%s>",
				strings.Join(delayable, ", "), joinInts(delayChoices), joinBands("|")))
		}
		if errBand == nil {
			return Fault{Kind: Delay, Request: w[1], Band: b}, nil
		}
		return Fault{Kind: Delay, Request: w[1], DelayMs: n}, nil
	case k == Rewrite && len(w) == 3:
		if err := validateRewrite(w[2], w[1]); err != nil {
			return bad(err.Error())
		}
		return Fault{Kind: Rewrite, Request: w[1], Rewrite: w[2]}, nil
	case k == DBSlow && len(w) == 2:
		n, ok := ms(w[1], dbSlowChoices)
		if !ok {
			return bad(fmt.Sprintf("want db-slow <%s>ms", joinInts(dbSlowChoices)))
		}
		return Fault{Kind: DBSlow, DelayMs: n}, nil
	case len(w) == 1 && slices.Contains([]Kind{Shutdown, Join, Leave, LeaderMove, CoordinatorMove, BrokerRestart, DBBusy, DBLost}, k):
		return Fault{Kind: k}, nil
	}
	return bad("see simrun -coverage for the cells there are")
}

func joinBands(sep string) string {
	ss := make([]string, 0, len(Bands()))
	for _, b := range Bands() {
		ss = append(ss, string(b))
	}
	return strings.Join(ss, sep)
}

func joinInts(ns []int) string {
	ss := make([]string, len(ns))
	for i, n := range ns {
		ss[i] = strconv.Itoa(n)
	}
	return strings.Join(ss, "|")
}

// FocusRate is the chance, per instance and per step, that Focus draws a
// fault: far above a rate a sweep spreads over every family.
const FocusRate = 0.3

// Focus draws a schedule for steps [0, steps) from seed whose every fault
// lands in one of cells (ParseCell's forms): per step and instance, with
// chance FocusRate, a cell drawn at random, at that instance (a join: a
// spare; a cluster event: once per step, for no instance). As Generate, it
// gives an instance no new fault while one keeps it busy.
func Focus(seed uint64, cells []string, instances []string, steps int, spares ...string) (Schedule, error) {
	if len(cells) == 0 {
		return Schedule{}, errors.New("focus: no cells")
	}
	templates, err := focusTemplates(cells, spares)
	if err != nil {
		return Schedule{}, err
	}
	pick := func(rng *rand.Rand) Fault { return templates[rng.IntN(len(templates))] }
	return focusFrom(seed, pick, instances, steps, spares), nil
}

// FocusGroups is Focus over groups of cells: each fault's cell is drawn
// group first, then within its group, so that every group is drawn as
// often, however many cells it has.
func FocusGroups(seed uint64, groups [][]string, instances []string, steps int, spares ...string) (Schedule, error) {
	var templates [][]Fault
	for _, g := range groups {
		if len(g) == 0 {
			continue
		}
		ts, err := focusTemplates(g, spares)
		if err != nil {
			return Schedule{}, err
		}
		templates = append(templates, ts)
	}
	if len(templates) == 0 {
		return Schedule{}, errors.New("focus: no cells")
	}
	pick := func(rng *rand.Rand) Fault {
		g := templates[rng.IntN(len(templates))]
		return g[rng.IntN(len(g))]
	}
	return focusFrom(seed, pick, instances, steps, spares), nil
}

// focusTemplates parses cells into the faults they name.
func focusTemplates(cells []string, spares []string) ([]Fault, error) {
	templates := make([]Fault, len(cells))
	for i, c := range cells {
		f, err := ParseCell(c)
		if err != nil {
			return nil, fmt.Errorf("focus: %w", err)
		}
		if f.Kind == Join && len(spares) == 0 {
			return nil, fmt.Errorf("focus: %q: no spare instance to join", c)
		}
		templates[i] = f
	}
	return templates, nil
}

// focusFrom draws a focused schedule whose cells pick draws.
func focusFrom(seed uint64, pick func(*rand.Rand) Fault, instances []string, steps int, spares []string) Schedule {
	rng := rand.New(rand.NewPCG(seed, stream("focus")))
	var candidates []Fault
	type at struct {
		step     int
		instance string
	}
	companions := make(map[at]Fault)
	for step := range steps {
		for i, in := range instances {
			hit, t := rng.Float64() < FocusRate, pick(rng)
			restart, index, spare, partition := 1+rng.IntN(maxRestartAfter), rng.IntN(maxIndex), rng.IntN(max(1, len(spares))), int32(rng.IntN(maxPartitions))
			coincide, t2 := rng.Float64() < CoincideRate, pick(rng)
			if !hit || (t.Kind.IsCluster() && i > 0) {
				continue
			}
			f := place(t, step, in, restart, index, spares, spare, partition)
			candidates = append(candidates, f)
			if coincide && f.Instance == in && !t2.Kind.IsCluster() && t2.Kind != Join {
				companions[at{step, in}] = place(t2, step, in, restart, index, spares, spare, partition)
			}
		}
	}
	s := admit(candidates)
	// A companion goes in beside its fault, after it: armed in that order,
	// the first fires on the instance's next request and the second on the
	// one after (an answer lost, then its retry rejected).
	for i := len(s.Faults) - 1; i >= 0; i-- {
		f := s.Faults[i]
		if c, ok := companions[at{f.Step, f.Instance}]; ok {
			s.Faults = slices.Insert(s.Faults, i+1, c)
		}
	}
	return s
}

// CoincideRate is the chance that a focused fault on an instance brings a
// second, drawn from the same cells, at the same step and instance: two
// faults that coincide, which neither the rates nor a focus of one fault
// per step ever schedule.
const CoincideRate = 0.25

// place turns a cell's template into the fault at step on instance in.
func place(t Fault, step int, in string, restart, index int, spares []string, spare int, partition int32) Fault {
	f := t
	f.Step, f.Instance = step, in
	switch {
	case f.Kind == Crash || f.Kind == Shutdown:
		f.RestartAfter = restart
	case f.Kind == Join:
		f.Instance = spares[spare]
	case f.Kind.IsCluster():
		f.Instance = ""
		if f.Kind == LeaderMove {
			f.Partition = partition
		}
	}
	if f.Kind.HasPoint() && f.Point == engine.AfterProcess {
		f.Index = index
	}
	return f
}
