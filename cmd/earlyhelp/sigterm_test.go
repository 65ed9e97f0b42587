package main

import (
	"context"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// childServeEnv makes the test binary act as `earlyhelp serve` (TestMain is
// the package's; TestServeChild is the entry point), so a real SIGTERM can
// be sent to a real process.
const childServeEnv = "EARLYHELP_TEST_SERVE_CHILD"

// TestServeChild is not a test: run by TestServeSIGTERM as a child process,
// it is main() with the arguments in childServeEnv.
func TestServeChild(t *testing.T) {
	args := os.Getenv(childServeEnv)
	if args == "" {
		t.Skip("helper process for TestServeSIGTERM")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, strings.Split(args, "\x1f"), io.Discard, os.Stderr)
	stop()
	os.Exit(code)
}

// TestServeSIGTERM sends SIGTERM to a serve process in the middle of its
// catch-up weekly list: it exits 0, and the run's manifest says failed with
// no list written.
func TestServeSIGTERM(t *testing.T) {
	cfg, asOf := tinyCouncil(t, "  weekly_list: \"0 6 * * MON\"\n  retries: 0\n")
	cmd := exec.Command(os.Args[0], "-test.run=^TestServeChild$")
	cmd.Env = append(os.Environ(), childServeEnv+"="+strings.Join([]string{"serve", "--config", cfg.File(), "--listen", "127.0.0.1:0", "--log-format", "json"}, "\x1f"))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, func() bool {
		m, _ := filepath.Glob(filepath.Join(cfg.DataDir, "runs", "*", "manifest.json"))
		return len(m) > 0
	})
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if err != nil {
		t.Fatalf("serve exited with %v after SIGTERM; want 0\n%s", err, stderr.String())
	}
	dir, man := newestRun(t, cfg.DataDir)
	if man.Status != "failed" || !strings.Contains(man.Error, "context canceled") {
		t.Errorf("manifest status %q error %q; want failed, context canceled", man.Status, man.Error)
	}
	if _, err := os.Stat(filepath.Join(dir, "list", "navigator_list.csv")); err == nil {
		t.Error("a run stopped by SIGTERM left a navigator list")
	}
	if _, err := os.Stat(filepath.Join(cfg.DataDir, "run.lock")); err == nil {
		t.Error("serve left data_dir/run.lock behind")
	}
	if !strings.Contains(stderr.String(), "shutting down") {
		t.Errorf("serve's log does not say it shut down:\n%s", stderr.String())
	}

	// The next run recovers.
	s, clk := newTestScheduler(t, cfg, asOf)
	clk.tick()
	if err := s.runJob(context.Background(), s.jobs[0]); err != nil {
		t.Fatalf("run after SIGTERM: %v", err)
	}
	if dir, man := newestRun(t, cfg.DataDir); man.Status != "succeeded" {
		t.Errorf("run after SIGTERM %s: status %q", dir, man.Status)
	}
}
