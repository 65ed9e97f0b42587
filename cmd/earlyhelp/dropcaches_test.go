package main

import (
	"context"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow/memory"
)

// TestDropCachesThenBuild: a feature set that dropped what it read (as a
// run has it do after scoring) reads the store again on the next build and
// gives the same table.
func TestDropCachesThenBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and loads a council")
	}
	st := ingestedStore(t, lightCouncil(t, "22"))
	day := time.Date(2026, 7, 13, 0, 0, 0, 0, time.UTC)
	tables := scanOnly{&attendanceRows{st: st}}
	mem := memory.NewGoAllocator()
	set := setOver(tables, mem)
	build := func() map[string][]float64 {
		t.Helper()
		tbl, err := set.Build(context.Background(), mem, day)
		if err != nil {
			t.Fatal(err)
		}
		defer tbl.Release()
		return tableColumns(tbl.Record)
	}
	before := build()
	read := tables.rows.Load()
	if read == 0 {
		t.Fatal("no attendance rows decoded: the test compares nothing")
	}
	if again := build(); tables.rows.Load() != read || len(again) == 0 {
		t.Fatalf("a second build decoded %d more attendance rows; want none while cached", tables.rows.Load()-read)
	}
	set.DropCaches()
	after := build()
	if got := tables.rows.Load() - read; got != read {
		t.Errorf("after DropCaches the build decoded %d attendance rows; want the %d of the first build again", got, read)
	}
	sameColumns(t, before, after, "before dropping", "after dropping")
}
