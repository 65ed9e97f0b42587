// Package evaluate measures how well scores rank and predict outcomes: AUC,
// average precision, precision and recall among the top K (the navigators'
// capacity) and the Brier score, as the backtest of CONTRACTS §5 reports them.
//
// Every function takes scores and labels of equal length (a mismatch is a
// programmer error and panics, as in gonum/stat). Undefined values, such as
// AUC with one class absent, are NaN. NaN scores rank below every number.
package evaluate

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// AUC is the area under the ROC curve: the probability that a random
// positive scores above a random negative, ties counting one half. It is
// computed from ranks (Mann–Whitney U), tied scores sharing their average
// rank. NaN if either class is absent.
func AUC(scores []float64, labels []bool) float64 {
	check(scores, labels)
	return auc(rankOrder(scores), scores, labels)
}

// auc is AUC from the rows' rank order (rankOrder).
func auc(order []int, scores []float64, labels []bool) float64 {
	n := len(order)
	// Ascending score, rank 1 the lowest: order read from its end.
	at := func(r int) int { return order[n-1-r] }
	var rankSum float64
	pos := 0
	for start := 0; start < n; {
		end := start + 1
		for end < n && cmp.Compare(scores[at(end)], scores[at(start)]) == 0 {
			end++
		}
		avg := float64(start+1+end) / 2 // mean of ranks start+1..end
		for r := start; r < end; r++ {
			if labels[at(r)] {
				rankSum += avg
				pos++
			}
		}
		start = end
	}
	neg := n - pos
	if pos == 0 || neg == 0 {
		return math.NaN()
	}
	p := float64(pos)
	return (rankSum - p*(p+1)/2) / (p * float64(neg))
}

// AveragePrecision is Σ (Rₜ − Rₜ₋₁)·Pₜ over the distinct score thresholds t
// from high to low, Pₜ and Rₜ being precision and recall of the rows scoring
// at least t. Tied rows enter together, so unlike precision@K it does not
// depend on row order. NaN if there are no positives.
func AveragePrecision(scores []float64, labels []bool) float64 {
	check(scores, labels)
	total := positives(labels)
	if total == 0 {
		return math.NaN()
	}
	return averagePrecision(rankOrder(scores), scores, labels, total)
}

// averagePrecision is AveragePrecision from the rows' rank order, total
// (above 0) of them positive.
func averagePrecision(idx []int, scores []float64, labels []bool, total int) float64 {
	n := len(idx)
	var ap float64
	tp, prevTP := 0, 0
	for start := 0; start < n; {
		end := start
		for end < n && cmp.Compare(scores[idx[end]], scores[idx[start]]) == 0 {
			if labels[idx[end]] {
				tp++
			}
			end++
		}
		ap += float64(tp-prevTP) / float64(total) * float64(tp) / float64(end)
		prevTP, start = tp, end
	}
	return ap
}

// PrecisionAtK is the share of positives among the k highest scores. k above
// len(scores) is cut to it; NaN if k ≤ 0 or there are no rows. Ties at the
// cut-off are broken by row index (earlier rows first), so the result is
// deterministic but, with ties, depends on row order.
func PrecisionAtK(scores []float64, labels []bool, k int) float64 {
	n := check(scores, labels)
	k = min(k, n)
	if k <= 0 {
		return math.NaN()
	}
	return float64(topPositives(rankOrder(scores), labels, k)) / float64(k)
}

// RecallAtK is the share of all positives found among the k highest scores,
// with the same cut-off and tie rule as PrecisionAtK. NaN if there are no
// positives.
func RecallAtK(scores []float64, labels []bool, k int) float64 {
	n := check(scores, labels)
	total := positives(labels)
	if total == 0 {
		return math.NaN()
	}
	return float64(topPositives(rankOrder(scores), labels, max(0, min(k, n)))) / float64(total)
}

// Brier is the mean squared difference between score and outcome (1 or 0);
// lower is better and 0.25 is what a constant 0.5 earns. NaN with no rows.
func Brier(scores []float64, labels []bool) float64 {
	n := check(scores, labels)
	if n == 0 {
		return math.NaN()
	}
	var sum float64
	for i, s := range scores {
		d := s
		if labels[i] {
			d = s - 1
		}
		sum += d * d
	}
	return sum / float64(n)
}

// rankOrder returns row indices by score, highest first, then by index.
// It sorts the scores beside their indices, not the indices by looking
// their scores up, each look-up a likely cache miss: a backtest ranks
// some 150,000 households per model and fold. The order is total, so it
// is the order the look-ups gave. With Compute sorting once for its four
// metrics, BenchmarkCompute went from 153-163 ms to 38-43 ms.
func rankOrder(scores []float64) []int {
	type scored struct {
		s float64
		i int
	}
	by := make([]scored, len(scores))
	for i, s := range scores {
		by[i] = scored{s, i}
	}
	slices.SortFunc(by, func(a, b scored) int {
		return cmp.Or(cmp.Compare(b.s, a.s), cmp.Compare(a.i, b.i))
	})
	idx := make([]int, len(scores))
	for r, x := range by {
		idx[r] = x.i
	}
	return idx
}

// topPositives counts the positives among the first k rows of order.
func topPositives(order []int, labels []bool, k int) int {
	tp := 0
	for _, i := range order[:k] {
		if labels[i] {
			tp++
		}
	}
	return tp
}

func positives(labels []bool) int {
	p := 0
	for _, l := range labels {
		if l {
			p++
		}
	}
	return p
}

func check(scores []float64, labels []bool) int {
	if len(scores) != len(labels) {
		panic(fmt.Sprintf("evaluate: %d scores but %d labels", len(scores), len(labels)))
	}
	return len(scores)
}
