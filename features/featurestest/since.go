package featurestest

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/features"
)

// SinceTables is Tables that is also a features.SinceScanner: each record
// stands for one delivery, and ScanSince leaves out a record as the store
// leaves out a delivery, when its latest non-null value of the column is
// before since. A record without the column, or with it all null, is read.
type SinceTables struct {
	Tables
	skipped atomic.Int64
}

var _ features.SinceScanner = (*SinceTables)(nil)

// ScanSince calls fn for every record of source not left out.
func (t *SinceTables) ScanSince(ctx context.Context, mem memory.Allocator, source, column string, since int32, fn func(arrow.Record) error) error {
	for _, r := range t.Tables[source] {
		if latest, ok := latestDate(r, column); ok && int32(latest) < since {
			t.skipped.Add(1)
			continue
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

// Skipped is how many records ScanSince has left out so far, so a test
// can tell the skipping path was taken.
func (t *SinceTables) Skipped() int64 { return t.skipped.Load() }

func latestDate(r arrow.Record, column string) (arrow.Date32, bool) {
	_, latest, ok := dateSpan(r, column)
	return latest, ok
}

// dateSpan is the earliest and latest valid value of r's date32 column.
func dateSpan(r arrow.Record, column string) (earliest, latest arrow.Date32, seen bool) {
	idx := r.Schema().FieldIndices(column)
	if len(idx) == 0 {
		return 0, 0, false
	}
	col, ok := r.Column(idx[0]).(*array.Date32)
	if !ok {
		return 0, 0, false
	}
	for i := 0; i < col.Len(); i++ {
		if !col.IsValid(i) {
			continue
		}
		if v := col.Value(i); !seen {
			earliest, latest, seen = v, v, true
		} else {
			earliest, latest = min(earliest, v), max(latest, v)
		}
	}
	return earliest, latest, seen
}

// CachedTables is SinceTables that is also a features.DeliveryCache: a
// record's name is its address, so a record put in another's place reads
// as another delivery, and the cache folder is Dir.
type CachedTables struct {
	*SinceTables
	Dir string
}

var _ features.DeliveryCache = CachedTables{}

// Deliveries names the records ScanSince would read.
func (t CachedTables) Deliveries(source, column string, since int32) ([]string, bool) {
	var names []string
	for _, r := range t.Tables[source] {
		if latest, ok := latestDate(r, column); ok && int32(latest) < since {
			continue
		}
		names = append(names, fmt.Sprintf("%p", r))
	}
	return names, true
}

// ScanSinceAfter is ScanSince without the first skip records it would read.
func (t CachedTables) ScanSinceAfter(ctx context.Context, mem memory.Allocator, source, column string, since int32, skip int, fn func(arrow.Record) error) error {
	n := 0
	return t.ScanSince(ctx, mem, source, column, since, func(r arrow.Record) error {
		if n++; n <= skip {
			return nil
		}
		return fn(r)
	})
}

// Span is the earliest and latest value of column over every record of
// source; ok is false when a record has none.
func (t CachedTables) Span(source, column string) (first, last int32, ok bool) {
	seen := false
	for _, r := range t.Tables[source] {
		lo, hi, has := dateSpan(r, column)
		if !has {
			return 0, 0, false
		}
		if !seen {
			first, last, seen = int32(lo), int32(hi), true
			continue
		}
		first, last = min(first, int32(lo)), max(last, int32(hi))
	}
	return first, last, seen
}

// CacheDir is Dir.
func (t CachedTables) CacheDir() (string, error) { return t.Dir, nil }
