package main

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"earlyhelp/pipeline/config"
)

// TestFaults is issue 8's fault list: each fault, met by a scheduled weekly
// list after a good one, ends in a clear error, a failed manifest (where the
// data directory can hold one), a failure metric and no list; once the fault
// is cleared the next run succeeds.
func TestFaults(t *testing.T) {
	tests := []struct {
		name string
		// inject breaks the council after a good run and returns the repair.
		inject func(t *testing.T, cfg *config.Config) (repair func())
		// wantErr is in the job's error: what an operator reads.
		wantErr string
		// noManifest: the data directory itself cannot be written, so no
		// run folder can be made; the error and the metric still say why.
		noManifest bool
	}{
		{
			name: "source folder vanishes between runs",
			inject: func(t *testing.T, cfg *config.Config) func() {
				dir := cfg.Sources["attendance_sessions"].Path
				mustRename(t, dir, dir+".gone")
				return func() { mustRename(t, dir+".gone", dir) }
			},
			wantErr: "attendance_sessions: source folder",
		},
		{
			name: "read-only store with a new delivery to load",
			inject: func(t *testing.T, cfg *config.Config) func() {
				redeliver(t, cfg, "deprivation")
				return readOnly(t, filepath.Join(cfg.DataDir, "store"))
			},
			wantErr: readOnlyErr(),
		},
		{
			name: "read-only data_dir",
			inject: func(t *testing.T, cfg *config.Config) func() {
				return readOnly(t, cfg.DataDir)
			},
			wantErr:    readOnlyErr(),
			noManifest: true,
		},
		{
			name: "corrupt store file",
			inject: func(t *testing.T, cfg *config.Config) func() {
				files, _ := filepath.Glob(filepath.Join(cfg.DataDir, "store", "attendance_sessions", "*.arrow"))
				if len(files) == 0 {
					t.Fatal("no attendance store file to corrupt")
				}
				// The newest delivery: a weekly run does not open those
				// dated wholly before the year it needs (ScanSince).
				newest := files[len(files)-1]
				good, err := os.ReadFile(newest)
				if err != nil {
					t.Fatal(err)
				}
				bad := append([]byte("not arrow at all"), good[len(good)/2:]...)
				if err := os.WriteFile(newest, bad, 0o640); err != nil {
					t.Fatal(err)
				}
				// The attendance index the last run cached already holds
				// the delivery, so a weekly run would not read it again
				// (the next retrain, which reads the store in full, or
				// `store check` finds it): without the cache, it does.
				if err := os.RemoveAll(filepath.Join(cfg.DataDir, "cache", "store")); err != nil {
					t.Fatal(err)
				}
				return func() { os.WriteFile(newest, good, 0o640) }
			},
			wantErr: "attendance_sessions",
		},
		{
			name: "PostgreSQL source down",
			inject: func(t *testing.T, cfg *config.Config) func() {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				addr := ln.Addr().String()
				ln.Close() // nothing listens there now
				t.Setenv("EARLYHELP_TEST_DOWN_DSN", "postgres://earlyhelp:x@"+addr+"/earlyhelp?sslmode=disable&connect_timeout=5")
				was := cfg.Sources["deprivation"]
				cfg.Sources["deprivation"] = config.Source{Kind: "postgres", DSNEnv: "EARLYHELP_TEST_DOWN_DSN",
					Query: "select lsoa_code, imd_decile from iod.deprivation"}
				return func() { cfg.Sources["deprivation"] = was }
			},
			wantErr: "deprivation",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, asOf := tinyCouncil(t, "  weekly_list: \"0 6 * * MON\"\n  retries: 0\n")
			s, clk := newTestScheduler(t, cfg, asOf)
			j := s.jobs[0]
			ctx := context.Background()
			if err := s.runJob(ctx, j); err != nil {
				t.Fatalf("first run: %v", err)
			}
			clk.tick()
			repair := tc.inject(t, cfg)
			err := s.runJob(ctx, j)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				repair()
				t.Fatalf("faulty run error = %v; want one containing %q", err, tc.wantErr)
			}
			t.Logf("error: %v", err)
			if got := testutil.ToFloat64(s.metrics.Runs.WithLabelValues("failed")); got != 1 {
				t.Errorf("earlyhelp_run_total{status=failed} = %g; want 1", got)
			}
			if got := testutil.ToFloat64(s.failures.WithLabelValues(j.name)); got != 1 {
				t.Errorf("earlyhelp_job_failures_total = %g; want 1", got)
			}
			if s.ready() == nil {
				t.Error("ready() after a failed job = nil; want not ready")
			}
			repair()
			dir, man := newestRun(t, cfg.DataDir)
			switch {
			case tc.noManifest && man.Status != "succeeded":
				t.Errorf("newest manifest %s is %q; want the first run's, the faulty one had nowhere to go", man.RunID, man.Status)
			case !tc.noManifest && (man.Status != "failed" || man.Error == ""):
				t.Errorf("manifest status %q error %q; want failed with the reason", man.Status, man.Error)
			case !tc.noManifest:
				if _, err := os.Stat(filepath.Join(dir, "list", "navigator_list.csv")); err == nil {
					t.Error("a failed run left a navigator list")
				}
			}

			clk.tick()
			if err := s.runJob(ctx, j); err != nil {
				t.Fatalf("run after repair: %v", err)
			}
			dir, man = newestRun(t, cfg.DataDir)
			if man.Status != "succeeded" {
				t.Errorf("run after repair: status %q", man.Status)
			}
			if _, err := os.Stat(filepath.Join(dir, "list", "navigator_list.csv")); err != nil {
				t.Errorf("run after repair has no list: %v", err)
			}
			if err := s.ready(); err != nil {
				t.Errorf("ready() after recovery = %v", err)
			}
		})
	}
}

// readOnlyErr is the error text readOnly's fault gives.
func readOnlyErr() string {
	if os.Geteuid() == 0 {
		return "read-only file system"
	}
	return "permission denied"
}

func mustRename(t *testing.T, from, to string) {
	t.Helper()
	if err := os.Rename(from, to); err != nil {
		t.Fatal(err)
	}
}

// redeliver drops a copy of a source's first extract under a new name, so
// the next run has something to write into the store.
func redeliver(t *testing.T, cfg *config.Config, source string) {
	t.Helper()
	dir := cfg.Sources[source].Path
	files, _ := filepath.Glob(filepath.Join(dir, "*.csv"))
	if len(files) == 0 {
		t.Fatalf("no %s extract", source)
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, source+"_redelivered.csv"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// readOnly makes dir read-only the way an operator's mistake would: a
// read-only mount. Root ignores permission bits, so as root it bind-mounts
// dir read-only over itself (needs mount rights; the test skips without
// them); otherwise it removes write permission. The returned func undoes it.
func readOnly(t *testing.T, dir string) func() {
	t.Helper()
	if os.Geteuid() != 0 {
		if out, err := exec.Command("chmod", "-R", "a-w", dir).CombinedOutput(); err != nil {
			t.Fatalf("chmod: %v: %s", err, out)
		}
		undo := func() { exec.Command("chmod", "-R", "u+w", dir).Run() }
		t.Cleanup(undo)
		return undo
	}
	if out, err := exec.Command("mount", "--bind", dir, dir).CombinedOutput(); err != nil {
		t.Skipf("running as root and cannot bind-mount %s read-only (%v: %s); the read-only fault needs a non-root user or mount rights", dir, err, out)
	}
	mounted := true
	undo := func() {
		if mounted {
			exec.Command("umount", dir).Run()
			mounted = false
		}
	}
	t.Cleanup(undo)
	if out, err := exec.Command("mount", "-o", "remount,bind,ro", dir).CombinedOutput(); err != nil {
		undo()
		t.Skipf("cannot remount %s read-only: %v: %s", dir, err, out)
	}
	return undo
}
