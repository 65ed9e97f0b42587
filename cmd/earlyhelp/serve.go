package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
	_ "time/tzdata" // Europe/London must resolve in a minimal container image too

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/robfig/cron/v3"
	"github.com/rs/zerolog"
)

// Server timeouts: /metrics and the health probes answer in milliseconds, the
// review site's pages in well under a second; these only stop slow or stuck
// clients from holding connections.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 60 * time.Second
	idleTimeout       = 120 * time.Second
	// shutdownGrace is how long serve waits, after SIGTERM, for the running
	// job to write its failed manifest and for open requests to finish.
	shutdownGrace = 30 * time.Second
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	listen := fs.String("listen", "", "address to listen on (default: the config's server.listen)")
	secure := fs.Bool("secure-cookies", false, "mark the review site's cookies Secure (set when behind TLS)")
	var cf commonFlags
	cf.withConfig(fs)
	cf.register(fs)
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	cfg, log, err := cf.load(stderr)
	if err != nil {
		return err
	}
	addr := cfg.Server.Listen
	if *listen != "" {
		addr = *listen
	}
	s, err := newScheduler(cfg, log, prometheus.NewRegistry(), schedulerClock{})
	if err != nil {
		return err
	}
	// The review site is served at "/" beside /metrics, /healthz and
	// /readyz; its decisions count on the scheduler's registry.
	pack, err := packOf(cfg)
	if err != nil {
		return err
	}
	site, closeSite, err := openSite(cfg.DataDir, *secure, pack, s.metrics, log)
	if err != nil {
		return err
	}
	defer closeSite()
	stopRetention, err := startRetention(ctx, cfg, site, log)
	if err != nil {
		return err
	}
	defer stopRetention()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", addr, err)
	}
	fmt.Fprintf(stdout, "serving on http://%s\n", ln.Addr())
	return serve(ctx, s, ln, site)
}

// serve runs the scheduler and the HTTP server on ln until ctx is done
// (SIGTERM), then stops both cleanly: no new job starts, the running job
// is cancelled and leaves a failed manifest, open requests finish.
func serve(ctx context.Context, s *scheduler, ln net.Listener, site http.Handler) error {
	srv := &http.Server{
		Handler:           newServeMux(s, site),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
	}
	httpErr := make(chan error, 1)
	go func() { httpErr <- srv.Serve(ln) }()

	jobCtx, cancelJobs := context.WithCancel(context.Background())
	defer cancelJobs()
	if err := s.start(jobCtx); err != nil {
		srv.Close()
		return err
	}
	s.log.Info().Str("listen", ln.Addr().String()).Msg("serving")

	var err error
	select {
	case <-ctx.Done():
	case err = <-httpErr:
		err = fmt.Errorf("http server: %w", err)
	}
	s.log.Info().Msg("shutting down: cancelling the running job")
	cancelJobs()
	stopped := s.stop()
	grace, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	select {
	case <-stopped.Done():
	case <-grace.Done():
		s.log.Error().Msg("running job did not stop within the grace period")
	}
	if shutErr := srv.Shutdown(grace); shutErr != nil && err == nil {
		err = fmt.Errorf("http shutdown: %w", shutErr)
	}
	return err
}

// newServeMux routes the operational endpoints (CONTRACTS §9) and, at "/",
// the review site when one is given.
func newServeMux(s *scheduler, site http.Handler) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{Registry: s.reg}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		// The reason goes to the log, not to whoever asks: it can hold
		// paths and internal errors.
		if err := s.ready(); err != nil {
			s.log.Warn().Err(err).Msg("not ready")
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ready\n")
	})
	if site != nil {
		mux.Handle("/", site)
	}
	return mux
}

// schedulerClock supplies time to the scheduler; tests replace it.
type schedulerClock struct {
	now  func() time.Time // default time.Now
	asOf func() time.Time // a job's as-of date; default today in Europe/London
	// after waits, as time.After (the default) does, between retries and
	// between tries for another process's lock.
	after func(time.Duration) <-chan time.Time
}

// cronLogger routes robfig/cron's log lines to zerolog and counts the
// invocations SkipIfStillRunning drops.
type cronLogger struct {
	log    zerolog.Logger
	onSkip func()
}

func (l cronLogger) Info(msg string, kv ...any) {
	if msg == "skip" && l.onSkip != nil {
		l.onSkip()
		l.log.Warn().Msg("job skipped: its previous run is still running")
		return
	}
	l.log.Debug().Fields(kv).Msg("cron: " + msg)
}

func (l cronLogger) Error(err error, msg string, kv ...any) {
	l.log.Error().Err(err).Fields(kv).Msg("cron: " + msg)
}

// newCron builds the cron runner: five-field specs and descriptors such as
// @daily and @every 3s (no seconds field), in Europe/London.
func newCron(loc *time.Location, log zerolog.Logger) *cron.Cron {
	return cron.New(cron.WithLocation(loc), cron.WithParser(cronParser),
		cron.WithChain(cron.Recover(cronLogger{log: log})))
}

var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// errSkipped means a job did not start because another run held the lock.
var errSkipped = errors.New("skipped: another run is in progress")
