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
