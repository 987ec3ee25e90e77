//go:build !synctests

package scoreboard

import "testing"

func TestScoreboard(t *testing.T) {
	t.Skip("the scoreboard runs the simulator, which needs franz-go's synctests build tag: go test -tags synctests ./scoreboard/")
}
