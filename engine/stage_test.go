package engine

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"
	"pgregory.net/rapid"

	"github.com/eosim/eosim/history"
)

// wordCount splits lines ("in") into words, repartitions them by word
// ("words") and counts them in a second stage.
func wordCount() *Topology {
	return &Topology{Stages: []Stage{
		{
			Name: "split", Sources: []string{"in"}, Repartitions: []string{"words"},
			Process: func(ctx *ProcessContext, rec history.Record) error {
				for _, w := range strings.Fields(rec.Value) {
					ctx.Repartition("words", w, rec.Key)
				}
				return nil
			},
		},
		// Counts per word: counter's processor, on the repartition topic.
		{Name: "count", RepartitionSources: []string{"words"}, Stores: []string{"n"}, Sinks: []string{"out"}, Process: counter().Process},
	}}
}

func TestValidateStages(t *testing.T) {
	proc := func(*ProcessContext, history.Record) error { return nil }
	tests := []struct {
		name    string
		stages  []Stage
		wantErr string
	}{
		{name: "word count", stages: wordCount().Stages},
		{name: "reads nothing", stages: []Stage{{Name: "a", Sinks: []string{"out"}, Process: proc}},
			wantErr: "topology: stage a reads nothing"},
		{name: "no processor", stages: []Stage{{Name: "a", Sources: []string{"in"}, Sinks: []string{"out"}}},
			wantErr: "topology: stage a has no processor"},
		{name: "writes nothing", stages: []Stage{{Name: "a", Sources: []string{"in"}, Process: proc}},
			wantErr: "topology: stage a writes nothing (no sinks, no repartition topics)"},
		{name: "topic read twice", stages: []Stage{
			{Name: "a", Sources: []string{"in"}, Sinks: []string{"o1"}, Process: proc},
			{Name: "b", Sources: []string{"in"}, Sinks: []string{"o2"}, Process: proc},
		}, wantErr: `topology: topic "in" read by stages a and b`},
		{name: "store in two stages", stages: []Stage{
			{Name: "a", Sources: []string{"in"}, Stores: []string{"s"}, Repartitions: []string{"r"}, Process: proc},
			{Name: "b", RepartitionSources: []string{"r"}, Stores: []string{"s"}, Sinks: []string{"o"}, Process: proc},
		}, wantErr: `topology: store "s" in stages a and b (a store belongs to one stage)`},
		{name: "unknown repartition source", stages: []Stage{
			{Name: "a", Sources: []string{"in"}, Sinks: []string{"o"}, Process: proc},
			{Name: "b", RepartitionSources: []string{"r"}, Sinks: []string{"o2"}, Process: proc},
		}, wantErr: `topology: stage b reads repartition topic "r", which no stage writes`},
		{name: "repartition nobody reads", stages: []Stage{
			{Name: "a", Sources: []string{"in"}, Repartitions: []string{"r"}, Process: proc},
		}, wantErr: `topology: stage a writes repartition topic "r", which no stage reads`},
		{name: "sink read as a source", stages: []Stage{
			{Name: "a", Sources: []string{"in"}, Sinks: []string{"mid"}, Process: proc},
			{Name: "b", Sources: []string{"mid"}, Sinks: []string{"o"}, Process: proc},
		}, wantErr: `topology: sink "mid" is read by stage b (a stage reads another's output through a repartition topic)`},
		{name: "cycle", stages: []Stage{
			{Name: "a", Sources: []string{"in"}, RepartitionSources: []string{"r2"}, Repartitions: []string{"r1"}, Process: proc},
			{Name: "b", RepartitionSources: []string{"r1"}, Repartitions: []string{"r2"}, Process: proc},
		}, wantErr: "topology: a cycle through repartition topics: [a b a]"},
		{name: "caches a store it does not have", stages: []Stage{
			{Name: "a", Sources: []string{"in"}, Stores: []string{"s"}, Cached: []string{"t"}, Sinks: []string{"o"}, Process: proc},
		}, wantErr: `topology: stage a caches store "t", which is not one of its stores`},
		{name: "a keyed sink that is no sink", stages: []Stage{
			{Name: "a", Sources: []string{"in"}, Sinks: []string{"o"}, KeyedSinks: []string{"p"}, Process: proc},
		}, wantErr: `topology: stage a writes "p" by key, which is not one of its sinks`},
		{name: "self loop", stages: []Stage{
			{Name: "a", Sources: []string{"in"}, RepartitionSources: []string{"r"}, Repartitions: []string{"r"}, Sinks: []string{"o"}, Process: proc},
		}, wantErr: "topology: a cycle through repartition topics: [a a]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := (&Topology{Stages: tt.stages}).validate()
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.EqualError(t, err, tt.wantErr)
		})
	}
	t.Run("mixed with single-stage fields", func(t *testing.T) {
		top := wordCount()
		top.Source = "in"
		require.ErrorContains(t, top.validate(), "Stages together with Source")
	})
}

func TestKeyPartition(t *testing.T) {
	// In range, and a function of the key and n alone (the serial run
	// must put a record where the engine does).
	for _, n := range []int{1, 4, 16} {
		for _, key := range []string{"a", "the", "word"} {
			p := KeyPartition(key, n)
			assert.GreaterOrEqual(t, p, int32(0))
			assert.Less(t, p, int32(n))
			assert.Equal(t, p, KeyPartition(key, n), "a key's partition is a function of the key")
		}
	}
}

// TestKeyPartitionIsKafkas: KeyPartition puts every key where kgo's
// default (murmur2) partitioner does, and murmur2 gives the values of
// Kafka's own test (UtilsTest.testMurmur2).
func TestKeyPartitionIsKafkas(t *testing.T) {
	for key, want := range map[string]int32{
		"21": -973932308, "foobar": -790332482, "a-little-bit-long-string": -985981536,
		"a-little-bit-longer-string": -1486304829, "lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971,
		"abc": 479470107,
	} {
		assert.Equal(t, want, int32(murmur2(key)), "murmur2(%q)", key)
	}
	kafka := kgo.StickyKeyPartitioner(nil).ForTopic("")
	rapid.Check(t, func(t *rapid.T) {
		key := rapid.String().Draw(t, "key")
		n := rapid.IntRange(1, 1000).Draw(t, "partitions")
		if got, want := KeyPartition(key, n), int32(kafka.Partition(&kgo.Record{Key: []byte(key)}, n)); got != want {
			t.Fatalf("KeyPartition(%q, %d) = %d, kgo's partitioner %d", key, n, got, want)
		}
	})
}

func TestRunSerialStages(t *testing.T) {
	const parts = 4
	inputs := []history.Record{
		in(1, 0, "l1", "b a"),
		in(0, 0, "l0", "a c a"),
		in(0, 1, "l2", "b"),
	}
	got, err := RunSerial(wordCount(), "app", parts, inputs)
	require.NoError(t, err)
	// Every word's counts are 1..n, in the partition its key hashes to;
	// the repartition topic is internal and not returned.
	counts := make(map[string][]string)
	for _, r := range got {
		require.NotEqual(t, RepartitionTopic("app", "words"), r.Topic)
		require.Equal(t, KeyPartition(r.Key, parts), r.Partition, "record %v", r)
		if r.Topic == "out" {
			counts[r.Key] = append(counts[r.Key], r.Value)
		}
	}
	assert.Equal(t, map[string][]string{"a": {"1", "2", "3"}, "b": {"1", "2"}, "c": {"1"}}, counts)
	assert.Len(t, got, 12, "6 outputs and 6 changelog records")

	_, err = RunSerial(wordCount(), "app", 0, inputs)
	require.ErrorContains(t, err, "needs their partition count")
}

func TestProcessContextRepartition(t *testing.T) {
	st := &wordCount().Stages[0]
	pc := &ProcessContext{
		partition: 2, stage: st,
		repartitions: map[string]repartitionTopic{"words": {topic: "app-words-repartition", partitions: 8}},
		stores:       map[string]*storePartition{},
	}
	pc.Repartition("words", "k", "v")
	require.NoError(t, pc.err)
	assert.Equal(t, []history.Record{{Topic: "app-words-repartition", Partition: KeyPartition("k", 8), Key: "k", Value: "v"}}, pc.forwards)

	pc.Repartition("other", "k", "v")
	require.EqualError(t, pc.err, `repartition to "other", which stage split does not write`)
	pc.err = nil
	pc.Forward("out", "k", "v")
	require.EqualError(t, pc.err, `forward to "out", which is not a sink of stage split`)
}

// TestProcessContextForwardByKey: a keyed sink takes records in the
// partition their key hashes to, and only through ForwardByKey; a serial
// run writes it the same way.
func TestProcessContextForwardByKey(t *testing.T) {
	st := &Stage{Name: "s", Sinks: []string{"out", "byKey"}, KeyedSinks: []string{"byKey"}}
	pc := &ProcessContext{partition: 2, stage: st, keyedSinks: map[string]int{"byKey": 8}}
	pc.ForwardByKey("byKey", "k", "v")
	require.NoError(t, pc.err)
	assert.Equal(t, []history.Record{{Topic: "byKey", Partition: KeyPartition("k", 8), Key: "k", Value: "v"}}, pc.forwards)

	pc.Forward("byKey", "k", "v")
	require.EqualError(t, pc.err, `forward to "byKey", which stage s writes by key (ForwardByKey)`)
	pc.err = nil
	pc.ForwardByKey("out", "k", "v")
	require.EqualError(t, pc.err, `forward by key to "out", which is not a keyed sink of stage s`)

	// Lines keyed l0..l2, each echoed by its first word.
	echo := &Topology{Stages: []Stage{{Name: "echo", Sources: []string{"in"}, Sinks: []string{"out"}, KeyedSinks: []string{"out"},
		Process: func(ctx *ProcessContext, rec history.Record) error {
			ctx.ForwardByKey("out", strings.Fields(rec.Value)[0], rec.Key)
			return nil
		}}}}
	require.NoError(t, echo.Validate())
	got, err := RunSerial(echo, "app", 4, []history.Record{in(0, 0, "l0", "a b"), in(1, 0, "l1", "b"), in(3, 0, "l2", "zz")})
	require.NoError(t, err)
	require.Len(t, got, 3)
	for _, r := range got {
		assert.Equal(t, KeyPartition(r.Key, 4), r.Partition, "record %v", r)
	}
	_, err = RunSerial(echo, "app", 0, nil)
	require.ErrorContains(t, err, "needs their partition count")
}

// TestChangelogRecordsCached: a cached store's changelog has one record per
// partition and key a unit wrote, at its first write, with its last value;
// an uncached store's has every write.
func TestChangelogRecordsCached(t *testing.T) {
	stage := &Stage{Stores: []string{"c", "u"}, Cached: []string{"c"}}
	v := func(s string) *string { return &s }
	pcs := []*ProcessContext{
		{partition: 0, stage: stage, writeLog: []storeWrite{{"c", "a", v("1")}, {"u", "a", v("1")}}},
		{partition: 1, stage: stage, writeLog: []storeWrite{{"c", "a", v("7")}}},
		{partition: 0, stage: stage, writeLog: []storeWrite{{"c", "b", v("1")}, {"c", "a", v("2")}, {"u", "a", v("2")}}},
		{partition: 0, stage: stage, writeLog: []storeWrite{{"c", "b", nil}}},
	}
	var got []string
	for _, r := range changelogRecords(map[string]string{"c": "app-c-changelog", "u": "app-u-changelog"}, pcs) {
		got = append(got, fmt.Sprintf("%s[%d] %s=%s", r.Topic, r.Partition, r.Key, r.Value))
	}
	assert.Equal(t, []string{
		"app-c-changelog[0] a=2",
		"app-u-changelog[0] a=1",
		"app-c-changelog[1] a=7",
		"app-c-changelog[0] b=", // deleted: a tombstone
		"app-u-changelog[0] a=2",
	}, got)
}
