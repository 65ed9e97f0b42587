package evaluate

import (
	"earlyhelp/pipeline/rundir"
	"math"
)

// Metrics summarises one set of scores against outcomes; undefined values
// (an AUC with one class) are NaN, written as null. It is the run folder's
// type, so the backtest, its files and this package share one definition.
type Metrics = rundir.EvalMetrics

// Compute returns every metric of scores against labels with cut-off k.
func Compute(scores []float64, labels []bool, k int) Metrics {
	n := check(scores, labels)
	p := positives(labels)
	base := math.NaN()
	if n > 0 {
		base = float64(p) / float64(n)
	}
	// One rank order for the four metrics that read one: what each of
	// them alone would sort (TestComputeSharesOrder).
	order := rankOrder(scores)
	m := Metrics{
		N: n, Positives: p, BaseRate: base,
		AUC:              auc(order, scores, labels),
		AveragePrecision: math.NaN(), PrecisionAtK: math.NaN(), RecallAtK: math.NaN(),
		Brier: Brier(scores, labels),
		K:     max(0, min(k, n)),
	}
	if p > 0 {
		m.AveragePrecision = averagePrecision(order, scores, labels, p)
		m.RecallAtK = float64(topPositives(order, labels, m.K)) / float64(p)
	}
	if m.K > 0 {
		m.PrecisionAtK = float64(topPositives(order, labels, m.K)) / float64(m.K)
	}
	return m
}

func nullable(f float64) *float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil
	}
	return &f
}
