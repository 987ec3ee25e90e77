package live

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/eosim/eosim/engine"
)

// clientOpts are the options of the run's own clients (admin, input,
// snapshot) and the base of the instances'.
func clientOpts(c Config) []kgo.Opt {
	return []kgo.Opt{
		kgo.SeedBrokers(c.Bootstrap...),
		kgo.DialTimeout(c.ConnectTimeout),
		kgo.DisableClientMetrics(),
	}
}

// contact is what the first exchange with the cluster found.
type contact struct {
	adm      *kadm.Client
	close    func()
	brokers  int
	versions string // the brokers' guess of their Kafka version
}

// connect reaches the cluster within the connect timeout and checks that
// every broker has the APIs a run under g needs.
func connect(ctx context.Context, c Config, g engine.Guarantee) (contact, error) {
	for _, addr := range c.Bootstrap {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return contact{}, fmt.Errorf("%w: bootstrap address %q: %v", ErrUnreachable, addr, err)
		}
	}
	cl, err := kgo.NewClient(append(clientOpts(c), kgo.RequestRetries(1))...)
	if err != nil {
		return contact{}, fmt.Errorf("%w: %v", ErrUnreachable, err)
	}
	adm := kadm.NewClient(cl)
	cctx, cancel := context.WithTimeout(ctx, c.ConnectTimeout)
	defer cancel()
	vs, err := adm.ApiVersions(cctx)
	if err != nil {
		cl.Close()
		if errors.Is(ctx.Err(), context.Canceled) {
			return contact{}, ctx.Err()
		}
		return contact{}, fmt.Errorf("%w: no answer from %s within %v: %v", ErrUnreachable, strings.Join(c.Bootstrap, ","), c.ConnectTimeout, err)
	}
	var guesses []string
	for _, v := range vs.Sorted() {
		if v.Err != nil {
			cl.Close()
			return contact{}, fmt.Errorf("%w: broker %d did not say which APIs it has: %v", ErrUnreachable, v.NodeID, v.Err)
		}
		if missing := missingAPIs(v.KeyMaxVersion, g); len(missing) > 0 {
			cl.Close()
			return contact{}, fmt.Errorf("%w: broker %d lacks %s, which a run under %s needs", ErrUnsupported, v.NodeID, strings.Join(missing, ", "), g)
		}
		guesses = append(guesses, v.VersionGuess())
	}
	slices.Sort(guesses)
	return contact{adm: adm, close: cl.Close, brokers: len(vs), versions: strings.Join(slices.Compact(guesses), ", ")}, nil
}

// neededAPIs are the requests every run sends, with the lowest version it
// can use: the group's, the consumer's, the producer's (record headers,
// which carry the order id, came with Produce v3 and Fetch v4 in Kafka
// 0.11) and the run's own (topics made and removed).
var neededAPIs = []api{{0, 3}, {1, 4}, {2, 0}, {3, 0}, {8, 0}, {9, 0}, {10, 0}, {11, 0}, {12, 0}, {13, 0}, {14, 0}, {15, 0}, {19, 0}, {20, 0}}

// transactionAPIs are those of transactions, both protocols: a client asks
// for KIP-890's only where the broker has it, and falls back on
// AddPartitionsToTxn and AddOffsetsToTxn.
var transactionAPIs = []api{{22, 0}, {24, 0}, {25, 0}, {26, 0}, {28, 0}}

// api is a request a run sends and the lowest version it needs.
type api struct{ key, min int16 }

// missingAPIs names the APIs a run under g needs that a broker lacks, or
// has only below the version needed; has reports a broker's highest
// version of an API and whether it has it.
func missingAPIs(has func(key int16) (int16, bool), g engine.Guarantee) []string {
	want := neededAPIs
	if g.Transactional() {
		want = append(slices.Clone(want), transactionAPIs...)
	}
	var missing []string
	for _, a := range want {
		switch v, ok := has(a.key); {
		case !ok:
			missing = append(missing, kmsg.NameForKey(a.key))
		case v < a.min:
			missing = append(missing, fmt.Sprintf("%s v%d (it has v%d)", kmsg.NameForKey(a.key), a.min, v))
		}
	}
	return missing
}

// createTopics makes the run's topics and waits until every partition has
// a leader that answers.
func createTopics(ctx context.Context, adm *kadm.Client, topics map[string]int32) error {
	for _, name := range slices.Sorted(maps.Keys(topics)) {
		resp, err := adm.CreateTopic(ctx, topics[name], -1, nil, name)
		if err == nil {
			err = resp.Err
		}
		if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
			return fmt.Errorf("creating topic %s: %w", name, err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		ends, err := adm.ListEndOffsets(ctx, slices.Sorted(maps.Keys(topics))...)
		if err == nil {
			err = ends.Error()
		}
		n := 0
		ends.Each(func(kadm.ListedOffset) { n++ })
		if err == nil && n == sumPartitions(topics) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the run's topics were created but not every partition answers within 30s: %v", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// removeTopics deletes the run's topics and its group.
func removeTopics(ctx context.Context, adm *kadm.Client, group string, topics map[string]int32) error {
	var errs []error
	resp, err := adm.DeleteTopics(ctx, slices.Sorted(maps.Keys(topics))...)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		errs = append(errs, fmt.Errorf("removing the run's topics: %w", err))
	}
	gs, err := adm.DeleteGroups(ctx, group)
	if err == nil {
		err = gs.Error()
	}
	if err != nil && !errors.Is(err, kerr.GroupIDNotFound) {
		errs = append(errs, fmt.Errorf("removing the run's group: %w", err))
	}
	return errors.Join(errs...)
}

func sumPartitions(m map[string]int32) int {
	n := 0
	for _, p := range m {
		n += int(p)
	}
	return n
}
