package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/rs/zerolog"

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

// TestJobSkipped: a job that finds the data_dir lock held by another
// process tries again, on the scheduler's clock, until schedule.max_wait
// has passed; then it is skipped, logged and counted, makes no run folder
// and leaves serve not ready. An invocation of the job that is running is
// skipped too.
func TestJobSkipped(t *testing.T) {
	cfg, asOf := tinyCouncil(t, "  weekly_list: \"0 6 * * MON\"\n  ingest: \"0 2 * * *\"\n  retries: 3\n")
	s, clk := newTestScheduler(t, cfg, asOf)
	tries := fakeAfter(s, clk, nil)
	unlock := lockDataDir(t, cfg.DataDir)
	start := clk.now()
	weekly := s.jobs[1]
	if err := s.runJob(context.Background(), weekly); !errors.Is(err, errSkipped) {
		t.Errorf("runJob with data_dir locked = %v; want errSkipped", err)
	}
	if got := clk.now().Sub(start); got < cfg.Schedule.MaxWait || got > cfg.Schedule.MaxWait+2*lockPoll {
		t.Errorf("gave up on the lock after %s; want schedule.max_wait %s", got, cfg.Schedule.MaxWait)
	}
	if got, want := tries.Load(), int64(cfg.Schedule.MaxWait/lockPoll); got != want {
		t.Errorf("waited %d times for the lock; want %d, one per %s", got, want, lockPoll)
	}
	// Jobs skipped for another process's lock make no list: not ready.
	if err := s.ready(); err == nil || !strings.Contains(err.Error(), "lock") {
		t.Errorf("ready() while jobs are skipped for a lock = %v; want not ready", err)
	}
	unlock()

	holdSlot(s, "ingest") // an ingest of this process is running
	s.invoke(context.Background(), s.jobs[0])
	if len(s.pending) != 0 {
		t.Errorf("an invocation of the running job left %d pending runs; want 0", len(s.pending))
	}

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

// TestJobWaitsForLock: another process's lock released within max_wait
// costs a wait, not the run; the wait is logged with the run's id.
func TestJobWaitsForLock(t *testing.T) {
	cfg, asOf := tinyCouncil(t, "  ingest: \"0 2 * * *\"\n  retries: 0\n")
	s, clk := newTestScheduler(t, cfg, asOf)
	logs := captureLog(s)
	unlock := lockDataDir(t, cfg.DataDir)
	fakeAfter(s, clk, func(n int64) {
		if n == 3 {
			unlock() // the other process ends after three tries
		}
	})
	if err := s.runJob(context.Background(), s.jobs[0]); err != nil {
		t.Fatalf("runJob = %v; want it to run once the lock is free", err)
	}
	_, man := newestRun(t, cfg.DataDir)
	if man.Status != "succeeded" {
		t.Errorf("manifest status %q; want succeeded", man.Status)
	}
	if got := testutil.ToFloat64(s.skipped.WithLabelValues("ingest")); got != 0 {
		t.Errorf("earlyhelp_job_skipped_total{job=ingest} = %g; want 0", got)
	}
	started := logs.find(t, "job started", man.RunID)
	// The test clock runs on from the real one: allow a second.
	if got, want := started["waited_seconds"].(float64), (3 * lockPoll).Seconds(); got < want || got > want+1 {
		t.Errorf("logged waited_seconds = %v; want %v", got, want)
	}
}

// TestScheduleQueueListAfterIngest (acceptance): a weekly list falling due while
// an ingest runs is queued, not dropped, and starts when the ingest ends;
// its wait is counted and logged with its run id.
func TestScheduleQueueListAfterIngest(t *testing.T) {
	cfg, asOf := tinyCouncil(t, "  weekly_list: \"0 6 * * MON\"\n  ingest: \"0 2 * * *\"\n  retries: 0\n")
	s, clk := newTestScheduler(t, cfg, asOf)
	logs := captureLog(s)
	ctx := context.Background()
	ingest, weekly := s.jobs[0], s.jobs[1]
	ingestDue := clk.now()
	holdSlot(s, "ingest") // as invoke does when it starts the ingest
	clk.tick()
	listDue := clk.now()
	s.invoke(ctx, weekly)
	if runs, _ := filepath.Glob(filepath.Join(cfg.DataDir, "runs", "*")); len(runs) != 0 {
		t.Fatalf("a queued list started beside the ingest: %d run folders", len(runs))
	}
	clk.tick()
	s.runQueued(ctx, pendingRun{job: ingest, due: ingestDue})
	s.bg.Wait()

	_, first := oldestRun(t, cfg.DataDir)
	_, list := newestRun(t, cfg.DataDir)
	if first.RunID == list.RunID || first.List != nil || list.List == nil || list.Status != "succeeded" {
		t.Fatalf("runs %s (list %v) then %s (list %v, %s); want the ingest, then a list", first.RunID, first.List != nil, list.RunID, list.List != nil, list.Status)
	}
	if list.StartedAt.Before(*first.FinishedAt) {
		t.Errorf("list started %s, before the ingest finished %s", list.StartedAt, *first.FinishedAt)
	}
	if got := testutil.ToFloat64(s.queued.WithLabelValues("weekly_list")); got != 1 {
		t.Errorf("earlyhelp_job_queued_total{job=weekly_list} = %g; want 1", got)
	}
	if got := testutil.ToFloat64(s.skipped.WithLabelValues("weekly_list")); got != 0 {
		t.Errorf("earlyhelp_job_skipped_total{job=weekly_list} = %g; want 0", got)
	}
	for _, j := range []string{"ingest", "weekly_list"} {
		if n := waitCount(t, s, j); n != 1 {
			t.Errorf("earlyhelp_job_wait_seconds_count{job=%s} = %d; want 1", j, n)
		}
	}
	started := logs.find(t, "job started", list.RunID)
	waited, _ := started["waited_seconds"].(float64)
	if want := list.StartedAt.Sub(listDue).Seconds(); waited < time.Minute.Seconds() || waited > want+1 {
		t.Errorf("the list's run logged waited_seconds %v; want from its due time to its start, about %v", waited, want)
	}
	// The manifest records the wait too.
	if list.DueAt == nil || list.DueAt.Sub(listDue).Abs() > time.Second || list.WaitedSeconds < time.Minute.Seconds() {
		t.Errorf("the list's manifest: due %v, waited %v s; want due %s and the wait", list.DueAt, list.WaitedSeconds, listDue.UTC())
	}
	if running := s.running; running != "" {
		t.Errorf("after the queue drained, %q still holds the slot", running)
	}
}

// TestScheduleQueueCoalesces (acceptance): ten colliding invocations of one job
// leave one pending run, counted as one wait; none is a skip.
func TestScheduleQueueCoalesces(t *testing.T) {
	cfg, asOf := tinyCouncil(t, "  weekly_list: \"0 6 * * MON\"\n  ingest: \"0 2 * * *\"\n")
	s, _ := newTestScheduler(t, cfg, asOf)
	holdSlot(s, "ingest")
	for range 10 {
		s.invoke(context.Background(), s.jobs[1])
	}
	if len(s.pending) != 1 || s.pending["weekly_list"].job.name != "weekly_list" {
		t.Errorf("pending runs %v; want one weekly_list", pendingNames(s))
	}
	if got := testutil.ToFloat64(s.queued.WithLabelValues("weekly_list")); got != 1 {
		t.Errorf("earlyhelp_job_queued_total{job=weekly_list} = %g; want 1", got)
	}
	if got := testutil.ToFloat64(s.skipped.WithLabelValues("weekly_list")); got != 0 {
		t.Errorf("earlyhelp_job_skipped_total{job=weekly_list} = %g; want 0", got)
	}
}

// TestScheduleQueueOrder: which pending run a collision leaves, and which starts
// first when the running job ends.
func TestScheduleQueueOrder(t *testing.T) {
	cfg, asOf := tinyCouncil(t, "  ingest: \"0 2 * * *\"\n  weekly_list: \"0 6 * * MON\"\n  retrain: \"0 3 1 * *\"\n")
	tests := []struct {
		name     string
		running  string
		invoked  []string
		want     []string // pending runs after the invocations
		wantNext string   // the one that starts first
	}{
		{"a list goes before an ingest", "retrain", []string{"ingest", "weekly_list"}, []string{"ingest", "weekly_list"}, "weekly_list"},
		{"a retrain replaces a pending list", "ingest", []string{"weekly_list", "retrain"}, []string{"retrain"}, "retrain"},
		{"a list joins a pending retrain", "ingest", []string{"retrain", "weekly_list"}, []string{"retrain"}, "retrain"},
		{"a retrain goes before an ingest", "weekly_list", []string{"ingest", "retrain"}, []string{"ingest", "retrain"}, "retrain"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := newTestScheduler(t, cfg, asOf)
			holdSlot(s, tc.running)
			for _, name := range tc.invoked {
				s.invoke(context.Background(), jobNamed(t, s, name))
			}
			if got := pendingNames(s); strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("got pending %v; want %v", got, tc.want)
			}
			s.mu.Lock()
			next, _ := s.takeNext()
			s.mu.Unlock()
			if next.job.name != tc.wantNext {
				t.Errorf("got %s first; want %s", next.job.name, tc.wantNext)
			}
		})
	}
}

// TestScheduleQueueRetrainLists (acceptance): a retrain pending beside a weekly
// list runs once, trains anew and writes the list.
func TestScheduleQueueRetrainLists(t *testing.T) {
	cfg, asOf := tinyCouncil(t, "  ingest: \"0 2 * * *\"\n  weekly_list: \"0 6 * * MON\"\n  retrain: \"0 3 1 * *\"\n  retries: 0\n")
	s, clk := newTestScheduler(t, cfg, asOf)
	ctx := context.Background()
	holdSlot(s, "ingest")
	s.invoke(ctx, jobNamed(t, s, "weekly_list"))
	listDue := clk.now()
	clk.tick()
	s.invoke(ctx, jobNamed(t, s, "retrain"))
	clk.tick()
	s.startNext(ctx) // the ingest ends
	s.bg.Wait()
	runs, _ := filepath.Glob(filepath.Join(cfg.DataDir, "runs", "*"))
	if len(runs) != 1 {
		t.Fatalf("%d runs; want one retrain for both", len(runs))
	}
	_, man := newestRun(t, cfg.DataDir)
	if man.Status != "succeeded" || man.List == nil || man.Model == nil || man.Model.ReusedFrom != "" {
		t.Errorf("run %s status %s, list %v, model %+v; want a retrained model and a list", man.RunID, man.Status, man.List != nil, man.Model)
	}
	if man.StartedAt.Sub(listDue) < 2*time.Minute {
		t.Errorf("retrain started %s after the list fell due; want its wait counted from the list's", man.StartedAt.Sub(listDue))
	}
}

// waitCount is how many waits earlyhelp_job_wait_seconds{job} observed.
func waitCount(t *testing.T, s *scheduler, job string) uint64 {
	t.Helper()
	var m dto.Metric
	if err := s.wait.WithLabelValues(job).(prometheus.Metric).Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetHistogram().GetSampleCount()
}

// holdSlot marks name as this process's running job, as invoke does when
// it starts one.
func holdSlot(s *scheduler, name string) {
	s.mu.Lock()
	s.running = name
	s.mu.Unlock()
}

func jobNamed(t *testing.T, s *scheduler, name string) job {
	t.Helper()
	for _, j := range s.jobs {
		if j.name == name {
			return j
		}
	}
	t.Fatalf("no job %s", name)
	return job{}
}

func pendingNames(s *scheduler) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var names []string
	for name := range s.pending {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// lockDataDir takes data_dir's run lock as another process would.
func lockDataDir(t *testing.T, dataDir string) (unlock func()) {
	t.Helper()
	st, err := store.Open(dataDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	release, err := st.Lock()
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	t.Cleanup(func() { once.Do(release) })
	return func() { once.Do(release) }
}

// fakeAfter makes the scheduler's waits advance clk at once; each wait
// calls onWait with its count. It returns the count.
func fakeAfter(s *scheduler, clk *testClock, onWait func(n int64)) *atomic.Int64 {
	var n atomic.Int64
	s.clock.after = func(d time.Duration) <-chan time.Time {
		clk.offset.Add(int64(d))
		if onWait != nil {
			onWait(n.Add(1))
		} else {
			n.Add(1)
		}
		ch := make(chan time.Time, 1)
		ch <- clk.now()
		return ch
	}
	return &n
}

// logLines is a scheduler's JSON log, safe to write from its goroutines.
type logLines struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func captureLog(s *scheduler) *logLines {
	l := &logLines{}
	s.log = zerolog.New(l)
	return l
}

// find returns the line with message msg naming runID.
func (l *logLines) find(t *testing.T, msg, runID string) map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range strings.Split(l.buf.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["message"] == msg && m["run_id"] == runID {
			return m
		}
	}
	t.Fatalf("no %q log line for run %s in:\n%s", msg, runID, l.buf.String())
	return nil
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

// TestScheduleNextRun: earlyhelp_next_run_timestamp_seconds{job} is when
// the job is next due, before serve starts and from cron's entry after.
func TestScheduleNextRun(t *testing.T) {
	// Retrain alone, which is never caught up, so nothing runs.
	cfg, asOf := tinyCouncil(t, "  retrain: \"0 3 1 * *\"\n")
	s, _ := newTestScheduler(t, cfg, asOf)
	want := float64(s.jobs[0].sched.Next(time.Now().In(s.loc)).Unix())
	if got := nextRunGauge(t, s, "retrain"); got != want {
		t.Errorf("before start: next run %g; want %g", got, want)
	}
	s.start(context.Background())
	defer func() { <-s.stop().Done() }()
	s.mu.Lock()
	c, id := s.cron, s.entries["retrain"]
	s.mu.Unlock()
	waitFor(t, 5*time.Second, func() bool { return !c.Entry(id).Next.IsZero() })
	if got, want := nextRunGauge(t, s, "retrain"), float64(c.Entry(id).Next.Unix()); got != want {
		t.Errorf("after start: next run %g; want cron's %g", got, want)
	}
}

func nextRunGauge(t *testing.T, s *scheduler, job string) float64 {
	t.Helper()
	mfs, err := s.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "earlyhelp_next_run_timestamp_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "job" && l.GetValue() == job {
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	t.Fatalf("no earlyhelp_next_run_timestamp_seconds{job=%q}", job)
	return 0
}

// TestScheduleCatchUpQueues: the catch-up on start goes through the queue:
// with a job of this process running it waits, and starts when that ends.
func TestScheduleCatchUpQueues(t *testing.T) {
	cfg, asOf := tinyCouncil(t, "  weekly_list: \"0 6 * * MON\"\n  retries: 0\n")
	s, _ := newTestScheduler(t, cfg, asOf)
	ctx := context.Background()
	holdSlot(s, "ingest")
	if err := s.start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() { <-s.stop().Done() }()
	waitFor(t, 5*time.Second, func() bool { return len(pendingNames(s)) == 1 })
	if runs, _ := filepath.Glob(filepath.Join(cfg.DataDir, "runs", "*")); len(runs) != 0 {
		t.Fatalf("the catch-up started beside a running job: %d run folders", len(runs))
	}
	s.startNext(ctx) // the running job ends
	s.bg.Wait()
	if _, man := newestRun(t, cfg.DataDir); man.Status != "succeeded" || man.List == nil {
		t.Errorf("caught-up run %s: status %s, list %v; want a list", man.RunID, man.Status, man.List != nil)
	}
	if got := testutil.ToFloat64(s.queued.WithLabelValues("weekly_list")); got != 1 {
		t.Errorf("earlyhelp_job_queued_total{job=weekly_list} = %g; want 1", got)
	}
}
