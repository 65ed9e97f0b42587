package housing_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/features"
	ft "earlyhelp/features/featurestest"
	"earlyhelp/features/housing"
)

// TestHousingTimeline gives a mother homelessness cases, placements and a
// rent account with records before the 26-week window, in it, on the as-of
// date and after it, and a second family more arrears events than a
// timeline keeps.
func TestHousingTimeline(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	str, date := arrow.BinaryTypes.String, arrow.FixedWidthTypes.Date32
	cases := arrow.NewSchema([]arrow.Field{field("case_ref", str), field("approach_date", date), field("lead_person_id", str),
		field("uprn_at_approach", str), field("duty_owed", str), field("reason_loss_of_settled_home", str),
		field("main_duty_decision", str), field("case_closed_date", date)}, nil)
	placements := arrow.NewSchema([]arrow.Field{field("placement_id", str), field("case_ref", str), field("placement_start", date),
		field("placement_end", date), field("ta_type", str), field("out_of_area", arrow.FixedWidthTypes.Boolean)}, nil)
	rent := arrow.NewSchema([]arrow.Field{field("tenancy_ref", str), field("lead_person_id", str), field("snapshot_date", date),
		field("balance", arrow.PrimitiveTypes.Float64), field("weekly_rent", arrow.PrimitiveTypes.Float64), field("arrears_stage", str)}, nil)
	rents := [][]string{
		{"TEN-1", "PSN-MUM", "2024-08-05", "250", "100", "letter_1"}, // before the window
		{"TEN-1", "PSN-MUM", "2024-10-07", "450", "100", "letter_2"},
		{"TEN-1", "PSN-MUM", "2024-12-02", "850", "100", "nosp_served"},
		{"TEN-1", "PSN-MUM", "2025-01-06", "900", "100", "nosp_served"}, // no change
		{"TEN-1", "PSN-MUM", "2025-02-03", "0", "100", "none"},
		{"TEN-1", "PSN-MUM", "2025-03-17", "1400", "100", "claim_issued"},   // on the first as-of date
		{"TEN-1", "PSN-MUM", "2025-03-24", "2000", "100", "order_outright"}, // after both dates
	}
	for i := 0; i < 45; i++ { // the second family: arrears up and cleared every day
		day := ft.Day("2025-01-01").ToTime().AddDate(0, 0, i).Format(time.DateOnly)
		rents = append(rents, []string{"TEN-2", "PSN-DAD", day, fmt.Sprint(300 * ((i + 1) % 2)), "100", ""})
	}
	persons, households := twoFamilies(mem, "HH-A", "HH-B", ft.Person{ID: "PSN-KID", UPN: "UPN-KID", DOB: "2015-01-01"}, ft.Person{ID: "PSN-MUM", DOB: "1990-01-01"},
		ft.Person{ID: "PSN-KID2", DOB: "2016-01-01"}, ft.Person{ID: "PSN-DAD", DOB: "1985-01-01"})
	tb := ft.Tables{
		"persons":    persons,
		"households": households,
		"homelessness_cases": {ft.Record(mem, cases,
			[]string{"HC-1", "2024-12-01", "PSN-MUM", "UPRN-1", "prevention", "end_of_ast", "", "2025-02-01"},
			[]string{"HC-2", "2025-02-03", "PSN-MUM", "", "relief", "", "", ""},
			[]string{"HC-3", "2024-03-01", "PSN-MUM", "", "none_advice_only", "", "", "2024-03-02"}, // before the window
			[]string{"HC-4", "2025-03-17", "PSN-MUM", "", "relief", "", "", ""},                     // on the first as-of date
			[]string{"HC-5", "2024-08-01", "PSN-MUM", "", "prevention", "", "", "2024-10-01"},       // opened before the window
		)},
		"temporary_accommodation": {ft.Record(mem, placements,
			[]string{"PL-1", "HC-2", "2025-02-05", "2025-03-10", "bnb", "true"},
			[]string{"PL-2", "HC-2", "2025-03-10", "2025-03-20", "hostel", "false"}, // leaves after both dates
			[]string{"PL-3", "HC-4", "2025-03-18", "", "hostel", "false"},           // after both dates
		)},
		"rent_accounts": {ft.Record(mem, rent, rents...)},
	}
	defer tb.Release()
	idents := []string{"PSN-", "UPN-", "HH-", "HC-", "PL-", "TEN-", "UPRN-"}

	firstDate := []string{
		"2024-10-01 prevention duty ended",
		"2024-10-07 rent arrears: second letter sent",
		"2024-10-07 rent arrears: 4 weeks",
		"2024-12-01 approached the council as homeless: prevention duty accepted",
		"2024-12-02 notice seeking possession served",
		"2024-12-02 rent arrears: 8 weeks",
		"2025-02-01 prevention duty ended",
		"2025-02-03 approached the council as homeless: relief duty accepted",
		"2025-02-03 rent arrears action stopped",
		"2025-02-03 rent arrears cleared",
		"2025-02-05 moved into temporary accommodation (out of area)",
		"2025-03-10 left temporary accommodation",
		"2025-03-10 moved into temporary accommodation",
	}
	tests := []struct {
		name      string
		asOf      string
		household string
		want      []string // "date text"
	}{
		{"events of the 26 weeks before the date, none on or after it", "2025-03-17", "HH-A", firstDate},
		{"a day later the as-of day's records appear", "2025-03-18", "HH-A", append(append([]string(nil), firstDate...),
			"2025-03-17 approached the council as homeless: relief duty accepted",
			"2025-03-17 possession claim issued",
			"2025-03-17 rent arrears: 14 weeks",
		)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set := features.NewSet(tb, features.Options{}, housing.New(tb, mem))
			var got []string
			for _, e := range ft.Timeline(t, set, mem, tc.asOf, tc.household, "housing", idents) {
				got = append(got, e.Date+" "+e.Text)
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}

	t.Run("at most the latest 40 events", func(t *testing.T) {
		set := features.NewSet(tb, features.Options{}, housing.New(tb, mem))
		evs := ft.Timeline(t, set, mem, "2025-03-17", "HH-B", "housing", idents)
		if len(evs) != features.MaxTimelineEvents {
			t.Fatalf("%d events; want %d", len(evs), features.MaxTimelineEvents)
		}
		if evs[0].Date != "2025-01-06" || evs[len(evs)-1].Date != "2025-02-14" {
			t.Errorf("events from %s to %s; want the latest, 2025-01-06 to 2025-02-14", evs[0].Date, evs[len(evs)-1].Date)
		}
	})
}
