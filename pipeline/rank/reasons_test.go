package rank

import (
	"earlyhelp/pipeline"
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
	late := pipeline.Signal{Code: "late_before_close_13w", Features: []string{"late_before_close_13w"}, Person: "c1", Date: day("2026-07-19"), Text: "6 late arrivals", Salience: 0.3}
	fall := pipeline.Signal{Code: "absence_change_6w", Features: []string{"absence_change_6w", "absence_change_4w"}, Person: "c2", Date: day("2026-07-19"), Text: "attendance fell; from 96% to 81%", Salience: 0.8}
	evicted := pipeline.Signal{Code: "rent_arrears_stage", Features: []string{"rent_arrears_stage"}, Date: day("2024-07-22"), Text: "eviction", Salience: 1}
	onTheDay := pipeline.Signal{Code: "x", Features: []string{"x"}, Date: asOf, Text: "too late to know"}
	da := pipeline.Signal{Code: "hv_domestic_abuse_disclosed_12m", Features: []string{"hv_domestic_abuse_disclosed_12m"}, Date: day("2026-07-12"), Text: "abuse disclosed", Salience: 1}
	late2 := late
	late2.Date = day("2026-06-01")
	cases := []struct {
		name   string
		rules  ReasonRules
		model  []pipeline.Reason
		sigs   []pipeline.Signal
		wanted []string // codes, in order
	}{
		{"model's weight first", ReasonRules{}, []pipeline.Reason{{Feature: "late_before_close_13w", Contribution: 0.5}, {Feature: "area_deprivation", Contribution: 0.9}},
			[]pipeline.Signal{fall, late, da}, []string{"late_before_close_13w", "hv_domestic_abuse_disclosed_12m", "absence_change_6w"}},
		{"a feature the model weighs against is no lift", ReasonRules{}, []pipeline.Reason{{Feature: "absence_change_4w", Contribution: -0.2}},
			[]pipeline.Signal{late, fall}, []string{"absence_change_6w", "late_before_close_13w"}},
		{"too old and on the day are never reasons", ReasonRules{}, nil, []pipeline.Signal{evicted, onTheDay, late}, []string{"late_before_close_13w"}},
		{"a shorter age limit", ReasonRules{MaxAgeWeeks: 4}, nil, []pipeline.Signal{late2, da}, []string{"hv_domestic_abuse_disclosed_12m"}},
		{"one per fact and child, latest first", ReasonRules{}, nil, []pipeline.Signal{late2, late}, []string{"late_before_close_13w"}},
		{"at most three", ReasonRules{}, nil, []pipeline.Signal{late, fall, da, {Code: "y", Features: []string{"y"}, Date: day("2026-07-01"), Text: "y"}}, []string{"hv_domestic_abuse_disclosed_12m", "absence_change_6w", "late_before_close_13w"}},
		{"none", ReasonRules{}, nil, []pipeline.Signal{evicted}, nil},
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
	got := pipeline.CleanText("rent arrears of 4.2 weeks' rent on 13 Jul 2026;  action reached:\\na suspended order")
	if strings.Contains(got, ";") || strings.Contains(got, "  ") {
		t.Errorf("CleanText = %q", got)
	}
}

func TestSafetyInstructions(t *testing.T) {
	asOf := day("2026-07-20")
	rr := ReasonRules{SafetyText: map[string]string{pipeline.SafetyDomesticAbuse: "Ask the safeguarding lead first; never write."}}
	facts := []pipeline.SafetyFact{
		{Kind: pipeline.SafetyHousingAction, Date: day("2026-05-01")},
		{Kind: pipeline.SafetyDomesticAbuse, Date: day("2026-01-01")},
		{Kind: pipeline.SafetyDomesticAbuse, Date: day("2026-07-12")},
		{Kind: pipeline.SafetyPerinatalMood, Date: day("2025-06-01")}, // over a year before
		{Kind: pipeline.SafetySocialCareReferral, Date: asOf},         // not before the date
	}
	kept, texts := rr.Safety(facts, asOf)
	if len(kept) != 2 || kept[0].Kind != pipeline.SafetyDomesticAbuse || kept[1].Kind != pipeline.SafetyHousingAction {
		t.Fatalf("kept %+v; want domestic abuse then housing", kept)
	}
	if !kept[0].Date.Equal(day("2026-07-12")) {
		t.Errorf("domestic abuse dated %s; want the latest, 2026-07-12", kept[0].Date)
	}
	if texts[0] != "Ask the safeguarding lead first, never write." || texts[1] != pipeline.DefaultSafetyText()[pipeline.SafetyHousingAction] {
		t.Errorf("texts %q", texts)
	}
}

func TestLikelihood(t *testing.T) {
	for p, want := range map[float64]string{0.133: "about 1 in 8", 0.25: "about 1 in 4", 0.6: "about 6 in 10", 0: "unknown"} {
		if got := pipeline.Likelihood(p); got != want {
			t.Errorf("Likelihood(%v) = %q; want %q", p, got, want)
		}
	}
}

// TestListPassesOverNoReason: a household without a reason of its own is
// passed over as if it were not ranked, and counted.
func TestListPassesOverNoReason(t *testing.T) {
	hh := []string{"a", "b", "c", "d"}
	locs := []string{"N", "N", "N", "N"}
	lr := pipeline.ListRules{Capacity: 2, KeepMargin: 1}
	sel, passed := selectList(lr, hh, locs, nil, nil, day("2026-07-20"), func(pos int) bool { return hh[pos] != "a" })
	if len(sel) != 2 || sel[0].pos != 1 || sel[1].pos != 2 || passed != 1 {
		t.Errorf("selected %+v, passed over %d; want b and c, and a passed over", sel, passed)
	}
}
