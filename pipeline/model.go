package pipeline

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
)

// A Model scores households; higher means more likely to need help within
// the horizon. Scores are probabilities in [0, 1].
//
// feats holds one row per household: a string column "household_id" and one
// float64 column per feature, in the order the model was trained on (columns
// are matched by name; a missing feature column is an error). The caller owns
// feats. Score and Explain may be called concurrently.
type Model interface {
	Score(ctx context.Context, feats arrow.Record) ([]float64, error)
	// Explain gives up to n reasons for the score of one row, largest first,
	// only those that raise the score.
	Explain(feats arrow.Record, row int, n int) []Reason

	// What every run records of its model (issue 22: required, not asked
	// for at run time): its content id and the features it was trained on
	// (the manifest; a saved model checked against this week's table) and,
	// for the model card, its weight per feature: nil for a model that has
	// none (a forest, the rules), looking through a calibration to the
	// model it wraps.
	ID() string
	Features() []string
	Coefficients() map[string]float64
}

// A BatchExplainer is a Model that can give Explain's reasons for every row
// of feats at once, far more cheaply than row by row. out[i] must equal
// Explain(feats, i, n) for every row i.
type BatchExplainer interface {
	ExplainAll(ctx context.Context, feats arrow.Record, n int) ([][]Reason, error)
}

// ExplainAll gives up to n reasons for every row of feats: in one pass when
// m is a BatchExplainer, otherwise row by row through Explain.
func ExplainAll(ctx context.Context, m Model, feats arrow.Record, n int) ([][]Reason, error) {
	// speed-up; fallback tested by TestLogisticExplainAll (one pass gives,
	// row for row, what Explain gives)
	if b, ok := m.(BatchExplainer); ok {
		return b.ExplainAll(ctx, feats, n)
	}
	out := make([][]Reason, feats.NumRows())
	for i := range out {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		out[i] = m.Explain(feats, i, n)
	}
	return out, nil
}

// A Trainer fits a Model on feature rows and aligned labels.
type Trainer interface {
	Fit(ctx context.Context, feats arrow.Record, labels []bool) (Model, error)
}

// A Reason is one feature's part in a score: the model's own quantity, never
// a post-hoc story.
type Reason struct {
	Feature      string  // feature column name; doubles as the reason code
	Value        float64 // the household's value of the feature
	Contribution float64 // its contribution to the score, in the model's units (log-odds for a linear model)
}

// SavedModel is the model a run trained, kept for the weekly runs until the
// next retrain: training (with its backtest) is monthly work, scoring is
// weekly work.
type SavedModel struct {
	Model    Model
	Manifest ModelManifest
	BaseRate float64
	// TrainedFor is the run date the model was trained for; RunID the run
	// that trained it, whose backtest rows the audit reuses.
	TrainedFor time.Time
	RunID      string
	Backtest   *BacktestSummary
	// PSI holds the training distribution of every feature.
	PSI map[string]PSIBins
}

// CheckFeatures fails clearly when a model was trained on other features
// than the table has: a saved model from an older build, say. Columns
// outside the model's list are ignored only if the model names its inputs.
func CheckFeatures(m Model, rec arrow.Record) error {
	want := m.Features()
	if want == nil {
		return nil // the model does not name its inputs
	}
	have := map[string]bool{}
	for i, fd := range rec.Schema().Fields() {
		if _, ok := rec.Column(i).(*array.Float64); ok {
			have[fd.Name] = true
		}
	}
	var missing []string
	for _, n := range want {
		if !have[n] {
			missing = append(missing, n)
		}
		delete(have, n)
	}
	var extra []string
	for n := range have {
		extra = append(extra, n)
	}
	if len(missing) == 0 && len(extra) == 0 {
		return nil
	}
	sort.Strings(extra)
	id := "the model"
	if i := m.ID(); i != "" {
		id = "model " + i
	}
	return fmt.Errorf("%s was trained on other features than this table has (missing: %s; not in the model: %s): retrain with --retrain",
		id, listOrNone(missing), listOrNone(extra))
}

func listOrNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}
