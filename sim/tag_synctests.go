//go:build synctests

package sim

// builtWithSynctests: franz-go's internal mutexes are channel-based, which a
// synctest bubble can see as durably blocked.
const builtWithSynctests = true
