package train

import (
	"earlyhelp/pipeline"
	"math"
	"testing"
)

// TestTopOfList: scores twice the outcome rate at the top of every date
// are corrected by the other dates' ratio, the bands are drawn on the
// corrected score, and a band whose mean misses its rate is merged.
func TestTopOfList(t *testing.T) {
	var folds []*pipeline.FoldScores
	rates := []float64{}
	for f := 0; f < 4; f++ {
		fs := &pipeline.FoldScores{K: 20, Scores: map[string][]float64{"m": nil}}
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
	if top.Listed.Households != 80 || top.Listed.Positives != 16 {
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

func TestExpectedRandom(t *testing.T) {
	m := expectedRandom(pipeline.EvalMetrics{N: 1000, Positives: 33, K: 60, AUC: 0.51, PrecisionAtK: 0, AveragePrecision: 0.02, RecallAtK: 0, Brier: 0.03})
	if m.AUC != 0.5 || m.PrecisionAtK != 0.033 || m.AveragePrecision != 0.033 || m.RecallAtK != 0.06 || m.Brier != 0.03 {
		t.Errorf("expectedRandom = %+v", m)
	}
}
