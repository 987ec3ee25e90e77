package engine

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eosim/eosim/history"
)

func TestChangelogTopic(t *testing.T) {
	tests := []struct{ app, store, want string }{
		{"app", "counts", "app-counts-changelog"},
		{"wordcount-v2", "word-store", "wordcount-v2-word-store-changelog"},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, ChangelogTopic(tc.app, tc.store))
	}
}

func TestTopologyValidate(t *testing.T) {
	process := func(*ProcessContext, history.Record) error { return nil }
	tests := []struct {
		name    string
		topo    *Topology
		wantErr string
	}{
		{name: "nil", topo: nil, wantErr: "topology: missing"},
		{name: "no source", topo: &Topology{Sinks: []string{"out"}, Process: process}, wantErr: "topology: missing source topic"},
		{name: "no processor", topo: &Topology{Source: "in", Sinks: []string{"out"}}, wantErr: "topology: missing processor"},
		{name: "no sinks", topo: &Topology{Source: "in", Process: process}, wantErr: "topology: no sink topics"},
		{name: "valid without stores", topo: &Topology{Source: "in", Sinks: []string{"out"}, Process: process}},
		{name: "valid with stores", topo: &Topology{Source: "in", Stores: []string{"s"}, Sinks: []string{"out", "audit"}, Process: process}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.topo.validate()
			if tc.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Equal(t, tc.wantErr, err.Error())
		})
	}
}

// newTestContext builds a ProcessContext as Instance.process does, over
// store "s" holding base.
func newTestContext(partition int32, base map[string]string) *ProcessContext {
	sp := newStorePartition()
	for k, v := range base {
		sp.data[k] = v
	}
	return &ProcessContext{
		partition: partition,
		stage:     &Stage{Sources: []string{"in"}, Stores: []string{"s"}, Sinks: []string{"out", "audit"}},
		stores:    map[string]*storePartition{"s": sp},
	}
}

func TestProcessContextReadYourWrites(t *testing.T) {
	type op struct {
		kind       string // get, put, del
		key, value string
		wantOK     bool
	}
	tests := []struct {
		name string
		base map[string]string
		ops  []op
	}{
		{
			name: "get sees the store",
			base: map[string]string{"a": "1"},
			ops:  []op{{kind: "get", key: "a", value: "1", wantOK: true}, {kind: "get", key: "b"}},
		},
		{
			name: "put then get sees the new value",
			base: map[string]string{"a": "1"},
			ops: []op{
				{kind: "put", key: "a", value: "2"}, {kind: "get", key: "a", value: "2", wantOK: true},
				{kind: "put", key: "b", value: "3"}, {kind: "get", key: "b", value: "3", wantOK: true},
			},
		},
		{
			name: "delete hides a stored key",
			base: map[string]string{"a": "1"},
			ops:  []op{{kind: "del", key: "a"}, {kind: "get", key: "a"}},
		},
		{
			name: "put after delete is visible",
			base: map[string]string{"a": "1"},
			ops:  []op{{kind: "del", key: "a"}, {kind: "put", key: "a", value: "9"}, {kind: "get", key: "a", value: "9", wantOK: true}},
		},
		{
			name: "delete after put hides the put",
			ops:  []op{{kind: "put", key: "a", value: "1"}, {kind: "del", key: "a"}, {kind: "get", key: "a"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pc := newTestContext(0, tc.base)
			for i, o := range tc.ops {
				switch o.kind {
				case "get":
					v, ok := pc.Get("s", o.key)
					assert.Equal(t, o.wantOK, ok, "op %d", i)
					assert.Equal(t, o.value, v, "op %d", i)
				case "put":
					pc.Put("s", o.key, o.value)
				case "del":
					pc.Delete("s", o.key)
				}
			}
			assert.NoError(t, pc.err)
			want := tc.base
			if want == nil {
				want = map[string]string{}
			}
			assert.Equal(t, want, pc.stores["s"].data, "writes must be buffered, not applied to the store")
		})
	}
}

func TestProcessContextWriteLog(t *testing.T) {
	pc := newTestContext(0, nil)
	pc.Put("s", "a", "1")
	pc.Delete("s", "b")
	pc.Put("s", "a", "2")
	require.Len(t, pc.writeLog, 3)
	got := make([]string, 0, 3)
	for _, w := range pc.writeLog {
		v := "<delete>"
		if w.value != nil {
			v = *w.value
		}
		got = append(got, w.store+"/"+w.key+"="+v)
	}
	assert.Equal(t, []string{"s/a=1", "s/b=<delete>", "s/a=2"}, got, "every write is logged in order, overwrites included")
}

func TestProcessContextUnknownStore(t *testing.T) {
	tests := []struct {
		name    string
		do      func(pc *ProcessContext)
		wantErr string
	}{
		{name: "get", do: func(pc *ProcessContext) {
			v, ok := pc.Get("nope", "a")
			assert.False(t, ok)
			assert.Empty(t, v)
		}, wantErr: `get from unknown store "nope"`},
		{name: "put", do: func(pc *ProcessContext) { pc.Put("nope", "a", "1") }, wantErr: `write to unknown store "nope"`},
		{name: "delete", do: func(pc *ProcessContext) { pc.Delete("nope", "a") }, wantErr: `write to unknown store "nope"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pc := newTestContext(0, map[string]string{"a": "1"})
			tc.do(pc)
			require.Error(t, pc.err)
			assert.Equal(t, tc.wantErr, pc.err.Error())
			assert.Empty(t, pc.writeLog)
		})
	}
}

func TestProcessContextKeepsFirstError(t *testing.T) {
	pc := newTestContext(0, nil)
	pc.Get("first", "k")
	pc.Put("second", "k", "v")
	pc.Forward("third", "k", "v")
	require.Error(t, pc.err)
	assert.Contains(t, pc.err.Error(), `"first"`)
}

func TestProcessContextForward(t *testing.T) {
	pc := newTestContext(4, nil)
	assert.Equal(t, int32(4), pc.Partition())
	pc.Forward("out", "k", "v", history.Header{Key: "h", Value: "1"})
	pc.Forward("audit", "k2", "")
	assert.NoError(t, pc.err)
	assert.Equal(t, []history.Record{
		{Topic: "out", Partition: 4, Key: "k", Value: "v", Headers: []history.Header{{Key: "h", Value: "1"}}},
		{Topic: "audit", Partition: 4, Key: "k2"},
	}, pc.forwards)
}

func TestProcessContextForwardToNonSink(t *testing.T) {
	for _, topic := range []string{"in", "s", ChangelogTopic("app", "s"), ""} {
		t.Run(topic, func(t *testing.T) {
			pc := newTestContext(0, nil)
			pc.Forward(topic, "k", "v")
			require.Error(t, pc.err)
			assert.Equal(t, `forward to "`+topic+`", which is not a sink of the topology`, pc.err.Error())
			assert.Empty(t, pc.forwards)
		})
	}
}

// TestProcessContextPrefixScan: a scan sees the store and the unit's own
// writes over it (a put shadows, a delete hides), sorted by key, and only
// keys with the prefix.
func TestProcessContextPrefixScan(t *testing.T) {
	pc := newTestContext(0, map[string]string{"c1/p3": "30", "c1/p1": "10", "c2/p2": "20", "c1/p5": "50"})
	pc.Put("s", "c1/p2", "22")
	pc.Put("s", "c1/p3", "33")
	pc.Delete("s", "c1/p5")
	pc.Put("s", "c2/p9", "90")
	assert.Equal(t, []history.KV{{Key: "c1/p1", Value: "10"}, {Key: "c1/p2", Value: "22"}, {Key: "c1/p3", Value: "33"}}, pc.PrefixScan("s", "c1/"))
	assert.Empty(t, pc.PrefixScan("s", "c3/"))
	require.NoError(t, pc.err)
	assert.Nil(t, pc.PrefixScan("missing", ""))
	assert.EqualError(t, pc.err, `scan of unknown store "missing"`)

	// The unit's earlier records' writes lie between the store and the
	// record's own: they shadow the store and are shadowed by the record.
	pc = newTestContext(0, map[string]string{"c1/p1": "10", "c1/p2": "20", "c1/p3": "30"})
	drop, earlier2, earlier4 := (*string)(nil), "21", "41"
	pc.earlier = map[string]map[string]*string{"s": {"c1/p1": drop, "c1/p2": &earlier2, "c1/p4": &earlier4}}
	pc.Put("s", "c1/p4", "42")
	assert.Equal(t, []history.KV{{Key: "c1/p2", Value: "21"}, {Key: "c1/p3", Value: "30"}, {Key: "c1/p4", Value: "42"}}, pc.PrefixScan("s", "c1/"))
	v, ok := pc.Get("s", "c1/p2")
	assert.True(t, ok)
	assert.Equal(t, "21", v)
	_, ok = pc.Get("s", "c1/p1")
	assert.False(t, ok, "deleted by an earlier record")
}
