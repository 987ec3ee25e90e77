//go:build synctests && !race

package sim

const raceEnabled = false
