package fairness

import (
	"math/big"
	"strings"
)

// Verdicts of §4.6.4. "outside_tolerance" means "investigate", never
// "unfair" (§6 pitfall 9).
const (
	VerdictUndefined    = "undefined"
	VerdictInsufficient = "insufficient_data"
	VerdictWithin       = "within_tolerance"
	VerdictOutside      = "outside_tolerance"
)

// Disparity is one row of disparities.csv.
type Disparity struct {
	Decision         string   `json:"decision_id"`
	Attribute        string   `json:"attribute"`
	Group            string   `json:"group"`
	Metric           string   `json:"metric"`
	Value            *float64 `json:"value"`
	RefGroup         string   `json:"ref_group"`
	RefValue         *float64 `json:"ref_value"`
	Ratio            *float64 `json:"ratio"`
	RatioLo          *float64 `json:"ratio_lo"`
	RatioHi          *float64 `json:"ratio_hi"`
	Difference       *float64 `json:"difference"`
	DiffLo           *float64 `json:"diff_lo"`
	DiffHi           *float64 `json:"diff_hi"`
	ToOverallRatio   *float64 `json:"to_overall_ratio"`
	ToOverallDiff    *float64 `json:"to_overall_diff"`
	Verdict          string   `json:"verdict"`
	Reason           string   `json:"reason,omitempty"`
	CIExcludesParity bool     `json:"ci_excludes_parity"`
	// BootLo and BootHi are the ratio's percentile interval from the
	// household bootstrap; Finding judges it (findings.go).
	// Households and RefHouseholds are the distinct households behind the
	// two denominators.
	Households    int64    `json:"households"`
	RefHouseholds int64    `json:"ref_households"`
	BootLo        *float64 `json:"ratio_boot_lo"`
	BootHi        *float64 `json:"ratio_boot_hi"`
	// JudgedLo and JudgedHi are the interval the class judges: the
	// bootstrap's, else Katz's; for a zero rate, whose resamples are all
	// zero, the Wilson upper bound over its households.
	JudgedLo  *float64 `json:"judged_lo"`
	JudgedHi  *float64 `json:"judged_hi"`
	Finding   string   `json:"finding"`
	P         *float64 `json:"p_value"`
	PBH       *float64 `json:"p_bh"`
	FindingBH string   `json:"finding_bh"`
	Direction string   `json:"direction,omitempty"`
	// Informational marks prevalence, which §4.6 compares but does not judge.
	Informational bool `json:"informational,omitempty"`
}

// reference picks the comparison row for an attribute (§4.6.1): the largest
// known group by n with ties to canonical order, a predefined group, or the
// overall row. It returns nil when no known group has any rows.
func reference(spec string, groups []GroupMetrics, all *GroupMetrics) *GroupMetrics {
	switch spec {
	case "overall":
		return all
	case "", "largest":
		var best *GroupMetrics
		for i := range groups {
			g := &groups[i]
			if g.Known && g.N > 0 && (best == nil || g.N > best.N) {
				best = g
			}
		}
		return best
	}
	name := strings.TrimPrefix(spec, "predefined:")
	for i := range groups {
		if groups[i].Group == name {
			return &groups[i]
		}
	}
	return nil
}

// ReasonRefFewEvents: the reference's numerator is too small for a ratio
// against it to mean anything (a ratio of 245 against a cell with no true
// positive, issue 17).
const ReasonRefFewEvents = "ref_few_events"

// eventfulReference is an intersection's reference: the largest known
// cell with at least minPos referred children, so recall and the other
// label metrics have events to compare with; the largest cell when none
// has.
func eventfulReference(groups []GroupMetrics, minPos int64) *GroupMetrics {
	var best *GroupMetrics
	for i := range groups {
		g := &groups[i]
		if g.Known && g.Pos >= minPos && (best == nil || g.N > best.N) {
			best = g
		}
	}
	if best == nil {
		return reference("largest", groups, nil)
	}
	return best
}

// dropFewEvents withholds an intersection's ratios whose reference rate
// rests on fewer than minEvents events.
func dropFewEvents(ds []Disparity, ref *GroupMetrics, minEvents int64) {
	if ref == nil {
		return
	}
	for i := range ds {
		d := &ds[i]
		if r := ref.Rates[d.Metric]; d.Ratio != nil && r.Num < minEvents {
			d.Ratio, d.RatioLo, d.RatioHi, d.CIExcludesParity = nil, nil, nil, false
			d.Verdict, d.Reason = VerdictUndefined, ReasonRefFewEvents
		}
	}
}

// disparities compares every known group with the reference on each metric.
func disparities(groups []GroupMetrics, ref, all *GroupMetrics, cfg *Config) []Disparity {
	var out []Disparity
	z := cfg.z()
	for i := range groups {
		g := &groups[i]
		if !g.Known {
			continue // UNKNOWN is reported in group_metrics but never compared (§4.2)
		}
		for _, m := range DisparityMetrics {
			d := compare(g.Rates[m], ref, m, cfg, z)
			d.Decision, d.Attribute, d.Group, d.Metric = g.Decision, g.Attribute, g.Group, m
			d.Informational = m == "prevalence"
			o := all.Rates[m]
			if d.Value != nil && o.Value != nil {
				d.ToOverallDiff = ptr(*d.Value - *o.Value)
				if *o.Value > 0 {
					d.ToOverallRatio = ptr(*d.Value / *o.Value)
				}
			}
			out = append(out, d)
		}
	}
	return out
}

// compare applies §4.6.2–4 to one group rate against the reference row.
func compare(g Rate, refRow *GroupMetrics, metric string, cfg *Config, z float64) Disparity {
	d := Disparity{Value: g.Value, Verdict: VerdictUndefined}
	if refRow == nil {
		d.Reason = ReasonNoReference
		return d
	}
	ref := refRow.Rates[metric]
	d.RefGroup, d.RefValue = refRow.Group, ref.Value
	d.Households, d.RefHouseholds = g.Households, ref.Households
	if g.Value == nil || ref.Value == nil {
		d.Reason = ReasonUndefined
		return d
	}
	a, b, c, dd := g.Num, g.Den, ref.Num, ref.Den
	d.Difference = ptr(*g.Value - *ref.Value)
	lo, hi := newcombe(g, ref)
	d.DiffLo, d.DiffHi = ptr(lo), ptr(hi)
	ad, bc := mul(a, dd), mul(b, c)
	switch ad.Cmp(bc) {
	case 1:
		d.Direction = "higher"
	case -1:
		d.Direction = "lower"
	default:
		d.Direction = "equal"
	}
	if c == 0 {
		d.Reason = ReasonRefZero
		if a == 0 {
			d.Reason = ReasonBothZero
		}
		return d
	}
	d.Ratio = ptr(float64(a) * float64(dd) / (float64(b) * float64(c)))
	if klo, khi, ok := katz(a, b, c, dd, z, cfg.Haldane); ok {
		d.RatioLo, d.RatioHi = ptr(klo), ptr(khi)
		d.CIExcludesParity = khi < 1 || klo > 1
	} else {
		d.Reason = ReasonZeroCount
	}
	switch {
	case b < int64(cfg.MinDenVerdict) || dd < int64(cfg.MinDenVerdict) ||
		g.Households < int64(cfg.MinDenVerdict) || ref.Households < int64(cfg.MinDenVerdict):
		// Child-dates of a few households recurring over pooled dates
		// are not evidence about many families.
		d.Verdict = VerdictInsufficient
	case withinTolerance(a, b, c, dd, cfg.TauNum, cfg.TauDen):
		d.Verdict = VerdictWithin
	default:
		d.Verdict = VerdictOutside
	}
	return d
}

// withinTolerance is the exact test of §4.6.3: for ratio (a·d)/(b·c) and
// τ = p/q, within ⇔ p·bc ≤ q·ad and p·ad ≤ q·bc. Inclusive at both ends, and
// in math/big so no product can overflow.
func withinTolerance(a, b, c, d, p, q int64) bool {
	ad, bc := mul(a, d), mul(b, c)
	P, Q := big.NewInt(p), big.NewInt(q)
	return new(big.Int).Mul(P, bc).Cmp(new(big.Int).Mul(Q, ad)) <= 0 &&
		new(big.Int).Mul(P, ad).Cmp(new(big.Int).Mul(Q, bc)) <= 0
}

func mul(x, y int64) *big.Int { return new(big.Int).Mul(big.NewInt(x), big.NewInt(y)) }
