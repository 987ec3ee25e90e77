package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kversion"

	"github.com/eosim/eosim/history"
)

// Errors a caller of Step branches on.
var (
	// ErrCrashed: the instance died at a crash point; start a new one.
	ErrCrashed = errors.New("instance crashed")
	// ErrFailed: the instance hit an error it cannot recover from in
	// place (a commit whose outcome is unknown, a fenced producer); close it
	// and start a new one, which resumes from what the broker committed.
	ErrFailed = errors.New("instance failed")
	// ErrClosed: the instance was closed or has crashed.
	ErrClosed = errors.New("instance closed")
)

// Config configures one instance of an application.
// DefaultSessionTimeout is an instance's group session timeout unless its
// Config says otherwise.
const DefaultSessionTimeout = 10 * time.Second

type Config struct {
	// AppID is the application id: the consumer group, the prefix of the
	// changelog topics and of the transactional ids.
	AppID string
	// Name identifies the instance: its client id, its transactional id
	// suffix and its place in the partition assignment. A restarted
	// instance keeps its name, so its transactional id fences its past self.
	Name string
	// Incarnation counts the starts of this name; it is part of unit ids.
	Incarnation int
	Brokers     []string
	// Dial connects to a broker; nil uses the real network.
	Dial      func(ctx context.Context, network, host string) (net.Conn, error)
	Guarantee Guarantee
	Topology  *Topology
	// StateDir holds the instance's checkpoint; empty keeps no local state.
	StateDir string
	// Disk keeps StateDir's files; nil is the operating system's file
	// system.
	Disk     Disk
	Recorder history.Recorder
	// CrashHook arms crash points; nil never crashes.
	CrashHook CrashHook
	// BeforePoll, if set, is called on the step's goroutine just before a
	// step takes the records its client has buffered. A simulator lets the
	// world come to rest there, so that which fetches have landed does not
	// depend on which goroutine the scheduler ran first.
	BeforePoll func()
	// AfterFlush, if set, is called on the unit's goroutine after each
	// flush of the unit's records, before it buffers more. A simulator
	// lets the world come to rest there: the producer's loop, woken by the
	// answer that ended the flush, may still be draining, and records
	// buffered meanwhile would go in a request of their own, cut where the
	// scheduler switched goroutines.
	AfterFlush func()
	// SessionTimeout is the group session timeout (default 10s).
	SessionTimeout time.Duration
	// TransactionTimeout must exceed SessionTimeout, or a survivor's commit
	// is fenced while the group still waits for a dead member (default 20s).
	TransactionTimeout time.Duration
	// EndTimeout bounds the end of a unit's transaction under a session
	// (default a minute, as Java's default.api.timeout.ms): past it the
	// outcome is unknown and the instance fails (see endTimeout).
	EndTimeout time.Duration
	// TransactionsV1 speaks the transaction protocol from before KIP-890
	// part 2 (Kafka 3.9 and older): partitions and the group are added to
	// a transaction with AddPartitionsToTxn and AddOffsetsToTxn, which
	// transaction protocol v2 no longer sends.
	TransactionsV1 bool
	// KeepClientAfterFailedProduce, under TransactionsV1, keeps the client
	// after a unit aborted because a send failed, as kgo documents, in
	// place of restarting the instance (see renewAfterFailedProduce): it
	// shows kgo v1.22.3's bug, and only tests set it.
	KeepClientAfterFailedProduce bool
	// TrustAbortAfterUnknownCommitError takes kgo's word that a commit
	// answered UNKNOWN_SERVER_ERROR was aborted, in place of taking its
	// outcome for unknown (see unconfirmedCommitLog): it shows kgo
	// v1.22.3's bug, and only tests set it.
	TrustAbortAfterUnknownCommitError bool
	// StaticMembership joins the group with the instance name as
	// group.instance.id, so a restarted instance takes its place at once
	// instead of waiting for the session of its dead self to expire.
	StaticMembership bool
	// ClientOpts are added to every client the instance makes; a logger
	// among them is overridden by Logger.
	ClientOpts []kgo.Opt
	// Logger is where the instance's clients log; nil logs nowhere. It is
	// a field of its own, not a kgo.WithLogger in ClientOpts, because the
	// engine reads the group client's log itself (see unconfirmed.go) and
	// must know what to pass it on to.
	Logger kgo.Logger
	// Database is the path of the SQLite file a topology with a Database
	// writes, shared by every instance of the application.
	Database string
	// DBHook, if set, is called on the step's goroutine before each
	// database call (see DBFault).
	DBHook DBHook
	// Recovery is what the instance does when a unit's commit fails
	// without fencing it: end (RecoveryRestart, the default) or abort and
	// carry on with the same client (RecoveryContinue).
	Recovery Recovery
}

func (c *Config) setDefaults() error {
	if c.AppID == "" || c.Name == "" {
		return errors.New("engine config: AppID and Name are required")
	}
	if len(c.Brokers) == 0 {
		return errors.New("engine config: no brokers")
	}
	if _, err := ParseGuarantee(string(c.Guarantee)); err != nil {
		return fmt.Errorf("engine config: %w", err)
	}
	if _, err := ParseRecovery(c.Recovery.String()); err != nil {
		return fmt.Errorf("engine config: %w", err)
	}
	if err := c.Topology.validate(); err != nil {
		return fmt.Errorf("engine config: %w", err)
	}
	if c.Disk == nil {
		c.Disk = osDisk{}
	}
	switch withDB := c.Topology.Database != nil; {
	case withDB && !c.Guarantee.Database():
		return fmt.Errorf("engine config: a topology with a database runs under a database guarantee, not %s", c.Guarantee)
	case !withDB && c.Guarantee.Database():
		return fmt.Errorf("engine config: guarantee %s needs a topology with a database", c.Guarantee)
	case withDB && c.Database == "":
		return errors.New("engine config: a topology with a database needs the database's path")
	}
	if c.Recorder == nil {
		c.Recorder = history.Discard{}
	}
	if c.Incarnation == 0 {
		c.Incarnation = 1
	}
	if c.SessionTimeout == 0 {
		c.SessionTimeout = DefaultSessionTimeout
	}
	if c.TransactionTimeout == 0 {
		c.TransactionTimeout = 2 * c.SessionTimeout
	}
	if c.EndTimeout == 0 {
		c.EndTimeout = endTimeout
	}
	if c.TransactionTimeout <= c.SessionTimeout {
		return fmt.Errorf("engine config: transaction timeout %v must exceed session timeout %v",
			c.TransactionTimeout, c.SessionTimeout)
	}
	return nil
}

// StepResult says what one step did.
type StepResult struct {
	// Records is the number of input records in the step's unit of work.
	Records int
	// Outcome is the unit's outcome; empty when there was no unit.
	Outcome history.Outcome
	// Waiting: a store partition cannot be restored yet because a
	// transaction is still open on its changelog.
	Waiting bool
}

// Instance is one running instance of an application.
type Instance struct {
	cfg    Config
	net    *network
	topics topicIndex

	// ctx ends when the instance crashes or closes, so that a request in
	// flight on cut connections gives up at once.
	ctx    context.Context
	cancel context.CancelFunc

	sess *kgo.GroupTransactSession // transactional guarantees
	cl   *kgo.Client               // consuming (and producing) client
	side *kgo.Client               // peek_side_effect's plain producer
	db   *sql.DB                   // a topology's Database

	// positions and epochs are, under the guarantees that keep positions
	// in the database, each claimed partition's next input position and
	// the owner epoch this instance claimed it with; autoCommitAt is when
	// db_auto_commit last committed. All belong to the step's goroutine.
	positions, epochs map[int32]int64
	autoCommitAt      time.Time

	stores map[string]map[int32]*storePartition
	// txnID is the transactional id, under a transactional guarantee.
	txnID string
	// topicIDs caches the ids no_group_metadata names topics by.
	topicIDs map[string][16]byte
	// consumed are the topics the instance consumes (the topology's
	// sources and repartition topics); repartitions, a multi-stage
	// topology's repartition topics by name.
	consumed     []string
	repartitions map[string]repartitionTopic
	// keyedSinks maps the keyed sinks to their partition counts.
	keyedSinks map[string]int

	mu       sync.Mutex
	assigned map[int32]bool // as the group last told us
	// assignedIn is the group generation assigned was handed out in.
	assignedIn int32
	changed    bool           // assigned changed since the last step
	current    []int32        // the assignment last recorded
	pending    map[int32]bool // assigned partitions whose stores are not loaded
	// offsetsKnown: kgo has fetched the group's committed offsets for the
	// assignment (see onOffsetsFetched).
	offsetsKnown bool
	lost         []int32 // partitions lost since the last step
	groupErr     error   // what the coordinator last answered that ended the group session
	// rebalanceWaits: a rebalance callback waits for the unit in progress
	// to end (BlockRebalanceOnPoll); cleared when the step allows it.
	rebalanceWaits bool
	unitSeq        int
	dead           bool // crashed, stopped or closed: no more units
	closed         bool // the clients are released
	failedWith     error
	// rewindFromBroker: the instance continued after a failed commit, and
	// every abort since rewinds to the offsets the broker has committed
	// (see afterAbort). It belongs to the step's goroutine.
	rewindFromBroker bool
	// timeouts are the group member's, read from its client (Timeouts).
	timeouts Timeouts
	// commits watches the group member's log for a commit kgo reported
	// aborted though it may have happened (nil: not watched).
	commits *commitWatch
}

// New validates cfg and returns an instance that is not started.
func New(cfg Config) (*Instance, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	in := &Instance{
		cfg:      cfg,
		net:      newNetwork(cfg.Dial),
		assigned: make(map[int32]bool),
		pending:  make(map[int32]bool),
		consumed: cfg.Topology.consumedTopics(cfg.AppID),
		topics:   newTopicIndex(cfg.Topology, cfg.AppID),
	}
	in.ctx, in.cancel = context.WithCancel(context.Background())
	return in, nil
}

// Name returns the instance's name.
func (in *Instance) Name() string { return in.cfg.Name }

// baseOpts are the options of every client of the instance.
func (in *Instance) baseOpts() []kgo.Opt {
	opts := append([]kgo.Opt{
		kgo.SeedBrokers(in.cfg.Brokers...),
		kgo.Dialer(in.net.DialContext),
		kgo.ClientID(in.cfg.Name),
	}, in.cfg.ClientOpts...)
	return append(opts, kgo.WithLogger(in.cfg.Logger))
}

// Start takes the checkpoint (if any), creates the clients, joins the group
// and, under a transactional guarantee, initialises the producer id, which
// fences the previous incarnation and aborts its open transaction.
func (in *Instance) Start(ctx context.Context) error {
	if err := in.loadStores(); err != nil {
		return err
	}
	if in.cfg.Topology.Database != nil {
		if err := in.openDB(ctx); err != nil {
			return err
		}
		in.autoCommitAt = time.Now()
	}
	if err := in.newClients(in.groupOpts()); err != nil {
		in.closeClients()
		return err
	}
	g := in.cfg.Guarantee
	if g.transactional() {
		// kgo initialises the producer id lazily; without this, a crashed
		// predecessor's open transaction would hold back the last stable
		// offset until it timed out.
		if _, _, err := in.cl.ProducerID(ctx); err != nil {
			in.closeClients()
			return fmt.Errorf("starting %s: initialising producer id: %w", in.cfg.Name, err)
		}
	}
	if err := in.warmProducerMetadata(ctx); err != nil {
		in.closeClients()
		return fmt.Errorf("starting %s: %w", in.cfg.Name, err)
	}
	// Only now join the group: the producer id above fenced the previous
	// incarnation and aborted its open transaction, so the offsets the
	// group hands out are final rather than pending.
	if err := in.learnRepartitions(ctx); err != nil {
		in.closeClients()
		return fmt.Errorf("starting %s: %w", in.cfg.Name, err)
	}
	in.cl.AddConsumeTopics(in.consumed...)
	in.cfg.Recorder.Record(history.Event{Kind: history.KindStart, Instance: in.cfg.Name,
		Detail: fmt.Sprintf("incarnation %d, %s", in.cfg.Incarnation, g)})
	return nil
}

// loadStores takes the checkpoint, if any, as the stores' starting state;
// a corrupt one is wiped and the stores restore from their changelogs.
func (in *Instance) loadStores() error {
	stores, err := takeCheckpoint(in.cfg.Disk, in.cfg.StateDir)
	if errors.Is(err, ErrCorruptCheckpoint) {
		in.cfg.Recorder.Record(history.Event{Kind: history.KindNote, Instance: in.cfg.Name,
			Detail: fmt.Sprintf("local state wiped, restoring from the changelog: %v", err)})
	} else if err != nil {
		return fmt.Errorf("starting %s: %w", in.cfg.Name, err)
	}
	in.stores = stores
	for _, s := range in.cfg.Topology.AllStores() {
		if in.stores[s] == nil {
			in.stores[s] = make(map[int32]*storePartition)
		}
	}
	return nil
}

// groupOpts are the options of the instance's group member, whatever its
// guarantee.
func (in *Instance) groupOpts() []kgo.Opt {
	opts := append(in.baseOpts(),
		kgo.ConsumerGroup(in.cfg.AppID),
		kgo.Balancers(&instanceBalancer{name: in.cfg.Name}),
		kgo.SessionTimeout(in.cfg.SessionTimeout),
		kgo.DisableAutoCommit(),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.OnPartitionsAssigned(in.onAssigned),
		kgo.OnPartitionsRevoked(in.onRevoked),
		kgo.OnPartitionsLost(in.onLost),
		kgo.AdjustFetchOffsetsFn(in.onOffsetsFetched),
		kgo.WithHooks(groupSessionHook{in}),
		kgo.ConsumePreferringLagFn(fetchOrder),
	)
	if in.cfg.StaticMembership {
		opts = append(opts, kgo.InstanceID(in.cfg.Name))
	}
	if len(in.consumed) > 1 {
		// With several topics per broker, kgo (v1.22.3) and a broker's
		// incremental fetch session can disagree on which partitions the
		// session holds: the broker answers a partition kgo no longer
		// asks for (it warns "broker returned topic from fetch that we
		// did not ask for"), kgo drops the answer and fetches again at
		// once, and the same answer comes back: a loop no time passes in
		// (wordcount, swarm seeds 4, 6, 14, 23, against kfake). Full
		// fetches every time avoid the disagreement.
		opts = append(opts, kgo.DisableFetchSessions())
	}
	if in.cfg.TransactionsV1 {
		opts = append(opts, kgo.MaxVersions(kversion.V3_9_0()))
	}
	if in.cfg.Guarantee.readUncommitted() {
		return append(opts, kgo.FetchIsolationLevel(kgo.ReadUncommitted()))
	}
	return append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
}

// newClients creates the group member with opts (a GroupTransactSession, a
// plain transactional client or a plain client, by guarantee) and the side
// producer of the modes that have one.
func (in *Instance) newClients(opts []kgo.Opt) error {
	g := in.cfg.Guarantee
	var err error
	// Nothing leaves before produceSync's Flush, neither on kgo's linger
	// timer nor as a batch fills. This alone does not fix where a unit's
	// records are cut into requests: the producer loop woken by the answer
	// to one flush may still drain what the unit buffers next, which only
	// a settle after the flush rules out (Config.AfterFlush).
	opts = append(opts, kgo.ManualFlushing())
	switch {
	case g.transactional():
		in.txnID = in.cfg.AppID + "-" + in.cfg.Name
		if g == FreshTransactionalID {
			in.txnID = fmt.Sprintf("%s-%d", in.txnID, in.cfg.Incarnation)
		}
		opts = append(opts, kgo.TransactionalID(in.txnID), kgo.TransactionTimeout(in.cfg.TransactionTimeout))
		if g.ownOffsets() {
			// A plain transactional client: the engine sends the offsets
			// itself (and wrongly). kgo still waits out offsets pending
			// in an open transaction (RequireStable is always on).
			in.cl, err = kgo.NewClient(opts...)
			break
		}
		// Rebalance callbacks wait until the unit that polled has ended
		// (step calls AllowRebalance), as Java's consumer runs them only
		// inside poll(). Without this, the revoke that End's forced
		// heartbeat sets off (answered REBALANCE_IN_PROGRESS) races End's
		// own check of the session for one mutex inside kgo, and whether
		// the unit commits is the scheduler's pick. A unit that reaches
		// its commit with a callback waiting aborts (see commit).
		opts = append(opts, kgo.BlockRebalanceOnPoll(), kgo.OnPartitionsCallbackBlocked(in.onRebalanceWaits))
		if !in.cfg.TrustAbortAfterUnknownCommitError {
			opts = in.watchCommits(opts)
		}
		in.sess, err = kgo.NewGroupTransactSession(opts...)
		if err == nil {
			in.cl = in.sess.Client()
		}
	default:
		in.cl, err = kgo.NewClient(opts...)
	}
	if err != nil {
		return fmt.Errorf("starting %s: creating client: %w", in.cfg.Name, err)
	}
	in.mu.Lock()
	in.timeouts = timeoutsOf(in.cl, in.cfg)
	in.mu.Unlock()
	if g.sideProducer() {
		in.side, err = kgo.NewClient(append(in.baseOpts(), kgo.RecordPartitioner(kgo.ManualPartitioner()))...)
		if err != nil {
			in.cl.Close()
			return fmt.Errorf("starting %s: creating side-effect producer: %w", in.cfg.Name, err)
		}
	}
	return nil
}

// warmProducerMetadata makes the producers learn the partitions of every
// topic they will write before the first unit. Otherwise the first produce
// loads them mid-unit, and kgo's metadata loop waits up to 10ms after its
// previous update: whether it waits depends on when that update happened,
// which shifts the unit in virtual time from one run to the next. kgo has no
// call to load a topic for producing, so each producer is given one record
// per topic at partition -1, which it fails once the metadata is in, never
// sending it.
func (in *Instance) warmProducerMetadata(ctx context.Context) error {
	var topics []string
	topics = append(topics, in.cfg.Topology.SinkTopics()...)
	topics = append(topics, in.cfg.Topology.RepartitionTopics(in.cfg.AppID)...)
	for _, s := range in.cfg.Topology.AllStores() {
		topics = append(topics, ChangelogTopic(in.cfg.AppID, s))
	}
	probe := func(cl *kgo.Client, topics []string) {
		for _, t := range topics {
			// The error is the point: the partition is invalid. Not
			// ProduceSync: its WaitGroup, waited to zero in a simulator's
			// synctest bubble, leaks 32 bytes (see topicread.Admin).
			failed := make(chan struct{})
			cl.Produce(ctx, &kgo.Record{Topic: t, Partition: -1}, func(*kgo.Record, error) { close(failed) })
			<-failed
		}
	}
	if in.cfg.Guarantee.transactional() {
		if err := in.beginTxn(); err != nil {
			return fmt.Errorf("warming producer metadata: %w", err)
		}
		probe(in.cl, topics)
		if _, err := in.endTxn(ctx, kgo.TryAbort); err != nil {
			return fmt.Errorf("warming producer metadata: %w", err)
		}
	} else {
		probe(in.cl, topics)
	}
	if in.side != nil {
		probe(in.side, topics)
	}
	return nil
}

// onAssigned takes what kgo hands it as the whole of the new generation's
// assignment, not as an addition: the balancer is eager, so every rebalance
// revokes everything first. The engine cannot count on hearing of each
// revoke: kgo's GroupTransactSession (v1.22) swallows OnPartitionsRevoked
// and OnPartitionsLost while an earlier one has not yet been ended by End,
// so a member that goes through two rebalances between units hears only the
// first revoke.
func (in *Instance) onAssigned(_ context.Context, cl *kgo.Client, m map[string][]int32) {
	ps := in.tasks(m)
	if len(ps) == 0 {
		return
	}
	_, generation := cl.GroupMetadata()
	// Paused until their stores are loaded: a first fetch then never races
	// a second partition's readiness, and nothing is polled before restore.
	cl.PauseFetchPartitions(in.everyConsumed(ps))
	in.mu.Lock()
	defer in.mu.Unlock()
	clear(in.assigned)
	for _, p := range ps {
		in.assigned[p] = true
		in.pending[p] = true
	}
	in.assignedIn = generation
	in.offsetsKnown = false
	in.changed = true
}

// onOffsetsFetched notes that kgo has the committed offsets of the new
// assignment; it changes none. Until then the assigned partitions stay
// paused: kgo fetches the offsets after OnPartitionsAssigned, again every
// second while another member's transactional offsets are pending
// (UNSTABLE_OFFSET_COMMIT), then makes each partition fetchable as its
// position is validated (OffsetForLeaderEpoch) or listed (ListOffsets), two
// requests to one broker whose order the goroutine schedule picks. A
// partition resumed before would be fetched as soon as the first of them
// came back, without the partitions the second one readies, and what a unit
// found would depend on that order (word count, swarm seed 225: partitions
// of the lines topic, with committed offsets, and of the repartition topic,
// without, led by one broker).
func (in *Instance) onOffsetsFetched(_ context.Context, offsets map[string]map[int32]kgo.Offset) (map[string]map[int32]kgo.Offset, error) {
	in.mu.Lock()
	in.offsetsKnown = true
	in.mu.Unlock()
	return offsets, nil
}

func (in *Instance) onRevoked(_ context.Context, _ *kgo.Client, m map[string][]int32) {
	in.mu.Lock()
	defer in.mu.Unlock()
	for _, p := range in.tasks(m) {
		delete(in.assigned, p)
	}
	in.changed = true
}

// onLost notes that the group fenced this member out: its session expired,
// or a newer member took its instance id. Any transaction it has open can no
// longer commit (GroupTransactSession aborts it). The note is recorded at the
// next step, not here on kgo's goroutine, where its place among the other
// events would depend on the goroutine schedule.
func (in *Instance) onLost(ctx context.Context, cl *kgo.Client, m map[string][]int32) {
	in.mu.Lock()
	in.lost = append(in.lost, in.tasks(m)...)
	in.mu.Unlock()
	in.onRevoked(ctx, cl, m)
}

// groupSessionHook hears the error that ended a group session, which kgo
// hands to OnPartitionsLost's caller but not to the callback: a zombie's
// History then names the answer that fenced it (UNKNOWN_MEMBER_ID once its
// session expired, FENCED_INSTANCE_ID once its instance id was taken).
type groupSessionHook struct{ in *Instance }

func (h groupSessionHook) OnGroupManageError(err error) {
	h.in.mu.Lock()
	defer h.in.mu.Unlock()
	h.in.groupErr = err
}

// Step does one unit of work on what is already buffered: it takes up to max
// records (0: all), in partition then offset order, processes them, and
// commits. It never waits for records, so a simulator can drive instances in
// lockstep.
func (in *Instance) Step(ctx context.Context, max int) (StepResult, error) {
	return in.step(ctx, max, 0)
}

// Run is the loop for a real cluster: it processes records as they come,
// each step waiting up to a second for them, until ctx ends. Nothing in the
// simulator calls it (the simulator drives instances in lockstep with Step);
// it is kept for running against a real cluster, the planned issue #17.
func (in *Instance) Run(ctx context.Context) error {
	for ctx.Err() == nil {
		if _, err := in.step(ctx, 0, time.Second); err != nil {
			return err
		}
	}
	return nil
}

func (in *Instance) step(ctx context.Context, max int, wait time.Duration) (StepResult, error) {
	in.mu.Lock()
	dead, failed := in.dead, in.failedWith
	in.mu.Unlock()
	if dead {
		return StepResult{}, ErrClosed
	}
	if failed != nil {
		return StepResult{}, failed
	}
	// A poll that returned records holds the group's rebalance callbacks
	// until the unit that processes them has ended, committed or not.
	defer in.allowRebalance()
	if in.syncAssignment() && in.sess != nil {
		if err := in.settleRebalance(ctx); err != nil {
			return StepResult{}, err
		}
	}
	loaded, waiting, err := in.loadPending(ctx)
	if err != nil || waiting || loaded {
		// A step that resumed partitions does not poll: their first fetch
		// would race the poll, and what the poll finds would depend on the
		// goroutine schedule.
		return StepResult{Waiting: waiting}, err
	}

	in.autoCommit(ctx)
	if in.cfg.BeforePoll != nil {
		in.cfg.BeforePoll()
	}
	recs, err := in.poll(ctx, max, wait)
	if err != nil || len(recs) == 0 {
		return StepResult{}, err
	}
	return in.unit(ctx, recs)
}

// syncAssignment records the group's latest assignment and forgets pending
// loads of partitions no longer assigned. It reports whether the assignment
// changed since the last step.
func (in *Instance) syncAssignment() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	if len(in.lost) > 0 {
		lost := slices.Sorted(slices.Values(in.lost))
		in.lost = nil
		why := ""
		if in.groupErr != nil {
			why = ": the coordinator answered " + Reason(in.groupErr)
		}
		in.cfg.Recorder.Record(history.Event{Kind: history.KindNote, Instance: in.cfg.Name,
			Detail: fmt.Sprintf("fenced out of the group: partitions %v lost%s (session expired or instance id taken over)", lost, why)})
	}
	// A generation that gave this member nothing calls no
	// OnPartitionsAssigned; should its revoke have been swallowed (see
	// onAssigned), the generation tells.
	if _, generation := in.cl.GroupMetadata(); generation != in.assignedIn && len(in.assigned) > 0 {
		clear(in.assigned)
		in.assignedIn = generation
		in.changed = true
	}
	if !in.changed {
		return false
	}
	in.changed = false
	now := make([]int32, 0, len(in.assigned))
	for p := range in.assigned {
		now = append(now, p)
	}
	sort.Slice(now, func(i, j int) bool { return now[i] < now[j] })
	for p := range in.pending {
		if !in.assigned[p] {
			delete(in.pending, p)
		}
	}
	in.current = now
	in.cfg.Recorder.Record(history.Event{Kind: history.KindAssign, Instance: in.cfg.Name,
		Partitions: append([]int32{}, now...)})
	return true
}

// settleRebalance ends an empty transaction once a rebalance that happened
// between units is handled. GroupTransactSession remembers any revoke until
// its next End, and with an eager balancer even the first join revokes (an
// empty set), so without this the first unit after every rebalance would
// abort for a rebalance that no transaction overlapped. With nothing
// produced, kgo sends no EndTxn.
func (in *Instance) settleRebalance(ctx context.Context) error {
	if err := in.sess.Begin(); err != nil {
		return in.fail(fmt.Errorf("settling a rebalance: %w", err))
	}
	if _, err := in.sess.End(in.runCtx(ctx), kgo.TryAbort); err != nil {
		return in.fail(fmt.Errorf("settling a rebalance: %w", err))
	}
	return nil
}

// loadPending brings the stores of newly assigned partitions up to the end
// of their changelogs, then resumes fetching them; it reports whether it
// loaded any. It reports waiting when a transaction is still open on a
// changelog: its records, once committed, would land below the offset read
// to.
func (in *Instance) loadPending(ctx context.Context) (loaded, waiting bool, err error) {
	in.mu.Lock()
	ps := make([]int32, 0, len(in.pending))
	for p := range in.pending {
		ps = append(ps, p)
	}
	known := in.offsetsKnown
	in.mu.Unlock()
	if len(ps) == 0 {
		return false, false, nil
	}
	if !known {
		return false, true, nil
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i] < ps[j] })
	done, err := in.loadPartitions(ctx, ps)
	if err != nil {
		return false, false, err
	}
	waiting = len(done) < len(ps)
	in.mu.Lock()
	for _, p := range done {
		delete(in.pending, p)
	}
	in.mu.Unlock()
	if len(done) > 0 {
		in.cl.ResumeFetchPartitions(in.everyConsumed(done))
	}
	return len(done) > 0, waiting, nil
}

// poll returns buffered records (waiting up to wait for some), sorted by
// partition, topic and offset, from loaded partitions only.
func (in *Instance) poll(ctx context.Context, max int, wait time.Duration) ([]*kgo.Record, error) {
	var fs kgo.Fetches
	if wait > 0 {
		pctx, cancel := context.WithTimeout(ctx, wait)
		fs = in.cl.PollRecords(pctx, max)
		cancel()
	} else {
		//lint:ignore SA1012 kgo documents a nil context as "return what is buffered, without waiting"
		fs = in.cl.PollRecords(nil, max)
	}
	// Errors are joined in partition order, not in the order kgo's fetches
	// happened to come back in.
	type fetchErr struct {
		topic string
		p     int32
		err   error
	}
	var fetchErrs []fetchErr
	fs.EachError(func(t string, p int32, err error) {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			return
		}
		fetchErrs = append(fetchErrs, fetchErr{t, p, err})
	})
	if len(fetchErrs) > 0 {
		sort.Slice(fetchErrs, func(i, j int) bool {
			a, b := fetchErrs[i], fetchErrs[j]
			return a.topic < b.topic || a.topic == b.topic && a.p < b.p
		})
		var errs error
		for _, e := range fetchErrs {
			errs = errors.Join(errs, fmt.Errorf("fetching %s[%d]: %w", e.topic, e.p, e.err))
		}
		return nil, in.fail(errs)
	}
	recs := fs.Records()
	sort.Slice(recs, func(i, j int) bool {
		if recs[i].Partition != recs[j].Partition {
			return recs[i].Partition < recs[j].Partition
		}
		if recs[i].Topic != recs[j].Topic {
			return recs[i].Topic < recs[j].Topic
		}
		return recs[i].Offset < recs[j].Offset
	})
	return recs, nil
}

// fail marks the instance as needing a restart.
func (in *Instance) fail(err error) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.failedWith == nil {
		in.failedWith = fmt.Errorf("%s: %w: %w", in.cfg.Name, ErrFailed, err)
	}
	return in.failedWith
}

// Crash kills the instance abruptly: its connections are cut, so the broker
// sees neither a leave-group nor an abort, and nothing is checkpointed.
func (in *Instance) Crash() { in.crash("external") }

func (in *Instance) crash(detail string) {
	in.mu.Lock()
	if in.dead {
		in.mu.Unlock()
		return
	}
	in.dead, in.closed = true, true
	in.mu.Unlock()
	in.net.cutAll()
	in.net.release() // a frozen instance's held writes fail on the cut wires
	in.cancel()
	in.cfg.Recorder.Record(history.Event{Kind: history.KindCrash, Instance: in.cfg.Name, Detail: detail})
	in.closeClients()
}

// Stop is the first half of a clean shutdown: the instance takes no more
// units, checkpoints its stores and records its stop; its clients stay
// connected until Close. A run that ends stops every instance before it
// closes any: a client's close takes virtual time that depends on what its
// goroutines were doing (a fetch in flight is waited for or not), and the
// next instance's stop must not move with it.
func (in *Instance) Stop() error {
	in.mu.Lock()
	if in.dead {
		in.mu.Unlock()
		return nil
	}
	in.dead = true
	failed := in.failedWith
	in.mu.Unlock()
	in.net.armDrop(-1) // a closing client's requests are not the fault's
	in.net.release()
	if failed != nil || in.stores == nil {
		return nil
	}
	err := writeCheckpoint(in.cfg.Disk, in.cfg.StateDir, in.stores)
	in.cfg.Recorder.Record(history.Event{Kind: history.KindStop, Instance: in.cfg.Name})
	return err
}

// Close shuts the instance down cleanly: Stop (checkpoint), then leave the
// group. Closing a crashed or failed instance only releases its clients.
func (in *Instance) Close() error {
	err := in.Stop()
	in.mu.Lock()
	closed := in.closed
	in.closed = true
	in.mu.Unlock()
	if !closed {
		in.closeClients()
		in.cancel()
	}
	return err
}

// closeClients closes the clients, letting go the rebalance a unit that
// polled may still hold (a crash mid-unit): kgo's leave waits for it.
func (in *Instance) closeClients() {
	if in.db != nil {
		in.db.Close()
	}
	if in.side != nil {
		in.side.Close()
	}
	if in.sess != nil {
		in.sess.CloseAllowingRebalance()
	} else if in.cl != nil {
		in.cl.Close()
	}
}

// onRebalanceWaits hears from kgo that a rebalance callback (a revoke, a
// loss, an assignment) waits for the unit in progress to end.
func (in *Instance) onRebalanceWaits(context.Context, *kgo.Client) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.rebalanceWaits = true
}

// rebalanceWaiting reports whether a rebalance waits for the unit.
func (in *Instance) rebalanceWaiting() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.rebalanceWaits
}

// allowRebalance ends what a unit's poll held: a waiting rebalance goes
// on, to be seen at the next step.
func (in *Instance) allowRebalance() {
	if in.sess == nil {
		return
	}
	in.mu.Lock()
	in.rebalanceWaits = false
	in.mu.Unlock()
	in.sess.AllowRebalance()
}

// DropConnectionsAfter arms a network fault: once the instance next writes
// a request with this Kafka API key, the connection it went on is cut. The
// broker does the work; the answer is lost; kgo dials again. A key of -1
// disarms it.
func (in *Instance) DropConnectionsAfter(apiKey int16) {
	in.net.armDrop(apiKey)
}

// DropFired reports whether the armed drop has fired since the last call.
func (in *Instance) DropFired() bool { return in.net.takeDropFired() }

// Freeze stops the instance's traffic: every write and dial waits, so its
// heartbeats stop and its session expires, as a paused process's would.
func (in *Instance) Freeze() { in.net.freeze() }

// OnHeld makes the frozen network call f each time it holds a write, so
// that whoever lets held writes go learns there is one.
func (in *Instance) OnHeld(f func()) {
	in.net.mu.Lock()
	defer in.net.mu.Unlock()
	in.net.onHeld = f
}

// Released reports whether the instance has stopped or crashed, after
// which its network holds nothing.
func (in *Instance) Released() bool {
	in.net.mu.Lock()
	defer in.net.mu.Unlock()
	return in.net.released
}

// Thaw lets the instance's traffic go again.
func (in *Instance) Thaw() { in.net.thaw() }

// ReleaseHeld lets the oldest write held by Freeze go, keeping the instance
// frozen, and reports whether there was one. Releasing one at a time, with
// the world settled between, wakes a paused process in the same order in
// every run.
func (in *Instance) ReleaseHeld() bool { return in.net.releaseOne() }

// NextHeld reports when the write ReleaseHeld would let go next was made,
// and what it is (its destination and bytes), to order writes held by
// several frozen instances.
func (in *Instance) NextHeld() (at time.Time, what string, ok bool) { return in.net.nextHeld() }
