package attendance

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/features"
	ft "earlyhelp/features/featurestest"
)

// TestTalliesMatchScan: the counting tallies give exactly what adding each
// mark of the windows one by one gives, late-recorded marks included.
func TestTalliesMatchScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	codes := []struct{ code, cat string }{
		{"/", "present"}, {"L", "present"}, {"U", "unauth"}, {"I", "auth"}, {"M", "auth"}, {"O", "unauth"},
		{"N", "unauth"}, {"G", "unauth"}, {"B", "aea"}, {"X", "not_counted"}, {"Z", "not_counted"},
	}
	marks := ft.SchoolDays("2024-01-08", "2025-06-30")
	for i := range marks {
		c := codes[rng.IntN(len(codes))]
		if rng.IntN(3) > 0 {
			c = codes[0]
		}
		updated := ""
		if rng.IntN(10) == 0 { // recorded days or weeks after the session
			d, _ := time.Parse(time.DateOnly, marks[i].Date)
			updated = d.AddDate(0, 0, 1+rng.IntN(40)).Format(time.RFC3339)
		}
		marks[i] = ft.NewMark(marks[i].Date, marks[i].Session, c.code, c.cat, updated)
	}
	mem := memory.NewGoAllocator()
	tb := ft.Tables{"attendance_sessions": {ft.Attendance(mem, "u1", marks)}}
	defer tb.Release()
	idx, err := Load(context.Background(), mem, tb)
	if err != nil {
		t.Fatal(err)
	}
	p := idx.pupils["u1"]
	for _, asOf := range []string{"2024-03-04", "2024-11-18", "2025-02-05", "2025-06-02", "2025-09-01"} {
		d, _ := time.Parse(time.DateOnly, asOf)
		end := features.DayOf(d)
		cutoff := uint32(d.Unix() - stampEpoch)
		got := idx.tallies(p, end, cutoff)
		var want [len(windows)]tally
		for i, w := range windows {
			idx.scan(p, features.Window{From: end - features.Day(7*w), To: end}, cutoff, func(features.Day) *tally { return &want[i] })
		}
		if got != want {
			t.Errorf("as of %s:\n got %+v\nwant %+v", asOf, got, want)
		}
		// The running weekly sums, made for this weekday from another
		// date's, give the same; a date on another weekday is not theirs.
		w := newWeekly(idx, end-7*features.Day(1+rng.IntN(30)), 1)
		if !w.fits(end) || w.fits(end+1) {
			t.Fatalf("as of %s: weekly sums on the wrong weekday", asOf)
		}
		for _, cut := range []uint32{cutoff, cutoff - 3600, cutoff + 86400*20} {
			var want [len(windows)]tally
			for i, wk := range windows {
				idx.scan(p, features.Window{From: end - features.Day(7*wk), To: end}, cut, func(features.Day) *tally { return &want[i] })
			}
			if got := w.tallies(idx, p, end, cut); got != want {
				t.Errorf("as of %s, cutoff %d, weekly sums:\n got %+v\nwant %+v", asOf, cut, got, want)
			}
		}
	}
	if w := newWeekly(idx, features.DayOf(time.Date(2025, 1, 6, 0, 0, 0, 0, time.UTC)), 1); len(w.late) == 0 {
		t.Error("no mark counted as recorded after its day: the fixture should have some")
	}
}

// TestWeeklySameOnAnyWorkers: the running weekly sums of many pupils,
// with marks recorded after their day scattered among them, are the same
// summed on one goroutine or split between several.
func TestWeeklySameOnAnyWorkers(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 4))
	days := ft.SchoolDays("2024-09-02", "2025-03-28")
	mem := memory.NewGoAllocator()
	var tb ft.Tables
	for n := range 23 {
		var marks []ft.Mark
		for _, m := range days {
			c, cat := "/", "present"
			if rng.IntN(5) == 0 {
				c, cat = "O", "unauth"
			}
			updated := ""
			if rng.IntN(12) == 0 && n%4 != 1 { // every fourth pupil has none
				d, _ := time.Parse(time.DateOnly, m.Date)
				updated = d.AddDate(0, 0, 1+rng.IntN(20)).Format(time.RFC3339)
			}
			marks = append(marks, ft.NewMark(m.Date, m.Session, c, cat, updated))
		}
		tb = ft.Tables{"attendance_sessions": append(tb["attendance_sessions"], ft.Attendance(mem, fmt.Sprintf("u%02d", n), marks))}
	}
	defer tb.Release()
	idx, err := Load(context.Background(), mem, tb)
	if err != nil {
		t.Fatal(err)
	}
	day := features.DayOf(time.Date(2025, 2, 5, 0, 0, 0, 0, time.UTC))
	one := newWeekly(idx, day, 1)
	if len(one.late) == 0 {
		t.Fatal("no mark recorded after its day: the fixture should have some")
	}
	for _, workers := range []int{2, 3, 7, 23, 40} {
		w := newWeekly(idx, day, workers)
		if w.base != one.base || w.weeks != one.weeks || !slices.Equal(w.sums, one.sums) ||
			!slices.Equal(w.late, one.late) || !slices.Equal(w.lateAt, one.lateAt) {
			t.Errorf("%d workers: the weekly sums differ from one worker's", workers)
		}
	}
}

// TestBuildsOnWeeklySums: a builder asked for many dates, which sums weeks
// from its second, gives each date the features a fresh builder gives.
func TestBuildsOnWeeklySums(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	marks := ft.SchoolDays("2023-09-04", "2025-07-18")
	for i := range marks {
		code, cat := "/", "present"
		switch rng.IntN(12) {
		case 0:
			code, cat = "O", "unauth"
		case 1:
			code, cat = "L", "present"
		case 2:
			code, cat = "I", "auth"
		}
		updated := ""
		if rng.IntN(8) == 0 {
			d, _ := time.Parse(time.DateOnly, marks[i].Date)
			updated = d.AddDate(0, 0, rng.IntN(30)).Add(10 * time.Hour).Format(time.RFC3339)
		}
		marks[i] = ft.NewMark(marks[i].Date, marks[i].Session, code, cat, updated)
	}
	mem := memory.NewGoAllocator()
	tb := ft.Tables{
		"persons":             {ft.Persons(mem, ft.Person{ID: "p-child", UPN: "u-child", DOB: "2015-03-01"})},
		"households":          {ft.Households(mem, ft.Spell{Household: "h-1", Person: "p-child", Role: "child", LSOA: "E01000001", Locality: "North", From: "2015-03-01"})},
		"attendance_sessions": {ft.Attendance(mem, "u-child", marks)},
	}
	defer tb.Release()
	values := func(set *features.Set, asOf time.Time) string {
		t.Helper()
		table, err := set.Build(context.Background(), mem, asOf)
		if err != nil {
			t.Fatal(err)
		}
		defer table.Release()
		return fmt.Sprint(table.Record)
	}
	b := New(tb, mem)
	many := features.NewSet(tb, features.Options{}, b)
	first := time.Date(2025, 7, 14, 0, 0, 0, 0, time.UTC)
	if _, _, _, err := b.Span(context.Background()); err != nil { // reads everything
		t.Fatal(err)
	}
	for i := range 40 {
		asOf := first.AddDate(0, 0, -7*i)
		if i == 20 {
			asOf = asOf.AddDate(0, 0, 2) // another weekday: not the sums'
		}
		fresh := features.NewSet(tb, features.Options{}, New(tb, mem))
		if got, want := values(many, asOf), values(fresh, asOf); got != want {
			t.Fatalf("as of %s:\n many dates %s\n fresh      %s", asOf.Format(time.DateOnly), got, want)
		}
	}
	if b.idx.weekly.Load() == nil {
		t.Error("the builder never summed weeks")
	}
}
