package attendance_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/features"
	"earlyhelp/features/attendance"
	ft "earlyhelp/features/featurestest"
)

// TestSkippingScanSameFeatures: a builder over tables that leave out whole
// deliveries dated before the year it needs (the store's ScanSince) gives
// the same features, timelines and family facts as one over tables that
// hand it every delivery (plain Scan, the fallback of features.ScanSince), with corrections delivered later, some of them of
// old dates; and it did leave deliveries out.
func TestSkippingScanSameFeatures(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	pupils := []string{"u-1", "u-2"}
	marks := map[string][]ft.Mark{}
	for n, upn := range pupils {
		ms := ft.SchoolDays("2023-09-04", "2025-07-18")
		for i := range ms {
			if i%(7+n) == 0 {
				ms[i] = ft.NewMark(ms[i].Date, ms[i].Session, "O", "unauth", "")
			}
			if i%(11+n) == 0 {
				ms[i] = ft.NewMark(ms[i].Date, ms[i].Session, "L", "present", "")
			}
		}
		marks[upn] = ms
	}
	// One delivery per month, as the extracts come, each pupil's apart.
	var deliveries []arrow.Record
	for month := time.Date(2023, 9, 1, 0, 0, 0, 0, time.UTC); month.Before(time.Date(2025, 8, 1, 0, 0, 0, 0, time.UTC)); month = month.AddDate(0, 1, 0) {
		for _, upn := range pupils {
			var in []ft.Mark
			for _, m := range marks[upn] {
				if m.Date[:7] == month.Format("2006-01") {
					in = append(in, m)
				}
			}
			if len(in) > 0 {
				deliveries = append(deliveries, ft.Attendance(mem, upn, in))
			}
		}
	}
	// Corrections delivered after the last month: one of an old date only
	// (left out when that date is before the year needed), one of a recent
	// date only, and one of both (read, its old row ignored).
	deliveries = append(deliveries,
		ft.Attendance(mem, "u-1", []ft.Mark{ft.NewMark("2024-01-10", "AM", "I", "auth", "2024-01-20T09:00:00Z")}),
		ft.Attendance(mem, "u-1", []ft.Mark{ft.NewMark("2025-06-10", "PM", "G", "unauth", "2025-06-12T09:00:00Z")}),
		ft.Attendance(mem, "u-2", []ft.Mark{
			ft.NewMark("2024-02-06", "AM", "O", "unauth", "2024-02-07T09:00:00Z"),
			ft.NewMark("2025-05-01", "AM", "N", "unauth", "2025-05-02T09:00:00Z"),
		}),
	)
	tb := ft.Tables{
		"persons": {ft.Persons(mem,
			ft.Person{ID: "p-1", UPN: "u-1", DOB: "2015-03-01"}, ft.Person{ID: "p-2", UPN: "u-2", DOB: "2014-05-01"})},
		"households": {ft.Households(mem,
			ft.Spell{Household: "h-1", Person: "p-1", Role: "child", LSOA: "E01000001", Locality: "North", From: "2015-03-01"},
			ft.Spell{Household: "h-2", Person: "p-2", Role: "child", LSOA: "E01000002", Locality: "South", From: "2014-05-01"})},
		"attendance_sessions": deliveries,
	}
	defer tb.Release()
	skipping := &ft.SinceTables{Tables: tb}

	type built struct {
		values   string
		timeline string
		facts    string
	}
	build := func(set *features.Set, asOf time.Time) built {
		t.Helper()
		table, err := set.Build(context.Background(), mem, asOf)
		if err != nil {
			t.Fatal(err)
		}
		defer table.Release()
		if table.Record.NumRows() != int64(len(pupils)) {
			t.Fatalf("as of %s: %d households; want %d", asOf.Format(time.DateOnly), table.Record.NumRows(), len(pupils))
		}
		var b built
		for i, f := range table.Record.Schema().Fields() {
			if c, ok := table.Record.Column(i).(interface{ Value(int) float64 }); ok {
				b.values += fmt.Sprintf("%s=%v,%v ", f.Name, c.Value(0), c.Value(1))
			}
		}
		for row := range len(pupils) {
			b.timeline += fmt.Sprintf("%+v\n", set.Timeline(table, row))
			b.facts += fmt.Sprintf("%+v\n", set.Facts(table, row))
		}
		return b
	}
	plain := features.NewSet(tb, features.Options{}, attendance.New(tb, mem))
	skipped := features.NewSet(skipping, features.Options{}, attendance.New(skipping, mem))
	tests := []struct {
		name        string
		asOf        time.Time
		wantSkipped bool // the builder reads from the year before asOf only
	}{
		{"a weekly run's date", time.Date(2025, 7, 14, 0, 0, 0, 0, time.UTC), true},
		{"an earlier date, read in full", time.Date(2024, 10, 7, 0, 0, 0, 0, time.UTC), false},
	}
	for _, tc := range tests {
		before := skipping.Skipped()
		got, want := build(skipped, tc.asOf), build(plain, tc.asOf)
		if got.values == "" || !strings.Contains(got.facts, "Signals:[{") || got != want {
			t.Errorf("%s, as of %s:\n skipping %v\n plain    %v", tc.name, tc.asOf.Format(time.DateOnly), got, want)
		}
		if n := skipping.Skipped() - before; (n > 0) != tc.wantSkipped {
			t.Errorf("%s: %d deliveries left out; want some: %v", tc.name, n, tc.wantSkipped)
		}
	}
}
