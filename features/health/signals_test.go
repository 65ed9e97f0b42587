package health_test

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/features"
	ft "earlyhelp/features/featurestest"
	"earlyhelp/features/health"
	"earlyhelp/pipeline"
)

// factsOf builds tb's table as of familyAsOf and returns its one
// household's facts.
func factsOf(t *testing.T, mem memory.Allocator, tb ft.Tables) pipeline.FamilyFacts {
	t.Helper()
	set := features.NewSet(tb, features.Options{}, health.New(tb, mem))
	table, err := set.Build(context.Background(), mem, familyAsOf)
	if err != nil {
		t.Fatal(err)
	}
	defer table.Release()
	if n := table.Record.NumRows(); n != 1 {
		t.Fatalf("%d households; want 1", n)
	}
	return set.Facts(table, 0)
}

// TestHealthSignals: each fact of oneFamily in the year before the date
// is a dated signal, the child's own when it is the child's record, and a
// disclosure of domestic abuse or a high EPDS is a contact-safety fact.
func TestHealthSignals(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	tb := oneFamily(mem, nil, nil)
	defer tb.Release()
	f := factsOf(t, mem, tb)
	got := map[string]pipeline.Signal{}
	for _, s := range f.Signals {
		got[s.Code] = s
	}
	want := []struct {
		code, person, date string
	}{
		{health.WasNotBrought12m, "c1", "2024-10-01"},
		{health.DADisclosed12m, "", "2025-01-01"},
		{health.LowMood12m, "", "2025-01-01"},
		{health.Targeted12m, "", "2025-01-01"},
	}
	for _, w := range want {
		s, ok := got[w.code]
		if !ok {
			t.Errorf("no %s signal in %+v", w.code, f.Signals)
			continue
		}
		if d := s.Date.Format("2006-01-02"); d != w.date || s.Person != w.person || s.Text == "" {
			t.Errorf("%s: person %q date %s text %q; want person %q date %s", w.code, s.Person, d, s.Text, w.person, w.date)
		}
	}
	// Each fact names the recency feature it also evidences, so a weight on
	// that feature makes the fact a reason.
	for code, also := range map[string]string{
		health.WasNotBrought12m: health.WasNotBroughtRecent, health.DADisclosed12m: health.DADisclosedRecent,
		health.LowMood12m: health.LowMoodRecent, health.Targeted12m: health.TargetedRecent,
	} {
		if s, ok := got[code]; ok && !slices.Contains(s.Features, also) {
			t.Errorf("%s signal's features %v lack %s", code, s.Features, also)
		}
	}
	if _, ok := got[health.ASQBelow12m]; ok {
		t.Errorf("an ASQ dated after the as-of date is a signal: %+v", got[health.ASQBelow12m])
	}
	for _, s := range f.Signals {
		if !s.Date.Before(familyAsOf) || s.Date.Before(familyAsOf.AddDate(-1, 0, 0)) {
			t.Errorf("signal %s dated %s, outside the year before the date", s.Code, s.Date)
		}
	}
	kinds := map[string]bool{}
	for _, s := range f.Safety {
		kinds[s.Kind] = true
	}
	if !kinds[pipeline.SafetyDomesticAbuse] || !kinds[pipeline.SafetyPerinatalMood] {
		t.Errorf("safety kinds %v; want domestic abuse and perinatal mental health", kinds)
	}
}

// TestHealthSignalsAsOf: contacts dated after the as-of date, and an EPDS
// whose contact is after it, change nothing.
func TestHealthSignalsAsOf(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	base := oneFamily(mem, nil, nil)
	defer base.Release()
	later := oneFamily(mem,
		[][]string{
			{"k9", "n-m1", "TARGETED", "2025-03-17", "5", "true", "true"}, // on the date: not before it
			{"k8", "n-c1", "TWELVE_MONTH", "2025-04-01", "3", "", ""},
		},
		[][]string{{"k9", "n-m1", "WHOOLEY", "mother", "2", "", ""}, {"k8", "n-c1", "ASQ3", "child", "", "4", ""}},
	)
	defer later.Release()
	a, b := factsOf(t, mem, base), factsOf(t, mem, later)
	if !reflect.DeepEqual(a, b) {
		t.Errorf("records after the date changed the facts:\nbefore %+v\nafter  %+v", a, b)
	}
}

// TestStatusSevenIsNotBrought: a child brought too late to be seen (NHS
// status 7) was not brought, as children's services count it.
func TestStatusSevenIsNotBrought(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	tb := oneFamily(mem, [][]string{{"k7", "n-c1", "TWELVE_MONTH", "2025-02-03", "7", "", ""}}, nil)
	defer tb.Release()
	f := factsOf(t, mem, tb)
	for _, s := range f.Signals {
		if s.Code == health.WasNotBrought12m {
			if s.Date.Format("2006-01-02") != "2025-02-03" || !strings.Contains(s.Text, "2 health-visitor appointments") {
				t.Errorf("was-not-brought signal %q dated %s; want both appointments, the latest 3 Feb 2025", s.Text, s.Date)
			}
			return
		}
	}
	t.Errorf("no was-not-brought signal in %+v", f.Signals)
}
