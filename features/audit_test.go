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

// TestAuditChildrenAndIntervened checks what the audit and training get
// beside the features: each child's own ethnicity, area and outcome, and
// which households an early-help offer reached within the horizon.
func TestAuditChildrenAndIntervened(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	tb := council(mem)
	defer tb.Release()
	tb["persons"][0].Release()
	tb["persons"] = nil
	tb["persons"] = append(tb["persons"], ft.Persons(mem,
		ft.Person{ID: "a1", DOB: "2015-01-01", Ethnicity: "ABAN"}, ft.Person{ID: "a2", DOB: "2018-06-30", Ethnicity: "WBRI"},
		ft.Person{ID: "b1", DOB: "2014-01-01"}, ft.Person{ID: "c1", DOB: "2013-01-01", Ethnicity: "MWBC"},
		ft.Person{ID: "d1", DOB: "2012-01-01"}, ft.Person{ID: "f1", DOB: "2025-06-01"},
		ft.Person{ID: "g1", DOB: "2016-01-01"}, ft.Person{ID: "h1", DOB: "2016-01-01"},
		ft.Person{ID: "adult", DOB: "1985-01-01", Ethnicity: "WIRI"},
	))
	tb["early_help_episodes"] = append(tb["early_help_episodes"], ft.Episodes(mem,
		ft.Episode{ID: "e1", Household: "hC", Start: "2025-04-01", End: "2025-06-01"}, // within the horizon
		ft.Episode{ID: "e2", Household: "hG", Start: "2025-10-01"},                    // after it
	))
	set := features.NewSet(tb, features.Options{UseDeprivation: true})
	asOf := time.Date(2025, 3, 17, 0, 0, 0, 0, time.UTC)
	table, err := set.Build(context.Background(), mem, asOf)
	if err != nil {
		t.Fatal(err)
	}
	defer table.Release()
	hh := table.Record.Column(0).(*array.String)
	kids, err := set.AuditChildren(context.Background(), table, 26)
	if err != nil {
		t.Fatal(err)
	}
	type child struct {
		household, eth string
		imd            int
		label          bool
	}
	got := map[string]child{}
	for _, k := range kids {
		got[k.Person] = child{hh.Value(k.Row), k.Ethnicity, k.IMDDecile, k.Label}
	}
	want := map[string]child{
		"a1": {"hA", "ABAN", 2, true}, // referred to assessment within the horizon
		"a2": {"hA", "WBRI", 2, false},
		"c1": {"hC", "MWBC", 9, false}, // referred after the horizon
		"d1": {"hE", "", 0, false},     // area not in the deprivation table
		"g1": {"hG", "", 9, true},
		"h1": {"hH", "", 9, false},
	}
	if len(got) != len(want) {
		t.Errorf("%d children; want %d: %+v", len(got), len(want), got)
	}
	for p, w := range want {
		if got[p] != w {
			t.Errorf("child %s = %+v; want %+v", p, got[p], w)
		}
	}
	if _, ok := got["adult"]; ok {
		t.Error("an adult is audited as a child")
	}
	iv, err := set.Intervened(context.Background(), table, 26)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < hh.Len(); i++ {
		if want := hh.Value(i) == "hC"; iv[i] != want {
			t.Errorf("household %s intervened = %v; want %v", hh.Value(i), iv[i], want)
		}
	}
	var _ pipeline.ChildAuditor = set
}
