package pipeline

import (
	"context"
	"earlyhelp/pipeline/atomicfile"
	"earlyhelp/pipeline/rundir"
	"errors"
	"fmt"
	"os"
	"runtime/pprof"
	"time"

	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// A Stage is one step of a run: ingest, backtest, train, score, audit,
// governance. The run loop times, logs and records each one the same way,
// as node_exporter does its collectors; a stage reads and sets the run's
// State and writes into its folder.
type Stage interface {
	Name() string
	Run(ctx context.Context, st *State) error
}

// StageFunc makes a Stage of a function, for a step too small to need a
// package of its own (the audit, which cmd hands a closure).
func StageFunc(name string, fn func(ctx context.Context, st *State) error) Stage {
	return funcStage{name, fn}
}

type funcStage struct {
	name string
	fn   func(ctx context.Context, st *State) error
}

func (f funcStage) Name() string                             { return f.name }
func (f funcStage) Run(ctx context.Context, st *State) error { return f.fn(ctx, st) }

// Options wire one run: its identity, the stages it goes through, and
// what the loop needs to time, log and record them. Each stage carries its
// own configuration; cmd/earlyhelp builds them from the council's config.
type Options struct {
	RunID        string    // YYYYMMDDTHHMMSSZ
	RunDir       string    // data_dir/runs/<RunID>, created by Run
	AsOf         time.Time // features use data before this date only
	Council      string
	CodeVersion  string
	ConfigSHA256 string
	// MissingSourcesAccepted are the safety sources the council runs
	// without, with its written reasons: the manifest and the model card
	// carry them.
	MissingSourcesAccepted map[string]string
	// DueAt, for a scheduled run, is when its job fell due: the manifest
	// records it and how long the run waited for another job or lock.
	DueAt time.Time
	// Job names the run for the last-success metric ("run" when empty;
	// "ingest" and "backtest" for the jobs that stop early).
	Job string

	// Features build the snapshots the stages share (nil for a run that
	// only ingests), and HorizonWeeks is how far after an as-of date its
	// outcome is read.
	Features     FeatureSet
	HorizonWeeks int
	// OracleAUC, for a synthetic council only, is the AUC of its true risk:
	// the model card shows it as the ceiling.
	OracleAUC *float64

	Stages []Stage

	Mem      memory.Allocator
	Log      zerolog.Logger
	Metrics  *Metrics            // may be nil
	Gatherer prometheus.Gatherer // written to metrics.prom at the end; may be nil
	Now      func() time.Time

	// OnStage, if set, is called as each stage starts and ends, with the
	// run's state as it stands (for the benchmark's per-stage memory
	// figures, and the collector's setting from scoring on).
	OnStage func(stage string, done bool, st *State)
}

func (o *Options) check() error {
	switch {
	case o.RunID == "" || o.RunDir == "":
		return errors.New("run id and folder are required")
	case o.AsOf.IsZero():
		return errors.New("as-of date is required")
	case len(o.Stages) == 0:
		return errors.New("a run needs at least one stage")
	}
	for _, st := range o.Stages {
		if st == nil || st.Name() == "" {
			return errors.New("every stage needs a name")
		}
	}
	return nil
}

// run is the loop's own state beside the stages' State.
type run struct {
	opts Options
	st   *State
}

// Run executes one batch run: ingest, features, train, evaluate, score and
// list, in that order, stopping at the first failure. It always leaves a
// manifest in the run folder, with status "failed" and the reason when a
// stage fails, and never a partial list. The returned error is a
// *StageError.
func Run(ctx context.Context, opts Options) (*Manifest, error) {
	if err := opts.check(); err != nil {
		return nil, fmt.Errorf("run options: %w", err)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Mem == nil {
		opts.Mem = memory.DefaultAllocator
	}
	if opts.Job == "" {
		opts.Job = "run"
	}
	if err := os.MkdirAll(opts.RunDir, 0o750); err != nil {
		return nil, fmt.Errorf("run folder: %w", err)
	}
	st := &State{
		ID: opts.RunID, Dir: opts.RunDir, AsOf: opts.AsOf, Council: opts.Council,
		Features: opts.Features, HorizonWeeks: opts.HorizonWeeks, OracleAUC: opts.OracleAUC,
		Log: opts.Log.With().Str("run_id", opts.RunID).Logger(),
		Mem: opts.Mem, Metrics: opts.Metrics, Now: opts.Now,
		Man: &Manifest{
			RunID: opts.RunID, Council: opts.Council, AsOf: opts.AsOf.Format(time.DateOnly),
			StartedAt: opts.Now().UTC(), Status: "running", CodeVersion: opts.CodeVersion,
			ConfigSHA256: opts.ConfigSHA256, Sources: map[string]*SourceManifest{},
			LinkMatch: map[string]float64{}, Stages: []StageTiming{}, Outputs: []string{},
		},
	}
	r := &run{opts: opts, st: st}
	st.Man.MissingSourcesAccepted = opts.MissingSourcesAccepted
	if !opts.DueAt.IsZero() {
		due := opts.DueAt.UTC()
		st.Man.DueAt, st.Man.WaitedSeconds = &due, st.Man.StartedAt.Sub(due).Seconds()
	}
	if err := r.writeManifest(); err != nil {
		return nil, err
	}
	st.Log.Info().Str("as_of", st.Man.AsOf).Msg("run started")
	var runErr error
	for _, s := range opts.Stages {
		if err := ctx.Err(); err != nil {
			runErr = &StageError{Stage: s.Name(), Err: err}
			break
		}
		if err := r.stage(ctx, s); err != nil {
			runErr = err
			break
		}
	}
	st.ReleaseSnapshots()
	return r.finish(runErr)
}

// stage times one stage, records it and logs its end.
func (r *run) stage(ctx context.Context, s Stage) error {
	name := s.Name()
	if r.opts.OnStage != nil {
		r.opts.OnStage(name, false, r.st)
	}
	start := r.opts.Now()
	var err error
	// Labelled for CPU profiles (--cpuprofile; go tool pprof -tags), with
	// every goroutine the stage starts: a stage's work is spread over
	// goroutines no stack names it in.
	pprof.Do(ctx, pprof.Labels("stage", name), func(ctx context.Context) { err = s.Run(ctx, r.st) })
	secs := r.opts.Now().Sub(start).Seconds()
	if r.opts.OnStage != nil {
		r.opts.OnStage(name, true, r.st)
	}
	status := "succeeded"
	if err != nil {
		status = "failed"
	}
	r.st.Man.Stages = append(r.st.Man.Stages, StageTiming{Stage: name, Seconds: secs, Status: status})
	if r.opts.Metrics != nil {
		r.opts.Metrics.StageDuration.WithLabelValues(name).Observe(secs)
	}
	if err != nil {
		r.st.Log.Error().Str("stage", name).Float64("seconds", secs).Err(err).Msg("stage failed")
		return &StageError{Stage: name, Err: err}
	}
	r.st.Log.Info().Str("stage", name).Float64("seconds", secs).Msg("stage done")
	if err := r.writeManifest(); err != nil {
		return &StageError{Stage: name, Err: err}
	}
	return nil
}

func (r *run) finish(runErr error) (*Manifest, error) {
	now := r.opts.Now().UTC()
	r.st.Man.FinishedAt = &now
	r.st.Man.Status = "succeeded"
	if runErr != nil {
		r.st.Man.Status = "failed"
		r.st.Man.Error = runErr.Error()
		var se *StageError
		if errors.As(runErr, &se) {
			r.st.Man.FailedStage = se.Stage
		}
	}
	if m := r.opts.Metrics; m != nil {
		m.Runs.WithLabelValues(r.st.Man.Status).Inc()
		if runErr == nil {
			m.LastSuccess.WithLabelValues(r.opts.Job).Set(float64(now.Unix()))
		}
	}
	if r.opts.Gatherer != nil {
		path := rundir.Open(r.st.Dir).MetricsProm()
		// WriteToTextfile writes to a temporary file and renames it.
		if err := prometheus.WriteToTextfile(path, r.opts.Gatherer); err != nil && runErr == nil {
			runErr = &StageError{Stage: "finish", Err: err}
		}
		r.st.Output(rundir.MetricsFile)
	}
	if err := r.writeManifest(); err != nil && runErr == nil {
		runErr = &StageError{Stage: "finish", Err: err}
	}
	ev := r.st.Log.Info()
	if runErr != nil {
		ev = r.st.Log.Error().Err(runErr)
	}
	ev.Str("status", r.st.Man.Status).Msg("run finished")
	return r.st.Man, runErr
}

func (r *run) writeManifest() error {
	b, err := r.st.Man.Marshal()
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(rundir.Open(r.st.Dir).ManifestPath(), b, 0o640)
}
