package health_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/features"
	ft "earlyhelp/features/featurestest"
	"earlyhelp/features/health"
)

// TestHealthTimeline gives a baby and a mother contacts and assessments
// before the 26-week window, in it, on the as-of date and after it, and a
// second baby more contacts than a timeline keeps.
func TestHealthTimeline(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	persons := arrow.NewSchema([]arrow.Field{field("person_id", str), field("upn", str), field("nhs_number", str),
		field("date_of_birth", date), field("sex", str), field("ethnicity", str)}, nil)
	contacts := arrow.NewSchema([]arrow.Field{field("contact_id", str), field("nhs_number", str), field("contact_type", str),
		field("appointment_date", date), field("attendance_status", str), field("da_enquiry", arrow.FixedWidthTypes.Boolean),
		field("da_disclosed", arrow.FixedWidthTypes.Boolean)}, nil)
	assessments := arrow.NewSchema([]arrow.Field{field("contact_id", str), field("nhs_number", str), field("instrument", str),
		field("subject", str), field("score_total", arrow.PrimitiveTypes.Int16), field("asq_domains_below", arrow.PrimitiveTypes.Int8),
		field("outcome", str)}, nil)
	rows := [][]string{
		{"CT-01", "NHS-BABY", "NEW_BIRTH", "2024-10-20", "5", "", ""},         // day 19: late
		{"CT-02", "NHS-BABY", "SIX_EIGHT_WEEK", "2024-11-20", "3", "", ""},    // was not brought
		{"CT-03", "NHS-MUM", "TARGETED", "2025-01-10", "5", "true", "true"},   // abuse disclosed
		{"CT-04", "NHS-MUM", "ANTENATAL", "2024-06-01", "3", "", ""},          // before the window
		{"CT-05", "NHS-BABY", "TWELVE_MONTH", "2025-03-17", "5", "", ""},      // on the first as-of date
		{"CT-06", "NHS-BABY", "OTHER", "2025-03-20", "3", "", ""},             // after the first as-of date
		{"CT-07", "NHS-MUM", "OTHER", "2024-09-16", "6", "", ""},              // first day of the first window
		{"CT-08", "NHS-BABY", "TWO_TWO_HALF_YEAR", "2025-02-01", "0", "", ""}, // no outcome yet: no event
	}
	for i := 0; i < 45; i++ { // the second baby: more than a timeline keeps
		day := ft.Day("2025-01-01").ToTime().AddDate(0, 0, i).Format(time.DateOnly)
		rows = append(rows, []string{fmt.Sprintf("CT-B%02d", i), "NHS-BABY2", "TARGETED", day, "5", "", ""})
	}
	tb := ft.Tables{
		"persons": {ft.Record(mem, persons,
			[]string{"PSN-BABY", "UPN-BABY", "NHS-BABY", "2024-10-01", "F", ""},
			[]string{"PSN-MUM", "", "NHS-MUM", "1990-01-01", "F", ""},
			[]string{"PSN-BABY2", "", "NHS-BABY2", "2024-06-01", "M", ""})},
		"households": {ft.Households(mem,
			ft.Spell{Household: "HH-A", Person: "PSN-BABY", Role: "child", LSOA: "E01000001", From: "2024-10-01"},
			ft.Spell{Household: "HH-A", Person: "PSN-MUM", Role: "parent", LSOA: "E01000001", From: "2015-01-01"},
			ft.Spell{Household: "HH-B", Person: "PSN-BABY2", Role: "child", LSOA: "E01000001", From: "2024-06-01"})},
		"hv_contacts": {ft.Record(mem, contacts, rows...)},
		"hv_assessments": {ft.Record(mem, assessments,
			[]string{"CT-01", "NHS-BABY", "ASQ3", "child", "", "2", ""},
			[]string{"CT-03", "NHS-MUM", "EPDS", "mother", "14", "", ""},
			[]string{"CT-03", "NHS-MUM", "WHOOLEY", "mother", "1", "", ""},
			[]string{"CT-04", "NHS-MUM", "EPDS", "mother", "20", "", ""},    // before the window
			[]string{"CT-05", "NHS-BABY", "ASQ3", "child", "", "1", ""},     // on the first as-of date
			[]string{"CT-06", "NHS-BABY", "WHOOLEY", "mother", "0", "", ""}, // after the first as-of date
		)},
	}
	defer tb.Release()
	idents := []string{"PSN-", "UPN-", "NHS-", "HH-", "CT-"}

	tests := []struct {
		name      string
		asOf      string
		household string
		want      []string // "date text"
	}{
		{"events of the 26 weeks before the date, none on or after it", "2025-03-17", "HH-A", []string{
			"2024-09-16 health-visitor contact held (arrived late)",
			"2024-10-20 new birth visit held (late: day 19)",
			"2024-10-20 ASQ-3: 2 domains below cut-off",
			"2024-11-20 6–8 week review: was not brought",
			"2025-01-10 targeted contact held",
			"2025-01-10 domestic abuse disclosed",
			"2025-01-10 EPDS 14 (at or above 13)",
			"2025-01-10 Whooley positive",
		}},
		{"a later date lets in later events and drops the oldest", "2025-03-21", "HH-A", []string{
			"2024-10-20 new birth visit held (late: day 19)",
			"2024-10-20 ASQ-3: 2 domains below cut-off",
			"2024-11-20 6–8 week review: was not brought",
			"2025-01-10 targeted contact held",
			"2025-01-10 domestic abuse disclosed",
			"2025-01-10 EPDS 14 (at or above 13)",
			"2025-01-10 Whooley positive",
			"2025-03-17 12-month review held",
			"2025-03-17 ASQ-3: 1 domain below cut-off",
			"2025-03-20 health-visitor contact: was not brought",
			"2025-03-20 Whooley negative",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set := features.NewSet(tb, features.Options{}, health.New(tb, mem))
			var got []string
			for _, e := range ft.Timeline(t, set, mem, tc.asOf, tc.household, "health", idents) {
				got = append(got, e.Date+" "+e.Text)
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}

	t.Run("at most the latest 40 events", func(t *testing.T) {
		set := features.NewSet(tb, features.Options{}, health.New(tb, mem))
		evs := ft.Timeline(t, set, mem, "2025-03-17", "HH-B", "health", idents)
		if len(evs) != features.MaxTimelineEvents {
			t.Fatalf("%d events; want %d", len(evs), features.MaxTimelineEvents)
		}
		if evs[0].Date != "2025-01-06" || evs[len(evs)-1].Date != "2025-02-14" {
			t.Errorf("events from %s to %s; want the latest, 2025-01-06 to 2025-02-14", evs[0].Date, evs[len(evs)-1].Date)
		}
	})
}
