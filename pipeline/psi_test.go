package pipeline

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestPSI(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	draw := func(n int, shift float64) []float64 {
		out := make([]float64, n)
		for i := range out {
			out[i] = rng.NormFloat64() + shift
		}
		return out
	}
	train := draw(20000, 0)
	tests := []struct {
		name     string
		now      []float64
		min, max float64
	}{
		{"same population", draw(20000, 0), 0, 0.01},
		{"shifted by half a standard deviation", draw(20000, 0.5), 0.15, 0.4},
		{"shifted by one standard deviation", draw(20000, 1), 0.5, 2},
	}
	for _, tc := range tests {
		if p := PSI(train, tc.now); p < tc.min || p > tc.max {
			t.Errorf("%s: PSI %.3f; want [%g, %g]", tc.name, p, tc.min, tc.max)
		}
	}
	// A binary feature bins by its two values, and a flag turning from 5%
	// to 30% of households is a large shift.
	flags := func(n int, p float64) []float64 {
		out := make([]float64, n)
		for i := range out {
			if rng.Float64() < p {
				out[i] = 1
			}
		}
		return out
	}
	if p := PSI(flags(10000, 0.05), flags(10000, 0.30)); p < 0.25 {
		t.Errorf("flag 5%% → 30%%: PSI %.3f; want above 0.25", p)
	}
	if p := PSI(nil, train); !math.IsNaN(p) {
		t.Errorf("no training data: PSI %v; want NaN", p)
	}
}
