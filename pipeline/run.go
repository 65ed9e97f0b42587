package pipeline

import (
	"context"
	"earlyhelp/pipeline/atomicfile"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// Options wire one run. cmd/earlyhelp builds them from the configuration;
// every plug-in is an interface so this package sees no concrete connector,
// builder or model.
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

	Sources            []SourceSpec
	Store              Store
	MaxQuarantineRatio float64
	// MaxNulledRatio bounds, per column, the share of a source's loaded
	// rows whose cell was unreadable and nulled (0: DefaultMaxNulledRatio).
	MaxNulledRatio float64

	Features FeatureSet
	// Candidates are the models the backtest chooses from (CONTRACTS §3
	// model.candidates), in the configured order.
	Candidates []Candidate
	// Comparisons are models the backtest reports beside the candidates
	// but never chooses: the chosen kind without area deprivation, so a
	// council sees what the family's own signals add.
	Comparisons []Candidate
	// DeprivedFeature, when set, is the feature column holding 11 − the
	// IMD decile: the backtest reports AUC within deciles 1 and 2 (where
	// it is 9 or more), where most of a list lies.
	DeprivedFeature string
	// Rules is the rules baseline (a count of Supporting-Families-style
	// flags); nil leaves it out of the backtest.
	Rules Model
	// Calibrate turns a model's scores into probabilities, fitted on a later
	// held-out date than the model's training; nil leaves scores as they are.
	Calibrate func(ctx context.Context, m Model, feats arrow.Record, labels []bool) (Model, error)
	// SaveModel writes the model artifact (model/model.json); nil uses the
	// model's own MarshalJSON if it has one.
	SaveModel    func(m Model, w ModelWindow) ([]byte, error)
	HorizonWeeks int
	// Training uses up to Snapshots as-of dates, StepWeeks apart, before the
	// calibration date, which is a full horizon before the date the model
	// is for; none with less than MinHistoryWeeks of stored history.
	Snapshots       int
	StepWeeks       int
	MinHistoryWeeks int
	// The backtest tests every BacktestStepWeeks over the BacktestWeeks
	// before the latest date with a full horizon, optionally narrowed to
	// [BacktestFrom, BacktestTo].
	BacktestWeeks     int
	BacktestStepWeeks int
	BacktestFrom      time.Time
	BacktestTo        time.Time
	Evaluate          func(scores []float64, labels []bool, k int) EvalMetrics
	// Ethnicity5 maps a recorded ethnicity code to its five-group
	// category for evaluation/scored_children.csv; nil leaves it blank.
	Ethnicity5 func(code string) string
	// OracleAUC, for a synthetic council only, is the AUC of its true risk:
	// the model card shows it as the ceiling.
	OracleAUC *float64
	// Audit, when set, runs the fairness audit over the finished run folder.
	Audit func(ctx context.Context, runDir string) (headline string, err error)
	// Governance, when set, checks the council's targets and switch-off
	// criteria after the audit (issue 21), writing GovernanceFile; its
	// answer goes on the model card and into the governance metrics.
	Governance func(ctx context.Context, in GovernanceInput) (*ShouldRun, error)

	Capacity int
	// ListRules beyond capacity: cool-off, quotas, stability and bands.
	ListRules ListRules
	// Reasons choose each listed household's reasons and contact-safety
	// instructions.
	Reasons ReasonRules
	// Decisions returns the navigators' latest decision per household
	// pseudonym; nil means none are recorded.
	Decisions func(ctx context.Context) (map[string]Decision, error)
	Exporter  Exporter

	// RecordAllocation, when the list has a margin lottery, keeps the
	// week's draw in the decisions database beside the navigators'
	// decisions; nil keeps it in the run folder only.
	RecordAllocation func(ctx context.Context, runID string, asOf time.Time, l Lottery, alloc []Allocation) error
	// Allocations returns every household's first draw in earlier weeks'
	// lotteries, and CompareArms estimates the difference between the
	// arms: with both, the run reports outcomes by arm once the horizon
	// has passed (audit/evaluation_arms.csv).
	Allocations func(ctx context.Context) ([]PastAllocation, error)
	CompareArms ArmsEstimator

	Mem      memory.Allocator
	Log      zerolog.Logger
	Metrics  *Metrics            // may be nil
	Gatherer prometheus.Gatherer // written to metrics.prom at the end; may be nil
	Now      func() time.Time

	// OnStage, if set, is called as each stage starts and ends (for the
	// benchmark's per-stage memory figures).
	OnStage func(stage string, done bool)

	// IngestOnly runs the connectors into the store and stops: the nightly
	// ingest job. Only the run's identity, sources and store are needed.
	IngestOnly bool
	// BacktestOnly runs ingest and the backtest and stops: earlyhelp backtest.
	BacktestOnly bool
	// Models keeps the model between runs: a run reuses the saved one
	// unless Retrain is set or it is older than RetrainDays (default
	// DefaultRetrainDays). Nil trains every run.
	Models      ModelStore
	Retrain     bool
	RetrainDays int
	// Workers bounds how many of the backtest's models train at once; 0
	// means GOMAXPROCS. Results do not depend on it: each candidate's fits
	// run in the same order whatever it is.
	Workers int
}

// job names the run for the last-success metric.
func (o *Options) job() string {
	switch {
	case o.IngestOnly:
		return "ingest"
	case o.BacktestOnly:
		return "backtest"
	}
	return "run"
}

func (o *Options) check() error {
	switch {
	case o.RunID == "" || o.RunDir == "":
		return errors.New("run id and folder are required")
	case o.AsOf.IsZero():
		return errors.New("as-of date is required")
	case o.Store == nil:
		return errors.New("a store is required")
	case o.IngestOnly:
		return nil
	case o.Features == nil || len(o.Candidates) == 0 || o.Exporter == nil || o.Evaluate == nil:
		return errors.New("store, features, candidate models, evaluator and exporter are required")
	case o.HorizonWeeks <= 0 || o.Snapshots <= 0 || o.StepWeeks <= 0 || o.Capacity <= 0:
		return errors.New("horizon, snapshots, step and capacity must be positive")
	case o.BacktestWeeks < 0 || o.BacktestStepWeeks < 0 || o.MinHistoryWeeks < 0:
		return errors.New("backtest weeks, step and minimum history must not be negative")
	}
	names := map[string]bool{}
	for _, c := range o.Candidates {
		if c.Name == "" || c.Trainer == nil {
			return errors.New("every candidate model needs a name and a trainer")
		}
		if names[c.Name] || c.Name == BaselineRandom || c.Name == BaselineRules {
			return fmt.Errorf("candidate model %q is named twice or like a baseline", c.Name)
		}
		names[c.Name] = true
	}
	return nil
}

// run is the state of one run as it goes through its stages.
type run struct {
	opts   Options
	log    zerolog.Logger
	mem    memory.Allocator
	runDir string
	man    *Manifest

	model     Model
	baseRate  float64
	snapshots map[string]*snapshot // feature tables by as-of date, built once per run
	snapMu    sync.Mutex           // guards snapshots while the backtest fits models concurrently

	start          time.Time // first day of stored history; zero if unknown
	trainFor       time.Time // the run date, or the day after the data ends if earlier
	backtestResult *Backtest
	folds          []*foldScores
	fairness       string      // the audit's headline, once audited
	shouldRun      *ShouldRun  // the governance check's answer, once checked
	trainDates     []time.Time // the scoring model's training dates
	reused         *SavedModel // the saved model this run scores with, if reused
	psiRef         map[string]PSIBins
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
	if opts.BacktestWeeks == 0 {
		opts.BacktestWeeks = 52
	}
	if opts.BacktestStepWeeks == 0 {
		opts.BacktestStepWeeks = 4
	}
	if err := os.MkdirAll(opts.RunDir, 0o750); err != nil {
		return nil, fmt.Errorf("run folder: %w", err)
	}
	r := &run{
		opts: opts, mem: opts.Mem, runDir: opts.RunDir,
		log:       opts.Log.With().Str("run_id", opts.RunID).Logger(),
		snapshots: map[string]*snapshot{},
		man: &Manifest{
			RunID: opts.RunID, Council: opts.Council, AsOf: opts.AsOf.Format(time.DateOnly),
			StartedAt: opts.Now().UTC(), Status: "running", CodeVersion: opts.CodeVersion,
			ConfigSHA256: opts.ConfigSHA256, Sources: map[string]*SourceManifest{},
			LinkMatch: map[string]float64{}, Stages: []StageTiming{}, Outputs: []string{},
		},
	}
	r.man.MissingSourcesAccepted = opts.MissingSourcesAccepted
	if !opts.DueAt.IsZero() {
		due := opts.DueAt.UTC()
		r.man.DueAt, r.man.WaitedSeconds = &due, r.man.StartedAt.Sub(due).Seconds()
	}
	if err := r.writeManifest(); err != nil {
		return nil, err
	}
	r.log.Info().Str("as_of", r.man.AsOf).Msg("run started")
	stages := []struct {
		name string
		fn   func(context.Context) error
	}{
		{"ingest", r.ingest},
		{"backtest", r.backtestOrReuse},
		{"train", r.trainOrReuse},
		{"score", r.score},
		{"audit", r.audit},
		{"governance", r.governance},
	}
	switch {
	case opts.IngestOnly:
		stages = stages[:1]
	case opts.BacktestOnly:
		stages = stages[:2]
	}
	var runErr error
	for _, st := range stages {
		if err := ctx.Err(); err != nil {
			runErr = &StageError{Stage: st.name, Err: err}
			break
		}
		if err := r.stage(ctx, st.name, st.fn); err != nil {
			runErr = err
			break
		}
	}
	r.releaseSnapshots()
	return r.finish(runErr)
}

// stage times one stage, records it and logs its end.
func (r *run) stage(ctx context.Context, name string, fn func(context.Context) error) error {
	if r.opts.OnStage != nil {
		r.opts.OnStage(name, false)
	}
	start := r.opts.Now()
	err := fn(ctx)
	secs := r.opts.Now().Sub(start).Seconds()
	if r.opts.OnStage != nil {
		r.opts.OnStage(name, true)
	}
	status := "succeeded"
	if err != nil {
		status = "failed"
	}
	r.man.Stages = append(r.man.Stages, StageTiming{Stage: name, Seconds: secs, Status: status})
	if r.opts.Metrics != nil {
		r.opts.Metrics.StageDuration.WithLabelValues(name).Observe(secs)
	}
	if err != nil {
		r.log.Error().Str("stage", name).Float64("seconds", secs).Err(err).Msg("stage failed")
		return &StageError{Stage: name, Err: err}
	}
	r.log.Info().Str("stage", name).Float64("seconds", secs).Msg("stage done")
	if err := r.writeManifest(); err != nil {
		return &StageError{Stage: name, Err: err}
	}
	return nil
}

func (r *run) finish(runErr error) (*Manifest, error) {
	now := r.opts.Now().UTC()
	r.man.FinishedAt = &now
	r.man.Status = "succeeded"
	if runErr != nil {
		r.man.Status = "failed"
		r.man.Error = runErr.Error()
		var se *StageError
		if errors.As(runErr, &se) {
			r.man.FailedStage = se.Stage
		}
	}
	if m := r.opts.Metrics; m != nil {
		m.Runs.WithLabelValues(r.man.Status).Inc()
		if runErr == nil {
			m.LastSuccess.WithLabelValues(r.opts.job()).Set(float64(now.Unix()))
		}
	}
	if r.opts.Gatherer != nil {
		path := filepath.Join(r.runDir, "metrics.prom")
		// WriteToTextfile writes to a temporary file and renames it.
		if err := prometheus.WriteToTextfile(path, r.opts.Gatherer); err != nil && runErr == nil {
			runErr = &StageError{Stage: "finish", Err: err}
		}
		r.man.Outputs = append(r.man.Outputs, "metrics.prom")
	}
	if err := r.writeManifest(); err != nil && runErr == nil {
		runErr = &StageError{Stage: "finish", Err: err}
	}
	ev := r.log.Info()
	if runErr != nil {
		ev = r.log.Error().Err(runErr)
	}
	ev.Str("status", r.man.Status).Msg("run finished")
	return r.man, runErr
}

func (r *run) writeManifest() error {
	b, err := r.man.Marshal()
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(r.runDir, "manifest.json"), b, 0o640)
}

func (r *run) output(rel string) {
	r.man.Outputs = append(r.man.Outputs, rel)
}
