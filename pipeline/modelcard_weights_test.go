package pipeline

import (
	"context"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
)

// weighted is a model with per-feature weights; wrapped hides it behind a
// calibration, as the chosen model is.
type weighted struct{ w map[string]float64 }

func (weighted) Score(context.Context, arrow.Record) ([]float64, error) { return nil, nil }
func (weighted) Explain(arrow.Record, int, int) []Reason                { return nil }
func (m weighted) Coefficients() map[string]float64                     { return m.w }
func (weighted) ID() string                                             { return "weighted" }
func (weighted) Features() []string                                     { return nil }

type wrapped struct{ base Model }

func (wrapped) Score(context.Context, arrow.Record) ([]float64, error) { return nil, nil }
func (wrapped) Explain(arrow.Record, int, int) []Reason                { return nil }
func (m wrapped) Coefficients() map[string]float64 {
	if m.base == nil {
		return nil
	}
	return m.base.Coefficients()
}
func (wrapped) ID() string         { return "wrapped" }
func (wrapped) Features() []string { return nil }

type areaContext struct{}

func (areaContext) Context(f string, _ float64) (string, bool) { return "", f == "area_deprivation" }

// TestModelWeights checks the model card's weights: found through the
// calibration, largest first, context marked, and every need signal with a
// negative weight explained — by its positively weighted family where it
// has one — while context and positive weights carry no note.
func TestModelWeights(t *testing.T) {
	m := wrapped{weighted{map[string]float64{
		"area_deprivation":                -0.9, // context: never explained as need
		"rent_arrears_stage":              0.3,
		"rent_arrears_weeks":              -0.29,
		"hv_domestic_abuse_disclosed_12m": -0.07,
		"hv_epds_screened_24m":            -0.05, // not a need signal
		"absence_rate_13w":                0.2,
	}}}
	got := modelWeights(m, areaContext{})
	if len(got) != 6 {
		t.Fatalf("%d weights; want 6", len(got))
	}
	if got[0].Feature != "area_deprivation" || !got[0].Context || got[0].Note != "" {
		t.Errorf("first weight %+v; want area_deprivation, context, no note", got[0])
	}
	for i := 1; i < len(got); i++ {
		if abs(got[i].Weight) > abs(got[i-1].Weight) {
			t.Errorf("weights not largest first: %v before %v", got[i-1], got[i])
		}
	}
	notes := map[string]string{}
	for _, fw := range got {
		notes[fw.Feature] = fw.Note
	}
	if n := notes["rent_arrears_weeks"]; !strings.Contains(n, "rent_arrears_stage (+0.30)") || !strings.Contains(n, "net +0.01") {
		t.Errorf("rent_arrears_weeks note %q; want it to name rent_arrears_stage", notes["rent_arrears_weeks"])
	}
	if n := notes["hv_domestic_abuse_disclosed_12m"]; !strings.Contains(n, "weighs against need (net -0.07)") {
		t.Errorf("hv_domestic_abuse_disclosed_12m note %q; want the no-partner explanation", n)
	}
	if n := notes["hv_epds_screened_24m"]; !strings.Contains(n, "not a need signal") {
		t.Errorf("hv_epds_screened_24m note %q; want it called no need signal, not explained against its family", n)
	}
	for _, f := range []string{"rent_arrears_stage", "absence_rate_13w"} {
		if notes[f] != "" {
			t.Errorf("%s has a positive weight but a note %q", f, notes[f])
		}
	}
	if modelWeights(wrapped{wrapped{nil}}, nil) != nil {
		t.Error("a model without weights gave weights")
	}
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}
