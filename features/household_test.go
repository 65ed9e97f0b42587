package features_test

import (
	"context"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/features"
	ft "earlyhelp/features/featurestest"
)

func TestHouseholdFeatures(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	tb := council(mem)
	defer tb.Release()
	tb["early_help_episodes"] = append(tb["early_help_episodes"], ft.Episodes(mem,
		ft.Episode{ID: "e1", Household: "hG", Start: "2024-01-01", End: "2024-06-01"}, // ended in the year before: counts
		ft.Episode{ID: "e2", Household: "hG", Start: "2025-04-01", End: "2025-06-01"}, // after the date: does not
	))
	set := features.NewSet(tb, features.Options{})
	table, err := set.Build(context.Background(), mem, time.Date(2025, 3, 17, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	defer table.Release()
	rec := table.Record
	col := func(name string) *array.Float64 {
		return rec.Column(rec.Schema().FieldIndices(name)[0]).(*array.Float64)
	}
	hh := rec.Column(0).(*array.String)
	got := map[string][6]float64{}
	for i := 0; i < hh.Len(); i++ {
		got[hh.Value(i)] = [6]float64{
			col(features.FeatYoungestAge).Value(i), col(features.FeatUnderFive).Value(i),
			col(features.FeatPriorReferrals).Value(i), col(features.FeatPriorEarlyHelp).Value(i),
			col(features.FeatHouseholdMoves12).Value(i), col(features.FeatReferralsRecent).Value(i),
		}
	}
	d := features.DayOf(time.Date(2025, 3, 17, 0, 0, 0, 0, time.UTC))
	jan1 := features.DayOf(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	// Referrals on or after the date (hA's, hE's, hG's of the date itself,
	// hC's second) are not recent: they have not happened yet.
	want := map[string][6]float64{
		"hA": {6, 0, 0, 0, 0, 0},                          // a1 born 2015, a2 born June 2018
		"hC": {12, 0, 1, 0, 0, features.Recency(d, jan1)}, // an NFA referral closed in January; one after the horizon does not count
		"hE": {13, 0, 0, 0, 1, 0},                         // d1 moved in on 2 March; its referral of 1 April is after the date
		"hG": {9, 0, 0, 1, 0, 0},
	}
	for h, w := range want {
		if got[h] != w {
			t.Errorf("%s = %v; want %v (youngest, under 5, prior referrals, prior early help, moves, recent referrals)", h, got[h], w)
		}
	}
}
