package attendance

import (
	"context"
	"testing"

	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/features"
	ft "earlyhelp/features/featurestest"
	"earlyhelp/pipeline/contract"
)

// spanTables is CachedTables whose Span starts shift days late and counts
// its calls.
type spanTables struct {
	ft.CachedTables
	shift int32
	calls *int
}

func (t spanTables) Span(source, column string) (int32, int32, bool) {
	*t.calls++
	first, last, ok := t.CachedTables.Span(source, column)
	return first + t.shift, last, ok
}

// TestLoadSpanSameAsFull: the whole history read into a grid of the days
// the store says it spans is the index gathering every mark first gives,
// amendments and their stamps included, and holds no spare room; a span
// that starts after the earliest mark loses none, the history being read
// again in full.
func TestLoadSpanSameAsFull(t *testing.T) {
	mem := memory.NewGoAllocator()
	_, delivered := weeklyDeliveries(mem)
	recs := delivered[len(delivered)-1]
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	tb := ft.Tables{Source: recs}
	want, err := Load(context.Background(), mem, tb)
	if err != nil {
		t.Fatal(err)
	}
	if len(want.older) == 0 || len(want.stamps) == 0 {
		t.Fatalf("%d older marks and %d stamps: the test would not test them", len(want.older), len(want.stamps))
	}
	for _, shift := range []int32{0, 30} {
		calls := 0
		b := New(spanTables{CachedTables: ft.CachedTables{SinceTables: &ft.SinceTables{Tables: tb}, Dir: t.TempDir()}, shift: shift, calls: &calls}, mem)
		got, err := b.index(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		b.DropCaches() // waits for the cache's write
		if calls != 1 {
			t.Fatalf("shift %d: Span asked %d times; want once, by the whole history's read", shift, calls)
		}
		sameIndex(t, "read by its span", got, want)
		if cap(got.marks) > len(got.marks)+len(got.marks)/4 {
			t.Errorf("shift %d: grid of %d slots holds room for %d", shift, len(got.marks), cap(got.marks))
		}
	}
	first, last, ok := ft.CachedTables{SinceTables: &ft.SinceTables{Tables: tb}}.Span(Source, contract.ColSessionDate)
	if !ok || features.Day(first) != want.start || int(last-first)+1 != want.days {
		t.Fatalf("span %d to %d, %t; want the index's %d days from %d", first, last, ok, want.days, want.start)
	}
	for _, shift := range []features.Day{0, 30} {
		got, again, err := loadSpan(context.Background(), mem, tb, features.Day(first)+shift, features.Day(last))
		if err != nil {
			t.Fatal(err)
		}
		if again != (shift > 0) {
			t.Errorf("shift %d: read again in full: %t", shift, again)
		}
		sameIndex(t, "loadSpan", got, want)
	}
}
