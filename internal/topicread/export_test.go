package topicread

// FetchPoolCounts is how many record arrays the readers' pool has handed
// out, and how many it made.
func FetchPoolCounts() (got, made int) { return fetchPool.counts() }
