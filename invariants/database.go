package invariants

// The database checkers judge what an application left in its database
// (Snapshot.Tables, read once the run is over) against the input the broker
// committed (the read_committed view of Spec.InputTopic): each committed
// input has exactly one row in the effect table (db-duplicate-effect,
// db-lost-effect), no other input has any (db-phantom-effect), and the state
// table holds the model's fold of the committed input (db-fold). They never
// take an instance's account of its database transactions (KindDB events)
// as evidence that a row exists or not: those accounts only name the units
// that claim to have written an input's effect.

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/eosim/eosim/history"
)

// maxFoldInputs bounds the inputs a db-fold anomaly carries as evidence.
const maxFoldInputs = 20

// dbWrite is the Purpose of a DBTxn that writes a unit's effects.
const dbWrite = "write"

// checkDBDuplicate judges db-duplicate-effect: no input has more than one
// row in the effect table. A row, once committed to the database, stays, so
// an unfinished run can be judged too.
func checkDBDuplicate(spec Spec, run Run) Result {
	ev, err := dbEvidenceOf(spec, run)
	if err != nil {
		return Result{Unknown: err.Error()}
	}
	db, ins, effects, writers := ev.db, ev.inputs, ev.effects, ev.writers
	var res Result
	for _, id := range slices.Sorted(maps.Keys(effects)) {
		rows := effects[id]
		if len(rows) < 2 {
			continue
		}
		rs, of := ins.committed[id], ""
		if len(rs) == 0 {
			rs, of = ins.aborted[id], " (not a committed input: see "+DBPhantomEffect+")"
		}
		res.Anomalies = append(res.Anomalies, Anomaly{
			Kind: DBDuplicateEffect,
			Summary: fmt.Sprintf("input %q has %d rows in %s%s; units that wrote it: %s",
				id, len(rows), db.EffectTable, of, orNone(strings.Join(writers[id], ", "))),
			Records: rs,
			Rows:    rows,
			Units:   writers[id],
		})
	}
	return res
}

// checkDBLost judges db-lost-effect: every committed input has a row in the
// effect table. Only a complete run can be judged; before that a missing
// row may just be pending.
func checkDBLost(spec Spec, run Run) Result {
	if !run.Complete {
		return Result{Unknown: "run not complete: a missing row may still be pending"}
	}
	ev, err := dbEvidenceOf(spec, run)
	if err != nil {
		return Result{Unknown: err.Error()}
	}
	db, ins, effects, writers := ev.db, ev.inputs, ev.effects, ev.writers
	var res Result
	for _, id := range slices.Sorted(maps.Keys(ins.committed)) {
		if len(effects[id]) > 0 {
			continue
		}
		rs := ins.committed[id]
		summary := fmt.Sprintf("input %q (%s) has no row in %s", id, list(rs), db.EffectTable)
		if ws := writers[id]; len(ws) > 0 {
			summary += "; units that claim to have written it: " + strings.Join(ws, ", ")
		}
		res.Anomalies = append(res.Anomalies, Anomaly{
			Kind: DBLostEffect, Summary: summary, Records: rs, Units: writers[id],
		})
	}
	return res
}

// checkDBPhantom judges db-phantom-effect: every row of the effect table
// records a committed input. The input of a phantom row is either in the
// input topic's log but aborted (the application read uncommitted input, or
// wrote for a transaction that never committed) or nowhere at all.
func checkDBPhantom(spec Spec, run Run) Result {
	ev, err := dbEvidenceOf(spec, run)
	if err != nil {
		return Result{Unknown: err.Error()}
	}
	db, ins, effects, writers := ev.db, ev.inputs, ev.effects, ev.writers
	var res Result
	for _, id := range slices.Sorted(maps.Keys(effects)) {
		if len(ins.committed[id]) > 0 {
			continue
		}
		rows, rs := effects[id], ins.aborted[id]
		what := "no input in " + spec.InputTopic
		if len(rs) > 0 {
			what = "an aborted input, " + list(rs)
		}
		res.Anomalies = append(res.Anomalies, Anomaly{
			Kind: DBPhantomEffect,
			Summary: fmt.Sprintf("%d row(s) in %s record input %q, which is %s; units that wrote it: %s",
				len(rows), db.EffectTable, id, what, orNone(strings.Join(writers[id], ", "))),
			Records: rs,
			Rows:    rows,
			Units:   writers[id],
		})
	}
	return res
}

// checkDBFold judges db-fold: the state table holds, for each key, the
// model folded over the key's committed inputs in (partition, offset) order,
// and for a key no input touched either no row or the initial value. It
// judges only the final state, so only a complete run can be judged; which
// input went wrong is for the effect checkers to say.
func checkDBFold(spec Spec, run Run) Result {
	if !run.Complete {
		return Result{Unknown: "run not complete: the state may still be catching up"}
	}
	db, err := databaseOf(spec)
	if err != nil {
		return Result{Unknown: err.Error()}
	}
	inputs, ok := run.Snapshot.Committed[spec.InputTopic]
	if !ok {
		return Result{Unknown: fmt.Sprintf("the snapshot did not read input topic %q", spec.InputTopic)}
	}
	folds, err := modelFold(spec, inputs)
	if err != nil {
		return Result{Unknown: err.Error()}
	}
	table, err := tableOf(run, db.StateTable)
	if err != nil {
		return Result{Unknown: err.Error()}
	}
	type state struct {
		values []string
		rows   []history.Row
	}
	got := map[string]*state{}
	for i, row := range table {
		k, v, err := db.StateRow(row)
		if err != nil {
			return Result{Unknown: fmt.Sprintf("decoding row %d of %s: %v", i, db.StateTable, err)}
		}
		if got[k] == nil {
			got[k] = &state{}
		}
		got[k].values = append(got[k].values, v)
		got[k].rows = append(got[k].rows, row)
	}

	var res Result
	for _, k := range slices.Sorted(maps.Keys(union(folds, got))) {
		var kf keyFold
		if folds[k] != nil {
			kf = *folds[k]
		}
		var st state
		if got[k] != nil {
			st = *got[k]
		}
		want, after := spec.Initial(k), "no input touched it"
		if n := len(kf.want); n > 0 {
			want, after = kf.want[n-1], fmt.Sprintf("after all %d inputs", n)
		}
		var summary string
		switch {
		case len(st.rows) > 1:
			summary = fmt.Sprintf("key %q has %d rows in %s, values %q; expected one, %q (%s)",
				k, len(st.rows), db.StateTable, st.values, want, after)
		case len(st.rows) == 0 && len(kf.inputs) > 0:
			summary = fmt.Sprintf("key %q has no row in %s; expected %q (%s)", k, db.StateTable, want, after)
		case len(st.rows) == 1 && st.values[0] != want:
			summary = fmt.Sprintf("key %q: %s holds %q; expected %q (%s)", k, db.StateTable, st.values[0], want, after)
		default:
			continue
		}
		evidence := kf.inputs
		if n := len(evidence); n > maxFoldInputs {
			evidence = evidence[:maxFoldInputs]
			summary += fmt.Sprintf("; evidence holds the first %d of its %d inputs", maxFoldInputs, n)
		}
		res.Anomalies = append(res.Anomalies, Anomaly{
			Kind:    DBFold,
			Summary: summary,
			Records: evidence,
			Rows:    st.rows,
		})
	}
	return res
}

// dbEvidence is what the effect checkers judge by: the inputs by identity,
// the effect table's rows by the input they record, and the units whose
// database writes claim each input.
type dbEvidence struct {
	db      *DatabaseSpec
	inputs  dbInputs
	effects map[string][]history.Row
	writers map[string][]string
}

func dbEvidenceOf(spec Spec, run Run) (dbEvidence, error) {
	db, err := databaseOf(spec)
	if err != nil {
		return dbEvidence{}, err
	}
	ins, err := inputsByID(spec, run)
	if err != nil {
		return dbEvidence{}, err
	}
	effects, err := effectsByID(db, run)
	if err != nil {
		return dbEvidence{}, err
	}
	return dbEvidence{db: db, inputs: ins, effects: effects, writers: dbWriters(run.History)}, nil
}

// databaseOf returns where spec's application writes, or why the database
// checkers cannot judge it.
func databaseOf(spec Spec) (*DatabaseSpec, error) {
	db := spec.Database
	switch {
	case db == nil:
		return nil, errors.New("the scenario has no database (Spec.Database is nil)")
	case db.EffectTable == "" || db.EffectInput == nil:
		return nil, errors.New("the scenario's database names no effect table or no EffectInput")
	case db.StateTable == "" || db.StateRow == nil:
		return nil, errors.New("the scenario's database names no state table or no StateRow")
	}
	return db, nil
}

// dbInputs are a run's input records by their identity (Spec.InputID), each
// list in (partition, offset) order.
type dbInputs struct {
	// committed are the records of the input topic in read_committed.
	committed map[string][]history.Record
	// aborted are the records of the input topic's log that read_committed
	// does not show.
	aborted map[string][]history.Record
}

// inputsByID indexes the input topic of run's Snapshot. Input comes from
// the workload, so a record whose id does not decode means the Spec does not
// fit the run.
func inputsByID(spec Spec, run Run) (dbInputs, error) {
	committed, ok := run.Snapshot.Committed[spec.InputTopic]
	if !ok {
		return dbInputs{}, fmt.Errorf("the snapshot did not read input topic %q", spec.InputTopic)
	}
	ins := dbInputs{committed: map[string][]history.Record{}, aborted: map[string][]history.Record{}}
	seen := map[loc]bool{}
	for _, r := range committed {
		id, err := spec.InputID(r)
		if err != nil {
			return dbInputs{}, fmt.Errorf("decoding input %s: %w", at(r), err)
		}
		ins.committed[id] = append(ins.committed[id], r)
		seen[locOf(r)] = true
	}
	for _, r := range run.Snapshot.Uncommitted[spec.InputTopic] {
		if seen[locOf(r)] {
			continue
		}
		id, err := spec.InputID(r)
		if err != nil {
			return dbInputs{}, fmt.Errorf("decoding aborted input %s: %w", at(r), err)
		}
		ins.aborted[id] = append(ins.aborted[id], r)
	}
	return ins, nil
}

// tableOf returns the rows of a table of run's Snapshot. A table the
// snapshot does not hold cannot be judged: it is not taken as empty.
func tableOf(run Run, name string) ([]history.Row, error) {
	rows, ok := run.Snapshot.Tables[name]
	if !ok {
		return nil, fmt.Errorf("the snapshot holds no table %q (tables: %s)", name,
			orNone(strings.Join(slices.Sorted(maps.Keys(run.Snapshot.Tables)), ", ")))
	}
	return rows, nil
}

// effectsByID indexes the effect table by the input each row records, rows
// in rowid order.
func effectsByID(db *DatabaseSpec, run Run) (map[string][]history.Row, error) {
	table, err := tableOf(run, db.EffectTable)
	if err != nil {
		return nil, err
	}
	m := map[string][]history.Row{}
	for i, row := range table {
		id, err := db.EffectInput(row)
		if err != nil {
			return nil, fmt.Errorf("decoding row %d of %s: %w", i, db.EffectTable, err)
		}
		m[id] = append(m[id], row)
	}
	return m, nil
}

// dbWriters maps an input id to the units whose database writes claim to
// have applied it, committed or with their outcome unknown, sorted.
func dbWriters(h history.History) map[string][]string {
	m := map[string][]string{}
	for _, ev := range h.Events {
		t := ev.DB
		if ev.Kind != history.KindDB || t == nil || t.Purpose != dbWrite || t.Unit == "" ||
			(t.Outcome != history.DBCommitted && t.Outcome != history.DBUnknown) {
			continue
		}
		for _, id := range t.Applied {
			m[id] = append(m[id], t.Unit)
		}
	}
	for id, us := range m {
		slices.Sort(us)
		m[id] = slices.Compact(us)
	}
	return m
}
