//go:build synctests && race

package sim

// raceEnabled: the race detector slows every run about tenfold.
const raceEnabled = true
