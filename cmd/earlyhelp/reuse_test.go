package main

import (
	"context"
	"math"
	"sync/atomic"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/features"
	"earlyhelp/features/attendance"
)

// countingAllocator counts the bytes it hands out.
type countingAllocator struct {
	memory.Allocator
	bytes atomic.Int64
}

func (c *countingAllocator) Allocate(size int) []byte {
	c.bytes.Add(int64(size))
	return c.Allocator.Allocate(size)
}

func (c *countingAllocator) Reallocate(size int, b []byte) []byte {
	c.bytes.Add(int64(size))
	return c.Allocator.Reallocate(size, b)
}

// TestAttendanceReadReusesBuffers: reading the store's attendance into an
// index reuses the decoded records' buffers from record to record, so it
// asks its allocator for a fraction of what the records hold. (That the
// index is the same is the demo's golden digests' business.)
func TestAttendanceReadReusesBuffers(t *testing.T) {
	st := ingestedStore(t, lightCouncil(t, "5"))
	ctx := context.Background()
	plain := &countingAllocator{Allocator: memory.NewGoAllocator()}
	records := 0
	if err := st.Scan(ctx, plain, attendance.Source, func(arrow.Record) error { records++; return nil }); err != nil {
		t.Fatal(err)
	}
	if records < 8 {
		t.Fatalf("%d attendance records: too few for buffers to be reused", records)
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	reused := &countingAllocator{Allocator: mem}
	idx, err := attendance.LoadSince(ctx, reused, st, features.Day(math.MinInt32))
	if err != nil {
		t.Fatal(err)
	}
	if idx == nil {
		t.Fatal("no index")
	}
	if got, all := reused.bytes.Load(), plain.bytes.Load(); got*2 > all {
		t.Errorf("the read asked for %d bytes; the %d records hold %d: want under half", got, records, all)
	}
}
