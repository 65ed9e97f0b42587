package fairness

// TopKRow is one row of topk_curve.csv: a group under a capacity decision
// (or the audited `selected`), with the primary early-help disparities
// (recall@K and FOR, §4.6.6) and selection beside it (§4.7).
type TopKRow struct {
	Decision            string   `json:"decision_id"`
	K                   int64    `json:"k"`
	KthScore            *float64 `json:"kth_score"`
	TiesAtCutoff        int64    `json:"ties_at_cutoff"`
	TiesInside          int64    `json:"ties_inside"`
	Attribute           string   `json:"attribute"`
	Group               string   `json:"group"`
	N                   int64    `json:"n"`
	Selected            int64    `json:"selected"`
	SelectionRate       *float64 `json:"selection_rate"`
	ShareOfSelected     *float64 `json:"share_of_selected"`
	RepresentationRatio *float64 `json:"representation_ratio"`
	TPR                 *float64 `json:"tpr"`
	PPV                 *float64 `json:"ppv"`
	FOR                 *float64 `json:"for"`
	FNR                 *float64 `json:"fnr"`
	MeanExposure        *float64 `json:"mean_exposure"`
	SelectionRatio      *float64 `json:"selection_rate_ratio"`
	TPRRatio            *float64 `json:"tpr_ratio"`
	TPRVerdict          string   `json:"tpr_verdict"`
	FORRatio            *float64 `json:"for_ratio"`
	FORVerdict          string   `json:"for_verdict"`
}

func topKRows(dec *Decision, gm []GroupMetrics, ds []Disparity) []TopKRow {
	find := func(group, metric string) *Disparity {
		for i := range ds {
			if ds[i].Group == group && ds[i].Metric == metric {
				return &ds[i]
			}
		}
		return nil
	}
	out := make([]TopKRow, 0, len(gm))
	for i := range gm {
		g := &gm[i]
		row := TopKRow{Decision: dec.ID, K: dec.K, KthScore: dec.KthScore, TiesAtCutoff: dec.TiesAtCutoff,
			TiesInside: dec.TiesInside, Attribute: g.Attribute, Group: g.Group, N: g.N, Selected: g.Selected,
			SelectionRate: g.Rates["selection_rate"].Value, ShareOfSelected: g.Rates["share_of_selected"].Value,
			RepresentationRatio: g.RepresentationRatio, TPR: g.Rates["tpr"].Value, PPV: g.Rates["ppv"].Value,
			FOR: g.Rates["for"].Value, FNR: g.Rates["fnr"].Value, MeanExposure: g.MeanExposure}
		if d := find(g.Group, "selection_rate"); d != nil {
			row.SelectionRatio = d.Ratio
		}
		if d := find(g.Group, "tpr"); d != nil {
			row.TPRRatio, row.TPRVerdict = d.Ratio, d.Verdict
		}
		if d := find(g.Group, "for"); d != nil {
			row.FORRatio, row.FORVerdict = d.Ratio, d.Verdict
		}
		out = append(out, row)
	}
	return out
}
