package engine

import (
	"cmp"
	"maps"
	"slices"
)

// fetchOrder is the instance's kgo.PreferLagFn: the order of the topics and
// partitions in each fetch request, decided by their lag alone.
//
// Order matters as soon as a partition holds a batch larger than the
// fetch's per-partition limit, as a repartition topic does (one batch per
// transaction and partition): a broker returns such a batch only when it is
// the first of the response (KIP-74), so the partitions after it get nothing
// this time. kgo's own order comes from the order in which its cursors were
// created, rotated by one per request, and that creation order follows Go's
// map iteration: which repartition partition a unit found records in, and
// so the History, differed between runs of one seed. Largest lag first is
// fair (a partition left out grows its lag until it leads) and depends only
// on what the broker answered before; ties go by name and number.
func fetchOrder(lag map[string]map[int32]int64, _ []string, _ map[string][]int32) ([]string, map[string][]int32) {
	total := make(map[string]int64, len(lag))
	for t, ps := range lag {
		for _, l := range ps {
			total[t] += l
		}
	}
	topics := slices.SortedFunc(maps.Keys(lag), func(a, b string) int {
		return cmp.Or(cmp.Compare(total[b], total[a]), cmp.Compare(a, b))
	})
	partitions := make(map[string][]int32, len(lag))
	for t, ps := range lag {
		partitions[t] = slices.SortedFunc(maps.Keys(ps), func(a, b int32) int {
			return cmp.Or(cmp.Compare(ps[b], ps[a]), cmp.Compare(a, b))
		})
	}
	return topics, partitions
}
