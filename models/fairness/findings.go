package fairness

import (
	"math"
	"sort"
)

// Findings rule (issue 17). A ratio outside the tolerance band on its point
// estimate alone was reported as something to look into, and most such
// comparisons were noise: small groups, pooled dates, intervals spanning
// parity. A comparison is now classed by its interval against the band
// [τ, 1/τ]:
const (
	// ClassFinding: the whole interval lies outside the band.
	ClassFinding = "finding"
	// ClassInconclusive: the interval crosses a band edge.
	ClassInconclusive = "inconclusive"
	// ClassWithin: the point and the whole interval lie inside the band.
	ClassWithin = "within"
	// ClassInsufficient: too few child-dates or households to judge.
	ClassInsufficient = "insufficient"
	// ClassUndefined: no ratio (a zero or undefined rate).
	ClassUndefined = "undefined"
)

// PrimaryMetrics are the comparisons the headline, the gauge and the alert
// judge: recall, whether children who go on to need statutory help are
// found at the same rate in every group (equal opportunity, §4.6.6).
// §4.6.6 also names the false-omission rate, but at a capacity of a few
// dozen families the children passed over are nearly all of a group, so
// its FOR is its base rate: on ten synthetic councils without any bias,
// the two FOR "findings" were a group's prevalence ratio again (2.16
// against 2.06, 2.49 against 2.53). FOR, precision, FPR and selection are
// reported beside recall and classed the same way, but not alerted on;
// calibration is reported with intervals and not judged, because with
// different base rates it cannot hold together with equal error rates.
var PrimaryMetrics = []string{"tpr"}

// IsPrimary says whether a metric is one of PrimaryMetrics.
func IsPrimary(m string) bool {
	for _, p := range PrimaryMetrics {
		if p == m {
			return true
		}
	}
	return false
}

// judge sets the interval a comparison is classed on: the household
// bootstrap's, or Katz's when the bootstrap did not run. A zero rate has
// only zero resamples and no Katz interval, so its upper bound is the
// Wilson bound of 0 in as many trials as it has households, over the
// reference's rate: conservative, since a household counts once.
func (d *Disparity) judge(z float64) {
	d.JudgedLo, d.JudgedHi = d.RatioLo, d.RatioHi
	if d.BootLo != nil && d.BootHi != nil {
		d.JudgedLo, d.JudgedHi = d.BootLo, d.BootHi
	}
	if d.Ratio != nil && *d.Ratio == 0 && d.RefValue != nil && *d.RefValue > 0 && d.Households > 0 {
		_, hi := wilson(0, d.Households, z)
		d.JudgedLo, d.JudgedHi = ptr(0), ptr(hi / *d.RefValue)
	}
}

func (d *Disparity) interval() (lo, hi *float64) { return d.JudgedLo, d.JudgedHi }

// classify sets every comparison's class, its one-sided p-value against
// the nearer band edge, and the Benjamini–Hochberg adjusted version over
// each decision's judged comparisons.
func classify(ds []Disparity, cfg *Config) {
	tau := float64(cfg.TauNum) / float64(cfg.TauDen)
	alpha := (1 - cfg.CILevel) / 2 // one side of the two-sided interval
	z := cfg.z()
	for i := range ds {
		d := &ds[i]
		d.judge(z)
		d.Finding, d.P, d.PBH, d.FindingBH = classOf(d, tau), nil, nil, ""
		if d.Finding == ClassUndefined || d.Finding == ClassInsufficient {
			d.FindingBH = d.Finding
			continue
		}
		d.P = bandP(d, tau, z)
	}
	// BH over each decision's comparisons with a p-value, informational
	// prevalence aside.
	byDec := map[string][]int{}
	for i := range ds {
		if ds[i].P != nil && !ds[i].Informational {
			byDec[ds[i].Decision] = append(byDec[ds[i].Decision], i)
		}
	}
	for _, idx := range byDec {
		sort.SliceStable(idx, func(a, b int) bool { return *ds[idx[a]].P < *ds[idx[b]].P })
		m := float64(len(idx))
		adj := 1.0
		for r := len(idx) - 1; r >= 0; r-- {
			adj = math.Min(adj, *ds[idx[r]].P*m/float64(r+1))
			ds[idx[r]].PBH = ptr(adj)
		}
		for _, i := range idx {
			d := &ds[i]
			switch {
			case *d.PBH < alpha:
				d.FindingBH = ClassFinding
			case d.Finding == ClassWithin:
				d.FindingBH = ClassWithin
			default:
				d.FindingBH = ClassInconclusive
			}
		}
	}
}

func classOf(d *Disparity, tau float64) string {
	switch {
	case d.Verdict == VerdictUndefined || d.Ratio == nil:
		return ClassUndefined
	case d.Verdict == VerdictInsufficient:
		return ClassInsufficient
	}
	lo, hi := d.interval()
	switch {
	case lo == nil || hi == nil:
		return ClassInconclusive
	case *hi < tau || *lo > 1/tau:
		return ClassFinding
	case *lo >= tau && *hi <= 1/tau && d.Verdict == VerdictWithin:
		return ClassWithin
	}
	return ClassInconclusive
}

// bandP is the one-sided p-value that the ratio lies beyond the band edge
// on its side, on the log scale with the standard error read from the
// interval's half on the band's side. It is below (1−level)/2 exactly
// when that half of the interval is clear of the band, so the unadjusted
// rule and ClassFinding agree. A point inside the band has p = 1.
func bandP(d *Disparity, tau, z float64) *float64 {
	lo, hi := d.interval()
	if lo == nil || hi == nil {
		return ptr(1) // no interval: never a finding
	}
	r := *d.Ratio
	var dist, se float64
	switch {
	case r < tau && r > 0:
		dist, se = math.Log(tau)-math.Log(r), (math.Log(*hi)-math.Log(r))/z
	case r > 1/tau && *lo > 0:
		dist, se = math.Log(r)-math.Log(1/tau), (math.Log(r)-math.Log(*lo))/z
	case r == 0 || (r > 1/tau && *lo <= 0):
		// No log scale: the interval's far edge decides alone.
		if (r < tau && *hi < tau) || (r > 1/tau && *lo > 1/tau) {
			return ptr(0)
		}
		return ptr(1)
	default:
		return ptr(1)
	}
	if se <= 0 {
		return ptr(0)
	}
	return ptr(1 - normCDF(dist/se))
}

func normCDF(x float64) float64 { return 0.5 * math.Erfc(-x/math.Sqrt2) }
