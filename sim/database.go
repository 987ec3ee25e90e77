package sim

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/eosim/eosim/engine"
	"github.com/eosim/eosim/faults"
	"github.com/eosim/eosim/history"
	"github.com/eosim/eosim/internal/sqlitedb"
)

// ErrDatabaseFile is wrapped by the error of a Config.DatabaseFile that
// cannot be used: a file that is there and is not a SQLite database (it is
// never overwritten), or a path where none can be made.
var ErrDatabaseFile = errors.New("database file")

// openDatabase makes the run's database, for a scenario with one: a new
// file (Config.DatabaseFile, or one in the state directory) with the
// application's tables, and the world's own connection to it, with which
// the driver locks the database (db-busy), reads the input positions kept
// there, and the judge reads the tables.
func (w *world) openDatabase(ctx context.Context) error {
	d := w.scenario.Topology(w.params).Database
	if d == nil {
		return nil
	}
	w.dbPath = w.cfg.DatabaseFile
	if w.dbPath == "" {
		w.dbPath = filepath.Join(w.stateDir, "app.db")
	} else if err := replaceDatabaseFile(ctx, w.dbPath); err != nil {
		return err
	}
	db, err := sqlitedb.Open(w.dbPath)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrDatabaseFile, err)
	}
	if err := engine.CreateTables(ctx, db, d); err != nil {
		db.Close()
		return fmt.Errorf("%w %s: %w", ErrDatabaseFile, w.dbPath, err)
	}
	w.db = db
	return nil
}

// replaceDatabaseFile clears the way for a new database at path: a SQLite
// database there (a previous run's) is removed, anything else is refused.
func replaceDatabaseFile(ctx context.Context, path string) error {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err := sqlitedb.Check(ctx, path); err != nil {
		return fmt.Errorf("%w: %s is there and is not a sound SQLite database, so it is not overwritten: %w", ErrDatabaseFile, path, err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%w: %w", ErrDatabaseFile, err)
		}
	}
	return nil
}

// databaseTables checks the run's database and reads its tables for the
// judge. A database that fails SQLite's integrity check is an error: a run
// whose evidence is damaged is never judged a pass.
func (w *world) databaseTables(ctx context.Context) (map[string][]history.Row, error) {
	if w.db == nil {
		return nil, nil
	}
	if err := sqlitedb.Check(ctx, w.dbPath); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrDatabaseFile, err)
	}
	tables, err := sqlitedb.ReadTables(ctx, w.db)
	if err != nil {
		return nil, fmt.Errorf("%w %s: %w", ErrDatabaseFile, w.dbPath, err)
	}
	return tables, nil
}

// closeDatabase closes the world's connection.
func (w *world) closeDatabase() {
	if w.db != nil {
		w.db.Close()
		w.db = nil
	}
}

// armedDBFault is a db-busy, db-lost or db-slow fault armed on an
// instance, waiting for its next database call of the kind it is aimed at.
type armedDBFault struct {
	index int // in the schedule
	fault faults.Fault
	// taken: a call was aimed at; done: the call returned and fired says
	// whether the fault took effect, why not if it did not. Set on the
	// unit's goroutine, read by the driver.
	taken, done, fired atomic.Bool
	why                atomic.Pointer[string]
}

func (a *armedDBFault) settle(fired bool, why string) {
	a.fired.Store(fired)
	a.why.Store(&why)
	a.done.Store(true)
}

// dbHook is the database hook of slot s: it fires the slot's armed
// database fault at the call it is aimed at.
func (w *world) dbHook(s *slot) engine.DBHook {
	return func(site engine.DBSite) engine.DBFault {
		a := s.db.Load()
		if a == nil || a.taken.Load() {
			return engine.DBFault{}
		}
		switch a.fault.Kind {
		case faults.DBBusy:
			if site.Call != engine.DBBegin {
				return engine.DBFault{}
			}
			a.taken.Store(true)
			release, err := w.lockDB()
			if err != nil {
				a.settle(false, "the driver could not lock the database: "+err.Error())
				return engine.DBFault{}
			}
			return engine.DBFault{Done: func(err error) {
				release()
				a.settle(sqlitedb.IsBusy(err), fmt.Sprintf("the %s began anyway (%v)", site.Purpose, err))
			}}
		case faults.DBLost:
			if site.Call != engine.DBCommit {
				return engine.DBFault{}
			}
			a.taken.Store(true)
			return engine.DBFault{LoseAnswer: true, Done: func(err error) {
				a.settle(err == nil, fmt.Sprintf("the commit failed on its own: %v", err))
			}}
		case faults.DBSlow:
			if site.Call != engine.DBBegin || s.held {
				// A step is held at most once (see slot.held).
				return engine.DBFault{}
			}
			a.taken.Store(true)
			w.holdTxn(s, a)
		}
		return engine.DBFault{}
	}
}

// holdTxn holds the unit before its database transaction begins, for the
// fault's delay, as a pause holds it at a crash point, but with its
// client's traffic going on (heartbeats and all): the database is slow to
// answer, the process is not. It holds no lock meanwhile, so other
// instances go on writing.
func (w *world) holdTxn(s *slot, a *armedDBFault) {
	// Off the millisecond grid, and apart per instance, as a held
	// request's wake-up is (armDelay).
	d := time.Duration(a.fault.DelayMs)*time.Millisecond + 137*time.Microsecond +
		time.Duration(a.fault.Instance[0]-'a')*time.Millisecond
	s.slowDB = true
	if d > maxPollInterval {
		s.evictAt = time.Now().Add(maxPollInterval)
	}
	s.hold(&armedFault{index: a.index, fault: a.fault}, d)
}

// maxPollInterval is how long a unit may be held at a slow database before
// its member leaves the group. Java's consumer does so once poll() has not
// been called for max.poll.interval.ms (five minutes by default; here
// scaled down with the session timeout): its heartbeat thread sends
// LeaveGroup and stops, and the member rejoins only at its next poll,
// while the process goes on with what it polled. kgo has no such timer, so
// the driver sends the LeaveGroup (by the member's instance id, as an
// operator's leave does) and holds the member's traffic until its unit
// ends, so that it cannot rejoin before. (A static member of Java's leaves
// no group at a poll timeout; it stops heartbeating and its session
// expires. The driver follows the dynamic members most deployments run.)
// That is the zombie a slow database makes: out of the group, still
// writing.
const maxPollInterval = 12 * time.Second

// evictSlow makes the members whose unit a slow database has held past
// maxPollInterval leave the group.
func (w *world) evictSlow(ctx context.Context) {
	for _, s := range w.slots {
		if s.pending == nil || s.evictAt.IsZero() || time.Now().Before(s.evictAt) {
			continue
		}
		s.evictAt = time.Time{}
		// Nothing of the member's goes out until its unit ends: no
		// heartbeat, no rejoin (resumePaused lets it go).
		w.settle()
		w.asleep[s.in] = true
		detail := fmt.Sprintf("left the group: its unit held past the poll interval (%v)", maxPollInterval)
		if _, err := w.adm.LeaveGroup(ctx, kadm.LeaveGroup(w.cfg.AppID()).InstanceIDs(s.name)); err != nil {
			detail = "could not leave the group: " + engine.Reason(err)
		}
		w.log.Record(history.Event{Kind: history.KindFault, Instance: s.name, Fault: string(faults.DBSlow), Detail: detail})
		w.settle()
	}
}

// lockDB takes the database's write lock from the world's connection, as
// another process's open write transaction would hold it; release lets go.
func (w *world) lockDB() (release func(), err error) {
	tx, err := w.db.Begin()
	if err != nil {
		return nil, err
	}
	return func() { _ = tx.Rollback() }, nil
}

// checkDBFired records the slot's database fault once its call returned.
func (w *world) checkDBFired(s *slot) {
	a := s.db.Load()
	if a == nil || !a.done.Load() {
		return
	}
	s.db.Store(nil)
	if a.fired.Load() {
		w.fired(a.index, a.fault.String())
		return
	}
	w.noEffect(a.index, *a.why.Load())
}

// inputTargets returns, per partition, the offset past the last input
// record: where a consumer that processed all of it stands. With
// transactional input the partition's end offset lies beyond it, past the
// last commit marker.
func (w *world) inputTargets() map[int32]int64 {
	targets := make(map[int32]int64)
	for _, r := range w.log.Inputs() {
		targets[r.Partition] = max(targets[r.Partition], r.Offset+1)
	}
	return targets
}

// dbInputDone reports whether a scenario with a database has processed its
// input: the positions its consumers stand at (in the database, or in the
// group's committed offsets) reached every partition's last input record.
func (w *world) dbInputDone(ctx context.Context, topic string) (bool, error) {
	var at map[int32]int64
	if w.cfg.Guarantee.PositionsInDatabase() {
		var err error
		if at, err = engine.ReadPositions(ctx, w.db, topic); err != nil {
			return false, err
		}
	} else {
		at = w.cluster.Fake.CommittedOffsets(w.cfg.AppID())[topic] // as inputDone reads them
	}
	for p, target := range w.inputTargets() {
		if at[p] < target {
			return false, nil
		}
	}
	return true, nil
}

// dbConn is what the world keeps of the run's database.
type dbConn struct {
	dbPath string
	db     *sql.DB
}
