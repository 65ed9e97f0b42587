package main

import (
	"context"
	"errors"
	"net"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"earlyhelp/pipeline/config"
	"earlyhelp/pipeline/store"
)

// TestJobRetries: a job that keeps failing is tried 1+retries times, with
// the backoff between, then marked failed; each attempt leaves its own
// failed manifest.
func TestJobRetries(t *testing.T) {
	cfg, asOf := tinyCouncil(t, "  weekly_list: \"0 6 * * MON\"\n  retries: 1\n  retry_backoff: 1s\n")
	s, _ := newTestScheduler(t, cfg, asOf)
	dir := cfg.Sources["persons"].Path
	mustRename(t, dir, dir+".gone")
	start := time.Now()
	err := s.runJob(context.Background(), s.jobs[0])
	took := time.Since(start)
	if err == nil {
		t.Fatal("runJob succeeded without its persons folder")
	}
	if got := testutil.ToFloat64(s.retries.WithLabelValues("weekly_list")); got != 1 {
		t.Errorf("earlyhelp_job_retries_total = %g; want 1", got)
	}
	if got := testutil.ToFloat64(s.failures.WithLabelValues("weekly_list")); got != 1 {
		t.Errorf("earlyhelp_job_failures_total = %g; want 1", got)
	}
	if got := testutil.ToFloat64(s.metrics.Runs.WithLabelValues("failed")); got != 2 {
		t.Errorf("earlyhelp_run_total{status=failed} = %g; want 2 (one per attempt)", got)
	}
	if took < time.Second {
		t.Errorf("two attempts took %s; want at least the 1s backoff between them", took)
	}
	runs, _ := filepath.Glob(filepath.Join(cfg.DataDir, "runs", "*", "manifest.json"))
	if len(runs) != 2 {
		t.Errorf("%d run manifests; want 2", len(runs))
	}
}

// TestJobSkipped: a job that finds the data_dir lock held (another process
// running) or another job of this process running is skipped, logged and
// counted, and makes no run folder.
func TestJobSkipped(t *testing.T) {
	cfg, asOf := tinyCouncil(t, "  weekly_list: \"0 6 * * MON\"\n  ingest: \"0 2 * * *\"\n  retries: 3\n")
	s, _ := newTestScheduler(t, cfg, asOf)
	st, err := store.Open(cfg.DataDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	unlock, err := st.Lock()
	if err != nil {
		t.Fatal(err)
	}
	weekly := s.jobs[1]
	if err := s.runJob(context.Background(), weekly); !errors.Is(err, errSkipped) {
		t.Errorf("runJob with data_dir locked = %v; want errSkipped", err)
	}
	// Jobs skipped for another process's lock make no list: not ready.
	if err := s.ready(); err == nil || !strings.Contains(err.Error(), "lock") {
		t.Errorf("ready() while jobs are skipped for a lock = %v; want not ready", err)
	}
	unlock()

	s.runMu.Lock() // another job of this process is running
	if err := s.runJob(context.Background(), s.jobs[0]); !errors.Is(err, errSkipped) {
		t.Errorf("runJob while another job runs = %v; want errSkipped", err)
	}
	s.runMu.Unlock()

	for _, j := range []string{"ingest", "weekly_list"} {
		if got := testutil.ToFloat64(s.skipped.WithLabelValues(j)); got != 1 {
			t.Errorf("earlyhelp_job_skipped_total{job=%s} = %g; want 1", j, got)
		}
	}
	if got := testutil.ToFloat64(s.retries.WithLabelValues("weekly_list")); got != 0 {
		t.Errorf("a skipped job was retried %g times; want 0", got)
	}
	if runs, _ := filepath.Glob(filepath.Join(cfg.DataDir, "runs", "*")); len(runs) != 0 {
		t.Errorf("skipped jobs made %d run folders; want 0", len(runs))
	}
}

// TestJobTimeout: a source that hangs (a PostgreSQL address that accepts
// connections and never answers) is cancelled at schedule.job_timeout, and
// the error says so.
func TestJobTimeout(t *testing.T) {
	cfg, asOf := tinyCouncil(t, "  weekly_list: \"0 6 * * MON\"\n  retries: 0\n  job_timeout: 1s\n")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // held open, never answered
		}
	}()
	t.Setenv("EARLYHELP_TEST_HUNG_DSN", "postgres://earlyhelp:x@"+ln.Addr().String()+"/earlyhelp?sslmode=disable")
	cfg.Sources["deprivation"] = config.Source{Kind: "postgres", DSNEnv: "EARLYHELP_TEST_HUNG_DSN",
		Query: "select lsoa_code, imd_decile from iod.deprivation"}
	s, _ := newTestScheduler(t, cfg, asOf)
	start := time.Now()
	err = s.runJob(context.Background(), s.jobs[0])
	took := time.Since(start)
	if err == nil || !strings.Contains(err.Error(), "job_timeout 1s passed") {
		t.Fatalf("runJob = %v; want the job timeout named", err)
	}
	if took > 20*time.Second {
		t.Errorf("timed-out job took %s to return; want about 1s", took)
	}
	if _, man := newestRun(t, cfg.DataDir); man.Status != "failed" {
		t.Errorf("manifest status %q; want failed", man.Status)
	}
}

// TestReadyzSaysNoMore: /readyz tells the public only whether it is ready;
// why goes to the log (it can hold paths and internal errors).
func TestReadyzSaysNoMore(t *testing.T) {
	cfg, asOf := tinyCouncil(t, "  weekly_list: \"0 6 * * MON\"\n  retries: 0\n")
	s, _ := newTestScheduler(t, cfg, asOf)
	s.setFailed("run failed reading /srv/council/var/store/persons/000001.arrow")
	rec := httptest.NewRecorder()
	newServeMux(s, nil).ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != 503 || strings.TrimSpace(rec.Body.String()) != "not ready" {
		t.Errorf("GET /readyz = %d %q; want 503 \"not ready\"", rec.Code, rec.Body.String())
	}
}
