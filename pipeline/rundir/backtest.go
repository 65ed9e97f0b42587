package rundir

import (
	"encoding/json"
	"math"
)

// The backtest's files (backtest/backtest.json, metrics.csv,
// calibration.csv) and the top of the list's calibration it carries.

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

// EvalMetrics are one model's figures on one evaluation split: the one
// metrics type of the backtest, the model card, the evaluation against the
// synthetic truth and models/evaluate (which computes them).
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

// MarshalJSON writes a metric that could not be computed (NaN, for example
// an AUC with one class only) as null: JSON has no NaN.
func (m EvalMetrics) MarshalJSON() ([]byte, error) {
	return json.Marshal(evalMetricsJSON{
		N: m.N, Positives: m.Positives, BaseRate: nullable(m.BaseRate), AUC: nullable(m.AUC),
		AveragePrecision: nullable(m.AveragePrecision), K: m.K,
		PrecisionAtK: nullable(m.PrecisionAtK), RecallAtK: nullable(m.RecallAtK), Brier: nullable(m.Brier),
	})
}

// UnmarshalJSON reads null (or an absent figure) back as NaN: a figure that
// could not be computed is not zero.
func (m *EvalMetrics) UnmarshalJSON(b []byte) error {
	var j evalMetricsJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*m = EvalMetrics{
		N: j.N, Positives: j.Positives, BaseRate: value(j.BaseRate), AUC: value(j.AUC),
		AveragePrecision: value(j.AveragePrecision), K: j.K,
		PrecisionAtK: value(j.PrecisionAtK), RecallAtK: value(j.RecallAtK), Brier: value(j.Brier),
	}
	return nil
}

// evalMetricsJSON is EvalMetrics with nullable figures, in the order
// backtest.json has always had them.
type evalMetricsJSON struct {
	N                int      `json:"n"`
	Positives        int      `json:"positives"`
	BaseRate         *float64 `json:"base_rate"`
	AUC              *float64 `json:"auc"`
	AveragePrecision *float64 `json:"average_precision"`
	K                int      `json:"k"`
	PrecisionAtK     *float64 `json:"precision_at_k"`
	RecallAtK        *float64 `json:"recall_at_k"`
	Brier            *float64 `json:"brier"`
}

func nullable(f float64) *float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil
	}
	return &f
}

func value(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
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

// ListState is list/list_state.json: who was listed, so next week's list
// can tell new from continuing and returning households. It holds
// pseudonyms only.
type ListState struct {
	AsOf   string                  `json:"as_of"`
	Listed map[string]ListedRecord `json:"listed"` // every household ever listed
}

// ListedRecord is one household's listing history.
type ListedRecord struct {
	FirstListed string `json:"first_listed"`
	LastListed  string `json:"last_listed"`
	WeeksOnList int    `json:"weeks_on_list"` // consecutive weeks up to LastListed
}

// TopTolerance is how far a band's mean score may lie from its observed
// outcome rate in the backtest before the band is merged into the next.
const TopTolerance = 0.03

// TopOfList is how the list itself fared in the backtest: on every date,
// the K households the chosen model ranked highest. A model calibrated
// over deciles can still overstate the few households at the top, which
// are all a navigator sees; so the listed households' scores are corrected
// by the ratio of their outcomes to their scores, the bands are drawn on
// the corrected score, and a band whose corrected mean lies outside
// TopTolerance of its outcome rate is merged into its neighbour. Each
// date's correction comes from the dates before it, as the live list's
// comes from the backtest before it, so the figures test the correction
// rather than restate it; the first date, with none before it, is left
// out of the figures.
type TopOfList struct {
	Model     string            `json:"model"`
	Tolerance float64           `json:"tolerance"`
	Listed    BandCalibration   `json:"listed"`
	Bands     []BandCalibration `json:"bands"`
	// MergedInto maps a band to the band it was merged into.
	MergedInto map[string]string `json:"merged_into,omitempty"`
}

// BandCalibration is one band of the backtest's lists.
type BandCalibration struct {
	Band       string   `json:"band"`
	Holds      []string `json:"holds"` // the bands it holds after merging
	Households int      `json:"households"`
	Positives  int      `json:"positives"`
	// MeanScore is the model's own calibrated score; Corrected the score
	// times the listed households' ratio from the dates before.
	MeanScore    float64 `json:"mean_score"`
	Corrected    float64 `json:"mean_corrected_score"`
	ObservedRate float64 `json:"observed_rate"`
	// Ratio is the outcomes over the scores: for "all listed", on every
	// date, the first included, and what a live list's scores are
	// multiplied by.
	Ratio  float64 `json:"ratio"`
	Within bool    `json:"within_tolerance"`
}

// Correct is a listed household's score corrected for the over-confidence
// the backtest found at the top of the list; the score itself when no
// backtest has said.
func (top *TopOfList) Correct(score float64) float64 {
	if top == nil || top.Listed.Households == 0 {
		return score
	}
	return min(score*top.Listed.Ratio, 1)
}
