package rank

import (
	"earlyhelp/pipeline"
	"reflect"
	"testing"
	"time"
)

func TestSelectList(t *testing.T) {
	asOf := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	last := "2026-11-16"
	// Ranked best first: a b c d e f.
	hh := []string{"a", "b", "c", "d", "e", "f"}
	locs := []string{"north", "north", "north", "south", "south", "north"}
	type got struct {
		h      string
		status string
		weeks  int
	}
	tests := []struct {
		name      string
		rules     pipeline.ListRules
		prev      *pipeline.ListState
		decisions map[string]pipeline.Decision
		want      []got
	}{
		{
			name:  "first list takes the top of the ranking",
			rules: pipeline.ListRules{Capacity: 3, KeepMargin: 1},
			want:  []got{{"a", pipeline.StatusNew, 1}, {"b", pipeline.StatusNew, 1}, {"c", pipeline.StatusNew, 1}},
		},
		{
			name:  "stability: last week's household ranked just outside capacity stays on",
			rules: pipeline.ListRules{Capacity: 3, KeepMargin: 1.5}, // keep up to rank 5
			prev:  &pipeline.ListState{AsOf: last, Listed: map[string]pipeline.ListedRecord{"e": {FirstListed: "2026-11-09", LastListed: last, WeeksOnList: 2}}},
			want:  []got{{"a", pipeline.StatusNew, 1}, {"b", pipeline.StatusNew, 1}, {"e", pipeline.StatusContinuing, 3}},
		},
		{
			name:  "stability off: the same household drops off",
			rules: pipeline.ListRules{Capacity: 3, KeepMargin: 1},
			prev:  &pipeline.ListState{AsOf: last, Listed: map[string]pipeline.ListedRecord{"e": {FirstListed: "2026-11-09", LastListed: last, WeeksOnList: 2}}},
			want:  []got{{"a", pipeline.StatusNew, 1}, {"b", pipeline.StatusNew, 1}, {"c", pipeline.StatusNew, 1}},
		},
		{
			name:  "beyond the margin an incumbent drops off",
			rules: pipeline.ListRules{Capacity: 3, KeepMargin: 1.25}, // keep up to rank 4
			prev:  &pipeline.ListState{AsOf: last, Listed: map[string]pipeline.ListedRecord{"e": {FirstListed: "2026-11-09", LastListed: last, WeeksOnList: 2}}},
			want:  []got{{"a", pipeline.StatusNew, 1}, {"b", pipeline.StatusNew, 1}, {"c", pipeline.StatusNew, 1}},
		},
		{
			name:  "returning: listed before, but not last week",
			rules: pipeline.ListRules{Capacity: 2, KeepMargin: 1},
			prev:  &pipeline.ListState{AsOf: last, Listed: map[string]pipeline.ListedRecord{"a": {FirstListed: "2026-08-03", LastListed: "2026-08-10", WeeksOnList: 2}}},
			want:  []got{{"a", pipeline.StatusReturning, 1}, {"b", pipeline.StatusNew, 1}},
		},
		{
			name:      "cool-off: a recent decision keeps a household off, an old one does not",
			rules:     pipeline.ListRules{Capacity: 2, CooloffWeeks: 12, KeepMargin: 1},
			decisions: map[string]pipeline.Decision{"a": {Decision: "not_appropriate", At: asOf.AddDate(0, 0, -14)}, "b": {Decision: "unable_to_contact", At: asOf.AddDate(0, 0, -7*13)}},
			want:      []got{{"b", pipeline.StatusNew, 1}, {"c", pipeline.StatusNew, 1}},
		},
		{
			name:      "an incumbent with a decision since is cooled off too",
			rules:     pipeline.ListRules{Capacity: 2, CooloffWeeks: 12, KeepMargin: 2},
			prev:      &pipeline.ListState{AsOf: last, Listed: map[string]pipeline.ListedRecord{"d": {FirstListed: last, LastListed: last, WeeksOnList: 1}}},
			decisions: map[string]pipeline.Decision{"d": {Decision: "offer_made", At: asOf.AddDate(0, 0, -3)}},
			want:      []got{{"a", pipeline.StatusNew, 1}, {"b", pipeline.StatusNew, 1}},
		},
		{
			name:  "locality quota passes over a full locality",
			rules: pipeline.ListRules{Capacity: 3, KeepMargin: 1, Quotas: map[string]int{"north": 1}},
			want:  []got{{"a", pipeline.StatusNew, 1}, {"d", pipeline.StatusNew, 1}, {"e", pipeline.StatusNew, 1}},
		},
		{
			name:  "capacity larger than the borough lists everyone",
			rules: pipeline.ListRules{Capacity: 10, KeepMargin: 1.25},
			want:  []got{{"a", pipeline.StatusNew, 1}, {"b", pipeline.StatusNew, 1}, {"c", pipeline.StatusNew, 1}, {"d", pipeline.StatusNew, 1}, {"e", pipeline.StatusNew, 1}, {"f", pipeline.StatusNew, 1}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sel, _ := selectList(tc.rules, hh, locs, tc.prev, tc.decisions, asOf, nil)
			var g []got
			for _, s := range sel {
				g = append(g, got{hh[s.pos], s.status, s.weeksOnList})
			}
			if !reflect.DeepEqual(g, tc.want) {
				t.Errorf("got %+v\nwant %+v", g, tc.want)
			}
		})
	}
}

func TestNextStateAndChurn(t *testing.T) {
	hh := []string{"a", "b", "c"}
	prev := &pipeline.ListState{AsOf: "2026-11-16", Listed: map[string]pipeline.ListedRecord{
		"a": {FirstListed: "2026-11-09", LastListed: "2026-11-16", WeeksOnList: 2}, "z": {FirstListed: "2026-01-05", LastListed: "2026-01-12", WeeksOnList: 2},
	}}
	sel := []listed{{pos: 0, status: pipeline.StatusContinuing, weeksOnList: 3}, {pos: 2, status: pipeline.StatusNew, weeksOnList: 1}}
	st := nextState(prev, "2026-11-23", hh, sel)
	want := map[string]pipeline.ListedRecord{
		"a": {FirstListed: "2026-11-09", LastListed: "2026-11-23", WeeksOnList: 3},
		"c": {FirstListed: "2026-11-23", LastListed: "2026-11-23", WeeksOnList: 1},
		"z": {FirstListed: "2026-01-05", LastListed: "2026-01-12", WeeksOnList: 2},
	}
	if !reflect.DeepEqual(st.Listed, want) || st.AsOf != "2026-11-23" {
		t.Errorf("state %+v; want %+v", st.Listed, want)
	}
	if prev.Listed["a"].WeeksOnList != 2 {
		t.Error("nextState changed last week's state")
	}
	if c := churn(sel); c != 0.5 {
		t.Errorf("churn %v; want 0.5", c)
	}
}

func TestBands(t *testing.T) {
	lr := pipeline.ListRules{}
	for _, tc := range []struct {
		score float64
		want  string
	}{{0.25, pipeline.BandVeryHigh}, {0.16, pipeline.BandHigh}, {0.149, pipeline.BandRaised}, {0.01, pipeline.BandRaised}} {
		if got := lr.Band(tc.score, 0.05); got != tc.want {
			t.Errorf("band(%v) = %s; want %s", tc.score, got, tc.want)
		}
	}
	if got := (pipeline.ListRules{VeryHigh: 10, High: 2}).Band(0.25, 0.05); got != pipeline.BandHigh {
		t.Errorf("configured thresholds: band = %s; want high", got)
	}
}
