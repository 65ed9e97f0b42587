package housing_test

import (
	"context"
	"maps"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/features"
	ft "earlyhelp/features/featurestest"
	"earlyhelp/features/housing"
)

// TestHousingMeasuresRentOnly: housing's records (an approach and rent
// snapshots of 2023 to 2025 here) do not bound the period a snapshot can be
// built for. Its rent accounts' link match rate, from the snapshots it
// holds, is the roster Linkage's, which reads the source without the
// builder: the same rates with the builder as without it. With it, the
// snapshots are read once, for the build, not again for the Linkage.
func TestHousingMeasuresRentOnly(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	str, date := arrow.BinaryTypes.String, arrow.FixedWidthTypes.Date32
	cases := arrow.NewSchema([]arrow.Field{field("case_ref", str), field("approach_date", date), field("lead_person_id", str),
		field("uprn_at_approach", str), field("duty_owed", str), field("reason_loss_of_settled_home", str),
		field("main_duty_decision", str), field("case_closed_date", date)}, nil)
	rent := arrow.NewSchema([]arrow.Field{field("tenancy_ref", str), field("lead_person_id", str), field("snapshot_date", date),
		field("balance", arrow.PrimitiveTypes.Float64), field("weekly_rent", arrow.PrimitiveTypes.Float64), field("arrears_stage", str)}, nil)
	tb := ft.Tables{
		"persons": {ft.Persons(mem, ft.Person{ID: "c1", DOB: "2015-01-01"}, ft.Person{ID: "m1", DOB: "1990-01-01"})},
		"households": {ft.Households(mem,
			ft.Spell{Household: "hA", Person: "c1", Role: "child", LSOA: "E01000001", From: "2015-01-01"},
			ft.Spell{Household: "hA", Person: "m1", Role: "parent", LSOA: "E01000001", From: "2015-01-01"})},
		"homelessness_cases": {ft.Record(mem, cases, []string{"hc1", "2024-12-01", "m1", "", "prevention", "end_of_ast", "", ""})},
		"rent_accounts": {ft.Record(mem, rent,
			[]string{"t1", "m1", "2024-06-03", "100", "100", "none"},
			[]string{"t1", "ghost", "2025-03-10", "300", "100", "letter_2"}, // unknown to the register
			[]string{"t1", "ghost", "2024-03-11", "300", "100", "letter_2"}, // before the year to the date
		)},
	}
	defer tb.Release()
	ctx := context.Background()
	asOf := time.Date(2025, 3, 17, 0, 0, 0, 0, time.UTC)
	counted := scans{Tables: tb, n: map[string]int{}}
	with := features.NewSet(counted, features.Options{}, housing.New(counted, mem))
	without := features.NewSet(tb, features.Options{})
	from, to, err := with.DataSpan(ctx, mem)
	if err != nil || !from.IsZero() || !to.IsZero() {
		t.Errorf("DataSpan = %v, %v, %v; want no bound and no error", from, to, err)
	}
	got, err := with.LinkMatch(ctx, mem, asOf)
	if err != nil {
		t.Fatal(err)
	}
	want, err := without.LinkMatch(ctx, mem, asOf)
	if err != nil {
		t.Fatal(err)
	}
	if got[housing.Rent] != 0.5 || got[housing.Cases] != 1 || !maps.Equal(got, want) {
		t.Errorf("link match with the builder %v; without %v; want the same, %s 0.5 and %s 1", got, want, housing.Rent, housing.Cases)
	}
	if counted.n[housing.Rent] != 1 {
		t.Errorf("rent accounts read %d times with the builder; want once", counted.n[housing.Rent])
	}
}

// scans counts the reads of each source.
type scans struct {
	features.Tables
	n map[string]int
}

func (s scans) Scan(ctx context.Context, mem memory.Allocator, source string, fn func(arrow.Record) error) error {
	s.n[source]++
	return s.Tables.Scan(ctx, mem, source, fn)
}
