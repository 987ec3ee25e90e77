package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/eosim/eosim/engine"
	"github.com/eosim/eosim/faults"
	"github.com/eosim/eosim/scenarios"
	"github.com/eosim/eosim/scoreboard"
	"github.com/eosim/eosim/sim"
)

// options are simrun's parsed command line.
type options struct {
	cfg              sim.Config
	firstSeed        uint64
	lastSeed         uint64
	sweep            bool
	schedulePath     string
	saveSchedulePath string
	historyPath      string
	historyTextPath  string
	reportPath       string
	clientLogPath    string
	// wirePath receives what the brokers read and wrote (sim.Result.Wire).
	wirePath string
	// cpuProfilePath and memProfilePath, when set, receive pprof profiles
	// of the whole command.
	cpuProfilePath   string
	memProfilePath   string
	jsonOutput       bool
	checkDeterminism bool
	// repeat is how many times -check-determinism runs each seed.
	repeat int
	// wallLimit bounds each run's wall time (0: no limit).
	wallLimit  time.Duration
	shrink     bool
	shrinkRuns int
	outPath    string
	scoreboard bool
	// markdown prints the scoreboard as Markdown, headed by its source.
	markdown bool
	// args are the command line, for the Markdown table's provenance.
	args    []string
	modes   []engine.Guarantee
	workers int
	// shard and shards select every shards-th seed of a sweep, from the
	// shard-th (1-based).
	shard, shards int
	// set records which flags were given, for the replay command.
	set map[string]bool
	// bootstrap, when set, runs against a real cluster (package live)
	// instead of the simulator; keep leaves the run's topics there;
	// connectTimeout bounds the first contact.
	bootstrap      []string
	keep           bool
	connectTimeout time.Duration
	// coverage prints the map of the fault space a run or a sweep reached;
	// explore steers a sweep's rounds toward the cells not yet reached;
	// exploreWide, over the wide fault space (-explore -swarm=cells)
	// rather than the catalogue.
	coverage, explore, exploreWide bool
}

// errHelp is returned for -h: usage goes to stdout and the exit code is 0.
var errHelp = errors.New("help requested")

const usageText = `simrun runs the eosim simulator: a kfake cluster, engine instances and a
fault schedule, all from one seed, in virtual time; then it judges the run.

Usage:
  go run -tags synctests ./cmd/simrun [flags]

Examples:
  simrun -seed 1 -crash-rate 0.1                    one run, exactly_once_v2
  simrun -seeds 1-200 -crash-rate 0.1               a sweep of 200 seeds
  simrun -seeds 1-200 -guarantee at_least_once      watch the checkers catch ALOS
  simrun -seeds 1-500 -swarm                        every fault family, mixed per seed
  simrun -seeds 1-2000 -swarm=cells -coverage       each seed focused on 1-3 cells of the whole
                                                    fault space (every error the protocol allows, …)
  simrun -scoreboard -swarm=reactions               each seed keeps about half the client's reactions
                                                    (abort, fenced, unknown outcome, stall, …)
  simrun -seed 2 -pause-rate 0.1 -broker-rate 0.2   zombies and broker errors
  simrun -seed 7 -save-schedule s.json              keep a run's plan (its schedule, swarm's picks)
  simrun -seed 7 -schedule s.json                   replay it
  simrun -seeds 1-100 -check-determinism            every seed 3 times (GOMAXPROCS alternating),
                                                    hashes compared
  simrun -seed 3 -history h.jsonl                   write the History as JSON Lines
  simrun -seed 3 -history-text -                    print it as text, one event per line
  simrun -seed 3 -client-log kgo.log                kgo's debug log of the run, in virtual time
  simrun -seed 3 -wire -                            what the brokers read and answered, in virtual time
  simrun -seed 7 -guarantee at_least_once -report r.html
                                                    an HTML timeline of the run and its anomalies
  simrun -seeds 1-50 -json | tail -1                a sweep as JSON; the last line sums it up
  simrun -seed 4 -guarantee at_least_once -shrink -o min.json
                                                    shrink a failure to a minimal plan
  simrun -seeds 1-10000 -shard 2/4                  the second of four slices of a sweep
  simrun -scoreboard -o scoreboard.json             how fast every mistake mode is caught
                                                    (seeds 1-200, swarm faults; -seeds, -modes)
  simrun -seeds 1-100 -cpuprofile cpu.out           where a sweep's time goes (go tool pprof cpu.out)
  simrun -seed 1 -scenario orders-db                the orders pipeline writing to SQLite, under
                                                    db_positions_fenced (the scenario's first guarantee)
  simrun -seeds 1-50 -scenario orders-db -guarantee db_then_kafka -database-rate 0.1
                                                    a database mistake mode under database faults
  simrun -seed 3 -scenario orders-db -db run.db     keep the run's SQLite database in run.db
                                                    (sqlite3 run.db 'SELECT * FROM ledger')
  simrun -seeds 1-300 -swarm -coverage              the map of the fault space a sweep reached, and
                                                    the cells it never reached (and why)
  simrun -seeds 1-20 -focus 'drop after EndTxn,join' every fault from these cells, at a high rate
  simrun -seeds 1-96 -explore                       rounds of seeds focused on the cells not yet
                                                    reached; ends with the map
  simrun -seeds 1-2000 -swarm=cells -explore        the same over the wide fault space
  simrun -seeds 1-200 -checkers oracle              judge by the generic oracle alone (the topology
                                                    run serially over the committed input)
  simrun -bootstrap localhost:9092 -orders 200 -crash-rate 0.3
                                                    the same checks against a real cluster over TCP, in
                                                    real time (not replayable; needs no build tag)

Exit codes: 0 pass, 1 anomaly (or nondeterminism), 2 usage error, 3 unknown
(the run could not finish its input, so it proves nothing), 4 stuck (the run
never ended: a wait of the driver passed its limit in virtual time, or the run
passed -wall-limit), 130 interrupted (Ctrl-C; what finished is reported). A
sweep exits with the first that applies of 1, 130, 4, 3.

Flags:
`

// parseOptions parses args (without the program name). The checks run in a
// fixed order and the first that fails is the error, so that a command line
// with several mistakes always gets the same message.
func parseOptions(args []string, stdout io.Writer) (options, error) {
	def := sim.DefaultConfig()
	o := options{cfg: def, set: map[string]bool{}}
	fs := flag.NewFlagSet("simrun", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	raw := o.defineFlags(fs, def)

	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, printUsage(fs, stdout)
		}
		// -swarm is a switch that may name its style: not a boolean.
		return o, errors.New(strings.Replace(err.Error(), "invalid boolean value", "invalid value", 1))
	}
	if *raw.help {
		return o, printUsage(fs, stdout)
	}
	if *raw.scenario == "list" {
		// The scenarios this binary knows, with their guarantees (the
		// correct one first); an App registers more from its own tests.
		for _, name := range scenarios.Names() {
			if sc, err := scenarios.Lookup(name); err == nil {
				fmt.Fprintf(stdout, "%s\t%s\n", name, joinGuarantees(sc.Guarantees()))
			}
		}
		return o, errHelp
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	fs.Visit(func(f *flag.Flag) { o.set[f.Name] = true })
	if o.wallLimit < 0 {
		return o, fmt.Errorf("-wall-limit %v: need 0 (no limit) or more", o.wallLimit)
	}
	if o.set["inputs"] && o.set["orders"] {
		return o, errors.New("-inputs and -orders are one flag: give one")
	}
	if o.repeat < 2 {
		return o, fmt.Errorf("-repeat %d: need at least 2 runs to compare", o.repeat)
	}
	if o.set["repeat"] && !o.checkDeterminism {
		return o, errors.New("-repeat counts the runs of -check-determinism: use it with -check-determinism")
	}
	if err := o.pickGuaranteeAndSeeds(raw); err != nil {
		return o, err
	}
	if o.set["focus"] {
		for _, cell := range strings.Split(*raw.focus, ",") {
			if cell = strings.Join(strings.Fields(cell), " "); cell != "" {
				o.cfg.Focus = append(o.cfg.Focus, cell)
			}
		}
		if len(o.cfg.Focus) == 0 {
			return o, errors.New("-focus: want cells, comma-separated (simrun -coverage names them)")
		}
		for name := range o.set {
			if strings.HasSuffix(name, "-rate") {
				return o, fmt.Errorf("-focus draws every fault from its cells at a rate of its own: drop -%s", name)
			}
		}
	}
	o.args = args
	if err := o.checkTableAndWorkerFlags(); err != nil {
		return o, err
	}
	// -scoreboard picks its own guarantees and seeds and takes none of the
	// one-run flags, so it has checks of its own.
	if o.scoreboard {
		if err := o.scoreboardOptions(*raw.modes); err != nil {
			return o, err
		}
		return o, nil
	}
	if err := o.runOptions(*raw.shard); err != nil {
		return o, err
	}
	return o, o.liveOptions(*raw.bootstrap)
}

// rawFlags are the flags that do not go straight into options: they are
// parsed, or only read once the other flags are known.
type rawFlags struct {
	seed                                     *uint64
	seeds, scenario, guarantee, modes, shard *string
	bootstrap, focus, recovery               *string
	help                                     *bool
}

// defineFlags defines every flag of simrun on fs: those that need no
// parsing write into o (and o.cfg, starting from def), the others are
// returned.
func (o *options) defineFlags(fs *flag.FlagSet, def sim.Config) rawFlags {
	var raw rawFlags
	raw.seed = fs.Uint64("seed", def.Seed, "the seed of one run")
	raw.seeds = fs.String("seeds", "", "a sweep over seeds `A-B` (inclusive)")
	raw.scenario = fs.String("scenario", def.Scenario, "the workload: "+strings.Join(scenarios.Names(), ", ")+" (list: each with its guarantees)")
	fs.IntVar(&o.cfg.Inputs, "inputs", def.Inputs, "number of input records (orders, for the orders scenarios)")
	fs.IntVar(&o.cfg.Inputs, "orders", def.Inputs, "the same as -inputs")
	fs.IntVar(&o.cfg.Partitions, "partitions", def.Partitions, "partitions of every topic")
	fs.IntVar(&o.cfg.Instances, "instances", def.Instances, "engine instances")
	fs.IntVar(&o.cfg.Brokers, "brokers", def.Brokers, "brokers in the fake cluster (partition p starts on broker p mod n)")
	raw.guarantee = fs.String("guarantee", "", "processing guarantee (default: the scenario's first, which keeps exactly-once); each scenario runs under its own: "+guaranteeNames())
	fs.Float64Var(&o.cfg.Rates.Crash, "crash-rate", def.Rates.Crash, "chance per instance per step of a crash at a random crash point")
	fs.Float64Var(&o.cfg.Rates.Shutdown, "shutdown-rate", def.Rates.Shutdown, "chance per instance per step of a clean shutdown and rejoin")
	fs.Float64Var(&o.cfg.Rates.Expire, "expire-rate", 0, "chance per instance per step of a crash whose instance stays down until its session expired")
	fs.Float64Var(&o.cfg.Rates.Pause, "pause-rate", 0, "chance per instance per step of a pause mid-unit (3s, 15s or 30s): a zombie, a transaction timeout")
	fs.Float64Var(&o.cfg.Rates.Membership, "membership-rate", 0, "chance per instance per step of an instance joining or leaving the group")
	fs.Float64Var(&o.cfg.Rates.Broker, "broker-rate", 0, "chance per instance per step of a broker error on a transactional or group request")
	fs.Float64Var(&o.cfg.Rates.Network, "network-rate", 0, "chance per instance per step of a dropped connection (a request's answer lost)")
	fs.Float64Var(&o.cfg.Rates.Cluster, "cluster-rate", 0, "chance per step of a partition leader move, a coordinator move or a restart of every broker (use with -brokers > 1)")
	fs.Float64Var(&o.cfg.Rates.Database, "database-rate", 0, "chance per instance per step of a database fault: busy, answer lost, slow, or a crash just before or after a database commit (only for a scenario with a database)")
	fs.StringVar(&o.cfg.DatabaseFile, "db", "", "keep the run's SQLite database at `file` for inspection (one run of a scenario with a database; a previous run's database there is replaced, any other file refused)")
	fs.StringVar(&o.cfg.Checkers, "checkers", "", "judge runs by the scenario's own checkers (`scenario`, the default), by the generic oracle alone (oracle: the topology run serially over the committed input, compared with every topic it writes), or by both (all)")
	fs.BoolVar(&o.cfg.TransactionsV1, "txn-v1", false, "speak the transaction protocol before KIP-890 (AddPartitionsToTxn, AddOffsetsToTxn); -swarm picks one per seed unless this is given (-txn-v1=false: KIP-890 alone)")
	raw.recovery = fs.String("recovery", "restart", "after a commit that failed without fencing the instance: `restart` the instance (as Kafka Streams does), or abort and carry on with the same client (continue, as franz-go documents); -swarm picks one per seed unless this is given")
	fs.Var(swarmFlag{&o.cfg}, "swarm", "let each seed pick its faults, the transaction protocol and the recovery style: -swarm (or -swarm=families) turns each fault family on or off and draws its rate; -swarm=cells focuses each seed on 1-3 cells of the wide fault space (every error the protocol allows each request, applied or not, holds in bands, rewrites, …) at a high rate, now and then two at one step; -swarm=reactions keeps each reaction of the client (a crash, a stall, an abortable transaction, a fenced member, an outcome left unknown, a retry, a held request, a cluster event, …) on or off and focuses the seed on the catalogue's cells of those it keeps, each reaction drawn as often as the next")
	raw.focus = fs.String("focus", "", "draw every fault from these `cells` of the fault space, comma-separated, at a high rate, in place of the rates, now and then two at one step (e.g. 'broker-error Produce TRANSACTION_ABORTABLE,pause 30000ms at after-produce'; -coverage names them all; a held request's length may be a band of its client's timeouts: 'delay EndTxn past-session', with within-request, past-request, past-session or past-txn; a broker error may be any Kafka's protocol allows, 'applied' after it when the broker did the work first: 'broker-error EndTxn NOT_COORDINATOR applied'; 'rewrite Fetch partial')")
	fs.StringVar(&o.schedulePath, "schedule", "", "replay the fault schedule in `file.json` instead of generating one")
	fs.StringVar(&o.saveSchedulePath, "save-schedule", "", "write the run's plan (its fault schedule and the parameters -swarm picked) to `file.json`, before the run starts (so a run that never ends can still be replayed with -schedule)")
	fs.StringVar(&o.historyPath, "history", "", "write the run's History as JSON Lines to `file` (- for standard output)")
	fs.StringVar(&o.historyTextPath, "history-text", "", "write the run's History as readable text, one event per line, to `file` (- for standard output)")
	fs.StringVar(&o.clientLogPath, "client-log", "", "write kgo's debug log of every instance's clients, stamped with virtual time, to `file` (for two runs of a seed that part ways)")
	fs.StringVar(&o.wirePath, "wire", "", "write what the brokers read and wrote (each request's header and answer, with virtual time), one line each, to `file` (- for standard output)")
	fs.StringVar(&o.reportPath, "report", "", "write a self-contained HTML report (timeline, anomalies, evidence) to `file.html`")
	fs.BoolVar(&o.jsonOutput, "json", false, "sweeps: print one JSON object per seed and a final summary object, no progress bar")
	fs.BoolVar(&o.checkDeterminism, "check-determinism", false, "run every seed -repeat times, alternating GOMAXPROCS between repeats, and compare trace hashes")
	fs.IntVar(&o.repeat, "repeat", 3, "with -check-determinism, runs per seed (at least 2); odd repeats run with GOMAXPROCS 1 (2 on a one-CPU machine), even ones with the default")
	fs.DurationVar(&o.wallLimit, "wall-limit", 2*time.Minute, "bound each run's wall time (`duration`, 0: no limit): a run past it ends with the verdict stuck, and one that does not return within 5s more is abandoned and reported stuck")
	fs.BoolVar(&o.shrink, "shrink", false, "shrink a failing run to a minimal plan (fewer faults, orders, instances; earlier steps)")
	fs.IntVar(&o.shrinkRuns, "shrink-runs", 300, "at most this many runs while shrinking")
	fs.StringVar(&o.outPath, "o", "", "with -shrink, write the minimal plan to `file.json` (replay it with -schedule); with -scoreboard, the table as JSON")
	fs.BoolVar(&o.scoreboard, "scoreboard", false, "run every guarantee (exactly_once_v2 as the control, the weaker and mistake modes) over seeds 1-200 (or -seeds) with swarm faults and tabulate how fast each is caught")
	fs.BoolVar(&o.markdown, "markdown", false, "with -scoreboard, print the table as Markdown headed by the command, date and machine (scripts/readme-scoreboard.sh puts it in the README)")
	fs.StringVar(&o.cpuProfilePath, "cpuprofile", "", "write a CPU profile of the whole command (a run, a sweep or the scoreboard) to `file`, for go tool pprof")
	fs.StringVar(&o.memProfilePath, "memprofile", "", "write an allocation profile of the whole command to `file` as it ends, for go tool pprof")
	fs.IntVar(&o.workers, "workers", 0, "sweeps and -scoreboard: runs at once (0: one per CPU); the results do not depend on it")
	raw.modes = fs.String("modes", "", "with -scoreboard, score only these comma-separated guarantees (the scenario's correct one, exactly_once_v2 for orders and db_positions_fenced for orders-db, stays first as the control)")
	raw.shard = fs.String("shard", "", "run only slice `i/n` of a sweep's seeds (every n-th seed from the i-th)")
	raw.bootstrap = fs.String("bootstrap", "", "run against a real cluster at `host:port[,host:port…]` over TCP, in real time, instead of the simulator (see README: pointing eosim at your own cluster); such a run cannot be replayed from its seed")
	fs.BoolVar(&o.coverage, "coverage", false, "print the map of the fault space the run or sweep reached: each cell (a fault kind at a crash point, a request and its error, a held request's length, a cluster event) with what became of its faults and what the instance did next, then the cells never reached and why (with -json, in the summary)")
	fs.BoolVar(&o.explore, "explore", false, "with -seeds: run the seeds in rounds of 8, each focused (-focus) on 3 cells of the fault space the rounds before never reached, under swarm's protocol and cluster; ends with the coverage map (with -swarm=cells: cells of the wide fault space)")
	fs.BoolVar(&o.keep, "keep", false, "with -bootstrap, leave the run's topics and group on the cluster")
	fs.DurationVar(&o.connectTimeout, "connect-timeout", 10*time.Second, "with -bootstrap, how long the first contact with the cluster may take")
	raw.help = fs.Bool("h", false, "show this help")
	return raw
}

// pickGuaranteeAndSeeds sets the guarantee and scenario, and the seed range:
// -seed's one seed, or -seeds' range, which makes the run a sweep.
func (o *options) pickGuaranteeAndSeeds(raw rawFlags) error {
	o.cfg.Scenario = *raw.scenario
	if o.set["guarantee"] {
		g, err := engine.ParseGuarantee(*raw.guarantee)
		if err != nil {
			return err
		}
		o.cfg.Guarantee = g
	} else {
		o.cfg.Guarantee = defaultGuarantee(o.cfg.Scenario, o.cfg.Guarantee)
	}
	if o.set["recovery"] {
		r, err := engine.ParseRecovery(*raw.recovery)
		if err != nil {
			return fmt.Errorf("-recovery: %w", err)
		}
		o.cfg.Recovery, o.cfg.FixedRecovery = r, true
	}
	o.cfg.FixedProtocol = o.set["txn-v1"]
	var err error
	o.firstSeed, o.lastSeed = *raw.seed, *raw.seed
	if o.set["seeds"] {
		if o.set["seed"] {
			return errors.New("-seed and -seeds cannot be used together")
		}
		if o.firstSeed, o.lastSeed, err = parseSeedRange(*raw.seeds); err != nil {
			return err
		}
		o.sweep = true
	}
	return nil
}

// runsInParallel reports whether the command runs its runs -workers at a
// time: a sweep (-explore is one), -check-determinism or the scoreboard.
func (o options) runsInParallel() bool { return o.scoreboard || o.sweep || o.checkDeterminism }

// checkTableAndWorkerFlags refuses the scoreboard's own flags without
// -scoreboard, and -workers where nothing runs in parallel.
func (o *options) checkTableAndWorkerFlags() error {
	if o.markdown && !o.scoreboard {
		return errors.New("-markdown prints the scoreboard's table: use it with -scoreboard")
	}
	if o.markdown && o.jsonOutput {
		return errors.New("-markdown and -json cannot be used together: pick one form of the table")
	}
	if o.set["modes"] && !o.scoreboard {
		return errors.New("-modes picks the scoreboard's rows: use it with -scoreboard")
	}
	if o.workers < 0 {
		return fmt.Errorf("-workers %d: need 0 (one per CPU) or more", o.workers)
	}
	if o.set["workers"] && !o.runsInParallel() {
		return errors.New("-workers runs sweeps and the scoreboard in parallel: use it with -seeds, -check-determinism or -scoreboard")
	}
	return nil
}

// runOptions checks the flags of one run or a sweep (anything but
// -scoreboard): -shard, the flags that only make sense for one run, and
// -schedule, whose plan then replaces the run's config.
func (o *options) runOptions(shard string) error {
	var err error
	if o.set["shard"] {
		if !o.sweep {
			return errors.New("-shard slices a sweep: use it with -seeds")
		}
		if o.shard, o.shards, err = parseShard(shard); err != nil {
			return err
		}
	}
	if o.sweep && (o.historyPath != "" || o.historyTextPath != "" || o.reportPath != "" || o.saveSchedulePath != "" || o.clientLogPath != "" || o.wirePath != "" || o.shrink) {
		return errors.New("-history, -history-text, -report, -save-schedule, -client-log, -wire and -shrink work on one run: use them with -seed, not -seeds")
	}
	if err := o.databaseFileRuns(); err != nil {
		return err
	}
	if o.explore {
		if err := o.exploreOptions(); err != nil {
			return err
		}
	}
	if o.shrink && (o.clientLogPath != "" || o.wirePath != "") {
		return errors.New("-client-log and -wire write one run's logs: replay the plan -shrink finds with -schedule and them")
	}
	if o.jsonOutput && !o.sweep && !o.checkDeterminism {
		return errors.New("-json prints sweeps: use it with -seeds")
	}
	if o.outPath != "" && !o.shrink {
		return errors.New("-o writes the plan -shrink finds or the -scoreboard table: use it with one of them")
	}
	if o.shrinkRuns < 1 {
		return fmt.Errorf("-shrink-runs %d: need at least 1", o.shrinkRuns)
	}
	o.cfg.Seed = o.firstSeed
	if o.schedulePath != "" {
		if o.sweep {
			return errors.New("-schedule replays one run: use it with -seed, not -seeds")
		}
		plan, err := readPlan(o.schedulePath)
		if err != nil {
			return err
		}
		if !o.set["guarantee"] && plan.Guarantee == "" && plan.Scenario != "" {
			// A plan that names its scenario and no guarantee runs under
			// the scenario's default, as the command line would.
			o.cfg.Guarantee = defaultGuarantee(plan.Scenario, o.cfg.Guarantee)
		}
		if o.cfg, err = plan.Apply(o.cfg, o.set); err != nil {
			return fmt.Errorf("%s: %s", o.schedulePath, oneLine(err))
		}
		o.firstSeed, o.lastSeed = o.cfg.Seed, o.cfg.Seed
	}
	if err := o.cfg.Validate(); err != nil {
		return errors.New(oneLine(err))
	}
	return checkDatabaseDir(o.cfg.DatabaseFile)
}

// swarmFlag is -swarm: a switch (families, swarm's first style) that may
// name its style (-swarm=cells, -swarm=reactions).
type swarmFlag struct{ cfg *sim.Config }

func (f swarmFlag) IsBoolFlag() bool { return true }

func (f swarmFlag) String() string {
	if f.cfg == nil || !f.cfg.Swarm {
		return "false"
	}
	if f.cfg.SwarmStyle.PicksFocus() {
		return string(f.cfg.SwarmStyle)
	}
	return "true"
}

func (f swarmFlag) Set(s string) error {
	switch s {
	case "true":
		f.cfg.Swarm, f.cfg.SwarmStyle = true, ""
		return nil
	case "false":
		f.cfg.Swarm, f.cfg.SwarmStyle = false, ""
		return nil
	}
	st, err := faults.ParseSwarmStyle(s)
	if err != nil {
		return errors.New("want true, false, families, cells or reactions")
	}
	f.cfg.Swarm, f.cfg.SwarmStyle = true, st
	if st == faults.SwarmFamilies {
		f.cfg.SwarmStyle = "" // the default style, named as such
	}
	return nil
}

// exploreOptions checks -explore's flags: a sweep, whose faults it picks
// itself, under swarm's protocol and cluster.
func (o *options) exploreOptions() error {
	switch {
	case !o.sweep:
		return errors.New("-explore steers a sweep: use it with -seeds")
	case o.checkDeterminism:
		return errors.New("-explore and -check-determinism cannot be used together: check an explored seed's determinism with its replay command and -check-determinism")
	case len(o.cfg.Focus) > 0 || o.schedulePath != "":
		return errors.New("-explore picks each round's focus itself: drop -focus and -schedule")
	case o.cfg.SwarmStyle == faults.SwarmOfCells:
		// The rounds focus on cells of the wide space; each run is a
		// swarm run with that focus, as over the catalogue.
		o.exploreWide = true
		o.cfg.SwarmStyle = faults.SwarmFamilies
	case o.cfg.SwarmStyle.PicksFocus():
		return fmt.Errorf("-explore picks each round's focus itself: drop -swarm=%s (-swarm=cells explores the wide space)", o.cfg.SwarmStyle)
	}
	for name := range o.set {
		if strings.HasSuffix(name, "-rate") {
			return fmt.Errorf("-explore picks each round's faults itself: drop -%s", name)
		}
	}
	o.cfg.Swarm = true
	return nil
}

// databaseFileRuns refuses -db where more than one run would write the
// file: a sweep, -check-determinism's repeats, -shrink's candidates.
func (o *options) databaseFileRuns() error {
	if o.cfg.DatabaseFile == "" {
		return nil
	}
	switch {
	case o.sweep:
		return errors.New("-db keeps one run's database: use it with -seed, not -seeds")
	case o.checkDeterminism:
		return errors.New("-db keeps one run's database, and -check-determinism runs the seed several times: run the seed once with -db")
	case o.shrink:
		return errors.New("-db keeps one run's database, and -shrink makes many: replay the plan -shrink finds with -schedule and -db")
	}
	return nil
}

// checkDatabaseDir refuses a -db path whose directory is not there, before
// anything runs. What is at the path itself, sim.Run checks: a previous
// run's database is replaced, anything else refused (sim.ErrDatabaseFile).
func checkDatabaseDir(path string) error {
	if path == "" {
		return nil
	}
	dir := filepath.Dir(path)
	info, err := os.Stat(dir)
	switch {
	case err != nil && errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("-db %s: directory %s does not exist", path, dir)
	case err != nil:
		return fmt.Errorf("-db %s: %s", path, oneLine(err))
	case !info.IsDir():
		return fmt.Errorf("-db %s: %s is not a directory", path, dir)
	}
	return nil
}

// scoreboardOptions checks the flags -scoreboard combines with and picks
// its modes and seeds.
func (o *options) scoreboardOptions(modes string) error {
	for _, f := range []string{"seed", "guarantee", "schedule", "save-schedule", "history", "history-text", "report", "client-log",
		"check-determinism", "shrink", "shard", "db", "bootstrap", "keep", "connect-timeout", "coverage", "explore", "focus"} {
		if o.set[f] {
			return fmt.Errorf("-%s does not go with -scoreboard, which runs every guarantee over a range of seeds", f)
		}
	}
	def := scoreboard.DefaultConfig()
	if !o.sweep {
		o.firstSeed, o.lastSeed = def.First, def.Last
	}
	if !o.set["shrink-runs"] {
		o.shrinkRuns = def.ShrinkRuns
	}
	if o.shrinkRuns < 0 {
		return fmt.Errorf("-shrink-runs %d: need 0 (no shrinking) or more", o.shrinkRuns)
	}
	rated := o.set["swarm"]
	for name := range o.set {
		rated = rated || strings.HasSuffix(name, "-rate")
	}
	if !rated {
		// The full fault catalogue: each seed picks its families.
		o.cfg.Swarm = true
	}
	// The scenario's guarantees, its first (correct) one the control; an
	// unknown scenario is Validate's to report.
	all := engine.Guarantees()
	if sc, err := scenarios.Lookup(o.cfg.Scenario); err == nil {
		all = sc.Guarantees()
	}
	o.cfg.Guarantee = all[0]
	o.modes = all
	if modes != "" {
		o.modes = []engine.Guarantee{all[0]}
		for _, name := range strings.Split(modes, ",") {
			g, err := engine.ParseGuarantee(strings.TrimSpace(name))
			if err != nil {
				return fmt.Errorf("-modes: %w", err)
			}
			if !slices.Contains(all, g) {
				return fmt.Errorf("-modes: scenario %s does not run under guarantee %s (want one of %s)", o.cfg.Scenario, g, joinGuarantees(all))
			}
			if !slices.Contains(o.modes, g) {
				o.modes = append(o.modes, g)
			}
		}
	}
	o.cfg.Seed = o.firstSeed
	if err := o.cfg.Validate(); err != nil {
		return errors.New(oneLine(err))
	}
	return nil
}

// oneLine joins a multi-line (errors.Join) error into one line.
func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", "; ") }

// parseShard parses "i/n" with 1 <= i <= n.
func parseShard(s string) (int, int, error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 1 || i > n {
		return 0, 0, fmt.Errorf("-shard %q: want i/n with 1 <= i <= n, e.g. 2/4", s)
	}
	return i, n, nil
}

// inShard reports whether seed belongs to the options' shard of the sweep.
func (o options) inShard(seed uint64) bool {
	return o.shards == 0 || (seed-o.firstSeed)%uint64(o.shards) == uint64(o.shard-1)
}

func printUsage(fs *flag.FlagSet, w io.Writer) error {
	fmt.Fprint(w, usageText)
	fs.SetOutput(w)
	fs.PrintDefaults()
	return errHelp
}

// defaultGuarantee is the guarantee a run of scenario gets when none is
// given: the scenario's first, which keeps exactly-once. An unknown
// scenario keeps fallback (Validate reports the scenario).
func defaultGuarantee(scenario string, fallback engine.Guarantee) engine.Guarantee {
	sc, err := scenarios.Lookup(scenario)
	if err != nil || len(sc.Guarantees()) == 0 {
		return fallback
	}
	return sc.Guarantees()[0]
}

// guaranteeNames lists each scenario's guarantees, for -guarantee's help:
// "orders: exactly_once_v2, …; orders-db: db_positions_fenced, …".
func guaranteeNames() string {
	var parts []string
	for _, name := range scenarios.Names() {
		sc, err := scenarios.Lookup(name)
		if err != nil {
			continue
		}
		parts = append(parts, name+": "+joinGuarantees(sc.Guarantees()))
	}
	return strings.Join(parts, "; ")
}

func joinGuarantees(gs []engine.Guarantee) string {
	ns := make([]string, len(gs))
	for i, g := range gs {
		ns[i] = string(g)
	}
	return strings.Join(ns, ", ")
}

// parseSeedRange parses "A-B" with A <= B.
func parseSeedRange(s string) (uint64, uint64, error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return 0, 0, fmt.Errorf("-seeds %q: want a range A-B, e.g. 1-200", s)
	}
	first, err1 := strconv.ParseUint(a, 10, 64)
	last, err2 := strconv.ParseUint(b, 10, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("-seeds %q: want a range A-B of non-negative integers", s)
	}
	if first > last {
		return 0, 0, fmt.Errorf("-seeds %q: the range is empty (%d > %d)", s, first, last)
	}
	if last-first >= math.MaxInt32 {
		return 0, 0, fmt.Errorf("-seeds %q: the range is too large", s)
	}
	return first, last, nil
}

func readPlan(path string) (sim.Plan, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return sim.Plan{}, fmt.Errorf("reading schedule: %w", err)
	}
	p, err := sim.ParsePlan(b)
	if err != nil {
		return sim.Plan{}, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// replayCommand is the command that reproduces the run of seed.
func (o options) replayCommand(seed uint64) string {
	parts := []string{"go run -tags synctests ./cmd/simrun", "-seed", strconv.FormatUint(seed, 10)}
	def := sim.DefaultConfig()
	c := o.cfg
	add := func(name, value string, differs bool) {
		if differs || o.set[name] {
			parts = append(parts, "-"+name, value)
		}
	}
	add("scenario", c.Scenario, c.Scenario != def.Scenario)
	if o.set["inputs"] {
		add("inputs", strconv.Itoa(c.Inputs), true)
	} else {
		add("orders", strconv.Itoa(c.Inputs), c.Inputs != def.Inputs)
	}
	add("partitions", strconv.Itoa(c.Partitions), c.Partitions != def.Partitions)
	add("instances", strconv.Itoa(c.Instances), c.Instances != def.Instances)
	add("brokers", strconv.Itoa(c.Brokers), c.Brokers != def.Brokers && !c.Swarm)
	add("guarantee", string(c.Guarantee), c.Guarantee != def.Guarantee)
	add("checkers", c.Checkers, c.Checkers != def.Checkers)
	add("recovery", c.Recovery.String(), c.Recovery != def.Recovery)
	if o.schedulePath != "" {
		parts = append(parts, "-schedule", o.schedulePath)
		if c.TransactionsV1 && o.set["txn-v1"] {
			// A plain schedule does not name the protocol.
			parts = append(parts, "-txn-v1")
		}
	} else {
		if len(c.Focus) > 0 {
			parts = append(parts, "-focus", "'"+strings.Join(c.Focus, ",")+"'")
		}
		if c.Swarm {
			if c.SwarmStyle.PicksFocus() {
				parts = append(parts, "-swarm="+string(c.SwarmStyle))
			} else {
				parts = append(parts, "-swarm")
			}
			if c.FixedProtocol {
				parts = append(parts, "-txn-v1="+strconv.FormatBool(c.TransactionsV1))
			}
		} else {
			rate := func(name string, v, d float64) { add(name, strconv.FormatFloat(v, 'g', -1, 64), v != d) }
			rate("crash-rate", c.Rates.Crash, def.Rates.Crash)
			rate("shutdown-rate", c.Rates.Shutdown, def.Rates.Shutdown)
			rate("expire-rate", c.Rates.Expire, def.Rates.Expire)
			rate("pause-rate", c.Rates.Pause, def.Rates.Pause)
			rate("membership-rate", c.Rates.Membership, def.Rates.Membership)
			rate("broker-rate", c.Rates.Broker, def.Rates.Broker)
			rate("network-rate", c.Rates.Network, def.Rates.Network)
			rate("cluster-rate", c.Rates.Cluster, def.Rates.Cluster)
			rate("database-rate", c.Rates.Database, def.Rates.Database)
			if c.TransactionsV1 {
				parts = append(parts, "-txn-v1")
			}
		}
	}
	if len(o.bootstrap) > 0 {
		parts = append(parts, "-bootstrap", strings.Join(o.bootstrap, ","))
	}
	return strings.Join(parts, " ")
}
