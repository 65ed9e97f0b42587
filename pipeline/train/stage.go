// Package train is the run's model-making: the temporal backtest that
// chooses among the candidate models (cross-fitted on households, out of
// time), the training of the chosen model on every snapshot whose outcome
// is known, its calibration, the drift reference, and the reuse of a saved
// model between monthly retrains.
package train

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/apache/arrow/go/v15/arrow"

	"earlyhelp/pipeline"
)

// Config is the training stages' part of the council's configuration.
type Config struct {
	// Candidates are the models the backtest chooses from (CONTRACTS §3
	// model.candidates), in the configured order.
	Candidates []pipeline.Candidate
	// Comparisons are models the backtest reports beside the candidates
	// but never chooses: the chosen kind without area deprivation, so a
	// council sees what the family's own signals add.
	Comparisons []pipeline.Candidate
	// DeprivedFeature, when set, is the feature column holding 11 − the
	// IMD decile: the backtest reports AUC within deciles 1 and 2 (where
	// it is 9 or more), where most of a list lies.
	DeprivedFeature string
	// Rules is the rules baseline (a count of Supporting-Families-style
	// flags); nil leaves it out of the backtest.
	Rules pipeline.Model
	// Calibrate turns a model's scores into probabilities, fitted on
	// held-out households, row i weighing weights[i] (nil: all 1; see
	// MaxTrainingRows); nil leaves scores as they are.
	Calibrate func(ctx context.Context, m pipeline.Model, feats arrow.Record, labels []bool, weights []float64) (pipeline.Model, error)
	// SaveModel writes the model artifact (model/model.json); nil uses the
	// model's own MarshalJSON if it has one.
	SaveModel func(m pipeline.Model, w pipeline.ModelWindow) ([]byte, error)
	// MaxTrainingRows bounds the rows a model trains on (0: no bound).
	// Beyond it, every row with the outcome is kept and a share of those
	// without, so the backtest's time and memory stop growing with the
	// council once it is large enough to learn from. Calibration rows are
	// bounded at half as many the same way, each kept row without the
	// outcome weighing the inverse of its share.
	MaxTrainingRows int
	// Training uses up to Snapshots as-of dates, StepWeeks apart; none with
	// less than MinHistoryWeeks of stored history.
	Snapshots       int
	StepWeeks       int
	MinHistoryWeeks int
	// The backtest tests every BacktestStepWeeks (default 4) over the
	// BacktestWeeks (default 52) before the latest date with a full
	// horizon, optionally narrowed to [BacktestFrom, BacktestTo].
	BacktestWeeks     int
	BacktestStepWeeks int
	BacktestFrom      time.Time
	BacktestTo        time.Time
	Evaluate          func(scores []float64, labels []bool, k int) pipeline.EvalMetrics
	// Capacity is the list's size, the K of precision@K; ListRules are the
	// list's bands, for the top of the list's calibration by band.
	Capacity  int
	ListRules pipeline.ListRules
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

func (c *Config) check() error {
	switch {
	case len(c.Candidates) == 0 || c.Evaluate == nil:
		return errors.New("candidate models and an evaluator are required")
	case c.Snapshots <= 0 || c.StepWeeks <= 0 || c.Capacity <= 0:
		return errors.New("snapshots, step and capacity must be positive")
	case c.BacktestWeeks < 0 || c.BacktestStepWeeks < 0 || c.MinHistoryWeeks < 0:
		return errors.New("backtest weeks, step and minimum history must not be negative")
	}
	names := map[string]bool{}
	for _, m := range c.Candidates {
		if m.Name == "" || m.Trainer == nil {
			return errors.New("every candidate model needs a name and a trainer")
		}
		if names[m.Name] || m.Name == pipeline.BaselineRandom || m.Name == pipeline.BaselineRules {
			return fmt.Errorf("candidate model %q is named twice or like a baseline", m.Name)
		}
		names[m.Name] = true
	}
	return nil
}

// New returns the two training stages, "backtest" and "train", in that
// order: the backtest chooses the model (or puts a saved one in place),
// the train stage fits and saves it.
func New(cfg Config) ([]pipeline.Stage, error) {
	if cfg.BacktestWeeks == 0 {
		cfg.BacktestWeeks = 52
	}
	if cfg.BacktestStepWeeks == 0 {
		cfg.BacktestStepWeeks = 4
	}
	if err := cfg.check(); err != nil {
		return nil, fmt.Errorf("training: %w", err)
	}
	return []pipeline.Stage{
		pipeline.StageFunc("backtest", func(ctx context.Context, st *pipeline.State) error {
			return (&run{State: st, opts: cfg}).backtestOrReuse(ctx)
		}),
		pipeline.StageFunc("train", func(ctx context.Context, st *pipeline.State) error {
			return (&run{State: st, opts: cfg}).trainOrReuse(ctx)
		}),
	}, nil
}

// run is one training stage: the run's state and the stages' configuration.
type run struct {
	*pipeline.State
	opts Config
	rows *sampler // the stage's training rows by date
}
