package sim

import (
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/eosim/eosim/engine"
	"github.com/eosim/eosim/faults"
	"github.com/eosim/eosim/invariants"
	"github.com/eosim/eosim/scenarios"
)

// Config is everything a run depends on. The same Config gives the same
// History, byte for byte.
type Config struct {
	Seed       uint64
	Scenario   string
	Inputs     int
	Partitions int
	Instances  int
	// Brokers is the size of the kfake cluster; partition p of every topic
	// starts on broker p mod Brokers.
	Brokers   int
	Guarantee engine.Guarantee
	Rates     faults.Rates
	// Schedule replays a saved schedule; nil generates one from Seed and
	// Rates.
	Schedule *faults.Schedule
	// Batch is the number of input records per produce request per
	// partition, and so roughly per unit of work.
	Batch int
	// FaultSteps is the length of the fault phase; 0 derives it from the
	// input (the steps a fault-free run needs).
	FaultSteps int
	// LivenessTimeout bounds the liveness phase in virtual time.
	LivenessTimeout time.Duration
	// Tick is the virtual time between two driver steps while work is
	// being done; idle steps back off to a second.
	Tick time.Duration
	// TransactionsV1 makes the instances speak the transaction protocol
	// from before KIP-890 part 2, whose AddPartitionsToTxn and
	// AddOffsetsToTxn broker faults can then hit.
	TransactionsV1 bool
	// KeepClientAfterFailedProduce turns off the engine's defence against
	// kgo's sequence reuse under TransactionsV1
	// (engine.Config.KeepClientAfterFailedProduce): for the test that
	// shows the bug.
	KeepClientAfterFailedProduce bool
	// TrustAbortAfterUnknownCommitError turns off the engine's defence
	// against kgo's report of an abort after a commit answered
	// UNKNOWN_SERVER_ERROR (engine.Config.TrustAbortAfterUnknownCommitError):
	// for the test that shows the bug.
	TrustAbortAfterUnknownCommitError bool
	// Recovery is how an instance recovers from a commit that failed
	// without fencing it: a restart (the default) or an abort that carries
	// on with the same client (engine.Config.Recovery).
	Recovery engine.Recovery
	// FixedRecovery keeps Recovery under Swarm, which otherwise picks it
	// per seed.
	FixedRecovery bool
	// FixedProtocol keeps TransactionsV1 under Swarm, which otherwise
	// picks the transaction protocol per seed: a sweep of one protocol
	// (the correct engine under KIP-890 alone, or the findings of the
	// protocol before it).
	FixedProtocol bool
	// Swarm lets each seed pick which fault families are on, their rates,
	// unless FixedProtocol the transaction protocol and, unless
	// FixedRecovery, the recovery style (TigerBeetle's swarm testing);
	// Rates are then ignored.
	Swarm bool
	// SwarmStyle is how Swarm draws a seed's faults: families (the
	// default, also when empty: each family on or off, at a drawn rate),
	// cells (a few cells of the wide fault space, faults.SwarmCells, at
	// Focus's rate) or reactions (the catalogue's cells of the reactions
	// the seed keeps, faults.SwarmReactions, each reaction drawn as often).
	SwarmStyle faults.SwarmStyle
	// ClientLog, when set, receives kgo's debug log of every instance's
	// clients, each line stamped with the virtual time since the run began
	// and the instance's name: what to read when two runs of one seed part
	// ways. It is output only; the run does not depend on it.
	ClientLog io.Writer
	// RecordWire keeps the header of every request the brokers read and
	// every answer they wrote (Result.Wire): the evidence, from the
	// brokers' side, of what a fault did. Output only, like ClientLog.
	RecordWire bool
	// DatabaseFile, for a scenario with a database, is where the run's
	// SQLite database is made and left for inspection; empty keeps it in
	// the run's state directory, removed at the end. A file already there
	// is replaced only if it is a SQLite database (a previous run's).
	DatabaseFile string
	// Focus, when set, draws the schedule from these cells of the fault
	// space alone (faults.Focus: "crash at after-produce", "broker-error
	// Produce TRANSACTION_ABORTABLE", …), at a high rate, in place of
	// Rates; swarm still picks the protocol and the cluster.
	Focus []string
	// Checkers picks the checkers that judge the run: CheckScenario (the
	// default, also when empty), CheckOracle or CheckAll.
	Checkers string
	// Progress, when set, is called by the driver at the start of every
	// step with how far the run has come (a long run's progress, for a
	// person watching). Output only: it must return at once and must not
	// wait on anything.
	Progress func(Progress)
}

// The choices of Config.Checkers.
const (
	// CheckScenario judges a run by its scenario's own checkers.
	CheckScenario = "scenario"
	// CheckOracle judges it by the generic oracle alone
	// (invariants.OracleCheckers): the scenario's topology run serially
	// over the committed input, compared with what the broker holds.
	CheckOracle = "oracle"
	// CheckAll judges it by both.
	CheckAll = "all"
)

// JudgedBy returns spec with the checkers c picks.
func (c Config) JudgedBy(spec invariants.Spec) invariants.Spec {
	var oracle []string
	for _, ch := range invariants.OracleCheckers() {
		oracle = append(oracle, ch.Name)
	}
	own := spec.Checkers
	if len(own) == 0 {
		for _, ch := range invariants.All() {
			own = append(own, ch.Name)
		}
	}
	switch c.Checkers {
	case CheckOracle:
		spec.Checkers = oracle
	case CheckAll:
		spec.Checkers = append(slices.Clone(own), oracle...)
	}
	return spec
}

// validateFocus refuses a focus on cells that do not exist or that the run
// cannot reach: a cluster event on one broker, a database fault without a
// database, and a focus beside a replayed schedule.
func (c Config) validateFocus() error {
	if len(c.Focus) == 0 {
		return nil
	}
	if c.Schedule != nil {
		return errors.New("focus: a replayed schedule is already fixed")
	}
	for _, cell := range c.Focus {
		f, err := faults.ParseCell(cell)
		switch {
		case err != nil:
			return fmt.Errorf("focus: %w", err)
		case f.Kind.IsCluster() && c.Brokers < 2 && !c.Swarm:
			return fmt.Errorf("focus: %q needs at least 2 brokers, got %d", cell, c.Brokers)
		case (f.Kind.IsDatabase() || slices.Contains(engine.DBCrashPoints(), f.Point)) && !c.hasDatabase():
			return fmt.Errorf("focus: %q acts on a database, but scenario %s has none", cell, c.Scenario)
		case f.Kind.HasPoint() && c.hasDatabase() && !slices.Contains(c.Guarantee.CrashPoints(), f.Point):
			return fmt.Errorf("focus: %q: a unit under %s never reaches %s", cell, c.Guarantee, f.Point)
		}
	}
	return nil
}

// validateCheckers refuses a choice of checkers that does not exist or
// that the scenario cannot give.
func (c Config) validateCheckers() error {
	switch c.Checkers {
	case "", CheckScenario:
		return nil
	case CheckOracle, CheckAll:
		return nil
	}
	return fmt.Errorf("checkers %q: want %s, %s or %s", c.Checkers, CheckScenario, CheckOracle, CheckAll)
}

// Progress is how far a run has come.
type Progress struct {
	// Step is the driver's step; FaultSteps the length of the fault phase
	// (the liveness phase that follows has no fixed length).
	Step, FaultSteps int
	// Virtual is the virtual time since the run began.
	Virtual time.Duration
}

// resolveSwarm returns cfg with what the seed picks under Swarm.
func (c Config) resolveSwarm() Config {
	if c.Swarm {
		c.Rates = faults.Swarm(derive(c.Seed, "swarm"))
		switch c.SwarmStyle {
		case faults.SwarmOfCells:
			c.Rates = faults.Rates{}
			if c.Schedule == nil {
				c.Focus = c.swarmCells()
			}
		case faults.SwarmOfReactions:
			c.Rates = faults.Rates{}
			if c.Schedule == nil {
				c.Focus = c.swarmReactions()
			}
		}
		if !c.hasDatabase() {
			c.Rates.Database = 0
		}
		if !c.FixedProtocol {
			c.TransactionsV1 = derive(c.Seed, "protocol")%2 == 0
		}
		if !c.FixedRecovery {
			// A stream of its own: the seed's other draws stay as they were.
			c.Recovery = engine.Recoveries()[derive(c.Seed, "recovery")%uint64(len(engine.Recoveries()))]
		}
		if c.Rates.Cluster > 0 {
			c.Brokers = 3 // moves need somewhere to move to
		}
		if slices.ContainsFunc(c.Focus, func(cell string) bool {
			f, err := faults.ParseCell(cell)
			return err == nil && f.Kind.IsCluster()
		}) {
			c.Brokers = 3
		}
	}
	return c
}

// swarmCells is the focus a seed of the cells style draws, less the cells
// a unit under the run's guarantee never reaches: the same draw for every
// guarantee of a scoreboard.
func (c Config) swarmCells() []string {
	return slices.DeleteFunc(faults.SwarmCells(derive(c.Seed, "swarm-cells"), c.hasDatabase()), c.neverReached)
}

// swarmReactions is the focus a seed of the reactions style draws: the
// catalogue's cells of the reactions it keeps, drawn with every crash
// point of the scenario, less the cells a unit under the run's guarantee
// never reaches, so that every guarantee of a scoreboard gets the same
// draw.
func (c Config) swarmReactions() []string {
	points := engine.CrashPoints()
	if c.hasDatabase() {
		points = append(points, engine.DBCrashPoints()...)
	}
	cells := faults.SwarmReactions(derive(c.Seed, "swarm-reactions"), faults.ReactionSpace(points, c.hasDatabase()))
	return slices.DeleteFunc(cells, c.neverReached)
}

// neverReached says whether cell is at a crash point a unit under the
// run's guarantee never reaches (a scenario with a database has
// guarantees that skip some).
func (c Config) neverReached(cell string) bool {
	if !c.hasDatabase() {
		return false
	}
	f, err := faults.ParseCell(cell)
	return err == nil && f.Kind.HasPoint() && !slices.Contains(c.Guarantee.CrashPoints(), f.Point)
}

// PickedReactions names the reactions a seed of swarm's reactions style
// kept, in draw order (nil for any other run).
func (c Config) PickedReactions() []faults.Reaction {
	if !c.Swarm || c.SwarmStyle != faults.SwarmOfReactions {
		return nil
	}
	var rs []faults.Reaction
	for _, g := range faults.GroupByReaction(c.Focus) {
		rs = append(rs, faults.ReactionOf(g[0]))
	}
	return rs
}

// DefaultConfig is the default run: 1000 orders on 4 partitions, 2
// instances, exactly_once_v2, crash rate 0.1, shutdown rate 0.02.
func DefaultConfig() Config {
	return Config{
		Seed:            1,
		Scenario:        "orders",
		Inputs:          1000,
		Partitions:      4,
		Instances:       2,
		Brokers:         1,
		Guarantee:       engine.ExactlyOnceV2,
		Rates:           faults.Rates{Crash: 0.1, Shutdown: 0.02},
		Batch:           10,
		LivenessTimeout: 10 * time.Minute,
		Tick:            100 * time.Millisecond,
	}
}

// maxInstances keeps instance names to single letters.
const maxInstances = 26

// maxBrokers bounds the fake cluster.
const maxBrokers = 9

// Validate reports a config that cannot run.
func (c Config) Validate() error {
	var errs []error
	sc, err := scenarios.Lookup(c.Scenario)
	if err != nil {
		errs = append(errs, err)
	}
	if _, err := engine.ParseGuarantee(string(c.Guarantee)); err != nil {
		errs = append(errs, err)
	} else if sc != nil && !slices.Contains(sc.Guarantees(), c.Guarantee) {
		errs = append(errs, fmt.Errorf("scenario %s does not run under guarantee %s (want one of %s)",
			c.Scenario, c.Guarantee, joinGuarantees(sc.Guarantees())))
	}
	if sc != nil {
		errs = append(errs, c.validateDatabase())
	}
	if c.Inputs < 1 {
		errs = append(errs, fmt.Errorf("inputs: need at least 1, got %d", c.Inputs))
	}
	if c.Partitions < 1 || c.Partitions > 1000 {
		errs = append(errs, fmt.Errorf("partitions: need 1 to 1000, got %d", c.Partitions))
	}
	if c.Brokers < 1 || c.Brokers > maxBrokers {
		errs = append(errs, fmt.Errorf("brokers: need 1 to %d, got %d", maxBrokers, c.Brokers))
	}
	if c.Instances < 1 || c.Instances > maxInstances {
		errs = append(errs, fmt.Errorf("instances: need 1 to %d, got %d", maxInstances, c.Instances))
	}
	if c.Batch < 1 {
		errs = append(errs, fmt.Errorf("batch: need at least 1, got %d", c.Batch))
	}
	if c.FaultSteps < 0 {
		errs = append(errs, fmt.Errorf("fault steps: %d is negative", c.FaultSteps))
	}
	if c.LivenessTimeout <= 0 || c.Tick <= 0 {
		errs = append(errs, errors.New("liveness timeout and tick must be positive"))
	}
	if err := c.Rates.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.Schedule != nil {
		if err := c.Schedule.Validate(append(c.InstanceNames(), c.SpareNames()...)); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, c.validateMoves(), c.validateCheckers(), c.validateFocus(), c.validateSwarmStyle())
	return errors.Join(errs...)
}

// validateSwarmStyle refuses a swarm style that does not exist, one given
// without Swarm, and a style that picks each seed's focus itself (cells,
// reactions) beside a focus of the caller's.
func (c Config) validateSwarmStyle() error {
	if c.SwarmStyle == "" {
		return nil
	}
	if _, err := faults.ParseSwarmStyle(string(c.SwarmStyle)); err != nil {
		return err
	}
	switch {
	case !c.Swarm:
		return fmt.Errorf("swarm style %s without swarm", c.SwarmStyle)
	case c.SwarmStyle.PicksFocus() && len(c.Focus) > 0:
		return fmt.Errorf("swarm style %s picks each seed's focus itself: drop the focus", c.SwarmStyle)
	}
	return nil
}

// validateMoves refuses what can never have an effect: a leader or
// coordinator move on a one-broker cluster has nowhere to go. Under Swarm
// the rates are the seed's, and a seed that picks cluster faults gets three
// brokers (resolveSwarm).
func (c Config) validateMoves() error {
	if c.Brokers != 1 {
		return nil
	}
	if c.Schedule != nil {
		for i, f := range c.Schedule.Faults {
			if f.Kind == faults.LeaderMove || f.Kind == faults.CoordinatorMove {
				return fmt.Errorf("%w: fault %d (%s) needs at least 2 brokers, got 1: there is nowhere to move to", faults.ErrInvalid, i, f.Kind)
			}
		}
		return nil
	}
	if !c.Swarm && c.Rates.Cluster > 0 {
		return fmt.Errorf("cluster rate %g needs at least 2 brokers, got 1: its leader and coordinator moves have nowhere to go", c.Rates.Cluster)
	}
	return nil
}

// InstanceNames returns the names of the run's instances: a, b, c…
func (c Config) InstanceNames() []string {
	names := make([]string, 0, c.Instances)
	for i := range c.Instances {
		names = append(names, string(rune('a'+i)))
	}
	return names
}

// spareInstances is how many names past the initial instances a join can
// start.
const spareInstances = 2

// SpareNames returns the names a join fault can start: the letters after
// the initial instances'.
func (c Config) SpareNames() []string {
	var names []string
	for i := c.Instances; i < min(c.Instances+spareInstances, maxInstances); i++ {
		names = append(names, string(rune('a'+i)))
	}
	return names
}

// AppID is the application id of the run's engine instances.
func (c Config) AppID() string { return "eosim-" + c.Scenario }

// Params are the scenario's parameters for a run of c.
func (c Config) Params() scenarios.Params {
	return scenarios.Params{
		AppID: c.AppID(), Seed: derive(c.Seed, "input"),
		Inputs: c.Inputs, Partitions: c.Partitions, Batch: c.Batch,
	}
}

// FaultPhase is the length of the fault phase, in driver steps.
func (c Config) FaultPhase() int {
	if c.FaultSteps > 0 {
		return c.FaultSteps
	}
	perPartition := (c.Inputs + c.Partitions - 1) / c.Partitions
	return max(1, (perPartition+c.Batch-1)/c.Batch)
}

// derive returns the seed of one component's stream, so that adding a draw
// to one component never shifts another's.
func derive(seed uint64, component string) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d/%s", seed, component)
	return h.Sum64()
}

// schedule returns the run's schedule: the replayed one or a generated one.
func (c Config) schedule() (faults.Schedule, error) {
	if c.Schedule != nil {
		return *c.Schedule, nil
	}
	if c.Swarm && c.SwarmStyle == faults.SwarmOfReactions && len(c.Focus) > 0 {
		// Reaction first, then cell: every reaction as often as the next.
		return faults.FocusGroups(derive(c.Seed, "faults"), faults.GroupByReaction(c.Focus), c.InstanceNames(), c.FaultPhase(), c.SpareNames()...)
	}
	if len(c.Focus) > 0 {
		return faults.Focus(derive(c.Seed, "faults"), c.Focus, c.InstanceNames(), c.FaultPhase(), c.SpareNames()...)
	}
	points := engine.CrashPoints()
	if c.hasDatabase() {
		// Only the points a unit reaches: a fault armed at one it never
		// reaches would stay armed, and keep every later crash off its
		// instance.
		points = c.Guarantee.CrashPoints()
	}
	return faults.GenerateAt(derive(c.Seed, "faults"), c.Rates, points, c.InstanceNames(), c.FaultPhase(), c.SpareNames()...)
}

// hasDatabase says whether the config's scenario writes to a database.
func (c Config) hasDatabase() bool {
	sc, err := scenarios.Lookup(c.Scenario)
	return err == nil && sc.Topology(scenarios.Params{}).Database != nil
}

// validateDatabase refuses database faults and a database file for a
// scenario without a database: they could never take effect.
func (c Config) validateDatabase() error {
	if c.hasDatabase() {
		return nil
	}
	if c.DatabaseFile != "" {
		return fmt.Errorf("a database file is given, but scenario %s has no database", c.Scenario)
	}
	if !c.Swarm && c.Rates.Database > 0 {
		return fmt.Errorf("database rate %g, but scenario %s has no database", c.Rates.Database, c.Scenario)
	}
	if c.Schedule != nil {
		for i, f := range c.Schedule.Faults {
			if f.Kind.IsDatabase() || slices.Contains(engine.DBCrashPoints(), f.Point) {
				return fmt.Errorf("%w: fault %d (%s) acts on a database, but scenario %s has none", faults.ErrInvalid, i, f.Kind, c.Scenario)
			}
		}
	}
	return nil
}

func joinGuarantees(gs []engine.Guarantee) string {
	names := make([]string, len(gs))
	for i, g := range gs {
		names[i] = string(g)
	}
	return strings.Join(names, ", ")
}
