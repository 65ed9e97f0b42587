package attendance_test

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/features"
	"earlyhelp/features/attendance"
	ft "earlyhelp/features/featurestest"
	"earlyhelp/pipeline"
)

func build(t *testing.T, mem memory.Allocator, marks []ft.Mark, asOf time.Time) map[string]float64 {
	t.Helper()
	tb := ft.Tables{
		"persons":             {ft.Persons(mem, ft.Person{ID: "p-child", UPN: "u-child", DOB: "2015-03-01"})},
		"households":          {ft.Households(mem, ft.Spell{Household: "h-1", Person: "p-child", Role: "child", LSOA: "E01000001", Locality: "North", From: "2015-03-01"})},
		"attendance_sessions": {ft.Attendance(mem, "u-child", marks)},
	}
	defer tb.Release()
	set := features.NewSet(tb, features.Options{}, attendance.New(tb, mem))
	table, err := set.Build(context.Background(), mem, asOf)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	defer table.Release()
	if table.Record.NumRows() != 1 {
		t.Fatalf("rows = %d; want 1", table.Record.NumRows())
	}
	return ft.FirstRow(table.Record)
}

func TestFutureRowsIgnored(t *testing.T) {
	asOf := time.Date(2025, 3, 17, 0, 0, 0, 0, time.UTC) // a Monday
	base := ft.SchoolDays("2025-01-06", "2025-03-17")
	// Two absences before the as-of date so the rates are not trivially 0.
	base[0] = ft.NewMark("2025-01-06", "AM", "O", "unauth", "")
	base[1] = ft.NewMark("2025-01-06", "PM", "L", "present", "")

	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	want := build(t, mem, base, asOf)

	tests := []struct {
		name    string
		planted []ft.Mark
	}{
		{"session on the as-of date", []ft.Mark{ft.NewMark("2025-03-17", "AM", "O", "unauth", "")}},
		{"session after the as-of date", []ft.Mark{ft.NewMark("2025-03-18", "PM", "U", "unauth", ""), ft.NewMark("2025-04-01", "AM", "G", "unauth", "")}},
		{"amendment recorded after the as-of date", []ft.Mark{ft.NewMark("2025-03-14", "AM", "O", "unauth", "2025-03-20T09:00:00Z")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			marks := append(append([]ft.Mark(nil), base...), tc.planted...)
			got := build(t, mem, marks, asOf)
			for k, v := range want {
				if got[k] != v {
					t.Errorf("%s = %v with the planted row; want %v", k, got[k], v)
				}
			}
		})
	}
	// The planted rows do count once the as-of date is past them: the test
	// would notice a builder that ignored them for the wrong reason.
	later := build(t, mem, append(append([]ft.Mark(nil), base...), ft.NewMark("2025-03-17", "AM", "O", "unauth", "")), asOf.AddDate(0, 0, 7))
	if later[attendance.AbsenceRate4w] <= want[attendance.AbsenceRate4w] {
		t.Errorf("absence_rate_4w a week later = %v; want above %v", later[attendance.AbsenceRate4w], want[attendance.AbsenceRate4w])
	}
}

func TestFeatureValues(t *testing.T) {
	asOf := time.Date(2025, 3, 17, 0, 0, 0, 0, time.UTC)
	marks := ft.SchoolDays("2025-02-17", "2025-03-17") // 4 weeks, 40 sessions
	marks[0].Code, marks[0].Category = "I", "auth"
	marks[1].Code, marks[1].Category = "O", "unauth"
	marks[2].Code, marks[2].Category = "L", "present"
	marks[3].Code, marks[3].Category = "U", "unauth"
	marks[4].Code, marks[4].Category = "#", "not_counted"
	// An amended mark: N first, then the definitive code with a later stamp.
	marks = append(marks, ft.NewMark(marks[5].Date, marks[5].Session, "G", "unauth", "2025-02-20T10:00:00Z"))
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	got := build(t, mem, marks, asOf)
	// possible = 40 − 1 not counted = 39; absent = I, O, U, G = 4.
	tests := []struct {
		name string
		want float64
	}{
		{attendance.AbsenceRate4w, 4.0 / 39},
		{attendance.UnauthorisedRate13w, 3.0 / 39},
		{attendance.LateBeforeClose13w, 1},
		{attendance.LateAfterClose13w, 1},
		{attendance.PersistentAbsence, 0},  // under 40 possible sessions: too few to call
		{attendance.LateRate52w, 2.0 / 39}, // L and U
		// O, U and G unauthorised of the 3 absences other than illness,
		// drawn towards two thirds by two absences' weight.
		{attendance.UnauthShare52w, (3 + 2.0/3*2) / (3 + 2)},
		{features.FeatChildren, 1},
	}
	for _, tc := range tests {
		if math.Abs(got[tc.name]-tc.want) > 1e-12 {
			t.Errorf("%s = %v; want %v", tc.name, got[tc.name], tc.want)
		}
	}
}

// TestPatterns plants, over the 13 weeks before a Monday: every Monday
// morning absent with no reason (O), one day off ill (I), a day of
// term-time holiday (G) and one session with no mark (-), and checks each
// pattern feature.
func TestPatterns(t *testing.T) {
	asOf := time.Date(2025, 3, 17, 0, 0, 0, 0, time.UTC) // a Monday
	from := asOf.AddDate(0, 0, -7*13)                    // also a Monday
	marks := ft.SchoolDays(from.Format(time.DateOnly), asOf.Format(time.DateOnly))
	mondays := 0
	for i := range marks {
		d, _ := time.Parse(time.DateOnly, marks[i].Date)
		switch {
		case d.Weekday() == time.Monday && marks[i].Session == "AM":
			marks[i] = ft.NewMark(marks[i].Date, "AM", "O", "unauth", "")
			mondays++
		case marks[i].Date == "2025-02-04":
			marks[i] = ft.NewMark(marks[i].Date, marks[i].Session, "I", "auth", "")
		case marks[i].Date == "2025-02-12":
			marks[i] = ft.NewMark(marks[i].Date, marks[i].Session, "G", "unauth", "")
		case marks[i].Date == "2025-02-20" && marks[i].Session == "PM":
			marks[i] = ft.NewMark(marks[i].Date, "PM", "-", "missing", "")
		}
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	got := build(t, mem, marks, asOf)
	possible := float64(len(marks) - 1) // the unmarked session is not possible
	monFri := float64(2 * 2 * 13)       // Monday and Friday, two sessions, 13 weeks
	tests := []struct {
		name string
		want float64
	}{
		{attendance.NoReason13w, float64(mondays) / possible},
		{attendance.Illness13w, 2 / possible},
		{attendance.Holiday52w, 2},
		{attendance.NoMark13w, 1},
		// Mondays' absences against none midweek but the illness and
		// holiday days (a Tuesday and a Wednesday).
		{attendance.MondayFriday13w, float64(mondays)/monFri - 4/(possible-monFri)},
	}
	for _, tc := range tests {
		if math.Abs(got[tc.name]-tc.want) > 1e-9 {
			t.Errorf("%s = %v; want %v", tc.name, got[tc.name], tc.want)
		}
	}
	if got[attendance.SevereAbsence] != 0 {
		t.Errorf("severe absence flagged at %.0f%% absence", 100*got[attendance.AbsenceRate13w])
	}
}

// TestFacts checks the reasons a navigator reads carry the child's own
// figures and the window's dates.
func TestFacts(t *testing.T) {
	asOf := time.Date(2025, 3, 17, 0, 0, 0, 0, time.UTC) // a Monday
	marks := ft.SchoolDays("2024-11-04", "2025-03-17")
	// Present throughout, then absent (O) every session of the last 6 weeks'
	// Tuesdays and Wednesdays: 24 of 60 sessions.
	for i := range marks {
		d, _ := time.Parse(time.DateOnly, marks[i].Date)
		if !d.Before(asOf.AddDate(0, 0, -42)) && (d.Weekday() == time.Tuesday || d.Weekday() == time.Wednesday) {
			marks[i] = ft.NewMark(marks[i].Date, marks[i].Session, "O", "unauth", "")
		}
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	tb := ft.Tables{
		"persons":             {ft.Persons(mem, ft.Person{ID: "p-child", UPN: "u-child", DOB: "2015-03-01"})},
		"households":          {ft.Households(mem, ft.Spell{Household: "h-1", Person: "p-child", Role: "child", LSOA: "E01000001", Locality: "North", From: "2015-03-01"})},
		"attendance_sessions": {ft.Attendance(mem, "u-child", marks)},
	}
	defer tb.Release()
	set := features.NewSet(tb, features.Options{}, attendance.New(tb, mem))
	table, err := set.Build(context.Background(), mem, asOf)
	if err != nil {
		t.Fatal(err)
	}
	defer table.Release()
	tests := []struct {
		feature string
		value   float64
		want    string
	}{
		{attendance.AbsenceChange6w, 0.4, "a child's attendance fell from 100% to 60% over the last 6 weeks (since 3 Feb 2025)"},
		{attendance.NoReason13w, 0.2, "a child missed 24 of 130 sessions with no reason given since 16 Dec 2024"},
		{attendance.LateBeforeClose13w, 3, "3 late arrivals (L) since 16 Dec 2024"},
	}
	for _, tc := range tests {
		got := set.Describe(table, 0, pipeline.Reason{Feature: tc.feature, Value: tc.value})
		if got != tc.want {
			t.Errorf("%s: %q; want %q", tc.feature, got, tc.want)
		}
	}
	// Without the table the sentence falls back to the value.
	if got := set.Describe(nil, 0, pipeline.Reason{Feature: attendance.AbsenceRate13w, Value: 0.25}); !strings.Contains(got, "25%") {
		t.Errorf("fallback: %q", got)
	}
}

// TestTrajectoryAsOf holds the household's year-long and trajectory
// features (late rate, unauthorised share, the 13-week change and the
// onset of persistent absence) to the as-of rule: three weeks of absence
// and lateness from the as-of date on, and an amendment recorded after it,
// change none of them on the date, and change every one of them once the
// date is past them, so the test would notice a feature that ignored the
// rows for the wrong reason.
func TestTrajectoryAsOf(t *testing.T) {
	asOf := time.Date(2025, 3, 17, 0, 0, 0, 0, time.UTC) // a Monday
	base := ft.SchoolDays("2024-06-03", "2025-03-17")
	// A few ordinary absences, so the shares have something to weigh.
	base[10] = ft.NewMark(base[10].Date, base[10].Session, "I", "auth", "")
	base[30] = ft.NewMark(base[30].Date, base[30].Session, "C", "auth", "")
	base[50] = ft.NewMark(base[50].Date, base[50].Session, "L", "present", "")
	var planted []ft.Mark
	for _, m := range ft.SchoolDays("2025-03-17", "2025-04-07") {
		d, _ := time.Parse(time.DateOnly, m.Date)
		if d.Before(asOf.AddDate(0, 0, 14)) {
			planted = append(planted, ft.NewMark(m.Date, m.Session, "O", "unauth", ""))
		} else {
			planted = append(planted, ft.NewMark(m.Date, m.Session, "L", "present", ""))
		}
	}
	// The week before the date, amended to unexplained absence after it.
	for _, m := range ft.SchoolDays("2025-03-10", "2025-03-15") {
		planted = append(planted, ft.NewMark(m.Date, m.Session, "O", "unauth", "2025-03-20T09:00:00Z"))
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	all := append(append([]ft.Mark(nil), base...), planted...)
	features := []string{attendance.LateRate52w, attendance.UnauthShare52w, attendance.AbsenceChange13w, attendance.PersistentOnset}

	want, got := build(t, mem, base, asOf), build(t, mem, all, asOf)
	for _, f := range features {
		if got[f] != want[f] {
			t.Errorf("%s = %v with rows dated or recorded on or after the date; want %v", f, got[f], want[f])
		}
	}
	later := asOf.AddDate(0, 0, 21)
	without, with := build(t, mem, base, later), build(t, mem, all, later)
	for _, f := range features {
		if with[f] <= without[f] {
			t.Errorf("%s three weeks on = %v with the rows, %v without: the rows should raise it", f, with[f], without[f])
		}
	}
	if with[attendance.PersistentOnset] != 1 {
		t.Errorf("persistent absence onset three weeks on = %v; want 1 (two weeks absent of 13, none before)", with[attendance.PersistentOnset])
	}
}
