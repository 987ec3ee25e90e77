// Package kfakeproc owns starting cmd/kfakebroker as a process of its own
// for tests that need a cluster over loopback TCP: the way a user points
// eosim at a real cluster, with kfake standing in for it.
package kfakeproc

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	buildErr  error
	// managed is set by Main: Start refuses to build a binary that
	// nothing would remove (a test binary per package, 13 MB each, left
	// in the temporary directory by every go test).
	managed bool
)

// Main runs the package's tests and removes the broker binary the tests
// built; a package whose tests call Start calls it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(kfakeproc.Main(m)) }
func Main(m *testing.M) int {
	managed = true
	defer cleanup()
	return m.Run()
}

// Build compiles cmd/kfakebroker once per test binary and returns its
// path; Main removes it.
func Build() (string, error) {
	buildOnce.Do(func() {
		if binDir, buildErr = os.MkdirTemp("", "eosim-kfakebroker-"); buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "kfakebroker")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/eosim/eosim/cmd/kfakebroker").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("building cmd/kfakebroker: %v: %s", err, out)
		}
	})
	return binPath, buildErr
}

// cleanup removes what Build made.
func cleanup() {
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
}

// Start runs the broker as its own process with args and returns the
// addresses it listens on; the test's cleanup stops it with SIGTERM.
func Start(t testing.TB, args ...string) []string {
	t.Helper()
	if !managed {
		t.Fatal("kfakeproc.Start: the package's TestMain must run its tests through kfakeproc.Main, which removes the broker binary afterwards")
	}
	bin, err := Build()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The first line is read before anything waits on the process: Wait
	// closes the pipe.
	line, readErr := bufio.NewReader(out).ReadString('\n')
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	if readErr != nil {
		_ = cmd.Process.Kill()
		<-exited
		t.Fatalf("kfakebroker said nothing: %v; stderr: %s", readErr, stderr.String())
	}
	addrs, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if !ok {
		t.Fatalf("kfakebroker's first line: %q", line)
	}
	return strings.Split(addrs, ",")
}
