package report

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestHTMLOpensInChromiumWithoutConsoleErrors renders the failing fixture
// in headless Chromium (Debian's chromium package) to a PNG, and requires
// that the page logged nothing to the console. Without Chromium it skips.
func TestHTMLOpensInChromiumWithoutConsoleErrors(t *testing.T) {
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("needs headless Chromium: apt-get install chromium")
	}
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	require.NoError(t, os.WriteFile(page, []byte(render(t, failingRun())), 0o644))
	shot := filepath.Join(dir, "report.png")

	cmd := exec.Command(bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update",
		"--disable-sync", "--user-data-dir="+filepath.Join(dir, "profile"),
		"--enable-logging=stderr", "--v=0", "--window-size=1400,1000",
		"--screenshot="+shot, "file://"+page)
	done := make(chan struct{})
	var out []byte
	go func() { out, err = cmd.CombinedOutput(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("chromium did not finish:\n%s", out)
	}
	require.NoError(t, err, "chromium failed:\n%s", out)
	for _, line := range strings.Split(string(out), "\n") {
		require.NotContains(t, line, ":CONSOLE", "the page logged to the console")
	}
	info, err := os.Stat(shot)
	require.NoError(t, err, "no screenshot:\n%s", out)
	require.Positive(t, info.Size())
}
