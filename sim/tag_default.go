//go:build !synctests

package sim

// builtWithSynctests: without franz-go's synctests tag its mutexes are
// sync.Mutex, and a commit racing a rebalance can freeze virtual time.
const builtWithSynctests = false
