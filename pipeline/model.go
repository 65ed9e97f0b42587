package pipeline

import (
	"context"

	"github.com/apache/arrow/go/v15/arrow"
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
