package models_test

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"earlyhelp/models"
)

// TestCrossFitProbabilities: probabilities from a known logistic model of
// three columns (one of them pure noise, one on another scale) are
// recovered out of group: each row's cross-fitted log-odds is within a few
// hundredths of its true log-odds. Bad input is an error.
func TestCrossFitProbabilities(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	const n = 4000
	cols := [][]float64{make([]float64, n), make([]float64, n), make([]float64, n)}
	p := make([]float64, n)
	truth := make([]float64, n)
	group := make([]int, n)
	for i := range n {
		cols[0][i] = r.NormFloat64()
		cols[1][i] = 100 + 20*r.NormFloat64()
		cols[2][i] = r.NormFloat64()
		truth[i] = -3 + 0.8*cols[0][i] - 0.02*(cols[1][i]-100)
		p[i] = 1 / (1 + math.Exp(-truth[i]))
		group[i] = i % 5
	}
	got, err := models.CrossFitProbabilities(context.Background(), cols, p, group, 5, 1)
	if err != nil {
		t.Fatal(err)
	}
	worst := 0.0
	for i := range got {
		worst = max(worst, math.Abs(got[i]-truth[i]))
	}
	if worst > 0.05 {
		t.Errorf("worst log-odds error %.3f; want at most 0.05", worst)
	}
	bad := []struct {
		name  string
		p     []float64
		group []int
	}{
		{"probability above 1", append([]float64{1.5}, p[1:]...), group},
		{"group out of range", p, append([]int{5}, group[1:]...)},
		{"groups short", p, group[1:]},
	}
	for _, tc := range bad {
		if _, err := models.CrossFitProbabilities(context.Background(), cols, tc.p, tc.group, 5, 1); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}
