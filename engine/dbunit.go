package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eosim/eosim/history"
	"github.com/eosim/eosim/internal/sqlitedb"
	"github.com/eosim/eosim/internal/topicread"
)

// autoCommitInterval is how often db_auto_commit commits at a poll, as
// Java's auto.commit.interval.ms defaults to.
const autoCommitInterval = 5 * time.Second

// positionsSchema is the engine's own table under the guarantees that keep
// input positions in the database.
const positionsSchema = `CREATE TABLE IF NOT EXISTS ` + PositionsTable + ` (
	topic TEXT NOT NULL,
	partition INTEGER NOT NULL,
	next_offset INTEGER NOT NULL,
	epoch INTEGER NOT NULL,
	PRIMARY KEY (topic, partition)
)`

// CreateTables creates d's tables and the engine's positions table in db,
// where they do not exist yet.
func CreateTables(ctx context.Context, db *sql.DB, d *Database) error {
	for _, stmt := range append(slices.Clone(d.Schema), positionsSchema) {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("creating the database's tables: %w", err)
		}
	}
	return nil
}

// ReadPositions returns the input positions kept in db for topic, by
// partition (none before the first claim).
func ReadPositions(ctx context.Context, db *sql.DB, topic string) (map[int32]int64, error) {
	rows, err := db.QueryContext(ctx, `SELECT partition, next_offset FROM `+PositionsTable+` WHERE topic = ?`, topic)
	if err != nil {
		return nil, fmt.Errorf("reading the positions of %s: %w", topic, err)
	}
	defer rows.Close()
	out := make(map[int32]int64)
	for rows.Next() {
		var p int32
		var next int64
		if err := rows.Scan(&p, &next); err != nil {
			return nil, fmt.Errorf("reading the positions of %s: %w", topic, err)
		}
		out[p] = next
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading the positions of %s: %w", topic, err)
	}
	return out, nil
}

// openDB opens the application's database and creates its tables.
func (in *Instance) openDB(ctx context.Context) error {
	db, err := sqlitedb.Open(in.cfg.Database)
	if err != nil {
		return fmt.Errorf("starting %s: %w", in.cfg.Name, err)
	}
	if err := CreateTables(ctx, db, in.cfg.Topology.Database); err != nil {
		db.Close()
		return fmt.Errorf("starting %s: %w", in.cfg.Name, err)
	}
	in.db = db
	in.positions = make(map[int32]int64)
	in.epochs = make(map[int32]int64)
	return nil
}

// dbTx runs one database transaction: begin, body, commit, with the hook's
// faults at begin and commit and, for a unit's write, the crash points
// before and after the commit. It records the transaction (txn, filled in
// by body) and returns its outcome; errCrashedAt reports a crash point hit.
func (in *Instance) dbTx(ctx context.Context, w *unitOfWork, txn *history.DBTxn, body func(*sql.Tx) error) error {
	site := DBSite{Unit: txn.Unit, Purpose: txn.Purpose}
	end := func(outcome string, err error) error {
		txn.Outcome = outcome
		if err != nil {
			txn.Reason = Reason(err)
		}
		in.cfg.Recorder.Record(history.Event{Kind: history.KindDB, Instance: in.cfg.Name, DB: txn})
		return err
	}
	var tx *sql.Tx
	site.Call = DBBegin
	err := in.dbCall(site, func() error {
		var err error
		tx, err = in.db.BeginTx(ctx, nil)
		return err
	})
	if err != nil {
		if tx != nil {
			// The BEGIN went through but its answer was lost: the server
			// rolls the transaction back when the connection drops.
			_ = tx.Rollback()
		}
		return end(history.DBRolledBack, fmt.Errorf("beginning a database transaction: %w", err))
	}
	if err := body(tx); err != nil {
		_ = tx.Rollback()
		if errors.Is(err, errDBRefused) {
			return end(history.DBRefused, err)
		}
		return end(history.DBRolledBack, err)
	}
	if w != nil && in.hit(BeforeDBCommit, w, 0) {
		// A process that dies here leaves its transaction open; SQLite
		// (or a server) rolls it back.
		_ = tx.Rollback()
		return end(history.DBRolledBack, errCrashedAt{BeforeDBCommit})
	}
	if in.isDead() {
		// Crashed from outside while the unit was held before its
		// commit (a pause): a dead process commits nothing.
		_ = tx.Rollback()
		return end(history.DBRolledBack, ErrClosed)
	}
	site.Call = DBCommit
	if err := in.dbCall(site, tx.Commit); err != nil {
		if errors.Is(err, ErrDBAnswerLost) {
			return end(history.DBUnknown, fmt.Errorf("committing a database transaction: %w", err))
		}
		return end(history.DBRolledBack, fmt.Errorf("committing a database transaction: %w", err))
	}
	if err := end(history.DBCommitted, nil); err != nil {
		return err
	}
	if w != nil && in.hit(AfterDBCommit, w, 0) {
		return errCrashedAt{AfterDBCommit}
	}
	return nil
}

// errCrashedAt is dbTx's report of a crash point hit; the caller crashes
// the unit.
type errCrashedAt struct{ point CrashPoint }

func (e errCrashedAt) Error() string { return "crash at " + string(e.point) }

// dbCall makes one database call under the hook's fault.
func (in *Instance) dbCall(site DBSite, call func() error) error {
	var f DBFault
	if in.cfg.DBHook != nil {
		f = in.cfg.DBHook(site)
	}
	err := call()
	if f.Done != nil {
		f.Done(err)
	}
	if f.LoseAnswer && err == nil {
		return ErrDBAnswerLost
	}
	return err
}

func (in *Instance) isDead() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.dead
}

// claim takes partition p over in the database, under the guarantees that
// keep positions there: in one transaction it reads the next input
// position and, when fenced, bumps the partition's owner epoch, so that the
// previous owner's writes are refused from now on. The consumer is then
// positioned at what the database holds.
func (in *Instance) claim(ctx context.Context, p int32) error {
	topic := in.cfg.Topology.Source
	txn := &history.DBTxn{Purpose: dbClaim}
	var next, epoch int64
	err := in.dbTx(ctx, nil, txn, func(tx *sql.Tx) error {
		var err error
		next, epoch, err = readPosition(ctx, tx, topic, p)
		if err != nil {
			return err
		}
		if in.cfg.Guarantee.dbFenced() {
			epoch++
			if err := writePosition(ctx, tx, topic, p, next, epoch); err != nil {
				return err
			}
		}
		txn.Positions = []history.Offset{{Topic: topic, Partition: p, Offset: next}}
		txn.Epoch = epoch
		return nil
	})
	if err != nil {
		return in.fail(fmt.Errorf("claiming %s[%d] in the database: %w", topic, p, err))
	}
	in.positions[p], in.epochs[p] = next, epoch
	in.cl.SetOffsets(map[string]map[int32]kgo.EpochOffset{topic: {p: {Epoch: -1, Offset: next}}})
	return nil
}

// readPosition reads partition p's next input position and owner epoch
// (0 and 0 before anything was written).
func readPosition(ctx context.Context, tx *sql.Tx, topic string, p int32) (next, epoch int64, err error) {
	err = tx.QueryRowContext(ctx, `SELECT next_offset, epoch FROM `+PositionsTable+` WHERE topic = ? AND partition = ?`,
		topic, p).Scan(&next, &epoch)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, fmt.Errorf("reading the position of %s[%d]: %w", topic, p, err)
	}
	return next, epoch, nil
}

func writePosition(ctx context.Context, tx *sql.Tx, topic string, p int32, next, epoch int64) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO `+PositionsTable+` (topic, partition, next_offset, epoch) VALUES (?, ?, ?, ?)
		ON CONFLICT (topic, partition) DO UPDATE SET next_offset = excluded.next_offset, epoch = excluded.epoch`,
		topic, p, next, epoch)
	if err != nil {
		return fmt.Errorf("writing the position of %s[%d]: %w", topic, p, err)
	}
	return nil
}

// behindPositions drops polled records below the position the database
// gave their partition: a fetch the group started from Kafka's committed
// offsets before the claim's SetOffsets took hold. The consumer is sent
// back to the position.
func (in *Instance) behindPositions(recs []*kgo.Record) []*kgo.Record {
	if !in.cfg.Guarantee.PositionsInDatabase() {
		return recs
	}
	reset := make(map[int32]kgo.EpochOffset)
	kept := recs[:0:0]
	for _, r := range recs {
		if pos, ok := in.positions[r.Partition]; ok && r.Offset < pos {
			reset[r.Partition] = kgo.EpochOffset{Epoch: -1, Offset: pos}
			continue
		}
		kept = append(kept, r)
	}
	if len(reset) > 0 {
		in.cl.SetOffsets(map[string]map[int32]kgo.EpochOffset{in.cfg.Topology.Source: reset})
		in.cfg.Recorder.Record(history.Event{Kind: history.KindNote, Instance: in.cfg.Name,
			Detail: fmt.Sprintf("%d polled records behind the database's positions dropped", len(recs)-len(kept))})
	}
	return kept
}

// autoCommit is db_auto_commit's consumer: at a poll, once the interval has
// passed, the offsets of what the earlier polls returned are committed, as
// Java's consumer does inside poll(). Its errors are dropped, as an
// asynchronous auto-commit's are.
func (in *Instance) autoCommit(ctx context.Context) {
	if in.cfg.Guarantee != DBAutoCommit || time.Since(in.autoCommitAt) < autoCommitInterval {
		return
	}
	in.autoCommitAt = time.Now()
	_ = in.cl.CommitUncommittedOffsets(in.runCtx(ctx))
}

// dbUnit processes recs as one unit of work of a topology with a Database,
// under a database guarantee.
func (in *Instance) dbUnit(ctx context.Context, recs []*kgo.Record) (StepResult, error) {
	recs = in.behindPositions(recs)
	if len(recs) == 0 {
		return StepResult{}, nil
	}
	g := in.cfg.Guarantee
	ctx = in.runCtx(ctx)
	res := StepResult{Records: len(recs)}
	w, err := in.beginUnit(recs, false)
	if err != nil {
		return res, err
	}
	for i := range recs {
		if g == DBInsideKafkaTxn {
			// Each record's effect is committed to the database as it
			// is processed.
			if err := in.dbWriteUnit(ctx, w, recs[i:i+1]); err != nil {
				return res, in.endDBUnit(ctx, w, err, history.Crashed)
			}
		}
		if in.hit(AfterProcess, w, i) {
			return res, in.crashUnit(w, AfterProcess, history.Crashed)
		}
	}
	if in.hit(AfterProduce, w, 0) {
		return res, in.crashUnit(w, AfterProduce, history.Crashed)
	}
	outcome := history.Committed
	switch g {
	case DBThenKafka, DBIdempotent:
		if err := in.dbWriteUnit(ctx, w, recs); err != nil {
			return res, in.endDBUnit(ctx, w, err, history.Crashed)
		}
		if g == DBIdempotent {
			in.keepOwned(w)
		}
		fallthrough
	case DBInsideKafkaTxn:
		var err error
		if outcome, err = in.commit(ctx, w); err != nil {
			res.Outcome = outcome
			return res, err
		}
	case KafkaThenDB:
		var err error
		if outcome, err = in.commit(ctx, w); err != nil {
			res.Outcome = outcome
			return res, err
		}
		if outcome != history.Committed {
			break
		}
		if err := in.dbWriteUnit(ctx, w, recs); err != nil {
			// The offsets are committed; the effects are not.
			return res, in.endDBUnit(ctx, w, err, history.Committed)
		}
	default: // the database is the only thing written
		if err := in.dbWriteUnit(ctx, w, recs); err != nil {
			return res, in.endDBUnit(ctx, w, err, history.Crashed)
		}
		w.u.Outcome = history.Committed
	}
	res.Outcome = outcome
	in.cfg.Recorder.Record(history.Event{Kind: history.KindUnit, Instance: in.cfg.Name, Unit: w.u})
	if outcome == history.Committed && in.hit(AfterCommit, w, 0) {
		in.crash(string(AfterCommit))
		return res, fmt.Errorf("%s at %s: %w", in.cfg.Name, AfterCommit, ErrCrashed)
	}
	return res, nil
}

// keepOwned leaves out of the unit's offset commit the partitions the group
// took from the instance while the unit ran: a plain consumer commits with
// its current generation, and the coordinator would take an offset of a
// partition another member now consumes, moving that member's committed
// position back.
func (in *Instance) keepOwned(w *unitOfWork) {
	in.mu.Lock()
	defer in.mu.Unlock()
	w.recs = slices.DeleteFunc(slices.Clone(w.recs), func(r *kgo.Record) bool { return !in.assigned[r.Partition] })
}

// endDBUnit ends a unit whose database write failed or crashed. A crash
// point kills the instance; otherwise an open Kafka transaction is aborted
// (the consumer goes back to the committed offsets) and the instance,
// whose database and consumer may now disagree, restarts. kafkaOutcome is
// what Kafka holds of the unit.
func (in *Instance) endDBUnit(ctx context.Context, w *unitOfWork, err error, kafkaOutcome history.Outcome) error {
	// Where the database is all a unit writes, the unit's outcome is its
	// database transaction's.
	dbOnly := in.cfg.Guarantee.writesOnlyDatabase()
	var at errCrashedAt
	if errors.As(err, &at) {
		if dbOnly && at.point == AfterDBCommit {
			kafkaOutcome = history.Committed
		}
		return in.crashUnit(w, at.point, kafkaOutcome)
	}
	if dbOnly && errors.Is(err, ErrDBAnswerLost) {
		return in.failUnit(w, history.Unknown, err)
	}
	if w.u.Transactional && kafkaOutcome != history.Committed {
		if _, aerr := in.endTxn(ctx, kgo.TryAbort); aerr != nil {
			return in.failUnit(w, history.Unknown, fmt.Errorf("%w; then aborting: %w", err, aerr))
		}
		kafkaOutcome = history.Aborted
	}
	if kafkaOutcome == history.Crashed {
		kafkaOutcome = history.Aborted
	}
	return in.failUnit(w, kafkaOutcome, err)
}

// dbWriteUnit writes the effects of recs, part of unit w, in one database
// transaction, in the guarantee's way.
func (in *Instance) dbWriteUnit(ctx context.Context, w *unitOfWork, recs []*kgo.Record) error {
	g := in.cfg.Guarantee
	d := in.cfg.Topology.Database
	topic := in.cfg.Topology.Source
	txn := &history.DBTxn{Unit: w.u.ID, Purpose: dbWrite}
	next := make(map[int32]int64)
	err := in.dbTx(ctx, w, txn, func(tx *sql.Tx) error {
		var parts []int32
		for _, r := range recs {
			if !slices.Contains(parts, r.Partition) {
				parts = append(parts, r.Partition)
			}
		}
		if g.PositionsInDatabase() {
			for _, p := range parts {
				stored, epoch, err := readPosition(ctx, tx, topic, p)
				if err != nil {
					return err
				}
				txn.Epoch = in.epochs[p]
				if g.dbFenced() && epoch != in.epochs[p] {
					return fmt.Errorf("%w: %s[%d] has owner epoch %d, this instance holds %d", errDBRefused, topic, p, epoch, in.epochs[p])
				}
				next[p] = stored
			}
		}
		for _, r := range recs {
			hr := topicread.Convert(r)
			id, err := d.InputID(hr)
			if err != nil {
				return fmt.Errorf("input %s[%d]@%d: %w", r.Topic, r.Partition, r.Offset, err)
			}
			if g == DBContiguousDedup && r.Offset != next[r.Partition] {
				// The mistake: offsets taken to be contiguous, so a record
				// that is not the last applied one plus one must have been
				// applied already.
				txn.Skipped = append(txn.Skipped, id)
				next[r.Partition] = r.Offset + 1
				continue
			}
			applied, err := d.Apply(tx, hr, DBWrite{Unit: w.u.ID, Once: g == DBIdempotent})
			if err != nil {
				return fmt.Errorf("applying input %s[%d]@%d: %w", r.Topic, r.Partition, r.Offset, err)
			}
			if applied {
				txn.Applied = append(txn.Applied, id)
			} else {
				txn.Skipped = append(txn.Skipped, id)
			}
			next[r.Partition] = r.Offset + 1
		}
		if !g.PositionsInDatabase() {
			return nil
		}
		for _, p := range parts {
			if err := writePosition(ctx, tx, topic, p, next[p], in.epochs[p]); err != nil {
				return err
			}
			txn.Positions = append(txn.Positions, history.Offset{Topic: topic, Partition: p, Offset: next[p]})
		}
		return nil
	})
	if err != nil {
		return err
	}
	if g.PositionsInDatabase() {
		for p, n := range next {
			in.positions[p] = n
		}
		w.u.Offsets = txn.Positions
	}
	return nil
}

// nextUnitID numbers a new unit of work.
func (in *Instance) nextUnitID() string {
	in.mu.Lock()
	defer in.mu.Unlock()
	id := fmt.Sprintf("%s.%d#%d", in.cfg.Name, in.cfg.Incarnation, in.unitSeq)
	in.unitSeq++
	return id
}
