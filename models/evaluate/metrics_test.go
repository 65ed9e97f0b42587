package evaluate

import (
	"cmp"
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// Hand-worked examples.
//
// simple: scores 0.9 0.8 0.7 0.6 0.5, labels T F T F F (P=2, N=3).
//
//	AUC: 0.9 beats all 3 negatives, 0.7 beats 0.6 and 0.5 → 5/6.
//	AP: at 0.9 precision 1, recall +1/2; at 0.7 precision 2/3, recall +1/2
//	    → 1/2 + 1/3 = 5/6.
//	P@2 = 1/2, R@2 = 1/2, P@3 = 2/3, R@3 = 1, P@10 (cut to 5) = 2/5.
//	Brier: (0.01 + 0.64 + 0.09 + 0.36 + 0.25) / 5 = 0.27.
//
// ties: scores 0.5 0.5 0.5 0.2, labels F T T F (P=2, N=2).
//
//	AUC: ascending ranks 0.2→1, the three 0.5s → 2,3,4 averaged to 3;
//	     positives' rank sum 6, U = 6 − 2·3/2 = 3, AUC = 3/4.
//	     (Pairwise: each positive ties the 0.5 negative, ½ each, and beats 0.2.)
//	AP: the three 0.5s enter together: precision 2/3 at recall 1 → 2/3.
//	Top-K breaks the tie by index: order 0(F) 1(T) 2(T) 3(F), so P@1 = 0,
//	P@2 = 1/2, R@2 = 1/2.
//	Brier: (0.25 + 0.25 + 0.25 + 0.04) / 4 = 0.1975.
var (
	simpleScores = []float64{0.9, 0.8, 0.7, 0.6, 0.5}
	simpleLabels = []bool{true, false, true, false, false}
	tiesScores   = []float64{0.5, 0.5, 0.5, 0.2}
	tiesLabels   = []bool{false, true, true, false}
)

func TestMetrics(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name   string
		scores []float64
		labels []bool
		fn     func([]float64, []bool) float64
		want   float64
	}{
		{"auc simple", simpleScores, simpleLabels, AUC, 5.0 / 6},
		{"auc ties", tiesScores, tiesLabels, AUC, 0.75},
		{"auc all tied", []float64{0.3, 0.3, 0.3}, []bool{true, false, false}, AUC, 0.5},
		{"auc perfect", []float64{0.9, 0.1}, []bool{true, false}, AUC, 1},
		{"auc reversed", []float64{0.1, 0.9}, []bool{true, false}, AUC, 0},
		{"auc no negatives", []float64{0.1, 0.9}, []bool{true, true}, AUC, nan},
		{"auc no positives", []float64{0.1, 0.9}, []bool{false, false}, AUC, nan},
		{"auc empty", nil, nil, AUC, nan},
		{"auc NaN score ranks lowest", []float64{math.NaN(), 0.1}, []bool{false, true}, AUC, 1},
		{"ap simple", simpleScores, simpleLabels, AveragePrecision, 5.0 / 6},
		{"ap ties", tiesScores, tiesLabels, AveragePrecision, 2.0 / 3},
		{"ap all positive", []float64{0.2, 0.4}, []bool{true, true}, AveragePrecision, 1},
		{"ap no positives", []float64{0.2, 0.4}, []bool{false, false}, AveragePrecision, nan},
		{"brier simple", simpleScores, simpleLabels, Brier, 0.27},
		{"brier ties", tiesScores, tiesLabels, Brier, 0.1975},
		{"brier empty", nil, nil, Brier, nan},
		{"p@2 simple", simpleScores, simpleLabels, atK(PrecisionAtK, 2), 0.5},
		{"p@3 simple", simpleScores, simpleLabels, atK(PrecisionAtK, 3), 2.0 / 3},
		{"p@10 cut to n", simpleScores, simpleLabels, atK(PrecisionAtK, 10), 0.4},
		{"p@0", simpleScores, simpleLabels, atK(PrecisionAtK, 0), nan},
		{"p@1 ties by index", tiesScores, tiesLabels, atK(PrecisionAtK, 1), 0},
		{"p@2 ties by index", tiesScores, tiesLabels, atK(PrecisionAtK, 2), 0.5},
		{"r@2 simple", simpleScores, simpleLabels, atK(RecallAtK, 2), 0.5},
		{"r@3 simple", simpleScores, simpleLabels, atK(RecallAtK, 3), 1},
		{"r@0", simpleScores, simpleLabels, atK(RecallAtK, 0), 0},
		{"r@2 ties by index", tiesScores, tiesLabels, atK(RecallAtK, 2), 0.5},
		{"r@2 no positives", []float64{0.2, 0.4}, []bool{false, false}, atK(RecallAtK, 2), nan},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.fn(tt.scores, tt.labels); !near(got, tt.want) {
				t.Errorf("got %v; want %v", got, tt.want)
			}
		})
	}
}

func atK(fn func([]float64, []bool, int) float64, k int) func([]float64, []bool) float64 {
	return func(s []float64, l []bool) float64 { return fn(s, l, k) }
}

func near(got, want float64) bool {
	if math.IsNaN(want) {
		return math.IsNaN(got)
	}
	return math.Abs(got-want) < 1e-12
}

func TestCompute(t *testing.T) {
	got := Compute(simpleScores, simpleLabels, 3)
	want := Metrics{N: 5, Positives: 2, BaseRate: 0.4, AUC: 5.0 / 6, AveragePrecision: 5.0 / 6,
		PrecisionAtK: 2.0 / 3, RecallAtK: 1, Brier: 0.27, K: 3}
	if got.N != want.N || got.Positives != want.Positives || got.K != want.K ||
		!near(got.BaseRate, want.BaseRate) || !near(got.AUC, want.AUC) ||
		!near(got.AveragePrecision, want.AveragePrecision) || !near(got.PrecisionAtK, want.PrecisionAtK) ||
		!near(got.RecallAtK, want.RecallAtK) || !near(got.Brier, want.Brier) {
		t.Errorf("got %+v; want %+v", got, want)
	}
	if got := Compute(simpleScores, simpleLabels, 50).K; got != 5 {
		t.Errorf("K for k=50 of 5 rows: got %d; want 5", got)
	}
}

func TestMetricsJSON(t *testing.T) {
	m := Compute([]float64{0.2, 0.4}, []bool{false, false}, 1)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"auc":null`, `"average_precision":null`, `"base_rate":0`, `"precision_at_k":0`, `"k":1`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("JSON %s: missing %s", b, key)
		}
	}
	var back Metrics
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(back.AUC) || back.N != 2 || back.Brier != m.Brier {
		t.Errorf("round trip: got %+v; want %+v", back, m)
	}
}

func TestLengthMismatchPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("got no panic for 2 scores and 1 label")
		}
	}()
	AUC([]float64{0.1, 0.2}, []bool{true})
}

// TestComputeSharesOrder: Compute sorts the rows once for the metrics
// that read a rank order, and must give, to the bit, what each metric
// gives alone; and rankOrder, which sorts scores beside their indices,
// must give the order a sort of indices by looked-up score gives. The
// cases have ties, NaN scores and ±0, where an order could differ.
func TestComputeSharesOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 8))
	same := func(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }
	for c := range 200 {
		n := 1 + rng.IntN(300)
		scores, labels := make([]float64, n), make([]bool, n)
		levels := 1 + rng.IntN(20) // few levels: many ties
		for i := range scores {
			switch v := rng.IntN(levels + 2); v {
			case levels:
				scores[i] = math.NaN()
			case levels + 1:
				scores[i] = math.Copysign(0, -1)
			default:
				scores[i] = float64(v) / float64(levels)
			}
			labels[i] = rng.Float64() < 0.2
		}
		k := rng.IntN(n+10) - 5
		got := Compute(scores, labels, k)
		want := map[string][2]float64{
			"auc":   {got.AUC, AUC(scores, labels)},
			"ap":    {got.AveragePrecision, AveragePrecision(scores, labels)},
			"p@k":   {got.PrecisionAtK, PrecisionAtK(scores, labels, k)},
			"r@k":   {got.RecallAtK, RecallAtK(scores, labels, k)},
			"brier": {got.Brier, Brier(scores, labels)},
		}
		for name, gw := range want {
			if !same(gw[0], gw[1]) || math.Signbit(gw[0]) != math.Signbit(gw[1]) {
				t.Errorf("case %d (%d rows, k %d): Compute's %s %v; alone %v", c, n, k, name, gw[0], gw[1])
			}
		}
		looked := make([]int, n)
		for i := range looked {
			looked[i] = i
		}
		slices.SortFunc(looked, func(a, b int) int {
			return cmp.Or(cmp.Compare(scores[b], scores[a]), cmp.Compare(a, b))
		})
		if order := rankOrder(scores); !slices.Equal(order, looked) {
			t.Fatalf("case %d: rankOrder %v; by look-up %v", c, order, looked)
		}
	}
}

// BenchmarkCompute is a backtest fold's metrics for one model: 150,000
// households, a 3% base rate, calibrated scores with some ties.
func BenchmarkCompute(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	scores, labels := make([]float64, 150_000), make([]bool, 150_000)
	for i := range scores {
		scores[i] = math.Round(rng.Float64()*rng.Float64()*1e5) / 1e6
		labels[i] = rng.Float64() < 0.03
	}
	for b.Loop() {
		Compute(scores, labels, 60)
	}
}
