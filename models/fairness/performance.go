package fairness

// Performance is a model-card entry (§4.10: the Model Card Toolkit shape).
type Performance struct {
	Type     string    `json:"type"`
	Value    *float64  `json:"value"`
	Slice    string    `json:"slice"`
	CI       *Interval `json:"confidence_interval,omitempty"`
	Decision string    `json:"decision,omitempty"`
}

// Interval is a confidence interval in the model-card shape.
type Interval struct {
	Lower *float64 `json:"lower_bound"`
	Upper *float64 `json:"upper_bound"`
}

func interval(lo, hi *float64) *Interval {
	if lo == nil || hi == nil {
		return nil
	}
	return &Interval{Lower: lo, Upper: hi}
}

// performance lists the headline numbers per slice: calibration and AUC
// (bootstrap CIs) and the primary early-help rates (Wilson CIs).
func (r *Result) performance() []Performance {
	var out []Performance
	for _, c := range r.Calibration {
		slice := c.Attribute + "=" + c.Group
		out = append(out,
			Performance{Type: "auc", Value: c.AUC, Slice: slice, CI: interval(c.AUCLo, c.AUCHi)},
			Performance{Type: "ece", Value: c.ECE, Slice: slice, CI: interval(c.ECELo, c.ECEHi)},
			Performance{Type: "brier", Value: c.Brier, Slice: slice, CI: interval(c.BrierLo, c.BrierHi)})
	}
	add := func(g *GroupMetrics) {
		for _, m := range []string{"selection_rate", "tpr", "for", "ppv"} {
			rt := g.Rates[m]
			out = append(out, Performance{Type: m, Value: rt.Value, Slice: g.Attribute + "=" + g.Group,
				CI: interval(rt.Lo, rt.Hi), Decision: g.Decision})
		}
	}
	for i := range r.Overall {
		add(&r.Overall[i])
	}
	for i := range r.Groups {
		add(&r.Groups[i])
	}
	return out
}
