package fairness

import (
	"math"
	"slices"
)

// groupCounts are one group's resampled cells under one decision, enough
// for every disparity metric: child-level selection, prevalence and
// recall, household-level precision, FPR and FOR.
type groupCounts struct {
	all, clab, cpos, hpos, hneg float64
	sel, ctp, htp, hfp          float64
}

// counts copies the finished resample's cells, one per decision.
func (a *bootAcc) counts(out []groupCounts) {
	for d := range out {
		out[d] = groupCounts{all: a.all, clab: a.clab, cpos: a.cpos, hpos: a.pos, hneg: a.neg,
			sel: a.sel[d], ctp: a.ctp[d], htp: a.tp[d], hfp: a.fp[d]}
	}
}

// metric returns DisparityMetrics[m] of the counts; k is the decision's
// resampled K for share_of_selected. NaN when undefined.
func (c *groupCounts) metric(m int, k float64) float64 {
	hfn, htn := c.hpos-c.htp, c.hneg-c.hfp
	switch DisparityMetrics[m] {
	case "selection_rate":
		return ratio(c.sel, c.all)
	case "share_of_selected":
		return ratio(c.sel, k)
	case "tpr":
		return ratio(c.ctp, c.cpos)
	case "fnr":
		return ratio(c.cpos-c.ctp, c.cpos)
	case "fpr":
		return ratio(c.hfp, c.hneg)
	case "tnr":
		return ratio(htn, c.hneg)
	case "ppv":
		return ratio(c.htp, c.htp+c.hfp)
	case "fdr":
		return ratio(c.hfp, c.htp+c.hfp)
	case "for":
		return ratio(hfn, hfn+htn)
	case "npv":
		return ratio(htn, hfn+htn)
	case "prevalence":
		return ratio(c.cpos, c.clab)
	}
	return math.NaN()
}

// dispBoot holds each disparity's resampled ratio to its reference.
// vals[si][(g·ndecs+d)·nmetrics+m][b] is stratum si's group g under
// decision d; ref[si] is the reference group's index, or -1 for the
// overall row (the stratum's groups summed).
type dispBoot struct {
	ndecs int
	ref   []int
	vals  [][][]float64
}

func newDispBoot(res *Result, strata []stratum, attrs []Attribute, decs []*Decision, B int) *dispBoot {
	db := &dispBoot{ndecs: len(decs), ref: make([]int, len(strata)), vals: make([][][]float64, len(strata))}
	nm := len(DisparityMetrics)
	for si := 1; si < len(strata); si++ {
		a := &attrs[si-1]
		db.ref[si] = -2 // no reference: nothing to store
		for _, r := range res.References {
			if r.Attribute != a.Name {
				continue
			}
			switch {
			case r.Group == "overall":
				db.ref[si] = -1
			case r.Group != "":
				db.ref[si] = a.groupIndex(r.Group)
			}
		}
		if db.ref[si] == -2 {
			continue
		}
		ng := len(strata[si].starts) - 1
		db.vals[si] = make([][]float64, ng*len(decs)*nm)
		for g := 0; g < ng; g++ {
			if !a.Known[g] || g == db.ref[si] {
				continue
			}
			for j := 0; j < len(decs)*nm; j++ {
				db.vals[si][g*len(decs)*nm+j] = make([]float64, B)
			}
		}
	}
	return db
}

// store computes resample b's ratios for stratum si from its groups'
// counts (counts[g·ndecs+d]). Each worker writes its own b.
func (db *dispBoot) store(si int, counts []groupCounts, b int) {
	vals := db.vals[si]
	if vals == nil {
		return
	}
	nm := len(DisparityMetrics)
	ng := len(counts) / db.ndecs
	for d := 0; d < db.ndecs; d++ {
		var tot groupCounts
		for g := 0; g < ng; g++ {
			c := &counts[g*db.ndecs+d]
			tot.all += c.all
			tot.clab += c.clab
			tot.cpos += c.cpos
			tot.hpos += c.hpos
			tot.hneg += c.hneg
			tot.sel += c.sel
			tot.ctp += c.ctp
			tot.htp += c.htp
			tot.hfp += c.hfp
		}
		ref := &tot
		if db.ref[si] >= 0 {
			ref = &counts[db.ref[si]*db.ndecs+d]
		}
		for g := 0; g < ng; g++ {
			base := (g*db.ndecs + d) * nm
			if vals[base] == nil {
				continue
			}
			c := &counts[g*db.ndecs+d]
			for m := 0; m < nm; m++ {
				r := ref.metric(m, tot.sel)
				v := math.NaN()
				if r > 0 {
					v = c.metric(m, tot.sel) / r
				}
				vals[base+m][b] = v
			}
		}
	}
}

// intervals sets each disparity's bootstrap ratio interval.
func (db *dispBoot) intervals(res *Result, level float64) {
	nm := len(DisparityMetrics)
	for i := range res.Disparities {
		d := &res.Disparities[i]
		dec := slices.IndexFunc(res.Decisions, func(x *Decision) bool { return x.ID == d.Decision })
		k := slices.IndexFunc(res.attrs, func(a Attribute) bool { return a.Name == d.Attribute })
		m := slices.Index(DisparityMetrics, d.Metric)
		if dec < 0 || k < 0 || m < 0 || db.vals[k+1] == nil || d.Ratio == nil {
			continue
		}
		g := res.attrs[k].groupIndex(d.Group)
		if v := db.vals[k+1][(g*db.ndecs+dec)*nm+m]; v != nil {
			d.BootLo, d.BootHi = percentile(v, level)
		}
	}
}
