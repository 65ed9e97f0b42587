package pipeline

import (
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
		rules     ListRules
		prev      *ListState
		decisions map[string]Decision
		want      []got
	}{
		{
			name:  "first list takes the top of the ranking",
			rules: ListRules{Capacity: 3, KeepMargin: 1},
			want:  []got{{"a", StatusNew, 1}, {"b", StatusNew, 1}, {"c", StatusNew, 1}},
		},
		{
			name:  "stability: last week's household ranked just outside capacity stays on",
			rules: ListRules{Capacity: 3, KeepMargin: 1.5}, // keep up to rank 5
			prev:  &ListState{AsOf: last, Listed: map[string]ListedRecord{"e": {"2026-11-09", last, 2}}},
			want:  []got{{"a", StatusNew, 1}, {"b", StatusNew, 1}, {"e", StatusContinuing, 3}},
		},
		{
			name:  "stability off: the same household drops off",
			rules: ListRules{Capacity: 3, KeepMargin: 1},
			prev:  &ListState{AsOf: last, Listed: map[string]ListedRecord{"e": {"2026-11-09", last, 2}}},
			want:  []got{{"a", StatusNew, 1}, {"b", StatusNew, 1}, {"c", StatusNew, 1}},
		},
		{
			name:  "beyond the margin an incumbent drops off",
			rules: ListRules{Capacity: 3, KeepMargin: 1.25}, // keep up to rank 4
			prev:  &ListState{AsOf: last, Listed: map[string]ListedRecord{"e": {"2026-11-09", last, 2}}},
			want:  []got{{"a", StatusNew, 1}, {"b", StatusNew, 1}, {"c", StatusNew, 1}},
		},
		{
			name:  "returning: listed before, but not last week",
			rules: ListRules{Capacity: 2, KeepMargin: 1},
			prev:  &ListState{AsOf: last, Listed: map[string]ListedRecord{"a": {"2026-08-03", "2026-08-10", 2}}},
			want:  []got{{"a", StatusReturning, 1}, {"b", StatusNew, 1}},
		},
		{
			name:      "cool-off: a recent decision keeps a household off, an old one does not",
			rules:     ListRules{Capacity: 2, CooloffWeeks: 12, KeepMargin: 1},
			decisions: map[string]Decision{"a": {"not_appropriate", asOf.AddDate(0, 0, -14)}, "b": {"unable_to_contact", asOf.AddDate(0, 0, -7*13)}},
			want:      []got{{"b", StatusNew, 1}, {"c", StatusNew, 1}},
		},
		{
			name:      "an incumbent with a decision since is cooled off too",
			rules:     ListRules{Capacity: 2, CooloffWeeks: 12, KeepMargin: 2},
			prev:      &ListState{AsOf: last, Listed: map[string]ListedRecord{"d": {last, last, 1}}},
			decisions: map[string]Decision{"d": {"offer_made", asOf.AddDate(0, 0, -3)}},
			want:      []got{{"a", StatusNew, 1}, {"b", StatusNew, 1}},
		},
		{
			name:  "locality quota passes over a full locality",
			rules: ListRules{Capacity: 3, KeepMargin: 1, Quotas: map[string]int{"north": 1}},
			want:  []got{{"a", StatusNew, 1}, {"d", StatusNew, 1}, {"e", StatusNew, 1}},
		},
		{
			name:  "capacity larger than the borough lists everyone",
			rules: ListRules{Capacity: 10, KeepMargin: 1.25},
			want:  []got{{"a", StatusNew, 1}, {"b", StatusNew, 1}, {"c", StatusNew, 1}, {"d", StatusNew, 1}, {"e", StatusNew, 1}, {"f", StatusNew, 1}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sel, _ := tc.rules.selectList(hh, locs, tc.prev, tc.decisions, asOf, nil)
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
	prev := &ListState{AsOf: "2026-11-16", Listed: map[string]ListedRecord{
		"a": {"2026-11-09", "2026-11-16", 2}, "z": {"2026-01-05", "2026-01-12", 2},
	}}
	sel := []listed{{pos: 0, status: StatusContinuing, weeksOnList: 3}, {pos: 2, status: StatusNew, weeksOnList: 1}}
	st := nextState(prev, "2026-11-23", hh, sel)
	want := map[string]ListedRecord{
		"a": {"2026-11-09", "2026-11-23", 3},
		"c": {"2026-11-23", "2026-11-23", 1},
		"z": {"2026-01-05", "2026-01-12", 2},
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
	lr := ListRules{}
	for _, tc := range []struct {
		score float64
		want  string
	}{{0.25, BandVeryHigh}, {0.16, BandHigh}, {0.149, BandRaised}, {0.01, BandRaised}} {
		if got := lr.band(tc.score, 0.05); got != tc.want {
			t.Errorf("band(%v) = %s; want %s", tc.score, got, tc.want)
		}
	}
	if got := (ListRules{VeryHigh: 10, High: 2}).band(0.25, 0.05); got != BandHigh {
		t.Errorf("configured thresholds: band = %s; want high", got)
	}
}
