package evaluate

import (
	"encoding/json"
	"math"
	"slices"
)

// RankerCeiling is the pipeline's own features fitted to the truth's
// probability (models.CrossFitProbabilities): what a linear model on
// those features could reach with no label noise, so a shortfall of the
// model against the need can be told apart into what the features cannot
// carry and what the model fails to learn.
const RankerCeiling = "features_ceiling"

// ExpectedFigures are a ranker's figures on the run date, in expectation
// over the truth's probabilities: no outcome after the run date is known.
type ExpectedFigures struct {
	AUC          float64 `json:"auc"`
	AUCDeprived  float64 `json:"auc_imd_deciles_1_2"`
	PrecisionAtK float64 `json:"precision_at_k"`
}

// MarshalJSON writes a figure that cannot be had as null.
func (f ExpectedFigures) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]*float64{
		"auc": nullable(f.AUC), "auc_imd_deciles_1_2": nullable(f.AUCDeprived), "precision_at_k": nullable(f.PrecisionAtK),
	})
}

// RunDate is the run date's figures: every household the run scored, each
// ranker against the truth's probability of the outcome.
type RunDate struct {
	AsOf       string                     `json:"as_of"`
	Households int                        `json:"households"`
	K          int                        `json:"k"`
	Rankers    map[string]ExpectedFigures `json:"rankers"`
	// RatioToNeed is, for the model and the ceiling, each figure over the
	// need's.
	RatioToNeed map[string]map[string]*float64 `json:"ratio_to_need"`
}

// ComputeRunDate works out the run date's expected figures of each
// ranker's scores (by name, one per household), with k listed: trueP is
// each household's probability, deprived whether its area is in IMD
// deciles 1–2.
func ComputeRunDate(asOf string, k int, scores map[string][]float64, trueP []float64, deprived []bool) *RunDate {
	rd := &RunDate{AsOf: asOf, Households: len(trueP), K: k, Rankers: map[string]ExpectedFigures{}, RatioToNeed: map[string]map[string]*float64{}}
	var depP []float64
	for i, d := range deprived {
		if d {
			depP = append(depP, trueP[i])
		}
	}
	for name, s := range scores {
		var dep []float64
		for i, d := range deprived {
			if d {
				dep = append(dep, s[i])
			}
		}
		rd.Rankers[name] = ExpectedFigures{
			AUC: ExpectedAUC(s, trueP), AUCDeprived: ExpectedAUC(dep, depP), PrecisionAtK: ExpectedPrecisionAtK(s, trueP, k),
		}
	}
	need, ok := rd.Rankers[RankerNeed]
	if !ok {
		return rd
	}
	for _, name := range []string{RankerModel, RankerCeiling} {
		f, ok := rd.Rankers[name]
		if !ok {
			continue
		}
		rd.RatioToNeed[name] = map[string]*float64{
			"auc": nullable(f.AUC / need.AUC), "auc_imd_deciles_1_2": nullable(f.AUCDeprived / need.AUCDeprived),
			"precision_at_k": nullable(f.PrecisionAtK / need.PrecisionAtK),
		}
	}
	return rd
}

// ExpectedAUC is the AUC of scores s in expectation when row i has the
// outcome with probability p[i], independently: over every pair of
// distinct rows, the chance the one with the outcome is scored above the
// one without (ties count a half), over the chance the pair has one of
// each. NaN when no pair can.
func ExpectedAUC(s, p []float64) float64 {
	// Lowest first: ties stay together whichever way they are broken.
	order := rankOrder(s)
	slices.Reverse(order)
	var num, qBelow, sumP, sumQ, self float64
	for lo := 0; lo < len(order); {
		hi := lo
		var pg, qg, sg float64
		for ; hi < len(order) && s[order[hi]] == s[order[lo]]; hi++ {
			v := p[order[hi]]
			pg, qg, sg = pg+v, qg+1-v, sg+v*(1-v)
		}
		// The tie group's rows against those below it, then within it.
		num += pg*qBelow + 0.5*(pg*qg-sg)
		qBelow += qg
		sumP, sumQ, self = sumP+pg, sumQ+qg, self+sg
		lo = hi
	}
	den := sumP*sumQ - self
	if den <= 0 {
		return math.NaN()
	}
	return num / den
}

// ExpectedPrecisionAtK is the mean probability of the k highest scores
// (ties by row, as PrecisionAtK breaks them): the share of them expected
// to have the outcome.
func ExpectedPrecisionAtK(s, p []float64, k int) float64 {
	if k <= 0 || len(s) == 0 {
		return math.NaN()
	}
	k = min(k, len(s))
	var sum float64
	for _, i := range rankOrder(s)[:k] {
		sum += p[i]
	}
	return sum / float64(k)
}
