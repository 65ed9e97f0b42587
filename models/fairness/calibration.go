package fairness

import (
	"math"
	"sort"
)

// CalibrationBin is one (group, bin) of calibration_bins.csv. Empty bins are
// omitted, as sklearn's calibration_curve does (§4.8).
type CalibrationBin struct {
	Attribute string  `json:"attribute"`
	Group     string  `json:"group"`
	Bin       int     `json:"bin"`
	Lower     float64 `json:"lower"`
	Upper     float64 `json:"upper"`
	N         int64   `json:"n"`
	MeanScore float64 `json:"mean_score"`
	Observed  Rate    `json:"observed_rate"`
}

// Calibration is one group of calibration_summary.csv. All of it is on
// labelled rows only: a row with no outcome has nothing to calibrate against
// (§4.4's rule for label metrics, applied to §4.8, which leaves it open).
type Calibration struct {
	Attribute string   `json:"attribute"`
	Group     string   `json:"group"`
	Known     bool     `json:"known"`
	N         int64    `json:"n_labelled"`
	ECE       *float64 `json:"ece"`
	Brier     *float64 `json:"brier"`
	MeanScore *float64 `json:"mean_score"`
	BaseRate  *float64 `json:"base_rate"`
	OERatio   *float64 `json:"oe_ratio"`
	CITL      *float64 `json:"citl"`
	AUC       *float64 `json:"auc"`
	Reason    string   `json:"reason,omitempty"`
	// OERatioToRef compares oe_ratio with the reference group's; reported
	// with no four-fifths verdict (§4.8).
	OERatioToRef *float64 `json:"oe_ratio_to_ref"`
	RefGroup     string   `json:"ref_group,omitempty"`
	// Bootstrap percentile intervals.
	ECELo   *float64 `json:"ece_lo,omitempty"`
	ECEHi   *float64 `json:"ece_hi,omitempty"`
	BrierLo *float64 `json:"brier_lo,omitempty"`
	BrierHi *float64 `json:"brier_hi,omitempty"`
	AUCLo   *float64 `json:"auc_lo,omitempty"`
	AUCHi   *float64 `json:"auc_hi,omitempty"`
}

// binOf returns the uniform right-closed bin of a score: bin b is
// (b/B, (b+1)/B] and bin 0 includes 0. Counting the inner edges below the
// score is numpy's searchsorted(bins[1:-1], p, side="left").
func binOf(edges []float64, s float64) int { return sort.SearchFloat64s(edges, s) }

func innerEdges(nb int) []float64 {
	e := make([]float64, nb-1)
	for i := range e {
		e[i] = float64(i+1) / float64(nb) // §4.8: float64(i)/float64(B)
	}
	return e
}

// calSums accumulates one group's labelled rows, weighted so the bootstrap
// reuses the same arithmetic; w nil means every weight is 1.
type calSums struct {
	binN, binS, binY []float64
	n, sumS, sumY    float64
	brier, aucNum    float64
	pos, neg         float64
}

func (c *calSums) reset(nb int) {
	if len(c.binN) != nb {
		c.binN, c.binS, c.binY = make([]float64, nb), make([]float64, nb), make([]float64, nb)
	}
	clear(c.binN)
	clear(c.binS)
	clear(c.binY)
	c.n, c.sumS, c.sumY, c.brier, c.aucNum, c.pos, c.neg = 0, 0, 0, 0, 0, 0, 0
}

// accumulate walks idx, which must be in ascending score order so tied
// scores are adjacent: the AUC counts each tied (pos, neg) pair as ½
// (Mann–Whitney, = roc_auc_score).
func (c *calSums) accumulate(t *table, idx []int32, w []int32) {
	negBelow := 0.0
	for i := 0; i < len(idx); {
		s := t.score[idx[i]]
		var pb, nb float64
		j := i
		for ; j < len(idx) && t.score[idx[j]] == s; j++ {
			r := idx[j]
			y := t.label[r]
			if y < 0 {
				continue
			}
			wt := 1.0
			if w != nil {
				wt = float64(w[j])
				if wt == 0 {
					continue
				}
			}
			yf := float64(y)
			b := t.bin[r]
			c.binN[b] += wt
			c.binS[b] += wt * s
			c.binY[b] += wt * yf
			c.brier += wt * (s - yf) * (s - yf)
			if y == 1 {
				pb += wt
			} else {
				nb += wt
			}
		}
		c.aucNum += pb*negBelow + 0.5*pb*nb
		negBelow += nb
		c.pos += pb
		c.neg += nb
		i = j
	}
	c.n = c.pos + c.neg
	for b := range c.binN {
		c.sumS += c.binS[b]
		c.sumY += c.binY[b]
	}
}

func (c *calSums) ece() float64 {
	e := 0.0
	for b := range c.binN {
		e += math.Abs(c.binY[b] - c.binS[b]) // (n_b/n)·|ȳ_b − s̄_b| summed, times n
	}
	return e / c.n
}

func (c *calSums) auc() (float64, bool) {
	if c.pos == 0 || c.neg == 0 {
		return 0, false
	}
	return c.aucNum / (c.pos * c.neg), true
}

// calibrate fills one group's summary and bins from unit weights.
func calibrate(t *table, attr, group string, known bool, idx []int32, nb int, z float64) (Calibration, []CalibrationBin) {
	var c calSums
	c.reset(nb)
	c.accumulate(t, idx, nil)
	out := Calibration{Attribute: attr, Group: group, Known: known, N: int64(c.n)}
	if c.n == 0 {
		out.Reason = ReasonZeroDenominator
		return out, nil
	}
	out.ECE, out.Brier = ptr(c.ece()), ptr(c.brier/c.n)
	ms, br := c.sumS/c.n, c.sumY/c.n
	out.MeanScore, out.BaseRate, out.CITL = ptr(ms), ptr(br), ptr(ms-br)
	if c.sumS > 0 {
		out.OERatio = ptr(c.sumY / c.sumS)
	}
	if a, ok := c.auc(); ok {
		out.AUC = ptr(a)
	} else {
		out.Reason = ReasonSingleClass
	}
	var bins []CalibrationBin
	for b := range c.binN {
		if c.binN[b] == 0 {
			continue
		}
		n := int64(c.binN[b])
		bins = append(bins, CalibrationBin{Attribute: attr, Group: group, Bin: b,
			Lower: float64(b) / float64(nb), Upper: float64(b+1) / float64(nb), N: n,
			MeanScore: c.binS[b] / c.binN[b], Observed: newRate(int64(c.binY[b]), n, z)})
	}
	return out, bins
}
