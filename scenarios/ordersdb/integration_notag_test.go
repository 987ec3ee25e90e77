//go:build !synctests

package ordersdb_test

import "testing"

// The integration tests run kfake inside a synctest bubble, which needs
// franz-go's synctests build tag (see DESIGN.md §3).
func TestIntegrationNeedsSynctestsTag(t *testing.T) {
	t.Skip("integration tests need franz-go's synctests build tag: go test -tags synctests ./scenarios/ordersdb/")
}
