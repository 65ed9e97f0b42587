package models

import (
	"slices"
	"strings"
	"testing"
)

func TestParseModel(t *testing.T) {
	const header = "solver_type L2R_LR\nnr_class 2\n"
	tests := []struct {
		name, file string
		want       []float64
		wantErr    string
	}{
		{"first label 1", header + "label 1 0\nnr_feature 2\nbias -1\nw\n0.5 \n-2 \n", []float64{0.5, -2}, ""},
		{"first label 0 negates", header + "label 0 1\nnr_feature 2\nbias -1\nw\n0.5 \n-2 \n", []float64{-0.5, 2}, ""},
		{"liblinear bias weight", header + "label 1 0\nnr_feature 1\nbias 1\nw\n0.5 \n3 \n", []float64{0.5, 3}, ""},
		{"wrong solver", "solver_type L2R_L2LOSS_SVC\n", nil, "want L2R_LR"},
		{"three classes", "solver_type L2R_LR\nnr_class 3\n", nil, "want 2"},
		{"odd labels", header + "label 1 -1\nnr_feature 1\nbias -1\nw\n1\n", nil, "want 0 and 1"},
		{"short weights", header + "label 1 0\nnr_feature 3\nbias -1\nw\n1\n", nil, "1 weights for nr_feature 3"},
		{"bad weight", header + "label 1 0\nnr_feature 1\nbias -1\nw\nnan\n", nil, "bad value"},
		{"no weights", header + "label 1 0\nnr_feature 1\nbias -1\n", nil, "no weights"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseModel(strings.NewReader(tt.file))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v; want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v; want %v", got, tt.want)
			}
		})
	}
}
