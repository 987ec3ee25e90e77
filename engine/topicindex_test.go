package engine

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTopicIndex: the index names, for a single-stage and a multi-stage
// topology, the stage of every topic a unit can consume (sources and
// repartition topics, by their topic names), and maps each store to its
// changelog topic and back; a topic nobody reads has no stage.
func TestTopicIndex(t *testing.T) {
	single := &Topology{Source: "orders", Stores: []string{"inv"}, Sinks: []string{"out"}}
	x := newTopicIndex(single, "app")
	require.Contains(t, x.stageOf, "orders")
	assert.Equal(t, []string{"orders"}, x.stageOf["orders"].Sources)
	assert.Equal(t, map[string]string{"inv": "app-inv-changelog"}, x.changelogOf)
	assert.Equal(t, map[string]string{"app-inv-changelog": "inv"}, x.storeOf)
	assert.NotContains(t, x.stageOf, "out")

	multi := &Topology{Stages: []Stage{
		{Name: "split", Sources: []string{"in", "in2"}, Stores: []string{"a"}, Repartitions: []string{"words"}},
		{Name: "count", RepartitionSources: []string{"words"}, Stores: []string{"n", "m"}, Sinks: []string{"out"}},
	}}
	x = newTopicIndex(multi, "app")
	assert.Equal(t, "split", x.stageOf["in"].Name)
	assert.Equal(t, "split", x.stageOf["in2"].Name)
	assert.Equal(t, "count", x.stageOf["app-words-repartition"].Name)
	assert.NotContains(t, x.stageOf, "words", "a repartition source is read under its topic's name")
	assert.Same(t, &multi.Stages[1], x.stageOf["app-words-repartition"], "the topology's own stage, not a copy")
	assert.Equal(t, map[string]string{"a": "app-a-changelog", "n": "app-n-changelog", "m": "app-m-changelog"}, x.changelogOf)
	assert.Equal(t, map[string]string{"app-a-changelog": "a", "app-n-changelog": "n", "app-m-changelog": "m"}, x.storeOf)
}
