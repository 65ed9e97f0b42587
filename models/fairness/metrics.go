package fairness

import "math"

// Counts are the integer cells behind every rate of a group (§4.4).
type Counts struct {
	N        int64   `json:"n"`
	Selected int64   `json:"selected"`
	Labelled int64   `json:"n_labelled"`
	Pos      int64   `json:"pos"`
	Neg      int64   `json:"neg"`
	TP       int64   `json:"tp"`
	FP       int64   `json:"fp"`
	FN       int64   `json:"fn"`
	TN       int64   `json:"tn"`
	SumScore float64 `json:"sum_score"`
	// exposure is Σ 1/log2(1+rank) over selected rows (§4.7).
	exposure float64
}

func (c *Counts) add(r *Row, sel bool, rank int) {
	c.N++
	c.SumScore += r.Score
	if sel {
		c.Selected++
		c.exposure += 1 / math.Log2(1+float64(rank))
	}
	switch {
	case r.Label == 1 && sel:
		c.TP++
	case r.Label == 1:
		c.FN++
	case r.Label == 0 && sel:
		c.FP++
	case r.Label == 0:
		c.TN++
	}
}

func (c *Counts) finish() {
	c.Pos, c.Neg = c.TP+c.FN, c.FP+c.TN
	c.Labelled = c.Pos + c.Neg
}

// RateMetrics are the proportions of §4.4 in output order; DisparityMetrics
// the subset §4.6 compares (share_of_selected and tnr added because Example A
// gives their verdicts).
var (
	RateMetrics = []string{"share_population", "selection_rate", "share_of_selected", "prevalence",
		"tpr", "fnr", "fpr", "tnr", "ppv", "fdr", "npv", "for", "accuracy", "fn_per_group_size"}
	DisparityMetrics = []string{"selection_rate", "share_of_selected", "tpr", "fnr", "fpr", "tnr",
		"ppv", "fdr", "for", "npv", "prevalence"}
)

// GroupMetrics is one row of group_metrics.csv: a group under a decision.
type GroupMetrics struct {
	Decision  string `json:"decision_id"`
	Attribute string `json:"attribute"`
	Group     string `json:"group"`
	Known     bool   `json:"known"`
	Counts
	Rates map[string]Rate `json:"rates"`
	// RepresentationRatio = share_of_selected / share_population; its
	// small-n denominator is n (§4.4).
	RepresentationRatio *float64 `json:"representation_ratio"`
	RepresentationRel   string   `json:"representation_ratio_rel"`
	MeanScore           *float64 `json:"mean_score"`
	MeanExposure        *float64 `json:"mean_exposure"`
}

// fill computes every rate from the counts; nAll and k are the overall row
// count and the decision's K.
func (g *GroupMetrics) fill(nAll, k int64, overallSelRate *float64, z float64) {
	c := &g.Counts
	c.finish()
	ppL, pnL := c.TP+c.FP, c.FN+c.TN
	g.Rates = map[string]Rate{
		"share_population":  newRate(c.N, nAll, z),
		"selection_rate":    newRate(c.Selected, c.N, z),
		"share_of_selected": newRate(c.Selected, k, z),
		"prevalence":        newRate(c.Pos, c.Labelled, z),
		"tpr":               newRate(c.TP, c.Pos, z),
		"fnr":               newRate(c.FN, c.Pos, z),
		"fpr":               newRate(c.FP, c.Neg, z),
		"tnr":               newRate(c.TN, c.Neg, z),
		"ppv":               newRate(c.TP, ppL, z),
		"fdr":               newRate(c.FP, ppL, z),
		"npv":               newRate(c.TN, pnL, z),
		"for":               newRate(c.FN, pnL, z),
		"accuracy":          newRate(c.TP+c.TN, c.Labelled, z),
		"fn_per_group_size": newRate(c.FN, c.Labelled, z),
	}
	g.RepresentationRel = reliability(c.N)
	if c.N > 0 {
		g.MeanScore = ptr(c.SumScore / float64(c.N))
		g.MeanExposure = ptr(c.exposure / float64(c.N))
		if k > 0 && overallSelRate != nil && *overallSelRate > 0 {
			// Exact form PP·n_all / (K·n) rather than a ratio of two floats.
			g.RepresentationRatio = ptr(float64(c.Selected) * float64(nAll) / (float64(k) * float64(c.N)))
		}
	}
}

// groupMetrics counts one decision by one attribute; all is the decision's
// overall row.
func groupMetrics(rows []Row, rank []int32, dec *Decision, attr *Attribute, gidx []int32, all *GroupMetrics, z float64) []GroupMetrics {
	out := make([]GroupMetrics, len(attr.Groups))
	for gi := range out {
		out[gi] = GroupMetrics{Decision: dec.ID, Attribute: attr.Name, Group: attr.Groups[gi], Known: attr.Known[gi]}
	}
	for i := range rows {
		out[gidx[i]].add(&rows[i], dec.sel[i], int(rank[i]))
	}
	for gi := range out {
		out[gi].fill(int64(len(rows)), dec.K, all.Rates["selection_rate"].Value, z)
	}
	return out
}

func overallMetrics(rows []Row, rank []int32, dec *Decision, z float64) GroupMetrics {
	all := GroupMetrics{Decision: dec.ID, Attribute: "overall", Group: "overall"}
	for i := range rows {
		all.add(&rows[i], dec.sel[i], int(rank[i]))
	}
	all.finish()
	sr := newRate(all.Selected, all.N, z) // needed before fill for the representation ratio
	all.fill(int64(len(rows)), dec.K, sr.Value, z)
	return all
}
