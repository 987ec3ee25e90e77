// Package sim owns running a world: a kfake cluster on an in-memory network,
// engine instances, the input, the faults, driven from one seed in virtual
// time, and the History it records.
package sim
