package train

import (
	"earlyhelp/pipeline"
	"math"
	"slices"
	"testing"
	"time"
)

// TestTopOfList: scores twice the outcome rate at the top of every date
// are corrected by the earlier dates' ratio (the first date left out of
// the check), the bands are drawn on the corrected score, and a band
// whose mean misses its rate is merged.
func TestTopOfList(t *testing.T) {
	var folds []*pipeline.FoldScores
	rates := []float64{}
	for f := 0; f < 4; f++ {
		fs := &pipeline.FoldScores{K: 20, AsOf: time.Date(2025, 1, 6+28*f, 0, 0, 0, 0, time.UTC), Scores: map[string][]float64{"m": nil}}
		for i := 0; i < 100; i++ {
			s := 0.01
			y := false
			if i < 20 {
				s = 0.4 // listed; 4 in 20 have the outcome: 0.2, half the score
				y = i%5 == 0
			}
			fs.Scores["m"] = append(fs.Scores["m"], s)
			fs.Labels = append(fs.Labels, y)
		}
		folds = append(folds, fs)
		rates = append(rates, 0.02)
	}
	top := topOfList(folds, rates, "m", pipeline.ListRules{})
	if top.Listed.Households != 60 || top.Listed.Positives != 12 {
		t.Fatalf("listed %+v", top.Listed)
	}
	if math.Abs(top.Listed.MeanScore-0.4) > 1e-9 || math.Abs(top.Listed.Corrected-0.2) > 1e-9 || !top.Listed.Within {
		t.Errorf("listed mean %v corrected %v; want 0.4 and 0.2, within", top.Listed.MeanScore, top.Listed.Corrected)
	}
	if len(top.Bands) != 1 || top.Bands[0].Band != pipeline.BandVeryHigh {
		t.Errorf("bands %+v; want one, very high (0.2 is 10 times 0.02)", top.Bands)
	}
	band, likely := pipeline.ListRules{}.BandOf(top, 0.4, 0.02)
	if band != pipeline.BandVeryHigh || likely != "about 1 in 5" {
		t.Errorf("bandOf = %q, %q", band, likely)
	}
	// Two bands, one of them badly off: it is merged.
	for _, fs := range folds {
		for i := 0; i < 10; i++ {
			fs.Scores["m"][i] = 0.9 // very high, yet the same outcomes
		}
	}
	top = topOfList(folds, rates, "m", pipeline.ListRules{VeryHigh: 10, High: 3})
	if len(top.Bands) != 1 || len(top.MergedInto) == 0 || !top.Bands[0].Within {
		t.Errorf("bands %+v merged %v; want the two bands merged into one within tolerance", top.Bands, top.MergedInto)
	}
}

// TestTopOfListDrift: the listed households' outcome rate falls from half
// their score on the early dates to a quarter on the late ones. Corrected
// by the dates before it, each late date is overstated and the check
// says so; corrected by the other dates, the pooled figure matched the
// pooled outcome rate exactly, and the drift went unseen. The folds come
// in any order: the dates before are by date.
func TestTopOfListDrift(t *testing.T) {
	var folds []*pipeline.FoldScores
	var rates []float64
	for f := 0; f < 6; f++ {
		fs := &pipeline.FoldScores{K: 20, AsOf: time.Date(2025, 1, 6+28*f, 0, 0, 0, 0, time.UTC), Scores: map[string][]float64{"m": nil}}
		every := 5 // listed outcome rate 0.2 of a score of 0.4: ratio 0.5
		if f >= 3 {
			every = 10 // 0.1: ratio 0.25
		}
		for i := 0; i < 100; i++ {
			s, y := 0.01, false
			if i < 20 {
				s, y = 0.4, i%every == 0
			}
			fs.Scores["m"] = append(fs.Scores["m"], s)
			fs.Labels = append(fs.Labels, y)
		}
		folds = append(folds, fs)
		rates = append(rates, 0.02)
	}
	slices.Reverse(folds)
	top := topOfList(folds, rates, "m", pipeline.ListRules{})
	// Dates 2-6 list 100 households with 4+4+2+2+2 = 14 outcomes. Each
	// date's ratio is the earlier dates' outcomes over their scores (0.4
	// a household, 20 a date): 4/8, 8/16, 12/24, 14/32 and 16/40.
	wantRate := 14.0 / 100
	wantCorrected := 20 * 0.4 * (4.0/8 + 8.0/16 + 12.0/24 + 14.0/32 + 16.0/40) / 100
	if top.Listed.Households != 100 || math.Abs(top.Listed.ObservedRate-wantRate) > 1e-12 {
		t.Fatalf("listed %+v; want 100 households at %v", top.Listed, wantRate)
	}
	if math.Abs(top.Listed.Corrected-wantCorrected) > 1e-12 || top.Listed.Within {
		t.Errorf("corrected %v (within %v); want %v, outside the tolerance of %v",
			top.Listed.Corrected, top.Listed.Within, wantCorrected, wantRate)
	}
	if want := 18.0 / (0.4 * 120); math.Abs(top.Listed.Ratio-want) > 1e-12 {
		t.Errorf("live ratio %v; want every date's, %v", top.Listed.Ratio, want)
	}
}

func TestExpectedRandom(t *testing.T) {
	m := expectedRandom(pipeline.EvalMetrics{N: 1000, Positives: 33, K: 60, AUC: 0.51, PrecisionAtK: 0, AveragePrecision: 0.02, RecallAtK: 0, Brier: 0.03})
	if m.AUC != 0.5 || m.PrecisionAtK != 0.033 || m.AveragePrecision != 0.033 || m.RecallAtK != 0.06 || m.Brier != 0.03 {
		t.Errorf("expectedRandom = %+v", m)
	}
}
