package faults

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kerr"
)

// kerrNames are the names kerr knows.
func kerrNames() map[string]bool {
	names := map[string]bool{}
	for code := int16(-1); code < 200; code++ {
		if e, ok := kerr.ErrorForCode(code).(*kerr.Error); ok {
			names[e.Message] = true
		}
	}
	return names
}

func TestProtocolErrorsAreKafkaErrors(t *testing.T) {
	names := kerrNames()
	require.NotEmpty(t, DocumentedRequests())
	for _, r := range DocumentedRequests() {
		errs := ProtocolErrors(r)
		require.NotEmpty(t, errs, r)
		for _, e := range errs {
			require.True(t, names[e], "%s: %s is not a Kafka error kerr knows", r, e)
		}
	}
	require.Nil(t, ProtocolErrors("NoSuchRequest"))
}

// TestCatalogueIsPartOfTheProtocol: every answer the broker-error family
// draws is one the protocol allows for its request.
func TestCatalogueIsPartOfTheProtocol(t *testing.T) {
	for _, r := range BrokerErrorRequests() {
		for _, e := range BrokerErrors(r) {
			require.Contains(t, ProtocolErrors(r), e, "%s answered %s", r, e)
		}
	}
}

func TestProtocolErrorsOfATransactionalRequest(t *testing.T) {
	errs := ProtocolErrors("EndTxn")
	for _, e := range []string{"INVALID_TXN_STATE", "PRODUCER_FENCED", "TRANSACTION_ABORTABLE", "NOT_COORDINATOR", "UNKNOWN_SERVER_ERROR"} {
		require.Contains(t, errs, e)
	}
	require.NotContains(t, ProtocolErrors("Fetch"), "NOT_COORDINATOR", "a partition leader is no coordinator")
}

// TestProtocolTableIsGenerated: protocol_errors.go is what its generator
// writes from the kmsg in go.mod (go generate ./faults/ after a kmsg bump).
func TestProtocolTableIsGenerated(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the generator")
	}
	out := filepath.Join(t.TempDir(), "protocol_errors.go")
	cmd := exec.Command("go", "run", "./internal/generrors", "-o", out)
	b, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", b)
	want, err := os.ReadFile(out)
	require.NoError(t, err)
	got, err := os.ReadFile("protocol_errors.go")
	require.NoError(t, err)
	require.Equal(t, string(want), string(got), "protocol_errors.go is stale: go generate ./faults/")
}
