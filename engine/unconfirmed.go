package engine

import (
	"errors"
	"strings"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kgo"
)

// kgo (v1.22.3) answers a commit whose EndTxn came back
// UNKNOWN_SERVER_ERROR by ending the transaction again as an abort, which
// sends nothing (the transaction is over on the client), and End reports
// "not committed" without an error, rewinding the consumer to the offsets
// the client last saw committed. The broker may well have committed: the
// error can come after the coordinator wrote the commit, and a later
// coordinator completes it. The caller then processes the same records
// again and commits them twice. Kafka's Java producer makes that error
// fatal to the transaction, and Kafka Streams revives the task from what
// the broker has committed. kgo says nothing of it but a log line, so the
// engine watches its log for that line and takes the unit's outcome for
// unknown, as after any commit that failed: it restarts the instance, or,
// under RecoveryContinue, rewinds to the offsets the broker has committed.
const unconfirmedCommitLog = "end transaction returned an unknown server error"

// errUnconfirmedCommit is the unit's error when kgo reported such a
// commit aborted.
var errUnconfirmedCommit = errors.New("kgo reported the transaction aborted after EndTxn's commit was answered UNKNOWN_SERVER_ERROR: the broker may have committed it")

// commitWatch is the group member's logger: it passes kgo's log on to the
// logger the instance was given and notes the line above.
type commitWatch struct {
	inner       kgo.Logger
	unconfirmed atomic.Bool
}

func (l *commitWatch) Level() kgo.LogLevel {
	if l.inner != nil && l.inner.Level() > kgo.LogLevelInfo {
		return l.inner.Level()
	}
	return kgo.LogLevelInfo
}

func (l *commitWatch) Log(level kgo.LogLevel, msg string, keyvals ...any) {
	if strings.HasPrefix(msg, unconfirmedCommitLog) {
		l.unconfirmed.Store(true)
	}
	if l.inner != nil && level <= l.inner.Level() {
		l.inner.Log(level, msg, keyvals...)
	}
}

// taken reports whether the line was logged since the last call.
func (l *commitWatch) taken() bool { return l != nil && l.unconfirmed.Swap(false) }

// watchCommits makes opts log through a commitWatch over Config.Logger.
func (in *Instance) watchCommits(opts []kgo.Opt) []kgo.Opt {
	in.commits = &commitWatch{inner: in.cfg.Logger}
	return append(opts, kgo.WithLogger(in.commits))
}
