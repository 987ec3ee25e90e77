// Command kfakebroker runs kfake, franz-go's fake Kafka cluster, as a
// standalone process listening on loopback ports: a cluster that speaks the
// real Kafka protocol over TCP, to point a client at without installing
// Kafka. It is the broker eosim's real-cluster runs are tested against
// (issue #17); with -data it keeps its logs in a directory, so that a
// broker stopped and started again comes back with what it held.
//
//	kfakebroker                          one broker on a free port
//	kfakebroker -brokers 3 -data d       three brokers, their logs in d
//	kfakebroker -ports 9092,9093         two brokers on those ports
//
// It prints one line, "listening on host:port[,host:port…]", once every
// broker accepts connections, and runs until SIGINT or SIGTERM, when it
// closes the cluster (flushing its logs) and exits 0. Bad flags are one
// line on stderr and exit 2.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kversion"
)

// maxBrokers bounds -brokers, as sim bounds its clusters.
const maxBrokers = 9

// options are the parsed flags.
type options struct {
	brokers int
	ports   []int
	data    string
	sync    bool
	// asVersion caps the APIs the brokers answer with to a Kafka
	// release's: a cluster too old for what a client needs.
	asVersion *kversion.Versions
	asName    string
}

func parse(args []string, stderr io.Writer) (options, error) {
	var o options
	var ports string
	fs := flag.NewFlagSet("kfakebroker", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.brokers, "brokers", 0, "number of brokers (1 to 9; default: one per -ports entry, else 1)")
	fs.StringVar(&ports, "ports", "", "comma-separated ports to listen on, one per broker (default: free ports)")
	fs.StringVar(&o.data, "data", "", "directory to keep the brokers' logs in (default: memory only)")
	fs.BoolVar(&o.sync, "sync", false, "with -data, fsync every produced batch")
	fs.StringVar(&o.asName, "as-version", "", "answer only with the APIs of Kafka `release` (e.g. 0.10.2: no transactions), to see how a client meets an older cluster")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == "brokers" })
	if ports != "" {
		for _, p := range strings.Split(ports, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(p))
			if err != nil || n < 1 || n > 65535 {
				return o, fmt.Errorf("-ports: %q is not a port (1 to 65535)", p)
			}
			o.ports = append(o.ports, n)
		}
	}
	switch {
	case !set && len(o.ports) > 0:
		o.brokers = len(o.ports)
	case !set:
		o.brokers = 1
	case o.brokers < 1 || o.brokers > maxBrokers:
		return o, fmt.Errorf("-brokers: need 1 to %d, got %d", maxBrokers, o.brokers)
	case len(o.ports) > 0 && len(o.ports) != o.brokers:
		return o, fmt.Errorf("-ports names %d ports for %d brokers", len(o.ports), o.brokers)
	}
	if o.asName != "" {
		if o.asVersion = kversion.FromString(o.asName); o.asVersion == nil {
			return o, fmt.Errorf("-as-version %q: not a Kafka release kversion knows (e.g. 0.10.2, 2.8, 3.9)", o.asName)
		}
	}
	if o.sync && o.data == "" {
		return o, errors.New("-sync needs -data")
	}
	if o.data != "" {
		if st, err := os.Stat(o.data); err != nil || !st.IsDir() {
			return o, fmt.Errorf("-data %s: not a directory", o.data)
		}
	}
	return o, nil
}

func (o options) kfakeOpts() []kfake.Opt {
	opts := []kfake.Opt{kfake.NumBrokers(o.brokers)}
	if len(o.ports) > 0 {
		opts = append(opts, kfake.Ports(o.ports...))
	}
	if o.data != "" {
		opts = append(opts, kfake.DataDir(o.data))
	}
	if o.sync {
		opts = append(opts, kfake.SyncWrites())
	}
	if o.asVersion != nil {
		opts = append(opts, kfake.MaxVersions(o.asVersion))
	}
	return opts
}

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, nil)) }

// run starts the cluster, prints its addresses, and waits for a signal
// (or for stop to be closed, in tests).
func run(args []string, stdout, stderr io.Writer, stop <-chan struct{}) int {
	o, err := parse(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "kfakebroker: %v\n", err)
		return 2
	}
	c, err := kfake.NewCluster(o.kfakeOpts()...)
	if err != nil {
		fmt.Fprintf(stderr, "kfakebroker: starting the cluster: %s\n", strings.ReplaceAll(err.Error(), "\n", "; "))
		return 1
	}
	defer c.Close()
	fmt.Fprintf(stdout, "listening on %s\n", strings.Join(c.ListenAddrs(), ","))
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	select {
	case <-sig:
	case <-stop:
	}
	return 0
}
