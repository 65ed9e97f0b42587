package fairness

import "math"

// Summary is one row of summary.csv: Fairlearn-style aggregates over the
// known groups whose metric is defined (§4.6.5). Metric "equalized_odds"
// carries equalized_odds_difference in DiffBetween and the ratio in
// RatioBetween.
type Summary struct {
	Decision       string   `json:"decision_id"`
	Attribute      string   `json:"attribute"`
	Metric         string   `json:"metric"`
	GroupMin       *float64 `json:"group_min"`
	GroupMax       *float64 `json:"group_max"`
	ArgMin         string   `json:"argmin"`
	ArgMax         string   `json:"argmax"`
	DiffBetween    *float64 `json:"diff_between"`
	RatioBetween   *float64 `json:"ratio_between"`
	DiffToOverall  *float64 `json:"diff_to_overall"`
	RatioToOverall *float64 `json:"ratio_to_overall"`
	NEligible      int      `json:"n_groups_eligible"`
	Reason         string   `json:"reason,omitempty"`
	// Bootstrap percentile intervals of DiffBetween and RatioBetween, for the
	// metrics the bootstrap covers (§4.5).
	DiffLo  *float64 `json:"diff_between_lo,omitempty"`
	DiffHi  *float64 `json:"diff_between_hi,omitempty"`
	RatioLo *float64 `json:"ratio_between_lo,omitempty"`
	RatioHi *float64 `json:"ratio_between_hi,omitempty"`
}

// SummaryMetrics are summarised per (decision, attribute).
var SummaryMetrics = append(append([]string(nil), DisparityMetrics...), "accuracy")

func summaries(groups []GroupMetrics, all *GroupMetrics) []Summary {
	var out []Summary
	byMetric := map[string]Summary{}
	for _, m := range SummaryMetrics {
		vals, names := make([]float64, 0, len(groups)), make([]string, 0, len(groups))
		for i := range groups {
			if v := groups[i].Rates[m].Value; groups[i].Known && v != nil {
				vals, names = append(vals, *v), append(names, groups[i].Group)
			}
		}
		s := summarise(vals, names, all.Rates[m].Value)
		s.Decision, s.Attribute, s.Metric = all.Decision, groups[0].Attribute, m
		byMetric[m] = s
		out = append(out, s)
	}
	eo := Summary{Decision: all.Decision, Attribute: groups[0].Attribute, Metric: "equalized_odds"}
	t, f := byMetric["tpr"], byMetric["fpr"]
	if t.DiffBetween != nil && f.DiffBetween != nil {
		eo.DiffBetween = ptr(math.Max(*t.DiffBetween, *f.DiffBetween))
		eo.NEligible = min(t.NEligible, f.NEligible)
		if t.RatioBetween != nil && f.RatioBetween != nil {
			eo.RatioBetween = ptr(math.Min(*t.RatioBetween, *f.RatioBetween))
		}
	} else {
		eo.Reason = ReasonUndefined
	}
	return append(out, eo)
}

// summarise aggregates defined values (canonical order, so argmin/argmax
// ties go to the first group). overall may be nil.
func summarise(vals []float64, names []string, overall *float64) Summary {
	s := Summary{NEligible: len(vals)}
	if len(vals) == 0 {
		s.Reason = ReasonUndefined
		return s
	}
	lo, hi := 0, 0
	for i, v := range vals {
		if v < vals[lo] {
			lo = i
		}
		if v > vals[hi] {
			hi = i
		}
	}
	s.GroupMin, s.GroupMax, s.ArgMin, s.ArgMax = ptr(vals[lo]), ptr(vals[hi]), names[lo], names[hi]
	s.DiffBetween = ptr(vals[hi] - vals[lo])
	if vals[hi] > 0 {
		s.RatioBetween = ptr(vals[lo] / vals[hi])
	} else {
		s.Reason = ReasonBothZero
	}
	if overall == nil {
		return s
	}
	dmax, rmin := 0.0, math.Inf(1)
	for _, v := range vals {
		dmax = math.Max(dmax, math.Abs(v-*overall))
		if *overall > 0 {
			r := v / *overall
			if r > 0 {
				r = math.Min(r, 1/r)
			}
			rmin = math.Min(rmin, r)
		}
	}
	s.DiffToOverall = ptr(dmax)
	if *overall > 0 {
		s.RatioToOverall = ptr(rmin)
	}
	return s
}
