package fairness

import "math"

// Counts are the integer cells behind every rate of a group (§4.4).
type Counts struct {
	N        int64 `json:"n"`
	Selected int64 `json:"selected"`
	Labelled int64 `json:"n_labelled"`
	Pos      int64 `json:"pos"`
	Neg      int64 `json:"neg"`
	TP       int64 `json:"tp"`
	FP       int64 `json:"fp"`
	FN       int64 `json:"fn"`
	TN       int64 `json:"tn"`
	// The same cells against the household's outcome, which calibration,
	// precision, false-positive and false-omission rates use.
	HousePos int64   `json:"hh_pos"`
	HouseNeg int64   `json:"hh_neg"`
	HouseTP  int64   `json:"hh_tp"`
	HouseFP  int64   `json:"hh_fp"`
	HouseFN  int64   `json:"hh_fn"`
	HouseTN  int64   `json:"hh_tn"`
	SumScore float64 `json:"sum_score"`
	// Children and Households are distinct; N counts child-dates.
	Children   int64 `json:"children"`
	Households int64 `json:"households"`
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
	switch {
	case r.HouseLabel == 1 && sel:
		c.HouseTP++
	case r.HouseLabel == 1:
		c.HouseFN++
	case r.HouseLabel == 0 && sel:
		c.HouseFP++
	case r.HouseLabel == 0:
		c.HouseTN++
	}
}

func (c *Counts) finish() {
	c.Pos, c.Neg = c.TP+c.FN, c.FP+c.TN
	c.Labelled = c.Pos + c.Neg
	c.HousePos, c.HouseNeg = c.HouseTP+c.HouseFN, c.HouseFP+c.HouseTN
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
	// Selection, prevalence and recall are the child's; the rates that
	// judge the household's score are the household's (household.go).
	ppL, pnL := c.HouseTP+c.HouseFP, c.HouseFN+c.HouseTN
	g.Rates = map[string]Rate{
		"share_population":  newRate(c.N, nAll, z),
		"selection_rate":    newRate(c.Selected, c.N, z),
		"share_of_selected": newRate(c.Selected, k, z),
		"prevalence":        newRate(c.Pos, c.Labelled, z),
		"tpr":               newRate(c.TP, c.Pos, z),
		"fnr":               newRate(c.FN, c.Pos, z),
		"fpr":               newRate(c.HouseFP, c.HouseNeg, z),
		"tnr":               newRate(c.HouseTN, c.HouseNeg, z),
		"ppv":               newRate(c.HouseTP, ppL, z),
		"fdr":               newRate(c.HouseFP, ppL, z),
		"npv":               newRate(c.HouseTN, pnL, z),
		"for":               newRate(c.HouseFN, pnL, z),
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
func groupMetrics(rows []Row, u *units, rank []int32, dec *Decision, attr *Attribute, gidx []int32, all *GroupMetrics, z float64) []GroupMetrics {
	out := make([]GroupMetrics, len(attr.Groups))
	for gi := range out {
		out[gi] = GroupMetrics{Decision: dec.ID, Attribute: attr.Name, Group: attr.Groups[gi], Known: attr.Known[gi]}
	}
	for i := range rows {
		out[gidx[i]].add(&rows[i], dec.sel[i], int(rank[i]))
	}
	dist := countDistinct(rows, u, dec.sel, gidx, len(out))
	for gi := range out {
		out[gi].fill(int64(len(rows)), dec.K, all.Rates["selection_rate"].Value, z)
		out[gi].setDistinct(dist[gi], all.Rates["share_of_selected"].Households)
	}
	return out
}

func overallMetrics(rows []Row, u *units, rank []int32, dec *Decision, z float64) GroupMetrics {
	all := GroupMetrics{Decision: dec.ID, Attribute: "overall", Group: "overall"}
	for i := range rows {
		all.add(&rows[i], dec.sel[i], int(rank[i]))
	}
	all.finish()
	sr := newRate(all.Selected, all.N, z) // needed before fill for the representation ratio
	all.fill(int64(len(rows)), dec.K, sr.Value, z)
	d := countDistinct(rows, u, dec.sel, nil, 1)[0]
	all.setDistinct(d, d.houses[6])
	return all
}

// setDistinct records the distinct children and households; selHouses is
// the decision's selected households overall, share_of_selected's
// denominator.
func (g *GroupMetrics) setDistinct(d distinct, selHouses int64) {
	g.Children, g.Households = d.children, d.houses[0]
	for m, b := range rateBits {
		r := g.Rates[m]
		r.Households = d.houses[b]
		if m == "share_of_selected" {
			r.Households = selHouses
		}
		g.Rates[m] = r
	}
}
