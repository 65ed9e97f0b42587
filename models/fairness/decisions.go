package fairness

import (
	"earlyhelp/pipeline/atomicfile"
	"earlyhelp/pipeline/contract"
	"earlyhelp/pipeline/rundir"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
)

// DecisionRow is one listed household in the audit of the navigators'
// decisions: what happens after the list (offers made, declined, turned
// down) is where disparity hides.
type DecisionRow struct {
	Household   string // pseudonym
	Ethnicity5  string // "" → UNKNOWN
	IMDQuintile string // Q1..Q5; "" → UNKNOWN
	Locality    string // "" → UNKNOWN
	// Kind is the household's latest decision, "" when none is recorded;
	// ReasonCategory is a not_appropriate decision's category.
	Kind, ReasonCategory string
}

// Decision metrics: the share of a group's listed households with any
// decision, and with each kind (not_appropriate also by reason category,
// as "not_appropriate:<category>").
var decisionKinds = []string{"offer_made", "offer_accepted", "offer_declined", "not_appropriate", "already_supported", "unable_to_contact"}

// DecisionCell is one group's share on one metric, against the reference
// group (the largest), with the findings rule.
type DecisionCell struct {
	Attribute, Group string
	Metric           string
	Households       int // the group's listed households
	Count            int
	Share            float64
	RefGroup         string
	Ratio            float64 // NaN when it cannot be had
	RatioLo, RatioHi float64
	Finding          string // finding, inconclusive, within or insufficient
}

// decisionAttributes are audited in this order.
var decisionAttributes = []string{"ethnicity5", "imd_quintile", contract.ColLocality}

// AuditDecisions compares, for each attribute, each group's share of
// listed households with each decision against the largest group's,
// with a Katz log interval (0.5 added to every cell when one is zero) and
// the findings rule: a finding only when the whole interval lies outside
// [tau, 1/tau], within when point and interval lie inside, inconclusive
// otherwise, insufficient below minHouseholds in either group.
func AuditDecisions(rows []DecisionRow, tau float64, minHouseholds int) []DecisionCell {
	var out []DecisionCell
	for _, attr := range decisionAttributes {
		groups := map[string][]DecisionRow{}
		for _, r := range rows {
			g := groupOf(attr, r)
			groups[g] = append(groups[g], r)
		}
		names := make([]string, 0, len(groups))
		for g := range groups {
			names = append(names, g)
		}
		sort.Strings(names)
		ref := ""
		for _, g := range names {
			if g != Unknown && (ref == "" || len(groups[g]) > len(groups[ref])) {
				ref = g
			}
		}
		for _, m := range decisionMetrics(rows) {
			refN, refC := len(groups[ref]), countMetric(groups[ref], m)
			for _, g := range names {
				n, c := len(groups[g]), countMetric(groups[g], m)
				cell := DecisionCell{Attribute: attr, Group: g, Metric: m, Households: n, Count: c,
					Share: float64(c) / float64(max(n, 1)), RefGroup: ref, Ratio: math.NaN(), RatioLo: math.NaN(), RatioHi: math.NaN()}
				switch {
				case g == ref:
					cell.Finding = "reference"
				case n < minHouseholds || refN < minHouseholds || ref == "":
					cell.Finding = ClassInsufficient
				default:
					cell.Ratio, cell.RatioLo, cell.RatioHi = katzRatio(c, n, refC, refN)
					cell.Finding = classifyRatio(cell.Ratio, cell.RatioLo, cell.RatioHi, tau)
				}
				out = append(out, cell)
			}
		}
	}
	return out
}

func groupOf(attr string, r DecisionRow) string {
	v := ""
	switch attr {
	case "ethnicity5":
		v = r.Ethnicity5
	case "imd_quintile":
		v = r.IMDQuintile
	case contract.ColLocality:
		v = r.Locality
	}
	if v == "" {
		return Unknown
	}
	return v
}

// decisionMetrics are "any_decision", every kind, and every reason
// category of not_appropriate present in rows.
func decisionMetrics(rows []DecisionRow) []string {
	out := append([]string{"any_decision"}, decisionKinds...)
	cats := map[string]bool{}
	for _, r := range rows {
		if r.Kind == "not_appropriate" && r.ReasonCategory != "" {
			cats[r.ReasonCategory] = true
		}
	}
	var cs []string
	for c := range cats {
		cs = append(cs, "not_appropriate:"+c)
	}
	sort.Strings(cs)
	return append(out, cs...)
}

func countMetric(rows []DecisionRow, m string) int {
	n := 0
	for _, r := range rows {
		switch {
		case m == "any_decision":
			if r.Kind != "" {
				n++
			}
		case len(m) > len("not_appropriate:") && m[:len("not_appropriate:")] == "not_appropriate:":
			if r.Kind == "not_appropriate" && "not_appropriate:"+r.ReasonCategory == m {
				n++
			}
		case r.Kind == m:
			n++
		}
	}
	return n
}

// katzRatio is the ratio of two proportions a/n over c/m with its 95% Katz
// log interval; 0.5 is added to each cell when a count is zero.
func katzRatio(a, n, c, m int) (ratio, lo, hi float64) {
	fa, fn, fc, fm := float64(a), float64(n), float64(c), float64(m)
	if a == 0 || c == 0 || a == n || c == m {
		fa, fn, fc, fm = fa+0.5, fn+1, fc+0.5, fm+1
	}
	ratio = (fa / fn) / (fc / fm)
	se := math.Sqrt(1/fa - 1/fn + 1/fc - 1/fm)
	return ratio, ratio * math.Exp(-1.96*se), ratio * math.Exp(1.96*se)
}

// classifyRatio applies the findings rule to a ratio and its interval.
func classifyRatio(r, lo, hi, tau float64) string {
	in := func(x float64) bool { return x >= tau && x <= 1/tau }
	switch {
	case math.IsNaN(r):
		return ClassInsufficient
	case hi < tau || lo > 1/tau:
		return ClassFinding
	case in(r) && in(lo) && in(hi):
		return ClassWithin
	}
	return ClassInconclusive
}

// DecisionSentence says a decisions finding in words.
func DecisionSentence(c DecisionCell) string {
	return fmt.Sprintf("Listed households in group %s of %s had %s at %.2f times the rate of group %s (95%% interval %.2f–%.2f): %s.",
		c.Group, c.Attribute, decisionMetricWords(c.Metric), c.Ratio, c.RefGroup, c.RatioLo, c.RatioHi, classWords[c.Finding])
}

var classWords = map[string]string{
	ClassFinding:      "a finding, the whole interval lies outside the tolerance band",
	ClassInconclusive: "inconclusive, the interval crosses the tolerance band",
	ClassWithin:       "within the tolerance band",
	ClassInsufficient: "too few households to judge",
}

func decisionMetricWords(m string) string {
	switch m {
	case "any_decision":
		return "any decision recorded"
	case "not_appropriate":
		return `a "not appropriate" decision`
	}
	if len(m) > len("not_appropriate:") && m[:len("not_appropriate:")] == "not_appropriate:" {
		return fmt.Sprintf(`a "not appropriate" decision for %q`, m[len("not_appropriate:"):])
	}
	return "the decision " + m
}

// DecisionsFile is audit/decisions.csv.
const DecisionsFile = rundir.DecisionsFile

// WriteDecisions writes audit/decisions.csv: restricted to auditors like
// the rest of audit/, so counts are shown; the report and the site
// suppress them.
func WriteDecisions(dir string, cells []DecisionCell) error {
	return atomicfile.Write(rundir.Audit{Dir: dir}.DecisionsCSV(), 0o640, func(w io.Writer) error {
		cw := csv.NewWriter(w)
		cw.Write([]string{"attribute", "group", "metric", colHouseholds, "count", "share", "ref_group", "ratio", "ratio_lo", "ratio_hi", "finding"})
		num := func(f float64) string {
			if math.IsNaN(f) {
				return ""
			}
			return strconv.FormatFloat(f, 'f', 4, 64)
		}
		for _, c := range cells {
			cw.Write([]string{c.Attribute, c.Group, c.Metric, strconv.Itoa(c.Households), strconv.Itoa(c.Count),
				num(c.Share), c.RefGroup, num(c.Ratio), num(c.RatioLo), num(c.RatioHi), c.Finding})
		}
		cw.Flush()
		return cw.Error()
	})
}
