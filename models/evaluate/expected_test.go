package evaluate

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestExpectedAUC: with probabilities of 0 and 1 the expected AUC is the
// AUC of those outcomes (ties a half); with any probabilities it is the
// mean AUC over outcomes drawn from them, to within the draws' error.
func TestExpectedAUC(t *testing.T) {
	s := []float64{0.1, 0.4, 0.4, 0.8, 0.9}
	p := []float64{0, 1, 0, 1, 0}
	labels := []bool{false, true, false, true, false}
	if got, want := ExpectedAUC(s, p), AUC(s, labels); math.Abs(got-want) > 1e-12 {
		t.Errorf("0/1 probabilities: %v; want the AUC %v", got, want)
	}
	r := rand.New(rand.NewPCG(1, 2))
	n := 300
	s, p = make([]float64, n), make([]float64, n)
	for i := range n {
		s[i] = math.Round(r.Float64()*20) / 20 // ties
		p[i] = 0.05 + 0.5*s[i]*r.Float64()
	}
	var mean float64
	draws := 4000
	lab := make([]bool, n)
	for range draws {
		for i := range lab {
			lab[i] = r.Float64() < p[i]
		}
		mean += AUC(s, lab)
	}
	mean /= float64(draws)
	if got := ExpectedAUC(s, p); math.Abs(got-mean) > 0.003 {
		t.Errorf("expected AUC %v; the mean over %d draws is %v", got, draws, mean)
	}
	if got := ExpectedAUC([]float64{1, 2}, []float64{1, 1}); !math.IsNaN(got) {
		t.Errorf("no pair with one of each: %v; want NaN", got)
	}
}

// TestComputeRunDate: the precision at k is the mean probability of the k
// highest, the deprived AUC uses only deprived rows, and the ratios are
// the model's and the ceiling's over the need's.
func TestComputeRunDate(t *testing.T) {
	p := []float64{0.5, 0.1, 0.3, 0.2}
	rd := ComputeRunDate("2026-07-20", 2, map[string][]float64{
		RankerModel: {4, 3, 2, 1}, RankerNeed: {4, 1, 3, 2}, RankerCeiling: {1, 2, 3, 4},
	}, p, []bool{true, true, true, false})
	if got := rd.Rankers[RankerNeed].PrecisionAtK; math.Abs(got-0.4) > 1e-12 {
		t.Errorf("need's precision at 2: %v; want 0.4", got)
	}
	if got := rd.Rankers[RankerModel].PrecisionAtK; math.Abs(got-0.3) > 1e-12 {
		t.Errorf("model's precision at 2: %v; want 0.3", got)
	}
	if got := *rd.RatioToNeed[RankerModel]["precision_at_k"]; math.Abs(got-0.75) > 1e-12 {
		t.Errorf("model's ratio: %v; want 0.75", got)
	}
	dep := []float64{0.5, 0.1, 0.3}
	if got, want := rd.Rankers[RankerCeiling].AUCDeprived, ExpectedAUC([]float64{1, 2, 3}, dep); got != want {
		t.Errorf("ceiling's deprived AUC %v; want %v", got, want)
	}
	if rd.RatioToNeed[RankerNeed] != nil {
		t.Error("the need has a ratio to itself")
	}
}
