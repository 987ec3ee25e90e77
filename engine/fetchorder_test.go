package engine

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"pgregory.net/rapid"
)

func TestFetchOrder(t *testing.T) {
	for _, tc := range []struct {
		name       string
		lag        map[string]map[int32]int64
		topics     []string
		partitions map[string][]int32
	}{
		{
			name:       "no lag: by name and number",
			lag:        map[string]map[int32]int64{"lines": {2: 0, 0: 0}, "app-words-repartition": {3: 0, 1: 0}},
			topics:     []string{"app-words-repartition", "lines"},
			partitions: map[string][]int32{"lines": {0, 2}, "app-words-repartition": {1, 3}},
		},
		{
			name:       "the topic lagging most leads, and its most lagging partition",
			lag:        map[string]map[int32]int64{"lines": {0: 10, 2: 30}, "app-words-repartition": {1: 59, 3: 0}},
			topics:     []string{"app-words-repartition", "lines"},
			partitions: map[string][]int32{"lines": {2, 0}, "app-words-repartition": {1, 3}},
		},
		{
			name:       "ties within a topic by number",
			lag:        map[string]map[int32]int64{"lines": {3: 5, 1: 5, 0: 7}},
			topics:     []string{"lines"},
			partitions: map[string][]int32{"lines": {0, 1, 3}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			topics, partitions := fetchOrder(tc.lag, nil, nil)
			assert.Equal(t, tc.topics, topics)
			assert.Equal(t, tc.partitions, partitions)
		})
	}
}

// TestFetchOrderDependsOnLagAlone: kgo's own order (the prior orders it
// passes) never shows through, and every topic and partition is kept.
func TestFetchOrderDependsOnLagAlone(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		lag := rapid.MapOfN(rapid.SampledFrom([]string{"a", "b", "c", "d"}),
			rapid.MapOfN(rapid.Int32Range(0, 7), rapid.Int64Range(0, 100), 1, 8), 1, 4).Draw(t, "lag")
		topics, partitions := fetchOrder(lag, nil, nil)
		again, againPartitions := fetchOrder(lag, []string{"d", "c", "b", "a"}, map[string][]int32{"a": {7, 6, 5}})
		assert.Equal(t, topics, again)
		assert.Equal(t, partitions, againPartitions)
		assert.Len(t, topics, len(lag))
		for tp, ps := range lag {
			assert.Len(t, partitions[tp], len(ps), "topic %s", tp)
		}
	})
}
