// Package report owns rendering a run for people: a readable text history,
// one event per line, for diffs and golden files; and a single self-contained
// HTML page with a timeline of the instances, the anomalies and their
// evidence, linked to the units of work involved.
//
// It reads only a History and a Report, never the simulator, so the same
// pages can be drawn for a run against a real cluster or from a History
// loaded back from JSON Lines.
package report
