package features_test

import (
	"context"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/features"
	ft "earlyhelp/features/featurestest"
	"earlyhelp/pipeline"
)

// council is a handful of households, each built to exercise one rule of
// linking, exclusion or labelling as of 2025-03-17 with a 26-week horizon
// (so the label window is [2025-03-17, 2025-09-15)).
func council(mem memory.Allocator) ft.Tables {
	child := func(hh, p, from, to, lsoa string) ft.Spell {
		return ft.Spell{Household: hh, Person: p, Role: "child", LSOA: lsoa, Locality: "North", From: from, To: to}
	}
	return ft.Tables{
		"persons": {ft.Persons(mem,
			ft.Person{ID: "a1", DOB: "2015-01-01"}, ft.Person{ID: "a2", DOB: "2018-06-30"},
			ft.Person{ID: "b1", DOB: "2014-01-01"}, ft.Person{ID: "c1", DOB: "2013-01-01"},
			ft.Person{ID: "d1", DOB: "2012-01-01"}, ft.Person{ID: "f1", DOB: "2025-06-01"},
			ft.Person{ID: "g1", DOB: "2016-01-01"}, ft.Person{ID: "h1", DOB: "2016-01-01"},
			ft.Person{ID: "adult", DOB: "1985-01-01"},
		)},
		"households": {ft.Households(mem,
			child("hA", "a1", "2015-01-01", "", "E01000001"),
			child("hA", "a2", "2018-06-30", "", "E01000001"),
			ft.Spell{Household: "hA", Person: "adult", Role: "parent", LSOA: "E01000001", From: "2010-01-01"},
			child("hB", "b1", "2014-01-01", "", "E01000002"),
			child("hC", "c1", "2013-01-01", "", "E01000002"),
			child("hD", "d1", "2012-01-01", "2025-03-01", "E01000002"), // moved out before the date
			child("hE", "d1", "2025-03-02", "", "E01999999"),           // area not in the deprivation table
			child("hF", "f1", "2025-06-01", "", "E01000002"),           // born after the date
			child("hG", "g1", "2016-01-01", "", "E01000002"),
			child("hH", "h1", "2016-01-01", "", "E01000002"),
		)},
		"deprivation": {ft.Deprivation(mem, ft.Area{LSOA: "E01000001", IMDDecile: 2}, ft.Area{LSOA: "E01000002", IMDDecile: 9})},
		"csc_referrals": {ft.Referrals(mem,
			ft.Referral{ID: "r1", Person: "a1", Date: "2025-05-01", Outcome: "assessment", Closed: "2025-07-01"},
			ft.Referral{ID: "r2", Person: "b1", Date: "2025-02-01", Outcome: "cin_plan"},                         // open on the date
			ft.Referral{ID: "r3", Person: "c1", Date: "2025-01-01", Outcome: "nfa", Closed: "2025-01-10"},        // closed: still scored
			ft.Referral{ID: "r4", Person: "c1", Date: "2025-12-01", Outcome: "assessment", Closed: "2026-01-01"}, // after the horizon
			ft.Referral{ID: "r5", Person: "d1", Date: "2025-04-01", Outcome: "early_help", Closed: "2025-05-01"}, // below assessment
			ft.Referral{ID: "r6", Person: "g1", Date: "2025-03-17", Outcome: "cp_plan", Closed: "2025-08-01"},    // on the date: in the window
			ft.Referral{ID: "r7", Person: "h1", Date: "2025-09-15", Outcome: "assessment", Closed: "2025-10-01"}, // window end is open
		)},
	}
}

func TestLinkExcludeAndLabel(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	tb := council(mem)
	defer tb.Release()
	set := features.NewSet(tb, features.Options{UseDeprivation: true})
	asOf := time.Date(2025, 3, 17, 0, 0, 0, 0, time.UTC)
	table, err := set.Build(context.Background(), mem, asOf)
	if err != nil {
		t.Fatal(err)
	}
	defer table.Release()
	labels, err := set.Labels(context.Background(), table, 26)
	if err != nil {
		t.Fatal(err)
	}
	if got := table.Excluded[features.ExcludedOpenCase]; got != 1 {
		t.Errorf("excluded for an open case: %d; want 1 (hB)", got)
	}
	rec := table.Record
	col := func(name string) int { return rec.Schema().FieldIndices(name)[0] }
	hh := rec.Column(col(pipeline.ColHousehold)).(*array.String)
	kids := rec.Column(col(pipeline.ColChildren)).(*array.String)
	n := rec.Column(col(features.FeatChildren)).(*array.Float64)
	dep := rec.Column(col(features.FeatAreaDeprivation)).(*array.Float64)
	type row struct {
		label       bool
		children    float64
		childRefs   string
		deprivation float64
	}
	got := map[string]row{}
	for i := 0; i < int(rec.NumRows()); i++ {
		got[hh.Value(i)] = row{labels[i], n.Value(i), kids.Value(i), dep.Value(i)}
	}
	want := map[string]row{
		"hA": {true, 2, "a1:10;a2:6", 9}, // referred for assessment inside the horizon; decile 2 → 9
		"hC": {false, 1, "c1:12", 2},     // the later referral is past the horizon
		"hE": {false, 1, "d1:13", 5.5},   // d1 lives here on the date; early help is below the label; unknown area
		"hG": {true, 1, "g1:9", 2},       // a referral on the as-of date counts
		"hH": {false, 1, "h1:9", 2},      // a referral on the day the window ends does not
	}
	if len(got) != len(want) {
		t.Errorf("households %v; want %v (hB open case, hD moved out, hF unborn)", keys(got), keys(want))
	}
	for id, w := range want {
		if g, ok := got[id]; !ok || g != w {
			t.Errorf("%s = %+v; want %+v", id, g, w)
		}
	}
}

// TestForgetTable: once the run lets a table go, the set keeps nothing of
// it: asking for its labels is an error, not an answer from stale
// households; another date's table is untouched.
func TestForgetTable(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	tb := council(mem)
	defer tb.Release()
	set := features.NewSet(tb, features.Options{UseDeprivation: true})
	ctx := context.Background()
	d1, d2 := time.Date(2025, 3, 17, 0, 0, 0, 0, time.UTC), time.Date(2025, 3, 24, 0, 0, 0, 0, time.UTC)
	t1, err := set.Build(ctx, mem, d1)
	if err != nil {
		t.Fatal(err)
	}
	defer t1.Release()
	t2, err := set.Build(ctx, mem, d2)
	if err != nil {
		t.Fatal(err)
	}
	defer t2.Release()
	set.ForgetTable(d1)
	if _, err := set.Labels(ctx, t1, 26); err == nil {
		t.Error("labels of a forgotten table: no error; want one")
	}
	if _, err := set.Labels(ctx, t2, 26); err != nil {
		t.Errorf("labels of the other table: %v", err)
	}
}

func TestBuildIgnoresEthnicity(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	tb := council(mem)
	defer tb.Release()
	for _, useDep := range []bool{true, false} {
		set := features.NewSet(tb, features.Options{UseDeprivation: useDep})
		table, err := set.Build(context.Background(), mem, time.Date(2025, 3, 17, 0, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		hasDep := false
		for _, f := range table.Record.Schema().Fields() {
			if f.Name == features.FeatAreaDeprivation {
				hasDep = true
			}
			if f.Name == "ethnicity" || f.Name == "ethnicity5" {
				t.Errorf("feature table carries %s", f.Name)
			}
		}
		if hasDep != useDep {
			t.Errorf("UseDeprivation=%v but the table has area_deprivation=%v", useDep, hasDep)
		}
		table.Release()
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestObjectionsAndEarlyHelp(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	child := func(hh, p string) ft.Spell {
		return ft.Spell{Household: hh, Person: p, Role: "child", LSOA: "E01000001", From: "2015-01-01"}
	}
	tb := ft.Tables{
		"persons": {ft.Persons(mem,
			ft.Person{ID: "i1", DOB: "2015-01-01"}, ft.Person{ID: "iMum", DOB: "1985-01-01"},
			ft.Person{ID: "j1", DOB: "2015-01-01"}, ft.Person{ID: "k1", DOB: "2015-01-01"},
			ft.Person{ID: "l1", DOB: "2015-01-01"}, ft.Person{ID: "m1", DOB: "2015-01-01"},
		)},
		"households": {ft.Households(mem,
			child("hI", "i1"), ft.Spell{Household: "hI", Person: "iMum", Role: "parent", LSOA: "E01000001", From: "2010-01-01"},
			child("hJ", "j1"), child("hK", "k1"), child("hL", "l1"), child("hM", "m1"),
		)},
		"objections": {ft.Objections(mem,
			ft.Objection{Person: "iMum", Received: "2024-06-01"},                        // a parent objected: the family is out
			ft.Objection{Person: "j1", Received: "2024-06-01", Withdrawn: "2025-01-01"}, // withdrawn before the date
			ft.Objection{Person: "l1", Received: "2025-06-01"},                          // after the date, before the run
		)},
		"early_help_episodes": {ft.Episodes(mem,
			ft.Episode{ID: "e1", Household: "hK", Start: "2025-02-01"},                    // open on the date
			ft.Episode{ID: "e2", Household: "hM", Start: "2024-02-01", End: "2024-08-01"}, // closed
		)},
	}
	defer tb.Release()
	asOf := time.Date(2025, 3, 17, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		runDate  time.Time
		want     string
		excluded map[string]int
	}{
		{"scoring on the run date", time.Time{}, "hJ hL hM",
			map[string]int{features.ExcludedObjection: 1, features.ExcludedOpenEarlyHelp: 1}},
		{"a training snapshot for a later run", time.Date(2025, 9, 1, 0, 0, 0, 0, time.UTC), "hJ hM",
			map[string]int{features.ExcludedObjection: 2, features.ExcludedOpenEarlyHelp: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set := features.NewSet(tb, features.Options{RunDate: tc.runDate})
			table, err := set.Build(context.Background(), mem, asOf)
			if err != nil {
				t.Fatal(err)
			}
			defer table.Release()
			hh := table.Record.Column(0).(*array.String)
			got := ""
			for i := 0; i < hh.Len(); i++ {
				if i > 0 {
					got += " "
				}
				got += hh.Value(i)
			}
			if got != tc.want {
				t.Errorf("households %q; want %q", got, tc.want)
			}
			for k, v := range tc.excluded {
				if table.Excluded[k] != v {
					t.Errorf("excluded[%s] = %d; want %d", k, table.Excluded[k], v)
				}
			}
		})
	}
}

func TestLinkMatchRates(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	tb := ft.Tables{
		"persons": {ft.Persons(mem, ft.Person{ID: "a1", DOB: "2015-01-01"}, ft.Person{ID: "moved", DOB: "2014-01-01"})},
		"households": {ft.Households(mem,
			ft.Spell{Household: "hA", Person: "a1", Role: "child", LSOA: "E01000001", From: "2015-01-01"},
			ft.Spell{Household: "hB", Person: "moved", Role: "child", LSOA: "E01000001", From: "2014-01-01", To: "2024-12-31"},
		)},
		"csc_referrals": {ft.Referrals(mem,
			ft.Referral{ID: "r1", Person: "a1", Date: "2024-06-01", Outcome: "nfa", Closed: "2024-06-10"},    // placed
			ft.Referral{ID: "r2", Person: "moved", Date: "2024-07-01", Outcome: "nfa", Closed: "2024-07-10"}, // no household on the date
			ft.Referral{ID: "r3", Person: "ghost", Date: "2024-08-01", Outcome: "nfa", Closed: "2024-08-10"}, // unknown to the register
			ft.Referral{ID: "r4", Person: "a1", Date: "2023-01-01", Outcome: "nfa", Closed: "2023-01-10"},    // more than a year before
		)},
	}
	defer tb.Release()
	set := features.NewSet(tb, features.Options{})
	table, err := set.Build(context.Background(), mem, time.Date(2025, 3, 17, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	defer table.Release()
	rates, err := set.LinkMatch(context.Background(), mem, table.AsOf)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := rates["csc_referrals"], 1.0/3; got != want {
		t.Errorf("csc_referrals link match %v; want %v", got, want)
	}
	if _, ok := rates["hv_contacts"]; ok {
		t.Error("a source with nothing stored has a link match rate")
	}
}
