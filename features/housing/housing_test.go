package housing_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/features"
	ft "earlyhelp/features/featurestest"
	"earlyhelp/features/housing"
)

// twoFamilies is a register of two households in one area, hA and hB,
// each a child and a parent living there since the child's birth: people
// are hA's child and parent, then hB's.
func twoFamilies(mem memory.Allocator, hA, hB string, people ...ft.Person) (persons, households []arrow.Record) {
	spells := make([]ft.Spell, len(people))
	for i, p := range people {
		spells[i] = ft.Spell{Household: [2]string{hA, hB}[i/2], Person: p.ID, Role: [2]string{"child", "parent"}[i%2],
			LSOA: "E01000001", From: people[i/2*2].DOB}
	}
	return []arrow.Record{ft.Persons(mem, people...)}, []arrow.Record{ft.Households(mem, spells...)}
}

func field(name string, t arrow.DataType) arrow.Field {
	return arrow.Field{Name: name, Type: t, Nullable: true}
}

func rentSchema() *arrow.Schema {
	str, date := arrow.BinaryTypes.String, arrow.FixedWidthTypes.Date32
	return arrow.NewSchema([]arrow.Field{field("tenancy_ref", str), field("lead_person_id", str), field("snapshot_date", date),
		field("balance", arrow.PrimitiveTypes.Float64), field("weekly_rent", arrow.PrimitiveTypes.Float64), field("arrears_stage", str)}, nil)
}

// TestRentFollowsTheLeadPerson: a tenancy's snapshots go to whoever is
// its lead person on each, when the lead changes and changes back, and a
// person's snapshots of two tenancies are theirs alike. The reader finds
// a person's list through the tenancy, so a missed change of lead would
// give the father's balance of 10 March to the mother.
func TestRentFollowsTheLeadPerson(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	persons, households := twoFamilies(mem, "hA", "hB", ft.Person{ID: "c1", DOB: "2015-01-01"}, ft.Person{ID: "m1", DOB: "1990-01-01"},
		ft.Person{ID: "c2", DOB: "2016-01-01"}, ft.Person{ID: "f1", DOB: "1988-01-01"})
	tb := ft.Tables{
		"persons":    persons,
		"households": households,
		"rent_accounts": {ft.Record(mem, rentSchema(),
			[]string{"t1", "m1", "2025-03-03", "200", "100", "none"},
			[]string{"t2", "f1", "2025-03-03", "700", "100", "none"},
			[]string{"t1", "f1", "2025-03-10", "500", "100", "none"}, // the lead changes
			[]string{"t1", "m1", "2025-03-14", "300", "100", "none"}, // and changes back
		)},
	}
	defer tb.Release()
	set := features.NewSet(tb, features.Options{}, housing.New(tb, mem))
	table, err := set.Build(context.Background(), mem, time.Date(2025, 3, 17, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	defer table.Release()
	hh := table.Record.Column(table.Record.Schema().FieldIndices("household_id")[0]).(*array.String)
	weeks := table.Record.Column(table.Record.Schema().FieldIndices(housing.ArrearsWeeks)[0]).(*array.Float64)
	got := map[string]float64{}
	for i := 0; i < hh.Len(); i++ {
		got[hh.Value(i)] = weeks.Value(i)
	}
	if len(got) != 2 {
		t.Fatalf("households %v; want two", got)
	}
	// Pseudonyms are keyed, so the households are told apart by count:
	// one owes 3 weeks (m1's 14 March), the other 5 (f1's 10 March).
	var owed []float64
	for _, v := range got {
		owed = append(owed, v)
	}
	slices.Sort(owed)
	if !slices.Equal(owed, []float64{3, 5}) {
		t.Errorf("arrears weeks by household %v; want 3 and 5", got)
	}
}

// TestHousingFeatures gives a mother a homelessness case, a placement and a
// rent account with records before and after the as-of date (2025-03-17).
func TestHousingFeatures(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	str, date := arrow.BinaryTypes.String, arrow.FixedWidthTypes.Date32
	cases := arrow.NewSchema([]arrow.Field{field("case_ref", str), field("approach_date", date), field("lead_person_id", str),
		field("uprn_at_approach", str), field("duty_owed", str), field("reason_loss_of_settled_home", str),
		field("main_duty_decision", str), field("case_closed_date", date)}, nil)
	placements := arrow.NewSchema([]arrow.Field{field("placement_id", str), field("case_ref", str), field("placement_start", date),
		field("placement_end", date), field("ta_type", str), field("out_of_area", arrow.FixedWidthTypes.Boolean)}, nil)
	rent := rentSchema()
	tb := ft.Tables{
		"persons": {ft.Persons(mem, ft.Person{ID: "c1", DOB: "2015-01-01"}, ft.Person{ID: "m1", DOB: "1990-01-01"})},
		"households": {ft.Households(mem,
			ft.Spell{Household: "hA", Person: "c1", Role: "child", LSOA: "E01000001", From: "2015-01-01"},
			ft.Spell{Household: "hA", Person: "m1", Role: "parent", LSOA: "E01000001", From: "2015-01-01"})},
		"homelessness_cases": {ft.Record(mem, cases,
			[]string{"hc1", "2024-12-01", "m1", "", "prevention", "end_of_ast", "", ""},
			[]string{"hc2", "2025-04-01", "m1", "", "relief", "", "", ""}, // after the date
		)},
		"temporary_accommodation": {ft.Record(mem, placements,
			[]string{"p1", "hc1", "2025-01-06", "", "bnb", "true"},
			[]string{"p2", "hc2", "2025-04-02", "", "hostel", "false"}, // after the date
		)},
		"rent_accounts": {ft.Record(mem, rent,
			[]string{"t1", "m1", "2025-01-06", "100", "100", "none"},
			[]string{"t1", "m1", "2025-03-03", "200", "100", "letter_1"},
			[]string{"t1", "m1", "2025-03-10", "300", "100", "letter_2"},    // nothing paid that week
			[]string{"t1", "m1", "2025-03-17", "400", "100", "letter_2"},    // on the date
			[]string{"t1", "m1", "2025-03-24", "900", "100", "nosp_served"}, // after the date
		)},
	}
	defer tb.Release()
	set := features.NewSet(tb, features.Options{}, housing.New(tb, mem))
	asOf := time.Date(2025, 3, 17, 0, 0, 0, 0, time.UTC)
	d := features.DayOf(asOf)
	table, err := set.Build(context.Background(), mem, asOf)
	if err != nil {
		t.Fatal(err)
	}
	defer table.Release()
	want := map[string]float64{
		housing.Approaches12m: 1, housing.OpenDuty: 1, housing.WeeksInTA: 10, housing.OutOfArea: 1,
		housing.ArrearsWeeks: 3, housing.ArrearsStage: 2, housing.ArrearsRising8w: 1,
		housing.Unpaid13w:      1,
		housing.ApproachRecent: features.Recency(d, features.DayOf(time.Date(2024, 12, 1, 0, 0, 0, 0, time.UTC))),
		housing.ActionRecent:   features.Recency(d, features.DayOf(time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC))),
	}
	for name, v := range want {
		col := table.Record.Column(table.Record.Schema().FieldIndices(name)[0]).(*array.Float64)
		if got := col.Value(0); got != v {
			t.Errorf("%s = %v; want %v", name, got, v)
		}
	}
	// Three weeks on, the records on and after the date count: the weeks
	// to 17 and to 24 March were unpaid too, the relief case of 1 April is
	// a later approach, and the notice of 24 March a later action.
	later, err := set.Build(context.Background(), mem, asOf.AddDate(0, 0, 21))
	if err != nil {
		t.Fatal(err)
	}
	defer later.Release()
	for name, v := range map[string]float64{
		housing.Unpaid13w:      3,
		housing.ApproachRecent: features.Recency(d+21, features.DayOf(time.Date(2024, 12, 1, 0, 0, 0, 0, time.UTC))) + features.Recency(d+21, d+15),
		housing.ActionRecent:   features.Recency(d+21, d+7),
	} {
		col := later.Record.Column(later.Record.Schema().FieldIndices(name)[0]).(*array.Float64)
		if got := col.Value(0); got != v {
			t.Errorf("three weeks on, %s = %v; want %v", name, got, v)
		}
	}
	// The same records as the family's own dated facts: none from after
	// the date (the relief duty, the hostel, the notice seeking possession).
	f := set.Facts(table, 0)
	got := map[string]string{}
	for _, sg := range f.Signals {
		got[sg.Code] = sg.Date.Format(time.DateOnly) + " " + sg.Text
	}
	wantFacts := map[string]string{
		housing.OpenDuty:        "2025-03-16 a homelessness prevention or relief duty has been open since 1 Dec 2024 (still open on 16 Mar 2025)",
		housing.WeeksInTA:       "2025-03-16 in temporary accommodation since 6 Jan 2025, out of the area (still there on 16 Mar 2025)",
		housing.ArrearsWeeks:    "2025-03-10 rent arrears of 3.0 weeks' rent on 10 Mar 2025",
		housing.ArrearsRising8w: "2025-03-10 rent arrears rose from £100 to £300 between 6 Jan 2025 and 10 Mar 2025",
		housing.ArrearsStage:    "2025-03-10 rent arrears action reached a second arrears letter on 10 Mar 2025",
	}
	for code, w := range wantFacts {
		if got[code] != w {
			t.Errorf("fact %s = %q; want %q", code, got[code], w)
		}
	}
	if len(got) != len(wantFacts) || len(f.Safety) != 0 {
		t.Errorf("facts %v, safety %v; want only %d facts and no safety fact", got, f.Safety, len(wantFacts))
	}
}
