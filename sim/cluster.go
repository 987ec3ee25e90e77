package sim

import (
	"context"
	"fmt"
	"sort"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/eosim/eosim/history"
	"github.com/eosim/eosim/internal/topicread"
)

// basePort is the first virtual port of the fake brokers.
const basePort = 19092

// Cluster is a kfake cluster on an in-memory network: every connection to
// it is a net.Pipe, which a synctest bubble treats as durably blocked, so
// broker timeouts pass in virtual time.
type Cluster struct {
	Fake    *kfake.Cluster
	Net     *kfake.VirtualNetwork
	topics  []string
	brokers int32
	// opts start the cluster again after a restart.
	opts []kfake.Opt
	// rewrite, when set, sees every answer (kfake RewriteResponses),
	// again after a restart.
	rewrite func(clientID string, req kmsg.Request, resp kmsg.Response) kmsg.Response
	// deferMarkers, when set, holds transactions' markers (kfake
	// DeferMarkers), again after a restart.
	deferMarkers func(clientID string, commit bool) bool
}

// DeferMarkers makes fn decide, for every EndTxn, whether its markers
// wait for kfake's WriteLateMarkers, now and after restarts.
func (c *Cluster) DeferMarkers(fn func(clientID string, commit bool) bool) {
	c.deferMarkers = fn
	c.Fake.DeferMarkers(fn)
}

// RewriteResponses makes fn see, and rewrite, every answer the brokers
// write, now and after restarts.
func (c *Cluster) RewriteResponses(fn func(clientID string, req kmsg.Request, resp kmsg.Response) kmsg.Response) {
	c.rewrite = fn
	c.Fake.RewriteResponses(fn)
}

// NewCluster starts brokers fake brokers with the given topics (name →
// partition count) created.
func NewCluster(brokers int, topics map[string]int32, opts ...kfake.Opt) (*Cluster, error) {
	return newCluster(brokers, topics, nil, opts...)
}

// newCluster is NewCluster whose brokers' connections tap records, if set.
func newCluster(brokers int, topics map[string]int32, tap *wireTap, opts ...kfake.Opt) (*Cluster, error) {
	vn := new(kfake.VirtualNetwork)
	listen := vn.Listen
	if tap != nil {
		listen = tap.listen(vn.Listen)
	}
	ports := make([]int, brokers)
	for i := range ports {
		ports[i] = basePort + i
	}
	opts = append([]kfake.Opt{
		kfake.NumBrokers(brokers),
		kfake.Ports(ports...),
		kfake.ListenFn(listen),
	}, opts...)
	fake, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("starting kfake: %w", err)
	}
	c := &Cluster{Fake: fake, Net: vn, opts: opts}
	askForCurrentEpoch(fake)
	// Topics are created one by one in name order: kfake keeps them in a
	// map, and creation order decides their ids and leaders.
	names := make([]string, 0, len(topics))
	for t := range topics {
		names = append(names, t)
	}
	sort.Strings(names)
	adm, closeAdm, err := c.admin()
	if err != nil {
		fake.Close()
		return nil, err
	}
	defer closeAdm()
	for _, t := range names {
		resp, err := adm.CreateTopic(context.Background(), topics[t], 1, nil, t)
		if err == nil {
			err = resp.Err
		}
		if err != nil {
			fake.Close()
			return nil, fmt.Errorf("creating topic %s: %w", t, err)
		}
		// Leaders where the layout says, not where kfake's draw put them.
		for p := range topics[t] {
			if err := fake.MoveTopicPartition(t, p, p%int32(brokers)); err != nil {
				fake.Close()
				return nil, fmt.Errorf("placing %s[%d]: %w", t, p, err)
			}
		}
	}
	c.topics = names
	c.brokers = int32(brokers)
	return c, nil
}

// Restart stops every broker and starts them again on the same ports from
// the state the cluster persists (kfake.PersistTo or kfake.DataDir): what was
// persisted at shutdown comes back; connections are cut, clients dial again.
// Leaders come back where they were, and no epoch goes back. kfake persists
// both in a snapshot, but when the snapshot does not match the log it
// replays the log, rebuilds a partition's epoch from its last batch and
// leaves its leader to chance; a real broker never takes an epoch back, so
// such a partition is moved back to its leader until its epoch is at least
// what it was.
func (c *Cluster) Restart() error {
	before := c.leaderships()
	c.Fake.Close()
	return c.start(before)
}

// leadership is a partition's leader and epoch.
type leadership struct{ leader, epoch int32 }

// leaderships returns every topic's partitions' leaderships, in partition
// order.
func (c *Cluster) leaderships() map[string][]leadership {
	ls := make(map[string][]leadership, len(c.topics))
	for _, t := range c.topics {
		for _, pi := range c.Fake.PartitionInfos(t) {
			ls[t] = append(ls[t], leadership{pi.Leader, pi.Epoch})
		}
	}
	return ls
}

// start starts the stopped brokers again and gives each partition back its
// leader, at its epoch or above.
func (c *Cluster) start(before map[string][]leadership) error {
	var fake *kfake.Cluster
	var err error
	profiled("brokers", func() { fake, err = kfake.NewCluster(c.opts...) })
	if err != nil {
		return fmt.Errorf("restarting kfake: %w", err)
	}
	c.Fake = fake
	if c.rewrite != nil {
		fake.RewriteResponses(c.rewrite)
	}
	if c.deferMarkers != nil {
		fake.DeferMarkers(c.deferMarkers)
	}
	askForCurrentEpoch(fake)
	for _, t := range c.topics {
		for p, was := range before[t] {
			now := fake.PartitionInfo(t, int32(p))
			if now == nil {
				return fmt.Errorf("restarting kfake: %s[%d] did not come back", t, p)
			}
			leader, epoch := now.Leader, now.Epoch
			for leader != was.leader || epoch < was.epoch {
				if err := fake.MoveTopicPartition(t, int32(p), was.leader); err != nil {
					return fmt.Errorf("placing %s[%d]: %w", t, p, err)
				}
				leader, epoch = was.leader, epoch+1
			}
		}
	}
	return nil
}

// askForCurrentEpoch works around kfake's answer to OffsetForLeaderEpoch
// after a leader move. kfake knows an epoch's end offset only from the
// first batch written in a later epoch; until one is written (the input
// topic never is), it answers a past epoch with "undefined", which kgo
// takes for truncation: it reports lost records and rewinds the consumer,
// at whatever moment it happened to validate. A real broker records the
// new epoch's start offset when it takes leadership and answers the past
// epoch's true end.
//
// The simulated cluster never truncates a log (no unclean election; a
// restart keeps what was written), so a past epoch's end is at or above
// every offset consumed in it, and so is the high watermark. Asking kfake
// for the current epoch, whose answer is the high watermark, leads kgo to
// the decision a real broker's answer would: keep its position. kfake's
// own checks (not the leader, fenced or unknown current epoch) still run.
func askForCurrentEpoch(fake *kfake.Cluster) {
	fake.ControlKey(int16(kmsg.OffsetForLeaderEpoch), func(req kmsg.Request) (kmsg.Response, error, bool) {
		r, ok := req.(*kmsg.OffsetForLeaderEpochRequest)
		if !ok {
			return nil, nil, false
		}
		for i := range r.Topics {
			for j := range r.Topics[i].Partitions {
				p := &r.Topics[i].Partitions[j]
				if p.CurrentLeaderEpoch >= 0 && p.LeaderEpoch < p.CurrentLeaderEpoch {
					p.LeaderEpoch = p.CurrentLeaderEpoch
				}
			}
		}
		return nil, nil, false
	})
}

// MoveLeader hands partition p of every topic to the broker after its
// current leader, and reports the new leader (or -1 when no topic has p).
func (c *Cluster) MoveLeader(p int32) (int32, error) {
	node := int32(-1)
	for _, t := range c.topics {
		cur := c.Fake.LeaderFor(t, p)
		if cur < 0 {
			continue
		}
		node = (cur + 1) % c.brokers
		if err := c.Fake.MoveTopicPartition(t, p, node); err != nil {
			return -1, fmt.Errorf("moving %s[%d]: %w", t, p, err)
		}
	}
	return node, nil
}

// ClientOpts are the options a client needs to reach the cluster.
func (c *Cluster) ClientOpts() []kgo.Opt {
	return []kgo.Opt{
		kgo.SeedBrokers(c.Fake.ListenAddrs()...),
		kgo.Dialer(c.Net.DialContext),
		kgo.DisableClientMetrics(),
	}
}

// Brokers returns the seed addresses of the cluster.
func (c *Cluster) Brokers() []string { return c.Fake.ListenAddrs() }

// Close stops the brokers.
func (c *Cluster) Close() { c.Fake.Close() }

func (c *Cluster) admin() (*topicread.Admin, func(), error) {
	return topicread.NewAdmin(c.ClientOpts())
}

// Snapshot reads topics to their end, both read_committed and
// read_uncommitted, and the offsets group has committed.
func (c *Cluster) Snapshot(ctx context.Context, group string, topics ...string) (history.Snapshot, error) {
	return topicread.Snapshot(ctx, c.ClientOpts(), group, topics...)
}
