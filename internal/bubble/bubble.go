// Package bubble owns entering testing/synctest bubbles from a program that
// is not a test. synctest.Test needs a *testing.T; testing.Main gives a
// program one, so a command can run the simulator in virtual time exactly
// as the tests do.
package bubble

import (
	"os"
	"testing"
	"testing/synctest"
)

// Enter runs f inside a fresh synctest bubble and returns once every
// goroutine f started has exited.
type Enter func(f func())

// Main runs program, handing it a way to enter bubbles, and exits the
// process with the code program returns. It never returns. The testing
// package would parse os.Args as test flags, so the program must have parsed
// its own flags before calling Main.
func Main(program func(enter Enter) int) {
	os.Args = os.Args[:1]
	testing.Main(matchAll, []testing.InternalTest{{
		Name: "bubble",
		F: func(t *testing.T) {
			code := program(func(f func()) {
				synctest.Test(t, func(*testing.T) { f() })
			})
			// Exit here rather than return: testing would print PASS.
			os.Exit(code)
		},
	}}, nil, nil)
}

func matchAll(_, _ string) (bool, error) { return true, nil }
