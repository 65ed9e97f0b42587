package attendance

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/features"
	ft "earlyhelp/features/featurestest"
	"earlyhelp/pipeline/cachefile"
)

// FuzzIndexCache: whatever bytes an index cache holds, reading it is an
// error or an index that can be resumed and counted, never a panic. The
// checksum is left out, so that what passes it can be anything the format
// can say, not only what a writer wrote.
func FuzzIndexCache(f *testing.F) {
	mem := memory.NewGoAllocator()
	tb := ft.Tables{Source: {
		ft.Attendance(mem, "u-1", ft.SchoolDays("2025-06-02", "2025-06-20")),
		ft.Attendance(mem, "u-2", []ft.Mark{
			ft.NewMark("2025-06-03", "AM", "O", "unauth", "2025-06-04T09:00:00Z"),
			ft.NewMark("2025-06-03", "AM", "I", "auth", "2025-06-05T09:00:00Z"),
		}),
	}}
	defer tb.Release()
	since := features.DayOf(time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC))
	idx, err := LoadSince(context.Background(), mem, tb, since)
	if err != nil {
		f.Fatal(err)
	}
	path := filepath.Join(f.TempDir(), cacheFile)
	if err := writeCache(path, cached{since: since, deliveries: []string{"a", "b"}, idx: idx}); err != nil {
		f.Fatal(err)
	}
	good, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	body := good[:len(good)-4]
	f.Add(body)
	f.Add(body[:len(body)/2])
	f.Add([]byte(cacheMagic))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, late := range []features.Day{0, 3} {
			d := cachefile.NewDecoder(bytes.NewReader(b), int64(len(b)))
			if d.Header(cacheMagic, cacheFormat) != nil {
				return
			}
			// Resumed from the day the head names, or later, as a run would.
			head := cachefile.NewDecoder(bytes.NewReader(b), int64(len(b)))
			var c cached
			if head.Header(cacheMagic, cacheFormat) != nil || decodeHead(head, &c) != nil {
				return
			}
			from := max(c.since, since) + late
			_, ld, err := decodeResumed(d, from)
			if err != nil {
				continue
			}
			got := ld.finish()
			end := from + lookbackDays
			for _, p := range got.pupils {
				got.tallies(p, end, 1<<31)
				got.School(p, end)
				got.active(p, features.Window{From: from, To: end})
			}
		}
	})
}

// TestResumeRefusesAFarGrid: a cache whose grid ends more than a century
// after the day a run resumes from is refused, not sized: the fuzzer found
// files saying so, each of which had the resumed grid allocated at many
// gigabytes, and run after run they stalled the process. Within a century
// the same file resumes.
func TestResumeRefusesAFarGrid(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	tb := ft.Tables{Source: {ft.Attendance(mem, "u-1", ft.SchoolDays("2126-06-02", "2126-06-20"))}}
	defer tb.Release()
	since := features.DayOf(time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC))
	idx, err := LoadSince(context.Background(), mem, tb, since)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), cacheFile)
	if err := writeCache(path, cached{since: since, deliveries: []string{"a"}, idx: idx}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := readResumed(path, since); err == nil {
		t.Error("resumed from 2025 a grid ending in 2126; want an error")
	}
	near := features.DayOf(time.Date(2100, 6, 1, 0, 0, 0, 0, time.UTC))
	if _, ld, err := readResumed(path, near); err != nil || ld == nil {
		t.Errorf("resuming from 2100: %v; want the index", err)
	}
}
