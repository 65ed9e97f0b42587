package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/robfig/cron/v3"
	"github.com/rs/zerolog"

	"earlyhelp/pipeline"
	"earlyhelp/pipeline/config"
	"earlyhelp/pipeline/rundir"
	"earlyhelp/pipeline/store"
)

// A job is one scheduled kind of run (CONTRACTS §3 schedule): ingest only;
// the weekly list, which reuses the saved model while it is recent; or the
// retrain, a full run that backtests and trains anew.
type job struct {
	name       string // ingest, weekly_list or retrain: the job label of serve's own metrics
	spec       string
	ingestOnly bool
	retrain    bool
	sched      cron.Schedule
}

// scheduler runs a council's jobs on their cron schedules, one at a time,
// with one long-lived registry so counters accumulate across runs.
//
// Rules, in the order they apply to an invocation:
//   - an invocation whose previous one (same job) is still running is skipped
//     (cron.SkipIfStillRunning, and the queue for a job it started);
//   - one that finds another job of this process running is queued, never
//     dropped: at most one pending run per job (repeats coalesce), started as
//     soon as the running job ends, a weekly list before a retrain before an
//     ingest; a retrain replaces a pending weekly list, since it lists too
//     (earlyhelp_job_queued_total{job});
//   - one that finds another process holding data_dir's lock tries again
//     every lockPoll until schedule.max_wait after it fell due, then is
//     skipped. Every skip is logged and counted in
//     earlyhelp_job_skipped_total{job}.
//   - each run logs, with its run id, how long it waited from falling due to
//     starting (earlyhelp_job_wait_seconds{job});
//   - each attempt runs under schedule.job_timeout;
//   - a failed attempt is retried schedule.retries times, waiting
//     schedule.retry_backoff and doubling it each time, except when the
//     input was rejected past its tolerance (a retry reads the same files)
//     or serve is stopping; then the job is marked failed
//     (earlyhelp_job_failures_total{job}, /readyz fails until a run succeeds).
//   - catch-up: on start, if the newest successful full run finished before
//     the weekly_list schedule's latest due time, one weekly list is invoked
//     at once, through the same queue; otherwise, if the newest successful
//     run of any kind finished before the ingest schedule's latest due time,
//     one ingest is. Retrain is not caught up: a weekly run trains a new
//     model itself when the saved one is missing or too old.
type scheduler struct {
	cfg     *config.Config
	log     zerolog.Logger
	reg     *prometheus.Registry
	metrics *pipeline.Metrics
	clock   schedulerClock
	loc     *time.Location
	jobs    []job

	skipped  *prometheus.CounterVec
	retries  *prometheus.CounterVec
	failures *prometheus.CounterVec
	queued   *prometheus.CounterVec
	wait     *prometheus.HistogramVec

	bg sync.WaitGroup // the catch-up run and the queued runs

	mu      sync.Mutex
	cron    *cron.Cron
	entries map[string]cron.EntryID // by job name, for the next-run gauge
	// running is the job of this process that holds the slot (empty when
	// none); pending are the invocations waiting for it, one per job.
	running  string
	pending  map[string]pendingRun
	stopping bool

	lastFailed string // why the newest job failed; empty when it succeeded
	// blocked says why the newest job was skipped for another process's
	// lock; empty once a job runs. A scheduler whose jobs are all skipped
	// produces no list, and must not look ready.
	blocked string
}

// lockPoll is how often a job tries again for the data folder's lock while
// another process holds it.
const lockPoll = time.Minute

// newScheduler parses the schedules and registers every metric on reg. It
// does no I/O.
func newScheduler(cfg *config.Config, log zerolog.Logger, reg *prometheus.Registry, clock schedulerClock) (*scheduler, error) {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		return nil, fmt.Errorf("time zone: %w", err)
	}
	s := &scheduler{cfg: cfg, log: log, reg: reg, clock: clock, loc: loc, pending: map[string]pendingRun{}}
	for _, j := range []job{
		{name: "ingest", spec: cfg.Schedule.Ingest, ingestOnly: true},
		{name: "weekly_list", spec: cfg.Schedule.WeeklyList},
		{name: "retrain", spec: cfg.Schedule.Retrain, retrain: true},
	} {
		if j.spec == "" {
			continue
		}
		if j.sched, err = cronParser.Parse(j.spec); err != nil {
			return nil, cfg.Errorf("schedule."+j.name, "%q: %v", j.spec, err)
		}
		s.jobs = append(s.jobs, j)
	}
	if s.metrics, err = pipeline.NewMetrics(reg); err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	newCounter := func(name, help string) *prometheus.CounterVec {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "earlyhelp", Name: name, Help: help}, []string{"job"})
		if err == nil {
			err = reg.Register(c)
		}
		return c
	}
	s.skipped = newCounter("job_skipped_total", "Scheduled jobs skipped because another run was in progress.")
	s.retries = newCounter("job_retries_total", "Failed job attempts that were retried.")
	s.failures = newCounter("job_failures_total", "Jobs marked failed after their retries.")
	s.queued = newCounter("job_queued_total", "Scheduled jobs queued because another job of this process was running.")
	s.wait = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "earlyhelp", Name: "job_wait_seconds",
		Help:    "Time from a job falling due to its run starting: queued behind another job or waiting for another process's lock.",
		Buckets: []float64{1, 10, 60, 300, 900, 1800, 3600, 2 * 3600, 4 * 3600, 8 * 3600},
	}, []string{"job"})
	if err == nil {
		err = reg.Register(s.wait)
	}
	for _, j := range s.jobs {
		j := j
		next := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: "earlyhelp", Name: "next_run_timestamp_seconds",
			Help:        "Unix time a job is next due on its schedule.",
			ConstLabels: prometheus.Labels{"job": j.name},
		}, func() float64 { return float64(s.nextRun(j).Unix()) })
		if err == nil {
			err = reg.Register(next)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	for _, j := range s.jobs {
		// Zero series from the start, so rate() and absent() alerts see them.
		s.skipped.WithLabelValues(j.name)
		s.retries.WithLabelValues(j.name)
		s.failures.WithLabelValues(j.name)
		s.queued.WithLabelValues(j.name)
		s.wait.WithLabelValues(j.name)
	}
	return s, nil
}

func (s *scheduler) after(d time.Duration) <-chan time.Time {
	if s.clock.after != nil {
		return s.clock.after(d)
	}
	return time.After(d)
}

// nextRun is when j is next due: its cron entry's, once cron runs.
func (s *scheduler) nextRun(j job) time.Time {
	s.mu.Lock()
	c, id, ok := s.cron, s.entries[j.name], s.cron != nil
	s.mu.Unlock()
	if ok {
		if e := c.Entry(id); !e.Next.IsZero() {
			return e.Next
		}
	}
	return j.sched.Next(s.now().In(s.loc))
}

func (s *scheduler) now() time.Time {
	if s.clock.now != nil {
		return s.clock.now()
	}
	return time.Now()
}

// asOf is the date a job's features are computed as of: today in London.
func (s *scheduler) asOf() time.Time {
	if s.clock.asOf != nil {
		return s.clock.asOf()
	}
	y, m, d := s.now().In(s.loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// start schedules the jobs and begins the catch-up run. Jobs run under ctx:
// cancelling it cancels the running job.
func (s *scheduler) start(ctx context.Context) error {
	s.setFailed(newestFailure(s.cfg.DataDir))
	// The last-success gauges start from the runs on disk, so a restart does
	// not look like "never succeeded" to the staleness alerts. The job
	// labels are the pipeline's: run for a full run, ingest for ingest-only.
	last := lastSuccesses(s.cfg.DataDir)
	for job, t := range map[string]time.Time{"run": last.full, "ingest": last.ingestOnly} {
		if !t.IsZero() {
			s.metrics.LastSuccess.WithLabelValues(job).Set(float64(t.Unix()))
		}
	}
	// So do the list's gauges: after a restart the list still holds the
	// households of the newest succeeded run, not none.
	if l := newestList(s.cfg.DataDir); l != nil {
		s.metrics.ListHouseholds.Set(float64(l.Households))
		s.metrics.ListCapacity.Set(float64(l.Capacity))
		if l.PreviousAsOf != "" { // as the run: a first list has no churn
			s.metrics.ListChurn.Set(l.Churn)
		}
	}
	// And the stale-source gauges, from the store's record of files: else
	// a restart would hide a stale source until its next ingest.
	if st, err := store.Open(s.cfg.DataDir, s.now); err == nil {
		expected := map[string]time.Duration{}
		for name, sc := range s.cfg.Sources {
			expected[name] = sc.ExpectedInterval()
		}
		s.metrics.SetSourceFreshness(expected, st)
	} else {
		s.log.Warn().Err(err).Msg("store unreadable: the stale-source gauges wait for the next ingest")
	}
	c := newCron(s.loc, s.log)
	entries := map[string]cron.EntryID{}
	for _, j := range s.jobs {
		j := j
		skip := cronLogger{log: s.log.With().Str("job", j.name).Logger(), onSkip: func() { s.skipped.WithLabelValues(j.name).Inc() }}
		entries[j.name] = c.Schedule(j.sched, cron.NewChain(cron.SkipIfStillRunning(skip)).Then(cron.FuncJob(func() {
			s.invoke(ctx, j) // the run logs and counts its own outcome
		})))
		s.log.Info().Str("job", j.name).Str("spec", j.spec).Time("next", j.sched.Next(s.now().In(s.loc))).Msg("scheduled")
	}
	if len(s.jobs) == 0 {
		s.log.Warn().Msg("no schedule configured: no job will run; serving the review site, metrics and health")
	}
	s.mu.Lock()
	s.cron, s.entries = c, entries
	s.mu.Unlock()
	c.Start()
	if j, ok := s.catchUp(); ok {
		s.bg.Add(1)
		go func() {
			defer s.bg.Done()
			s.log.Info().Str("job", j.name).Msg("catching up a run missed while serve was down")
			s.invoke(ctx, j)
		}()
	}
	return nil
}

// stop stops scheduling and starts no pending run; the returned context is
// done when every running job has returned.
func (s *scheduler) stop() context.Context {
	ctx, done := context.WithCancel(context.Background())
	s.mu.Lock()
	s.stopping = true
	c := s.cron
	s.mu.Unlock()
	var cronDone context.Context = ctx
	if c != nil {
		cronDone = c.Stop()
	}
	go func() {
		<-cronDone.Done()
		s.bg.Wait()
		done()
	}()
	if c == nil {
		done()
	}
	return ctx
}

// runJob runs one invocation of j now, with its retries. It returns
// errSkipped when another process held the lock past schedule.max_wait, and
// the last attempt's error when the job is marked failed.
func (s *scheduler) runJob(ctx context.Context, j job) error {
	return s.runFrom(ctx, j, s.now())
}

// runFrom is runJob for an invocation that fell due at due.
func (s *scheduler) runFrom(ctx context.Context, j job, due time.Time) error {
	log := s.log.With().Str("job", j.name).Logger()
	retries := *s.cfg.Schedule.Retries
	backoff := s.cfg.Schedule.RetryBackoff
	for attempt := 0; ; attempt++ {
		err := s.attempt(ctx, j, log, due, attempt == 0)
		switch {
		case err == nil:
			s.setFailed("")
			s.setBlocked("")
			return nil
		case errors.Is(err, pipeline.ErrBusy):
			s.skipped.WithLabelValues(j.name).Inc()
			s.setBlocked(fmt.Sprintf("job %s skipped at %s: another process holds the data folder's lock", j.name, s.now().UTC().Format(time.RFC3339)))
			log.Warn().Err(err).Dur("max_wait", s.cfg.Schedule.MaxWait).Msg("job skipped")
			return errSkipped
		case attempt >= retries || ctx.Err() != nil || errors.Is(err, pipeline.ErrTolerance):
			s.failures.WithLabelValues(j.name).Inc()
			s.setFailed(fmt.Sprintf("job %s failed at %s", j.name, s.now().UTC().Format(time.RFC3339)))
			log.Error().Err(err).Int("attempts", attempt+1).Msg("job failed")
			return err
		}
		s.retries.WithLabelValues(j.name).Inc()
		log.Warn().Err(err).Int("attempt", attempt+1).Dur("backoff", backoff).Msg("job attempt failed; retrying")
		select {
		case <-ctx.Done():
		case <-s.after(backoff):
		}
		backoff *= 2
	}
}

// setup sets up a run of j, trying again every lockPoll while another
// process holds the data folder's lock, until schedule.max_wait after due.
// It returns pipeline.ErrBusy when the wait ran out or ctx was cancelled.
func (s *scheduler) setup(ctx context.Context, j job, log zerolog.Logger, due time.Time) (*runSetup, error) {
	deadline := due.Add(s.cfg.Schedule.MaxWait)
	for tries := 0; ; tries++ {
		setup, err := setupRun(s.cfg, s.asOf(), log, s.now, memory.DefaultAllocator)
		if !errors.Is(err, pipeline.ErrBusy) || !s.now().Before(deadline) {
			return setup, err
		}
		if tries == 0 {
			log.Info().Time("until", deadline).Msg("another process holds the data folder's lock; waiting for it")
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-s.after(lockPoll):
		}
	}
}

// attempt runs the pipeline once for j under the job timeout, on the
// scheduler's long-lived metrics.
// The first attempt logs and observes the invocation's wait: the manifest
// has no field for it, so the log line carries the run id.
func (s *scheduler) attempt(ctx context.Context, j job, log zerolog.Logger, due time.Time, first bool) error {
	setup, err := s.setup(ctx, j, log, due)
	if err != nil {
		if !errors.Is(err, pipeline.ErrBusy) {
			// No run folder was made, so the pipeline could not count it.
			s.metrics.Runs.WithLabelValues("failed").Inc()
		}
		return fmt.Errorf("%s: %w", j.name, err)
	}
	defer setup.unlock()
	if first {
		waited := s.now().Sub(due)
		s.wait.WithLabelValues(j.name).Observe(waited.Seconds())
		log.Info().Str("run_id", setup.opts.RunID).Time("due", due).Float64("waited_seconds", waited.Seconds()).Msg("job started")
	}
	// The timeout counts from the lock, not from the wait for it.
	timeout := s.cfg.Schedule.JobTimeout
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if j.ingestOnly {
		setup.only = "ingest"
	}
	setup.train.Retrain = j.retrain
	setup.opts.DueAt = due
	setup.opts.Metrics = s.metrics
	setup.opts.Gatherer = s.reg
	man, err := setup.run(ctx)
	returnMemory()
	if err != nil && man == nil {
		s.metrics.Runs.WithLabelValues("failed").Inc()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: job_timeout %s passed: %w", j.name, timeout, err)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", j.name, err)
	}
	return nil
}

func (s *scheduler) setFailed(why string) {
	s.mu.Lock()
	s.lastFailed = why
	s.mu.Unlock()
}

// ready reports why serve should not take traffic: the store cannot be
// read, or the newest job failed.
func (s *scheduler) ready() error {
	if _, err := store.Open(s.cfg.DataDir, s.now); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lastFailed != "" {
		return errors.New(s.lastFailed)
	}
	if s.blocked != "" {
		return errors.New(s.blocked)
	}
	return nil
}

func (s *scheduler) setBlocked(why string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.blocked = why
}

// catchUp picks the job to run at start under the documented rule, if any.
func (s *scheduler) catchUp() (job, bool) {
	now := s.now().In(s.loc)
	last := lastSuccesses(s.cfg.DataDir)
	for _, name := range []string{"weekly_list", "ingest"} {
		for _, j := range s.jobs {
			if j.name != name {
				continue
			}
			since := last.full
			if j.ingestOnly {
				since = last.anyRun // a full run ingests too
			}
			if due, ok := previousFire(j.sched, now); ok && since.Before(due) {
				return j, true
			}
		}
	}
	return job{}, false
}

// previousFire is the latest time at or before now that sched was due.
// robfig/cron only computes forward, so it walks forward from two periods
// back (a period measured from the next two fire times).
func previousFire(sched cron.Schedule, now time.Time) (time.Time, bool) {
	n1 := sched.Next(now)
	n2 := sched.Next(n1)
	if n1.IsZero() || n2.IsZero() {
		return time.Time{}, false
	}
	var prev time.Time
	for t := now.Add(-2 * n2.Sub(n1)); ; {
		n := sched.Next(t)
		if n.IsZero() || n.After(now) {
			break
		}
		prev, t = n, n
	}
	return prev, !prev.IsZero()
}

// runManifests reads every run's manifest under dataDir, oldest first
// (run ids sort by time). Unreadable manifests are skipped: a run that died
// before writing one has nothing to say.
func runManifests(dataDir string) []*pipeline.Manifest {
	runs, _ := rundir.All(dataDir)
	var out []*pipeline.Manifest
	for _, r := range runs {
		if m, err := r.Manifest(); err == nil {
			out = append(out, m)
		}
	}
	return out
}

// successes is when the newest successful run of each kind finished (zero
// when none).
type successes struct{ full, ingestOnly, anyRun time.Time }

func lastSuccesses(dataDir string) successes {
	var s successes
	later := func(t *time.Time, u time.Time) {
		if u.After(*t) {
			*t = u
		}
	}
	for _, m := range runManifests(dataDir) {
		if m.Status != "succeeded" || m.FinishedAt == nil {
			continue
		}
		later(&s.anyRun, *m.FinishedAt)
		full := false
		for _, st := range m.Stages {
			full = full || st.Stage == "score"
		}
		if full {
			later(&s.full, *m.FinishedAt)
		} else {
			later(&s.ingestOnly, *m.FinishedAt)
		}
	}
	return s
}

// newestList is the list of the newest succeeded run that wrote one.
func newestList(dataDir string) *pipeline.ListManifest {
	ms := runManifests(dataDir)
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].Status == "succeeded" && ms[i].List != nil {
			return ms[i].List
		}
	}
	return nil
}

// newestFailure says why the newest run on disk did not succeed, so /readyz
// survives a restart: a failed run, or one left "running" by a process that
// died.
func newestFailure(dataDir string) string {
	ms := runManifests(dataDir)
	if len(ms) == 0 {
		return ""
	}
	m := ms[len(ms)-1]
	switch m.Status {
	case "failed":
		return fmt.Sprintf("run %s failed", m.RunID)
	case "running":
		return fmt.Sprintf("run %s was interrupted", m.RunID)
	}
	return ""
}
