package topicread

// FetchArraysMade is how many record arrays the readers' pool has made.
func FetchArraysMade() int { return fetchPool.arraysMade() }
