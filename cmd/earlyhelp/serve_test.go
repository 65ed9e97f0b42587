package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"

	"earlyhelp/connectors/synthetic"
	"earlyhelp/pipeline"
	"earlyhelp/pipeline/config"
)

// tinyChildren keeps serve's tests to a second or two per run.
const tinyChildren = 500

var tinyOnce struct {
	sync.Once
	dir string
	end time.Time
	err error
}

// tinyCouncil copies one shared synthetic council (generated once per test
// binary) into a fresh folder and loads its config with schedule appended.
func tinyCouncil(t *testing.T, schedule string) (*config.Config, time.Time) {
	t.Helper()
	tinyOnce.Do(func() {
		// Under TestMain's folder, which is removed when the tests end.
		tinyOnce.dir = filepath.Join(filepath.Dir(demoDir), "serve")
		scfg := synthetic.Config{Out: filepath.Join(tinyOnce.dir, "council"), Children: tinyChildren, Seed: 7}
		_, tinyOnce.err = synthesise(context.Background(), scfg)
		tinyOnce.end = synthetic.DefaultEnd
	})
	if tinyOnce.err != nil {
		t.Fatalf("synthetic council: %v", tinyOnce.err)
	}
	dir := filepath.Join(t.TempDir(), "council")
	if out, err := exec.Command("cp", "-r", filepath.Join(tinyOnce.dir, "council"), dir).CombinedOutput(); err != nil {
		t.Fatalf("copy council: %v: %s", err, out)
	}
	path := filepath.Join(dir, "earlyhelp.yaml")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, []byte("schedule:\n"+schedule)...)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return cfg, tinyOnce.end.AddDate(0, 0, 1)
}

// testClock runs a minute ahead per tick, so consecutive runs in one test get
// distinct run ids (ids have one-second resolution).
type testClock struct{ offset atomic.Int64 }

func (c *testClock) now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *testClock) tick()          { c.offset.Add(int64(time.Minute)) }

func newTestScheduler(t *testing.T, cfg *config.Config, asOf time.Time) (*scheduler, *testClock) {
	t.Helper()
	clk := &testClock{}
	s, err := newScheduler(cfg, zerolog.New(io.Discard), prometheus.NewRegistry(),
		schedulerClock{now: clk.now, asOf: func() time.Time { return asOf }})
	if err != nil {
		t.Fatal(err)
	}
	return s, clk
}

// newestRun returns the newest run's folder and manifest.
func newestRun(t *testing.T, dataDir string) (string, *pipeline.Manifest) {
	t.Helper()
	return nthRun(t, dataDir, -1)
}

// oldestRun returns the first run's folder and manifest.
func oldestRun(t *testing.T, dataDir string) (string, *pipeline.Manifest) {
	t.Helper()
	return nthRun(t, dataDir, 0)
}

// nthRun reads run i in time order; -1 is the newest.
func nthRun(t *testing.T, dataDir string, i int) (string, *pipeline.Manifest) {
	t.Helper()
	dirs, _ := filepath.Glob(filepath.Join(dataDir, "runs", "*"))
	if len(dirs) == 0 {
		t.Fatal("no run folder")
	}
	if i < 0 {
		i = len(dirs) - 1
	}
	dir := dirs[i]
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m pipeline.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return dir, &m
}

func TestServeRejectsBadSchedule(t *testing.T) {
	cfg, err := config.Parse(filepath.Join(t.TempDir(), "c.yaml"), []byte(
		"council: X\ndata_dir: ./var\nsources:\n  persons: {kind: csvdir, path: ./p}\n  csc_referrals: {kind: csvdir, path: ./c}\n  early_help_episodes: {kind: csvdir, path: ./e}\n  objections: {kind: csvdir, path: ./o}\nschedule:\n  weekly_list: \"0 6 * * MONDAY\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = newScheduler(cfg, zerolog.Nop(), prometheus.NewRegistry(), schedulerClock{})
	if err == nil || !strings.Contains(err.Error(), "c.yaml:9: schedule.weekly_list:") {
		t.Fatalf("err = %v; want one naming schedule.weekly_list at c.yaml:9", err)
	}
	if code := exitCode(err); code != exitUsage {
		t.Errorf("exit code %d; want %d", code, exitUsage)
	}
}

func TestPreviousFire(t *testing.T) {
	loc, _ := time.LoadLocation("Europe/London")
	tests := []struct {
		name, spec string
		now, want  time.Time
	}{
		{"weekly, mid-week", "0 6 * * MON", time.Date(2026, 11, 25, 12, 0, 0, 0, loc), time.Date(2026, 11, 23, 6, 0, 0, 0, loc)},
		{"weekly, at the fire time", "0 6 * * MON", time.Date(2026, 11, 23, 6, 0, 0, 0, loc), time.Date(2026, 11, 23, 6, 0, 0, 0, loc)},
		{"monthly", "0 3 1 * *", time.Date(2026, 3, 31, 0, 0, 0, 0, loc), time.Date(2026, 3, 1, 3, 0, 0, 0, loc)},
		{"daily, on the day the clocks go forward", "0 2 * * *", time.Date(2026, 3, 29, 12, 0, 0, 0, loc), time.Date(2026, 3, 29, 2, 0, 0, 0, loc)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sched, err := cronParser.Parse(tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := previousFire(sched, tc.now)
			if !ok || !got.Equal(tc.want) {
				t.Errorf("previousFire(%s, %s) = %s, %v; want %s", tc.spec, tc.now, got, ok, tc.want)
			}
		})
	}
}

// TestServeCatchUpAndEndpoints starts serve on a council with no runs: the
// catch-up rule runs the weekly list at once, and /metrics, /healthz and
// /readyz report it. A second start finds the list fresh and catches nothing up.
func TestServeCatchUpAndEndpoints(t *testing.T) {
	cfg, asOf := tinyCouncil(t, "  weekly_list: \"0 6 * * MON\"\n  retries: 0\n")
	s, _ := newTestScheduler(t, cfg, asOf)
	if j, ok := s.catchUp(); !ok || j.name != "weekly_list" {
		t.Fatalf("catchUp on an empty data_dir = %q, %v; want weekly_list", j.name, ok)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, s, ln, http.NotFoundHandler()) }()

	waitFor(t, 120*time.Second, func() bool {
		return testutil.ToFloat64(s.metrics.Runs.WithLabelValues("succeeded")) == 1
	})
	for _, tc := range []struct {
		path string
		code int
		body string
	}{
		{"/healthz", 200, "ok"},
		{"/readyz", 200, "ready"},
		{"/metrics", 200, `earlyhelp_last_success_timestamp_seconds{job="run"}`},
		{"/metrics", 200, `earlyhelp_job_skipped_total{job="weekly_list"} 0`},
		{"/list", 404, ""},
	} {
		code, body := get(t, base+tc.path)
		if code != tc.code || !strings.Contains(body, tc.body) {
			t.Errorf("GET %s = %d %q; want %d containing %q", tc.path, code, firstLine(body), tc.code, tc.body)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve returned %v", err)
	}
	s2, _ := newTestScheduler(t, cfg, asOf)
	if j, ok := s2.catchUp(); ok {
		t.Errorf("catchUp after a fresh list = %q; want none", j.name)
	}
	// A restarted serve reports the last success from disk at once.
	_, man := newestRun(t, cfg.DataDir)
	s2.start(context.Background())
	<-s2.stop().Done()
	if got, want := testutil.ToFloat64(s2.metrics.LastSuccess.WithLabelValues("run")), float64(man.FinishedAt.Unix()); got != want {
		t.Errorf("restarted last success{job=run} = %g; want %g", got, want)
	}
	if got := testutil.ToFloat64(s2.metrics.ListHouseholds); man.List == nil || got != float64(man.List.Households) || got == 0 {
		t.Errorf("restarted earlyhelp_list_households = %g; want the newest list's %+v", got, man.List)
	}
}

// TestServeCancelMidRun is SIGTERM during a run: main's signal context is
// cancelled, serve cancels the job, the run's manifest says failed and no
// list is written; /readyz would then fail until a run succeeds.
func TestServeCancelMidRun(t *testing.T) {
	cfg, asOf := tinyCouncil(t, "  weekly_list: \"0 6 * * MON\"\n  retries: 0\n")
	s, _ := newTestScheduler(t, cfg, asOf)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, s, ln, nil) }()
	waitFor(t, 60*time.Second, func() bool {
		m, _ := filepath.Glob(filepath.Join(cfg.DataDir, "runs", "*", "manifest.json"))
		return len(m) > 0
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve returned %v", err)
	}
	dir, man := newestRun(t, cfg.DataDir)
	if man.Status != "failed" || !strings.Contains(man.Error, "context canceled") {
		t.Errorf("manifest status %q error %q; want failed, context canceled", man.Status, man.Error)
	}
	if _, err := os.Stat(filepath.Join(dir, "list", "navigator_list.csv")); err == nil {
		t.Error("a cancelled run left a navigator list")
	}
	if got := testutil.ToFloat64(s.metrics.Runs.WithLabelValues("failed")); got != 1 {
		t.Errorf("earlyhelp_run_total{status=failed} = %g; want 1", got)
	}
	if err := s.ready(); err == nil {
		t.Error("ready() after a cancelled run = nil; want not ready")
	}
}

func waitFor(t *testing.T, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s", limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}
