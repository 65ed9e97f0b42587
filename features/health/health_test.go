package health_test

import (
	"context"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/features"
	ft "earlyhelp/features/featurestest"
	"earlyhelp/features/health"
)

func field(name string, t arrow.DataType) arrow.Field {
	return arrow.Field{Name: name, Type: t, Nullable: true}
}

var (
	str  = arrow.BinaryTypes.String
	date = arrow.FixedWidthTypes.Date32
)

// oneFamily is a household of a child and a mother, each with contacts
// before, long before and after 17 March 2025; extra contacts (rows of
// hv_contacts) and assessments are added to theirs.
func oneFamily(mem memory.Allocator, extraContacts, extraAssessments [][]string) ft.Tables {
	persons := arrow.NewSchema([]arrow.Field{field("person_id", str), field("upn", str), field("nhs_number", str),
		field("date_of_birth", date), field("sex", str), field("ethnicity", str)}, nil)
	contacts := arrow.NewSchema([]arrow.Field{field("contact_id", str), field("nhs_number", str), field("contact_type", str),
		field("appointment_date", date), field("attendance_status", str), field("da_enquiry", arrow.FixedWidthTypes.Boolean),
		field("da_disclosed", arrow.FixedWidthTypes.Boolean)}, nil)
	assessments := arrow.NewSchema([]arrow.Field{field("contact_id", str), field("nhs_number", str), field("instrument", str),
		field("subject", str), field("score_total", arrow.PrimitiveTypes.Int16), field("asq_domains_below", arrow.PrimitiveTypes.Int8),
		field("outcome", str)}, nil)
	return ft.Tables{
		"persons": {ft.Record(mem, persons,
			[]string{"c1", "", "n-c1", "2024-01-01", "F", ""},
			[]string{"m1", "", "n-m1", "1990-01-01", "F", ""})},
		"households": {ft.Households(mem,
			ft.Spell{Household: "hA", Person: "c1", Role: "child", LSOA: "E01000001", From: "2024-01-01"},
			ft.Spell{Household: "hA", Person: "m1", Role: "parent", LSOA: "E01000001", From: "2015-01-01"})},
		"hv_contacts": {ft.Record(mem, contacts, append([][]string{
			{"k1", "n-c1", "SIX_EIGHT_WEEK", "2024-10-01", "3", "", ""},      // was not brought
			{"k2", "n-c1", "TWELVE_MONTH", "2025-03-20", "3", "", ""},        // after the date
			{"k3", "n-m1", "TARGETED", "2025-01-01", "5", "true", "true"},    // targeted, abuse disclosed
			{"k4", "n-m1", "ANTENATAL", "2023-01-01", "3", "false", "false"}, // more than a year before
		}, extraContacts...)...)},
		"hv_assessments": {ft.Record(mem, assessments, append([][]string{
			{"k3", "n-m1", "EPDS", "mother", "15", "", ""},
			{"k2", "n-c1", "ASQ3", "child", "", "3", ""}, // its contact is after the date
		}, extraAssessments...)...)},
	}
}

var familyAsOf = time.Date(2025, 3, 17, 0, 0, 0, 0, time.UTC)

// familyFeatures builds oneFamily's features, with extra contacts and
// assessments, as of asOf.
func familyFeatures(t *testing.T, mem memory.Allocator, extra, extraA [][]string, asOf time.Time) map[string]float64 {
	t.Helper()
	tb := oneFamily(mem, extra, extraA)
	defer tb.Release()
	set := features.NewSet(tb, features.Options{}, health.New(tb, mem))
	table, err := set.Build(context.Background(), mem, asOf)
	if err != nil {
		t.Fatal(err)
	}
	defer table.Release()
	return ft.FirstRow(table.Record)
}

// TestHealthFeatures builds oneFamily's features.
func TestHealthFeatures(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	got := familyFeatures(t, mem, nil, nil, familyAsOf)
	d := features.DayOf(familyAsOf)
	jan1, oct1 := features.DayOf(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)), features.DayOf(time.Date(2024, 10, 1, 0, 0, 0, 0, time.UTC))
	want := map[string]float64{
		health.WasNotBrought12m: 1, health.Targeted12m: 1, health.LowMood12m: 1,
		health.ASQBelow12m: 0, health.DADisclosed12m: 1,
		health.EPDSLatest24m: 15, health.EPDSScreened24m: 1,
		// The was-not-brought after the date does not count.
		health.WasNotBroughtRecent: features.Recency(d, oct1),
		health.TargetedRecent:      features.Recency(d, jan1),
		health.LowMoodRecent:       features.Recency(d, jan1),
		health.DADisclosedRecent:   features.Recency(d, jan1),
	}
	for name, v := range want {
		if g, ok := got[name]; !ok || g != v {
			t.Errorf("%s = %v (column present: %t); want %v", name, g, ok, v)
		}
	}
}

// TestHealthRecentAsOf: contacts and screens on or after the date (a
// disclosure, a was-not-brought, a targeted contact and a high EPDS score)
// change none of the recency or screening features on the date, and each
// of them once the date is past them.
func TestHealthRecentAsOf(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	build := func(extra, extraA [][]string, asOf time.Time) map[string]float64 {
		t.Helper()
		return familyFeatures(t, mem, extra, extraA, asOf)
	}
	planted := [][]string{
		{"p1", "n-m1", "TARGETED", "2025-03-17", "5", "true", "true"}, // on the date
		{"p2", "n-c1", "TARGETED", "2025-03-24", "3", "", ""},         // after it, not brought
	}
	plantedA := [][]string{{"p1", "n-m1", "EPDS", "mother", "25", "", ""}}
	names := []string{health.EPDSLatest24m, health.WasNotBroughtRecent, health.TargetedRecent, health.LowMoodRecent, health.DADisclosedRecent}
	want, got := build(nil, nil, familyAsOf), build(planted, plantedA, familyAsOf)
	for _, f := range append(names, health.EPDSScreened24m) {
		if got[f] != want[f] {
			t.Errorf("%s = %v with contacts on and after the date; want %v", f, got[f], want[f])
		}
	}
	later := familyAsOf.AddDate(0, 0, 14)
	without, with := build(nil, nil, later), build(planted, plantedA, later)
	for _, f := range names {
		if with[f] <= without[f] {
			t.Errorf("%s two weeks on = %v with the contacts, %v without: they should raise it", f, with[f], without[f])
		}
	}
}
