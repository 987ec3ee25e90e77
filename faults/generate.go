package faults

import (
	"fmt"
	"math/rand/v2"

	"github.com/eosim/eosim/engine"
)

// Rates are the chances, per instance and per step of the fault phase, that
// a fault of each kind is scheduled.
type Rates struct {
	Crash    float64
	Shutdown float64
}

// Validate reports a rate outside [0, 1].
func (r Rates) Validate() error {
	for name, v := range map[string]float64{"crash": r.Crash, "shutdown": r.Shutdown} {
		if v < 0 || v > 1 || v != v {
			return fmt.Errorf("%s rate %v is not in [0, 1]", name, v)
		}
	}
	return nil
}

// maxRestartAfter bounds the drawn downtime of an instance, in steps.
const maxRestartAfter = 5

// maxIndex bounds the drawn record index of an after-process crash.
const maxIndex = 20

// Generate draws a schedule for steps [0, steps) from seed. An instance gets
// no new fault while the schedule has it down, so every fault can fire.
func Generate(seed uint64, r Rates, instances []string, steps int) (Schedule, error) {
	if err := r.Validate(); err != nil {
		return Schedule{}, fmt.Errorf("generating schedule: %w", err)
	}
	rng := rand.New(rand.NewPCG(seed, 0x6661756c7473)) // stream "faults"
	points := engine.CrashPoints()
	var s Schedule
	busyUntil := make(map[string]int)
	for step := range steps {
		for _, in := range instances {
			// Draw both numbers every time, so that changing one rate
			// does not reshuffle the other family's faults.
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
			s.Faults = append(s.Faults, f)
			// A crash fires at the instance's next unit, which may take a
			// few steps; leave room for it before the next fault.
			busyUntil[in] = step + f.RestartAfter + 2
		}
	}
	return s, nil
}
