package fairness

import (
	"fmt"
	"math"
	"testing"
)

// TestAuditDecisionsFindsAPlantedDisparity: Asian households turned down
// as "not appropriate" twice as often as White ones is a finding; the same
// rates are within the band; a small group is insufficient.
func TestAuditDecisionsFindsAPlantedDisparity(t *testing.T) {
	rows := func(group string, n, notAppropriate int) []DecisionRow {
		var out []DecisionRow
		for i := range n {
			r := DecisionRow{Household: fmt.Sprintf("%s%03d", group, i), Ethnicity5: group, IMDQuintile: "Q1", Locality: "North", Kind: "offer_made"}
			if i < notAppropriate {
				r.Kind, r.ReasonCategory = "not_appropriate", "no_concern"
			}
			out = append(out, r)
		}
		return out
	}
	var planted []DecisionRow
	planted = append(planted, rows("White", 400, 80)...) // 20%
	planted = append(planted, rows("Asian", 200, 80)...) // 40%: doubled
	planted = append(planted, rows("Black", 200, 40)...) // 20%
	planted = append(planted, rows("Mixed", 12, 6)...)   // too few
	got := map[string]DecisionCell{}
	for _, c := range AuditDecisions(planted, 0.8, 30) {
		if c.Attribute == "ethnicity5" && c.Metric == "not_appropriate" {
			got[c.Group] = c
		}
	}
	if c := got["Asian"]; c.Finding != ClassFinding || math.Abs(c.Ratio-2) > 1e-9 || c.RefGroup != "White" {
		t.Errorf("Asian: %+v; want a finding at ratio 2 against White", c)
	}
	if c := got["Black"]; c.Finding == ClassFinding {
		t.Errorf("Black at the reference's rate is a finding: %+v", c)
	}
	if c := got["Mixed"]; c.Finding != ClassInsufficient {
		t.Errorf("Mixed, 12 households: %+v; want insufficient", c)
	}
	if s := DecisionSentence(got["Asian"]); s == "" {
		t.Error("no sentence")
	}
}

func TestClassifyRatio(t *testing.T) {
	for _, tc := range []struct {
		r, lo, hi float64
		want      string
	}{
		{2, 1.4, 2.9, ClassFinding},
		{0.5, 0.3, 0.7, ClassFinding},
		{1.0, 0.9, 1.1, ClassWithin},
		{1.0, 0.7, 1.4, ClassInconclusive},
		{1.5, 0.9, 2.4, ClassInconclusive},
	} {
		if got := classifyRatio(tc.r, tc.lo, tc.hi, 0.8); got != tc.want {
			t.Errorf("classifyRatio(%v, %v, %v) = %s; want %s", tc.r, tc.lo, tc.hi, got, tc.want)
		}
	}
}
