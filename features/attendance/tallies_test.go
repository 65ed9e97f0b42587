package attendance

import (
	"context"
	"math/rand/v2"
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
	}
}
