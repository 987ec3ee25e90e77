package engine

// CrashPoint names a place in the unit-of-work path where an instance can be
// made to die abruptly. The simulator arms them; each one leaves the broker in
// a different state.
type CrashPoint string

// The crash points, in the order a unit of work reaches them.
const (
	// AfterPoll: records polled, nothing begun.
	AfterPoll CrashPoint = "after-poll"
	// AfterProcess: record Index of the unit processed (store writes
	// buffered, side effects of a peek already sent).
	AfterProcess CrashPoint = "after-process"
	// AfterProduce: outputs and changelog records acknowledged by the
	// broker, inside an open transaction.
	AfterProduce CrashPoint = "after-produce"
	// AfterSendOffsets: the consumed offsets were written to the group
	// coordinator (TxnOffsetCommit; OffsetCommit without a transaction) and
	// the answer is lost.
	AfterSendOffsets CrashPoint = "after-send-offsets"
	// BeforeCommit: everything sent but the commit itself (EndTxn; the
	// OffsetCommit without a transaction) is never written.
	BeforeCommit CrashPoint = "before-commit"
	// DuringCommit: the commit is written and its answer lost; the broker
	// commits, the instance cannot know.
	DuringCommit CrashPoint = "during-commit"
	// AfterCommit: the unit committed and the instance dies before the next.
	AfterCommit CrashPoint = "after-commit"
)

// The crash points around a database commit, reached only by a topology
// with a Database.
const (
	// BeforeDBCommit: the database transaction is written but not
	// committed; the dying process's transaction rolls back, as SQLite's
	// journal rolls back a transaction whose process died.
	BeforeDBCommit CrashPoint = "before-db-commit"
	// AfterDBCommit: the database transaction committed; the instance dies
	// before it does anything else.
	AfterDBCommit CrashPoint = "after-db-commit"
)

// DBCrashPoints lists the crash points around a database commit.
func DBCrashPoints() []CrashPoint { return []CrashPoint{BeforeDBCommit, AfterDBCommit} }

// CrashPoints lists every crash point in path order.
func CrashPoints() []CrashPoint {
	return []CrashPoint{AfterPoll, AfterProcess, AfterProduce, AfterSendOffsets, BeforeCommit, DuringCommit, AfterCommit}
}

// CrashPoints lists the crash points a unit of work reaches under g, in path
// order: a database guarantee adds those around its database commit, and
// one that writes only the database (no Kafka commit: positions in the
// database, or auto-commit) never reaches the points inside a Kafka commit.
func (g Guarantee) CrashPoints() []CrashPoint {
	switch {
	case !g.Database():
		return CrashPoints()
	case g.writesOnlyDatabase():
		return []CrashPoint{AfterPoll, AfterProcess, AfterProduce, BeforeDBCommit, AfterDBCommit, AfterCommit}
	}
	return append(CrashPoints(), DBCrashPoints()...)
}

// ParseCrashPoint returns the crash point named s.
func ParseCrashPoint(s string) (CrashPoint, error) {
	return parseName("crash point", s, append(CrashPoints(), DBCrashPoints()...))
}

// CrashSite is a place a unit of work has reached.
type CrashSite struct {
	Point CrashPoint
	// Unit is the unit's id.
	Unit string
	// Index is the record just processed, for AfterProcess; Records the
	// number of records in the unit.
	Index, Records int
}

// CrashHook decides, at each crash point a unit reaches, whether the
// instance dies there.
type CrashHook func(CrashSite) bool
