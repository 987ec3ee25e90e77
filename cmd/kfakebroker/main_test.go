package main

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

func TestBadFlagsAreOneLineAndExit2(t *testing.T) {
	for _, args := range [][]string{
		{"-brokers", "0"},
		{"-brokers", "10"},
		{"-ports", "1,x"},
		{"-ports", "70000"},
		{"-brokers", "2", "-ports", "9000"},
		{"-data", filepath.Join(t.TempDir(), "missing")},
		{"-sync"},
		{"-as-version", "9.9"},
		{"extra"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(args, &stdout, &stderr, nil)
		require.Equal(t, 2, code, "%v", args)
		require.Empty(t, stdout.String(), "%v", args)
		require.Equal(t, 1, strings.Count(stderr.String(), "\n"), "%v: %q", args, stderr.String())
		require.True(t, strings.HasPrefix(stderr.String(), "kfakebroker: "), "%v: %q", args, stderr.String())
	}
}

// startBroker starts the built command as its own process and returns its
// listen addresses once it printed them.
func startBroker(t *testing.T, bin string, args ...string) (*exec.Cmd, []string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		// stderr is written by exec's goroutine until the process is gone.
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("no address line: %v; stderr: %s", err, stderr.String())
	}
	addrs, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	require.True(t, ok, "first line %q", line)
	return cmd, strings.Split(addrs, ",")
}

// stopBroker sends SIGTERM and requires a clean exit.
func stopBroker(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		require.NoError(t, err, "the broker did not exit 0 on SIGTERM")
	case <-time.After(30 * time.Second):
		t.Fatal("the broker did not exit within 30s of SIGTERM")
	}
}

func readCommitted(ctx context.Context, t *testing.T, addrs []string, topic string) []string {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.ConsumeTopics(topic),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	require.NoError(t, err)
	defer cl.Close()
	// The last record is read past the aborted one, in one partition: had
	// the aborted one been visible, it would be read before.
	var got []string
	for len(got) == 0 || got[len(got)-1] != "last" {
		fs := cl.PollFetches(ctx)
		require.NoError(t, ctx.Err(), "the last record was not read within the deadline; read %v", got)
		fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
	return got
}

// TestBrokerProcessServesTransactionsAndKeepsItsData runs the command as a
// separate process, as eosim's real-cluster tests will: over loopback TCP a
// transactional producer commits one record and aborts another, a
// read_committed consumer sees only the first; stopped by SIGTERM and
// started again on the same data directory, the broker still holds it.
func TestBrokerProcessServesTransactionsAndKeepsItsData(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a broker process")
	}
	bin := filepath.Join(t.TempDir(), "kfakebroker")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())
	data := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	cmd, addrs := startBroker(t, bin, "-brokers", "3", "-data", data)
	require.Len(t, addrs, 3)
	adm, err := kgo.NewClient(kgo.SeedBrokers(addrs...))
	require.NoError(t, err)
	_, err = kadm.NewClient(adm).CreateTopic(ctx, 3, 1, nil, "t")
	adm.Close()
	require.NoError(t, err)

	p, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.TransactionalID("kfakebroker-test"),
		kgo.DefaultProduceTopic("t"), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	require.NoError(t, err)
	for _, txn := range []struct {
		value string
		end   kgo.TransactionEndTry
	}{{"committed", kgo.TryCommit}, {"aborted", kgo.TryAbort}, {"last", kgo.TryCommit}} {
		require.NoError(t, p.BeginTransaction())
		require.NoError(t, p.ProduceSync(ctx, &kgo.Record{Value: []byte(txn.value)}).FirstErr())
		require.NoError(t, p.EndTransaction(ctx, txn.end))
	}
	p.Close()
	want := []string{"committed", "last"}
	require.Equal(t, want, readCommitted(ctx, t, addrs, "t"))
	stopBroker(t, cmd)

	cmd, addrs = startBroker(t, bin, "-brokers", "3", "-data", data)
	require.Equal(t, want, readCommitted(ctx, t, addrs, "t"), "the data directory did not bring the records back")
	stopBroker(t, cmd)
}
