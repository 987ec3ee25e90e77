package scenarios

import (
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/eosim/eosim/engine"
	"github.com/eosim/eosim/history"
	"github.com/eosim/eosim/invariants"
)

func echoApp(name string) App {
	return App{
		Name: name,
		Topology: func(prefix string) *engine.Topology {
			return &engine.Topology{
				Source: prefix + "in", Stores: []string{"seen"}, Sinks: []string{prefix + "out", prefix + "audit"},
				Process: func(ctx *engine.ProcessContext, rec history.Record) error {
					ctx.Put("seen", rec.Key, rec.Value)
					ctx.Forward(prefix+"out", rec.Key, rec.Value)
					return nil
				},
			}
		},
		Input: func(seed uint64, n int) []Input { return make([]Input, n) },
	}
}

// fresh names what a test registers: a registration lasts as long as the
// test binary, and -count runs the test again in it.
func fresh(name string) string {
	freshMu.Lock()
	defer freshMu.Unlock()
	freshRuns[name]++
	if n := freshRuns[name]; n > 1 {
		return name + "-" + strconv.Itoa(n)
	}
	return name
}

var (
	freshMu   sync.Mutex
	freshRuns = map[string]int{}
)

func TestRegisterApp(t *testing.T) {
	echo := fresh("test-echo")
	require.NoError(t, RegisterApp(echoApp(echo)))
	require.ErrorIs(t, RegisterApp(echoApp(echo)), ErrRegistered)
	require.Contains(t, Names(), echo)
	for _, bad := range []string{"", "list", "two words"} {
		require.Error(t, RegisterApp(echoApp(bad)), "%q", bad)
	}
	require.Error(t, RegisterApp(App{Name: "no-topology"}))

	// An app's own invariant is registered under the app's name, which is
	// also its anomalies' kind, and judged after the oracle's.
	mine := echoApp(fresh("test-echo-own"))
	mine.Invariants = []invariants.Checker{{Name: "always", Check: func(invariants.Spec, invariants.Run) invariants.Result {
		return invariants.Result{Anomalies: []invariants.Anomaly{{Kind: "always", Summary: "fires"}}}
	}}}
	require.NoError(t, RegisterApp(mine))
	own, err := Lookup(mine.Name)
	require.NoError(t, err)
	ownSpec := own.Spec(Params{AppID: "app", Partitions: 1})
	always := mine.Name + "/always"
	require.Equal(t, always, ownSpec.Checkers[len(ownSpec.Checkers)-1])
	cs, err := invariants.ByName(always)
	require.NoError(t, err)
	require.Equal(t, always, cs[0].Check(ownSpec, invariants.Run{}).Anomalies[0].Kind)

	sc, err := Lookup(echo)
	require.NoError(t, err)
	p := Params{AppID: "app", TopicPrefix: "run-", Partitions: 3}
	require.Equal(t, map[string]int32{"run-in": 3, "run-out": 3, "run-audit": 3, "app-seen-changelog": 3}, sc.Topics(p))
	spec := sc.Spec(p)
	require.Equal(t, "run-in", spec.InputTopic)
	require.Equal(t, []string{"run-in", "run-out", "run-audit", "app-seen-changelog"}, spec.Topics())
	require.Equal(t, []string{"oracle-duplicate", "oracle-lost", "oracle-unexpected"}, spec.Checkers)
	want, err := spec.Oracle([]history.Record{{Topic: "run-in", Key: "k", Value: "v"}})
	require.NoError(t, err)
	require.Equal(t, []history.Record{
		{Topic: "run-out", Key: "k", Value: "v"},
		{Topic: "app-seen-changelog", Key: "k", Value: "v"},
	}, want)
}

func TestKeyPartition(t *testing.T) {
	for _, k := range []string{"", "a", "customer-07"} {
		p := keyPartition(k, 4)
		require.True(t, p >= 0 && p < 4)
		require.Equal(t, p, keyPartition(k, 4), "a key's partition is fixed")
	}
}

// TestRegisterAppRefusesBrokenTopologies: a malformed topology, or one
// whose serial runs differ, is refused with one line naming the problem.
func TestRegisterAppRefusesBrokenTopologies(t *testing.T) {
	cyclic := echoApp("test-cyclic")
	cyclic.Topology = func(prefix string) *engine.Topology {
		return &engine.Topology{Stages: []engine.Stage{
			{Name: "a", Sources: []string{prefix + "in"}, RepartitionSources: []string{"r"}, Repartitions: []string{"r"}, Sinks: []string{prefix + "out"},
				Process: func(*engine.ProcessContext, history.Record) error { return nil }},
		}}
	}
	require.EqualError(t, RegisterApp(cyclic), `app "test-cyclic": topology: a cycle through repartition topics: [a a]`)

	calls := 0
	nondeterministic := echoApp("test-nondeterministic")
	nondeterministic.Input = func(seed uint64, n int) []Input { return []Input{{Key: "k", Value: "v"}} }
	nondeterministic.Topology = func(prefix string) *engine.Topology {
		return &engine.Topology{Source: prefix + "in", Sinks: []string{prefix + "out"},
			Process: func(ctx *engine.ProcessContext, rec history.Record) error {
				calls++ // a counter outside the stores: a second run sees another value
				ctx.Forward(prefix+"out", rec.Key, strconv.Itoa(calls))
				return nil
			}}
	}
	err := RegisterApp(nondeterministic)
	require.EqualError(t, err, `app "test-nondeterministic": its topology is not deterministic: two serial runs over the same 1 inputs part at written record 0 (out[2] k=1 then out[2] k=2)`)
	require.NotContains(t, Names(), "test-nondeterministic")

	unknownStore := echoApp("test-unknown-store")
	unknownStore.Topology = func(prefix string) *engine.Topology {
		return &engine.Topology{Source: prefix + "in", Sinks: []string{prefix + "out"},
			Process: func(ctx *engine.ProcessContext, rec history.Record) error {
				ctx.Put("nowhere", rec.Key, rec.Value)
				return nil
			}}
	}
	require.ErrorContains(t, RegisterApp(unknownStore), `app "test-unknown-store": a serial run of its topology: processing in[`)
	require.ErrorContains(t, RegisterApp(unknownStore), `write to unknown store "nowhere"`)

	require.Contains(t, Names(), WordCountName, "word count is built in")
	require.ErrorIs(t, RegisterApp(WordCount()), ErrRegistered)
	wordCount := WordCount()
	wordCount.Name = fresh("test-wordcount")
	require.NoError(t, RegisterApp(wordCount), "the two-stage scenario is well formed and deterministic")
}

// TestAppOfTwoInputs: an app whose topology reads two source topics names
// the first as its input and the other as more input, which the oracle
// reads too; an input record naming a topic the topology does not read is
// refused in one line.
func TestAppOfTwoInputs(t *testing.T) {
	sc, err := Lookup(JoinName)
	require.NoError(t, err)
	p := Params{AppID: "app", TopicPrefix: "run-", Partitions: 2}
	spec := sc.Spec(p)
	require.Equal(t, "run-"+PurchasesTopic, spec.InputTopic)
	require.Equal(t, []string{"run-" + CustomersTopic}, spec.MoreInputTopics)
	require.Subset(t, spec.Topics(), []string{"run-" + PurchasesTopic, "run-" + CustomersTopic, "run-" + EnrichedTopic,
		engine.ChangelogTopic("app", CustomersStore), engine.ChangelogTopic("app", WaitingPurchases)})
	require.Contains(t, sc.Topics(p), engine.RepartitionTopic("app", RekeyedPurchases))

	stray := echoApp("test-stray-topic")
	stray.Input = func(uint64, int) []Input { return []Input{{Topic: "elsewhere", Key: "k", Value: "v"}} }
	require.EqualError(t, RegisterApp(stray), `app "test-stray-topic": an input record names topic "elsewhere", which is not a source of its topology ([in])`)
}

// TestBuiltInAppsAreDeterministic runs the check RegisterApp makes of every
// app on the built-in ones, which init registers without it (to keep it out
// of every process's start).
func TestBuiltInAppsAreDeterministic(t *testing.T) {
	apps := builtInApps()
	require.NotEmpty(t, apps)
	for _, a := range apps {
		require.NoError(t, a.checkDeterministic(), a.Name)
		_, err := Lookup(a.Name)
		require.NoError(t, err, "%s is registered", a.Name)
	}
}
