// Package invariants owns the judgement of a run: pure checkers over a
// History and a Snapshot of the final topics (and database tables) that
// return anomalies, each named for what it is and carrying the records,
// offsets, rows and units that prove it.
//
// It never imports engine/ or sim/: everything it knows comes from the
// history package and from a Spec, so it can judge a run against a real
// cluster as well as a simulated one.
package invariants

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/eosim/eosim/history"
)

// Spec tells the checkers what the application is supposed to compute: which
// topics hold its input, output and state, how to identify the input an
// output answers, and the model fold of the state store.
type Spec struct {
	InputTopic string
	// MoreInputTopics are the application's other input topics (a join's
	// second side): the oracle runs its serial reference over the committed
	// input of all of them. Every other checker reads InputTopic only.
	MoreInputTopics []string
	OutputTopic     string
	ChangelogTopic  string
	// MoreTopics are the application's other sinks and changelogs, which
	// only the oracle judges.
	MoreTopics []string
	// CachedTopics are the changelogs, among the topics above, of stores
	// with a record cache: a unit writes each key it changed once, with its
	// last value, so the oracle judges each key's committed values as a
	// part of the serial run's, in order, ending with its last
	// (compareCachedPartition), not record by record.
	CachedTopics []string
	// InputID returns the identity of an input record (an order id).
	InputID func(history.Record) (string, error)
	// OutputFor returns the identity of the input an output record answers.
	OutputFor func(history.Record) (string, error)
	// StateKey returns the store key an input record updates.
	StateKey func(history.Record) (string, error)
	// Initial is a store key's value before any input.
	Initial func(key string) string
	// Apply is the model: a key's value after input in is applied to state.
	Apply func(state string, in history.Record) (string, error)
	// Database, when set, says where the application keeps its effects in
	// a database, for the database checkers.
	Database *DatabaseSpec
	// Oracle, when set, runs the application once, serially and without
	// faults, over the input the run committed, and returns every record
	// its sinks and changelogs would then hold (offsets unset), each
	// partition's in input order: the reference of OracleCheckers.
	Oracle func(inputs []history.Record) ([]history.Record, error)
	// DBOracle, when set, is Oracle for an application that writes a
	// database: the tables one serial, fault-free run over the committed
	// input leaves, which the oracle checkers compare with the run's.
	DBOracle func(inputs []history.Record) (map[string][]history.Row, error)
	// Checkers names the checkers that judge the application (see ByName);
	// empty means All. Check reports a name no checker has as unknown.
	Checkers []string
}

// Topics lists the topics the checkers read: the input, and the outputs and
// changelogs the application has.
func (s Spec) Topics() []string {
	var ts []string
	for _, t := range slices.Concat(s.InputTopics(), []string{s.OutputTopic, s.ChangelogTopic}, s.MoreTopics) {
		if t != "" {
			ts = append(ts, t)
		}
	}
	return ts
}

// InputTopics are the application's input topics: InputTopic, then
// MoreInputTopics.
func (s Spec) InputTopics() []string {
	return append([]string{s.InputTopic}, s.MoreInputTopics...)
}

// DatabaseSpec tells the database checkers where an application writes:
// a ledger with one row per input whose effect was applied, and a state
// table that the inputs fold into (Spec's StateKey, Initial and Apply are
// the model of its values).
type DatabaseSpec struct {
	// EffectTable holds one row per applied input.
	EffectTable string
	// EffectInput returns the identity (Spec.InputID) of the input a row
	// of EffectTable records.
	EffectInput func(history.Row) (string, error)
	// StateTable holds the state, one row per key.
	StateTable string
	// StateRow returns a StateTable row's key and value.
	StateRow func(history.Row) (key, value string, err error)
	// Varying are the columns whose values differ between two runs that
	// did the same (an autoincrement id, the unit that wrote a row): the
	// oracle leaves them out when it compares rows.
	Varying []string
}

// Run is what a checker judges.
type Run struct {
	History  history.History
	Snapshot history.Snapshot
	// Complete says the run finished processing all of its input; checks
	// that need a finished run report unknown without it.
	Complete bool

	// derived holds what several checkers index the run by, computed once
	// per Check (nil: each checker computes its own).
	derived *derived
}

// derived is what checkers index a Run by.
type derived struct {
	view      *view
	producers map[loc][]string
	oracle    *oracleDiff
}

// view indexes the run's Snapshot by record location.
func (run Run) view() view {
	if run.derived == nil {
		return newView(run.Snapshot)
	}
	if run.derived.view == nil {
		v := newView(run.Snapshot)
		run.derived.view = &v
	}
	return *run.derived.view
}

// producers maps each record a unit of the run sent to the units that sent
// it (see producers). Checkers ask for it only to name the units of an
// anomaly: a run that passes never builds it.
func (run Run) producers() map[loc][]string {
	if run.derived == nil {
		return producers(run.History)
	}
	if run.derived.producers == nil {
		run.derived.producers = producers(run.History)
	}
	return run.derived.producers
}

// Anomaly is one violation, with its evidence.
type Anomaly struct {
	// Kind is the name of the invariant violated, e.g. "duplicate-output".
	Kind string `json:"kind"`
	// Summary says in one line what is wrong.
	Summary string `json:"summary"`
	// Records, Offsets and Units are the evidence.
	Records []history.Record `json:"records,omitempty"`
	Offsets []history.Offset `json:"offsets,omitempty"`
	Units   []string         `json:"units,omitempty"`
	// Rows are database rows, the evidence of the database checkers.
	Rows []history.Row `json:"rows,omitempty"`
}

// Verdict is the outcome of judging a run: pass, fail or unknown from the
// checkers, or stuck when the run never ended and so was never judged.
type Verdict string

// The verdicts. Unknown is never reported as Pass. Check never returns
// Stuck: the simulator (or a real-cluster driver) gives it to a run that
// exceeded its time limits, with what it was waiting for.
const (
	Pass    Verdict = "pass"
	Fail    Verdict = "fail"
	Unknown Verdict = "unknown"
	Stuck   Verdict = "stuck"
)

// The names of the checkers, which are also the kinds of their anomalies.
const (
	InventoryFold        = "inventory-fold"
	DuplicateOutput      = "duplicate-output"
	LostOutput           = "lost-output"
	PhantomOutput        = "phantom-output"
	AbortedRead          = "aborted-read"
	TornTransaction      = "torn-transaction"
	OffsetOutputMismatch = "offset-output-mismatch"
	StateRestore         = "state-restore"

	// The database checkers (DatabaseCheckers).
	DBFold            = "db-fold"
	DBDuplicateEffect = "db-duplicate-effect"
	DBLostEffect      = "db-lost-effect"
	DBPhantomEffect   = "db-phantom-effect"
)

// A Checker judges one invariant. Check must be pure and deterministic: the
// same Spec and Run give the same Result, anomalies in the same order.
type Checker struct {
	Name  string
	Check func(Spec, Run) Result
}

// Result is what one checker found: anomalies, or a reason it could not
// judge (for example a run that never completed).
type Result struct {
	Anomalies []Anomaly
	// Unknown, when not empty, says why the checker could not judge.
	Unknown string
}

// Report aggregates the results of several checkers.
type Report struct {
	// Verdict is Fail if any checker found an anomaly, else Unknown if any
	// could not judge, else Pass.
	Verdict Verdict `json:"verdict"`
	// Anomalies are in checker order, then in the order each checker gave.
	Anomalies []Anomaly `json:"anomalies,omitempty"`
	// Unknown maps a checker that could not judge to its reason.
	Unknown map[string]string `json:"unknown,omitempty"`
	// Checked names the checkers run, in order.
	Checked []string `json:"checked"`
}

// ErrUnknownChecker is wrapped by ByName's error for a name no checker has.
var ErrUnknownChecker = errors.New("unknown checker")

// All returns every checker in a fixed order: state first, then outputs,
// then transactions and offsets, then restores.
func All() []Checker {
	return []Checker{
		{InventoryFold, checkFold},
		{DuplicateOutput, checkDuplicate},
		{LostOutput, checkLost},
		{PhantomOutput, checkPhantom},
		{AbortedRead, checkAborted},
		{TornTransaction, checkTorn},
		{OffsetOutputMismatch, checkOffsets},
		{StateRestore, checkRestore},
	}
}

// DatabaseCheckers returns the checkers of an application that writes to a
// database (Spec.Database), in a fixed order: state first, then effects.
// They are not in All, so a scenario names them in Spec.Checkers.
func DatabaseCheckers() []Checker {
	return []Checker{
		{DBFold, checkDBFold},
		{DBDuplicateEffect, checkDBDuplicate},
		{DBLostEffect, checkDBLost},
		{DBPhantomEffect, checkDBPhantom},
	}
}

// registered are the checkers Register added, in the order it did.
var (
	registeredMu sync.RWMutex
	registered   []Checker
)

// ErrRegistered is wrapped by Register's error for a name already taken.
var ErrRegistered = errors.New("checker already registered")

// Register adds a checker of an application's own, so that a Spec can name
// it (Spec.Checkers) beside eosim's. Its name is also the kind of its
// anomalies; names are unique. Like eosim's, it must be pure and
// deterministic, and read what happened from the Run's Snapshot (the
// broker) rather than from the application's own account.
func Register(c Checker) error {
	if c.Name == "" || c.Check == nil {
		return errors.New("register checker: Name and Check are required")
	}
	registeredMu.Lock()
	defer registeredMu.Unlock()
	for _, k := range slices.Concat(All(), DatabaseCheckers(), OracleCheckers(), registered) {
		if k.Name == c.Name {
			return fmt.Errorf("%w: %s", ErrRegistered, c.Name)
		}
	}
	registered = append(registered, c)
	return nil
}

// ByName returns the checkers named, in the order given, so a scenario can
// list the invariants it cares about. It knows All, DatabaseCheckers,
// OracleCheckers and those Register added.
func ByName(names ...string) ([]Checker, error) {
	registeredMu.RLock()
	all := slices.Concat(All(), DatabaseCheckers(), OracleCheckers(), registered)
	registeredMu.RUnlock()
	var cs []Checker
	for _, n := range names {
		i := slices.IndexFunc(all, func(c Checker) bool { return c.Name == n })
		if i < 0 {
			valid := make([]string, len(all))
			for j, c := range all {
				valid[j] = c.Name
			}
			return nil, fmt.Errorf("%w %q (valid: %s)", ErrUnknownChecker, n, strings.Join(valid, ", "))
		}
		cs = append(cs, all[i])
	}
	return cs, nil
}

// Check runs checkers over run and aggregates their results. When none are
// given it runs those spec.Checkers names, or All when it names none. A
// checker that panics, say on a Spec missing a function it needs, is
// reported unknown rather than taking the report down: a run that could not
// be judged must never read as a pass.
func Check(spec Spec, run Run, checkers ...Checker) Report {
	if len(checkers) == 0 {
		checkers = named(spec.Checkers)
	}
	rep := Report{Verdict: Pass}
	run.derived = &derived{} // checkers only read what is derived
	for _, c := range checkers {
		res := runChecker(c, spec, run)
		rep.Checked = append(rep.Checked, c.Name)
		rep.Anomalies = append(rep.Anomalies, res.Anomalies...)
		if res.Unknown != "" {
			if rep.Unknown == nil {
				rep.Unknown = map[string]string{}
			}
			rep.Unknown[c.Name] = res.Unknown
		}
	}
	switch {
	case len(rep.Anomalies) > 0:
		rep.Verdict = Fail
	case len(rep.Unknown) > 0:
		rep.Verdict = Unknown
	}
	return rep
}

// named returns the checkers names lists, or All when it lists none. A
// name no checker has becomes a checker of that name that cannot judge, so
// a misspelt name in a scenario makes its runs unknown, never a pass.
func named(names []string) []Checker {
	if len(names) == 0 {
		return All()
	}
	var cs []Checker
	for _, n := range names {
		c, err := ByName(n)
		if err != nil {
			reason := err.Error()
			cs = append(cs, Checker{n, func(Spec, Run) Result { return Result{Unknown: reason} }})
			continue
		}
		cs = append(cs, c...)
	}
	return cs
}

func runChecker(c Checker, spec Spec, run Run) (res Result) {
	defer func() {
		if p := recover(); p != nil {
			res = Result{Unknown: fmt.Sprintf("checker panicked: %v", p)}
		}
	}()
	return c.Check(spec, run)
}

// Kinds returns the distinct kinds of r's anomalies, sorted.
func (r Report) Kinds() []string {
	var ks []string
	for _, a := range r.Anomalies {
		ks = append(ks, a.Kind)
	}
	slices.Sort(ks)
	return slices.Compact(ks)
}
