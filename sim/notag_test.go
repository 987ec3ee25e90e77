//go:build !synctests

package sim

import (
	"context"
	"errors"
	"testing"
)

func TestRunRefusesWithoutSynctestsTag(t *testing.T) {
	_, err := Run(context.Background(), DefaultConfig())
	if !errors.Is(err, ErrNeedsSynctests) {
		t.Fatalf("Run without the synctests tag: got %v, want ErrNeedsSynctests", err)
	}
	t.Skip("the simulator tests need franz-go's synctests build tag: go test -tags synctests ./sim/")
}
