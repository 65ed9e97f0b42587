package attendance

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/features"
	ft "earlyhelp/features/featurestest"
)

// weeklyDeliveries makes a year and a half of attendance delivered week by
// week, pupils joining and leaving, some moving school, with amendments
// of earlier weeks (some recorded after later runs, some twice with one
// stamp) delivered along the way. delivered[i] is what the store holds by
// the end of week i.
func weeklyDeliveries(mem memory.Allocator) (weeks []time.Time, delivered [][]arrow.Record) {
	rng := rand.New(rand.NewPCG(7, 11))
	codes := []struct{ code, cat string }{
		{"/", "present"}, {"L", "present"}, {"U", "unauth"}, {"I", "auth"}, {"O", "unauth"}, {"G", "unauth"}, {"X", "not_counted"},
	}
	days := ft.SchoolDays("2024-01-01", "2025-07-18")
	var all []arrow.Record
	first := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for w := first; w.Before(time.Date(2025, 7, 21, 0, 0, 0, 0, time.UTC)); w = w.AddDate(0, 0, 7) {
		end := w.AddDate(0, 0, 7)
		weekNo := int(w.Sub(first).Hours() / 24 / 7)
		for n := weekNo / 4; n < 30+weekNo/2 && n < 60; n++ { // joiners and leavers
			var in []ft.Mark
			for _, m := range days {
				d, _ := time.Parse(time.DateOnly, m.Date)
				if d.Before(w) || !d.Before(end) {
					continue
				}
				c := codes[0]
				if rng.IntN(5) == 0 {
					c = codes[rng.IntN(len(codes))]
				}
				in = append(in, ft.NewMark(m.Date, m.Session, c.code, c.cat, ""))
			}
			if len(in) == 0 {
				continue
			}
			rec := ft.Attendance(mem, fmt.Sprintf("u-%03d", n), in)
			if n%7 == 3 && weekNo > 10 {
				rec = withSchool(mem, rec, 200000+int32(n)) // moved school
			}
			all = append(all, rec)
		}
		// Amendments of the last 60 weeks' sessions, recorded this week.
		for range 3 {
			m := days[rng.IntN(len(days))]
			d, _ := time.Parse(time.DateOnly, m.Date)
			if !d.Before(w) || d.Before(w.AddDate(0, 0, -420)) {
				continue
			}
			stamp := w.AddDate(0, 0, rng.IntN(7)).Format(time.RFC3339)
			upn := fmt.Sprintf("u-%03d", rng.IntN(40))
			c := codes[rng.IntN(len(codes))]
			all = append(all, ft.Attendance(mem, upn, []ft.Mark{ft.NewMark(m.Date, m.Session, c.code, c.cat, stamp)}))
			if rng.IntN(3) == 0 {
				c = codes[rng.IntN(len(codes))]
				all = append(all, ft.Attendance(mem, upn, []ft.Mark{ft.NewMark(m.Date, m.Session, c.code, c.cat, stamp)}))
			}
		}
		weeks = append(weeks, end)
		delivered = append(delivered, slices.Clone(all))
	}
	return weeks, delivered
}

// withSchool is rec with every row's school set to urn.
func withSchool(mem memory.Allocator, rec arrow.Record, urn int32) arrow.Record {
	defer rec.Release()
	cols := slices.Clone(rec.Columns())
	i := rec.Schema().FieldIndices("school_urn")[0]
	b := arrowInt32(mem, int(rec.NumRows()), urn)
	defer b.Release()
	cols[i] = b
	return array.NewRecord(rec.Schema(), cols, rec.NumRows())
}

// TestResumedIndexSameAsFull: week after week, an index resumed from the
// last week's cache with only the new deliveries read is the index a full
// read of the store from the same day makes (every slot, stamp, older
// version, pupil and school), and the builder's features, facts and
// timelines are the same; a damaged cache, one of another format and one
// read from deliveries the store no longer begins with are each read
// again in full, with the reason.
func TestResumedIndexSameAsFull(t *testing.T) {
	mem := memory.NewGoAllocator()
	weeks, delivered := weeklyDeliveries(mem)
	defer func() {
		for _, r := range delivered[len(delivered)-1] {
			r.Release()
		}
	}()
	dir := t.TempDir()
	path := filepath.Join(dir, cacheFile)
	resumed := 0
	for i := 60; i < len(weeks); i++ {
		asOf := weeks[i]
		tb := ft.Tables{Source: delivered[i]}
		cachedTables := ft.CachedTables{SinceTables: &ft.SinceTables{Tables: tb}, Dir: dir}
		inc := New(cachedTables, mem)
		got, err := inc.indexFor(context.Background(), features.DayOf(asOf))
		if err != nil {
			t.Fatal(err)
		}
		read := inc.LastRead()
		if read.CacheErr != nil {
			t.Fatalf("week %d: %v", i, read.CacheErr)
		}
		if i > 60 && !read.Resumed {
			t.Fatalf("week %d: not resumed from the cache", i)
		}
		if read.Resumed {
			resumed++
			if read.NewDeliveries == 0 {
				t.Errorf("week %d: resumed with no new delivery read", i)
			}
		}
		full := New(&ft.SinceTables{Tables: tb}, mem)
		want, err := full.indexFor(context.Background(), features.DayOf(asOf))
		if err != nil {
			t.Fatal(err)
		}
		sameIndex(t, fmt.Sprintf("week %d", i), got, want)
	}
	if resumed < 10 {
		t.Fatalf("%d weeks resumed; want every week after the first", resumed)
	}

	last := len(weeks) - 1
	asOf := features.DayOf(weeks[last])
	tb := ft.Tables{Source: delivered[last]}
	want, err := LoadSince(context.Background(), mem, &ft.SinceTables{Tables: tb}, asOf-lookbackDays)
	if err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	damaged := slices.Clone(good)
	damaged[len(damaged)/2] ^= 0x10
	otherFormat := slices.Clone(good)
	otherFormat[len(cacheMagic)] = cacheFormat + 1
	swapped := slices.Clone(delivered[last])
	n := len(swapped) - 50 // both within the year read
	swapped[n], swapped[n+1] = swapped[n+1], swapped[n]
	tests := []struct {
		name  string
		file  []byte
		recs  []arrow.Record
		wantE bool
	}{
		{"damaged", damaged, delivered[last], true},
		{"another format", otherFormat, delivered[last], true},
		{"cut short", good[:len(good)-9], delivered[last], true},
		{"deliveries reordered", good, swapped, true},
		{"good", good, delivered[last], false},
	}
	for _, tc := range tests {
		if err := os.WriteFile(path, tc.file, 0o600); err != nil {
			t.Fatal(err)
		}
		b := New(ft.CachedTables{SinceTables: &ft.SinceTables{Tables: ft.Tables{Source: tc.recs}}, Dir: dir}, mem)
		got, err := b.indexFor(context.Background(), asOf)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		read := b.LastRead()
		if (read.CacheErr != nil) != tc.wantE || read.Resumed == tc.wantE {
			t.Errorf("%s: resumed %t, cache error %v; want an error: %t", tc.name, read.Resumed, read.CacheErr, tc.wantE)
		}
		if tc.name != "deliveries reordered" {
			sameIndex(t, tc.name, got, want)
		}
	}
}

// sameIndex fails unless a and b hold the same marks for the same pupils.
func sameIndex(t *testing.T, what string, a, b *Index) {
	t.Helper()
	if a.start != b.start || a.days != b.days || len(a.pupils) != len(b.pupils) || len(a.stamps) != len(b.stamps) || len(a.older) != len(b.older) {
		t.Fatalf("%s: grid from %d for %d days, %d pupils, %d stamps, %d older; want from %d for %d, %d, %d, %d", what,
			a.start, a.days, len(a.pupils), len(a.stamps), len(a.older), b.start, b.days, len(b.pupils), len(b.stamps), len(b.older))
	}
	for upn, pb := range b.pupils {
		pa, ok := a.pupils[upn]
		if !ok {
			t.Fatalf("%s: pupil %s missing", what, upn)
		}
		for d := 0; d < b.days*2; d++ {
			ka, kb := int(pa)*a.days*2+d, int(pb)*b.days*2+d
			if a.marks[ka] != b.marks[kb] || a.stamps[ka] != b.stamps[kb] || !slices.Equal(a.older[ka], b.older[kb]) {
				t.Fatalf("%s: pupil %s slot %d: mark %d stamp %d older %v; want %d %d %v", what, upn, d,
					a.marks[ka], a.stamps[ka], a.older[ka], b.marks[kb], b.stamps[kb], b.older[kb])
			}
		}
		sa, sb := schoolsOf(a, pa), schoolsOf(b, pb)
		if !slices.Equal(sa, sb) {
			t.Fatalf("%s: pupil %s schools %v; want %v", what, upn, sa, sb)
		}
	}
}

func schoolsOf(idx *Index, p int32) []schoolSeen {
	if int(p) >= len(idx.schools) {
		return nil
	}
	ss := slices.Clone(idx.schools[p])
	slices.SortFunc(ss, func(x, y schoolSeen) int { return int(x.urn - y.urn) })
	return ss
}

func arrowInt32(mem memory.Allocator, n int, v int32) arrow.Array {
	b := array.NewInt32Builder(mem)
	defer b.Release()
	for range n {
		b.Append(v)
	}
	return b.NewArray()
}

// TestIndexCacheUnwritable: a cache folder that cannot be written (here a
// file where the folder should be) costs the next run its resume, not
// this one its index: the read succeeds, the same as without a cache,
// and says why nothing was kept.
func TestIndexCacheUnwritable(t *testing.T) {
	mem := memory.NewGoAllocator()
	weeks, delivered := weeklyDeliveries(mem)
	last := len(weeks) - 1
	defer func() {
		for _, r := range delivered[last] {
			r.Release()
		}
	}()
	notDir := filepath.Join(t.TempDir(), "cache")
	if err := os.WriteFile(notDir, []byte("a file"), 0o600); err != nil {
		t.Fatal(err)
	}
	tb := ft.Tables{Source: delivered[last]}
	day := features.DayOf(weeks[last])
	for _, since := range []features.Day{day, features.Day(math.MinInt32 + lookbackDays)} {
		b := New(ft.CachedTables{SinceTables: &ft.SinceTables{Tables: tb}, Dir: notDir}, mem)
		got, err := b.indexFor(context.Background(), since)
		if err != nil {
			t.Fatalf("index with an unwritable cache: %v", err)
		}
		if read := b.LastRead(); read.KeepErr == nil || read.Resumed {
			t.Errorf("read %+v; want nothing resumed and why nothing was kept", read)
		}
		want, err := New(&ft.SinceTables{Tables: tb}, mem).indexFor(context.Background(), since)
		if err != nil {
			t.Fatal(err)
		}
		sameIndex(t, "unwritable cache", got, want)
	}
}
