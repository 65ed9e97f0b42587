package attendance_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/features"
	"earlyhelp/features/attendance"
	ft "earlyhelp/features/featurestest"
	"earlyhelp/pipeline"
)

// TestTimeline: the family page's weekly sessions count the household's
// marks week by week, and nothing from the as-of date on.
func TestTimeline(t *testing.T) {
	asOf := time.Date(2025, 3, 17, 0, 0, 0, 0, time.UTC) // a Monday
	// Marks run four weeks past the as-of date, all absences there: none
	// may show.
	marks := ft.SchoolDays("2024-11-04", "2025-04-14")
	for i := range marks {
		d, _ := time.Parse(time.DateOnly, marks[i].Date)
		recent := !d.Before(asOf.AddDate(0, 0, -42)) && (d.Weekday() == time.Tuesday || d.Weekday() == time.Wednesday)
		if recent || !d.Before(asOf) {
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
	line := set.Timeline(table, 0)
	if len(line.Weeks) != pipeline.TimelineWeeks {
		t.Fatalf("%d weeks; want %d", len(line.Weeks), pipeline.TimelineWeeks)
	}
	last := len(line.Weeks) - 1
	tests := []struct {
		week                   int
		start                  string
		possible, absent, late int
	}{
		{0, "2024-09-23", 0, 0, 0},         // before the first mark
		{last - 1, "2025-03-10", 10, 4, 0}, // Tuesday and Wednesday off
		{last, "2025-03-17", 0, 0, 0},      // the as-of week: not yet recorded
	}
	for _, tc := range tests {
		w := line.Weeks[tc.week]
		if w.Start != tc.start || w.Possible != tc.possible || w.Absent != tc.absent {
			t.Errorf("week %d: %+v; want start %s, %d possible, %d absent", tc.week, w, tc.start, tc.possible, tc.absent)
		}
	}
	absent := 0
	for _, w := range line.Weeks {
		absent += w.Absent
	}
	if absent != 24 {
		t.Errorf("absences over the timeline: %d; want 24", absent)
	}
	// A row out of range draws nothing rather than failing.
	if got := set.Timeline(table, 5); len(got.Weeks) != 0 {
		t.Errorf("row 5: %d weeks", len(got.Weeks))
	}
}

// TestWindowedIndexSameFeatures: a builder that first reads only the year
// a date needs gives the same features as one that read everything, and
// reads the rest when an earlier date is asked for.
func TestWindowedIndexSameFeatures(t *testing.T) {
	marks := ft.SchoolDays("2023-09-04", "2025-07-18")
	for i := range marks {
		if i%7 == 0 {
			marks[i] = ft.NewMark(marks[i].Date, marks[i].Session, "O", "unauth", "")
		}
		if i%11 == 0 {
			marks[i] = ft.NewMark(marks[i].Date, marks[i].Session, "L", "present", "")
		}
	}
	mem := memory.NewGoAllocator()
	tb := ft.Tables{
		"persons":             {ft.Persons(mem, ft.Person{ID: "p-child", UPN: "u-child", DOB: "2015-03-01"})},
		"households":          {ft.Households(mem, ft.Spell{Household: "h-1", Person: "p-child", Role: "child", LSOA: "E01000001", Locality: "North", From: "2015-03-01"})},
		"attendance_sessions": {ft.Attendance(mem, "u-child", marks)},
	}
	defer tb.Release()
	values := func(set *features.Set, asOf time.Time) []float64 {
		t.Helper()
		table, err := set.Build(context.Background(), mem, asOf)
		if err != nil {
			t.Fatal(err)
		}
		defer table.Release()
		var out []float64
		for i := range table.Record.Schema().Fields() {
			if c, ok := table.Record.Column(i).(interface{ Value(int) float64 }); ok {
				out = append(out, c.Value(0))
			}
		}
		return out
	}
	late, early := time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC), time.Date(2024, 10, 7, 0, 0, 0, 0, time.UTC)
	windowed := features.NewSet(tb, features.Options{}, attendance.New(tb, mem))
	full := attendance.New(tb, mem)
	if _, _, _, err := full.Span(context.Background()); err != nil { // reads everything
		t.Fatal(err)
	}
	whole := features.NewSet(tb, features.Options{}, full)
	for _, asOf := range []time.Time{late, early} {
		got, want := values(windowed, asOf), values(whole, asOf)
		if len(got) == 0 || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("as of %s:\n windowed %v\n full     %v", asOf.Format(time.DateOnly), got, want)
		}
	}
}
