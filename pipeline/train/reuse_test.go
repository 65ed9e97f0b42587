package train

import (
	"context"
	"testing"
	"time"

	"earlyhelp/pipeline"
)

// columnsFeatures is a gridFeatures that names its columns in advance.
type columnsFeatures struct {
	gridFeatures
	cols []string
}

func (c columnsFeatures) FeatureColumns() []string { return c.cols }

// namedModel is an xModel that names the features it was trained on.
type namedModel struct {
	xModel
	features []string
}

func (m namedModel) Features() []string { return m.features }

type oneModel struct{ sm *pipeline.SavedModel }

func (s oneModel) Current(context.Context) (*pipeline.SavedModel, error) { return s.sm, nil }
func (oneModel) Save(context.Context, *pipeline.SavedModel) error        { return nil }

// TestReuseNeedsTheSameFeatures: a weekly run reuses a recent saved model
// only if this build makes the features it was trained on, in any order;
// after an upgrade that adds or drops one it trains anew instead of failing
// at scoring.
func TestReuseNeedsTheSameFeatures(t *testing.T) {
	asOf := time.Date(2026, 7, 27, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name         string
		model, built []string
		reused       bool
	}{
		{"same", []string{"a", "b"}, []string{"b", "a"}, true},
		{"a feature added", []string{"a", "b"}, []string{"a", "b", "c"}, false},
		{"a feature dropped", []string{"a", "b"}, []string{"a"}, false},
		{"one renamed", []string{"a", "b"}, []string{"a", "c"}, false},
		{"the model names none", nil, []string{"a"}, true},
		{"the build names none", []string{"a"}, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sm := &pipeline.SavedModel{Model: namedModel{features: tc.model}, TrainedFor: asOf.AddDate(0, 0, -7)}
			st := &pipeline.State{AsOf: asOf, Features: columnsFeatures{cols: tc.built}}
			r := &run{State: st, opts: Config{Models: oneModel{sm}}}
			got, why, err := r.reuse(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if (got != nil) != tc.reused {
				t.Errorf("reused %t (%q); want %t", got != nil, why, tc.reused)
			}
			if !tc.reused && why != "the saved model was trained on other features than this build makes" {
				t.Errorf("why = %q", why)
			}
		})
	}
}
