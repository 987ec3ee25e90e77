package kfake

import (
	"path/filepath"
	"slices"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// eosim: this file is eosim's addition to kfake (see README.eosim.md).

// maxCoordinatorGenerations bounds how far MoveCoordinators looks ahead for
// a generation that moves every key.
const maxCoordinatorGenerations = 64

// MoveCoordinators moves group and transaction coordinators to other
// brokers, deterministically. RehashCoordinators starts a new hash
// generation, which may leave a coordinator on the broker it was on; this
// picks the first generation after the current one that puts every key (a
// group or transactional id) on a broker other than its current one, or,
// when none of the next 64 does, the first that moves keys[0]. Like
// RehashCoordinators it rehashes every id, whether in keys or not, so
// clients learn of the move from NOT_COORDINATOR.
//
// It returns each key's coordinator after the move, in the order of keys,
// and whether keys[0] moved; when it cannot (a one-broker cluster, or no
// key) nothing is rehashed.
func (c *Cluster) MoveCoordinators(keys ...string) (nodes []int32, moved bool) {
	c.admin(func() {
		if len(c.bs) < 2 || len(keys) == 0 {
			return
		}
		cur := c.coordinatorGen.Load()
		before := make([]*broker, len(keys))
		for i, k := range keys {
			before[i] = c.coordinatorAt(cur, k)
		}
		// The generation that moves every key, else the first that moves
		// keys[0]; with two brokers or more the hash gives one within a
		// few generations (the bound is only there to end the loop).
		var chosen, firstMoving uint64
		for gen := cur + 1; chosen == 0 && gen-cur <= 1<<16; gen++ {
			all := true
			for i, k := range keys {
				if c.coordinatorAt(gen, k) == before[i] {
					all = false
				} else if i == 0 && firstMoving == 0 {
					firstMoving = gen
				}
			}
			switch {
			case all:
				chosen = gen
			case gen-cur >= maxCoordinatorGenerations && firstMoving != 0:
				chosen = firstMoving
			}
		}
		if chosen == 0 {
			return
		}
		c.coordinatorGen.Store(chosen)
		for _, k := range keys {
			nodes = append(nodes, c.coordinatorAt(chosen, k).node)
		}
		moved = true
	})
	return nodes, moved
}

// logStartFileName is the file in a partition's directory that keeps its
// log start offset once DeleteRecords has trimmed every segment.
const logStartFileName = "log-start-offset.json"

// persistLogStart records pd's log start offset when trimLeft has removed
// all of pd's segments. Upstream loses it then: recovery rebuilds the log
// end offset from the segments left, none, and the partition restarts at
// offset 0 below the offsets its consumers committed. Kafka never deletes
// a log's active segment and keeps the log start offset in its
// log-start-offset-checkpoint file, so its log end offset survives a
// restart.
func (c *Cluster) persistLogStart(pd *partData) {
	path := filepath.Join(partDir(c.storageDir, pd.t, pd.p), logStartFileName)
	if err := writeJSONFile(c.fs, path, pd.logStartOffset); err != nil {
		c.cfg.logger.Logf(LogLevelWarn, "partition %s-%d: persisting the log start offset: %v", pd.t, pd.p, err)
	}
}

// loadLogStart brings back, after pd's segments are loaded, the log start
// offset persistLogStart recorded: when no batch survived it is also the
// log end offset, the high watermark and the last stable offset.
func (c *Cluster) loadLogStart(pd *partData, fsys fs, pdir string) error {
	var start int64
	ok, err := readJSONFile(fsys, filepath.Join(pdir, logStartFileName), &start)
	if err != nil || !ok {
		return err
	}
	if pd.hasBatches() {
		pd.logStartOffset = max(pd.logStartOffset, min(start, pd.highWatermark))
		return nil
	}
	pd.logStartOffset = start
	pd.highWatermark = start
	pd.recalculateLSO()
	return nil
}

// RewriteResponses makes fn see every answer the cluster writes from its run
// loop, with the client id and the request answered, and write what fn
// returns instead (nil fn: none). fn runs on the run loop: it must not block
// or call back into the cluster. Answers a group writes later (a JoinGroup
// or SyncGroup parked until the rebalance completes) do not pass through
// it. eosim rewrites answers the way a real broker may give them and kfake
// never does: throttled, in another legal order, partial.
func (c *Cluster) RewriteResponses(fn func(clientID string, req kmsg.Request, resp kmsg.Response) kmsg.Response) {
	c.admin(func() { c.rewrite = fn })
}

// CurrentClientID is the client id of the request the run loop is handling.
// It is valid only within a control function or a Fault's When, which run
// on the loop. eosim matches by it the requests of an instance that carry
// no id of their own (a fetch, a metadata request).
func (c *Cluster) CurrentClientID() string { return c.currentClientID }

// lateTxn is a transaction whose EndTxn was answered before its markers
// were written: its partitions keep it open (their last stable offset
// stays below its records) until WriteLateMarkers writes them.
type lateTxn struct {
	pidinf    *pidinfo
	parts     tps[partData]
	partBytes tps[int]
	epoch     int16
	commit    bool
}

// DeferMarkers makes fn see every EndTxn that ends a transaction with
// partitions, with the client id and whether it commits; when fn says so,
// the EndTxn is answered and the transaction's offsets committed at once,
// but its markers wait for WriteLateMarkers (nil fn: none wait). A real
// coordinator answers EndTxn once PrepareCommit is in its log and writes
// the markers to the partitions' leaders after, retrying while a leader
// is away; kfake writes them before it answers. Meanwhile, as a real
// coordinator does, it answers the producer's InitProducerID,
// AddPartitionsToTxn, AddOffsetsToTxn, EndTxn and transactional Produce
// with CONCURRENT_TRANSACTIONS. fn runs on the run loop: it must not block
// or call back into the cluster.
func (c *Cluster) DeferMarkers(fn func(clientID string, commit bool) bool) {
	c.admin(func() { c.deferMarkers = fn })
}

// endTxLate ends pidinf's transaction as endTx does, but leaves its
// markers to WriteLateMarkers.
func (pidinf *pidinfo) endTxLate(commit bool) {
	l := &lateTxn{pidinf: pidinf, parts: pidinf.txParts, partBytes: pidinf.txPartBytes, epoch: pidinf.epoch, commit: commit}
	pidinf.applyTxOffsets(commit)
	pidinf.resetTx(commit)
	pidinf.late = l
	c := pidinf.pids.c
	c.lateTxns = append(c.lateTxns, l)
}

// WriteLateMarkers writes the markers of the first n transactions whose
// markers DeferMarkers held, oldest first, and returns how many it wrote.
func (c *Cluster) WriteLateMarkers(n int) (written int) {
	c.admin(func() {
		n = max(0, min(n, len(c.lateTxns)))
		for _, l := range c.lateTxns[:n] {
			l.pidinf.writeMarkers(l.parts, l.partBytes, l.epoch, l.commit)
			if l.pidinf.late == l {
				l.pidinf.late = nil
			}
		}
		c.lateTxns = slices.Delete(c.lateTxns, 0, n)
		written = n
	})
	return written
}

// LateMarkers is the number of transactions whose markers wait for
// WriteLateMarkers.
func (c *Cluster) LateMarkers() (n int) {
	c.admin(func() { n = len(c.lateTxns) })
	return n
}

// any reports whether tps holds a partition.
func (tps *tps[V]) any() bool {
	for _, ps := range *tps {
		if len(ps) > 0 {
			return true
		}
	}
	return false
}

// MemoryDisk is a disk in memory that outlives the clusters persisting to
// it (PersistTo).
type MemoryDisk struct{ fs *memFS }

// NewMemoryDisk returns an empty MemoryDisk.
func NewMemoryDisk() *MemoryDisk { return &MemoryDisk{fs: newMemFS()} }

// PersistTo is DataDir on d: the cluster writes its state to d as it would to
// a directory, and a cluster started on a d that an earlier one persisted to
// comes back with what that one left. No file is opened and nothing is
// synced: a simulated broker restart costs no system call.
func PersistTo(d *MemoryDisk) Opt { return withFS(d.fs) }

// recordBytes is how many bytes of record batches the answer r carries (a
// fetch's), for the writer to size its buffer once rather than grow it
// through every batch.
func recordBytes(r kmsg.Response) int {
	f, ok := r.(*kmsg.FetchResponse)
	if !ok {
		return 0
	}
	n := 0
	for i := range f.Topics {
		for j := range f.Topics[i].Partitions {
			n += len(f.Topics[i].Partitions[j].RecordBatches) + 64
		}
	}
	return n
}

// GroupState is what a DescribeGroups answer says of group: its state
// ("Stable", "PreparingRebalance", …; "Dead" when there is no such group)
// and the instance ids of its static members, sorted. It asks the run loop
// directly: a simulator that looks at the group between its steps puts no
// request on the wire for it.
func (c *Cluster) GroupState(group string) (state string, instanceIDs []string) {
	c.admin(func() {
		g, ok := c.groups.gs[group]
		if !ok {
			state = groupDead.String()
			return
		}
		state = g.state.String()
		for _, m := range g.members {
			if m.instanceID != nil {
				instanceIDs = append(instanceIDs, *m.instanceID)
			}
		}
	})
	slices.Sort(instanceIDs)
	return state, instanceIDs
}

// CommittedOffsets is what an OffsetFetch of all of group's partitions
// answers without RequireStable: its committed offsets by topic and
// partition (a transaction's once it committed), nil when there is no such
// group. Like GroupState it asks the run loop directly: a simulator that
// looks between its steps puts no request on the wire, and no admin
// client's goroutines in its way.
func (c *Cluster) CommittedOffsets(group string) map[string]map[int32]int64 {
	var offsets map[string]map[int32]int64
	c.admin(func() {
		g, ok := c.groups.gs[group]
		if !ok {
			return
		}
		offsets = make(map[string]map[int32]int64)
		g.commits.each(func(t string, p int32, oc *offsetCommit) {
			if offsets[t] == nil {
				offsets[t] = make(map[int32]int64)
			}
			offsets[t][p] = oc.offset
		})
	})
	return offsets
}

// HighWatermarks is what a ListOffsets for the latest offsets of topics
// answers (read_uncommitted): each partition's high watermark by topic, a
// topic that does not exist left out. It asks the run loop directly, as
// CommittedOffsets does.
func (c *Cluster) HighWatermarks(topics ...string) map[string]map[int32]int64 {
	ends := make(map[string]map[int32]int64)
	c.admin(func() {
		for _, t := range topics {
			ps, ok := c.data.tps[t]
			if !ok {
				continue
			}
			ends[t] = make(map[int32]int64, len(ps))
			for p, pd := range ps {
				ends[t][p] = pd.highWatermark
			}
		}
	})
	return ends
}

// fetchPick is a batch a fetch answer will carry: its segment and its
// index entry.
type fetchPick struct {
	seg  int
	meta *batchMeta
}
