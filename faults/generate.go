package faults

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"

	"github.com/eosim/eosim/engine"
)

// Rates are the chances, per instance and per step of the fault phase, that
// a fault of each family is scheduled.
type Rates struct {
	Crash    float64
	Shutdown float64
	// Expire is a crash whose instance stays down until its session expired.
	Expire float64
	// Pause freezes an instance mid-unit (a zombie, a transaction timeout).
	Pause float64
	// Membership is joins and leaves of instances.
	Membership float64
	// Broker is broker errors on transactional and group requests.
	Broker float64
	// Network is dropped connections.
	Network float64
	// Cluster is leader and coordinator moves and broker restarts, per step (not per
	// instance).
	Cluster float64
	// Database is faults at an instance's database calls (busy, answer
	// lost, slow) and crashes just before and after a database commit;
	// only a scenario with a database has them.
	Database float64
}

// rateFields names each rate for messages and for -swarm, in family order.
func (r *Rates) fields() []struct {
	name string
	v    *float64
} {
	return []struct {
		name string
		v    *float64
	}{
		{"crash", &r.Crash}, {"shutdown", &r.Shutdown}, {"expire", &r.Expire}, {"pause", &r.Pause},
		{"membership", &r.Membership}, {"broker", &r.Broker}, {"network", &r.Network}, {"cluster", &r.Cluster},
		{"database", &r.Database},
	}
}

// Validate reports a rate outside [0, 1].
func (r Rates) Validate() error {
	for _, f := range r.fields() {
		if v := *f.v; v < 0 || v > 1 || v != v {
			return fmt.Errorf("%s rate %v is not in [0, 1]", f.name, v)
		}
	}
	return nil
}

// String lists the rates that are on.
func (r Rates) String() string {
	s := ""
	for _, f := range r.fields() {
		if *f.v > 0 {
			if s != "" {
				s += ", "
			}
			s += fmt.Sprintf("%s %.3g", f.name, *f.v)
		}
	}
	if s == "" {
		return "no faults"
	}
	return s
}

// Swarm draws which families are on and their rates from seed, as
// TigerBeetle's VOPR does: each run tests a different mix, so a bug that
// needs one family alone, or two together, is not drowned by the others.
func Swarm(seed uint64) Rates {
	rng := rand.New(rand.NewPCG(seed, stream("swarm")))
	var r Rates
	for _, f := range r.fields() {
		// Draw both numbers every time, so each family's draw stays put.
		on, v := rng.Float64(), rng.Float64()
		if on < 0.5 {
			*f.v = 0.02 + 0.18*v
		}
	}
	return r
}

// maxRestartAfter bounds the drawn downtime of an instance, in steps.
const maxRestartAfter = 5

// maxIndex bounds the drawn record index of an after-process crash.
const maxIndex = 20

// maxPartitions bounds the partition a drawn leader move names; a move of a
// partition a run does not have changes nothing.
const maxPartitions = 4

// maxPauseMs bounds a pause; pauses are drawn from pauseChoices, below and
// beyond the session timeout (10s) and the transaction timeout (20s).
const maxPauseMs = 120_000

var pauseChoices = []int{3_000, 15_000, 30_000}

// stream is the PCG stream constant of one family's draws, so that turning
// a family on never reshuffles another's.
func stream(family string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(family))
	return h.Sum64()
}

// Generate draws a schedule for steps [0, steps) from seed. Each family
// draws from its own stream; an instance gets no new fault while the
// schedule has it busy with one, so every fault can fire. spares are
// instance names that only a join starts.
func Generate(seed uint64, r Rates, instances []string, steps int, spares ...string) (Schedule, error) {
	return GenerateAt(seed, r, engine.CrashPoints(), instances, steps, spares...)
}

// GenerateAt is Generate with the crash points a crash, expire or pause
// is drawn at: a scenario with a database adds the points around its
// database commit (engine.DBCrashPoints) to the engine's own.
func GenerateAt(seed uint64, r Rates, points []engine.CrashPoint, instances []string, steps int, spares ...string) (Schedule, error) {
	if err := r.Validate(); err != nil {
		return Schedule{}, fmt.Errorf("generating schedule: %w", err)
	}
	if len(points) == 0 {
		return Schedule{}, fmt.Errorf("generating schedule: no crash points")
	}
	// Crash and shutdown keep the stream they always had.
	candidates := processFaults(rand.New(rand.NewPCG(seed, 0x6661756c7473)), r, points, instances, steps)
	for _, fam := range []struct {
		name string
		rate float64
		draw func(*rand.Rand, int, string) Fault
	}{
		{"expire", r.Expire, drawExpire(points)},
		{"pause", r.Pause, drawPause(points)},
		{"membership", r.Membership, drawMembership(instances, spares)},
		{"broker", r.Broker, drawBrokerError},
		{"network", r.Network, drawNetwork},
		{"database", r.Database, drawDatabase},
	} {
		if fam.rate == 0 {
			continue
		}
		rng := rand.New(rand.NewPCG(seed, stream(fam.name)))
		for step := range steps {
			for _, in := range instances {
				hit := rng.Float64() < fam.rate
				f := fam.draw(rng, step, in)
				if hit {
					candidates = append(candidates, f)
				}
			}
		}
	}
	if r.Cluster > 0 {
		rng := rand.New(rand.NewPCG(seed, stream("cluster")))
		for step := range steps {
			hit, kind, p := rng.Float64() < r.Cluster, rng.IntN(3), int32(rng.IntN(maxPartitions))
			if !hit {
				continue
			}
			f := Fault{Step: step, Kind: []Kind{LeaderMove, CoordinatorMove, BrokerRestart}[kind]}
			if f.Kind == LeaderMove {
				f.Partition = p
			}
			candidates = append(candidates, f)
		}
	}
	return admit(candidates), nil
}

// admit orders the drawn candidates by step and keeps those that can fire:
// an instance gets no new fault while the schedule has it busy with one,
// and a pause drawn while another instance is paused goes in only where it
// takes no other fault's place.
func admit(candidates []Fault) Schedule {
	slices.SortStableFunc(candidates, func(a, b Fault) int { return a.Step - b.Step })
	var s Schedule
	busyUntil := make(map[string]int)
	pausedUntil := 0
	var overlapping []Fault
	for _, f := range candidates {
		if f.Kind.IsCluster() {
			s.Faults = append(s.Faults, f)
			continue
		}
		if f.Step < busyUntil[f.Instance] {
			continue
		}
		if f.Kind == Pause && f.Step < pausedUntil {
			overlapping = append(overlapping, f)
			continue
		}
		s.Faults = append(s.Faults, f)
		busyUntil[f.Instance] = busyEnd(f)
		if f.Kind == Pause {
			pausedUntil = busyEnd(f)
		}
	}
	// A pause drawn while another instance is paused goes in only where it
	// takes no other fault's place: it adds overlapping pauses (two zombies
	// at once) without thinning the faults the other families drew.
	for _, f := range overlapping {
		if !slices.ContainsFunc(s.Faults, func(g Fault) bool { return g.Instance == f.Instance && overlaps(f, g) }) {
			s.Faults = append(s.Faults, f)
		}
	}
	slices.SortStableFunc(s.Faults, func(a, b Fault) int { return a.Step - b.Step })
	return s
}

// busyEnd is the first step after f at which its instance may be given
// another fault. A fault at a crash point fires at the instance's next
// unit, which may take a few steps; leave room for it.
func busyEnd(f Fault) int {
	if f.Kind == Pause || f.Kind == Expire {
		return f.Step + 20
	}
	return f.Step + f.RestartAfter + 2
}

// overlaps reports whether one of two faults falls while the other keeps
// their instance busy.
func overlaps(f, g Fault) bool {
	return f.Step < busyEnd(g) && g.Step < busyEnd(f)
}

// processFaults draws crashes and shutdowns exactly as schedules always
// have, so that seeds keep their schedules as families are added.
func processFaults(rng *rand.Rand, r Rates, points []engine.CrashPoint, instances []string, steps int) []Fault {
	var fs []Fault
	busyUntil := make(map[string]int)
	for step := range steps {
		for _, in := range instances {
			crash, shutdown := rng.Float64(), rng.Float64()
			f := Fault{Step: step, Instance: in, RestartAfter: 1 + rng.IntN(maxRestartAfter)}
			point, index := points[rng.IntN(len(points))], rng.IntN(maxIndex)
			if step < busyUntil[in] {
				continue
			}
			switch {
			case crash < r.Crash:
				f.Kind, f.Point = Crash, point
				if point == engine.AfterProcess {
					f.Index = index
				}
			case shutdown < r.Shutdown:
				f.Kind = Shutdown
			default:
				continue
			}
			fs = append(fs, f)
			busyUntil[in] = busyEnd(f)
		}
	}
	return fs
}

func drawPoint(rng *rand.Rand, points []engine.CrashPoint, f *Fault) {
	f.Point = points[rng.IntN(len(points))]
	if idx := rng.IntN(maxIndex); f.Point == engine.AfterProcess {
		f.Index = idx
	}
}

func drawExpire(points []engine.CrashPoint) func(*rand.Rand, int, string) Fault {
	return func(rng *rand.Rand, step int, in string) Fault {
		f := Fault{Step: step, Kind: Expire, Instance: in}
		drawPoint(rng, points, &f)
		return f
	}
}

func drawPause(points []engine.CrashPoint) func(*rand.Rand, int, string) Fault {
	return func(rng *rand.Rand, step int, in string) Fault {
		f := Fault{Step: step, Kind: Pause, Instance: in, PauseMs: pauseChoices[rng.IntN(len(pauseChoices))]}
		drawPoint(rng, points, &f)
		return f
	}
}

func drawMembership(instances, spares []string) func(*rand.Rand, int, string) Fault {
	return func(rng *rand.Rand, step int, in string) Fault {
		join, spare := rng.IntN(2) == 0, rng.IntN(max(1, len(spares)))
		if join && len(spares) > 0 {
			return Fault{Step: step, Kind: Join, Instance: spares[spare]}
		}
		return Fault{Step: step, Kind: Leave, Instance: in}
	}
}

func drawBrokerError(rng *rand.Rand, step int, in string) Fault {
	reqs := BrokerErrorRequests()
	req := reqs[rng.IntN(len(reqs))]
	errs := brokerErrors[req]
	return Fault{Step: step, Kind: BrokerError, Instance: in, Request: req, Error: errs[rng.IntN(len(errs))]}
}

// drawNetwork draws a dropped connection or a delayed request.
func drawNetwork(rng *rand.Rand, step int, in string) Fault {
	delay, ms := rng.IntN(2) == 0, delayChoices[rng.IntN(len(delayChoices))]
	f := Fault{Step: step, Kind: Drop, Instance: in, Request: droppable[rng.IntN(len(droppable))]}
	if delay {
		f.Kind, f.DelayMs, f.Request = Delay, ms, delayable[rng.IntN(len(delayable))]
	}
	return f
}

// delayChoices are the delays drawn for a held request, in virtual
// milliseconds: a blip, past a heartbeat, past the transaction timeout.
var delayChoices = []int{500, 5_000, 25_000}

// drawDatabase draws a fault at the instance's database: a crash just
// before or just after a commit, or a busy, lost or slow call.
func drawDatabase(rng *rand.Rand, step int, in string) Fault {
	what, restart, ms := rng.IntN(5), 1+rng.IntN(maxRestartAfter), dbSlowChoices[rng.IntN(len(dbSlowChoices))]
	switch what {
	case 0, 1:
		return Fault{Step: step, Kind: Crash, Instance: in, Point: engine.DBCrashPoints()[what], RestartAfter: restart}
	case 2:
		return Fault{Step: step, Kind: DBBusy, Instance: in}
	case 3:
		return Fault{Step: step, Kind: DBLost, Instance: in}
	}
	return Fault{Step: step, Kind: DBSlow, Instance: in, DelayMs: ms}
}

// dbSlowChoices are the drawn lengths of a slow database transaction, in
// virtual milliseconds: within a heartbeat, past the session timeout (10s),
// past the transaction timeout (about 23s).
var dbSlowChoices = []int{500, 15_000, 30_000}
