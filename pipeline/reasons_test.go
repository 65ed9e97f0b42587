package pipeline

import (
	"math"
	"strings"
	"testing"
	"time"
)

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestReasonRules(t *testing.T) {
	asOf := day("2026-07-20")
	late := Signal{Code: "late_before_close_13w", Features: []string{"late_before_close_13w"}, Person: "c1", Date: day("2026-07-19"), Text: "6 late arrivals", Salience: 0.3}
	fall := Signal{Code: "absence_change_6w", Features: []string{"absence_change_6w", "absence_change_4w"}, Person: "c2", Date: day("2026-07-19"), Text: "attendance fell; from 96% to 81%", Salience: 0.8}
	evicted := Signal{Code: "rent_arrears_stage", Features: []string{"rent_arrears_stage"}, Date: day("2024-07-22"), Text: "eviction", Salience: 1}
	onTheDay := Signal{Code: "x", Features: []string{"x"}, Date: asOf, Text: "too late to know"}
	da := Signal{Code: "hv_domestic_abuse_disclosed_12m", Features: []string{"hv_domestic_abuse_disclosed_12m"}, Date: day("2026-07-12"), Text: "abuse disclosed", Salience: 1}
	late2 := late
	late2.Date = day("2026-06-01")
	cases := []struct {
		name   string
		rules  ReasonRules
		model  []Reason
		sigs   []Signal
		wanted []string // codes, in order
	}{
		{"model's weight first", ReasonRules{}, []Reason{{Feature: "late_before_close_13w", Contribution: 0.5}, {Feature: "area_deprivation", Contribution: 0.9}},
			[]Signal{fall, late, da}, []string{"late_before_close_13w", "hv_domestic_abuse_disclosed_12m", "absence_change_6w"}},
		{"a feature the model weighs against is no lift", ReasonRules{}, []Reason{{Feature: "absence_change_4w", Contribution: -0.2}},
			[]Signal{late, fall}, []string{"absence_change_6w", "late_before_close_13w"}},
		{"too old and on the day are never reasons", ReasonRules{}, nil, []Signal{evicted, onTheDay, late}, []string{"late_before_close_13w"}},
		{"a shorter age limit", ReasonRules{MaxAgeWeeks: 4}, nil, []Signal{late2, da}, []string{"hv_domestic_abuse_disclosed_12m"}},
		{"one per fact and child, latest first", ReasonRules{}, nil, []Signal{late2, late}, []string{"late_before_close_13w"}},
		{"at most three", ReasonRules{}, nil, []Signal{late, fall, da, {Code: "y", Features: []string{"y"}, Date: day("2026-07-01"), Text: "y"}}, []string{"hv_domestic_abuse_disclosed_12m", "absence_change_6w", "late_before_close_13w"}},
		{"none", ReasonRules{}, nil, []Signal{evicted}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.rules.Choose(tc.model, tc.rules.Recent(tc.sigs, asOf))
			var codes []string
			for _, s := range got {
				codes = append(codes, s.Code)
			}
			if strings.Join(codes, ",") != strings.Join(tc.wanted, ",") {
				t.Errorf("reasons %v; want %v", codes, tc.wanted)
			}
			if tc.name == "one per fact and child, latest first" && len(got) == 1 && !got[0].Date.Equal(late.Date) {
				t.Errorf("kept the older of two: %s", got[0].Date)
			}
		})
	}
}

func TestCleanTextHasNoSeparator(t *testing.T) {
	got := CleanText("rent arrears of 4.2 weeks' rent on 13 Jul 2026;  action reached:\\na suspended order")
	if strings.Contains(got, ";") || strings.Contains(got, "  ") {
		t.Errorf("CleanText = %q", got)
	}
}

func TestSafetyInstructions(t *testing.T) {
	asOf := day("2026-07-20")
	rr := ReasonRules{SafetyText: map[string]string{SafetyDomesticAbuse: "Ask the safeguarding lead first; never write."}}
	facts := []SafetyFact{
		{Kind: SafetyHousingAction, Date: day("2026-05-01")},
		{Kind: SafetyDomesticAbuse, Date: day("2026-01-01")},
		{Kind: SafetyDomesticAbuse, Date: day("2026-07-12")},
		{Kind: SafetyPerinatalMood, Date: day("2025-06-01")}, // over a year before
		{Kind: SafetySocialCareReferral, Date: asOf},         // not before the date
	}
	kept, texts := rr.Safety(facts, asOf)
	if len(kept) != 2 || kept[0].Kind != SafetyDomesticAbuse || kept[1].Kind != SafetyHousingAction {
		t.Fatalf("kept %+v; want domestic abuse then housing", kept)
	}
	if !kept[0].Date.Equal(day("2026-07-12")) {
		t.Errorf("domestic abuse dated %s; want the latest, 2026-07-12", kept[0].Date)
	}
	if texts[0] != "Ask the safeguarding lead first, never write." || texts[1] != DefaultSafetyText()[SafetyHousingAction] {
		t.Errorf("texts %q", texts)
	}
}

func TestLikelihood(t *testing.T) {
	for p, want := range map[float64]string{0.133: "about 1 in 8", 0.25: "about 1 in 4", 0.6: "about 6 in 10", 0: "unknown"} {
		if got := Likelihood(p); got != want {
			t.Errorf("Likelihood(%v) = %q; want %q", p, got, want)
		}
	}
}

// TestTopOfList: scores twice the outcome rate at the top of every date
// are corrected by the other dates' ratio, the bands are drawn on the
// corrected score, and a band whose mean misses its rate is merged.
func TestTopOfList(t *testing.T) {
	var folds []*foldScores
	rates := []float64{}
	for f := 0; f < 4; f++ {
		fs := &foldScores{k: 20, scores: map[string][]float64{"m": nil}}
		for i := 0; i < 100; i++ {
			s := 0.01
			y := false
			if i < 20 {
				s = 0.4 // listed; 4 in 20 have the outcome: 0.2, half the score
				y = i%5 == 0
			}
			fs.scores["m"] = append(fs.scores["m"], s)
			fs.labels = append(fs.labels, y)
		}
		folds = append(folds, fs)
		rates = append(rates, 0.02)
	}
	top := topOfList(folds, rates, "m", ListRules{})
	if top.Listed.Households != 80 || top.Listed.Positives != 16 {
		t.Fatalf("listed %+v", top.Listed)
	}
	if math.Abs(top.Listed.MeanScore-0.4) > 1e-9 || math.Abs(top.Listed.Corrected-0.2) > 1e-9 || !top.Listed.Within {
		t.Errorf("listed mean %v corrected %v; want 0.4 and 0.2, within", top.Listed.MeanScore, top.Listed.Corrected)
	}
	if len(top.Bands) != 1 || top.Bands[0].Band != BandVeryHigh {
		t.Errorf("bands %+v; want one, very high (0.2 is 10 times 0.02)", top.Bands)
	}
	band, likely := top.bandOf(ListRules{}, 0.4, 0.02)
	if band != BandVeryHigh || likely != "about 1 in 5" {
		t.Errorf("bandOf = %q, %q", band, likely)
	}
	// Two bands, one of them badly off: it is merged.
	for _, fs := range folds {
		for i := 0; i < 10; i++ {
			fs.scores["m"][i] = 0.9 // very high, yet the same outcomes
		}
	}
	top = topOfList(folds, rates, "m", ListRules{VeryHigh: 10, High: 3})
	if len(top.Bands) != 1 || len(top.MergedInto) == 0 || !top.Bands[0].Within {
		t.Errorf("bands %+v merged %v; want the two bands merged into one within tolerance", top.Bands, top.MergedInto)
	}
}

// TestListPassesOverNoReason: a household without a reason of its own is
// passed over as if it were not ranked, and counted.
func TestListPassesOverNoReason(t *testing.T) {
	hh := []string{"a", "b", "c", "d"}
	locs := []string{"N", "N", "N", "N"}
	lr := ListRules{Capacity: 2, KeepMargin: 1}
	sel, passed := lr.selectList(hh, locs, nil, nil, day("2026-07-20"), func(pos int) bool { return hh[pos] != "a" })
	if len(sel) != 2 || sel[0].pos != 1 || sel[1].pos != 2 || passed != 1 {
		t.Errorf("selected %+v, passed over %d; want b and c, and a passed over", sel, passed)
	}
}

func TestExpectedRandom(t *testing.T) {
	m := expectedRandom(EvalMetrics{N: 1000, Positives: 33, K: 60, AUC: 0.51, PrecisionAtK: 0, AveragePrecision: 0.02, RecallAtK: 0, Brier: 0.03})
	if m.AUC != 0.5 || m.PrecisionAtK != 0.033 || m.AveragePrecision != 0.033 || m.RecallAtK != 0.06 || m.Brier != 0.03 {
		t.Errorf("expectedRandom = %+v", m)
	}
}
