package scenarios

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/eosim/eosim/engine"
	"github.com/eosim/eosim/history"
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

func TestRegisterApp(t *testing.T) {
	require.NoError(t, RegisterApp(echoApp("test-echo")))
	require.ErrorIs(t, RegisterApp(echoApp("test-echo")), ErrRegistered)
	require.Contains(t, Names(), "test-echo")
	for _, bad := range []string{"", "list", "two words"} {
		require.Error(t, RegisterApp(echoApp(bad)), "%q", bad)
	}
	require.Error(t, RegisterApp(App{Name: "no-topology"}))

	sc, err := Lookup("test-echo")
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
