package attendance

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/features"
	ft "earlyhelp/features/featurestest"
	"earlyhelp/pipeline/contract"
)

// TestLoadSinceGrownGrid: marks placed as they are read from a first day,
// into a grid that grows by pupils and by days, make the index that the
// whole history gives for those days: every slot's mark as it stood at
// any cutoff, amendments of earlier deliveries and equal stamps included.
func TestLoadSinceGrownGrid(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	codes := []struct{ code, cat string }{
		{"/", "present"}, {"L", "present"}, {"U", "unauth"}, {"I", "auth"}, {"O", "unauth"}, {"G", "unauth"}, {"X", "not_counted"},
	}
	mem := memory.NewGoAllocator()
	days := ft.SchoolDays("2023-09-04", "2025-07-18")
	var recs []arrow.Record
	// Monthly deliveries, pupils in the same order each month, with more
	// pupils joining as time goes on, so rows grow while loading.
	for month := time.Date(2023, 9, 1, 0, 0, 0, 0, time.UTC); month.Before(time.Date(2025, 8, 1, 0, 0, 0, 0, time.UTC)); month = month.AddDate(0, 1, 0) {
		pupils := 40 + int(month.Sub(time.Date(2023, 9, 1, 0, 0, 0, 0, time.UTC)).Hours()/24/5)
		for n := range pupils {
			var in []ft.Mark
			for _, m := range days {
				if m.Date[:7] != month.Format("2006-01") {
					continue
				}
				c := codes[0]
				if rng.IntN(4) == 0 {
					c = codes[rng.IntN(len(codes))]
				}
				in = append(in, ft.NewMark(m.Date, m.Session, c.code, c.cat, ""))
			}
			if len(in) > 0 {
				recs = append(recs, ft.Attendance(mem, fmt.Sprintf("u-%03d", n), in))
			}
		}
	}
	// Amendments delivered afterwards, recorded days after their session,
	// some twice with the same stamp (the later delivery wins), some of
	// days before the first day asked for.
	for range 400 {
		m := days[rng.IntN(len(days))]
		d, _ := time.Parse(time.DateOnly, m.Date)
		stamp := d.AddDate(0, 0, 1+rng.IntN(30)).Format(time.RFC3339)
		upn := fmt.Sprintf("u-%03d", rng.IntN(40))
		c := codes[rng.IntN(len(codes))]
		recs = append(recs, ft.Attendance(mem, upn, []ft.Mark{ft.NewMark(m.Date, m.Session, c.code, c.cat, stamp)}))
		if rng.IntN(4) == 0 {
			c = codes[rng.IntN(len(codes))]
			recs = append(recs, ft.Attendance(mem, upn, []ft.Mark{ft.NewMark(m.Date, m.Session, c.code, c.cat, stamp)}))
		}
	}
	tb := ft.Tables{"attendance_sessions": recs}
	defer tb.Release()

	full, err := Load(context.Background(), mem, tb)
	if err != nil {
		t.Fatal(err)
	}
	// From a Saturday more than growDays before the last mark, so the grid
	// grows by days as well as by pupils, and is cut to start on the
	// Monday after.
	since := features.DayOf(time.Date(2024, 2, 3, 0, 0, 0, 0, time.UTC))
	// New pupils' rows go in blocks (see grower): LoadSince's, one
	// block for the fixture's pupils, and blocks of one and of eight
	// pupils, laid out again when the grid grows by days.
	for _, bits := range []uint{blockBits, 0, 3} {
		t.Run(fmt.Sprintf("block of %d", 1<<bits), func(t *testing.T) {
			grown, err := LoadSince(context.Background(), mem, tb, since)
			if bits != blockBits {
				ld := newLoader(since, growDays)
				ld.grid.blockBits = bits
				err = features.ScanSince(context.Background(), mem, tb, Source, contract.ColSessionDate, since, ld.record)
				grown = ld.finish()
			}
			if err != nil {
				t.Fatal(err)
			}
			sameAsFull(t, full, grown, since)
		})
	}
}

// sameAsFull checks that grown, read from since, has full's marks of
// those days, as they stood at any cutoff.
func sameAsFull(t *testing.T, full, grown *Index, since features.Day) {
	t.Helper()
	if span := int(full.start) + full.days - int(since); span <= growDays {
		t.Fatalf("fixture spans %d days from since; want more than %d", span, growDays)
	}
	if grown.start <= since || grown.days <= 0 || grown.start+features.Day(grown.days) != full.start+features.Day(full.days) {
		t.Fatalf("grown grid days %d … +%d; want from after %d to the full grid's end %d", grown.start, grown.days, since, int(full.start)+full.days)
	}
	if len(grown.marks) != len(grown.pupils)*grown.days*2 {
		t.Errorf("grown grid holds %d slots; want %d pupils × %d days × 2", len(grown.marks), len(grown.pupils), grown.days)
	}
	if len(grown.stamps) == 0 || len(grown.older) == 0 {
		t.Fatalf("fixture left %d stamps and %d older versions in the grown grid; want some of each", len(grown.stamps), len(grown.older))
	}
	end := features.DayOf(time.Date(2025, 8, 1, 0, 0, 0, 0, time.UTC))
	cutoffs := []uint32{1, uint32(time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC).Unix() - stampEpoch), ^uint32(0)}
	for upn, pf := range full.pupils {
		pg, ok := grown.pupils[upn]
		if !ok {
			t.Fatalf("pupil %s missing from the grown grid", upn)
		}
		for d := since; d < end; d++ {
			for _, pm := range []bool{false, true} {
				for _, cut := range cutoffs {
					want := markNone
					if d >= full.start && d < full.start+features.Day(full.days) {
						k := full.slot(pf, d, pm)
						want = full.markAt(k, full.marks[k], cut)
					}
					got := markNone
					if d >= grown.start && d < grown.start+features.Day(grown.days) {
						k := grown.slot(pg, d, pm)
						got = grown.markAt(k, grown.marks[k], cut)
					}
					if got != want {
						t.Fatalf("pupil %s day %d pm %t cutoff %d: got mark %d; want %d", upn, d, pm, cut, got, want)
					}
				}
			}
		}
	}
}
