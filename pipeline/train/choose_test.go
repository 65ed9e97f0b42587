package train

import (
	"math"
	"testing"

	"earlyhelp/pipeline"
)

// TestChoose: the best precision@K wins when its lead over the best
// average precision stands clear of the lead's noise across the dates, and
// the better ranking as a whole wins when it does not.
func TestChoose(t *testing.T) {
	// backtest makes a backtest of two candidates: a's precision@K on each
	// date, b's 0.1 throughout; a's average precision below b's.
	backtest := func(aPK ...float64) *pipeline.Backtest {
		bt := &pipeline.Backtest{Candidates: []string{"a", "b"}, Mean: map[string]pipeline.EvalMetrics{}}
		var sum float64
		for _, pk := range aPK {
			bt.Folds = append(bt.Folds, pipeline.FoldResult{Models: map[string]pipeline.EvalMetrics{
				"a": {PrecisionAtK: pk, AveragePrecision: 0.05}, "b": {PrecisionAtK: 0.1, AveragePrecision: 0.06},
			}})
			sum += pk
		}
		bt.Mean["a"] = pipeline.EvalMetrics{PrecisionAtK: sum / float64(len(aPK)), AveragePrecision: 0.05}
		bt.Mean["b"] = pipeline.EvalMetrics{PrecisionAtK: 0.1, AveragePrecision: 0.06}
		return bt
	}
	tests := []struct {
		name string
		bt   *pipeline.Backtest
		want string
	}{
		// Lead 0.04 on every date: its standard error is zero.
		{"steady lead", backtest(0.14, 0.14, 0.14, 0.14), "a"},
		// Lead 0.04 with standard error 0.02: clear of one.
		{"noisy lead clear of its error", backtest(0.16, 0.12, 0.16, 0.12), "a"},
		// Lead 0.01 with standard error 0.05: noise.
		{"lead within its error", backtest(0.2, 0.0, 0.2, 0.04), "b"},
		// One date cannot tell noise from a lead.
		{"one date", backtest(0.3), "b"},
		// No lead at all.
		{"behind", backtest(0.05, 0.05), "b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := choose(tt.bt); got != tt.want {
				lead, se, ok := pairedLead(tt.bt.Folds, "a", "b")
				t.Errorf("chose %s, want %s (lead %.3f, standard error %.3f, %t)", got, tt.want, lead, se, ok)
			}
		})
	}
	// Best at both: chosen whatever the noise; ties on precision@K go to
	// the better average precision.
	bt := backtest(0.2, 0.0, 0.2, 0.04)
	bt.Mean["a"] = pipeline.EvalMetrics{PrecisionAtK: 0.11, AveragePrecision: 0.07}
	if got := choose(bt); got != "a" {
		t.Errorf("best at both: chose %s", got)
	}
	bt.Mean["a"] = pipeline.EvalMetrics{PrecisionAtK: 0.1, AveragePrecision: 0.07}
	if got := choose(bt); got != "a" {
		t.Errorf("tie on precision@K: chose %s, want the better average precision", got)
	}
	if _, _, ok := pairedLead([]pipeline.FoldResult{{Models: map[string]pipeline.EvalMetrics{"a": {PrecisionAtK: math.NaN()}, "b": {}}}}, "a", "b"); ok {
		t.Error("a NaN date counted")
	}
}
