package pipeline

import (
	"encoding/json"
	"math"
	"time"
)

// A Candidate is a model the backtest may choose for the run.
type Candidate struct {
	Name    string
	Trainer Trainer
}

// Names of the two baselines every backtest reports (CONTRACTS §5).
const (
	BaselineRandom = "random"
	BaselineRules  = "rules"
)

// FoldResult is one backtest date: who trained, who was tested, and every
// model's figures on the test households.
type FoldResult struct {
	AsOf string `json:"as_of"`
	// Groups: households are split into this many groups by a hash of their
	// pseudonym, and each group is scored by models trained without it.
	Groups          int                    `json:"cross_fit_groups"`
	TrainingDates   []string               `json:"training_as_of_dates"`
	CalibrationAsOf string                 `json:"calibration_as_of,omitempty"`
	TrainingRows    int                    `json:"training_rows"`
	TrainingPos     int                    `json:"training_positives"`
	TestHouseholds  int                    `json:"test_households"`
	K               int                    `json:"k"`
	Models          map[string]EvalMetrics `json:"models"`
	// DeprivedAUC is each model's AUC among the households of IMD deciles 1
	// and 2 alone.
	DeprivedAUC map[string]float64 `json:"auc_imd_deciles_1_2,omitempty"`
}

// Backtest is runs/<id>/backtest/backtest.json: the temporal backtest of
// CONTRACTS §5 and the model it chose.
type Backtest struct {
	From          string   `json:"from"`
	To            string   `json:"to"`
	StepWeeks     int      `json:"step_weeks"`
	HorizonWeeks  int      `json:"horizon_weeks"`
	DataStart     string   `json:"data_start,omitempty"`
	LabelsKnownTo string   `json:"outcomes_known_before"`
	Candidates    []string `json:"candidates"`
	Baselines     []string `json:"baselines"`
	// Comparisons are reported beside the candidates, never chosen: the
	// candidates without area deprivation.
	Comparisons []string `json:"comparisons,omitempty"`
	// MeanDeprivedAUC is each model's AUC within IMD deciles 1–2, averaged
	// over the dates.
	MeanDeprivedAUC map[string]float64     `json:"mean_auc_imd_deciles_1_2,omitempty"`
	Folds           []FoldResult           `json:"folds"`
	Mean            map[string]EvalMetrics `json:"mean"` // over folds; N and Positives are sums
	Chosen          string                 `json:"chosen"`
	ChoiceRule      string                 `json:"choice_rule"`
	// Calibration pools every fold's test households per model.
	Calibration map[string]*Calibration `json:"calibration"`
	// TopOfList is the chosen model's calibration at the top of each
	// date's ranking, by band: what the list says.
	TopOfList     *TopOfList `json:"top_of_list,omitempty"`
	SkippedDates  []string   `json:"skipped_dates,omitempty"`
	SkippedReason string     `json:"skipped_reason,omitempty"`
}

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

// EvalMetrics are one model's figures on one evaluation split.
type EvalMetrics struct {
	N                int     `json:"n"`
	Positives        int     `json:"positives"`
	BaseRate         float64 `json:"base_rate"`
	AUC              float64 `json:"auc"`
	AveragePrecision float64 `json:"average_precision"`
	K                int     `json:"k"`
	PrecisionAtK     float64 `json:"precision_at_k"`
	RecallAtK        float64 `json:"recall_at_k"`
	Brier            float64 `json:"brier"`
}

// ModelWindow is what a saved model records about its training.
type ModelWindow struct {
	Kind            string
	TrainingDates   []time.Time
	CalibrationAsOf time.Time // zero without calibration
	HorizonWeeks    int
}

// MarshalJSON writes a metric that could not be computed (NaN, for example
// an AUC with one class only) as null: JSON has no NaN.
func (m EvalMetrics) MarshalJSON() ([]byte, error) {
	num := func(f float64) *float64 {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil
		}
		return &f
	}
	return json.Marshal(struct {
		N                int      `json:"n"`
		Positives        int      `json:"positives"`
		BaseRate         *float64 `json:"base_rate"`
		AUC              *float64 `json:"auc"`
		AveragePrecision *float64 `json:"average_precision"`
		K                int      `json:"k"`
		PrecisionAtK     *float64 `json:"precision_at_k"`
		RecallAtK        *float64 `json:"recall_at_k"`
		Brier            *float64 `json:"brier"`
	}{m.N, m.Positives, num(m.BaseRate), num(m.AUC), num(m.AveragePrecision), m.K,
		num(m.PrecisionAtK), num(m.RecallAtK), num(m.Brier)})
}

// Calibration compares scores with what happened, by score decile, over
// the backtest's test households pooled.
type Calibration struct {
	Bins []CalibrationBin `json:"deciles"`
	// MaxGap is the largest |observed rate − mean score| over deciles with
	// at least MinBinHouseholds households.
	MaxGap float64 `json:"max_gap"`
}

// CalibrationBin is one score decile.
type CalibrationBin struct {
	Decile       int     `json:"decile"` // 1 = lowest scores
	Households   int     `json:"households"`
	MeanScore    float64 `json:"mean_score"`
	ObservedRate float64 `json:"observed_rate"`
}

// BacktestSummary is the backtest in the manifest: the window, the choice
// and the means.
type BacktestSummary struct {
	From   string                 `json:"from"`
	To     string                 `json:"to"`
	Folds  int                    `json:"folds"`
	Chosen string                 `json:"chosen"`
	Mean   map[string]EvalMetrics `json:"mean"`
	// CalibrationGap is, per model, the largest gap between observed rate
	// and mean score over score deciles of at least 100 households.
	CalibrationGap map[string]float64 `json:"calibration_max_gap"`
	// DeprivedAUC is each model's mean AUC within IMD deciles 1–2.
	DeprivedAUC map[string]float64 `json:"mean_auc_imd_deciles_1_2,omitempty"`
	// TopOfList is the chosen model's calibration at the top of the list,
	// by band: the list's bands and likelihoods come from it.
	TopOfList *TopOfList `json:"top_of_list,omitempty"`
}

// ChoiceRule is how the backtest chooses among the candidate models.
const ChoiceRule = "highest mean precision@K over the folds, ties broken by mean average precision"
