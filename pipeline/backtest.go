package pipeline

import (
	"earlyhelp/pipeline/rundir"
	"time"
)

// A Candidate is a model the backtest may choose for the run.
type Candidate struct {
	Name    string
	Trainer Trainer
	// StartFrom, when set, gives the trainer of a fit that starts from
	// prev, this candidate's model on the backtest's fold before: one
	// near the optimum reaches it, to within the solver's tolerance, in
	// fewer steps. Nil: every fit starts afresh.
	StartFrom func(prev Model) Trainer
}

// Names of the two baselines every backtest reports (CONTRACTS §5).
const (
	BaselineRandom = "random"
	BaselineRules  = "rules"
)

// FoldScores keeps one backtest date's test households and every model's
// scores, for the scored-children file.
type FoldScores struct {
	AsOf   time.Time
	Table  *FeatureTable
	Rows   []int // rows of Table in the test group
	K      int
	Scores map[string][]float64
	Labels []bool // of the test rows, in Rows order
}

// ModelWindow is what a saved model records about its training.
type ModelWindow struct {
	Kind            string
	TrainingDates   []time.Time
	CalibrationAsOf time.Time // zero without calibration
	HorizonWeeks    int
}

// ChoiceRule is how the backtest chooses among the candidate models.
const ChoiceRule = "highest mean precision@K over the folds (ties broken by mean average precision), " +
	"unless its lead over the candidate with the highest mean average precision is no bigger than the lead's standard error across the folds; then that candidate"

// The backtest's types are the run folder's (backtest/backtest.json and
// the manifest's summary of it); these aliases keep pipeline's names.
type (
	FoldResult      = rundir.FoldResult
	Backtest        = rundir.Backtest
	EvalMetrics     = rundir.EvalMetrics
	Calibration     = rundir.Calibration
	CalibrationBin  = rundir.CalibrationBin
	BacktestSummary = rundir.BacktestSummary
	TopOfList       = rundir.TopOfList
	BandCalibration = rundir.BandCalibration
	ListState       = rundir.ListState
	ListedRecord    = rundir.ListedRecord
)

// TopTolerance is how far the listed households' mean corrected score
// may stand from their outcome rate (rundir.TopTolerance).
const TopTolerance = rundir.TopTolerance
